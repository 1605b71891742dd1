// A node's disk: named files of fixed-size sectors. Writes land in a volatile layer (the page
// cache); an fsync completes later, as an event, and only then are they durable. A crash
// loses the volatile layer, or tears it (a random subset of dirty sectors reaches the disk).
// Reads can be corrupted (a flipped bit) or fail (a latent sector error), when armed. Media
// faults also damage what is durable: a synced sector rots (a flipped bit that every read
// returns), or an fsync writes a sector to the wrong place (a misdirected write).
// Systems get what a real disk gives: they must checksum, and must not acknowledge before
// their fsync has completed.
import { assert, assertSafeInteger, fail } from './assert.ts';
import type { Random } from './random.ts';

export const SECTOR_SIZE_BYTES = 512;
const FILE_SIZE_BYTES_MAX = 256 * 1024 * 1024;
const FILES_MAX = 4096;
const PENDING_SYNCS_MAX = 65_536;

export class DiskReadError extends Error {
  override name = 'DiskReadError';
}

/**
 * Thrown by a node that gives up on an unrecoverable I/O error (as PostgreSQL panics on a
 * failed fsync): the process dies and its supervisor restarts it shortly after.
 */
export class ProcessExit extends Error {
  override name = 'ProcessExit';
}

// Sectors are carved from shared slabs: a typed array over 64 bytes gets its own off-heap
// buffer in V8, and allocating one per sector write was the disk's main cost (a Raft seed
// writes ~15k sectors). A slab lives until every sector cut from it is unreachable, so slabs
// are kept small: a surviving sector pins at most 8 KB.
const SLAB_SECTORS = 16;
let slab = new Uint8Array(0);
let slabUsedBytes = 0;

/** A zeroed sector that nothing else references. */
function newSector(): Uint8Array {
  if (slabUsedBytes === slab.length) {
    slab = new Uint8Array(SLAB_SECTORS * SECTOR_SIZE_BYTES);
    slabUsedBytes = 0;
  }
  const sector = slab.subarray(slabUsedBytes, slabUsedBytes + SECTOR_SIZE_BYTES);
  slabUsedBytes += SECTOR_SIZE_BYTES;
  return sector;
}

interface DirtySector {
  /** Which sector of its file: kept here so a pending fsync lists these, not [key, value] pairs. */
  readonly sector: number;
  data: Uint8Array;
  generation: number;
}

/**
 * A file's unsynced sectors by sector number. Not a Map: a log's dirty set grows to one or two
 * sectors and back to none on every write and fsync, and a Map rehashed its table each time
 * (a fifth of the disk's allocations on a Raft seed). Sector-indexed arrays and an unordered
 * list (removal swaps the last one in): its order is deterministic but not sorted, and only a
 * misdirected write picks from it by position.
 */
class DirtySectors {
  private readonly bySector: (DirtySector | undefined)[] = [];
  /** sector -> its position in `list`, while it is dirty. */
  private readonly positions: number[] = [];
  readonly list: DirtySector[] = [];

  get size(): number {
    return this.list.length;
  }

  get(sector: number): DirtySector | undefined {
    return this.bySector[sector];
  }

  set(dirty: DirtySector): void {
    const sector = dirty.sector;
    if (this.bySector[sector] === undefined) {
      this.positions[sector] = this.list.length;
      this.list.push(dirty);
    } else {
      this.list[this.positions[sector] as number] = dirty;
    }
    this.bySector[sector] = dirty;
  }

  delete(sector: number): void {
    const dirty = this.bySector[sector];
    if (dirty === undefined) {
      return;
    }
    const position = this.positions[sector] as number;
    const last = this.list.pop() as DirtySector;
    if (last !== dirty) {
      this.list[position] = last;
      this.positions[last.sector] = position;
    }
    this.bySector[sector] = undefined;
  }

  /** The dirty sector numbers, ascending. */
  sortedSectors(): number[] {
    return this.list.map((dirty) => dirty.sector).sort((a, b) => a - b);
  }

  clear(): void {
    for (const dirty of this.list) {
      this.bySector[dirty.sector] = undefined;
    }
    this.list.length = 0;
  }
}

