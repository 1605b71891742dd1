// The database's write-ahead log on the simulated disk.
//
// Record layout (big-endian):  length u32 | crc32c u32 | body (length bytes)
//   body = kind u8 | flags u8 (bit 0: last record of its chunk) | chunk u32 | lsn u64
//          | index u32 | payload (msgpack)
//   kind 1, a write:  payload [table, key, value]   (value null: a delete)
//   kind 2, a commit: payload [txId, count]         (count: the writes before it)
// A transaction is its writes, with index 0 … n−1, then its commit record with index n, all
// at the transaction's commit LSN; LSNs run 1, 2, 3, … one per committed transaction (a
// read-only one too: its commit record is what makes its answer wait for durability).
//
// Group commit: commits collect in a queue; while no fsync is in flight the queue is written
// as one chunk (whole transactions, the last record flagged) and fsynced; commits arriving
// meanwhile ride the next chunk, written once that fsync completes. So at most one chunk is
// ever unsynced, and after a crash only the last chunk of the last file can be torn — in any
// sector order, so valid records of that same chunk may follow the hole. A bad record followed
// by a valid record of another chunk cannot come from a torn write: that is damaged durable
// data, and recovery refuses it rather than apply or cut it. Recovery keeps whole chunks only.
//
// Chunks are numbered 1, 2, … within each file. Files `${dir}${generation, 10 digits}.log`. A file is only ever appended to: when recovery
// cuts a torn tail it does not truncate (on this disk a truncated sector keeps its old bytes
// underneath, and a later torn write could bring a cut record back); it leaves the tail where
// it is and starts the next generation's file, whose first LSN must continue the previous
// file's last. A gap in LSNs between files means durable data went missing: refused.
// Limitation: damage inside the very last durable chunk of the last file looks like a torn
// tail and is cut (as for Raft's log): nothing after it tells the two apart.
import { decode, encode } from '@msgpack/msgpack';

import { assert, fail } from '../../sim/assert.ts';
import { type Disk, DiskReadError } from '../../sim/disk.ts';
import { readStable } from '../stable-read.ts';
import { crc32c } from './crc32c.ts';
import type { DbValue } from './db-protocol.ts';

export const RECORD_HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 1 + 1 + 4 + 8 + 4;
/** One record at most (a value's size is checked against it before it is accepted). */
export const RECORD_BYTES_MAX = 64 * 1024;
const KIND_WRITE = 1;
const KIND_COMMIT = 2;
const FLAG_LAST_OF_CHUNK = 1;
const TWO_32 = 2 ** 32;
/** Transactions one chunk carries at most; the rest wait for the next. */
export const CHUNK_TXS_MAX = 64;
/** Commits waiting for durability at most (the node answers 'busy' beyond). */
export const QUEUED_TXS_MAX = 1024;
const WAL_FILES_MAX = 1000;

export interface WalWrite {
  readonly table: string;
  readonly key: string;
  readonly value: DbValue;
}

export interface WalTx {
  readonly lsn: number;
  readonly txId: string;
  readonly writes: readonly WalWrite[];
}

export type WalRecord =
  | {
      readonly kind: 'write';
      readonly lsn: number;
      readonly index: number;
      readonly write: WalWrite;
    }
  | {
      readonly kind: 'commit';
      readonly lsn: number;
      readonly index: number;
      readonly txId: string;
      readonly count: number;
    };

interface Parsed {
  readonly record: WalRecord;
  readonly chunk: number;
  readonly last: boolean;
  readonly end: number;
}

// ---- encoding ---------------------------------------------------------------------------------

