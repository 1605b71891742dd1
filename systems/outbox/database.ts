// The database's tables and its optimistic concurrency control, as a pure state machine (no
// I/O: db-node.ts feeds it requests and its WAL).
//
// Tables are named maps key → value with keys in sorted order. A commit goes through two
// steps, as in PostgreSQL: it is validated and takes the next LSN at once (`commit`), and
// becomes visible to reads only once its commit record is durable (`makeVisible`). So no
// transaction ever reads what a crash can still take back: a relay that publishes what it
// scanned, or a consumer that skips an event it finds processed, acts on durable data only.
//
// A transaction reads the visible state (its own buffered writes first) and records what it
// read as key ranges, each with the visible LSN it was read at: a get is the range [key, key],
// a scan the range from its first key to the last one it looked at (or to the end of the
// table when it ran out of rows). Writes are buffered in the transaction. At commit it is
// validated backwards against every transaction committed before it, visible or not: if any
// key in any range it read was written by one with an LSN above that read's, it aborts
// ('conflict'). So what it read is the state after LSN n − 1, where n is its own LSN, and the
// committed transactions are serializable in LSN order. Versions keep a tombstone for a
// deleted key, so that a scan sees a delete (and an insert) in its range as a change.
import { assert, fail } from '../../sim/assert.ts';
import type { DbValue } from './db-protocol.ts';
import type { WalTx, WalWrite } from './wal.ts';

/** Tables at most; a put creating one beyond is refused (concurrent ones may pass it by a few). */
export const TABLES_MAX = 64;
export const READS_PER_TX_MAX = 1024;
export const WRITES_PER_TX_MAX = 256;

/** A map with its keys kept sorted, for range reads. */
class SortedMap<V> {
  readonly entries = new Map<string, V>();
  readonly keys: string[] = [];

  /** The position of the first key >= `key`. */
  lowerBound(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.keys[middle] as string) < key) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  set(key: string, value: V): void {
    if (!this.entries.has(key)) {
      this.keys.splice(this.lowerBound(key), 0, key);
    }
    this.entries.set(key, value);
  }

  delete(key: string): void {
    if (this.entries.delete(key)) {
      this.keys.splice(this.lowerBound(key), 1);
    }
  }
}

/** A key range a transaction read, and the visible LSN it read it at. */
export interface ReadRange {
  readonly table: string;
  readonly fromKey: string;
  /** Inclusive; null: to the end of the table. */
  readonly toKey: string | null;
  readonly atLsn: number;
}

export class Transaction {
  readonly reads: ReadRange[] = [];
  /** Buffered writes by `table\0key`, in the order last written. */
  readonly writes = new Map<string, WalWrite>();

  constructor(readonly txId: string) {}
}

export type ReadOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

function writeKey(table: string, key: string): string {
  return `${table}\u0000${key}`;
}

