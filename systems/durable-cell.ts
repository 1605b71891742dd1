// A small durable record on a node's own disk — the CDC relay's log position, a node's
// incarnation number, a Kafka broker's high-watermark checkpoint — that is saved only once fsynced and read back only if its checksum
// holds. Two slots in separate sectors, written alternately with a rising version: a crash
// that tears the slot being written leaves the other, older one intact, and a load takes the
// newest slot that checks out (a flipped bit or a latent sector error on one slot falls back
// to the other; losing both falls back to nothing, which callers must treat as "from the
// start" — re-publishing, never skipping).
import { assert, fail } from '../sim/assert.ts';
import { DiskReadError, ProcessExit, SECTOR_SIZE_BYTES } from '../sim/disk.ts';
import type { NodeContext } from '../sim/types.ts';
import { crc32 } from './raft/codec.ts';

const HEADER_BYTES = 12; // length u32 | crc32 u32 | version u32 (the crc covers version + body)
const BODY_BYTES_MAX = SECTOR_SIZE_BYTES - HEADER_BYTES;
/** A read that fails its checksum is retried this often (a corrupted read is transient). */
const READ_ATTEMPTS_MAX = 3;
const SAVE_ATTEMPTS_MAX = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Slot<T> {
  version: number;
  value: T;
}

export class DurableCell<T> {
  private version = 0;
  private saving: { syncId: number; attempts: number; value: T; done: () => void } | null = null;

  constructor(
    private readonly ctx: Pick<NodeContext, 'disk'>,
    private readonly file: string,
    /** Checks a parsed body is a T (a stray or older record must not be taken for one). */
    private readonly parse: (body: unknown) => T | undefined,
  ) {}

  /** The newest value that was saved durably, or undefined when there is none. */
  load(): T | undefined {
    return this.loadChecked().value;
  }

  /**
   * As load(), and whether both slots hold what a run of saves leaves there: the newest
   * record in its own slot and the one saved before it in the other (or nothing, before a
   * second save). False after a save that a crash tore, and after damage to either slot (a
   * flipped bit, a lost sector, a record misdirected into the other slot): a caller that must
   * tell damage from a crash asks this, knowing which of its own writes can be in flight.
   */
  loadChecked(): { value: T | undefined; intact: boolean } {
    const slots = [this.readSlot(0), this.readSlot(1)];
    let best: { version: number; value: T; at: number } | undefined;
    for (const [at, read] of slots.entries()) {
      if (typeof read === 'object' && (best === undefined || read.version > best.version)) {
        best = { ...read, at };
      }
    }
    this.version = best?.version ?? 0;
    if (best === undefined) {
      return { value: undefined, intact: slots.every((read) => read === 'empty') };
    }
    const other = slots[1 - best.at];
    const intact =
      best.at === best.version % 2 &&
      (best.version === 1
        ? other === 'empty'
        : typeof other === 'object' && other.version === best.version - 1);
    return { value: best.value, intact };
  }

  private readSlot(slot: number): Slot<T> | 'empty' | 'damaged' {
    for (let attempt = 0; attempt < READ_ATTEMPTS_MAX; attempt++) {
      let bytes: Uint8Array;
      try {
        bytes = this.ctx.disk.read(this.file, slot * SECTOR_SIZE_BYTES, SECTOR_SIZE_BYTES);
      } catch (error) {
        if (error instanceof DiskReadError) {
          return 'damaged'; // a latent sector error: this slot is gone, the other may not be
        }
        throw error;
      }
      if (bytes.length < HEADER_BYTES || bytes.subarray(0, HEADER_BYTES).every((b) => b === 0)) {
        return 'empty'; // never written
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const length = view.getUint32(0);
      if (length === 0 || length > BODY_BYTES_MAX) {
        continue; // torn, or a flipped bit in the length: read again
      }
      const covered = bytes.subarray(8, HEADER_BYTES + length);
      if (covered.length !== 4 + length || crc32(covered) !== view.getUint32(4)) {
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + length)));
      } catch {
        continue;
      }
      const value = this.parse(body);
      if (value === undefined) {
        return 'damaged';
      }
      return { version: view.getUint32(8), value };
    }
    return 'damaged';
  }

  /** True while a save waits for its fsync. */
  busy(): boolean {
    return this.saving !== null;
  }

  /** Writes the value to the older slot and calls `done` once it is durable. */
  save(value: T, done: () => void): void {
    if (this.saving !== null) {
      fail(`${this.file}: one save at a time`);
    }
    this.saving = { syncId: -1, attempts: 0, value, done };
    this.writeAndSync();
  }

  private writeAndSync(): void {
    const saving = this.saving;
    assert(saving !== null, 'nothing to save');
    saving.attempts++;
    if (saving.attempts > SAVE_ATTEMPTS_MAX) {
      // fsync keeps failing: give up as PostgreSQL does, and let the restart recover.
      throw new ProcessExit(`${this.file}: fsync failed ${SAVE_ATTEMPTS_MAX} times`);
    }
    const version = this.version + 1;
    const body = encoder.encode(JSON.stringify(saving.value));
    if (body.length > BODY_BYTES_MAX) {
      fail(`${this.file}: record too large`);
    }
    const bytes = new Uint8Array(HEADER_BYTES + body.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, body.length);
    view.setUint32(8, version);
    bytes.set(body, HEADER_BYTES);
    view.setUint32(4, crc32(bytes.subarray(8)));
    this.ctx.disk.write(this.file, (version % 2) * SECTOR_SIZE_BYTES, bytes);
    saving.syncId = this.ctx.disk.fsync(this.file);
  }

  /** Routes an fsync completion; true when it was this cell's. */
  onSynced(syncId: number, ok: boolean): boolean {
    const saving = this.saving;
    if (saving === null || saving.syncId !== syncId) {
      return false;
    }
    if (!ok) {
      // The failed pages are gone from the cache: write them again (same version: the slot
      // that failed is still the older one).
      this.writeAndSync();
      return true;
    }
    this.version++;
    this.saving = null;
    saving.done();
    return true;
  }
}
