// The durable cell (the CDC relay's position file, a broker's high-watermark checkpoint)
// through crashes that lose or tear its unsynced write, flipped bits and failed fsyncs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Disk } from '../sim/disk.ts';
import { Random } from '../sim/random.ts';
import type { NodeContext } from '../sim/types.ts';
import { DurableCell } from './durable-cell.ts';

/** A disk driven by hand and the slice of a node context the cell uses. */
function rig(seed: number) {
  const disk = new Disk(Random.fromSeed(seed));
  const syncs: number[] = [];
  disk.scheduler = { scheduleSync: (syncId) => syncs.push(syncId) };
  const ctx = { disk } as unknown as NodeContext;
  const parse = (body: unknown) =>
    typeof body === 'object' && body !== null && Number.isSafeInteger((body as { n?: unknown }).n)
      ? (body as { n: number })
      : undefined;
  return { disk, syncs, cell: () => new DurableCell(ctx, 'state', parse) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, at) => byte === b[at]);
}

describe('the durable cell', () => {
  it('loads the newest value that was fsynced (or the unsynced one, if it landed whole), never a torn one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (seed, syncs, tear) => {
          const { disk, syncs: pending, cell: make } = rig(seed);
          let cell = make();
          expect(cell.load()).toBeUndefined();
          let durable: number | undefined;
          syncs.forEach((completes, n) => {
            let done = false;
            cell.save({ n }, () => {
              done = true;
            });
            const syncId = pending.shift() as number;
            if (completes) {
              expect(cell.onSynced(syncId, disk.completeSync(syncId))).toBe(true);
              expect(done).toBe(true);
              durable = n;
            } else {
              // Power loss before the fsync completes: the write vanishes or tears.
              disk.crash(tear);
              pending.length = 0;
              cell = make();
              const loaded = cell.load()?.n;
              if (tear && loaded === n) {
                durable = n; // the unsynced sector happened to land whole: written, so fine
              }
              expect(loaded).toBe(durable);
            }
          });
          expect(make().load()?.n).toBe(durable);
        },
      ),
    );
  });

  it('writes again after a failed fsync, and only then calls it saved', () => {
    const { disk, syncs, cell: make } = rig(3);
    const cell = make();
    let saved = false;
    cell.save({ n: 7 }, () => {
      saved = true;
    });
    disk.armFsyncError();
    const first = syncs.shift() as number;
    expect(cell.onSynced(first, disk.completeSync(first))).toBe(true);
    expect(saved).toBe(false);
    const second = syncs.shift() as number;
    cell.onSynced(second, disk.completeSync(second));
    expect(saved).toBe(true);
    expect(make().load()).toEqual({ n: 7 });
  });

  it('falls back to the older slot when the newer one reads back corrupted', () => {
    const { disk, syncs, cell: make } = rig(5);
    const cell = make();
    for (const n of [1, 2]) {
      cell.save({ n }, () => {});
      const syncId = syncs.shift() as number;
      cell.onSynced(syncId, disk.completeSync(syncId));
    }
    // Damage the newer slot on the platter (slot 0 holds version 2).
    disk.write('state', 14, new Uint8Array([0xff, 0xff, 0xff]));
    const syncId = disk.fsync('state');
    disk.completeSync(syncId);
    expect(make().load()).toEqual({ n: 1 });
  });
  it('reports itself intact after any run of completed saves, and not after a slot is damaged or a save torn', () => {
    let torn = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('rot-newest', 'rot-older', 'tear-next', 'none'),
        (seed, saves, harm) => {
          const { disk, syncs, cell: make } = rig(seed);
          const cell = make();
          for (let n = 0; n < saves; n++) {
            cell.save({ n }, () => {});
            const syncId = syncs.shift() as number;
            cell.onSynced(syncId, disk.completeSync(syncId));
          }
          expect(make().loadChecked()).toEqual({
            value: saves === 0 ? undefined : { n: saves - 1 },
            intact: true,
          });
          // Slot of version v is v % 2; the newest is version `saves`.
          const slotOf = (version: number) => (version % 2) * 512;
          if (harm === 'rot-newest' && saves >= 1) {
            disk.rotByte('state', slotOf(saves) + 5);
          } else if (harm === 'rot-older' && saves >= 2) {
            disk.rotByte('state', slotOf(saves - 1) + 5);
          } else if (harm === 'tear-next' && saves >= 1) {
            // The save may land whole or vanish (both intact), or tear (not intact, the old
            // value): which one, the slot's stored bytes say.
            const slot = slotOf(saves + 1);
            const before = disk.peek('state', slot, 512);
            cell.save({ n: saves }, () => {});
            disk.crash(true);
            syncs.length = 0;
            const changed = !equalBytes(before, disk.peek('state', slot, 512));
            const checked = make().loadChecked();
            if (!changed) {
              expect(checked).toEqual({ value: { n: saves - 1 }, intact: true });
            } else if (checked.value?.n === saves) {
              expect(checked.intact).toBe(true);
            } else {
              torn++;
              expect(checked).toEqual({ value: { n: saves - 1 }, intact: false });
            }
            return;
          } else {
            return;
          }
          const checked = make().loadChecked();
          expect(checked.intact).toBe(false);
          // The value falls back to the newest slot that still checks out.
          const expected = harm === 'rot-newest' ? saves - 2 : saves - 1;
          expect(checked.value).toEqual(expected < 0 ? undefined : { n: expected });
        },
      ),
      { numRuns: 1500 },
    );
    // A tear shows only when the prefix that landed is shorter than the record (~20 bytes of
    // a 512-byte sector): ~2 in 300 runs. The rest of the torn sectors keep the whole record.
    expect(torn).toBeGreaterThan(0);
  });
});
