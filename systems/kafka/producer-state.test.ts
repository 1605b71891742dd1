// Producer state survives retention: with snapshots at segment rolls and segments deleted only
// below a durable snapshot, the state rebuilt after a crash at any point equals the state of
// every record the recovered log ever held, though the segments holding most of them are gone;
// so a retried batch is still answered with its first offset. Snapshots are checksummed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Disk } from '../../sim/disk.ts';
import { Random } from '../../sim/random.ts';
import { PartitionLog, type PartitionLogConfig } from './partition-log.ts';
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  offsetOfRetry,
  type ProducerEntry,
  ProducerState,
} from './producer-state.ts';

const CONFIG: PartitionLogConfig = { dir: 'p/k0/', segmentBytes: 150, indexIntervalBytes: 64 };
const payload = (value: number) => new TextEncoder().encode(`v${value}`);

function rig(seed: number) {
  const disk = new Disk(Random.fromSeed(seed));
  const syncs: number[] = [];
  disk.scheduler = { scheduleSync: (syncId) => syncs.push(syncId) };
  return { disk, syncs };
}

/** The producers as comparable data: id → [lastSequence, [firstSequence, lastSequence, firstOffset]…]. */
function plain(producers: ReadonlyMap<number, ProducerEntry>) {
  return [...producers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, entry]) => [
      id,
      entry.lastSequence,
      entry.batches.map((batch) => [batch.firstSequence, batch.lastSequence, batch.firstOffset]),
    ]);
}

type Step =
  | { kind: 'append'; producer: number; records: number }
  | { kind: 'sync'; count: number }
  | { kind: 'retain' }
  | { kind: 'crash'; tear: boolean };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      producer: fc.integer({ min: 0, max: 3 }),
      records: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'retain' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), tear: fc.boolean() }) },
);

