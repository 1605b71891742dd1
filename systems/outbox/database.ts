// The database's tables and its optimistic concurrency control, as a pure state machine (no
// I/O: db-node.ts feeds it requests and its WAL).
//
// Tables are named maps key → value with keys in sorted order. A transaction reads the
// latest committed state (its own buffered writes first), and records what it read as key
// ranges, each with the LSN it was read at: a get is the range [key, key], a scan the range
// from its first key to the last one it looked at (or to the end of the table when it ran out
// of rows). Writes are buffered in the transaction. At commit it is validated backwards: if
// any key in any range it read was written by a transaction committed after that read, it
// aborts ('conflict'); otherwise it takes the next LSN and its writes apply at once. Commits
// apply one at a time in LSN order, each validated against everything before it, so the
// committed transactions are serializable in LSN order. A deleted key stays as a tombstone
// (value null, the deleting LSN as its version), so that a scan sees a delete (and an
// insert) in its range as a change.
import { assert, fail } from '../../sim/assert.ts';
import type { DbValue } from './db-protocol.ts';
import type { WalTx, WalWrite } from './wal.ts';

/** Tables at most; a put creating one beyond is refused (concurrent ones may pass it by a few). */
export const TABLES_MAX = 64;
export const READS_PER_TX_MAX = 1024;
export const WRITES_PER_TX_MAX = 256;

interface Row {
  /** null: a tombstone. */
  value: DbValue;
  /** The LSN of the transaction that last wrote it. */
  version: number;
}

class Table {
  readonly rows = new Map<string, Row>();
  /** Every key with a row (tombstones too), sorted. */
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

  set(key: string, value: DbValue, version: number): void {
    const row = this.rows.get(key);
    if (row !== undefined) {
      row.value = value;
      row.version = version;
      return;
    }
    this.keys.splice(this.lowerBound(key), 0, key);
    this.rows.set(key, { value, version });
  }
}

/** A key range a transaction read, and the applied LSN it read it at. */
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

export class Database {
  private readonly tables = new Map<string, Table>();
  private lsn = 0;

  /** The LSN of the last transaction applied. */
  get appliedLsn(): number {
    return this.lsn;
  }

  tableNames(): string[] {
    return [...this.tables.keys()].sort();
  }

  /** The table's live rows in key order (for checkers and tests). */
  rows(table: string): [string, DbValue][] {
    const found = this.tables.get(table);
    if (found === undefined) {
      return [];
    }
    const rows: [string, DbValue][] = [];
    for (const key of found.keys) {
      const value = (found.rows.get(key) as Row).value;
      if (value !== null) {
        rows.push([key, value]);
      }
    }
    return rows;
  }

  /** The committed value of one key (null: absent), outside any transaction. */
  read(table: string, key: string): DbValue {
    return this.tables.get(table)?.rows.get(key)?.value ?? null;
  }

  get(tx: Transaction, table: string, key: string): ReadOutcome<DbValue> {
    const own = tx.writes.get(writeKey(table, key));
    if (own !== undefined) {
      return { ok: true, value: own.value };
    }
    const recorded = this.record(tx, { table, fromKey: key, toKey: key, atLsn: this.lsn });
    return recorded ?? { ok: true, value: this.read(table, key) };
  }

  /** Up to `limit` live rows with keys >= fromKey, the transaction's own writes included. */
  scan(
    tx: Transaction,
    table: string,
    fromKey: string,
    limit: number,
  ): ReadOutcome<[string, DbValue][]> {
    assert(Number.isSafeInteger(limit) && limit >= 1, 'a scan returns at least one row');
    const own = [...tx.writes.values()]
      .filter((write) => write.table === table && write.key >= fromKey)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const found = this.tables.get(table);
    const keys = found?.keys ?? [];
    let at = found?.lowerBound(fromKey) ?? 0;
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
        const value = ((found as Table).rows.get(key) as Row).value;
        if (value !== null) {
          rows.push([key, value]);
        }
      }
    }
    const toKey = rows.length === limit ? lastSeen : null;
    const recorded = this.record(tx, { table, fromKey, toKey, atLsn: this.lsn });
    return recorded ?? { ok: true, value: rows };
  }

  /** Buffers a write (value null: a delete). */
  put(tx: Transaction, write: WalWrite): ReadOutcome<null> {
    const key = writeKey(write.table, write.key);
    if (!tx.writes.has(key) && tx.writes.size >= WRITES_PER_TX_MAX) {
      return { ok: false, reason: `more than ${WRITES_PER_TX_MAX} writes in one transaction` };
    }
    if (!this.tables.has(write.table) && this.tables.size >= TABLES_MAX) {
      return { ok: false, reason: `more than ${TABLES_MAX} tables` };
    }
    tx.writes.delete(key); // so that the order is the order of last writes
    tx.writes.set(key, write);
    return { ok: true, value: null };
  }

  /** Why the transaction cannot commit now, or null when every range it read is unchanged. */
  conflict(tx: Transaction): string | null {
    for (const range of tx.reads) {
      const found = this.tables.get(range.table);
      if (found === undefined) {
        continue;
      }
      if (range.toKey === range.fromKey) {
        const row = found.rows.get(range.fromKey);
        if (row !== undefined && row.version > range.atLsn) {
          return `${range.table}/${range.fromKey} was written at LSN ${row.version}, after it was read at ${range.atLsn}`;
        }
        continue;
      }
      // Bounded by the table's size.
      for (let at = found.lowerBound(range.fromKey); at < found.keys.length; at++) {
        const key = found.keys[at] as string;
        if (range.toKey !== null && key > range.toKey) {
          break;
        }
        const version = (found.rows.get(key) as Row).version;
        if (version > range.atLsn) {
          return `${range.table}/${key} was written at LSN ${version}, after a scan over it at ${range.atLsn}`;
        }
      }
    }
    return null;
  }

  /** Validates and applies: the committed transaction, or why it conflicts. */
  commit(tx: Transaction): WalTx | { readonly conflict: string } {
    const conflict = this.conflict(tx);
    if (conflict !== null) {
      return { conflict };
    }
    const committed: WalTx = { lsn: this.lsn + 1, txId: tx.txId, writes: [...tx.writes.values()] };
    this.apply(committed);
    return committed;
  }

  /** Applies a committed transaction (a commit, or one replayed from the WAL). */
  apply(tx: WalTx): void {
    if (tx.lsn !== this.lsn + 1) {
      fail(`applying LSN ${tx.lsn} after ${this.lsn}`);
    }
    for (const write of tx.writes) {
      let table = this.tables.get(write.table);
      if (table === undefined) {
        table = new Table();
        this.tables.set(write.table, table);
      }
      table.set(write.key, write.value, tx.lsn);
    }
    this.lsn = tx.lsn;
  }

  private record(tx: Transaction, range: ReadRange): { ok: false; reason: string } | undefined {
    if (tx.reads.length >= READS_PER_TX_MAX) {
      return { ok: false, reason: `more than ${READS_PER_TX_MAX} reads in one transaction` };
    }
    tx.reads.push(range);
    return undefined;
  }
}