function encodeRecord(record: WalRecord, chunk: number, last: boolean): Uint8Array {
  const payload =
    record.kind === 'write'
      ? encode([record.write.table, record.write.key, record.write.value])
      : encode([record.txId, record.count]);
  const length = BODY_FIXED_BYTES + payload.length;
  if (RECORD_HEADER_BYTES + length > RECORD_BYTES_MAX) {
    fail(`a WAL record of ${RECORD_HEADER_BYTES + length} bytes is over the limit`);
  }
  const bytes = new Uint8Array(RECORD_HEADER_BYTES + length);
  const view = new DataView(bytes.buffer);
  const body = RECORD_HEADER_BYTES;
  view.setUint8(body, record.kind === 'write' ? KIND_WRITE : KIND_COMMIT);
  view.setUint8(body + 1, last ? FLAG_LAST_OF_CHUNK : 0);
  view.setUint32(body + 2, chunk);
  assert(Number.isSafeInteger(record.lsn) && record.lsn >= 1, 'an LSN is a positive integer');
  view.setUint32(body + 6, Math.floor(record.lsn / TWO_32));
  view.setUint32(body + 10, record.lsn % TWO_32);
  view.setUint32(body + 14, record.index);
  bytes.set(payload, body + BODY_FIXED_BYTES);
  view.setUint32(0, length);
  view.setUint32(4, crc32c(bytes.subarray(body)));
  return bytes;
}

/** The records of one transaction, in log order. */
export function txRecords(tx: WalTx): WalRecord[] {
  const records: WalRecord[] = tx.writes.map((write, index) => ({
    kind: 'write',
    lsn: tx.lsn,
    index,
    write,
  }));
  records.push({
    kind: 'commit',
    lsn: tx.lsn,
    index: tx.writes.length,
    txId: tx.txId,
    count: tx.writes.length,
  });
  return records;
}

