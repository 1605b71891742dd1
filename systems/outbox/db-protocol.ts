// The database node's wire protocol: request/response over the simulated network. Every
// request carries a `reqId` that its reply echoes; a client matches replies by it alone.
//
// Refinements of the sketch, each needed for exactly-once effects on a network that
// drops, duplicates, reorders and replays messages:
// - `begin` answers with a `handle` the node draws (unique across its restarts). Every later
//   request of the transaction carries it: a stale duplicate of an old `put` or `commit` that
//   arrives after a restart, or after the transaction ended, names a handle that is not open,
//   and is refused instead of re-creating (and committing) a transaction the client was told
//   had aborted.
// - each request of a transaction carries `seq` (1, 2, … after begin): the node applies the
//   next one only, answers a duplicate of the last from its cached reply, and refuses older
//   ones ('stale'). So a late copy of `put k=1` cannot overwrite a later `put k=2`.
// - `reqId` is a string that includes the client's boot nonce (db-client.ts): a reply to an
//   earlier incarnation of a client can never match a request of a later one.
// Semantics: serializable transactions (optimistic: a commit whose reads changed since aborts
// with 'conflict'); reads see committed transactions only once their commit record is durable,
// so nothing read can be taken back by a crash; a commit is answered only once durable.
// Message types start with `db-` so that they can share nodes with Kafka's messages.
import type { Message } from '../../sim/types.ts';

/** What a table holds: anything msgpack can carry, plain data only. */
export type DbValue =
  | null
  | boolean
  | number
  | string
  | readonly DbValue[]
  | { readonly [field: string]: DbValue };

/** A place in the change feed: the commit LSN of a transaction and a change's index in it. */
export interface LogPosition {
  readonly lsn: number;
  readonly index: number;
}

/** One committed change, as the change feed returns it. `value` null is a delete. */
export interface DbChange {
  readonly lsn: number;
  /** 0 … n−1 within the transaction committed at `lsn`, in the order it wrote them. */
  readonly index: number;
  readonly txId: string;
  readonly table: string;
  readonly key: string;
  readonly value: DbValue;
}

/** Limits every request is checked against ('bad-request' beyond them). */
export const SCAN_LIMIT_MAX = 1000;
/** Keys in one get-many, writes in one put-many (one statement of many rows, as SQL's IN and multi-row INSERT). */
export const MANY_MAX = 64;
export const CHANGES_MAX = 1000;
export const NAME_BYTES_MAX = 256;

type TxRequest = {
  readonly reqId: string;
  readonly txId: string;
  /** From begin's reply. */
  readonly handle: number;
  /** 1, 2, … for the requests after begin, in the order the client sends them. */
  readonly seq: number;
};

export type DbRequest =
  | { readonly type: 'db-begin'; readonly reqId: string; readonly txId: string }
  | (TxRequest & { readonly type: 'db-get'; readonly table: string; readonly key: string })
  | (TxRequest & {
      readonly type: 'db-scan';
      readonly table: string;
      /** Rows with keys >= fromKey (absent: from the first key). */
      readonly fromKey?: string;
      readonly limit: number;
    })
  | (TxRequest & {
      readonly type: 'db-put';
      readonly table: string;
      readonly key: string;
      /** null deletes the key. */
      readonly value: DbValue;
    })
  | (TxRequest & {
      readonly type: 'db-get-many';
      readonly table: string;
      /** 1 to MANY_MAX keys; the reply holds their values in this order. */
      readonly keys: readonly string[];
    })
  | (TxRequest & {
      readonly type: 'db-put-many';
      /** 1 to MANY_MAX writes, buffered in order (a later write of a key wins). */
      readonly writes: readonly DbWrite[];
    })
  | (TxRequest & { readonly type: 'db-commit' })
  | (TxRequest & { readonly type: 'db-rollback' })
  | {
      readonly type: 'db-changes';
      readonly reqId: string;
      /** Changes strictly after this position; null: from the start of the log. */
      readonly after: LogPosition | null;
      readonly maxChanges: number;
    };

export type DbOp =
  | 'begin'
  | 'get'
  | 'get-many'
  | 'scan'
  | 'put'
  | 'put-many'
  | 'commit'
  | 'rollback'
  | 'changes';

/** One row written: null deletes the key. */
export interface DbWrite {
  readonly table: string;
  readonly key: string;
  readonly value: DbValue;
}

export const DB_REQUEST_OPS: Readonly<Record<DbRequest['type'], DbOp>> = {
  'db-begin': 'begin',
  'db-get': 'get',
  'db-get-many': 'get-many',
  'db-scan': 'scan',
  'db-put': 'put',
  'db-put-many': 'put-many',
  'db-commit': 'commit',
  'db-rollback': 'rollback',
  'db-changes': 'changes',
};

export type DbErrorCode =
  /** The handle is not open: the node restarted, or the transaction ended, or never began. */
  | 'no-such-tx'
  /** An older request of the transaction than its last (a late duplicate). */
  | 'stale'
  /** A request of the transaction skipped one (seq beyond last + 1). */
  | 'out-of-order'
  /** The node is at a limit (open transactions, commits waiting for an fsync): retry later. */
  | 'busy'
  /** The node found its durable log damaged and refuses to serve (see its log). */
  | 'unavailable'
  /** Malformed or beyond a limit (names, scan limit, writes per transaction). */
  | 'bad-request';

export type CommitOutcome =
  | { readonly outcome: 'committed'; readonly lsn: number }
  /**
   * 'conflict': something it read changed before it could commit. 'unknown': the node has no
   * such transaction committed or open (lost with a crash before its commit, or never begun):
   * it did not commit and never will.
   */
  | { readonly outcome: 'aborted'; readonly reason: 'conflict' | 'unknown' };

export type DbReplyBody =
  | { readonly op: 'begin'; readonly handle: number }
  | { readonly op: 'get'; readonly value: DbValue }
  | { readonly op: 'get-many'; readonly values: readonly DbValue[] }
  | { readonly op: 'scan'; readonly rows: readonly (readonly [string, DbValue])[] }
  | { readonly op: 'put' }
  | { readonly op: 'put-many' }
  | ({ readonly op: 'commit' } & CommitOutcome)
  | { readonly op: 'rollback' }
  | {
      readonly op: 'changes';
      readonly changes: readonly DbChange[];
      /** The commit LSN of the last durable transaction (0: none). */
      readonly endLsn: number;
    }
  | { readonly op: DbOp; readonly error: DbErrorCode; readonly detail: string };

export type DbReply = { readonly type: 'db-reply'; readonly reqId: string } & DbReplyBody;

export type DbMessage = DbRequest | DbReply;

export function isDbRequest(message: Message): message is Message & DbRequest {
  return message.type in DB_REQUEST_OPS;
}

export function isDbReply(message: Message): message is Message & DbReply {
  return message.type === 'db-reply';
}

export function isDbError(
  body: DbReplyBody,
): body is { readonly op: DbOp; readonly error: DbErrorCode; readonly detail: string } {
  return 'error' in body;
}

/** Compares change-feed positions: negative, zero or positive, as (lsn, index) in order. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.lsn !== b.lsn ? a.lsn - b.lsn : a.index - b.index;
}

/** A rough wire size (for the network's byte counts): JSON's length is close to msgpack's. */
export function wireBytes(message: DbMessage): number {
  return 16 + JSON.stringify(message).length;
}
