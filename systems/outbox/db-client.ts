// A client library for the database node, embedded in a node program (the order service,
// the relays, the consumers): it is not a node. Node handlers never block, so neither does
// this: each call sends a request and returns its reqId; the program hands every message and
// timer it gets to `onMessage` / `onTimer`, which return the completion they carry (or null
// when it is not this client's), and the program takes its next step from there.
//
// Retries: an unanswered request is sent again, unchanged (same reqId, same seq), every
// `attemptTimeoutUs`, at most `attemptsMax` times; then it completes with error 'timeout'.
// Re-sending is safe because the node answers a duplicate of a transaction's last request from
// its cached reply, and a commit from its committed-txId set (db-protocol.ts).
//
// Transaction ids: `${clientName}:${counter}`. A program that restarts loses its counter, so
// the default clientName is `${node name}.${boot nonce}`, the nonce drawn from the node's
// random stream, which is a fresh stream in every incarnation: a restarted program never
// reuses an id (a collision needs two equal 32-bit draws on one node). A program that wants
// stable names across restarts passes its own clientName, and must then persist its counter.
//
// One request at a time per transaction (the node applies them in seq order). After a get,
// scan or put of a transaction timed out, whether it took effect is unknown: the transaction
// is broken and only rollback may follow (the node also reaps idle transactions). After a
// commit timed out, `commit(tx)` again asks for the same commit (same seq): the node answers
// committed, or aborted: unknown when the transaction was lost with a crash.
import { assert, fail } from '../../sim/assert.ts';
import type { Message, NodeContext, NodeId } from '../../sim/types.ts';
import {
  DB_REQUEST_OPS,
  type DbOp,
  type DbReplyBody,
  type DbRequest,
  type DbValue,
  type DbWrite,
  isDbError,
  isDbReply,
  type LogPosition,
  MANY_MAX,
  wireBytes,
} from './db-protocol.ts';

export interface DbClientOptions {
  /** The group of the database node (a one-node group, e.g. 'db'). */
  readonly dbGroup: string;
  /** Default `${ctx.name}.${boot nonce}`. */
  readonly clientName?: string;
  readonly attemptTimeoutUs?: number;
  readonly attemptsMax?: number;
  /** The timer tag this client uses; give two clients in one program different tags. */
  readonly timerTag?: string;
}

const ATTEMPT_TIMEOUT_US_DEFAULT = 100_000;
const ATTEMPTS_MAX_DEFAULT = 10;
/** After a 'busy' answer, wait this long before the next attempt. */
const BUSY_BACKOFF_US = 20_000;
const IN_FLIGHT_MAX = 64;

/** A transaction as the client holds it. Fields are the client's to change. */
export interface DbTx {
  readonly txId: string;
  readonly handle: number;
  /** The seq of the last request sent (0 after begin). */
  seq: number;
  /** The seq of its commit, once one was sent: a second commit() re-sends the same. */
  commitSeq: number | null;
  /** A request timed out with its effect unknown: only rollback may follow. */
  broken: boolean;
  /** A request of it is in flight. */
  busy: boolean;
}

export type DbTimeout = { readonly op: DbOp; readonly error: 'timeout'; readonly detail: string };

export interface DbCompletion {
  readonly reqId: string;
  readonly request: DbRequest;
  /** The node's reply, or a timeout after attemptsMax attempts. */
  readonly reply: DbReplyBody | DbTimeout;
  /** The transaction it belongs to (begin: the one it opened, when it succeeded). */
  readonly tx: DbTx | null;
  /** Attempts made (1 = answered first time). */
  readonly attempts: number;
}

interface InFlight {
  readonly request: DbRequest;
  readonly tx: DbTx | null;
  attempts: number;
  timerId: number;
}

export class DbClient {
  readonly clientName: string;
  private readonly db: NodeId;
  private readonly attemptTimeoutUs: number;
  private readonly attemptsMax: number;
  private readonly timerTag: string;
  private txCounter = 0;
  private reqCounter = 0;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly byTimer = new Map<number, string>();

