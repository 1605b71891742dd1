import { describe, expect, it } from 'vitest';

import { toWireBatches } from './broker.ts';
import type { StoredRecord } from './partition-log.ts';

const encoder = new TextEncoder();

function record(offset: number, sequence: number, batchBaseOffset: number): StoredRecord {
  return {
    offset,
    leaderEpoch: 1,
    producerId: 7,
    producerEpoch: 0,
    sequence,
    payload: encoder.encode(String(1000 + offset)),
    batchBaseOffset,
  };
}

describe('toWireBatches', () => {
  it('keeps the stored batches apart, even where one producer wrote them back to back', () => {
    // Two produce requests of one producer, consecutive sequences: two batches on disk. Merged
    // on the wire, a follower would store one batch [1, 2], and a cut at a leader's epoch end
    // of 2 would drop offset 1 with it (kafka seed 13435 lost an acknowledged record so).
    const records = [record(1, 1, 1), record(2, 2, 2), record(3, 3, 2)];
    const batches = toWireBatches(records);
    expect(batches.map((batch) => [batch.baseOffset, batch.payloads.length])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('starts a wire batch at the fetch offset when that falls inside a stored batch', () => {
    const batches = toWireBatches([record(5, 5, 4), record(6, 6, 4)]);
    expect(batches).toEqual([
      { baseOffset: 5, leaderEpoch: 1, producerId: 7, baseSequence: 5, payloads: ['1005', '1006'] },
    ]);
  });
});
