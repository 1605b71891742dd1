// Goal: the WAL gives back exactly the whole chunks that reached the disk, tells a torn tail
// (cut it) from damaged durable data (refuse), and never loses a transaction whose chunk's
// fsync completed. Method: fast-check over random transactions, chunkings, cuts, tears and
// flipped bytes; then a Wal on a real simulated Disk through random rounds of appends,
// completed fsyncs and crashes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Disk, SECTOR_SIZE_BYTES } from '../../sim/disk.ts';
import { Random } from '../../sim/random.ts';
import { crc32c } from './crc32c.ts';
import type { DbValue } from './db-protocol.ts';
import {
  decodeWalFile,
  encodeChunk,
  isWalRefusal,
  recoverWalFiles,
  Wal,
  type WalRecovered,
  type WalTx,
} from './wal.ts';

const valueArb: fc.Arbitrary<DbValue> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.boolean(),
  fc.record({ id: fc.string({ maxLength: 8 }), amount: fc.integer({ min: 0, max: 1000 }) }),
);
const writeArb = fc.record({
  table: fc.constantFrom('orders', 'outbox', 'processed'),
  key: fc.string({ minLength: 1, maxLength: 12 }),
  value: valueArb,
});

/** Transactions with LSNs 1… and ids, cut into chunks of 1–4 transactions. */
const chunksArb = fc
  .array(fc.tuple(fc.array(writeArb, { maxLength: 5 }), fc.integer({ min: 1, max: 4 })), {
    minLength: 1,
    maxLength: 12,
  })
  .map((specs) => {
    let lsn = 0;
    const chunks: WalTx[][] = [];
    for (const [writes, size] of specs) {
      const last = chunks[chunks.length - 1];
      lsn++;
      const tx: WalTx = { lsn, txId: `c:${lsn}`, writes };
      if (last !== undefined && last.length < size) {
        last.push(tx);
      } else {
        chunks.push([tx]);
      }
    }
    return chunks;
  });

function encodeAll(chunks: WalTx[][], firstChunk = 1): { bytes: Uint8Array; ends: number[] } {
  const parts = chunks.map((txs, at) => encodeChunk(txs, firstChunk + at));
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
    ends.push(offset);
  }
  return { bytes, ends };
}

