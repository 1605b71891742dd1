// What a partition leader needs to deduplicate idempotent producers' retries: per producer id,
// the last sequence appended and the offsets of its last few batches. It is rebuilt from the
// log after a restart or a truncation. Once retention deletes old segments the log alone no
// longer says it all, so, as Kafka does, the state is snapshotted when a segment rolls: a
// checksummed file per snapshot, `${dir}${offset, 20 digits}.snapshot`, fsynced, holding the
// state of every record below its offset. A rebuild loads the newest valid snapshot inside the
// log and replays the log after it. A segment may be deleted only once a durable snapshot at
// or past its end exists (`deletableBelow`), so a crash never leaves the state short.
//
// Snapshot layout (big-endian): crc32 u32 | length u32 | body (length bytes)
//   body = magic u32 | offset f64 | producers u32
//          | producers × (producerId f64 | lastSequence i32 | batches u8
//                         | batches × (firstSequence i32 | lastSequence i32 | firstOffset f64))
// (f64 holds the safe integers offsets and producer ids are, exactly.)
import { assert } from '../../sim/assert.ts';
import { type Disk, ProcessExit } from '../../sim/disk.ts';
import { crc32 } from '../raft/codec.ts';
import { readStable } from '../stable-read.ts';
import type { PartitionLog } from './partition-log.ts';

/** Producer batches a leader remembers per producer, for answering retries (Kafka keeps 5). */
export const PRODUCER_BATCHES_KEPT = 5;
export const PRODUCERS_MAX = 4096;
const SNAPSHOT_MAGIC = 0x50534e32; // "PSN2": batches as sequence ranges
const SNAPSHOT_HEADER_BYTES = 8;
const SNAPSHOTS_MAX = 4096;
const SUFFIX = '.snapshot';

/**
 * A run of one producer's records at consecutive offsets with consecutive sequences. Batches
 * appended back to back are kept as one run, so the state noted record by record (a follower,
 * a rebuild from the log) equals the state noted batch by batch (the leader).
 */
export interface KeptBatch {
  readonly firstSequence: number;
  lastSequence: number;
  readonly firstOffset: number;
}

export interface ProducerEntry {
  lastSequence: number;
  /** The last few runs, oldest first, at most PRODUCER_BATCHES_KEPT. */
  readonly batches: KeptBatch[];
}

/**
 * The offset of the record with sequence `firstSequence`, when the kept runs hold every
 * sequence from `firstSequence` to `lastSequence` (a retried batch, kept whole); else undefined.
 */
export function offsetOfRetry(
  entry: ProducerEntry,
  firstSequence: number,
  lastSequence: number,
): number | undefined {
  assert(firstSequence <= lastSequence, 'a retry covers at least one sequence');
  for (const batch of entry.batches) {
    if (batch.firstSequence <= firstSequence && lastSequence <= batch.lastSequence) {
      return batch.firstOffset + (firstSequence - batch.firstSequence);
    }
  }
  return undefined;
}

export function encodeProducerSnapshot(
  offset: number,
  producers: ReadonlyMap<number, ProducerEntry>,
): Uint8Array {
  let bodyBytes = 4 + 8 + 4;
  for (const entry of producers.values()) {
    bodyBytes += 8 + 4 + 1 + entry.batches.length * 16;
  }
  const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + bodyBytes);
  const view = new DataView(bytes.buffer);
  let at = SNAPSHOT_HEADER_BYTES;
  view.setUint32(at, SNAPSHOT_MAGIC);
  view.setFloat64(at + 4, offset);
  view.setUint32(at + 12, producers.size);
  at += 16;
  for (const [producerId, entry] of producers) {
    assert(entry.batches.length <= PRODUCER_BATCHES_KEPT, 'too many batches kept for one producer');
    view.setFloat64(at, producerId);
    view.setInt32(at + 8, entry.lastSequence);
    view.setUint8(at + 12, entry.batches.length);
    at += 13;
    for (const batch of entry.batches) {
      view.setInt32(at, batch.firstSequence);
      view.setInt32(at + 4, batch.lastSequence);
      view.setFloat64(at + 8, batch.firstOffset);
      at += 16;
    }
  }
  view.setUint32(0, crc32(bytes.subarray(SNAPSHOT_HEADER_BYTES)));
  view.setUint32(4, bodyBytes);
  return bytes;
}

