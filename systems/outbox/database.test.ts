// Goal: the database's optimistic concurrency control is serializable and catches every
// conflict a serial order would expose (a changed key, a phantom insert or delete in a scanned
// range), while leaving disjoint transactions alone. Method: examples for each rule, then a
// fast-check property: random transactions interleaved at random, after which the committed
// ones, replayed serially in LSN order on a plain map, must see exactly what they saw — with
// commits becoming visible (durable) a random while after they committed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Database, Transaction } from './database.ts';
import type { DbValue } from './db-protocol.ts';
import type { WalTx } from './wal.ts';

/** Commits and makes visible (its commit record durable at once). */
function committed(db: Database, tx: Transaction): number {
  const result = db.commit(tx);
  if ('conflict' in result) {
    throw new Error(`unexpected conflict: ${result.conflict}`);
  }
  db.makeVisible(result);
  return result.lsn;
}

function seed(db: Database, rows: Record<string, DbValue>): void {
  const tx = new Transaction('seed');
  for (const [key, value] of Object.entries(rows)) {
    db.put(tx, { table: 't', key, value });
  }
  committed(db, tx);
}

describe('database OCC', () => {
  it('aborts a transaction whose read key changed after it read it', () => {
    const db = new Database();
    seed(db, { a: 1 });
    const t1 = new Transaction('t1');
    expect(db.get(t1, 't', 'a')).toEqual({ ok: true, value: 1 });
    const t2 = new Transaction('t2');
    db.put(t2, { table: 't', key: 'a', value: 2 });
    committed(db, t2);
    db.put(t1, { table: 't', key: 'b', value: 1 });
    expect(db.commit(t1)).toEqual({ conflict: expect.stringMatching(/t\/a was written at LSN 2/) });
    expect(db.read('t', 'b')).toBeNull(); // nothing of an aborted transaction applies
  });

  it('commits transactions that read and write disjoint keys, in LSN order', () => {
    const db = new Database();
    seed(db, { a: 1, b: 1 });
    const t1 = new Transaction('t1');
    const t2 = new Transaction('t2');
    db.get(t1, 't', 'a');
    db.get(t2, 't', 'b');
    db.put(t1, { table: 't', key: 'a', value: 10 });
    db.put(t2, { table: 't', key: 'b', value: 20 });
    expect([committed(db, t2), committed(db, t1)]).toEqual([2, 3]);
    expect(db.rows('t')).toEqual([
      ['a', 10],
      ['b', 20],
    ]);
  });

  it('sees a phantom: an insert or a delete inside a scanned range conflicts, outside it does not', () => {
    const db = new Database();
    seed(db, { b: 1, d: 1, f: 1 });
    const scanner = new Transaction('scan');
    expect(db.scan(scanner, 't', 'a', 2)).toEqual({
      ok: true,
      value: [
        ['b', 1],
        ['d', 1],
      ],
    });
    const outside = new Transaction('outside');
    db.put(outside, { table: 't', key: 'e', value: 1 }); // past the last key the scan looked at
    committed(db, outside);
    db.put(scanner, { table: 'u', key: 'k', value: 1 });
    expect(db.conflict(scanner)).toBeNull();
    const insert = new Transaction('insert');
    db.put(insert, { table: 't', key: 'c', value: 1 });
    committed(db, insert);
    expect(db.conflict(scanner)).toMatch(/t\/c was written/);

    const full = new Transaction('full');
    db.scan(full, 't', '', 100); // to the end of the table
    const remove = new Transaction('remove');
    db.put(remove, { table: 't', key: 'f', value: null });
    committed(db, remove);
    expect(db.conflict(full)).toMatch(/t\/f was written/);
    const append = new Transaction('append');
    const late = new Transaction('late');
    db.scan(late, 't', '', 100);
    db.put(append, { table: 't', key: 'zz', value: 1 }); // beyond every key: still in range
    committed(db, append);
    expect(db.conflict(late)).toMatch(/t\/zz was written/);
  });

  it('reads its own writes, deletes included, in get and scan', () => {
    const db = new Database();
    seed(db, { a: 1, b: 1, c: 1 });
    const tx = new Transaction('own');
    db.put(tx, { table: 't', key: 'b', value: null });
    db.put(tx, { table: 't', key: 'bb', value: 2 });
    db.put(tx, { table: 't', key: 'a', value: 3 });
    expect(db.get(tx, 't', 'b')).toEqual({ ok: true, value: null });
    expect(db.scan(tx, 't', '', 10)).toEqual({
      ok: true,
      value: [
        ['a', 3],
        ['bb', 2],
        ['c', 1],
      ],
    });
    committed(db, tx);
    expect(db.rows('t')).toEqual([
      ['a', 3],
      ['bb', 2],
      ['c', 1],
    ]);
  });

  it('shows a commit to reads only once it is visible (durable), and aborts a reader that missed it', () => {
    const db = new Database();
    seed(db, { a: 1 });
    const writer = new Transaction('writer');
    db.put(writer, { table: 't', key: 'a', value: 2 });
    db.put(writer, { table: 't', key: 'b', value: 2 });
    const pending = db.commit(writer);
    expect('conflict' in pending).toBe(false);
    const reader = new Transaction('reader');
    expect(db.get(reader, 't', 'a')).toEqual({ ok: true, value: 1 }); // not durable yet
    expect(db.scan(reader, 't', '', 10)).toEqual({ ok: true, value: [['a', 1]] });
    expect(db.conflict(reader)).toMatch(/t\/a was written at LSN 2, after it was read at 1/);
    db.makeVisible(pending as Exclude<typeof pending, { conflict: string }>);
    const later = new Transaction('later');
    expect(db.get(later, 't', 'b')).toEqual({ ok: true, value: 2 });
    expect(db.conflict(later)).toBeNull();
    expect([db.appliedLsn, db.visibleEndLsn]).toEqual([2, 2]);
  });

  it('never aborts a blind write, and keeps the order of last writes', () => {
    const db = new Database();
    const reader = new Transaction('reader');
    db.get(reader, 't', 'a');
    const blind = new Transaction('blind');
    db.put(blind, { table: 't', key: 'b', value: 1 });
    db.put(blind, { table: 't', key: 'a', value: 1 });
    db.put(blind, { table: 't', key: 'b', value: 2 });
    const result = db.commit(blind);
    expect(
      'conflict' in result ? [] : result.writes.map((write) => [write.key, write.value]),
    ).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(db.conflict(reader)).toMatch(/t\/a/);
  });
});

