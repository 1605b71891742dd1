// The partition log on a simulated disk driven by hand: reads from any offset across
// segments, group commit (one write in flight), durability only after fsync, torn tails cut
// at recovery, truncation that survives crashes at any point, retention, epochs, damage found.
import { describe, expect, it } from 'vitest';

import { Disk } from '../../sim/disk.ts';
import { Random } from '../../sim/random.ts';
import {
  PartitionLog as Log,
  type PartitionLog,
  type PartitionLogConfig,
} from './partition-log.ts';
import type { BatchInput } from './records.ts';

const CONFIG: PartitionLogConfig = { dir: 'p/k0/', segmentBytes: 600, indexIntervalBytes: 128 };
const POINTS: PartitionLogConfig = { ...CONFIG, recoveryPoints: true };
/** The crash and truncation properties hold with recovery points and without. */
const LOG_CONFIGS: [string, PartitionLogConfig][] = [
  ['plain', CONFIG],
  ['recovery points', POINTS],
];

function rig(seed = 1) {
  const disk = new Disk(Random.fromSeed(seed));
  const syncs: number[] = [];
  disk.scheduler = { scheduleSync: (syncId) => syncs.push(syncId) };
  return { disk, syncs };
}

/** Completes fsyncs in order (or the one at `pick`) and tells the log. */
function completeSyncs(
  disk: Disk,
  syncs: number[],
  log: PartitionLog,
  count = Number.POSITIVE_INFINITY,
  random?: Random,
): void {
  for (let done = 0; done < count && syncs.length > 0; done++) {
    const at = random === undefined ? 0 : random.int(syncs.length);
    const [syncId] = syncs.splice(at, 1) as [number];
    log.onSynced(syncId, disk.completeSync(syncId));
  }
}

/** Fixed width, so that batches of as many records are as long wherever they come from. */
const payload = (value: number) => new TextEncoder().encode(`v${String(value).padStart(6, '0')}`);
const decodeValue = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes).slice(1));

function batch(values: number[], leaderEpoch = 1): BatchInput {
  return {
    leaderEpoch,
    producerId: 7,
    producerEpoch: 0,
    baseSequence: values[0] ?? 0,
    records: values.map(payload),
  };
}

/** The whole log as values, read from its start. */
function contents(log: PartitionLog): number[] {
  return (log.read(log.logStartOffset, 1 << 30) ?? []).map((record) => decodeValue(record.payload));
}

