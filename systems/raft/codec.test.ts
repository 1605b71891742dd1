import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  crc32Range,
  crc32Table,
  decodeLog,
  decodeSnapshotFile,
  encodeBatch,
  encodeBatchTransient,
  encodeSnapshotFile,
  type LogRecord,
  replayLog,
} from './codec.ts';
import type { Entry } from './types.ts';

const arbEntry: fc.Arbitrary<Entry> = fc.record({
  index: fc.integer({ min: 1, max: 2 ** 40 }),
  term: fc.integer({ min: 0, max: 2 ** 40 }),
  kind: fc.constantFrom('command' as const, 'config' as const, 'noop' as const),
  data: fc.uint8Array({ maxLength: 40 }),
});

const arbRecord: fc.Arbitrary<LogRecord> = fc.oneof(
  fc.record({
    type: fc.constant('hard-state' as const),
    hardState: fc.record({
      term: fc.nat(),
      vote: fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: null }),
      commit: fc.nat(),
    }),
  }),
  fc.record({ type: fc.constant('entry' as const), entry: arbEntry }),
  fc.record({
    type: fc.constant('snapshot-meta' as const),
    meta: fc.record({
      lastIncludedIndex: fc.nat(),
      lastIncludedTerm: fc.nat(),
      voters: fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 7 }),
    }),
  }),
  fc.record({ type: fc.constant('truncate' as const), from: fc.integer({ min: 1, max: 2 ** 50 }) }),
);

const arbBatches = fc.array(fc.array(arbRecord, { minLength: 1, maxLength: 4 }), {
  minLength: 1,
  maxLength: 5,
});

function file(batches: LogRecord[][]): { bytes: Uint8Array; ends: number[] } {
  const parts = batches.map((records, batch) => encodeBatch(batch, records, batch === 0));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
    ends.push(offset);
  }
  return { bytes, ends };
}

/** Offsets at which the file's records begin (each record: length u32 | crc u32 | body). */
function recordStarts(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starts: number[] = [];
  for (let at = 0; at < bytes.length; at += 8 + view.getUint32(at)) {
    starts.push(at);
  }
  return starts;
}

function normalize(records: readonly LogRecord[]): unknown {
  return JSON.parse(
    JSON.stringify(records, (_key, value) => (value instanceof Uint8Array ? [...value] : value)),
  );
}

describe('CRC32', () => {
  it('matches the IEEE check value and node:zlib', () => {
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (data) => {
        expect(crc32(data)).toBe(crc32Table(data));
      }),
    );
  });

  it('slice-by-8 over a range equals the byte-wise CRC of that subarray', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (data, a, b) => {
        const from = data.length === 0 ? 0 : a % (data.length + 1);
        const to = from + (data.length === 0 ? 0 : b % (data.length - from + 1));
        expect(crc32Range(data, from, to)).toBe(crc32Table(data.subarray(from, to)));
      }),
    );
  });
});

