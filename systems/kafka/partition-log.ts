// One partition's log on a broker's disk, as Kafka keeps it: segment files of checksummed
// record batches (records.ts), each with an offset index, rolled at a size, deleted from the
// front by retention, truncated from the back when a follower's log diverged from its leader.
//
// Durability is group commit, as the Raft group does it: appends collect in memory, and the
// log writes them as one chunk only once the previous write is durable, then fsyncs. So after
// a crash only the last chunk can be torn, and recovery cuts the last segment at its first
// invalid batch. `durableEndOffset` says how far the log is on the platter: a broker must not
// acknowledge (or report to its leader) a record above it.
//
// A segment file only ever grows at its end; once it has been shrunk (a truncation, or a torn
// tail cut at recovery) it is sealed and later appends go to a fresh segment, and so do
// appends after any restart (whether the last segment had been cut is not on disk). That matters on
// this disk: sectors cut by a truncation keep their old bytes underneath, and a torn write
// that later extends the same file could bring a truncated batch back to life.
//
// File names: `${dir}${baseOffset, 20 digits}.log` and `.index`. The index holds an entry
// (offset − base u32, position u32) every `indexIntervalBytes` of batches; it is fsynced when
// its segment rolls, not before (Kafka rebuilds the indexes of unflushed segments too). Recovery reads every segment, checking
// every batch's CRC and that offsets run on without a gap (simulated logs are small), and
// rewrites any index file that disagrees with what it read.
import { assert, fail } from '../../sim/assert.ts';
import { type Disk, ProcessExit } from '../../sim/disk.ts';
import { getU32 } from '../big-endian.ts';
import { DurableCell } from '../durable-cell.ts';
import { readStable } from '../stable-read.ts';
import {
  BATCH_BYTES_MAX,
  BATCH_HEADER_BYTES,
  type BatchInput,
  type DecodedBatch,
  decodeBatchAt,
  encodeBatch,
  lastOffsetOf,
  type RecordBatch,
} from './records.ts';

export interface PartitionLogConfig {
  /** Prefix of the partition's files, e.g. `p/k0/`. */
  dir: string;
  /** A new segment is rolled once the active one holds this many bytes. */
  segmentBytes: number;
  /** An index entry per this many bytes of batches. */
  indexIntervalBytes: number;
  /**
   * A compacted log (the offsets partition): `compact` rewrites sealed segments keeping the
   * newest record per key, so offsets may have gaps, which recovery, appends (a follower
   * copying a compacted leader) and reads accept. Off: offsets run on without a gap.
   */
  compacted?: boolean;
  /**
   * Keep a recovery point (Kafka's recovery-point-offset-checkpoint, made strict; see
   * RECOVERY POINTS below): recovery can then tell a synced tail that a media fault damaged
   * from one a crash tore. Off: a damaged last segment is cut as if torn.
   */
  recoveryPoints?: boolean;
}

export const DEFAULT_PARTITION_LOG_CONFIG: Omit<PartitionLogConfig, 'dir'> = {
  segmentBytes: 16 * 1024,
  indexIntervalBytes: 1024,
};

/** One record as a fetch returns it. */
export interface StoredRecord {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Its producer sequence (-1 without a producer id). */
  readonly sequence: number;
  readonly payload: Uint8Array;
  /**
   * The base offset of the batch that holds it here. Replication copies batches as they are,
   * as Kafka does: a follower cuts its log at whole batches, and only the leader's batch
   * boundaries are sure to be boundaries of its own.
   */
  readonly batchBaseOffset: number;
}

export interface EpochEntry {
  readonly epoch: number;
  /** The first offset appended in this epoch. */
  readonly startOffset: number;
}

export type RecoveryStatus =
  | { readonly kind: 'clean' }
  /** The last segment ended in an incomplete or damaged write, cut at `offset`. */
  | {
      readonly kind: 'torn-tail';
      readonly offset: number;
      readonly bytesDropped: number;
      readonly reason: string;
    }
  /**
   * Records that had been durable are damaged from `offset` on (a segment before the last, or
   * the last below its recovery point): the log is left as it is on the disk and refuses use.
   */
  | {
      readonly kind: 'corrupt';
      readonly offset: number;
      readonly file: string;
      readonly reason: string;
    };

export interface Recovery {
  readonly status: RecoveryStatus;
  readonly segments: number;
  /** Index files that disagreed with their segment and were rewritten. */
  readonly indexesRebuilt: number;
}

const INDEX_ENTRY_BYTES = 8;
const CLEANED_SUFFIX = '.cleaned';
/** Compaction reads the log again only once this many segments became cleanable since. */
const COMPACTION_FRESH_SEGMENTS_MIN = 4;
const SEGMENTS_MAX = 4096;
const READ_ATTEMPTS_MAX = 4;
/** Batches one write (chunk) carries at most; the rest wait for the next. */
const CHUNK_BATCHES_MAX = 256;
const FETCH_BATCHES_MAX = 1024;

interface IndexEntry {
  relativeOffset: number;
  position: number;
}

interface Segment {
  readonly baseOffset: number;
  readonly logFile: string;
  readonly indexFile: string;
  /** Bytes of batches written (not necessarily durable). */
  sizeBytes: number;
  /** One past the last offset held. */
  endOffset: number;
  index: IndexEntry[];
  bytesSinceIndex: number;
  /** Shrunk once: never appended to again. */
  sealed: boolean;
}

/** A segment being rewritten by compaction: its cleaned copy, fsynced before it replaces it. */
interface Cleaning {
  readonly segment: Segment;
  readonly file: string;
  readonly syncId: number;
  /** The segment's size when it was read: a truncation since voids the cleaning. */
  readonly sourceBytes: number;
  readonly sizeBytes: number;
  readonly index: IndexEntry[];
  readonly bytesSinceIndex: number;
}