describe('the partition log', () => {
  it('reads from any offset across segments, and durable only after the fsync', () => {
    const { disk, syncs } = rig();
    const { log, recovery } = Log.open(disk, CONFIG);
    expect(recovery.status.kind).toBe('clean');
    const values: number[] = [];
    for (let value = 0; value < 120; value++) {
      const size = 1 + (value % 3);
      const group = Array.from({ length: size }, (_, at) => value * 10 + at);
      const { baseOffset, lastOffset } = log.append(batch(group));
      expect(baseOffset).toBe(values.length);
      expect(lastOffset).toBe(values.length + size - 1);
      values.push(...group);
      if (value % 7 === 0) {
        completeSyncs(disk, syncs, log);
      }
    }
    log.append(batch([5000]));
    values.push(5000);
    expect(log.durableEndOffset).toBeLessThan(values.length);
    completeSyncs(disk, syncs, log);
    completeSyncs(disk, syncs, log);
    expect(log.durableEndOffset).toBe(values.length);
    expect(log.segmentCount).toBeGreaterThan(5);
    for (const from of [0, 1, 2, 17, 100, 101, values.length - 1]) {
      const records = log.read(from, 200) ?? [];
      expect(records[0]?.offset).toBe(from);
      expect(records.map((record) => decodeValue(record.payload))).toEqual(
        values.slice(from, from + records.length),
      );
      expect(records[0]?.sequence).toBe(records[0] === undefined ? -1 : values[from]);
    }
    expect(log.read(values.length, 100)).toEqual([]);
    expect(log.read(values.length + 1, 100)).toBeUndefined();
    // A restart reads the same log back, indexes and all.
    disk.crash(false);
    const reopened = Log.open(disk, CONFIG);
    expect(reopened.recovery.status).toEqual({ kind: 'clean' });
    expect(reopened.recovery.segments).toBe(log.segmentCount);
    // Only the active segment's index was not yet flushed (rolled ones are).
    expect(reopened.recovery.indexesRebuilt).toBeLessThanOrEqual(1);
    expect(contents(reopened.log)).toEqual(values);
    expect(reopened.log.durableEndOffset).toBe(values.length);
  });

  it('writes one chunk at a time: appends wait while a write is in flight', () => {
    const { disk, syncs } = rig();
    const { log } = Log.open(disk, CONFIG);
    log.append(batch([1]));
    const file = disk.list().find((name) => name.endsWith('.log')) as string;
    const written = disk.size(file);
    log.append(batch([2]));
    log.append(batch([3]));
    expect(disk.size(file)).toBe(written); // not yet written: the first fsync is in flight
    expect(contents(log)).toEqual([1, 2, 3]); // but readable, from memory
    expect(syncs).toHaveLength(1);
    completeSyncs(disk, syncs, log, 1);
    expect(log.durableEndOffset).toBe(1);
    expect(disk.size(file)).toBeGreaterThan(written);
    completeSyncs(disk, syncs, log);
    expect(log.durableEndOffset).toBe(3);
  });

  it.each(LOG_CONFIGS)(
    'after a crash at any point keeps every durable record, and a prefix of the rest (%s)',
    (_, config) => {
      for (let seed = 1; seed <= 150; seed++) {
        const random = Random.fromSeed(seed);
        const { disk, syncs } = rig(seed);
        const { log } = Log.open(disk, config);
        const values: number[] = [];
        const steps = random.between(1, 60);
        for (let step = 0; step < steps; step++) {
          const group = Array.from(
            { length: random.between(1, 4) },
            () => values.length * 1000 + step,
          );
          group.forEach((_, at) => {
            group[at] = (values.length + at) * 1000 + seed;
          });
          log.append(batch(group, 1 + Math.floor(step / 20)));
          values.push(...group);
          if (random.chance(0.5)) {
            completeSyncs(disk, syncs, log, random.between(1, 2), random);
          }
        }
        const durable = log.durableEndOffset;
        disk.crash(random.chance(0.7));
        syncs.length = 0; // a crash forgets fsyncs in flight
        const { log: recovered, recovery } = Log.open(disk, config);
        expect(recovery.status.kind).not.toBe('corrupt');
        const got = contents(recovered);
        expect(got.length).toBeGreaterThanOrEqual(durable);
        expect(got).toEqual(values.slice(0, got.length));
        expect(recovered.logEndOffset).toBe(got.length);
        // It goes on from there, and a second crash after the cut is synced changes nothing.
        recovered.append(batch([999_999], 9));
        completeSyncs(disk, syncs, recovered);
        completeSyncs(disk, syncs, recovered);
        disk.crash(true);
        syncs.length = 0;
        expect(contents(Log.open(disk, config).log)).toEqual([...got, 999_999]);
      }
    },
  );

  it('cuts a torn tail and says so', () => {
    const { disk, syncs } = rig(3);
    const { log } = Log.open(disk, { ...CONFIG, segmentBytes: 1 << 20 });
    log.append(batch([1, 2, 3]));
    completeSyncs(disk, syncs, log);
    log.append(batch([4]));
    // Tear the unsynced write by hand: half of its batch reaches the disk.
    const file = disk.list().find((name) => name.endsWith('.log')) as string;
    const size = disk.size(file);
    const bytes = disk.read(file);
    disk.crash(false);
    const durableSize = disk.size(file);
    expect(durableSize).toBeLessThan(size);
    disk.write(file, durableSize, bytes.subarray(durableSize, durableSize + 10));
    const syncId = disk.fsync(file);
    disk.completeSync(syncId);
    syncs.length = 0;
    const { log: recovered, recovery } = Log.open(disk, CONFIG);
    expect(recovery.status).toMatchObject({ kind: 'torn-tail', offset: 3, bytesDropped: 10 });
    expect(contents(recovered)).toEqual([1, 2, 3]);
  });

  it.each(LOG_CONFIGS)(
    'truncates anywhere; a crash before the cut is durable leaves the old log, after it the new (%s)',
    (_, config) => {
      for (let seed = 1; seed <= 200; seed++) {
        const random = Random.fromSeed(1000 + seed);
        const { disk, syncs } = rig(seed);
        const { log } = Log.open(disk, config);
        const old: number[] = [];
        const sizes: number[] = [];
        for (let step = 0; step < random.between(2, 40); step++) {
          const group = Array.from({ length: random.between(1, 3) }, (_, at) => old.length + at);
          log.append(batch(group));
          old.push(...group);
          sizes.push(group.length);
        }
        completeSyncs(disk, syncs, log);
        completeSyncs(disk, syncs, log);
        const target = random.between(1, old.length - 1);
        // Cut from the start of the batch holding the target offset, as Kafka does.
        const cut = log.truncateTo(target);
        expect(cut).toBeLessThanOrEqual(target);
        expect(target - cut).toBeLessThan(3);
        expect(log.logEndOffset).toBe(cut);
        const now = old.slice(0, cut);
        expect(contents(log)).toEqual(now);
        // Half the time the cut is made durable before anything follows it.
        const cutDurable = random.chance(0.5);
        if (cutDurable) {
          completeSyncs(disk, syncs, log);
        }
        // What follows has the old batches' shapes (so old bytes could pass for new ones at the
        // same positions), in the same epoch half the time.
        let offset = 0;
        const laterSizes = sizes.filter((size) => {
          offset += size;
          return offset > cut;
        });
        const epoch = random.chance(0.5) ? 1 : 2;
        for (const size of laterSizes.slice(0, random.between(0, 10))) {
          const group = Array.from({ length: size }, (_, at) => 10_000 + now.length + at);
          log.append(batch(group, epoch));
          now.push(...group);
        }
        expect(contents(log)).toEqual(now);
        completeSyncs(disk, syncs, log, random.between(0, 4), random);
        const durable = log.durableEndOffset;
        disk.crash(random.chance(0.7));
        syncs.length = 0;
        const { log: recovered, recovery } = Log.open(disk, config);
        expect(recovery.status.kind).not.toBe('corrupt');
        const got = contents(recovered);
        // Never a mix: a prefix of the new log, or (the cut lost) of the old one.
        const ofNew = got.every((value, at) => value === now[at]);
        const ofOld = got.every((value, at) => value === old[at]);
        expect(ofNew || ofOld).toBe(true);
        // Once the cut was durable the old tail never comes back, not even from under a torn
        // write that extends the file past the cut.
        expect(ofNew || !cutDurable).toBe(true);
        expect(got.slice(0, durable)).toEqual(now.slice(0, durable));
        if (got.length > cut) {
          expect(recovered.latestEpoch).toBe(got[cut] === old[cut] ? 1 : epoch);
        }
      }
    },
  );

  it.each(
    LOG_CONFIGS.flatMap(
      ([name, config]) =>
        [
          [name, config, false],
          [`${name}, restarted after the cut`, config, true],
        ] as const,
    ),
  )(
    'a torn write past a durable cut never brings the cut-off batches back (%s)',
    (_, config, restart) => {
      // The disk keeps a truncated file's old sectors underneath; a torn write that extends the
      // file again can leave some of them showing. Same-shaped batches in the same epoch make
      // the old ones pass for new at the same positions: sealing the cut segment, and write
      // numbers that only grow, each keep them out (with neither, 5 of these 300 seeds mix).
      // After a restart the log cannot tell that its last segment was cut, and the write
      // numbers start again above the kept batches only, below the cut-off ones: so every
      // recovered last segment is sealed (without that, a restart here mixes them).
      for (let seed = 1; seed <= 300; seed++) {
        const { disk, syncs } = rig(seed);
        const sized = { ...config, segmentBytes: 1 << 20 };
        let { log } = Log.open(disk, sized);
        for (let value = 0; value < 40; value++) {
          log.append(batch([value]));
          completeSyncs(disk, syncs, log);
        }
        log.truncateTo(5);
        completeSyncs(disk, syncs, log);
        if (restart) {
          disk.crash(false);
          syncs.length = 0;
          log = Log.open(disk, sized).log;
          completeSyncs(disk, syncs, log);
        }
        for (let value = 5; value < 40; value++) {
          log.append(batch([1000 + value])); // the first goes alone, the rest as one chunk
        }
        completeSyncs(disk, syncs, log, 1);
        disk.crash(true);
        syncs.length = 0;
        const got = contents(Log.open(disk, sized).log);
        expect(got.slice(0, 5), `seed ${seed}`).toEqual([0, 1, 2, 3, 4]);
        expect(
          got.slice(5).every((value) => value >= 1000),
          `seed ${seed}`,
        ).toBe(true);
      }
    },
  );

  it('deletes old segments for retention, never at or above the bound, and remembers the start', () => {
    const { disk, syncs } = rig();
    const { log } = Log.open(disk, CONFIG);
    for (let value = 0; value < 200; value++) {
      log.append(batch([value], value < 100 ? 1 : 2));
      completeSyncs(disk, syncs, log);
    }
    const segments = log.segmentCount;
    expect(log.deleteOldSegments(0, 0)).toBe(0); // nothing below offset 0
    const early = log.deleteOldSegments(0, 40); // only segments wholly below 40
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThanOrEqual(40);
    const bounded = log.deleteOldSegments(0, 90);
    expect(bounded).toBeGreaterThan(early);
    expect(bounded).toBeLessThanOrEqual(90);
    // Epoch 1 ran to offset 100; the cache starts at the log start.
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 100 });
    expect(log.epochEntries[0]).toEqual({ epoch: 1, startOffset: bounded });
    const start = log.deleteOldSegments(2000, 200);
    expect(start).toBeGreaterThan(bounded);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(log.sizeBytes).toBeLessThanOrEqual(2000);
    expect(log.read(start - 1, 100)).toBeUndefined();
    expect(contents(log)).toEqual(Array.from({ length: 200 - start }, (_, at) => start + at));
    // Past epoch 1's end: the cache holds epoch 2 only, from the new start.
    expect(start).toBeGreaterThan(100);
    expect(log.epochEntries).toEqual([{ epoch: 2, startOffset: start }]);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: -1, endOffset: -1 });
    disk.crash(true);
    const { log: recovered } = Log.open(disk, CONFIG);
    expect(recovered.logStartOffset).toBe(start);
    expect(recovered.logEndOffset).toBe(200);
    // Truncating below the start empties the log and starts it where asked.
    recovered.truncateTo(start - 5);
    expect(recovered.logStartOffset).toBe(start - 5);
    expect(contents(recovered)).toEqual([]);
    recovered.append(batch([7], 3));
    completeSyncs(disk, syncs, recovered);
    disk.crash(false);
    const again = Log.open(disk, CONFIG).log;
    expect(again.logStartOffset).toBe(start - 5);
    expect(contents(again)).toEqual([7]);
  });

  it('answers end offsets per leader epoch as KIP-101 asks', () => {
    const { disk, syncs } = rig();
    const { log } = Log.open(disk, CONFIG);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: -1, endOffset: -1 });
    log.append(batch([0, 1], 1));
    log.append(batch([2], 3));
    log.append(batch([3, 4], 3));
    log.append(batch([5], 6));
    completeSyncs(disk, syncs, log);
    completeSyncs(disk, syncs, log);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 2 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 5 });
    expect(log.endOffsetForEpoch(9)).toEqual({ epoch: 6, endOffset: 6 });
    expect(() => log.append(batch([9], 2))).toThrow(/epoch 2 after epoch 6/);
    expect(log.truncateTo(4)).toBe(3); // the batch [3, 4] goes whole
    expect(log.endOffsetForEpoch(9)).toEqual({ epoch: 3, endOffset: 3 });
    completeSyncs(disk, syncs, log);
    disk.crash(false);
    expect(Log.open(disk, CONFIG).log.epochEntries).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 2 },
    ]);
  });

  it('reports damage to a durable segment, and rebuilds a stale index', () => {
    const { disk, syncs } = rig();
    const { log } = Log.open(disk, CONFIG);
    for (let value = 0; value < 60; value++) {
      log.append(batch([value]));
      completeSyncs(disk, syncs, log);
    }
    const files = disk.list().filter((name) => name.endsWith('.log'));
    expect(files.length).toBeGreaterThan(2);
    // The index of the first segment goes missing: rebuilt from the segment.
    disk.remove((files[0] as string).replace('.log', '.index'));
    const first = Log.open(disk, CONFIG);
    expect(first.recovery.indexesRebuilt).toBe(1);
    expect(contents(first.log)).toHaveLength(60);
    // A flipped byte in the middle segment, durably: not a torn tail.
    const middle = files[1] as string;
    disk.write(middle, 40, new Uint8Array([0xff, 0xfe]));
    disk.completeSync(disk.fsync(middle));
    const damaged = Log.open(disk, CONFIG);
    expect(damaged.recovery.status).toMatchObject({ kind: 'corrupt', file: middle });
    // Refused, not repaired: the files stay as they were, for the operator (or a restart
    // that refuses again), and the log takes no appends.
    expect(damaged.log.damage).toMatch(/it is not the last/);
    expect(disk.list().filter((name) => name.endsWith('.log'))).toEqual(files);
    expect(() => damaged.log.append(batch([61]))).toThrow(/damaged log/);
    expect(Log.open(disk, CONFIG).recovery.status.kind).toBe('corrupt');
  });

  /** A log of `count` single-record batches, every one synced (and its point saved). */
  function syncedLog(config: PartitionLogConfig, count: number) {
    const { disk, syncs } = rig(5);
    const { log } = Log.open(disk, config);
    for (let value = 0; value < count; value++) {
      log.append(batch([value]));
      completeSyncs(disk, syncs, log);
    }
    expect(log.durableEndOffset).toBe(count);
    const files = disk.list().filter((name) => name.endsWith('.log'));
    return { disk, syncs, log, last: files[files.length - 1] as string };
  }

  it('with recovery points, a synced last batch that rots is refused; without, it is cut as torn', () => {
    const big = { segmentBytes: 1 << 20 };
    // The hazard: with nothing after it, a rotted synced batch looks torn, and is dropped
    // although it was durable (and may have been acknowledged).
    const plain = syncedLog({ ...CONFIG, ...big }, 10);
    plain.disk.rotByte(plain.last, plain.disk.size(plain.last) - 3);
    plain.disk.crash(false);
    const cut = Log.open(plain.disk, { ...CONFIG, ...big });
    expect(cut.recovery.status.kind).toBe('torn-tail');
    expect(contents(cut.log)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // With the point: refused, nothing cut.
    const kept = syncedLog({ ...POINTS, ...big }, 10);
    const size = kept.disk.size(kept.last);
    kept.disk.rotByte(kept.last, size - 3);
    kept.disk.crash(false);
    const refused = Log.open(kept.disk, { ...POINTS, ...big });
    expect(refused.recovery.status).toMatchObject({ kind: 'corrupt', offset: 9 });
    expect(refused.log.damage).toMatch(/durable through offset 10/);
    expect(kept.disk.size(kept.last)).toBe(size);
  });

  it('hands nothing out before the recovery point covers it, and refuses a bad tail beside a damaged point', () => {
    const config = { ...POINTS, segmentBytes: 1 << 20 };
    const { disk, syncs, log, last } = syncedLog(config, 3);
    log.append(batch([3]));
    completeSyncs(disk, syncs, log, 1); // the batch's fsync: the point's save is still in flight
    expect(log.durableEndOffset).toBe(3);
    completeSyncs(disk, syncs, log, 1);
    expect(log.durableEndOffset).toBe(4);
    /** Ten bytes of a batch header past the end, synced: what a torn next chunk leaves. */
    const tear = () => {
      disk.write(last, disk.size(last), disk.read(last, 0, 10));
      disk.completeSync(disk.fsync(last));
      syncs.length = 0;
    };
    // A torn tail alone is cut: it was never handed out.
    tear();
    disk.crash(false);
    const torn = Log.open(disk, config);
    expect(torn.recovery.status).toMatchObject({ kind: 'torn-tail', offset: 4 });
    completeSyncs(disk, syncs, torn.log);
    expect(contents(torn.log)).toEqual([0, 1, 2, 3]);
    // Beside a point whose both slots rotted it is refused: a crash tears one write at most,
    // so a bad tail and a bad point together are media faults.
    tear();
    disk.rotByte(`${config.dir}recovery-point`, 5);
    disk.rotByte(`${config.dir}recovery-point`, 512 + 5);
    disk.crash(false);
    const refused = Log.open(disk, config);
    expect(refused.recovery.status.kind).toBe('corrupt');
    expect(refused.log.damage).toMatch(/recovery point .* is damaged too/);
  });
});