/** A snapshot's offset and producers, or a sentence saying why the bytes are not one. */
export function decodeProducerSnapshot(
  bytes: Uint8Array,
): { offset: number; producers: Map<number, ProducerEntry> } | string {
  if (bytes.length < SNAPSHOT_HEADER_BYTES + 16) {
    return `snapshot of ${bytes.length} bytes is too short`;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyBytes = view.getUint32(4);
  if (bodyBytes !== bytes.length - SNAPSHOT_HEADER_BYTES) {
    return `snapshot says ${bodyBytes} body bytes, holds ${bytes.length - SNAPSHOT_HEADER_BYTES}`;
  }
  if (crc32(bytes.subarray(SNAPSHOT_HEADER_BYTES)) !== view.getUint32(0)) {
    return 'snapshot fails its checksum';
  }
  let at = SNAPSHOT_HEADER_BYTES;
  if (view.getUint32(at) !== SNAPSHOT_MAGIC) {
    return 'snapshot has the wrong magic number';
  }
  const offset = view.getFloat64(at + 4);
  const count = view.getUint32(at + 12);
  at += 16;
  const producers = new Map<number, ProducerEntry>();
  for (let index = 0; index < count; index++) {
    if (at + 13 > bytes.length) {
      return 'snapshot ends inside a producer';
    }
    const producerId = view.getFloat64(at);
    const lastSequence = view.getInt32(at + 8);
    const batches = view.getUint8(at + 12);
    at += 13;
    if (batches > PRODUCER_BATCHES_KEPT || at + batches * 16 > bytes.length) {
      return 'snapshot ends inside a producer';
    }
    const kept: KeptBatch[] = [];
    for (let batch = 0; batch < batches; batch++) {
      const firstSequence = view.getInt32(at);
      const batchLastSequence = view.getInt32(at + 4);
      if (batchLastSequence < firstSequence) {
        return 'snapshot holds a batch that ends before it starts';
      }
      kept.push({
        firstSequence,
        lastSequence: batchLastSequence,
        firstOffset: view.getFloat64(at + 8),
      });
      at += 16;
    }
    producers.set(producerId, { lastSequence, batches: kept });
  }
  if (at !== bytes.length || !Number.isSafeInteger(offset) || offset < 0) {
    return 'snapshot is malformed';
  }
  return { offset, producers };
}

/** One partition replica's producer state, with its snapshots when `snapshots` is on. */
export class ProducerState {
  readonly producers = new Map<number, ProducerEntry>();
  /** Snapshot offsets whose files are durable, ascending. */
  private durable: number[] = [];
  /** fsyncs in flight: sync id → snapshot offset. */
  private readonly syncing = new Map<number, number>();

  constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    readonly snapshots: boolean,
  ) {}

  /** A batch of `count` records from `firstSequence` was appended at `firstOffset`. */
  note(producerId: number, firstSequence: number, count: number, firstOffset: number): void {
    assert(count >= 1, 'a batch holds a record');
    if (producerId < 0) {
      return;
    }
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      if (this.producers.size >= PRODUCERS_MAX) {
        return;
      }
      entry = { lastSequence: -1, batches: [] };
      this.producers.set(producerId, entry);
    }
    const lastSequence = firstSequence + count - 1;
    entry.lastSequence = lastSequence;
    const last = entry.batches[entry.batches.length - 1];
    const continues =
      last !== undefined &&
      last.lastSequence + 1 === firstSequence &&
      last.firstOffset + (last.lastSequence - last.firstSequence) + 1 === firstOffset;
    if (continues) {
      last.lastSequence = lastSequence;
      return;
    }
    entry.batches.push({ firstSequence, lastSequence, firstOffset });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) {
      entry.batches.shift();
    }
  }

  private snapshotName(offset: number): string {
    return `${this.dir}${String(offset).padStart(20, '0')}${SUFFIX}`;
  }

  /** Snapshot offsets on disk, ascending. */
  private snapshotOffsets(): number[] {
    const offsets = this.disk
      .list()
      .filter((name) => name.startsWith(this.dir) && name.endsWith(SUFFIX))
      .map((name) => name.slice(this.dir.length, -SUFFIX.length))
      .filter((base) => /^\d{20}$/.test(base))
      .map(Number)
      .sort((a, b) => a - b);
    assert(offsets.length <= SNAPSHOTS_MAX, `partition ${this.dir} has too many snapshots`);
    return offsets;
  }

  /**
   * Rebuilds the state from the log (after a restart or a truncation): the newest valid
   * snapshot inside [logStartOffset, logEndOffset], then the log's records from its offset.
   * Snapshots outside the log, or that fail their checksum, are deleted.
   */
  rebuild(log: PartitionLog): void {
    this.producers.clear();
    let from = log.logStartOffset;
    if (this.snapshots) {
      const kept: number[] = [];
      let loaded = false;
      for (const offset of this.snapshotOffsets().reverse()) {
        const name = this.snapshotName(offset);
        if (offset < log.logStartOffset || offset > log.logEndOffset) {
          this.remove(offset);
          continue;
        }
        if (!loaded) {
          const snapshot = decodeProducerSnapshot(readStable(this.disk, name));
          if (typeof snapshot === 'string' || snapshot.offset !== offset) {
            this.remove(offset); // torn by a crash before its fsync, or damaged
            continue;
          }
          for (const [producerId, entry] of snapshot.producers) {
            this.producers.set(producerId, entry);
          }
          from = offset;
          loaded = true;
        }
        if (![...this.syncing.values()].includes(offset)) {
          kept.push(offset); // on disk at recovery, or synced: durable
        }
      }
      this.durable = kept.sort((a, b) => a - b);
    }
    if (from < log.logEndOffset || !this.snapshots) {
      const records = log.read(from, Number.MAX_SAFE_INTEGER) ?? [];
      for (const record of records) {
        this.note(record.producerId, record.sequence, 1, record.offset);
      }
    }
  }

  /** Writes a snapshot of the state: every record below `offset` (the log end) is in it. */
  takeSnapshot(offset: number): void {
    if (!this.snapshots || this.durable.includes(offset)) {
      return;
    }
    const name = this.snapshotName(offset);
    this.disk.remove(name);
    this.disk.write(name, 0, encodeProducerSnapshot(offset, this.producers));
    this.syncing.set(this.disk.fsync(name), offset);
  }

  /** An fsync finished; false when it was not one of these snapshots'. */
  onSynced(syncId: number, ok: boolean): boolean {
    const offset = this.syncing.get(syncId);
    if (offset === undefined) {
      return false;
    }
    this.syncing.delete(syncId);
    if (!ok) {
      throw new ProcessExit(`fsync of a producer snapshot of ${this.dir} failed`);
    }
    if (this.disk.exists(this.snapshotName(offset)) && !this.durable.includes(offset)) {
      this.durable.push(offset);
      this.durable.sort((a, b) => a - b);
    }
    return true;
  }

  /**
   * How far segments may be deleted from the front without leaving the state short after a
   * crash: the newest durable snapshot at or below `durableLogEnd` (a snapshot ahead of the
   * durable log could be lost with the log's tail). 0 with none; the log start with
   * snapshots off (nothing may go).
   */
  deletableBelow(durableLogEnd: number): number {
    const usable = this.durable.filter((offset) => offset <= durableLogEnd);
    return usable[usable.length - 1] ?? 0;
  }

  /** The log start moved up: snapshots below it describe records no longer held. */
  deleteBelow(logStartOffset: number): void {
    for (const offset of this.snapshotOffsets()) {
      if (offset < logStartOffset && this.durable.some((kept) => kept > offset)) {
        this.remove(offset);
      }
    }
  }

  /** The log was cut to `logEndOffset`: snapshots above it describe records it lost. */
  deleteAbove(logEndOffset: number): void {
    for (const offset of this.snapshotOffsets()) {
      if (offset > logEndOffset) {
        this.remove(offset);
      }
    }
  }

  /** The log was emptied (a follower restarting at its leader's log start). */
  clearAll(): void {
    for (const offset of this.snapshotOffsets()) {
      this.remove(offset);
    }
    this.producers.clear();
  }

  private remove(offset: number): void {
    this.disk.remove(this.snapshotName(offset));
    this.durable = this.durable.filter((kept) => kept !== offset);
    for (const [syncId, syncing] of this.syncing) {
      if (syncing === offset) {
        this.syncing.delete(syncId);
      }
    }
  }
}