class SimFile {
  durable: (Uint8Array | undefined)[] = [];
  /** The write generation of each durable sector: an older fsync finishing late must not
   *  overwrite what a newer one already made durable. */
  durableGenerations: number[] = [];
  durableSizeBytes = 0;
  durableSizeGeneration = 0;
  readonly dirty = new DirtySectors();
  sizeBytes = 0;
  badSectors = new Set<number>();

  sectorView(sector: number): Uint8Array | undefined {
    return this.dirty.get(sector)?.data ?? this.durable[sector];
  }
}

interface Misdirection {
  /** The sector the write was meant for: it keeps its old content. */
  sector: number;
  /** Where its data lands instead. */
  target: number;
  dirty: DirtySector;
}

interface PendingSync {
  syncId: number;
  file: SimFile;
  sectors: DirtySector[];
  sizeBytes: number;
  sizeGeneration: number;
}

export interface DiskStats {
  writes: number;
  bytesWritten: number;
  fsyncs: number;
  tornCrashes: number;
  corruptedReads: number;
  latentErrors: number;
  fsyncErrors: number;
  /** Sectors given a latent error (each a media fault, read or not). */
  latentSectorsArmed: number;
  /** Synced sectors whose durable copy got a flipped bit (each a media fault, read or not). */
  sectorsRotted: number;
  /** Sectors an fsync wrote over another sector of their file instead of their own. */
  misdirectedWrites: number;
}

/** Where a media fault landed, for the run's trace. */
export interface DamagedSector {
  file: string;
  sector: number;
  /** For a misdirected write: the sector its data landed on instead. */
  landedOn?: number;
}

/** What the simulator needs to schedule an fsync's completion. */
export interface SyncScheduler {
  scheduleSync(syncId: number): void;
}

export class Disk {
  private readonly files = new Map<string, SimFile>();
  /**
   * In-flight fsyncs, oldest first. A list, not a Map: a node has one or a few in flight, and
   * a Map keyed by ever-growing ids rehashed as they came and went.
   */
  private readonly pendingSyncs: PendingSync[] = [];
  private nextSyncId = 1;
  private generation = 0;
  private failNextFsync = false;
  private misdirectNextSync = false;
  /** Called when an armed misdirected write lands (for the trace). */
  onMisdirected: ((where: DamagedSector) => void) | null = null;
  readCorruptionProbability = 0;
  scheduler: SyncScheduler | null = null;
  readonly stats: DiskStats = {
    writes: 0,
    bytesWritten: 0,
    fsyncs: 0,
    tornCrashes: 0,
    corruptedReads: 0,
    latentErrors: 0,
    fsyncErrors: 0,
    latentSectorsArmed: 0,
    sectorsRotted: 0,
    misdirectedWrites: 0,
  };

  constructor(private readonly random: Random) {}

  list(): string[] {
    return [...this.files.keys()].sort();
  }

  exists(name: string): boolean {
    return this.files.has(name);
  }

  /** The size the running process sees (including unsynced writes). */
  size(name: string): number {
    return this.files.get(name)?.sizeBytes ?? 0;
  }

  write(name: string, offsetBytes: number, data: Uint8Array): void {
    assertSafeInteger(offsetBytes, 'write offset');
    assert(offsetBytes >= 0, 'write offset must not be negative');
    const end = offsetBytes + data.length;
    if (end > FILE_SIZE_BYTES_MAX) {
      fail(`file ${name} would exceed the simulated size limit`);
    }
    const file = this.open(name);
    let position = offsetBytes;
    while (position < end) {
      const sector = Math.floor(position / SECTOR_SIZE_BYTES);
      const sectorStart = sector * SECTOR_SIZE_BYTES;
      const chunkEnd = Math.min(end, sectorStart + SECTOR_SIZE_BYTES);
      const next = newSector();
      const current = file.sectorView(sector);
      if (current !== undefined && chunkEnd - position < SECTOR_SIZE_BYTES) {
        next.set(current);
      }
      // A write inside one sector (most log appends) copies `data` itself, no view of it.
      const whole = position === offsetBytes && chunkEnd === end;
      next.set(
        whole ? data : data.subarray(position - offsetBytes, chunkEnd - offsetBytes),
        position - sectorStart,
      );
      file.dirty.set({ sector, data: next, generation: ++this.generation });
      if (file.badSectors.size > 0) {
        file.badSectors.delete(sector); // rewriting a sector remaps a latent error
      }
      position = chunkEnd;
    }
    file.sizeBytes = Math.max(file.sizeBytes, end);
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
  }