/** One chunk: whole transactions, its last record flagged. */
export function encodeChunk(txs: readonly WalTx[], chunk: number): Uint8Array {
  assert(txs.length > 0, 'a chunk holds at least one transaction');
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [txAt, tx] of txs.entries()) {
    const records = txRecords(tx);
    for (const [at, record] of records.entries()) {
      const part = encodeRecord(
        record,
        chunk,
        txAt === txs.length - 1 && at === records.length - 1,
      );
      parts.push(part);
      total += part.length;
    }
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** The bytes a write takes in the log (to refuse an oversized put when it is made). */
export function writeRecordBytes(write: WalWrite): number {
  return (
    RECORD_HEADER_BYTES + BODY_FIXED_BYTES + encode([write.table, write.key, write.value]).length
  );
}

// ---- decoding ---------------------------------------------------------------------------------

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** The record at `at`, or why there is no valid one there. */
function parseRecord(bytes: Uint8Array, at: number): Parsed | string {
  if (at + RECORD_HEADER_BYTES > bytes.length) {
    return 'partial record header';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(at);
  if (length < BODY_FIXED_BYTES || RECORD_HEADER_BYTES + length > RECORD_BYTES_MAX) {
    return `implausible record length ${length}`;
  }
  const end = at + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) {
    return 'record runs past the end of the file';
  }
  const body = at + RECORD_HEADER_BYTES;
  if (crc32c(bytes.subarray(body, end)) !== view.getUint32(at + 4)) {
    return 'checksum mismatch';
  }
  const kind = view.getUint8(body);
  const flags = view.getUint8(body + 1);
  const chunk = view.getUint32(body + 2);
  const lsn = view.getUint32(body + 6) * TWO_32 + view.getUint32(body + 10);
  const index = view.getUint32(body + 14);
  let payload: unknown;
  try {
    payload = decode(bytes.subarray(body + BODY_FIXED_BYTES, end));
  } catch {
    return 'payload is not msgpack';
  }
  if (!Array.isArray(payload) || lsn < 1 || (flags & ~FLAG_LAST_OF_CHUNK) !== 0) {
    return 'malformed record';
  }
  const last = (flags & FLAG_LAST_OF_CHUNK) !== 0;
  if (kind === KIND_WRITE) {
    const [table, key, value] = payload as unknown[];
    if (payload.length !== 3 || !isString(table) || !isString(key) || value === undefined) {
      return 'malformed write record';
    }
    return {
      record: { kind: 'write', lsn, index, write: { table, key, value: value as DbValue } },
      chunk,
      last,
      end,
    };
  }
  if (kind === KIND_COMMIT) {
    const [txId, count] = payload as unknown[];
    if (payload.length !== 2 || !isString(txId) || typeof count !== 'number') {
      return 'malformed commit record';
    }
    return { record: { kind: 'commit', lsn, index, txId, count }, chunk, last, end };
  }
  return `unknown record kind ${kind}`;
}

export type FileStatus =
  | { readonly kind: 'clean' }
  /** An incomplete last chunk from `offset` on (nothing of another chunk follows it). */
  | { readonly kind: 'torn-tail'; readonly offset: number; readonly reason: string }
  /** Durable data is damaged at `offset`: valid records of another chunk follow. */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

export interface DecodedFile {
  /** The transactions of whole chunks, in log order. */
  readonly txs: readonly WalTx[];
  /** Bytes of whole chunks. */
  readonly validBytes: number;
  /** The first and last chunk numbers kept (0 when none). */
  readonly firstChunk: number;
  readonly lastChunk: number;
  /** The chunk number the damaged tail belonged to (0: clean). */
  readonly tornChunk: number;
  readonly status: FileStatus;
}

/** Decodes one WAL file, keeping whole chunks and classifying whatever follows them. */
export function decodeWalFile(bytes: Uint8Array): DecodedFile {
  const txs: WalTx[] = [];
  let chunkTxs: WalTx[] = [];
  let writes: WalWrite[] = [];
  let offset = 0;
  let validBytes = 0;
  let firstChunk = 0;
  let lastChunk = 0; // of the last whole chunk
  let chunk = 0; // of the last good record
  let chunkOpen = false;
  let expectedLsn = 0; // 0: the first record of the file sets it
  let expectedIndex = 0;
  let failure = '';
  // Each iteration consumes at least one record header, so this ends within bytes.length steps.
  while (offset < bytes.length) {
    const parsed = parseRecord(bytes, offset);
    if (typeof parsed === 'string') {
      failure = parsed;
      break;
    }
    const { record } = parsed;
    if (parsed.chunk !== (chunkOpen ? chunk : chunk + 1)) {
      failure = `a record of chunk ${parsed.chunk} where chunk ${chunkOpen ? chunk : chunk + 1} was expected`;
      break;
    }
    if (
      expectedLsn === 0
        ? record.index !== 0
        : record.lsn !== expectedLsn || record.index !== expectedIndex
    ) {
      failure = `record (${record.lsn}, ${record.index}) out of sequence`;
      break;
    }
    if (record.kind === 'commit' ? record.count !== record.index : parsed.last) {
      failure = `a malformed transaction at LSN ${record.lsn}`;
      break;
    }
    chunk = parsed.chunk;
    offset = parsed.end;
    if (record.kind === 'write') {
      expectedLsn = record.lsn;
      expectedIndex = record.index + 1;
      writes.push(record.write);
    } else {
      chunkTxs.push({ lsn: record.lsn, txId: record.txId, writes });
      writes = [];
      expectedLsn = record.lsn + 1;
      expectedIndex = 0;
    }
    chunkOpen = !parsed.last;
    if (parsed.last) {
      txs.push(...chunkTxs);
      chunkTxs = [];
      validBytes = offset;
      firstChunk = firstChunk === 0 ? chunk : firstChunk;
      lastChunk = chunk;
    }
  }
  if (offset === bytes.length && !chunkOpen) {
    return { txs, validBytes, firstChunk, lastChunk, tornChunk: 0, status: { kind: 'clean' } };
  }
  const reason = failure === '' ? 'the last chunk is incomplete' : failure;
  // The chunk the damage is in: the open one, or the one after the last whole one.
  const tornChunk = chunkOpen ? chunk : chunk + 1;
  for (let at = validBytes + 1; at + RECORD_HEADER_BYTES + BODY_FIXED_BYTES <= bytes.length; at++) {
    const later = parseRecord(bytes, at);
    if (typeof later === 'string') {
      continue;
    }
    if (later.chunk !== tornChunk) {
      return {
        txs,
        validBytes,
        firstChunk,
        lastChunk,
        tornChunk,
        status: {
          kind: 'corrupt',
          offset: validBytes,
          reason: `${reason} at byte ${offset}, yet a record of chunk ${later.chunk} follows it at byte ${at}`,
        },
      };
    }
  }
  return {
    txs,
    validBytes,
    firstChunk,
    lastChunk,
    tornChunk,
    status: { kind: 'torn-tail', offset: validBytes, reason: `${reason} at byte ${offset}` },
  };
}

// ---- recovery ---------------------------------------------------------------------------------

export function walFileName(dir: string, generation: number): string {
  return `${dir}${String(generation).padStart(10, '0')}.log`;
}

/** Where recovery found damaged durable data; the node must not start from it. */
export interface WalRefusal {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

export interface WalRecovered {
  /** Every transaction of whole chunks, in LSN order (1, 2, …). */
  readonly txs: readonly WalTx[];
  /** The WAL files read, in order. */
  readonly files: readonly string[];
  /** The torn tail of the last file, left where it is (the next writes go to a new file). */
  readonly cut: {
    readonly file: string;
    readonly offset: number;
    readonly bytes: number;
    readonly reason: string;
  } | null;
  /** The file the next chunk is appended to, and that chunk's number. */
  readonly nextFile: string;
  readonly nextChunk: number;
}

/**
 * Decodes a WAL from its files' bytes (`read` gives one file's bytes). Pure: the node runs it
 * on what it reads, checkers on the disk's durable images.
 */
export function recoverWalFiles(
  dir: string,
  names: readonly string[],
  read: (name: string) => Uint8Array,
): WalRecovered | WalRefusal {
  const files = names
    .filter((name) => name.startsWith(dir) && /^\d{10}\.log$/.test(name.slice(dir.length)))
    .sort();
  if (files.length > WAL_FILES_MAX) {
    return {
      file: dir,
      offset: 0,
      reason: `${files.length} WAL files, more than ${WAL_FILES_MAX}`,
    };
  }
  const txs: WalTx[] = [];
  let lastChunk = 0;
  let lastFileCut: WalRecovered['cut'] = null;
  for (const [at, file] of files.entries()) {
    const bytes = read(file);
    const decoded = decodeWalFile(bytes);
    if (decoded.status.kind === 'corrupt') {
      return { file, offset: decoded.status.offset, reason: decoded.status.reason };
    }
    const first = decoded.txs[0];
    const expectedLsn = txs.length + 1;
    if (first !== undefined && first.lsn !== expectedLsn) {
      return {
        file,
        offset: 0,
        reason: `the file starts at LSN ${first.lsn} where LSN ${expectedLsn} was expected: durable transactions are missing`,
      };
    }
    txs.push(...decoded.txs);
    lastChunk = decoded.lastChunk;
    lastFileCut =
      decoded.status.kind === 'torn-tail' && at === files.length - 1
        ? {
            file,
            offset: decoded.status.offset,
            bytes: bytes.length - decoded.status.offset,
            reason: decoded.status.reason,
          }
        : null;
  }
  const lastFile = files[files.length - 1];
  const generation = lastFile === undefined ? 0 : Number(lastFile.slice(dir.length, -4));
  const nextFile =
    lastFile !== undefined && lastFileCut === null ? lastFile : walFileName(dir, generation + 1);
  const nextChunk = nextFile === lastFile ? lastChunk + 1 : 1;
  return { txs, files, cut: lastFileCut, nextFile, nextChunk };
}

export function isWalRefusal(result: WalRecovered | WalRefusal): result is WalRefusal {
  return 'reason' in result && !('txs' in result);
}

// ---- the log a node appends to ------------------------------------------------------------------

export type SyncOutcome =
  /** The fsync made these transactions durable, in LSN order. */
  | { readonly kind: 'durable'; readonly txs: readonly WalTx[] }
  /** The fsync failed: its writes may be gone; the process must give up (as PostgreSQL does). */
  | { readonly kind: 'failed' }
  /** Not this log's fsync. */
  | { readonly kind: 'foreign' };

export class Wal {
  private readonly queue: WalTx[] = [];
  /** The chunk written and not yet durable; syncId −1 while its fsync is deferred. */
  private inFlight: { syncId: number; txs: WalTx[] } | null = null;
  private deferring = false;
  private appendedLsn: number;
  private durableLsn: number;
  private nextChunk: number;
  /** Chunks written and fsyncs issued by this incarnation. */
  chunksWritten = 0;

  constructor(
    private readonly disk: Disk,
    private file: string,
    endLsn: number,
    nextChunk: number,
  ) {
    this.appendedLsn = endLsn;
    this.durableLsn = endLsn;
    this.nextChunk = nextChunk;
  }

  /** Reads and decodes the WAL under `dir`; a latent sector error is a refusal too. */
  static recover(disk: Disk, dir: string): WalRecovered | WalRefusal {
    let failedRead: WalRefusal | null = null;
    const result = recoverWalFiles(dir, disk.list(), (name) => {
      try {
        return failedRead === null ? readStable(disk, name) : new Uint8Array(0);
      } catch (error) {
        if (error instanceof DiskReadError) {
          failedRead = { file: name, offset: 0, reason: error.message };
          return new Uint8Array(0);
        }
        throw error;
      }
    });
    return failedRead ?? result;
  }

  /** The LSN of the last transaction appended (durable or not). */
  get endLsn(): number {
    return this.appendedLsn;
  }

  /** The LSN of the last durable transaction. */
  get durableEndLsn(): number {
    return this.durableLsn;
  }

  /** Transactions appended and not yet durable. */
  get undurable(): number {
    return this.queue.length + (this.inFlight?.txs.length ?? 0);
  }

  get currentFile(): string {
    return this.file;
  }

  canAppend(): boolean {
    return this.queue.length < QUEUED_TXS_MAX;
  }

  /** Queues a committed transaction; it rides the next chunk. */
  append(tx: WalTx): void {
    if (tx.lsn !== this.appendedLsn + 1) {
      fail(`WAL append of LSN ${tx.lsn} after ${this.appendedLsn}`);
    }
    assert(this.canAppend(), 'the WAL queue is full');
    this.queue.push(tx);
    this.appendedLsn = tx.lsn;
    if (this.inFlight === null) {
      this.writeChunk();
    }
  }

  /**
   * Whether the chunk written last waits for `startFsync` (set by `deferFsync`): what a WAL
   * writer that writes to the page cache eagerly and flushes a little later does, which leaves
   * written, unsynced WAL for a crash to tear.
   */
  get fsyncDeferred(): boolean {
    return this.inFlight !== null && this.inFlight.syncId < 0;
  }

  /** The next chunk written waits for startFsync() instead of fsyncing at once. */
  deferNextFsync(): void {
    this.deferring = true;
  }

  startFsync(): void {
    const flight = this.inFlight;
    assert(flight !== null && flight.syncId < 0, 'no chunk waits for its fsync');
    flight.syncId = this.disk.fsync(this.file);
  }

  onSynced(syncId: number, ok: boolean): SyncOutcome {
    const flight = this.inFlight;
    if (flight === null || flight.syncId !== syncId || syncId < 0) {
      return { kind: 'foreign' };
    }
    this.inFlight = null;
    if (!ok) {
      return { kind: 'failed' };
    }
    const last = flight.txs[flight.txs.length - 1] as WalTx;
    this.durableLsn = last.lsn;
    if (this.queue.length > 0) {
      this.writeChunk();
    }
    return { kind: 'durable', txs: flight.txs };
  }

  private writeChunk(): void {
    assert(this.inFlight === null, 'one chunk in flight at a time');
    const txs = this.queue.splice(0, CHUNK_TXS_MAX);
    this.disk.append(this.file, encodeChunk(txs, this.nextChunk));
    this.nextChunk++;
    this.chunksWritten++;
    const deferred = this.deferring;
    this.deferring = false;
    this.inFlight = { syncId: deferred ? -1 : this.disk.fsync(this.file), txs };
  }
}
