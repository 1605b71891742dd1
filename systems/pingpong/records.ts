// The pingpong server's write-ahead log: one record per accepted ping, each
// [length u32][crc32 u32][client u32][sequence u32][value u32], little-endian.
// Recovery keeps the longest prefix of intact records; whatever follows it (a torn tail, a
// corrupted record) is cut off.
import { crc32 } from 'node:zlib';

import { assert } from '../../sim/assert.ts';

export const RECORD_SIZE_BYTES = 20;
const PAYLOAD_SIZE_BYTES = 12;

export interface PingRecord {
  client: number;
  sequence: number;
  value: number;
}

/** The value a client sends with a ping: a function of (client, sequence), so any stored
 *  record can be checked against what was really sent. */
export function pingValue(client: number, sequence: number): number {
  return (Math.imul(client + 1, 0x9e3779b1) ^ Math.imul(sequence + 1, 0x85ebca6b)) >>> 0;
}

export function encodeRecord(record: PingRecord): Uint8Array {
  const bytes = new Uint8Array(RECORD_SIZE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, PAYLOAD_SIZE_BYTES, true);
  view.setUint32(8, record.client, true);
  view.setUint32(12, record.sequence, true);
  view.setUint32(16, record.value, true);
  view.setUint32(4, crc32(bytes.subarray(8)), true);
  return bytes;
}

export interface Recovered {
  records: PingRecord[];
  /** Bytes of intact records; anything after this offset was cut off. */
  validBytes: number;
}

/** Decodes the log. With `verifyChecksums` false (a known-bug variant) garbage gets through. */
export function decodeLog(bytes: Uint8Array, verifyChecksums: boolean): Recovered {
  const records: PingRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const recordsMax = Math.floor(bytes.length / RECORD_SIZE_BYTES);
  for (let index = 0; index < recordsMax; index++) {
    const length = view.getUint32(offset, true);
    const checksum = view.getUint32(offset + 4, true);
    const payload = bytes.subarray(offset + 8, offset + RECORD_SIZE_BYTES);
    const intact = length === PAYLOAD_SIZE_BYTES && checksum === crc32(payload);
    if (verifyChecksums && !intact) {
      break;
    }
    if (!verifyChecksums && length === 0 && checksum === 0) {
      break; // even the buggy variant stops at zeroed space
    }
    records.push({
      client: view.getUint32(offset + 8, true),
      sequence: view.getUint32(offset + 12, true),
      value: view.getUint32(offset + 16, true),
    });
    offset += RECORD_SIZE_BYTES;
  }
  assert(offset <= bytes.length, 'recovery read past the end of the log');
  return { records, validBytes: offset };
}