interface SyncRound {
  syncIds: Set<number>;
  /** The log end offset the round makes durable. */
  endOffset: number;
  /** 'data': the log's fsyncs are in flight; 'mark': then the recovery point's save. */
  phase: 'data' | 'mark';
}

// ---- recovery points ---------------------------------------------------------------------------
//
// After a crash only the last chunk can be torn, but a torn last chunk and a synced one that a
// media fault damaged since (bit rot, a misdirected write) look alike: a bad batch with nothing
// after it. Cutting a synced chunk as if torn may drop records this broker acknowledged or
// reported durable to its leader. With `recoveryPoints`, every sync round ends by saving
// "durable through offset E" in a two-slot checksummed cell of the partition's own
// (`recovery-point`), and only then does durableEndOffset move: nothing is handed out beyond E.
// At recovery a bad batch below E, or one next to a damaged cell, is damage to durable data
// (the log refuses); one at or above E was never handed out, and is cut as a crash before its
// fsync would have cut it. One write is in flight at a time — a chunk, a cut or the cell —
// so a crash tears at most one of them, and a torn cell lies beside an intact log. A
// truncation saves the point again before anything is written after the cut, so a point
// left above the cut by an older round never judges the new records.
const RECOVERY_POINT_FILE = 'recovery-point';

function parseRecoveryPoint(body: unknown): number | undefined {
  return Number.isSafeInteger(body) && (body as number) >= 0 ? (body as number) : undefined;
}

function segmentName(dir: string, baseOffset: number, suffix: string): string {
  return `${dir}${String(baseOffset).padStart(20, '0')}${suffix}`;
}

