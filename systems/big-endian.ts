// Big-endian integers in byte arrays, read and written as DataView does, without a DataView:
// asking a small typed array (64 bytes or less, which V8 keeps on its heap) for its .buffer
// moves it off the heap, and on paths that run per write or per read that cost more than the
// encoding itself (a Raft sync mark, a Kafka batch header).

export function getU8(bytes: Uint8Array, at: number): number {
  return bytes[at] as number;
}

export function getU16(bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 8) | (bytes[at + 1] as number)) >>> 0;
}

export function getU32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

export function getI32(bytes: Uint8Array, at: number): number {
  return getU32(bytes, at) | 0;
}

/** A u64 as two u32 halves; callers keep values below 2^53. */
export function getU64(bytes: Uint8Array, at: number): number {
  return getU32(bytes, at) * 0x1_0000_0000 + getU32(bytes, at + 4);
}

export function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
