// Record batches as a partition log stores them on disk, after Kafka's v2 batch: one header
// for a run of records with consecutive offsets, the leader epoch that appended them (what
// KIP-101's truncation by epoch reads back), the idempotent producer's id, epoch and first
// sequence, and a CRC over all of it.
//
// Layout (big-endian):  length u32 | crc32 u32 | body (length bytes)
//   body = magic u8 | flags u8 | chunk u32 | baseOffset u64 | leaderEpoch u32
//          | producerId+1 u64 (0: none) | producerEpoch u16 | baseSequence i32
//          | count u32 | count × (length u32 | payload)
// `chunk` numbers the log's writes: a partition log writes its next chunk only once the
// previous one is durable, so after a crash only the last chunk can be torn (flags bit 0 marks
// the last batch of a chunk). Recovery uses that to tell a torn tail from damaged durable data.
// The stored CRC is the body's seeded with the batch's byte position in its segment (as ext4's
// metadata_csum seeds a block's with its inode): a whole, valid batch misdirected onto another
// sector of the file reads back bad there. Without it, recovery of a compacted log (which
// allows gaps between offsets) took a later batch landed on sector 0 for the log's start and
// cut the acknowledged records before it as a torn tail.
import { assert, fail } from '../../sim/assert.ts';
import { getI32, getU8, getU16, getU32, getU64 } from '../big-endian.ts';
import { crc32 } from '../raft/codec.ts';

export const BATCH_HEADER_BYTES = 8;
const MAGIC = 2;
const BODY_FIXED_BYTES = 1 + 1 + 4 + 8 + 4 + 8 + 2 + 4 + 4;
export const BATCH_BYTES_MAX = 1024 * 1024;
const RECORDS_PER_BATCH_MAX = 4096;
const FLAG_LAST_OF_CHUNK = 1;
const TWO_32 = 2 ** 32;

/** What a producer (or a replicating follower) hands the log: records and their producer. */
export interface BatchInput {
  readonly leaderEpoch: number;
  /** -1: not from an idempotent producer. */
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The sequence of the first record (-1 without a producer id). */
  readonly baseSequence: number;
  readonly records: readonly Uint8Array[];
}

/** A batch as it sits in the log, offsets assigned. */
export interface RecordBatch extends BatchInput {
  readonly baseOffset: number;
}

export interface DecodedBatch extends RecordBatch {
  readonly chunk: number;
  readonly lastOfChunk: boolean;
  /** Bytes the batch takes on disk, header included. */
  readonly sizeBytes: number;
}

export function lastOffsetOf(batch: RecordBatch): number {
  return batch.baseOffset + batch.records.length - 1;
}

function setU64(view: DataView, at: number, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    fail(`u64 field out of range: ${value}`);
  }
  view.setUint32(at, Math.floor(value / TWO_32));
  view.setUint32(at + 4, value % TWO_32);
}

const positionBytes = new Uint8Array(4);
const positionView = new DataView(positionBytes.buffer);

/**
 * The CRC a batch stores: its body's, XORed with the CRC of its position (u32). CRC-32 over
 * 32 bits is a bijection, so any two positions give different seeds: a batch read anywhere
 * but where it was written fails its check, while bit rot is caught as by the plain CRC.
 */
function batchChecksum(body: Uint8Array, position: number): number {
  assert(Number.isSafeInteger(position) && position >= 0 && position < TWO_32, 'a batch position');
  positionView.setUint32(0, position);
  return (crc32(body) ^ crc32(positionBytes)) >>> 0;
}

