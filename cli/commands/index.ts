import type { Argv } from 'yargs';

import { benchCommand } from './bench.ts';
import { checkDeterminismCommand } from './check-determinism.ts';
import { checkHistoryCommand } from './check-history.ts';
import { fuzzCommand } from './fuzz.ts';
import { listCommand } from './list.ts';
import { mergeCommand } from './merge.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';
import { shrinkCommand } from './shrink.ts';

/** One CLI command: `run` resolves to the exit code (0 pass, 1 violation, 2 bad input). */
export interface Command {
  command: string;
  describe: string;
  // biome-ignore lint/suspicious/noExplicitAny: yargs builders are typed per command
  builder: (yargs: Argv) => Argv<any>;
  // biome-ignore lint/suspicious/noExplicitAny: arguments are validated inside each command
  run: (args: any) => Promise<number>;
  /** Loads the user's scenario files first (`--scenarios`, `faultline.config.ts`). */
  scenarios?: boolean;
}

// Each command lives in its own file; add it to this list to register it.
export const commands: Command[] = [runCommand, benchCommand, checkHistoryCommand];
// The fuzzing workflow (issue 3): list, fuzz, merge, replay, shrink, check-determinism.
commands.push(
  fuzzCommand,
  listCommand,
  mergeCommand,
  replayCommand,
  shrinkCommand,
  checkDeterminismCommand,
);
// The campaign report (issue 20).
commands.push(reportCommand);
