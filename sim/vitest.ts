// Authoring in vitest: `fuzzTest('pingpong survives crashes', 'pingpong', { seeds: 50 })`
// registers a test that runs the seeds in-process; on the first failure it writes a replay
// file and fails with the command that reproduces it.
import { join } from 'node:path';

import { test } from 'vitest';

import '../scenarios/index.ts';
import { mkdirSync } from 'node:fs';
import { formatFailure } from './fuzz/failure-text.ts';
import { replayFileName, replayFromRun, writeReplay } from './replay-file.ts';
import { checkVariant, runSeed, scenarioNamed } from './run.ts';

export interface FuzzTestOptions {
  seeds: number;
  from?: number;
  variant?: string | null;
  /** Where replay files go (default ./faultline-out). */
  out?: string;
  /** The vitest timeout for the whole test (default 60 s). */
  timeoutMs?: number;
}

export interface FuzzSeedsReport {
  seeds: number;
  /** The first failure, if any: its seed, replay path and a message for people. */
  failure?: { seed: number; invariant: string; replay: string; message: string };
}

const SEEDS_MAX = 10_000_000;

/** Runs seeds in this thread until the first failure; writes its replay file. */
export function fuzzSeeds(scenarioName: string, options: FuzzTestOptions): FuzzSeedsReport {
  const scenario = scenarioNamed(scenarioName);
  const variant = options.variant ?? null;
  checkVariant(scenario, variant);
  const from = options.from ?? 0;
  if (!(Number.isSafeInteger(options.seeds) && options.seeds >= 0 && options.seeds <= SEEDS_MAX)) {
    throw new Error(`fuzzTest: seeds should be an integer in [0, ${SEEDS_MAX}]`);
  }
  for (let seed = from; seed < from + options.seeds; seed++) {
    const { plan, result } = runSeed(scenarioName, seed, variant);
    if (result.violation === undefined) {
      continue;
    }
    const out = options.out ?? 'faultline-out';
    mkdirSync(out, { recursive: true });
    const finding = result.outcome === 'violation' ? 'violation' : result.outcome;
    const file = replayFromRun({ scenario, plan, result, finding });
    const replay = join(out, replayFileName(file));
    writeReplay(replay, file);
    const message = formatFailure({
      scenario: scenarioName,
      variant,
      seed,
      violation: result.violation,
      replay,
    });
    return {
      seeds: seed - from + 1,
      failure: { seed, invariant: result.violation.invariant, replay, message },
    };
  }
  return { seeds: options.seeds };
}

export function fuzzTest(name: string, scenario: string, options: FuzzTestOptions): void {
  test(
    name,
    () => {
      const report = fuzzSeeds(scenario, options);
      if (report.failure !== undefined) {
        throw new Error(report.failure.message);
      }
    },
    options.timeoutMs ?? 60_000,
  );
}