  /** Appends at the current end of the file; returns the offset written at. */
  append(name: string, data: Uint8Array): number {
    const offsetBytes = this.size(name);
    this.write(name, offsetBytes, data);
    return offsetBytes;
  }

  /** Reads `lengthBytes` (default: to the end). Throws DiskReadError on a latent sector error. */
  read(name: string, offsetBytes = 0, lengthBytes?: number): Uint8Array {
    const result = this.copyOut(name, offsetBytes, lengthBytes, true);
    this.maybeCorrupt(result);
    return result;
  }

  /**
   * What a read would return now, for checkers: no read corruption, no latent sector error,
   * nothing counted and no random draw, so that looking never changes the run.
   */
  peek(name: string, offsetBytes = 0, lengthBytes?: number): Uint8Array {
    return this.copyOut(name, offsetBytes, lengthBytes, false);
  }

  /** The file's current bytes in a range; with `faults`, a latent sector error throws. */
  private copyOut(
    name: string,
    offsetBytes: number,
    lengthBytes: number | undefined,
    faults: boolean,
  ): Uint8Array {
    const file = this.files.get(name);
    if (file === undefined) {
      return new Uint8Array(0);
    }
    const end = Math.min(file.sizeBytes, offsetBytes + (lengthBytes ?? file.sizeBytes));
    const result = new Uint8Array(Math.max(0, end - offsetBytes));
    let position = offsetBytes;
    while (position < end) {
      const sector = Math.floor(position / SECTOR_SIZE_BYTES);
      if (faults && file.badSectors.has(sector)) {
        this.stats.latentErrors++;
        throw new DiskReadError(`latent sector error reading ${name} at sector ${sector}`);
      }
      const sectorStart = sector * SECTOR_SIZE_BYTES;
      const chunkEnd = Math.min(end, sectorStart + SECTOR_SIZE_BYTES);
      const view = file.sectorView(sector);
      if (view !== undefined) {
        result.set(
          view.subarray(position - sectorStart, chunkEnd - sectorStart),
          position - offsetBytes,
        );
      }
      position = chunkEnd;
    }
    return result;
  }

  /**
   * The durable image of a file: what survives a power loss now (synced sectors, and torn ones
   * that landed at a crash), up to its durable size, with no read fault applied. For checkers
   * only, which compare it with what a node recovered; undefined when the file does not exist.
   */
  durableImage(name: string): Uint8Array | undefined {
    const file = this.files.get(name);
    if (file === undefined) {
      return undefined;
    }
    const result = new Uint8Array(file.durableSizeBytes);
    for (let sector = 0; sector * SECTOR_SIZE_BYTES < result.length; sector++) {
      const data = file.durable[sector];
      if (data !== undefined) {
        const start = sector * SECTOR_SIZE_BYTES;
        result.set(data.subarray(0, Math.min(SECTOR_SIZE_BYTES, result.length - start)), start);
      }
    }
    return result;
  }

  /** Shrinks (or grows with zeros) the file; volatile until the next fsync. */
  truncate(name: string, sizeBytes: number): void {
    assertSafeInteger(sizeBytes, 'truncate size');
    assert(sizeBytes >= 0, 'truncate size must not be negative');
    const file = this.open(name);
    if (sizeBytes < file.sizeBytes) {
      const lastSector = Math.floor(sizeBytes / SECTOR_SIZE_BYTES);
      const tail = sizeBytes % SECTOR_SIZE_BYTES;
      if (tail > 0) {
        const kept = newSector();
        kept.set((file.sectorView(lastSector) ?? kept).subarray(0, tail));
        file.dirty.set({ sector: lastSector, data: kept, generation: ++this.generation });
      }
      const firstGone = tail > 0 ? lastSector + 1 : lastSector;
      for (const sector of file.dirty.sortedSectors()) {
        if (sector >= firstGone) {
          file.dirty.delete(sector);
        }
      }
    }
    file.sizeBytes = sizeBytes;
  }