function encodeIndex(entries: readonly IndexEntry[]): Uint8Array {
  const bytes = new Uint8Array(entries.length * INDEX_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  entries.forEach((entry, at) => {
    view.setUint32(at * INDEX_ENTRY_BYTES, entry.relativeOffset);
    view.setUint32(at * INDEX_ENTRY_BYTES + 4, entry.position);
  });
  return bytes;
}

export class PartitionLog {
  private segments: Segment[] = [];
  /** Appended, not yet written to a segment file. */
  private pending: RecordBatch[] = [];
  private epochs: EpochEntry[] = [];
  private round: SyncRound | null = null;
  private cleaning: Cleaning | null = null;
  /** The end of the cleanable segments at compaction's last look at them. */
  private compactionCheckedTo = -1;
  /** Rewrites that look planned and has not started yet, oldest first. */
  private compactionQueue: { segment: Segment; sourceBytes: number; kept: StoredRecord[] }[] = [];
  /** Files written or shrunk since their last fsync. */
  private readonly unsynced = new Set<string>();
  private nextChunk = 1;
  /** The recovery point (recoveryPoints only). */
  private readonly recoveryPoint: DurableCell<number> | undefined;
  /** The offset the recovery point last saved (or recovery read). */
  private marked = 0;
  /** The recovery point must be saved before the next chunk (after a truncation). */
  private markDue = false;
  /**
   * A truncation's cut of a segment file, held back until the recovery point says the cut
   * (recoveryPoints only): a crash during the cut can leave its zeroed sector on the disk
   * under the old file size, and that must read as a torn tail above the point, not damage.
   */
  private deferredCut: { segment: Segment; position: number } | undefined;
  /** Why recovery found durable records damaged: the log is never used then. */
  private damaged: string | undefined;
  private readonly readFromDisk = (file: string, offsetBytes: number, lengthBytes: number) =>
    this.disk.read(file, offsetBytes, lengthBytes);
  private readonly peekAtDisk = (file: string, offsetBytes: number, lengthBytes: number) =>
    this.disk.peek(file, offsetBytes, lengthBytes);
  private logEnd = 0;
  private durableEnd = 0;
  private logStart = 0;
  /** Called whenever durableEndOffset moves up. */
  onDurable: ((durableEndOffset: number) => void) | undefined;

  private constructor(
    private readonly disk: Disk,
    readonly config: PartitionLogConfig,
  ) {
    assert(config.segmentBytes >= 1, 'segments need a positive size');
    assert(config.indexIntervalBytes >= 1, 'the index interval must be positive');
    this.recoveryPoint =
      config.recoveryPoints === true
        ? new DurableCell({ disk }, `${config.dir}${RECOVERY_POINT_FILE}`, parseRecoveryPoint)
        : undefined;
  }

  get logStartOffset(): number {
    return this.logStart;
  }

  get logEndOffset(): number {
    return this.logEnd;
  }

  get durableEndOffset(): number {
    return this.durableEnd;
  }

  /** The leader epoch of the last record, or -1 when the log holds none. */
  get latestEpoch(): number {
    return this.epochs[this.epochs.length - 1]?.epoch ?? -1;
  }

  get epochEntries(): readonly EpochEntry[] {
    return this.epochs;
  }

  /** The base offset of the last segment (where appends go unless it is full or sealed). */
  get activeBaseOffset(): number {
    return this.segments[this.segments.length - 1]?.baseOffset ?? this.logStart;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Bytes in segment files (pending appends not included). */
  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }

  // ---- recovery ----------------------------------------------------------------------------

  /** Opens the partition's log from the disk, cutting a torn tail. */
  static open(disk: Disk, config: PartitionLogConfig): { log: PartitionLog; recovery: Recovery } {
    const log = new PartitionLog(disk, config);
    const recovery = log.recover();
    return { log, recovery };
  }

  private recover(): Recovery {
    const { dir } = this.config;
    for (const name of this.disk.list()) {
      if (name.startsWith(dir) && name.endsWith(CLEANED_SUFFIX)) {
        this.disk.remove(name); // a compaction cut short by the crash: the segment stands
      }
    }
    const bases = this.disk
      .list()
      .filter((name) => name.startsWith(dir) && name.endsWith('.log'))
      .map((name) => name.slice(dir.length, -'.log'.length))
      .filter((base) => /^\d{20}$/.test(base))
      .map(Number)
      .sort((a, b) => a - b);
    assert(bases.length <= SEGMENTS_MAX, `partition ${dir} has too many segments`);
    let status: RecoveryStatus = { kind: 'clean' };
    let indexesRebuilt = 0;
    let maxChunk = 0;
    const point = this.recoveryPoint?.loadChecked();
    for (const [position, baseOffset] of bases.entries()) {
      const last = position === bases.length - 1;
      const segment: Segment = {
        baseOffset,
        logFile: segmentName(dir, baseOffset, '.log'),
        indexFile: segmentName(dir, baseOffset, '.index'),
        sizeBytes: 0,
        endOffset: baseOffset,
        index: [],
        bytesSinceIndex: 0,
        sealed: false,
      };
      const previous = this.segments[this.segments.length - 1];
      // A compacted log copied from a compacted leader may leave a gap between two segments.
      const gap =
        this.config.compacted === true && previous !== undefined && previous.endOffset < baseOffset;
      if (previous !== undefined && previous.endOffset !== baseOffset && !gap) {
        // A gap or an overlap between segments: the files before it were durable in full, so
        // this is damage, not a torn write.
        return this.refuse(
          {
            kind: 'corrupt',
            offset: previous.endOffset,
            file: segment.logFile,
            reason: `segment ${segment.logFile} starts at ${baseOffset}, not at ${previous.endOffset}`,
          },
          indexesRebuilt,
        );
      }
      const bytes = readStable(this.disk, segment.logFile);
      const scan = this.scanSegment(segment, bytes);
      maxChunk = Math.max(maxChunk, scan.maxChunk);
      this.segments.push(segment);
      if (scan.failure !== undefined) {
        const damage = last ? this.tailDamage(segment.endOffset, point) : 'it is not the last';
        if (damage !== undefined) {
          return this.refuse(
            {
              kind: 'corrupt',
              offset: segment.endOffset,
              file: segment.logFile,
              reason: `${scan.failure}, yet ${damage}`,
            },
            indexesRebuilt,
          );
        }
      }
      if (!this.indexMatches(segment)) {
        this.writeIndex(segment);
        indexesRebuilt++;
      }
      if (scan.failure !== undefined) {
        const cut = segment.sizeBytes;
        this.shrink(segment, cut);
        status = {
          kind: 'torn-tail',
          offset: segment.endOffset,
          bytesDropped: bytes.length - cut,
          reason: scan.failure,
        };
        this.removeSegmentsFrom(position + 1, bases);
        break;
      }
    }
    this.nextChunk = maxChunk + 1;
    const first = this.segments[0];
    const lastSegment = this.segments[this.segments.length - 1];
    if (lastSegment !== undefined) {
      // Whether the last segment was cut before the crash is not on disk, and the write
      // numbers start again above the batches kept, not above the cut-off ones that may lie
      // under its end: appends after a restart go to a fresh segment.
      lastSegment.sealed = true;
    }
    this.logStart = first?.baseOffset ?? 0;
    this.logEnd = lastSegment?.endOffset ?? 0;
    this.durableEnd = this.logEnd; // what a crash left on the platter is durable now
    if (this.recoveryPoint !== undefined) {
      // Records above the point were never handed out: not before the point covers them.
      this.marked = point?.value ?? 0;
      this.durableEnd = Math.max(this.logStart, Math.min(this.logEnd, this.marked));
      this.markDue = this.marked !== this.logEnd || point?.intact !== true;
    }
    this.writeNext(); // a cut made here is fsynced before anything is written after it
    return { status, segments: this.segments.length, indexesRebuilt };
  }

  /**
   * Why a bad batch at `offset` in the last segment cannot be a torn tail, if it cannot: it
   * lies below the recovery point, or the point's cell is damaged too (a torn save of the
   * cell leaves the log intact, so a bad batch beside it is a media fault). Undefined: torn.
   */
  private tailDamage(
    offset: number,
    point: { value: number | undefined; intact: boolean } | undefined,
  ): string | undefined {
    if (point === undefined) {
      return undefined; // no recovery points kept: cut as torn
    }
    if (!point.intact) {
      return `the recovery point ${this.config.dir}${RECOVERY_POINT_FILE} is damaged too`;
    }
    if (offset < (point.value ?? 0)) {
      return `the recovery point says the log was durable through offset ${point.value}`;
    }
    return undefined;
  }

  /** Damaged durable records: nothing is cut or rewritten, and the log refuses use. */
  private refuse(status: RecoveryStatus & { kind: 'corrupt' }, indexesRebuilt: number): Recovery {
    this.damaged = status.reason;
    return { status, segments: this.segments.length, indexesRebuilt };
  }

  /** Why recovery refused this log (damaged durable records), or undefined. */
  get damage(): string | undefined {
    return this.damaged;
  }

  /** Reads a segment's batches into its in-memory index and the epoch cache. */
  private scanSegment(
    segment: Segment,
    bytes: Uint8Array,
  ): { failure: string | undefined; maxChunk: number } {
    let at = 0;
    let maxChunk = 0;
    let previous: DecodedBatch | undefined;
    // Each batch consumes at least its header, so this ends within bytes.length steps.
    while (at < bytes.length) {
      const batch = decodeBatchAt(bytes, at);
      if (typeof batch === 'string') {
        return { failure: `${batch} at byte ${at} of ${segment.logFile}`, maxChunk };
      }
      const gap = this.config.compacted === true && batch.baseOffset > segment.endOffset;
      if (batch.baseOffset !== segment.endOffset && !gap) {
        return {
          failure: `batch at byte ${at} of ${segment.logFile} starts at offset ${batch.baseOffset}, not ${segment.endOffset}`,
          maxChunk,
        };
      }
      if (previous !== undefined && batch.chunk < previous.chunk) {
        return {
          failure: `batch at byte ${at} of ${segment.logFile} is from write ${batch.chunk}, older than the one before it (${previous.chunk})`,
          maxChunk,
        };
      }
      if (batch.leaderEpoch < this.latestEpoch) {
        return {
          failure: `batch at byte ${at} of ${segment.logFile} has leader epoch ${batch.leaderEpoch}, below ${this.latestEpoch} before it`,
          maxChunk,
        };
      }
      this.indexBatch(segment, batch, at, batch.sizeBytes);
      this.noteEpoch(batch.leaderEpoch, batch.baseOffset);
      segment.sizeBytes = at + batch.sizeBytes;
      segment.endOffset = lastOffsetOf(batch) + 1;
      maxChunk = Math.max(maxChunk, batch.chunk);
      previous = batch;
      at += batch.sizeBytes;
    }
    return { failure: undefined, maxChunk };
  }

  private indexMatches(segment: Segment): boolean {
    const bytes = this.disk.read(segment.indexFile);
    const expected = encodeIndex(segment.index);
    return bytes.length === expected.length && Buffer.compare(bytes, expected) === 0;
  }

  private writeIndex(segment: Segment): void {
    this.disk.remove(segment.indexFile);
    if (segment.index.length > 0) {
      this.disk.write(segment.indexFile, 0, encodeIndex(segment.index));
    }
  }

  private removeSegmentsFrom(position: number, bases: readonly number[]): void {
    for (const base of bases.slice(position)) {
      this.disk.remove(segmentName(this.config.dir, base, '.log'));
      this.disk.remove(segmentName(this.config.dir, base, '.index'));
    }
  }

  // ---- appends and durability --------------------------------------------------------------

  /**
   * Appends a batch at the log end (a follower passes the leader's base offset, which must be
   * the log end). Returns the offsets it got. Durable once durableEndOffset passes them.
   */
  append(input: BatchInput, baseOffset = this.logEnd): { baseOffset: number; lastOffset: number } {
    if (this.damaged !== undefined) {
      fail(`append to a damaged log (${this.damaged})`);
    }
    if (
      !(baseOffset === this.logEnd || (this.config.compacted === true && baseOffset > this.logEnd))
    ) {
      fail(`append at ${baseOffset}, but the log ends at ${this.logEnd}`);
    }
    assert(input.records.length > 0, 'an append holds at least one record');
    if (input.leaderEpoch < this.latestEpoch) {
      fail(`append in epoch ${input.leaderEpoch} after epoch ${this.latestEpoch}`);
    }
    const batch: RecordBatch = { ...input, baseOffset };
    this.pending.push(batch);
    this.noteEpoch(batch.leaderEpoch, baseOffset);
    this.logEnd = lastOffsetOf(batch) + 1;
    this.writeNext();
    return { baseOffset, lastOffset: this.logEnd - 1 };
  }

  private noteEpoch(epoch: number, offset: number): void {
    if (epoch > this.latestEpoch) {
      this.epochs.push({ epoch, startOffset: offset });
    }
  }

  /**
   * Writes the pending batches as one chunk and fsyncs, unless a write is still in flight. A
   * cut not yet durable goes first, alone: were the next chunk's fsync to finish before the
   * cut's and the node crash between them, the cut-off tail would come back beside it.
   */
  private writeNext(): void {
    if (this.round !== null) {
      return;
    }
    if (this.unsynced.size > 0) {
      this.startSyncRound();
      return;
    }
    if (this.markDue) {
      this.saveRecoveryPoint({
        syncIds: new Set(),
        endOffset: this.segmentsEndOffset(),
        phase: 'mark',
      });
      return;
    }
    if (this.deferredCut !== undefined) {
      const { segment, position } = this.deferredCut;
      this.deferredCut = undefined;
      this.shrink(segment, position);
      this.writeIndex(segment); // its entries were cut in memory already
      this.startSyncRound();
      return;
    }
    if (this.pending.length === 0) {
      return;
    }
    const batches = this.pending.splice(0, CHUNK_BATCHES_MAX);
    const segment = this.activeSegment(batches[0] as RecordBatch);
    const chunk = this.nextChunk++;
    let bytes = 0;
    const parts = batches.map((batch, at) => {
      const part = encodeBatch(batch, chunk, at === batches.length - 1, segment.sizeBytes + bytes);
      bytes += part.length;
      return part;
    });
    const data = new Uint8Array(bytes);
    let at = 0;
    const indexBefore = segment.index.length;
    for (const [position, part] of parts.entries()) {
      data.set(part, at);
      const batch = batches[position] as RecordBatch;
      this.indexBatch(segment, batch, segment.sizeBytes + at, part.length);
      at += part.length;
    }
    this.disk.write(segment.logFile, segment.sizeBytes, data);
    segment.sizeBytes += bytes;
    segment.endOffset = lastOffsetOf(batches[batches.length - 1] as RecordBatch) + 1;
    if (segment.index.length > indexBefore) {
      this.disk.write(
        segment.indexFile,
        indexBefore * INDEX_ENTRY_BYTES,
        encodeIndex(segment.index.slice(indexBefore)),
      );
    }
    this.unsynced.add(segment.logFile);
    this.startSyncRound();
  }

  /** The segment the next chunk goes to: the last one, or a new one when it is full or sealed. */
  private activeSegment(first: RecordBatch): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && !last.sealed && last.sizeBytes < this.config.segmentBytes) {
      return last;
    }
    if (last !== undefined && last.sizeBytes === 0 && last.baseOffset === first.baseOffset) {
      // An empty (sealed) segment where this one would start: replace it with a fresh file.
      this.segments.pop();
      this.disk.remove(last.logFile);
      this.disk.remove(last.indexFile);
    }
    if (last !== undefined && !last.sealed) {
      this.unsynced.add(last.indexFile); // a rolled segment's index is flushed, as Kafka does
    }
    if (this.segments.length >= SEGMENTS_MAX) {
      fail(`partition ${this.config.dir} has too many segments`);
    }
    const segment: Segment = {
      baseOffset: first.baseOffset,
      logFile: segmentName(this.config.dir, first.baseOffset, '.log'),
      indexFile: segmentName(this.config.dir, first.baseOffset, '.index'),
      sizeBytes: 0,
      endOffset: first.baseOffset,
      index: [],
      bytesSinceIndex: 0,
      sealed: false,
    };
    assert(!this.disk.exists(segment.logFile), `segment ${segment.logFile} exists already`);
    this.segments.push(segment);
    return segment;
  }

  private indexBatch(
    segment: Segment,
    batch: RecordBatch,
    position: number,
    sizeBytes: number,
  ): void {
    if (segment.index.length === 0 || segment.bytesSinceIndex >= this.config.indexIntervalBytes) {
      segment.index.push({ relativeOffset: batch.baseOffset - segment.baseOffset, position });
      segment.bytesSinceIndex = 0;
    }
    segment.bytesSinceIndex += sizeBytes;
  }

  /** Fsyncs every file written or shrunk since its last fsync (one round at a time). */
  private startSyncRound(): void {
    if (this.round !== null) {
      return;
    }
    const files = [...this.unsynced].sort();
    this.unsynced.clear();
    const round: SyncRound = {
      syncIds: new Set(),
      endOffset: this.segmentsEndOffset(),
      phase: 'data',
    };
    for (const file of files) {
      if (this.disk.exists(file)) {
        round.syncIds.add(this.disk.fsync(file));
      }
    }
    if (round.syncIds.size > 0) {
      this.round = round;
    } else if (this.recoveryPoint !== undefined && round.endOffset !== this.marked) {
      this.saveRecoveryPoint(round);
    } else {
      this.advanceDurable(round.endOffset);
    }
  }

  /** The round's data is durable: save the recovery point, then let the records out. */
  private saveRecoveryPoint(round: SyncRound): void {
    const cell = this.recoveryPoint;
    assert(cell !== undefined, 'a recovery point is saved only where the log keeps one');
    round.phase = 'mark';
    this.round = round;
    this.markDue = false;
    const point = round.endOffset;
    cell.save(point, () => {
      assert(this.round === round, 'the recovery point was saved for the round in flight');
      this.marked = point;
      // A truncation while the cell was saved cut below what it says: save it again first.
      this.markDue ||= point !== round.endOffset;
      this.round = null;
      this.advanceDurable(round.endOffset);
      this.writeNext();
    });
  }

  private segmentsEndOffset(): number {
    return this.segments[this.segments.length - 1]?.endOffset ?? this.logStart;
  }

  /** An fsync finished; false when it was not this log's. */
  onSynced(syncId: number, ok: boolean): boolean {
    if (this.cleaning?.syncId === syncId) {
      if (!ok) {
        throw new ProcessExit(`fsync of a compacted segment of ${this.config.dir} failed`);
      }
      this.finishCleaning(this.cleaning);
      return true;
    }
    if (this.recoveryPoint?.onSynced(syncId, ok) === true) {
      return true;
    }
    const round = this.round;
    if (round === null || !round.syncIds.has(syncId)) {
      return false;
    }
    if (!ok) {
      // As the Raft group does: after a failed fsync the page cache cannot be trusted.
      throw new ProcessExit(`fsync of partition ${this.config.dir} failed`);
    }
    round.syncIds.delete(syncId);
    if (round.syncIds.size > 0) {
      return true;
    }
    if (this.recoveryPoint !== undefined) {
      this.saveRecoveryPoint(round);
      return true;
    }
    this.round = null;
    this.advanceDurable(round.endOffset);
    this.writeNext();
    return true;
  }

  private advanceDurable(endOffset: number): void {
    const next = Math.min(endOffset, this.logEnd);
    if (next > this.durableEnd) {
      this.durableEnd = next;
      this.onDurable?.(next);
    }
  }

  // ---- truncation and retention ------------------------------------------------------------

  /**
   * Drops every record at or above `offset` (a follower whose log diverged from its leader's),
   * as Kafka does: from the start of the batch holding `offset`, since a batch is the unit on
   * disk; returns the new log end (at most `offset`). The cut is fsynced before anything is
   * written after it.
   */
  truncateTo(offset: number): number {
    assert(Number.isSafeInteger(offset) && offset >= 0, 'truncate to a non-negative offset');
    this.compactionCheckedTo = -1;
    this.compactionQueue = [];
    if (offset >= this.logEnd) {
      return this.logEnd;
    }
    if (offset <= this.logStart) {
      this.truncateFullyAndStartAt(offset);
      return offset;
    }
    let end = offset;
    if (offset < this.segmentsEndOffset()) {
      this.pending = [];
      end = this.truncateSegments(offset);
    } else {
      // Only pending batches (in memory) hold offsets from here on.
      const at = this.pending.findIndex((batch) => lastOffsetOf(batch) >= offset);
      end = (this.pending[at] as RecordBatch).baseOffset;
      this.pending.length = at;
    }
    this.logEnd = end;
    this.durableEnd = Math.min(this.durableEnd, end);
    if (this.round !== null) {
      this.round.endOffset = Math.min(this.round.endOffset, end);
    }
    this.epochs = this.epochs.filter((entry) => entry.startOffset < end);
    this.writeNext();
    return end;
  }

  /** Cuts the segment files at the batch holding `offset`; returns the new end. */
  private truncateSegments(offset: number): number {
    const at = this.segments.findIndex((segment) => segment.endOffset > offset);
    assert(at >= 0, 'a truncation point inside no segment');
    for (const segment of this.segments.slice(at + 1)) {
      this.disk.remove(segment.logFile);
      this.disk.remove(segment.indexFile);
      this.unsynced.delete(segment.logFile);
    }
    this.segments.length = at + 1;
    const segment = this.segments[at] as Segment;
    if (this.deferredCut !== undefined && !this.segments.includes(this.deferredCut.segment)) {
      this.deferredCut = undefined; // its segment is gone whole
    }
    const { position, batch } = this.findBatch(segment, offset);
    if (position === 0 && at > 0 && batch.baseOffset <= offset) {
      // The whole segment goes: remove the file rather than keep an empty sealed one.
      this.disk.remove(segment.logFile);
      this.disk.remove(segment.indexFile);
      this.unsynced.delete(segment.logFile);
      this.segments.length = at;
      if (this.deferredCut?.segment === segment) {
        this.deferredCut = undefined;
      }
      return batch.baseOffset;
    }
    if (this.recoveryPoint !== undefined) {
      // The file is cut once the point says so; reads stop at the new size from now on.
      segment.sizeBytes = position;
      segment.sealed = true;
      segment.index = segment.index.filter((entry) => entry.position < position);
      this.deferredCut = { segment, position };
      this.markDue = true;
    } else {
      this.shrink(segment, position);
    }
    // In a compacted log the batch may start past `offset`, after a gap.
    segment.endOffset = Math.min(batch.baseOffset, offset);
    return segment.endOffset;
  }

  /** Cuts a segment file (and its index) at `position` and seals it. */
  private shrink(segment: Segment, position: number): void {
    this.disk.truncate(segment.logFile, position);
    segment.sizeBytes = position;
    segment.sealed = true;
    const entries = segment.index.filter((entry) => entry.position < position);
    if (entries.length !== segment.index.length) {
      segment.index = entries;
      this.writeIndex(segment);
    }
    this.unsynced.add(segment.logFile);
  }

  /** Empties the log and starts it again at `offset` (a follower far behind its leader's start). */
  truncateFullyAndStartAt(offset: number): void {
    this.deferredCut = undefined;
    for (const segment of this.segments) {
      this.disk.remove(segment.logFile);
      this.disk.remove(segment.indexFile);
    }
    this.unsynced.clear();
    this.pending = [];
    this.epochs = [];
    const segment: Segment = {
      baseOffset: offset,
      logFile: segmentName(this.config.dir, offset, '.log'),
      indexFile: segmentName(this.config.dir, offset, '.index'),
      sizeBytes: 0,
      endOffset: offset,
      index: [],
      bytesSinceIndex: 0,
      sealed: false,
    };
    // An empty file records where the log starts; it is fresh, so no old bytes lie under it.
    this.disk.truncate(segment.logFile, 0);
    this.segments = [segment];
    this.logStart = offset;
    this.logEnd = offset;
    this.durableEnd = offset;
    if (this.round !== null) {
      this.round.endOffset = offset;
    }
    this.markDue ||= this.recoveryPoint !== undefined && this.marked !== offset;
  }

  /**
   * Retention: deletes whole segments from the front while the log is over `bytesMax`, never
   * one holding an offset at or above `keepFrom` (the high watermark, say) and never the last.
   * Returns the new log start offset.
   */
  deleteOldSegments(bytesMax: number, keepFrom: number): number {
    let total = this.sizeBytes;
    return this.deleteFront((oldest) => {
      if (total <= bytesMax || oldest.endOffset > keepFrom) {
        return false;
      }
      total -= oldest.sizeBytes;
      return true;
    });
  }

  /**
   * A follower's log start follows its leader's: deletes the segments wholly below `offset`
   * (never the last). The start may stay below `offset`, at a segment boundary of this log.
   * Returns the new log start offset.
   */
  advanceLogStartTo(offset: number): number {
    return this.deleteFront((oldest) => oldest.endOffset <= offset);
  }

  /** Deletes segments from the front while `deletable` says so, keeping the last. */
  private deleteFront(deletable: (oldest: Segment) => boolean): number {
    for (let guard = 0; guard < SEGMENTS_MAX && this.segments.length > 1; guard++) {
      const oldest = this.segments[0] as Segment;
      if (!deletable(oldest)) {
        break;
      }
      this.segments.shift();
      this.disk.remove(oldest.logFile);
      this.disk.remove(oldest.indexFile);
      this.unsynced.delete(oldest.logFile);
      this.unsynced.delete(oldest.indexFile);
      this.logStart = (this.segments[0] as Segment).baseOffset;
    }
    // The epoch cache keeps the epoch the new start is in, starting at the new start.
    const from = this.epochs.findLastIndex((entry) => entry.startOffset <= this.logStart);
    if (from > 0) {
      this.epochs = this.epochs.slice(from);
    }
    if (this.epochs[0] !== undefined && this.epochs[0].startOffset < this.logStart) {
      this.epochs[0] = { epoch: this.epochs[0].epoch, startOffset: this.logStart };
    }
    return this.logStart;
  }

  // ---- compaction (the offsets partition) ------------------------------------------------

  /**
   * Compaction, one segment at a time: of the segments wholly below `keepFrom` (never the
   * active one), rewrites the oldest holding a record that a newer record of the same key
   * (`keyOf`; undefined: never dropped) below `keepFrom` supersedes, keeping every other
   * record at its offset. A segment's last record and the first record of each leader epoch
   * stay too, so segment bounds and the epoch cache read back the same after a crash. The
   * copy is written beside the segment, fsynced, and only then renamed over it. Returns
   * whether a rewrite started.
   */
  compact(keepFrom: number, keyOf: (payload: Uint8Array) => string | undefined): boolean {
    assert(this.config.compacted === true, 'compaction of a log not configured as compacted');
    if (this.cleaning !== null) {
      return false;
    }
    for (let guard = 0; guard < SEGMENTS_MAX && this.compactionQueue.length > 0; guard++) {
      const next = this.compactionQueue.shift() as (typeof this.compactionQueue)[number];
      if (this.segments.includes(next.segment) && next.segment.sizeBytes === next.sourceBytes) {
        this.startCleaning(next.segment, next.kept);
        return true;
      }
    }
    const cleanable = this.segments
      .slice(0, -1)
      .filter((segment) => segment.endOffset <= keepFrom && segment.sizeBytes > 0);
    const last = cleanable[cleanable.length - 1];
    const fresh = cleanable.filter((segment) => segment.endOffset > this.compactionCheckedTo);
    if (last === undefined || fresh.length < COMPACTION_FRESH_SEGMENTS_MIN) {
      return false; // too little new since the last look to read the log again for
    }
    this.compactionCheckedTo = last.endOffset;
    const records = this.read(this.logStart, Number.MAX_SAFE_INTEGER)?.filter(
      (record) => record.offset < last.endOffset,
    );
    const newest = new Map<string, number>();
    for (const record of records ?? []) {
      const key = record.payload.length === 0 ? undefined : keyOf(record.payload);
      if (key !== undefined) {
        newest.set(key, record.offset);
      }
    }
    const epochStarts = new Set(this.epochs.map((entry) => entry.startOffset));
    for (const segment of cleanable) {
      const held = (records ?? []).filter(
        (record) => record.offset >= segment.baseOffset && record.offset < segment.endOffset,
      );
      const kept = held.filter((record, at) => {
        const key = keyOf(record.payload);
        return (
          key === undefined ||
          newest.get(key) === record.offset ||
          at === held.length - 1 ||
          epochStarts.has(record.offset)
        );
      });
      if (kept.length < held.length) {
        this.compactionQueue.push({ segment, sourceBytes: segment.sizeBytes, kept });
      }
    }
    const first = this.compactionQueue.shift();
    if (first === undefined) {
      return false;
    }
    this.startCleaning(first.segment, first.kept);
    return true;
  }

  private startCleaning(segment: Segment, kept: readonly StoredRecord[]): void {
    const batches: RecordBatch[] = [];
    for (const record of kept) {
      const previous = batches[batches.length - 1];
      if (
        previous !== undefined &&
        previous.leaderEpoch === record.leaderEpoch &&
        lastOffsetOf(previous) + 1 === record.offset &&
        previous.records.length < CHUNK_BATCHES_MAX
      ) {
        (previous.records as Uint8Array[]).push(record.payload);
        continue;
      }
      batches.push({
        baseOffset: record.offset,
        leaderEpoch: record.leaderEpoch,
        producerId: -1,
        producerEpoch: 0,
        baseSequence: -1,
        records: [record.payload],
      });
    }
    const chunk = this.nextChunk - 1; // no newer than what the segments after it hold
    let written = 0; // the cleaned file is written from byte 0
    const parts = batches.map((batch, at) => {
      const part = encodeBatch(batch, Math.max(0, chunk), at === batches.length - 1, written);
      written += part.length;
      return part;
    });
    const data = new Uint8Array(written);
    const shadow: Segment = { ...segment, index: [], bytesSinceIndex: 0, sizeBytes: 0 };
    let at = 0;
    for (const [position, part] of parts.entries()) {
      data.set(part, at);
      this.indexBatch(shadow, batches[position] as RecordBatch, at, part.length);
      at += part.length;
    }
    const file = `${segment.logFile}${CLEANED_SUFFIX}`;
    this.disk.remove(file);
    this.disk.write(file, 0, data);
    this.cleaning = {
      segment,
      file,
      syncId: this.disk.fsync(file),
      sourceBytes: segment.sizeBytes,
      sizeBytes: data.length,
      index: shadow.index,
      bytesSinceIndex: shadow.bytesSinceIndex,
    };
  }

  private finishCleaning(cleaning: Cleaning): void {
    this.cleaning = null;
    const { segment } = cleaning;
    if (!this.segments.includes(segment) || segment.sizeBytes !== cleaning.sourceBytes) {
      this.disk.remove(cleaning.file); // truncated or deleted meanwhile: the copy is stale
      return;
    }
    this.disk.rename(cleaning.file, segment.logFile);
    this.unsynced.delete(segment.logFile);
    segment.sizeBytes = cleaning.sizeBytes;
    segment.index = cleaning.index;
    segment.bytesSinceIndex = cleaning.bytesSinceIndex;
    segment.sealed = true;
    this.writeIndex(segment);
  }

  // ---- reads -------------------------------------------------------------------------------

  /**
   * The records from `fromOffset` on, whole batches up to about `maxBytes` (at least one
   * batch), from the segment files and then the pending appends. Undefined when `fromOffset`
   * is outside [logStartOffset, logEndOffset]. Reads are checked: a batch that fails its CRC
   * is read again; one that never reads right stops the process.
   */
  read(fromOffset: number, maxBytes: number): StoredRecord[] | undefined {
    if (fromOffset < this.logStart || fromOffset > this.logEnd) {
      return undefined;
    }
    const out: StoredRecord[] = [];
    let bytes = 0;
    let next = fromOffset;
    for (const segment of this.segments) {
      if (segment.endOffset <= next) {
        continue;
      }
      let { position } = this.indexLookup(segment, next);
      for (let guard = 0; guard < FETCH_BATCHES_MAX && position < segment.sizeBytes; guard++) {
        if (bytes >= maxBytes && out.length > 0) {
          return out;
        }
        const batch = this.readBatch(segment, position);
        position += batch.sizeBytes;
        if (lastOffsetOf(batch) < next) {
          continue;
        }
        bytes += batch.sizeBytes;
        next = this.collect(batch, next, out);
      }
    }
    for (const batch of this.pending) {
      if (bytes >= maxBytes && out.length > 0) {
        break;
      }
      if (lastOffsetOf(batch) < next) {
        continue;
      }
      bytes += BATCH_HEADER_BYTES + batch.records.reduce((sum, record) => sum + record.length, 0);
      next = this.collect(batch, next, out);
    }
    return out;
  }

  /**
   * The record at `offset` as the files hold it now, for checkers (`Disk.peek`: no faults, no
   * retries, no exit, nothing drawn): undefined when the log does not hold it, or when what
   * is stored there no longer decodes (a media fault the broker has not read back yet).
   */
  peekRecord(offset: number): StoredRecord | undefined {
    if (offset < this.logStart || offset >= this.logEnd) {
      return undefined;
    }
    const found: StoredRecord[] = [];
    for (const segment of this.segments) {
      if (segment.endOffset <= offset) {
        continue;
      }
      let { position } = this.indexLookup(segment, offset);
      for (let guard = 0; guard < FETCH_BATCHES_MAX && position < segment.sizeBytes; guard++) {
        const batch = this.batchAt(segment, position, this.peekAtDisk);
        if (typeof batch === 'string') {
          return undefined;
        }
        if (lastOffsetOf(batch) >= offset) {
          this.collect(batch, offset, found);
          return found[0]?.offset === offset ? found[0] : undefined;
        }
        position += batch.sizeBytes;
      }
      return undefined;
    }
    for (const batch of this.pending) {
      if (lastOffsetOf(batch) >= offset) {
        this.collect(batch, offset, found);
        return found[0]?.offset === offset ? found[0] : undefined;
      }
    }
    return undefined;
  }

  private collect(batch: RecordBatch, from: number, out: StoredRecord[]): number {
    for (const [at, payload] of batch.records.entries()) {
      const offset = batch.baseOffset + at;
      if (offset < from) {
        continue;
      }
      out.push({
        offset,
        leaderEpoch: batch.leaderEpoch,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        sequence: batch.producerId < 0 ? -1 : batch.baseSequence + at,
        payload,
        batchBaseOffset: batch.baseOffset,
      });
    }
    return lastOffsetOf(batch) + 1;
  }

  /** The last index entry at or below `offset`. */
  private indexLookup(segment: Segment, offset: number): IndexEntry {
    const relative = offset - segment.baseOffset;
    let low = 0;
    let high = segment.index.length - 1;
    let found: IndexEntry = { relativeOffset: 0, position: 0 };
    while (low <= high) {
      const middle = (low + high) >> 1;
      const entry = segment.index[middle] as IndexEntry;
      if (entry.relativeOffset <= relative) {
        found = entry;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** The batch at `position`, read with `read` (the disk's read, or its peek for checkers). */
  private batchAt(
    segment: Segment,
    position: number,
    read: (file: string, offsetBytes: number, lengthBytes: number) => Uint8Array,
  ): DecodedBatch | string {
    const header = read(segment.logFile, position, BATCH_HEADER_BYTES);
    const length = header.length === BATCH_HEADER_BYTES ? getU32(header, 0) : 0;
    const sizeBytes = Math.min(
      BATCH_HEADER_BYTES + length,
      BATCH_BYTES_MAX,
      segment.sizeBytes - position,
    );
    return decodeBatchAt(read(segment.logFile, position, sizeBytes), 0, position);
  }

  private readBatch(segment: Segment, position: number): DecodedBatch {
    let reason = '';
    for (let attempt = 0; attempt < READ_ATTEMPTS_MAX; attempt++) {
      const batch = this.batchAt(segment, position, this.readFromDisk);
      if (typeof batch !== 'string') {
        return batch;
      }
      reason = batch; // a flipped bit on the way: read it again
    }
    throw new ProcessExit(
      `${segment.logFile} at byte ${position} never reads back valid: ${reason}`,
    );
  }

  private findBatch(segment: Segment, offset: number): { position: number; batch: DecodedBatch } {
    let { position } = this.indexLookup(segment, offset);
    for (
      let guard = 0;
      guard < SEGMENTS_MAX * FETCH_BATCHES_MAX && position < segment.sizeBytes;
      guard++
    ) {
      const batch = this.readBatch(segment, position);
      if (lastOffsetOf(batch) >= offset) {
        return { position, batch };
      }
      position += batch.sizeBytes;
    }
    fail(`offset ${offset} is in no batch of ${segment.logFile}`);
  }

  // ---- leader epochs (KIP-101) -------------------------------------------------------------

  /**
   * What a leader answers a follower's OffsetsForLeaderEpoch request: the largest epoch it
   * knows at or below `epoch`, and the offset where that epoch ended here (the start of the
   * next epoch, or the log end for the latest). {-1, -1} when it knows none.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    const at = this.epochs.findLastIndex((entry) => entry.epoch <= epoch);
    if (at < 0) {
      return { epoch: -1, endOffset: -1 };
    }
    const entry = this.epochs[at] as EpochEntry;
    const next = this.epochs[at + 1];
    return { epoch: entry.epoch, endOffset: next === undefined ? this.logEnd : next.startOffset };
  }
}
