import { locateDivergence } from '../../sim/replay-file.ts';
import { runSeed } from '../../sim/run.ts';
import type { ShapePins } from '../../sim/shape.ts';
import {
  countArgument,
  pinsArgument,
  SET_OPTION,
  scenarioArgument,
  seedArgument,
} from '../args.ts';
import { formatDurationMs } from '../duration.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { formatCount } from '../format.ts';

import { StatusLine } from '../status-line.ts';
import type { Command } from './index.ts';

const SEEDS_MAX = 10_000_000;

const PLAIN_PROGRESS_MS = 5000;

/**
 * Runs a seed twice and prints where the runs part when their hashes differ. The caller runs
 * other seeds in between, so state leaking between runs (a module-level cache, say) shows up.
 */
function sameTwice(
  scenario: string,
  seed: number,
  variant: string | null,
  pins: ShapePins,
): boolean {
  const first = runSeed(scenario, seed, variant, {}, pins).result;
  const second = runSeed(scenario, seed, variant, {}, pins).result;
  if (first.traceHash === second.traceHash) {
    return true;
  }
  const where = locateDivergence(
    { checkpoints: first.checkpoints, traceHash: first.traceHash, events: first.stats.events },
    second,
  );
  process.stdout.write(
    `✗ seed ${seed}: trace hash ${first.traceHash} then ${second.traceHash}; ${where?.message ?? 'the hashes differ'}\n`,
  );
  return false;
}

function progressLine(done: number, total: number, mismatches: number, elapsedMs: number): string {
  const etaMs = (elapsedMs / done) * (total - done);
  return `seeds ${formatCount(done)}/${formatCount(total)} · ${mismatches} nondeterministic · ${formatDurationMs(elapsedMs)} ETA ${formatDurationMs(etaMs)}`;
}

export const checkDeterminismCommand: Command = {
  scenarios: true,
  command: 'check-determinism <scenario>',
  describe: 'Run each seed twice in one process and compare trace hashes',
  builder: (yargs) =>
    yargs
      .positional('scenario', { type: 'string', describe: 'scenario name (see `faultline list`)' })
      .option('seeds', { type: 'string', default: '100', describe: 'how many seeds' })
      .option('from', { type: 'string', default: '0', describe: 'the first seed' })
      .option('variant', { type: 'string', describe: 'a known-bug variant of the system' })
      .option('set', SET_OPTION)
      .example('$0 check-determinism pingpong --seeds 200', 'the same seed must give the same run'),
  run: async (args) => {
    const variant = typeof args.variant === 'string' ? args.variant : null;
    const scenario = scenarioArgument(args.scenario, variant);
    const seeds = countArgument(args.seeds, '--seeds');
    const from = seedArgument(args.from, '--from');
    const pins = pinsArgument(args.set, scenario);
    if (seeds > SEEDS_MAX) {
      throw new UsageError(`--seeds should be at most ${SEEDS_MAX} here; use fuzz for more`);
    }
    let mismatches = 0;
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSigint);
    const status = new StatusLine(PLAIN_PROGRESS_MS);
    const startMs = performance.now();
    let done = 0;
    try {
      for (; done < seeds && !interrupted; done++) {
        if (!sameTwice(scenario.name, from + done, variant, pins)) {
          mismatches++;
        }
        status.showIfDue(progressLine(done + 1, seeds, mismatches, performance.now() - startMs));
        // Lets a Ctrl-C arrive between seeds, so the summary still prints.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      process.off('SIGINT', onSigint);
      status.clear();
    }
    const stopped = interrupted
      ? ` — stopped: interrupted after ${formatCount(done)} of ${formatCount(seeds)}`
      : '';
    process.stdout.write(
      `${scenario.name}${variant ? ` (variant ${variant})` : ''}: ${formatCount(done)} seeds run twice, ${mismatches === 0 ? 'all trace hashes equal' : `${mismatches} nondeterministic`}${stopped}\n`,
    );
    if (mismatches === 0 && interrupted) {
      return EXIT_INTERRUPTED;
    }
    return mismatches === 0 ? EXIT_OK : EXIT_VIOLATION;
  },
};