  /** Atomically replaces `to` with `from` (like rename(2) followed by a directory fsync). */
  rename(from: string, to: string): void {
    const file = this.files.get(from);
    if (file === undefined) {
      fail(`rename: no file ${from}`);
    }
    this.files.delete(from);
    this.files.set(to, file);
  }

  /** Deletes the file at once (metadata operations are durable in this model). */
  remove(name: string): void {
    this.files.delete(name);
  }

  /**
   * Starts an fsync of `name`; `onSynced(syncId, ok)` fires when it completes. Only the
   * writes made before this call are covered.
   */
  fsync(name: string): number {
    const file = this.open(name);
    const syncId = this.nextSyncId++;
    const sectors = file.dirty.list.slice();
    assert(this.pendingSyncs.length < PENDING_SYNCS_MAX, 'too many fsyncs in flight on one disk');
    this.pendingSyncs.push({
      syncId,
      file,
      sectors,
      sizeBytes: file.sizeBytes,
      sizeGeneration: ++this.generation,
    });
    this.stats.fsyncs++;
    assert(this.scheduler !== null, 'a disk must be attached to the simulator before fsync');
    this.scheduler.scheduleSync(syncId);
    return syncId;
  }

  /** Called by the simulator when an fsync's latency has elapsed. Returns success. */
  completeSync(syncId: number): boolean {
    const pendingSyncs = this.pendingSyncs;
    let position = 0;
    while (position < pendingSyncs.length && pendingSyncs[position]?.syncId !== syncId) {
      position++;
    }
    const pending = pendingSyncs[position];
    if (pending === undefined) {
      fail(`unknown sync ${syncId}`);
    }
    for (let later = position + 1; later < pendingSyncs.length; later++) {
      pendingSyncs[later - 1] = pendingSyncs[later] as PendingSync;
    }
    pendingSyncs.pop(); // kept in issue order, without splice's array of the removed
    const { file } = pending;
    if (this.failNextFsync) {
      // As on Linux: the failed pages are dropped from the cache, the data is gone.
      this.failNextFsync = false;
      this.stats.fsyncErrors++;
      for (const dirty of pending.sectors) {
        if (file.dirty.get(dirty.sector)?.generation === dirty.generation) {
          file.dirty.delete(dirty.sector);
        }
      }
      return false;
    }
    const misdirected = this.misdirectNextSync ? this.misdirect(pending) : undefined;
    for (const dirty of pending.sectors) {
      const sector = dirty.sector;
      // A misdirected sector keeps its old durable content, and leaves the cache like the
      // others: reads then see the old content, as after the page is evicted.
      const landed = sector !== misdirected?.sector;
      if (landed && dirty.generation > (file.durableGenerations[sector] ?? 0)) {
        file.durable[sector] = dirty.data;
        file.durableGenerations[sector] = dirty.generation;
      }
      if (file.dirty.get(sector)?.generation === dirty.generation) {
        file.dirty.delete(sector);
      }
    }
    if (pending.sizeGeneration > file.durableSizeGeneration) {
      file.durableSizeBytes = pending.sizeBytes;
      file.durableSizeGeneration = pending.sizeGeneration;
    }
    if (misdirected !== undefined) {
      this.landMisdirected(file, misdirected);
    }
    return true;
  }

  /**
   * An armed misdirected write: picks one sector of this sync and another sector of the same
   * file (within the size the sync makes durable) for it to land on. Undefined (and it stays
   * armed) when the sync has no sector with somewhere else to land.
   */
  private misdirect(pending: PendingSync): Misdirection | undefined {
    const sectors = Math.ceil(pending.sizeBytes / SECTOR_SIZE_BYTES);
    if (pending.sectors.length === 0 || sectors < 2) {
      return undefined;
    }
    const dirty = this.random.pick(pending.sectors);
    const sector = dirty.sector;
    let target = this.random.int(sectors - 1);
    if (target >= sector) {
      target++;
    }
    this.misdirectNextSync = false;
    return { sector, target, dirty };
  }

