import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomRun } from './testkit.ts';
import type { RaftBug } from './types.ts';

describe('random storms (message loss, delay, partitions, crashes, snapshots)', () => {
  it('no two leaders in a term, one vote per term, current-term commits, applies and committed prefixes agree, and it settles', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (seed) => {
        const result = randomRun(seed);
        expect(result.error).toBeNull();
        expect(result.violations).toEqual([]);
      }),
      { numRuns: 60, seed: 20261125 },
    );
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