describe('log codec', () => {
  it('round-trips any sequence of batches', () => {
    fc.assert(
      fc.property(arbBatches, (batches) => {
        const decoded = decodeLog(file(batches).bytes);
        expect(decoded.status).toEqual({ kind: 'ok' });
        expect(decoded.nextBatch).toBe(batches.length);
        expect(normalize(decoded.records)).toEqual(normalize(batches.flat()));
      }),
    );
  });

  it('encodes a batch the same with or without its own copy', () => {
    fc.assert(
      fc.property(arbBatches, (batches) => {
        batches.forEach((records, batch) => {
          const copied = encodeBatch(batch, records, batch === 0);
          expect([...encodeBatchTransient(batch, records, batch === 0)]).toEqual([...copied]);
        });
      }),
    );
  });

  it('detects a torn tail at every cut offset and keeps exactly the complete batches', () => {
    fc.assert(
      fc.property(arbBatches, (batches) => {
        const { bytes, ends } = file(batches);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const decoded = decodeLog(bytes.subarray(0, cut));
          const complete = ends.filter((end) => end <= cut).length;
          const validBytes = complete === 0 ? 0 : (ends[complete - 1] as number);
          expect(decoded.validBytes).toBe(validBytes);
          expect(normalize(decoded.records)).toEqual(normalize(batches.slice(0, complete).flat()));
          if (cut === validBytes) {
            expect(decoded.status.kind).toBe('ok');
          } else {
            expect(decoded.status).toMatchObject({ kind: 'torn-tail', truncateAt: validBytes });
          }
        }
      }),
      { numRuns: 40, seed: 20261125 },
    );
  });

  it('treats a hole inside the last batch (sectors landed out of order) as a torn tail', () => {
    const batches: LogRecord[][] = [
      [{ type: 'truncate', from: 1 }],
      [
        { type: 'entry', entry: { index: 1, term: 1, kind: 'command', data: new Uint8Array(30) } },
        { type: 'entry', entry: { index: 2, term: 1, kind: 'command', data: new Uint8Array(30) } },
      ],
    ];
    const { bytes, ends } = file(batches);
    const damaged = bytes.slice();
    damaged.fill(0, (ends[0] as number) + 2, (ends[0] as number) + 20); // inside the first record of batch 1
    const decoded = decodeLog(damaged);
    expect(decoded.status).toMatchObject({ kind: 'torn-tail', truncateAt: ends[0] });
    expect(decoded.records).toHaveLength(1);
  });

  it('reports corruption in the middle (a bad record followed by a later batch) and never applies it', () => {
    fc.assert(
      fc.property(
        arbBatches.filter((b) => b.length >= 2),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (batches, at, flip) => {
          const { bytes, ends } = file(batches);
          const lastStart = ends[ends.length - 2] as number; // corrupt anything before the last batch
          const position = at % lastStart;
          const damaged = bytes.slice();
          damaged[position] = (damaged[position] as number) ^ flip;
          const decoded = decodeLog(damaged);
          expect(decoded.status.kind).toBe('corrupt');
          const good = ends.filter((end) => end <= position).length;
          expect(decoded.records.length).toBeLessThanOrEqual(batches.slice(0, good).flat().length);
          // What it hands out is the file's records as written, a prefix of them.
          expect(normalize(decoded.records)).toEqual(
            normalize(batches.flat().slice(0, decoded.records.length)),
          );
        },
      ),
      { numRuns: 300, seed: 20261125 },
    );
  });

  it('decodes a rewritten log, which starts at a later batch', () => {
    const rewrite: LogRecord[] = [
      { type: 'snapshot-meta', meta: { lastIncludedIndex: 8, lastIncludedTerm: 2, voters: [1] } },
      { type: 'hard-state', hardState: { term: 2, vote: 1, commit: 8 } },
    ];
    const next: LogRecord[] = [{ type: 'truncate', from: 9 }];
    const bytes = new Uint8Array([
      ...encodeBatch(7, rewrite, true),
      ...encodeBatch(8, next, false),
    ]);
    const decoded = decodeLog(bytes);
    expect(decoded.status).toEqual({ kind: 'ok' });
    expect(decoded.nextBatch).toBe(9);
    expect(normalize(decoded.records)).toEqual(normalize([...rewrite, ...next]));
  });

  // raft-multi seed 17157: a later batch's sector misdirected onto sector 0, beginning at a
  // record boundary, read back as a whole log starting at entry 9.
  it('hands out nothing when a later record lands at offset 0 (a misdirected write)', () => {
    fc.assert(
      fc.property(arbBatches, fc.nat(), (batches, pick) => {
        const { bytes } = file(batches);
        const starts = recordStarts(bytes).filter((start) => start > 0);
        fc.pre(starts.length > 0);
        const landed = bytes.subarray(starts[pick % starts.length] as number);
        const decoded = decodeLog(landed);
        expect(decoded.records).toEqual([]);
        // Batch 0 torn at offset 0 is refused by any sync mark (tailVerdict), or corrupt.
        if (decoded.status.kind === 'torn-tail') {
          expect(decoded.status.batch).toBe(0);
        } else {
          expect(decoded.status.kind).toBe('corrupt');
        }
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });

  it('replays truncations, snapshots and entries into restorable state', () => {
    const e = (index: number, term: number): Entry => ({
      index,
      term,
      kind: 'command',
      data: new Uint8Array([index]),
    });
    const replayed = replayLog([
      { type: 'entry', entry: e(1, 1) },
      { type: 'entry', entry: e(2, 1) },
      { type: 'entry', entry: e(3, 1) },
      { type: 'hard-state', hardState: { term: 1, vote: 2, commit: 2 } },
      { type: 'truncate', from: 3 },
      { type: 'entry', entry: e(3, 2) },
      { type: 'entry', entry: e(4, 2) },
      {
        type: 'snapshot-meta',
        meta: { lastIncludedIndex: 2, lastIncludedTerm: 1, voters: [1, 2, 3] },
      },
      { type: 'hard-state', hardState: { term: 2, vote: null, commit: 3 } },
    ]);
    expect(replayed.hardState).toEqual({ term: 2, vote: null, commit: 3 });
    expect(replayed.snapshotMeta.lastIncludedIndex).toBe(2);
    expect(replayed.entries.map((x) => [x.index, x.term])).toEqual([
      [3, 2],
      [4, 2],
    ]);
  });
});

describe('snapshot file codec', () => {
  const snapshot = {
    meta: { lastIncludedIndex: 42, lastIncludedTerm: 7, voters: [1, 2, 5] },
    data: new Uint8Array([9, 8, 7, 6, 5]),
  };

  it('round-trips', () => {
    const decoded = decodeSnapshotFile(encodeSnapshotFile(snapshot));
    expect(decoded).toEqual({ ok: true, snapshot });
  });

  it('rejects any single flipped byte and any truncation', () => {
    const bytes = encodeSnapshotFile(snapshot);
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i] = (damaged[i] as number) ^ 0x40;
      expect(decodeSnapshotFile(damaged).ok).toBe(false);
      expect(decodeSnapshotFile(bytes.subarray(0, i)).ok).toBe(false);
    }
  });
});