  /** Lands a misdirected sector on its wrong target, after the rest of its sync. */
  private landMisdirected(file: SimFile, { sector, target, dirty }: Misdirection): void {
    file.durable[target] = dirty.data;
    file.durableGenerations[target] = Math.max(
      file.durableGenerations[target] ?? 0,
      dirty.generation,
    );
    this.stats.misdirectedWrites++;
    this.onMisdirected?.({ file: this.nameOf(file), sector, landedOn: target });
  }

  private nameOf(file: SimFile): string {
    for (const [name, candidate] of this.files) {
      if (candidate === file) {
        return name;
      }
    }
    return '(removed)';
  }

  /**
   * The machine lost power: unsynced writes vanish, or (when `tear`) a random subset of the
   * dirty sectors reaches the platter. In-flight fsyncs never complete.
   */
  crash(tear: boolean): void {
    this.pendingSyncs.splice(0);
    this.failNextFsync = false;
    // An armed misdirected write stays armed: it is the drive's, not the process's.
    for (const file of this.files.values()) {
      let sizeBytes = file.durableSizeBytes;
      if (tear && file.dirty.size > 0) {
        this.stats.tornCrashes++;
        for (const sector of file.dirty.sortedSectors()) {
          if (this.tearSector(file, sector)) {
            const sectorEnd = (sector + 1) * SECTOR_SIZE_BYTES;
            sizeBytes = Math.max(sizeBytes, Math.min(file.sizeBytes, sectorEnd));
          }
        }
      }
      file.dirty.clear();
      file.sizeBytes = sizeBytes;
      file.durableSizeBytes = sizeBytes;
    }
  }

  /**
   * One dirty sector at power loss: it never reaches the platter, reaches it whole, or is
   * torn inside (a prefix of the new bytes over the old ones, as on a drive without
   * power-loss protection). Returns whether anything of it landed.
   */
  private tearSector(file: SimFile, sector: number): boolean {
    const dirty = file.dirty.get(sector) as DirtySector;
    const fate = this.random.int(3);
    if (fate === 0) {
      return false;
    }
    let landed = dirty.data;
    if (fate === 2) {
      const cutBytes = this.random.between(1, SECTOR_SIZE_BYTES - 1);
      landed = newSector();
      landed.set(file.durable[sector] ?? landed);
      landed.set(dirty.data.subarray(0, cutBytes));
    }
    file.durable[sector] = landed;
    file.durableGenerations[sector] = dirty.generation;
    return true;
  }

  armFsyncError(): void {
    this.failNextFsync = true;
  }

  /** Marks one random written sector as unreadable; returns false when there is none. */
  armLatentSectorError(): boolean {
    const candidates: [SimFile, number][] = [];
    for (const name of this.list()) {
      const file = this.files.get(name) as SimFile;
      const sectors = Math.ceil(file.sizeBytes / SECTOR_SIZE_BYTES);
      for (let sector = 0; sector < sectors && candidates.length < 100_000; sector++) {
        candidates.push([file, sector]);
      }
    }
    if (candidates.length === 0) {
      return false;
    }
    const [file, sector] = this.random.pick(candidates);
    file.badSectors.add(sector);
    this.stats.latentSectorsArmed++;
    return true;
  }

  /** The next fsync that has a sector to misdirect writes one sector to the wrong place. */
  armMisdirectedWrite(): void {
    this.misdirectNextSync = true;
  }

  /** Faults stop (the settle phase): an armed misdirected write that has not landed never will. */
  disarmMisdirectedWrite(): void {
    this.misdirectNextSync = false;
  }