/** Encodes a batch to be written at byte `position` of its segment file. */
export function encodeBatch(
  batch: RecordBatch,
  chunk: number,
  lastOfChunk: boolean,
  position: number,
): Uint8Array {
  assert(batch.records.length > 0, 'a batch holds at least one record');
  assert(batch.records.length <= RECORDS_PER_BATCH_MAX, 'too many records in one batch');
  let bodyBytes = BODY_FIXED_BYTES;
  for (const record of batch.records) {
    bodyBytes += 4 + record.length;
  }
  assert(bodyBytes + BATCH_HEADER_BYTES <= BATCH_BYTES_MAX, 'a batch over the size limit');
  const bytes = new Uint8Array(BATCH_HEADER_BYTES + bodyBytes);
  const view = new DataView(bytes.buffer);
  let at = BATCH_HEADER_BYTES;
  view.setUint8(at, MAGIC);
  view.setUint8(at + 1, lastOfChunk ? FLAG_LAST_OF_CHUNK : 0);
  view.setUint32(at + 2, chunk);
  setU64(view, at + 6, batch.baseOffset);
  view.setUint32(at + 14, batch.leaderEpoch);
  setU64(view, at + 18, batch.producerId + 1);
  view.setUint16(at + 26, batch.producerEpoch);
  view.setInt32(at + 28, batch.baseSequence);
  view.setUint32(at + 32, batch.records.length);
  at += BODY_FIXED_BYTES;
  for (const record of batch.records) {
    view.setUint32(at, record.length);
    bytes.set(record, at + 4);
    at += 4 + record.length;
  }
  view.setUint32(0, bodyBytes);
  view.setUint32(4, batchChecksum(bytes.subarray(BATCH_HEADER_BYTES), position));
  return bytes;
}

/**
 * The batch at `at` in `bytes`, or why there is no valid batch there (short, implausible
 * length, checksum mismatch — also a batch written at another position — malformed body).
 * `filePosition`: where `bytes[at]` lies in the segment file (`at` when `bytes` is the file).
 */
export function decodeBatchAt(
  bytes: Uint8Array,
  at: number,
  filePosition: number = at,
): DecodedBatch | string {
  if (at + BATCH_HEADER_BYTES > bytes.length) {
    return 'partial batch header';
  }
  const length = getU32(bytes, at);
  if (length < BODY_FIXED_BYTES || length + BATCH_HEADER_BYTES > BATCH_BYTES_MAX) {
    return `implausible batch length ${length}`;
  }
  const end = at + BATCH_HEADER_BYTES + length;
  if (end > bytes.length) {
    return 'batch runs past the end of the file';
  }
  if (
    batchChecksum(bytes.subarray(at + BATCH_HEADER_BYTES, end), filePosition) !==
    getU32(bytes, at + 4)
  ) {
    return 'checksum mismatch';
  }
  const body = at + BATCH_HEADER_BYTES;
  if (getU8(bytes, body) !== MAGIC) {
    return `unknown batch magic ${getU8(bytes, body)}`;
  }
  const count = getU32(bytes, body + 32);
  if (count === 0 || count > RECORDS_PER_BATCH_MAX) {
    return `implausible record count ${count}`;
  }
  const records: Uint8Array[] = [];
  let position = body + BODY_FIXED_BYTES;
  for (let index = 0; index < count; index++) {
    if (position + 4 > end) {
      return 'record runs past its batch';
    }
    const recordBytes = getU32(bytes, position);
    if (position + 4 + recordBytes > end) {
      return 'record runs past its batch';
    }
    records.push(bytes.slice(position + 4, position + 4 + recordBytes));
    position += 4 + recordBytes;
  }
  if (position !== end) {
    return 'bytes left over after the last record';
  }
  return {
    chunk: getU32(bytes, body + 2),
    lastOfChunk: (getU8(bytes, body + 1) & FLAG_LAST_OF_CHUNK) !== 0,
    baseOffset: getU64(bytes, body + 6),
    leaderEpoch: getU32(bytes, body + 14),
    producerId: getU64(bytes, body + 18) - 1,
    producerEpoch: getU16(bytes, body + 26),
    baseSequence: getI32(bytes, body + 28),
    records,
    sizeBytes: end - at,
  };
}
