// Goal: the queue pops in (time, insertion) order. Method: property against a sort.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { EventKind, EventQueue, SimEvent } from './queue.ts';

describe('event queue', () => {
  it('pops events ordered by time, then by insertion (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 300 }), (times) => {
        const queue = new EventQueue(1000);
        times.forEach((timeUs, sequence) => {
          queue.push(new SimEvent(timeUs, sequence, EventKind.Timer, 0, 0, 0, sequence, null, 0));
        });
        const popped: number[] = [];
        for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
          popped.push(event.sequence);
        }
        const expected = times
          .map((timeUs, sequence) => ({ timeUs, sequence }))
          .sort((a, b) => a.timeUs - b.timeUs || a.sequence - b.sequence)
          .map((item) => item.sequence);
        expect(popped).toEqual(expected);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('refuses to grow past its capacity', () => {
    const queue = new EventQueue(2);
    queue.push(new SimEvent(1, 0, EventKind.Timer, 0, 0, 0, 0, null, 0));
    queue.push(new SimEvent(1, 1, EventKind.Timer, 0, 0, 0, 0, null, 0));
    expect(() => queue.push(new SimEvent(1, 2, EventKind.Timer, 0, 0, 0, 0, null, 0))).toThrow(
      'full',
    );
  });
});