  /**
   * Bit rot: flips one random bit inside the used bytes of one random synced sector (one whose
   * durable copy is what a read returns: not overwritten in the cache since). Every read
   * returns the same damaged bytes from then on, until the sector is rewritten. Returns where
   * it landed, or undefined when nothing synced is there to rot.
   */
  rotSyncedSector(): DamagedSector | undefined {
    const candidates: [string, SimFile, number][] = [];
    for (const name of this.list()) {
      const file = this.files.get(name) as SimFile;
      const sizeBytes = Math.min(file.sizeBytes, file.durableSizeBytes);
      const sectors = Math.ceil(sizeBytes / SECTOR_SIZE_BYTES);
      for (let sector = 0; sector < sectors && candidates.length < 100_000; sector++) {
        if (file.durable[sector] !== undefined && file.dirty.get(sector) === undefined) {
          candidates.push([name, file, sector]);
        }
      }
    }
    if (candidates.length === 0) {
      return undefined;
    }
    const [name, file, sector] = this.random.pick(candidates);
    this.rot(file, sector, this.random.int(this.usedBytes(file, sector) * 8));
    return { file: name, sector };
  }

  /**
   * Flips the low bit of the byte at `offsetBytes` of `name` in its durable copy, as bit rot
   * does: for tests that damage a chosen place. Its sector must be synced and not overwritten
   * in the cache since.
   */
  rotByte(name: string, offsetBytes: number): void {
    const file = this.files.get(name);
    assert(file !== undefined, `rotByte: no file ${name}`);
    const sector = Math.floor(offsetBytes / SECTOR_SIZE_BYTES);
    assert(
      offsetBytes < file.durableSizeBytes,
      `rotByte: byte ${offsetBytes} of ${name} is not synced`,
    );
    assert(
      file.dirty.get(sector) === undefined,
      `rotByte: sector ${sector} of ${name} is overwritten in the cache`,
    );
    this.rot(file, sector, (offsetBytes % SECTOR_SIZE_BYTES) * 8);
  }

  /** The bytes of a sector inside its file's durable (and current) size. */
  private usedBytes(file: SimFile, sector: number): number {
    const sizeBytes = Math.min(file.sizeBytes, file.durableSizeBytes);
    return Math.min(SECTOR_SIZE_BYTES, sizeBytes - sector * SECTOR_SIZE_BYTES);
  }

  private rot(file: SimFile, sector: number, bit: number): void {
    assert(bit >= 0 && bit < this.usedBytes(file, sector) * 8, 'bit rot lands inside the file');
    // A copy: the old array may still be shared with a pending sync's snapshot of the sector.
    const rotted = newSector();
    rotted.set(file.durable[sector] as Uint8Array);
    rotted[bit >> 3] = (rotted[bit >> 3] as number) ^ (1 << (bit & 7));
    file.durable[sector] = rotted;
    this.stats.sectorsRotted++;
  }

  /**
   * Media faults that hit this disk so far: sectors given a latent error, reads that came
   * back corrupted, rotted sectors and misdirected writes. Crashes, torn unsynced tails and
   * failed fsyncs are not media faults: a correct node recovers from those without refusing
   * to start.
   */
  /** Media faults that changed what this disk stores: all but the transient corrupted reads. */
  storedDamage(): number {
    const { latentSectorsArmed, sectorsRotted, misdirectedWrites } = this.stats;
    return latentSectorsArmed + sectorsRotted + misdirectedWrites;
  }

  mediaFaults(): number {
    const { latentSectorsArmed, corruptedReads, sectorsRotted, misdirectedWrites } = this.stats;
    return latentSectorsArmed + corruptedReads + sectorsRotted + misdirectedWrites;
  }

  private maybeCorrupt(data: Uint8Array): void {
    if (data.length === 0 || this.readCorruptionProbability === 0) {
      return;
    }
    if (this.random.chance(this.readCorruptionProbability)) {
      const bit = this.random.int(data.length * 8);
      data[bit >> 3] = (data[bit >> 3] as number) ^ (1 << (bit & 7));
      this.stats.corruptedReads++;
    }
  }

  private open(name: string): SimFile {
    let file = this.files.get(name);
    if (file === undefined) {
      assert(name.length > 0, 'a file needs a name');
      assert(this.files.size < FILES_MAX, 'too many files on one simulated disk');
      file = new SimFile();
      this.files.set(name, file);
    }
    return file;
  }
}