describe('crc32c', () => {
  it('has the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('WAL codec', () => {
  it('decodes what it encoded, transaction by transaction', () => {
    fc.assert(
      fc.property(chunksArb, (chunks) => {
        const { bytes } = encodeAll(chunks);
        const decoded = decodeWalFile(bytes);
        expect(decoded.status).toEqual({ kind: 'clean' });
        expect(decoded.txs).toEqual(chunks.flat());
        expect(decoded.validBytes).toBe(bytes.length);
        expect([decoded.firstChunk, decoded.lastChunk]).toEqual([1, chunks.length]);
      }),
    );
  });

  it('keeps exactly the whole chunks of a log cut at any byte, and never calls a cut corrupt', () => {
    fc.assert(
      fc.property(chunksArb, fc.nat(), (chunks, cutSeed) => {
        const { bytes, ends } = encodeAll(chunks);
        const cut = cutSeed % (bytes.length + 1);
        const decoded = decodeWalFile(bytes.subarray(0, cut));
        const whole = ends.filter((end) => end <= cut).length;
        expect(decoded.txs).toEqual(chunks.slice(0, whole).flat());
        expect(decoded.validBytes).toBe(whole === 0 ? 0 : ends[whole - 1]);
        expect(decoded.status.kind).toBe(ends.includes(cut) || cut === 0 ? 'clean' : 'torn-tail');
      }),
    );
  });

  it('cuts a last chunk torn in any sector order (some sectors old, some new, some half) and never refuses it', () => {
    fc.assert(
      fc.property(
        chunksArb,
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        (chunks, fates) => {
          const { bytes, ends } = encodeAll(chunks);
          const durableEnd = ends.length > 1 ? (ends[ends.length - 2] as number) : 0;
          // What was on the platter before the last chunk's write: the durable prefix, zeros after.
          const before = new Uint8Array(bytes.length);
          before.set(bytes.subarray(0, durableEnd));
          const torn = before.slice();
          const firstSector = Math.floor(durableEnd / SECTOR_SIZE_BYTES);
          const lastSector = Math.ceil(bytes.length / SECTOR_SIZE_BYTES);
          let allLanded = true;
          for (let sector = firstSector; sector < lastSector; sector++) {
            const fate = (fates[sector % fates.length] as number) % 3;
            const start = sector * SECTOR_SIZE_BYTES;
            const end = Math.min(bytes.length, start + SECTOR_SIZE_BYTES);
            if (fate === 1) {
              torn.set(bytes.subarray(start, end), start);
            } else if (fate === 2) {
              const prefix = 1 + ((fates[(sector + 7) % fates.length] as number) % (end - start));
              torn.set(bytes.subarray(start, start + prefix), start);
              allLanded &&= prefix === end - start;
            } else {
              allLanded = false;
            }
          }
          const decoded = decodeWalFile(torn);
          expect(decoded.status.kind).not.toBe('corrupt');
          const kept = decoded.txs.length;
          const durableTxs = chunks.slice(0, -1).flat();
          if (allLanded) {
            expect(decoded.txs).toEqual(chunks.flat());
          } else {
            expect([durableTxs.length, chunks.flat().length]).toContain(kept);
            expect(decoded.txs).toEqual(chunks.flat().slice(0, kept));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a damaged record that a later chunk follows, wherever the damage is', () => {
    fc.assert(
      fc.property(
        chunksArb.filter((chunks) => chunks.length >= 2),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (chunks, at, mask) => {
          const { bytes, ends } = encodeAll(chunks);
          const beforeLast = ends[ends.length - 2] as number;
          const flipped = bytes.slice();
          const position = at % beforeLast;
          flipped[position] = (flipped[position] as number) ^ mask;
          const decoded = decodeWalFile(flipped);
          expect(decoded.status.kind).toBe('corrupt');
          // And what it kept is an intact prefix of whole chunks before the damage.
          expect(decoded.validBytes).toBeLessThanOrEqual(position);
          expect(decoded.txs).toEqual(chunks.flat().slice(0, decoded.txs.length));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('WAL files', () => {
  const dir = 'wal/';
  const image = (files: Record<string, Uint8Array>) => ({
    names: Object.keys(files),
    read: (name: string) => files[name] ?? new Uint8Array(0),
  });

  it('continues in the last file when it ended clean, in a new one after a cut', () => {
    const a = encodeAll([[{ lsn: 1, txId: 't:1', writes: [] }]]).bytes;
    const clean = image({ 'wal/0000000001.log': a });
    const recovered = recoverWalFiles(dir, clean.names, clean.read) as WalRecovered;
    expect(recovered.nextFile).toBe('wal/0000000001.log');
    expect(recovered.nextChunk).toBe(2);
    const cut = image({ 'wal/0000000001.log': a.subarray(0, a.length - 1) });
    const afterCut = recoverWalFiles(dir, cut.names, cut.read) as WalRecovered;
    expect(afterCut.txs).toEqual([]);
    expect(afterCut.cut?.file).toBe('wal/0000000001.log');
    expect(afterCut.nextFile).toBe('wal/0000000002.log');
    expect(afterCut.nextChunk).toBe(1);
  });

  it('accepts a cut tail in an earlier file that the next file continues, and refuses an LSN gap', () => {
    const first = encodeAll([
      [{ lsn: 1, txId: 't:1', writes: [] }],
      [{ lsn: 2, txId: 't:2', writes: [] }],
    ]);
    const cutFirst = first.bytes.subarray(0, (first.ends[1] as number) - 3);
    const continues = encodeAll([[{ lsn: 2, txId: 't:3', writes: [] }]]).bytes;
    const good = image({ 'wal/0000000001.log': cutFirst, 'wal/0000000002.log': continues });
    const recovered = recoverWalFiles(dir, good.names, good.read);
    expect(isWalRefusal(recovered)).toBe(false);
    expect((recovered as WalRecovered).txs.map((tx) => tx.txId)).toEqual(['t:1', 't:3']);
    const gap = encodeAll([[{ lsn: 3, txId: 't:3', writes: [] }]]).bytes;
    const bad = image({ 'wal/0000000001.log': cutFirst, 'wal/0000000002.log': gap });
    const refused = recoverWalFiles(dir, bad.names, bad.read);
    expect(isWalRefusal(refused)).toBe(true);
    expect((refused as { reason: string }).reason).toMatch(
      /starts at LSN 3 where LSN 2 was expected/,
    );
  });
});

describe('Wal on a simulated disk', () => {
  it('refuses (does not crash-loop) on a latent sector error in its log', () => {
    const disk = new Disk(Random.fromSeed(7));
    disk.scheduler = { scheduleSync: () => {} };
    disk.write('wal/0000000001.log', 0, encodeChunk([{ lsn: 1, txId: 't:1', writes: [] }], 1));
    expect(disk.armLatentSectorError()).toBe(true);
    const recovered = Wal.recover(disk, 'wal/');
    expect(isWalRefusal(recovered)).toBe(true);
    expect((recovered as { reason: string }).reason).toMatch(/latent sector error/);
  });

  it('never loses a transaction whose fsync completed, and recovers a prefix of what was appended, through crashes and tears', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(
          fc.record({
            appends: fc.array(
              fc.record({ writes: fc.array(writeArb, { maxLength: 3 }), syncAfter: fc.boolean() }),
              { maxLength: 6 },
            ),
            syncs: fc.nat({ max: 4 }),
            tear: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (seed, rounds) => {
          const disk = new Disk(Random.fromSeed(seed));
          const pending: number[] = [];
          disk.scheduler = { scheduleSync: (syncId) => pending.push(syncId) };
          let history: WalTx[] = []; // what the WAL holds or may hold, in LSN order
          let durable = 0; // LSN acknowledged durable
          let counter = 0;
          for (const round of rounds) {
            const recovered = Wal.recover(disk, 'wal/');
            expect(isWalRefusal(recovered)).toBe(false);
            const { txs, nextFile, nextChunk } = recovered as WalRecovered;
            expect(txs.length).toBeGreaterThanOrEqual(durable);
            expect(txs).toEqual(history.slice(0, txs.length));
            history = [...txs];
            durable = txs.length;
            const wal = new Wal(disk, nextFile, txs.length, nextChunk);
            pending.length = 0;
            const completeOne = () => {
              const syncId = pending.shift() as number;
              const outcome = wal.onSynced(syncId, disk.completeSync(syncId));
              expect(outcome.kind).toBe('durable');
              durable = wal.durableEndLsn;
            };
            for (const { writes, syncAfter } of round.appends) {
              counter++;
              const tx: WalTx = { lsn: wal.endLsn + 1, txId: `w:${counter}`, writes };
              history.push(tx);
              wal.append(tx);
              expect(pending.length).toBeLessThanOrEqual(1); // one chunk in flight at a time
              if (syncAfter && pending.length > 0) {
                completeOne();
              }
            }
            for (let done = 0; done < round.syncs && pending.length > 0; done++) {
              completeOne();
            }
            disk.crash(round.tear);
          }
          const final = Wal.recover(disk, 'wal/') as WalRecovered;
          expect(final.txs.length).toBeGreaterThanOrEqual(durable);
          expect(final.txs).toEqual(history.slice(0, final.txs.length));
        },
      ),
      { numRuns: 200 },
    );
  });
});
