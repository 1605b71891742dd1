// Goal: named streams are independent and reproducible. Method: compare draws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Random } from './random.ts';

const draws = (random: Random, count: number) =>
  Array.from({ length: count }, () => random.uint32());

describe('random', () => {
  it('repeats itself for the same seed and differs for another', () => {
    expect(draws(Random.fromSeed(5), 10)).toEqual(draws(Random.fromSeed(5), 10));
    expect(draws(Random.fromSeed(5), 10)).not.toEqual(draws(Random.fromSeed(6), 10));
  });

  it('keeps forked streams independent: extra draws in one do not shift another', () => {
    const quiet = Random.fromSeed(9);
    const busy = Random.fromSeed(9);
    draws(busy.fork('network'), 1000);
    draws(busy, 17);
    expect(draws(busy.fork('disk'), 5)).toEqual(draws(quiet.fork('disk'), 5));
  });

  it('captures and restores state', () => {
    const random = Random.fromSeed('state');
    draws(random, 3);
    const copy = Random.fromState('copy', random.getState());
    expect(draws(copy, 20)).toEqual(draws(random, 20));
  });

  it('keeps bounded integers in range (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 40 }), (seed, bound) => {
        const random = Random.fromSeed(seed);
        for (let index = 0; index < 20; index++) {
          const value = random.int(bound);
          expect(Number.isSafeInteger(value) && value >= 0 && value < bound).toBe(true);
        }
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('is roughly uniform', () => {
    const random = Random.fromSeed(1);
    const buckets = new Array(10).fill(0);
    for (let index = 0; index < 100_000; index++) {
      buckets[random.int(10)]++;
    }
    for (const count of buckets) {
      expect(count).toBeGreaterThan(9_500);
      expect(count).toBeLessThan(10_500);
    }
  });
});
