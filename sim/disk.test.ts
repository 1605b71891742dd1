// Goal: the disk gives what a real one gives. Method: drive a Disk directly with a fake
// scheduler that completes fsyncs when the test says so.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Disk, DiskReadError, SECTOR_SIZE_BYTES } from './disk.ts';
import { Random } from './random.ts';

function diskWithManualSync(seed = 1): { disk: Disk; syncs: number[] } {
  const disk = new Disk(Random.fromSeed(seed));
  const syncs: number[] = [];
  disk.scheduler = { scheduleSync: (syncId) => syncs.push(syncId) };
  return { disk, syncs };
}

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

describe('disk', () => {
  it('reads back what was written, across sector boundaries', () => {
    const { disk } = diskWithManualSync();
    const data = Uint8Array.from({ length: 1500 }, (_, index) => index % 251);
    disk.write('f', 100, data);
    expect(disk.size('f')).toBe(1600);
    expect([...disk.read('f', 100, 1500)]).toEqual([...data]);
    expect([...disk.read('f', 0, 100)]).toEqual([...bytes(100, 0)]);
  });

  it('peeks what a read returns, with no read fault, no count and no random draw', () => {
    const data = Uint8Array.from({ length: 1500 }, (_, index) => index % 251);
    const looked = diskWithManualSync(3).disk;
    const untouched = diskWithManualSync(3).disk;
    for (const disk of [looked, untouched]) {
      disk.write('f', 100, data);
      disk.readCorruptionProbability = 1;
    }
    for (let look = 0; look < 5; look++) {
      expect([...looked.peek('f', 100, 1500)]).toEqual([...data]);
    }
    expect(looked.mediaFaults()).toBe(0);
    // Peeking drew nothing: both disks corrupt their next read the same way.
    expect([...looked.read('f', 100, 1500)]).toEqual([...untouched.read('f', 100, 1500)]);
    expect(looked.mediaFaults()).toBe(1);
    expect(looked.storedDamage()).toBe(0); // a corrupted read changes nothing stored
  });

  it('loses unsynced writes on a crash and keeps fsynced ones', () => {
    const { disk, syncs } = diskWithManualSync();
    disk.write('f', 0, bytes(600, 1));
    disk.fsync('f');
    expect(disk.completeSync(syncs[0] as number)).toBe(true);
    disk.write('f', 600, bytes(600, 2)); // never synced
    disk.crash(false);
    expect(disk.size('f')).toBe(600);
    expect([...disk.read('f')]).toEqual([...bytes(600, 1)]);
  });

  it('shows as its durable image only what survives a power loss now', () => {
    const { disk, syncs } = diskWithManualSync();
    expect(disk.durableImage('f')).toBeUndefined();
    disk.write('f', 0, bytes(700, 1));
    disk.fsync('f');
    disk.write('f', 700, bytes(100, 2)); // after the fsync started: not covered by it
    expect([...(disk.durableImage('f') ?? [])]).toEqual([]);
    disk.completeSync(syncs[0] as number);
    expect([...(disk.durableImage('f') ?? [])]).toEqual([...bytes(700, 1)]);
    disk.truncate('f', 10); // volatile until synced
    expect(disk.durableImage('f')?.length).toBe(700);
    disk.readCorruptionProbability = 1; // read faults never touch the image
    expect([...(disk.durableImage('f') ?? [])]).toEqual([...bytes(700, 1)]);
    disk.crash(false);
    expect([...(disk.durableImage('f') ?? [])]).toEqual([...bytes(700, 1)]);
  });

  it('loses writes whose fsync had not completed at the crash', () => {
    const { disk } = diskWithManualSync();
    disk.write('f', 0, bytes(100, 7));
    disk.fsync('f'); // in flight, never completes
    disk.crash(false);
    expect(disk.size('f')).toBe(0);
  });

  it('does not let an older fsync finishing late undo a newer one', () => {
    const { disk, syncs } = diskWithManualSync();
    disk.write('f', 0, bytes(10, 1));
    disk.fsync('f');
    disk.write('f', 10, bytes(10, 2));
    disk.fsync('f');
    disk.completeSync(syncs[1] as number);
    disk.completeSync(syncs[0] as number);
    disk.crash(false);
    expect(disk.size('f')).toBe(20);
    expect([...disk.read('f')]).toEqual([...bytes(10, 1), ...bytes(10, 2)]);
  });

  it('tears unsynced writes: sectors mix old and new content', () => {
    // Property: after a torn crash every sector is entirely old, entirely new, or a prefix
    // of new over old — and over many seeds all of these happen.
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const { disk, syncs } = diskWithManualSync(seed);
      const sectors = 4;
      disk.write('f', 0, bytes(sectors * SECTOR_SIZE_BYTES, 0xaa));
      disk.fsync('f');
      disk.completeSync(syncs[0] as number);
      disk.write('f', 0, bytes(sectors * SECTOR_SIZE_BYTES, 0xbb));
      disk.crash(true);
      const after = disk.read('f');
      for (let sector = 0; sector < sectors; sector++) {
        const view = after.subarray(sector * SECTOR_SIZE_BYTES, (sector + 1) * SECTOR_SIZE_BYTES);
        const firstOld = view.indexOf(0xaa);
        const newPrefix = firstOld === -1 ? view.length : firstOld;
        expect(view.subarray(0, newPrefix).every((byte) => byte === 0xbb)).toBe(true);
        expect(view.subarray(newPrefix).every((byte) => byte === 0xaa)).toBe(true);
        seen.add(newPrefix === 0 ? 'old' : newPrefix === view.length ? 'new' : 'torn');
      }
    }
    expect([...seen].sort()).toEqual(['new', 'old', 'torn']);
  });

  it('reports a failed fsync and drops the writes it covered', () => {
    const { disk, syncs } = diskWithManualSync();
    disk.write('f', 0, bytes(10, 3));
    disk.armFsyncError();
    disk.fsync('f');
    expect(disk.completeSync(syncs[0] as number)).toBe(false);
    disk.crash(false);
    expect(disk.size('f')).toBe(0);
  });

  it('throws a DiskReadError on a latent sector error until the sector is rewritten', () => {
    const { disk } = diskWithManualSync();
    disk.write('f', 0, bytes(100, 5));
    expect(disk.armLatentSectorError()).toBe(true);
    expect(() => disk.read('f')).toThrow(DiskReadError);
    disk.write('f', 0, bytes(100, 6));
    expect([...disk.read('f')]).toEqual([...bytes(100, 6)]);
  });

  it('flips bits on corrupted reads without changing the stored data', () => {
    const { disk } = diskWithManualSync();
    disk.write('f', 0, bytes(64, 0));
    disk.readCorruptionProbability = 1;
    const corrupted = disk.read('f');
    expect(corrupted.reduce((sum, byte) => sum + byte, 0)).toBeGreaterThan(0);
    disk.readCorruptionProbability = 0;
    expect([...disk.read('f')]).toEqual([...bytes(64, 0)]);
  });

  it('truncates, and the truncation is volatile until an fsync', () => {
    const { disk, syncs } = diskWithManualSync();
    disk.write('f', 0, bytes(1000, 1));
    disk.fsync('f');
    disk.completeSync(syncs[0] as number);
    disk.truncate('f', 300);
    expect(disk.size('f')).toBe(300);
    disk.crash(false);
    expect(disk.size('f')).toBe(1000);
  });

  it('matches a simple byte-array model for any sequence of writes and syncs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offset: fc.nat(3000),
            length: fc.integer({ min: 1, max: 700 }),
            sync: fc.boolean(),
          }),
          { maxLength: 20 },
        ),
        (writes) => {
          const { disk, syncs } = diskWithManualSync();
          let durable = new Uint8Array(0);
          let current = new Uint8Array(0);
          writes.forEach((write, index) => {
            const data = bytes(write.length, (index % 250) + 1);
            disk.write('f', write.offset, data);
            const end = write.offset + write.length;
            if (end > current.length) {
              const grown = new Uint8Array(end);
              grown.set(current);
              current = grown;
            }
            current.set(data, write.offset);
            if (write.sync) {
              disk.fsync('f');
              disk.completeSync(syncs[syncs.length - 1] as number);
              durable = current.slice();
            }
          });
          expect([...disk.read('f')]).toEqual([...current]);
          disk.crash(false);
          expect([...disk.read('f')]).toEqual([...durable]);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('rots one synced sector: every read returns the same damaged bytes until it is rewritten', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const { disk, syncs } = diskWithManualSync(seed);
        disk.write('f', 0, bytes(1200, 5));
        disk.fsync('f');
        disk.completeSync(syncs[0] as number);
        disk.write('f', 1200, bytes(100, 6)); // unsynced: never the victim
        const rotted = disk.rotSyncedSector();
        expect(rotted?.file).toBe('f');
        const sector = rotted?.sector as number;
        expect(sector).toBeLessThan(2); // sector 2 is overwritten in the cache
        const first = disk.read('f');
        const differing = first.reduce(
          (count, byte, at) => count + (byte === (at < 1200 ? 5 : 6) ? 0 : 1),
          0,
        );
        expect(differing).toBe(1);
        expect([...disk.read('f')]).toEqual([...first]); // rereading does not help
        expect(disk.mediaFaults()).toBe(1);
        disk.crash(false);
        expect([...disk.read('f')]).toEqual([...first.subarray(0, 1200)]); // it is durable
        disk.write('f', sector * SECTOR_SIZE_BYTES, bytes(SECTOR_SIZE_BYTES, 5));
        expect([...disk.read('f')]).toEqual([...bytes(1200, 5)]); // a rewrite heals it
      }),
      { numRuns: 50 },
    );
  });

  it('rots nothing on a disk with nothing synced', () => {
    const { disk } = diskWithManualSync();
    disk.write('f', 0, bytes(100, 1));
    expect(disk.rotSyncedSector()).toBeUndefined();
    expect(disk.mediaFaults()).toBe(0);
  });

  it('lands a misdirected write on another sector of the file, leaving its own as it was', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const { disk, syncs } = diskWithManualSync(seed);
        const landed: { sector: number; landedOn?: number }[] = [];
        disk.onMisdirected = (where) => landed.push(where);
        disk.write('f', 0, bytes(3 * SECTOR_SIZE_BYTES, 1));
        disk.fsync('f');
        disk.completeSync(syncs[0] as number);
        disk.armMisdirectedWrite();
        disk.write('f', SECTOR_SIZE_BYTES, bytes(SECTOR_SIZE_BYTES, 9)); // meant for sector 1
        disk.fsync('f');
        expect(disk.completeSync(syncs[1] as number)).toBe(true);
        expect(landed).toHaveLength(1);
        const target = landed[0]?.landedOn as number;
        expect(landed[0]?.sector).toBe(1);
        expect([0, 2]).toContain(target);
        const image = disk.durableImage('f') as Uint8Array;
        const sectorFill = (sector: number) => image[sector * SECTOR_SIZE_BYTES];
        expect(sectorFill(1)).toBe(1); // the intended sector kept its old content
        expect(sectorFill(target)).toBe(9); // another one was overwritten
        expect(disk.read('f')[SECTOR_SIZE_BYTES]).toBe(1); // what the node reads back now
        expect(disk.mediaFaults()).toBe(1);
        // Fired once: the next fsync lands where it should.
        disk.write('f', 0, bytes(SECTOR_SIZE_BYTES, 3));
        disk.fsync('f');
        disk.completeSync(syncs[2] as number);
        expect(disk.durableImage('f')?.[0]).toBe(3);
        expect(disk.mediaFaults()).toBe(1);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps a misdirected write armed until a sync has somewhere else to land it', () => {
    const { disk, syncs } = diskWithManualSync();
    disk.armMisdirectedWrite();
    disk.write('f', 0, bytes(100, 1)); // a one-sector file: nowhere else to land
    disk.fsync('f');
    disk.completeSync(syncs[0] as number);
    expect(disk.stats.misdirectedWrites).toBe(0);
    expect(disk.durableImage('f')?.[0]).toBe(1);
    disk.write('f', 600, bytes(100, 2));
    disk.fsync('f');
    disk.completeSync(syncs[1] as number);
    expect(disk.stats.misdirectedWrites).toBe(1);
    disk.disarmMisdirectedWrite();
  });
});