type Op =
  | { kind: 'get'; key: string }
  | { kind: 'scan'; fromKey: string; limit: number }
  | { kind: 'put'; key: string; value: number | null };

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  keyArb.map((key) => ({ kind: 'get' as const, key })),
  fc
    .tuple(fc.constantFrom('', 'b', 'c', 'e'), fc.integer({ min: 1, max: 4 }))
    .map(([fromKey, limit]) => ({ kind: 'scan' as const, fromKey, limit })),
  fc
    .tuple(keyArb, fc.option(fc.integer({ min: 0, max: 99 }), { nil: null }))
    .map(([key, value]) => ({ kind: 'put' as const, key, value })),
);

/** What an op returns on a plain map overlaid with the transaction's own writes. */
function serialResult(state: Map<string, DbValue>, own: Map<string, DbValue>, op: Op): unknown {
  const value = (key: string) =>
    own.has(key) ? (own.get(key) as DbValue) : (state.get(key) ?? null);
  if (op.kind === 'get') {
    return value(op.key);
  }
  if (op.kind === 'put') {
    own.set(op.key, op.value);
    return null;
  }
  const keys = [...new Set([...state.keys(), ...own.keys()])]
    .filter((key) => key >= op.fromKey)
    .sort();
  return keys
    .map((key) => [key, value(key)] as [string, DbValue])
    .filter(([, found]) => found !== null)
    .slice(0, op.limit);
}

describe('database serializability', () => {
  it('committed transactions, replayed serially in LSN order, see what they saw', () => {
    const totals = { aborted: 0, committed: 0 };
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        (programs, schedule) => {
          const db = new Database();
          const txs = programs.map((_, index) => new Transaction(`t${index}`));
          const seen: unknown[][] = programs.map(() => []);
          const next = programs.map(() => 0);
          const lsns = new Map<number, number>(); // tx index → commit LSN
          const invisible: WalTx[] = []; // committed, commit record not yet durable
          const aborted = new Set<number>();
          const done = () => next.every((at, index) => at > (programs[index] as Op[]).length);
          let step = 0;
          // Each step advances one transaction by one op (or its commit): bounded by the ops.
          while (!done()) {
            const live = next
              .map((at, index) => (at <= (programs[index] as Op[]).length ? index : -1))
              .filter((index) => index >= 0);
            const index = live[
              (schedule[step++ % schedule.length] as number) % live.length
            ] as number;
            if (
              invisible.length > 0 &&
              (schedule[(step * 7) % schedule.length] as number) % 3 === 0
            ) {
              db.makeVisible(invisible.shift() as WalTx);
            }
            const tx = txs[index] as Transaction;
            const program = programs[index] as Op[];
            const op = program[next[index] as number];
            next[index] = (next[index] as number) + 1;
            if (op === undefined) {
              const result = db.commit(tx);
              if ('conflict' in result) {
                aborted.add(index);
              } else {
                lsns.set(index, result.lsn);
                invisible.push(result);
              }
              continue;
            }
            const outcome =
              op.kind === 'get'
                ? db.get(tx, 't', op.key)
                : op.kind === 'scan'
                  ? db.scan(tx, 't', op.fromKey, op.limit)
                  : db.put(tx, { table: 't', key: op.key, value: op.value });
            expect(outcome.ok).toBe(true);
            seen[index]?.push(outcome.ok ? outcome.value : undefined);
          }
          for (const tx of invisible.splice(0)) {
            db.makeVisible(tx);
          }
          const state = new Map<string, DbValue>();
          const order = [...lsns.entries()].sort((a, b) => a[1] - b[1]);
          expect(order.map(([, lsn]) => lsn)).toEqual(order.map((_, at) => at + 1));
          for (const [index] of order) {
            const own = new Map<string, DbValue>();
            const results = (programs[index] as Op[]).map((op) => serialResult(state, own, op));
            expect(results).toEqual(seen[index]);
            for (const [key, value] of own) {
              state.set(key, value);
            }
          }
          const live = [...state.entries()]
            .filter(([, value]) => value !== null)
            .sort((a, b) => (a[0] < b[0] ? -1 : 1));
          expect(db.rows('t')).toEqual(live);
          expect(aborted.size + lsns.size).toBe(programs.length);
          totals.aborted += aborted.size;
          totals.committed += lsns.size;
        },
      ),
      { numRuns: 500 },
    );
    // Not vacuous: the interleavings both commit and abort plenty.
    expect(totals.aborted).toBeGreaterThan(100);
    expect(totals.committed).toBeGreaterThan(500);
  });
});