describe('a compacted partition log', () => {
  // A misdirected write lands a whole sector of the chunk being synced on another sector of
  // the file. Batches do not name their offsets' places, and a compacted log allows gaps, so
  // before batches checked their position a later batch landed on sector 0 read back as the
  // log's start, and the acknowledged records before it were cut as a torn tail.
  it('keeps every acknowledged record or refuses, whichever sector a misdirected write lands on', () => {
    const config: PartitionLogConfig = {
      dir: 'p/offsets/',
      segmentBytes: 1 << 20,
      indexIntervalBytes: 1024,
      compacted: true,
      recoveryPoints: true,
    };
    const file = `p/offsets/${'0'.repeat(20)}.log`;
    const landings = new Set<string>();
    let refused = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { disk, syncs } = rig(seed);
      const { log } = Log.open(disk, config);
      const sectorsBefore = seed % 3;
      let next = 0;
      // 64-byte batches (a 16-byte value), eight to a sector: a sector misdirected elsewhere
      // starts with a whole batch, as one lined up by chance does in a run.
      const sectorBatch = (value: number) => ({
        ...batch([]),
        baseSequence: value,
        records: [new TextEncoder().encode(`v${String(value).padStart(15, '0')}`)],
      });
      while (next < 1 + 8 * sectorsBefore) {
        log.append(sectorBatch(next++));
      }
      completeSyncs(disk, syncs, log);
      const hits: { sector: number; landedOn?: number }[] = [];
      disk.onMisdirected = (hit) => hits.push(hit);
      const target = disk.size(file) + 16 * 64;
      for (let more = 0; more < 16; more++) {
        log.append(sectorBatch(next++));
      }
      // The first of them is written at once; the rest ride the next chunk. Arm the fault for
      // that chunk's fsync, once it is written.
      while (disk.size(file) < target && syncs.length > 0) {
        completeSyncs(disk, syncs, log, 1);
      }
      disk.armMisdirectedWrite();
      completeSyncs(disk, syncs, log);
      const acked = log.durableEndOffset;
      const hit = hits[0];
      if (hit?.landedOn === undefined) {
        continue;
      }
      landings.add(`${hit.sector}->${hit.landedOn}`);
      disk.crash(false);
      const reopened = Log.open(disk, config);
      if (reopened.recovery.status.kind === 'corrupt') {
        refused++;
        continue;
      }
      expect(contents(reopened.log).filter((value) => value < acked)).toEqual(
        Array.from({ length: acked }, (_, value) => value),
      );
    }
    // Sector 0 was among the places hit, from a later sector, and damage was refused.
    expect(
      [...landings].some((landing) => landing.endsWith('->0') && !landing.startsWith('0->')),
    ).toBe(true);
    expect(refused).toBeGreaterThan(0);
  });

  const COMPACTED: PartitionLogConfig = {
    ...CONFIG,
    dir: 'p/offsets/',
    compacted: true,
    segmentBytes: 200,
  };
  const text = (key: number, value: number) => new TextEncoder().encode(`k${key}=${value}`);
  const keyOf = (payload: Uint8Array) => new TextDecoder().decode(payload).split('=')[0];
  const pairs = (log: PartitionLog) =>
    (log.read(log.logStartOffset, 1 << 30) ?? []).map((record) => [
      record.offset,
      new TextDecoder().decode(record.payload),
    ]);

  it('keeps the newest record per key at its offset, survives a crash at any point, and copies with its gaps', () => {
    let dropped = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const random = Random.fromSeed(`compaction-${seed}`);
      const { disk, syncs } = rig(seed);
      const { log } = Log.open(disk, COMPACTED);
      const written: [number, string][] = [];
      for (let at = 0; at < 60; at++) {
        const key = random.int(4);
        const { baseOffset } = log.append({
          leaderEpoch: 1 + Math.floor(at / 25),
          producerId: -1,
          producerEpoch: 0,
          baseSequence: -1,
          records: [text(key, at)],
        });
        written.push([baseOffset, `k${key}=${at}`]);
        completeSyncs(disk, syncs, log);
      }
      const crashAfter = random.int(8);
      let rewrites = 0;
      for (let round = 0; round < 40 && log.compact(log.durableEndOffset - 4, keyOf); round++) {
        if (rewrites++ === crashAfter) {
          break; // a rewrite in flight, its fsync not done
        }
        completeSyncs(disk, syncs, log);
      }
      const compacted = pairs(log);
      dropped += written.length - compacted.length;
      // Offsets only ever kept, with their payloads; the newest of each key among them.
      expect(
        compacted.every((pair) => written.some(([o, t]) => o === pair[0] && t === pair[1])),
      ).toBe(true);
      for (let key = 0; key < 4; key++) {
        const newest = written.filter(([, t]) => t.startsWith(`k${key}=`)).at(-1);
        if (newest !== undefined) {
          expect(compacted).toContainEqual(newest);
        }
      }
      disk.crash(random.chance(0.5));
      const reopened = Log.open(disk, COMPACTED);
      expect(reopened.recovery.status.kind).toBe('clean');
      const after = pairs(reopened.log);
      // Each segment reads back either rewritten or as it was: never a record lost otherwise.
      for (const pair of compacted) {
        expect(after).toContainEqual(pair);
      }
      expect(after.every((pair) => written.some(([o, t]) => o === pair[0] && t === pair[1]))).toBe(
        true,
      );
      expect(disk.list().some((name) => name.endsWith('.cleaned'))).toBe(false);
      expect(reopened.log.logEndOffset).toBe(written.length);
      // A follower copying the compacted log appends across its gaps.
      const copy = rig(seed + 100);
      const follower = Log.open(copy.disk, COMPACTED).log;
      for (const record of reopened.log.read(0, 1 << 30) ?? []) {
        follower.append(
          {
            leaderEpoch: record.leaderEpoch,
            producerId: -1,
            producerEpoch: 0,
            baseSequence: -1,
            records: [record.payload],
          },
          record.offset,
        );
        completeSyncs(copy.disk, copy.syncs, follower);
      }
      copy.disk.crash(false);
      const copied = Log.open(copy.disk, COMPACTED);
      expect(copied.recovery.status.kind).toBe('clean');
      expect(pairs(copied.log)).toEqual(after);
    }
    expect(dropped).toBeGreaterThan(100); // superseded records do go
  });

  it('refuses an append past the log end when not compacted', () => {
    const { disk } = rig(2);
    const { log } = Log.open(disk, CONFIG);
    log.append(batch([1]));
    expect(() => log.append(batch([2]), 5)).toThrow(/append at 5/);
  });
});
