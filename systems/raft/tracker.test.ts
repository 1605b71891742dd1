// quorumIndex is on the leader's hot path and sorts in a reused scratch array: it must give
// what the plain definition gives (the value a majority has reached), for any voters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { quorumIndex } from './tracker.ts';

function reference(matches: readonly number[]): number {
  const sorted = [...matches].sort((a, b) => b - a);
  return sorted[Math.floor(matches.length / 2)] ?? 0;
}

describe('quorumIndex', () => {
  it('is the highest index a majority has reached, whatever came before it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(1000), { maxLength: 9 }), { minLength: 1, maxLength: 5 }),
        (calls) => {
          for (const matches of calls) {
            const voters = matches.map((_, index) => index);
            expect(quorumIndex(voters, (id) => matches[id] as number)).toBe(reference(matches));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a lone laggard or a lone leader does not move it', () => {
    expect(quorumIndex([0, 1, 2], (id) => [10, 10, 0][id] as number)).toBe(10);
    expect(quorumIndex([0, 1, 2], (id) => [10, 0, 0][id] as number)).toBe(0);
    expect(quorumIndex([0, 1, 2, 3, 4], (id) => [9, 8, 7, 1, 0][id] as number)).toBe(7);
    expect(quorumIndex([], () => 5)).toBe(0);
  });
});