function byKey(a: WalWrite, b: WalWrite): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class Database {
  /** What reads see: the live rows of every visible (durable) transaction. */
  private readonly values = new Map<string, SortedMap<DbValue>>();
  /** Per key, the LSN of the last committed transaction that wrote it (tombstones kept). */
  private readonly versions = new Map<string, SortedMap<number>>();
  private committedLsn = 0;
  private visibleLsn = 0;

  /** The LSN of the last transaction committed (validated), visible or not. */
  get appliedLsn(): number {
    return this.committedLsn;
  }

  /** The LSN of the last transaction visible to reads. */
  get visibleEndLsn(): number {
    return this.visibleLsn;
  }

  tableNames(): string[] {
    return [...this.values.keys()].filter((name) => this.rows(name).length > 0).sort();
  }

  /** The table's visible rows in key order (for checkers and tests). */
  rows(table: string): [string, DbValue][] {
    const found = this.values.get(table);
    return found === undefined
      ? []
      : found.keys.map((key) => [key, found.entries.get(key) as DbValue]);
  }

  /** The visible value of one key (null: absent), outside any transaction. */
  read(table: string, key: string): DbValue {
    return this.values.get(table)?.entries.get(key) ?? null;
  }

  get(tx: Transaction, table: string, key: string): ReadOutcome<DbValue> {
    const own = tx.writes.get(writeKey(table, key));
    if (own !== undefined) {
      return { ok: true, value: own.value };
    }
    const recorded = this.record(tx, { table, fromKey: key, toKey: key, atLsn: this.visibleLsn });
    return recorded ?? { ok: true, value: this.read(table, key) };
  }

  /** Up to `limit` visible rows with keys >= fromKey, the transaction's own writes included. */
  scan(
    tx: Transaction,
    table: string,
    fromKey: string,
    limit: number,
  ): ReadOutcome<[string, DbValue][]> {
    assert(Number.isSafeInteger(limit) && limit >= 1, 'a scan returns at least one row');
    const own = [...tx.writes.values()]
      .filter((write) => write.table === table && write.key >= fromKey)
      .sort(byKey);
    const found = this.values.get(table) ?? new SortedMap<DbValue>();
    const keys = found.keys;
    let at = found.lowerBound(fromKey);
    let ownAt = 0;
    let lastSeen: string | null = null;
    const rows: [string, DbValue][] = [];
    // Each step consumes a key of the table or of the transaction's writes.
    while (rows.length < limit && (at < keys.length || ownAt < own.length)) {
      const tableKey = keys[at];
      const write = own[ownAt];
      if (write !== undefined && (tableKey === undefined || write.key <= tableKey)) {
        if (write.key === tableKey) {
          at++;
        }
        ownAt++;
        lastSeen = write.key;
        if (write.value !== null) {
          rows.push([write.key, write.value]);
        }
      } else {
        const key = tableKey as string;
        at++;
        lastSeen = key;
        rows.push([key, found.entries.get(key) as DbValue]);
      }
    }
    const toKey = rows.length === limit ? lastSeen : null;
    const recorded = this.record(tx, { table, fromKey, toKey, atLsn: this.visibleLsn });
    return recorded ?? { ok: true, value: rows };
  }

  /** Buffers a write (value null: a delete). */
  put(tx: Transaction, write: WalWrite): ReadOutcome<null> {
    const key = writeKey(write.table, write.key);
    if (!tx.writes.has(key) && tx.writes.size >= WRITES_PER_TX_MAX) {
      return { ok: false, reason: `more than ${WRITES_PER_TX_MAX} writes in one transaction` };
    }
    if (!this.versions.has(write.table) && this.versions.size >= TABLES_MAX) {
      return { ok: false, reason: `more than ${TABLES_MAX} tables` };
    }
    tx.writes.delete(key); // so that the order is the order of last writes
    tx.writes.set(key, write);
    return { ok: true, value: null };
  }

  /** Why the transaction cannot commit now, or null when every range it read is unchanged. */
  conflict(tx: Transaction): string | null {
    for (const range of tx.reads) {
      const found = this.versions.get(range.table);
      if (found === undefined) {
        continue;
      }
      if (range.toKey === range.fromKey) {
        const version = found.entries.get(range.fromKey);
        if (version !== undefined && version > range.atLsn) {
          return `${range.table}/${range.fromKey} was written at LSN ${version}, after it was read at ${range.atLsn}`;
        }
        continue;
      }
      // Bounded by the table's size.
      for (let at = found.lowerBound(range.fromKey); at < found.keys.length; at++) {
        const key = found.keys[at] as string;
        if (range.toKey !== null && key > range.toKey) {
          break;
        }
        const version = found.entries.get(key) as number;
        if (version > range.atLsn) {
          return `${range.table}/${key} was written at LSN ${version}, after a scan over it at ${range.atLsn}`;
        }
      }
    }
    return null;
  }

  /**
   * Validates and, when nothing it read changed, commits: the transaction takes the next LSN
   * and later commits validate against its writes. It becomes visible with makeVisible.
   */
  commit(tx: Transaction): WalTx | { readonly conflict: string } {
    const conflict = this.conflict(tx);
    if (conflict !== null) {
      return { conflict };
    }
    const committed: WalTx = {
      lsn: this.committedLsn + 1,
      txId: tx.txId,
      writes: [...tx.writes.values()],
    };
    this.recordVersions(committed);
    return committed;
  }

  /** The committed transaction at the next visible LSN is durable: reads see it from now on. */
  makeVisible(tx: WalTx): void {
    if (tx.lsn !== this.visibleLsn + 1 || tx.lsn > this.committedLsn) {
      fail(
        `making LSN ${tx.lsn} visible after ${this.visibleLsn} (committed ${this.committedLsn})`,
      );
    }
    for (const write of tx.writes) {
      let table = this.values.get(write.table);
      if (table === undefined) {
        table = new SortedMap<DbValue>();
        this.values.set(write.table, table);
      }
      if (write.value === null) {
        table.delete(write.key);
      } else {
        table.set(write.key, write.value);
      }
    }
    this.visibleLsn = tx.lsn;
  }

  /** Replays a durable transaction from the WAL: committed and visible at once. */
  apply(tx: WalTx): void {
    assert(this.visibleLsn === this.committedLsn, 'replay only onto a fully visible state');
    this.recordVersions(tx);
    this.makeVisible(tx);
  }

  private recordVersions(tx: WalTx): void {
    if (tx.lsn !== this.committedLsn + 1) {
      fail(`committing LSN ${tx.lsn} after ${this.committedLsn}`);
    }
    for (const write of tx.writes) {
      let table = this.versions.get(write.table);
      if (table === undefined) {
        table = new SortedMap<number>();
        this.versions.set(write.table, table);
      }
      table.set(write.key, tx.lsn);
    }
    this.committedLsn = tx.lsn;
  }

  private record(tx: Transaction, range: ReadRange): { ok: false; reason: string } | undefined {
    if (tx.reads.length >= READS_PER_TX_MAX) {
      return { ok: false, reason: `more than ${READS_PER_TX_MAX} reads in one transaction` };
    }
    tx.reads.push(range);
    return undefined;
  }
}
