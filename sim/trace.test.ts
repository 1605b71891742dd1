// The payload digest behind the trace hash: any change to a message's bytes, field names or
// values must change it (else a diverging run could keep its hash).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { digestValue } from './trace.ts';

describe('digestValue', () => {
  it('changes when any one byte of a payload changes, whatever its length and offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, flip) => {
          const changed = bytes.slice();
          const index = at % bytes.length;
          changed[index] = (changed[index] as number) ^ flip;
          expect(digestValue(changed)).not.toBe(digestValue(bytes));
          // A view into a larger buffer digests as its own bytes do.
          const padded = new Uint8Array(bytes.length + 3);
          padded.set(bytes, 3);
          expect(digestValue(padded.subarray(3))).toBe(digestValue(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('tells field names, values, lengths and nesting apart', () => {
    const distinct = [
      { type: 'append', term: 1 },
      { type: 'append', tern: 1 },
      { type: 'append', term: 2 },
      { type: 'appendx', term: 1 },
      { type: 'append', term: 1, group: 'g1' },
      { type: 'append', term: 1, group: 'g2' },
      { type: 'append', term: [1] },
      new Uint8Array([1, 2, 3, 4]),
      new Uint8Array([1, 2, 3, 4, 0]),
      'append',
      1.5,
      null,
    ].map(digestValue);
    expect(new Set(distinct).size).toBe(distinct.length);
    expect(digestValue({ type: 'x', n: 1 })).toBe(digestValue({ type: 'x', n: 1 }));
  });
});
