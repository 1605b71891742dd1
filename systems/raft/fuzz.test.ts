import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FaultStats } from './testkit.ts';
import { randomRun } from './testkit-storm.ts';
import type { RaftBug } from './types.ts';

describe('random storms on the kernel faults (loss, duplicates, tails, partitions, torn crashes, fsync errors, pauses, snapshots)', () => {
  it('no two leaders in a term, one vote per term, current-term commits, applies and committed prefixes agree, and it settles', () => {
    const reached: Partial<Record<keyof FaultStats, number>> = {};
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (seed) => {
        const result = randomRun(seed);
        expect(result.error).toBeNull();
        expect(result.violations).toEqual([]);
        for (const [fault, count] of Object.entries(result.stats)) {
          const key = fault as keyof FaultStats;
          reached[key] = (reached[key] ?? 0) + count;
        }
      }),
      { numRuns: 60, seed: 20261125 },
    );
    // The kernel's faults reached the core: a fault that never fires is noticed.
    for (const fault of Object.keys(reached) as (keyof FaultStats)[]) {
      expect(reached[fault], fault).toBeGreaterThan(0);
    }
  });

  const inCoreBugs: RaftBug[] = [
    'commit-previous-term',
    'accept-stale-term',
    'no-truncate-on-conflict',
    'snapshot-off-by-one',
  ];
  for (const bug of inCoreBugs) {
    it(`finds the ${bug} bug within 150 seeds`, () => {
      let found: string | null = null;
      for (let seed = 0; seed < 150 && found === null; seed++) {
        const result = randomRun(seed, [bug]);
        found = result.violations[0] ?? result.error;
      }
      expect(found).not.toBeNull();
    });
  }
});
