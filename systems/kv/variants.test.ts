// Each known-bug variant is found by fuzzing the kv swarm scenario within a bounded number
// of seeds. The bounds are the measured seeds-to-first-failure from seed 0 (the comment on
// each) with margin; bench/results/kv.md has the figures over several starting seeds.
import { describe, expect, it } from 'vitest';

import '../../scenarios/kv.ts';
import { firstFailingSeed } from '../../sim/run.ts';

function seedsToFirstFailure(variant: string, max: number): { seeds: number; invariant: string } {
  const found = firstFailingSeed('kv', variant, max);
  return found === undefined
    ? { seeds: Number.POSITIVE_INFINITY, invariant: '' }
    : { seeds: found.seed + 1, invariant: found.violation.invariant };
}

describe('kv known-bug variants are found by fuzzing', () => {
  it.each([
    // measured: 1 seed (seed 0: a follower's stale Get; 5 before the seed derivation was hashed)
    ['stale-follower-read', 15, 'kv-linearizable'],
    // measured: 1 seed (a duplicated Append seen by a Get)
    ['no-dedup', 5, 'kv-linearizable'],
    // measured: 13 seeds (seed 12, kv-appends-exactly-once; 1 before the seed derivation was
    // hashed)
    ['dedup-not-in-snapshot', 30, undefined],
    // measured: 1 seed
    ['apply-before-commit', 8, undefined],
  ] as const)(
    '%s within %i seeds',
    (variant, max, invariant) => {
      const found = seedsToFirstFailure(variant, max);
      expect(found.seeds).toBeLessThanOrEqual(max);
      if (invariant !== undefined) {
        expect(found.invariant).toBe(invariant);
      } else {
        expect(found.invariant).toMatch(/^kv-/);
      }
    },
    60_000,
  );
});