  constructor(
    private readonly ctx: NodeContext,
    options: DbClientOptions,
  ) {
    const members = ctx.members(options.dbGroup);
    assert(members.length === 1, `group ${options.dbGroup} must hold exactly one database node`);
    this.db = members[0] as NodeId;
    this.clientName = options.clientName ?? `${ctx.name}.${ctx.random.uint32().toString(36)}`;
    this.attemptTimeoutUs = options.attemptTimeoutUs ?? ATTEMPT_TIMEOUT_US_DEFAULT;
    this.attemptsMax = options.attemptsMax ?? ATTEMPTS_MAX_DEFAULT;
    this.timerTag = options.timerTag ?? 'db-client';
    assert(this.attemptTimeoutUs >= 1 && this.attemptsMax >= 1, 'bad db client limits');
  }

  /** A transaction id never used before by this client (nor by an earlier incarnation). */
  nextTxId(): string {
    this.txCounter++;
    return `${this.clientName}:${this.txCounter}`;
  }

  /** Requests in flight; at most IN_FLIGHT_MAX. */
  get pending(): number {
    return this.inFlight.size;
  }

  begin(txId: string = this.nextTxId()): string {
    return this.send({ type: 'db-begin', reqId: this.nextReqId(), txId }, null);
  }

  get(tx: DbTx, table: string, key: string): string {
    return this.send({ type: 'db-get', ...this.txFields(tx), table, key }, tx);
  }

  /** Reads several keys of one table in one request; the reply's values are in key order. */
  getMany(tx: DbTx, table: string, keys: readonly string[]): string {
    assert(keys.length >= 1 && keys.length <= MANY_MAX, 'get-many takes 1 to 64 keys');
    return this.send({ type: 'db-get-many', ...this.txFields(tx), table, keys: [...keys] }, tx);
  }

  /** Buffers several writes in one request (value null deletes the key). */
  putMany(tx: DbTx, writes: readonly DbWrite[]): string {
    assert(writes.length >= 1 && writes.length <= MANY_MAX, 'put-many takes 1 to 64 writes');
    return this.send({ type: 'db-put-many', ...this.txFields(tx), writes: [...writes] }, tx);
  }

  scan(tx: DbTx, table: string, limit: number, fromKey?: string): string {
    const request: DbRequest =
      fromKey === undefined
        ? { type: 'db-scan', ...this.txFields(tx), table, limit }
        : { type: 'db-scan', ...this.txFields(tx), table, limit, fromKey };
    return this.send(request, tx);
  }

  /** Buffers a write in the transaction; value null deletes the key. */
  put(tx: DbTx, table: string, key: string, value: DbValue): string {
    return this.send({ type: 'db-put', ...this.txFields(tx), table, key, value }, tx);
  }

  /** Commits; called again after a timeout, asks for the same commit. */
  commit(tx: DbTx): string {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    if (tx.broken) {
      fail(`transaction ${tx.txId} is broken (a request timed out): roll it back`);
    }
    if (tx.commitSeq === null) {
      tx.seq++;
      tx.commitSeq = tx.seq;
    }
    const request: DbRequest = {
      type: 'db-commit',
      reqId: this.nextReqId(),
      txId: tx.txId,
      handle: tx.handle,
      seq: tx.commitSeq,
    };
    return this.send(request, tx);
  }

  /** Best effort: a lost rollback is reaped by the node as an idle transaction. */
  rollback(tx: DbTx): string {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    tx.seq++;
    const request: DbRequest = {
      type: 'db-rollback',
      reqId: this.nextReqId(),
      txId: tx.txId,
      handle: tx.handle,
      seq: tx.seq,
    };
    return this.send(request, tx);
  }

  /** The durable committed changes strictly after `after` (null: from the start). */
  changes(after: LogPosition | null, maxChanges: number): string {
    return this.send({ type: 'db-changes', reqId: this.nextReqId(), after, maxChanges }, null);
  }

