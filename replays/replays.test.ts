// Regression replays: every replays/*.msgpack is re-run and must keep its recorded expected
// outcome: still failing the same invariant (a known-bug variant), or passing (a fixed bug,
// a kept good seed). A changed trace hash alone is not a failure: code evolves, outcomes stay.
// A variant's plan must also pass on the correct system.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import {
  meetsExpectation,
  REPLAY_EXTENSION,
  readReplay,
  replayLoaded,
} from '../sim/replay-file.ts';
import { runPlan } from '../sim/run.ts';

const directory = import.meta.dirname;
const names = readdirSync(directory)
  .filter((name) => name.endsWith(REPLAY_EXTENSION))
  .sort();

describe('regression replays', () => {
  it('include at least one failing and one passing run', () => {
    const expected = names.map((name) => readReplay(join(directory, name)).expected.outcome);
    expect(expected).toContain('fails');
    expect(expected).toContain('passes');
  });

  for (const name of names) {
    it(`${name} keeps its expected outcome`, () => {
      const { file, result, divergence } = replayLoaded(readReplay(join(directory, name)));
      const got = result.violation ? `fails ${result.violation.invariant}` : 'passes';
      const want =
        file.expected.outcome === 'passes' ? 'passes' : `fails ${file.expected.invariant}`;
      const note = divergence ? ` (${divergence.message})` : '';
      expect(meetsExpectation(file, result), `expected ${want}, got ${got}${note}`).toBe(true);
    });
  }

  // The failure is the bug's, not the plan's: the correct system survives the same faults.
  for (const name of names) {
    const { plan, expected } = readReplay(join(directory, name));
    if (plan.variant === null || expected.outcome !== 'fails') {
      continue;
    }
    it(`${name} passes without its variant (${plan.variant})`, () => {
      const result = runPlan({ ...plan, variant: null });
      expect(result.violation?.message).toBeUndefined();
      expect(result.outcome).toBe('pass');
    });
  }
});