describe('producer state snapshots', () => {
  it('round-trip, and a flipped bit or a cut is refused', () => {
    const producers = new Map<number, ProducerEntry>([
      [
        7,
        {
          lastSequence: 12,
          batches: [
            { firstSequence: 10, lastSequence: 11, firstOffset: 40 },
            { firstSequence: 12, lastSequence: 12, firstOffset: 45 },
          ],
        },
      ],
      [
        100_008,
        { lastSequence: 0, batches: [{ firstSequence: 0, lastSequence: 0, firstOffset: 3 }] },
      ],
    ]);
    const bytes = encodeProducerSnapshot(46, producers);
    const decoded = decodeProducerSnapshot(bytes);
    expect(typeof decoded).not.toBe('string');
    if (typeof decoded !== 'string') {
      expect(decoded.offset).toBe(46);
      expect(plain(decoded.producers)).toEqual(plain(producers));
    }
    for (let at = 0; at < bytes.length; at += 3) {
      const flipped = bytes.slice();
      flipped[at] = (flipped[at] as number) ^ 0x10;
      expect(typeof decodeProducerSnapshot(flipped)).toBe('string');
    }
    expect(typeof decodeProducerSnapshot(bytes.subarray(0, bytes.length - 5))).toBe('string');
  });

  it('rebuilds after retention and a crash at any point to the state of every record held', () => {
    let runsWithRetention = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(stepArbitrary, { minLength: 20, maxLength: 160 }),
        (seed, steps) => {
          const { disk, syncs } = rig(seed);
          let log = PartitionLog.open(disk, CONFIG).log;
          let state = new ProducerState(disk, CONFIG.dir, true);
          state.rebuild(log);
          let snapshotBase = log.activeBaseOffset;
          /** Every record appended, by offset: [producer, sequence]; cut at each recovery. */
          let appended: [number, number][] = [];
          const sequences = [0, 0, 0, 0];
          let deleted = false;
          const expectStateOfHeldRecords = () => {
            const reference = new ProducerState(new Disk(Random.fromSeed(0)), 'x/', false);
            for (const [offset, [producer, sequence]] of appended.entries()) {
              reference.note(producer, sequence, 1, offset); // record by record
            }
            expect(plain(state.producers)).toEqual(plain(reference.producers));
          };
          for (const step of steps) {
            if (step.kind === 'append') {
              const producer = step.producer;
              const baseSequence = sequences[producer] as number;
              const { baseOffset } = log.append({
                leaderEpoch: 1,
                producerId: producer,
                producerEpoch: 0,
                baseSequence,
                records: Array.from({ length: step.records }, (_, at) =>
                  payload(baseOffset0(appended) + at),
                ),
              });
              state.note(producer, baseSequence, step.records, baseOffset); // batch by batch
              for (let at = 0; at < step.records; at++) {
                appended.push([producer, baseSequence + at]);
              }
              sequences[producer] = baseSequence + step.records;
            } else if (step.kind === 'sync') {
              for (let done = 0; done < step.count && syncs.length > 0; done++) {
                const syncId = syncs.shift() as number;
                const ok = disk.completeSync(syncId);
                expect(log.onSynced(syncId, ok) || state.onSynced(syncId, ok)).toBe(true);
              }
            } else if (step.kind === 'retain') {
              if (log.activeBaseOffset !== snapshotBase) {
                state.takeSnapshot(log.logEndOffset);
                snapshotBase = log.activeBaseOffset;
              }
              const keepFrom = Math.min(
                log.durableEndOffset,
                state.deletableBelow(log.durableEndOffset),
              );
              const before = log.logStartOffset;
              if (log.deleteOldSegments(300, keepFrom) > before) {
                deleted = true;
                state.deleteBelow(log.logStartOffset);
              }
            } else {
              disk.crash(step.tear);
              syncs.length = 0;
              log = PartitionLog.open(disk, CONFIG).log;
              state = new ProducerState(disk, CONFIG.dir, true);
              state.rebuild(log);
              snapshotBase = log.activeBaseOffset;
              appended = appended.slice(0, log.logEndOffset);
              for (let producer = 0; producer < sequences.length; producer++) {
                // A producer goes on from what the log kept (its retries would say the same).
                sequences[producer] = (state.producers.get(producer)?.lastSequence ?? -1) + 1;
              }
              expectStateOfHeldRecords();
            }
          }
          expectStateOfHeldRecords();
          if (deleted) {
            runsWithRetention++;
          }
        },
      ),
      { numRuns: 60 },
    );
    // The property is about state after retention: enough runs must have deleted segments.
    expect(runsWithRetention).toBeGreaterThan(10); // 25–29 of 60 in three runs
  });

  it('answers a retry of the last batch after the segments it was rebuilt from are deleted', () => {
    const { disk, syncs } = rig(3);
    const log = PartitionLog.open(disk, CONFIG).log;
    const state = new ProducerState(disk, CONFIG.dir, true);
    state.rebuild(log);
    let snapshotBase = log.activeBaseOffset;
    const drain = () => {
      for (let guard = 0; guard < 100 && syncs.length > 0; guard++) {
        const syncId = syncs.shift() as number;
        const ok = disk.completeSync(syncId);
        log.onSynced(syncId, ok) || state.onSynced(syncId, ok);
      }
    };
    const { baseOffset: retried } = log.append({
      leaderEpoch: 1,
      producerId: 9,
      producerEpoch: 0,
      baseSequence: 0,
      records: [payload(0)],
    });
    state.note(9, 0, 1, retried);
    for (let value = 1; value < 40; value++) {
      const { baseOffset } = log.append({
        leaderEpoch: 1,
        producerId: 5,
        producerEpoch: 0,
        baseSequence: value - 1,
        records: [payload(value)],
      });
      state.note(5, value - 1, 1, baseOffset);
      drain();
      if (log.activeBaseOffset !== snapshotBase) {
        state.takeSnapshot(log.logEndOffset);
        snapshotBase = log.activeBaseOffset;
        drain();
      }
      log.deleteOldSegments(300, state.deletableBelow(log.durableEndOffset));
      state.deleteBelow(log.logStartOffset);
    }
    expect(log.logStartOffset).toBeGreaterThan(retried);
    disk.crash(false);
    const reopened = PartitionLog.open(disk, CONFIG).log;
    const rebuilt = new ProducerState(disk, CONFIG.dir, true);
    rebuilt.rebuild(reopened);
    expect(rebuilt.producers.get(9)?.lastSequence).toBe(0);
    const kept = rebuilt.producers.get(9);
    expect(kept === undefined ? undefined : offsetOfRetry(kept, 0, 0)).toBe(retried);
    // Without snapshots the log alone no longer knows producer 9.
    const fromLog = new ProducerState(disk, 'p/none/', false);
    fromLog.rebuild(reopened);
    expect(fromLog.producers.has(9)).toBe(false);
  });
});

function baseOffset0(appended: readonly unknown[]): number {
  return appended.length;
}

describe('answering retries of multi-record batches', () => {
  it('finds a retried batch anywhere inside the last runs, and nothing it does not hold whole', () => {
    const state = new ProducerState(new Disk(Random.fromSeed(1)), 'r/', false);
    state.note(4, 0, 16, 100); // one full batch at offsets 100…115
    state.note(4, 16, 3, 116); // appended right after: the same run
    state.note(4, 19, 2, 130); // after another producer's records: a new run
    const entry = state.producers.get(4) as ProducerEntry;
    expect(entry.lastSequence).toBe(20);
    expect(entry.batches).toHaveLength(2);
    expect(offsetOfRetry(entry, 0, 15)).toBe(100);
    expect(offsetOfRetry(entry, 16, 18)).toBe(116);
    expect(offsetOfRetry(entry, 19, 20)).toBe(130);
    expect(offsetOfRetry(entry, 17, 20)).toBeUndefined(); // straddles two runs
    expect(offsetOfRetry(entry, 20, 21)).toBeUndefined(); // past the end
  });

  it('keeps the last five runs', () => {
    const state = new ProducerState(new Disk(Random.fromSeed(1)), 'r/', false);
    for (let batch = 0; batch < 8; batch++) {
      state.note(4, batch * 2, 2, batch * 10); // gaps in offsets: eight runs
    }
    const entry = state.producers.get(4) as ProducerEntry;
    expect(entry.batches.map((kept) => kept.firstSequence)).toEqual([6, 8, 10, 12, 14]);
    expect(offsetOfRetry(entry, 4, 5)).toBeUndefined();
    expect(offsetOfRetry(entry, 14, 15)).toBe(70);
  });
});