  /** The completion a message carries, or null when it is not a reply to a request in flight. */
  onMessage(from: NodeId, message: Message): DbCompletion | null {
    if (from !== this.db || !isDbReply(message)) {
      return null;
    }
    const flight = this.inFlight.get(message.reqId);
    if (flight === undefined || DB_REQUEST_OPS[flight.request.type] !== message.op) {
      return null; // a duplicate, or a reply to a request that already completed
    }
    const { type: _type, reqId: _reqId, ...body } = message;
    const reply = body as DbReplyBody;
    if (isDbError(reply) && reply.error === 'busy' && flight.attempts < this.attemptsMax) {
      this.ctx.cancelTimer(flight.timerId);
      this.byTimer.delete(flight.timerId);
      flight.timerId = this.ctx.setTimer(BUSY_BACKOFF_US, this.timerTag);
      this.byTimer.set(flight.timerId, message.reqId);
      return null;
    }
    return this.complete(message.reqId, flight, reply);
  }

  /** The completion a timer brings (a request that gave up), or null. Resends otherwise. */
  onTimer(tag: string, timerId: number): DbCompletion | null {
    if (tag !== this.timerTag) {
      return null;
    }
    const reqId = this.byTimer.get(timerId);
    if (reqId === undefined) {
      return null;
    }
    this.byTimer.delete(timerId);
    const flight = this.inFlight.get(reqId);
    if (flight === undefined) {
      return null;
    }
    if (flight.attempts >= this.attemptsMax) {
      const op = DB_REQUEST_OPS[flight.request.type];
      return this.complete(reqId, flight, {
        op,
        error: 'timeout',
        detail: `no answer to ${op} after ${flight.attempts} attempts`,
      });
    }
    this.attempt(reqId, flight);
    return null;
  }

  /** Does this timer tag belong to this client? */
  ownsTimer(tag: string): boolean {
    return tag === this.timerTag;
  }

  private complete(reqId: string, flight: InFlight, reply: DbReplyBody | DbTimeout): DbCompletion {
    this.ctx.cancelTimer(flight.timerId);
    this.byTimer.delete(flight.timerId);
    this.inFlight.delete(reqId);
    let tx = flight.tx;
    if (tx !== null) {
      tx.busy = false;
      if ('error' in reply && reply.error === 'timeout' && flight.request.type !== 'db-commit') {
        tx.broken = true;
      }
    }
    if (flight.request.type === 'db-begin' && !('error' in reply) && reply.op === 'begin') {
      tx = {
        txId: flight.request.txId,
        handle: reply.handle,
        seq: 0,
        commitSeq: null,
        broken: false,
        busy: false,
      };
    }
    return { reqId, request: flight.request, reply, tx, attempts: flight.attempts };
  }

  private txFields(tx: DbTx): { reqId: string; txId: string; handle: number; seq: number } {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    if (tx.broken) {
      fail(`transaction ${tx.txId} is broken (a request timed out): roll it back`);
    }
    if (tx.commitSeq !== null) {
      fail(`transaction ${tx.txId} is committing`);
    }
    tx.seq++;
    return { reqId: this.nextReqId(), txId: tx.txId, handle: tx.handle, seq: tx.seq };
  }

  private nextReqId(): string {
    this.reqCounter++;
    return `${this.clientName}/${this.reqCounter}`;
  }

  private send(request: DbRequest, tx: DbTx | null): string {
    if (this.inFlight.size >= IN_FLIGHT_MAX) {
      fail(`db client ${this.clientName} has ${IN_FLIGHT_MAX} requests in flight already`);
    }
    if (tx !== null) {
      tx.busy = true;
    }
    const flight: InFlight = { request, tx, attempts: 0, timerId: -1 };
    this.inFlight.set(request.reqId, flight);
    this.attempt(request.reqId, flight);
    return request.reqId;
  }

  private attempt(reqId: string, flight: InFlight): void {
    flight.attempts++;
    this.ctx.send(this.db, flight.request, wireBytes(flight.request));
    flight.timerId = this.ctx.setTimer(this.attemptTimeoutUs, this.timerTag);
    this.byTimer.set(flight.timerId, reqId);
  }
}
