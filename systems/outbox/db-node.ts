// The database node: a single-node transactional store serving db-protocol.ts over the
// simulated network, its tables and concurrency control in database.ts, its durability in
// wal.ts. A commit is validated and takes its LSN at once (later commits validate against
// it), is queued in the WAL, and becomes visible to reads and is answered only once the fsync
// covering its commit record has completed; commits that arrive while an fsync is in flight
// ride the next one (group commit).
//
// Exactly-once over an unreliable network (see db-protocol.ts): transactions are addressed by
// the handle begin drew, requests within one apply in seq order once each, and a commit asked
// again is answered from what the node knows of its txId: waiting for its fsync (answered
// when it completes), durable (committed, lsn), aborted (recently, with its reason), else
// 'aborted: unknown' — it was lost with a crash before its commit was durable, or never began;
// either way it can never commit later, since its handle died with the incarnation.
//
// Bounded: open transactions (OPEN_TXS_MAX, reaped after TX_IDLE_US without a request), commits
// waiting for durability (the WAL's queue), waiters per commit, remembered aborts. The
// committed-txId set and the durable transactions (the change feed's source) grow with the
// WAL itself, which this node does not compact.
//
// Known-bug variant `ack-before-fsync` (variantFor 'db'): a commit is answered as soon as it
// is queued in the WAL, before its fsync.
import { assert } from '../../sim/assert.ts';
import { ProcessExit } from '../../sim/disk.ts';
import { variantFor } from '../../sim/scenario.ts';
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import { type DbInspect, type DbObservation, type DbRecoveredView, WAL_DIR } from './contract.ts';
import { Database, Transaction } from './database.ts';
import {
  CHANGES_MAX,
  DB_REQUEST_OPS,
  type DbChange,
  type DbErrorCode,
  type DbReply,
  type DbReplyBody,
  type DbRequest,
  type DbValue,
  type DbWrite,
  isDbRequest,
  type LogPosition,
  MANY_MAX,
  NAME_BYTES_MAX,
  SCAN_LIMIT_MAX,
  wireBytes,
} from './db-protocol.ts';
import {
  isWalRefusal,
  RECORD_BYTES_MAX,
  type SyncOutcome,
  Wal,
  type WalRefusal,
  type WalTx,
  writeRecordBytes,
} from './wal.ts';

export const DB_VARIANTS = {
  'ack-before-fsync': 'the database answers a commit before the fsync of its WAL record completed',
} as const;
export type DbBug = keyof typeof DB_VARIANTS;

export const OPEN_TXS_MAX = 256;
export const TX_IDLE_US = 3_000_000;
const REAP_EVERY_US = 500_000;
const DEFERRED_FSYNC_US_MAX = 50_000;
const WAITERS_PER_COMMIT_MAX = 8;
const ABORTS_REMEMBERED_MAX = 1024;
/** Handles are bootId · 2^21 + a counter: unique across incarnations, safe integers. */
const HANDLES_PER_BOOT = 2 ** 21;
const BOOT_IDS = 2 ** 31;
const DEPTH_MAX = 16;
const VALUE_NODES_MAX = 4096;

interface OpenTx {
  readonly tx: Transaction;
  readonly handle: number;
  lastSeq: number;
  lastReply: DbReplyBody | null;
  lastActiveUs: number;
}

interface Waiter {
  readonly from: NodeId;
  readonly reqId: string;
}

interface Committing {
  readonly lsn: number;
  readonly waiters: Waiter[];
  acked: boolean;
}

/** Plain data msgpack can carry, bounded in depth and size. */
function isDbValue(value: unknown, budget: { nodes: number }, depth = 0): value is DbValue {
  if (--budget.nodes < 0 || depth > DEPTH_MAX) {
    return false;
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return true;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value);
  }
  if (Array.isArray(value)) {
    return value.every((item) => isDbValue(item, budget, depth + 1));
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value as object).every((item) => isDbValue(item, budget, depth + 1));
  }
  return false;
}

/** A write's value is plain data and its WAL record within the size limit (put and put-many). */
function valueFits(write: DbWrite): boolean {
  return (
    isDbValue(write.value, { nodes: VALUE_NODES_MAX }) &&
    writeRecordBytes(write) <= RECORD_BYTES_MAX
  );
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= NAME_BYTES_MAX;
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

function isPosition(value: unknown): value is LogPosition | null {
  if (value === null) {
    return true;
  }
  const position = value as Partial<LogPosition> | undefined;
  return (
    typeof position === 'object' &&
    Number.isSafeInteger(position.lsn) &&
    (position.lsn as number) >= 0 &&
    Number.isSafeInteger(position.index) &&
    (position.index as number) >= 0
  );
}

export class DbNode implements NodeProgram {
  private readonly bug: DbBug | null;
  private readonly db = new Database();
  private wal: Wal | null = null;
  private refused: WalRefusal | null = null;
  private recovered: DbRecoveredView | null = null;
  private bootId = 0;
  private fsyncTimerArmed = false;
  private handles = 0;
  private readonly open = new Map<number, OpenTx>();
  private readonly openByTxId = new Map<string, number>();
  private readonly committing = new Map<string, Committing>();
  /** Durable commits: txId → LSN. */
  private readonly committed = new Map<string, number>();
  private readonly durableTxs: WalTx[] = [];
  /** Recently aborted txIds → why (oldest first, at most ABORTS_REMEMBERED_MAX). */
  private readonly aborted = new Map<string, 'conflict' | 'unknown'>();

  constructor(private readonly ctx: NodeContext) {
    const name = variantFor(ctx.variant, 'db');
    this.bug = name !== null && name in DB_VARIANTS ? (name as DbBug) : null;
  }

  onStart(): void {
    this.bootId = this.ctx.random.int(BOOT_IDS);
    const result = Wal.recover(this.ctx.disk, WAL_DIR);
    if (isWalRefusal(result)) {
      this.refused = result;
      this.ctx.log('refusing to start: the WAL is damaged', { ...result });
      this.observe({ type: 'db-refused', ...result });
      return;
    }
    for (const tx of result.txs) {
      this.db.apply(tx);
      this.committed.set(tx.txId, tx.lsn);
      this.durableTxs.push(tx);
    }
    const endLsn = result.txs.length;
    this.wal = new Wal(this.ctx.disk, result.nextFile, endLsn, result.nextChunk);
    this.recovered = { endLsn, files: result.files, cut: result.cut };
    this.ctx.log('recovered', {
      endLsn,
      files: result.files.length,
      cutBytes: result.cut?.bytes ?? 0,
      next: result.nextFile,
    });
    this.observe({
      type: 'db-recovered',
      endLsn,
      txs: result.txs.length,
      cutBytes: result.cut?.bytes ?? 0,
    });
    this.ctx.setTimer(REAP_EVERY_US, 'db-reap');
  }

  onMessage(from: NodeId, message: Message): void {
    if (!isDbRequest(message)) {
      return;
    }
    const request = message as DbRequest;
    if (typeof request.reqId !== 'string' || request.reqId.length > NAME_BYTES_MAX) {
      return; // nothing to answer to
    }
    const op = DB_REQUEST_OPS[request.type];
    if (this.refused !== null || this.wal === null) {
      this.reply(from, request.reqId, {
        op,
        error: 'unavailable',
        detail: `the WAL is damaged: ${this.refused?.reason ?? 'not recovered'}`,
      });
      return;
    }
    switch (request.type) {
      case 'db-begin':
        this.onBegin(from, request);
        return;
      case 'db-changes':
        this.onChanges(from, request);
        return;
      case 'db-commit':
        this.onCommit(from, request);
        return;
      case 'db-rollback':
        this.onRollback(from, request);
        return;
      case 'db-get':
      case 'db-get-many':
      case 'db-scan':
      case 'db-put':
      case 'db-put-many':
        this.onTxRequest(from, request);
        return;
    }
  }

  private error(op: DbReplyBody['op'], error: DbErrorCode, detail: string): DbReplyBody {
    return { op, error, detail };
  }

  private onBegin(from: NodeId, request: Extract<DbRequest, { type: 'db-begin' }>): void {
    if (!isName(request.txId)) {
      this.reply(
        from,
        request.reqId,
        this.error('begin', 'bad-request', 'txId must be a short string'),
      );
      return;
    }
    const known = this.openByTxId.get(request.txId);
    if (known !== undefined) {
      this.reply(from, request.reqId, { op: 'begin', handle: known }); // a retried begin
      return;
    }
    if (this.committed.has(request.txId) || this.committing.has(request.txId)) {
      this.reply(
        from,
        request.reqId,
        this.error('begin', 'bad-request', `transaction ${request.txId} already committed`),
      );
      return;
    }
    if (this.open.size >= OPEN_TXS_MAX) {
      this.reply(
        from,
        request.reqId,
        this.error('begin', 'busy', `${OPEN_TXS_MAX} transactions open`),
      );
      return;
    }
    assert(this.handles < HANDLES_PER_BOOT - 1, 'out of transaction handles for this incarnation');
    this.handles++;
    const handle = this.bootId * HANDLES_PER_BOOT + this.handles;
    this.open.set(handle, {
      tx: new Transaction(request.txId),
      handle,
      lastSeq: 0,
      lastReply: null,
      lastActiveUs: this.ctx.monotonic(),
    });
    this.openByTxId.set(request.txId, handle);
    this.aborted.delete(request.txId);
    this.reply(from, request.reqId, { op: 'begin', handle });
  }

  /**
   * The open transaction a request addresses, when it is the next in its seq order; otherwise
   * answers it (a duplicate of the last from the cache, a refusal) and returns undefined.
   */
  private sequenced(
    from: NodeId,
    request: Extract<DbRequest, { handle: number }>,
  ): OpenTx | undefined {
    const op = DB_REQUEST_OPS[request.type];
    const open = typeof request.handle === 'number' ? this.open.get(request.handle) : undefined;
    if (open === undefined || open.tx.txId !== request.txId) {
      this.reply(
        from,
        request.reqId,
        this.error(op, 'no-such-tx', `no open transaction ${request.txId} with that handle`),
      );
      return undefined;
    }
    if (typeof request.seq !== 'number' || !Number.isSafeInteger(request.seq)) {
      this.reply(from, request.reqId, this.error(op, 'bad-request', 'seq must be an integer'));
      return undefined;
    }
    open.lastActiveUs = this.ctx.monotonic();
    if (request.seq === open.lastSeq && open.lastReply !== null && open.lastReply.op === op) {
      this.reply(from, request.reqId, open.lastReply);
      return undefined;
    }
    if (request.seq <= open.lastSeq) {
      this.reply(
        from,
        request.reqId,
        this.error(op, 'stale', `seq ${request.seq} after ${open.lastSeq}`),
      );
      return undefined;
    }
    if (request.seq > open.lastSeq + 1) {
      this.reply(
        from,
        request.reqId,
        this.error(op, 'out-of-order', `seq ${request.seq} after ${open.lastSeq}`),
      );
      return undefined;
    }
    return open;
  }

  private answer(from: NodeId, reqId: string, open: OpenTx, seq: number, body: DbReplyBody): void {
    open.lastSeq = seq;
    open.lastReply = body;
    this.reply(from, reqId, body);
  }

  private onTxRequest(
    from: NodeId,
    request: Extract<
      DbRequest,
      { type: 'db-get' | 'db-get-many' | 'db-scan' | 'db-put' | 'db-put-many' }
    >,
  ): void {
    // Every answer, a refusal too, is the request's: cached, and the transaction's seq moves on.
    const open = this.sequenced(from, request);
    if (open === undefined) {
      return;
    }
    const op = DB_REQUEST_OPS[request.type];
    if (request.type === 'db-get-many' || request.type === 'db-put-many') {
      this.answer(from, request.reqId, open, request.seq, this.many(open.tx, request));
      return;
    }
    if (!isName(request.table) || (request.type !== 'db-scan' && !isName(request.key))) {
      this.answer(
        from,
        request.reqId,
        open,
        request.seq,
        this.error(op, 'bad-request', 'table and key must be short non-empty strings'),
      );
      return;
    }
    let body: DbReplyBody;
    if (request.type === 'db-get') {
      const read = this.db.get(open.tx, request.table, request.key);
      body = read.ok
        ? { op: 'get', value: read.value }
        : this.error('get', 'bad-request', read.reason);
    } else if (request.type === 'db-scan') {
      if (
        !isCount(request.limit, SCAN_LIMIT_MAX) ||
        (request.fromKey !== undefined && typeof request.fromKey !== 'string')
      ) {
        this.answer(
          from,
          request.reqId,
          open,
          request.seq,
          this.error('scan', 'bad-request', `limit must be 1…${SCAN_LIMIT_MAX}`),
        );
        return;
      }
      const read = this.db.scan(open.tx, request.table, request.fromKey ?? '', request.limit);
      body = read.ok
        ? { op: 'scan', rows: read.value }
        : this.error('scan', 'bad-request', read.reason);
    } else {
      const write = { table: request.table, key: request.key, value: request.value };
      if (!valueFits(write)) {
        this.answer(
          from,
          request.reqId,
          open,
          request.seq,
          this.error('put', 'bad-request', 'the value is not plain data, or too large'),
        );
        return;
      }
      const put = this.db.put(open.tx, write);
      body = put.ok ? { op: 'put' } : this.error('put', 'bad-request', put.reason);
    }
    this.answer(from, request.reqId, open, request.seq, body);
  }

  /**
   * A get-many reads its keys as that many gets would; a put-many checks every write before
   * buffering any, so a refusal buffers nothing (but a transaction at its write limit may have
   * buffered some: the client rolls back on any refusal).
   */
  private many(
    tx: Transaction,
    request: Extract<DbRequest, { type: 'db-get-many' | 'db-put-many' }>,
  ): DbReplyBody {
    if (request.type === 'db-get-many') {
      const keys: unknown = request.keys;
      if (
        !isName(request.table) ||
        !Array.isArray(keys) ||
        !isCount(keys.length, MANY_MAX) ||
        !keys.every((key) => isName(key))
      ) {
        return this.error(
          'get-many',
          'bad-request',
          `1…${MANY_MAX} short non-empty keys of a table`,
        );
      }
      const values: DbValue[] = [];
      for (const key of keys as string[]) {
        const read = this.db.get(tx, request.table, key);
        if (!read.ok) {
          return this.error('get-many', 'bad-request', read.reason);
        }
        values.push(read.value);
      }
      return { op: 'get-many', values };
    }
    const writes: unknown = request.writes;
    if (
      !Array.isArray(writes) ||
      !isCount(writes.length, MANY_MAX) ||
      !writes.every(
        (write: DbWrite) =>
          typeof write === 'object' &&
          write !== null &&
          isName(write.table) &&
          isName(write.key) &&
          valueFits(write),
      )
    ) {
      return this.error('put-many', 'bad-request', `1…${MANY_MAX} plain, small writes`);
    }
    for (const write of writes as DbWrite[]) {
      const put = this.db.put(tx, { table: write.table, key: write.key, value: write.value });
      if (!put.ok) {
        return this.error('put-many', 'bad-request', put.reason);
      }
    }
    return { op: 'put-many' };
  }

  private onCommit(from: NodeId, request: Extract<DbRequest, { type: 'db-commit' }>): void {
    const wal = this.wal as Wal;
    const open = typeof request.handle === 'number' ? this.open.get(request.handle) : undefined;
    if (open === undefined || open.tx.txId !== request.txId) {
      this.commitAnswer(from, request.reqId, request.txId);
      return;
    }
    const sequenced = this.sequenced(from, request);
    if (sequenced === undefined) {
      return;
    }
    if (!wal.canAppend()) {
      // Not answered into the cache: the retry must get a fresh try.
      this.reply(from, request.reqId, this.error('commit', 'busy', 'the WAL queue is full'));
      return;
    }
    this.close(open);
    const result = this.db.commit(open.tx);
    if ('conflict' in result) {
      this.remember(open.tx.txId, 'conflict');
      this.ctx.log('commit aborted', { txId: open.tx.txId, conflict: result.conflict });
      this.observe({ type: 'db-tx-aborted', txId: open.tx.txId, reason: 'conflict' });
      this.reply(from, request.reqId, { op: 'commit', outcome: 'aborted', reason: 'conflict' });
      return;
    }
    const committing: Committing = {
      lsn: result.lsn,
      waiters: [{ from, reqId: request.reqId }],
      acked: false,
    };
    this.committing.set(result.txId, committing);
    this.writingWal(() => wal.append(result));
    if (this.bug === 'ack-before-fsync') {
      this.ackWaiters(result.txId, committing, false);
    }
  }

  /** A commit asked of a transaction that is not open: answer from what the node knows. */
  private commitAnswer(from: NodeId, reqId: string, txId: unknown): void {
    if (typeof txId !== 'string') {
      this.reply(from, reqId, this.error('commit', 'bad-request', 'txId must be a string'));
      return;
    }
    const committing = this.committing.get(txId);
    if (committing !== undefined) {
      if (!committing.waiters.some((waiter) => waiter.reqId === reqId)) {
        if (committing.waiters.length >= WAITERS_PER_COMMIT_MAX) {
          committing.waiters.shift();
        }
        committing.waiters.push({ from, reqId });
      }
      if (this.bug === 'ack-before-fsync') {
        this.ackWaiters(txId, committing, false);
      }
      return;
    }
    const lsn = this.committed.get(txId);
    if (lsn !== undefined) {
      this.reply(from, reqId, { op: 'commit', outcome: 'committed', lsn });
      this.observe({ type: 'db-commit-acked', txId, lsn, durable: true });
      return;
    }
    this.reply(from, reqId, {
      op: 'commit',
      outcome: 'aborted',
      reason: this.aborted.get(txId) ?? 'unknown',
    });
  }

  private onRollback(from: NodeId, request: Extract<DbRequest, { type: 'db-rollback' }>): void {
    const open = typeof request.handle === 'number' ? this.open.get(request.handle) : undefined;
    if (open === undefined || open.tx.txId !== request.txId) {
      const done =
        typeof request.txId === 'string' &&
        (this.committed.has(request.txId) || this.committing.has(request.txId));
      this.reply(
        from,
        request.reqId,
        done
          ? this.error('rollback', 'bad-request', `transaction ${request.txId} committed`)
          : { op: 'rollback' },
      );
      return;
    }
    if (this.sequenced(from, request) === undefined) {
      return;
    }
    this.close(open);
    this.remember(open.tx.txId, 'unknown');
    this.observe({ type: 'db-tx-aborted', txId: open.tx.txId, reason: 'rolled-back' });
    this.reply(from, request.reqId, { op: 'rollback' });
  }

  private onChanges(from: NodeId, request: Extract<DbRequest, { type: 'db-changes' }>): void {
    if (!isPosition(request.after) || !isCount(request.maxChanges, CHANGES_MAX)) {
      this.reply(
        from,
        request.reqId,
        this.error(
          'changes',
          'bad-request',
          `after must be a position or null, maxChanges 1…${CHANGES_MAX}`,
        ),
      );
      return;
    }
    const changes: DbChange[] = [];
    const after = request.after ?? { lsn: 0, index: -1 };
    // durableTxs[i] holds LSN i + 1. Bounded by the durable log.
    for (let at = Math.max(0, after.lsn - 1); at < this.durableTxs.length; at++) {
      const tx = this.durableTxs[at] as WalTx;
      for (
        let index = tx.lsn === after.lsn ? after.index + 1 : 0;
        index < tx.writes.length;
        index++
      ) {
        const write = tx.writes[index];
        if (write === undefined || changes.length >= request.maxChanges) {
          break;
        }
        changes.push({
          lsn: tx.lsn,
          index,
          txId: tx.txId,
          table: write.table,
          key: write.key,
          value: write.value,
        });
      }
      if (changes.length >= request.maxChanges) {
        break;
      }
    }
    const endLsn = (this.wal as Wal).durableEndLsn;
    this.reply(from, request.reqId, { op: 'changes', changes, endLsn });
  }

  onSynced(syncId: number, ok: boolean): void {
    const wal = this.wal;
    if (wal === null) {
      return;
    }
    const undurable = wal.undurable;
    let outcome = { kind: 'foreign' } as SyncOutcome;
    this.writingWal(() => {
      outcome = wal.onSynced(syncId, ok);
    });
    if (outcome.kind === 'foreign') {
      return;
    }
    if (outcome.kind === 'failed') {
      // The failed pages may be gone from the cache, and later writes may sit on a hole: like
      // PostgreSQL, give up and recover from what the disk holds.
      this.observe({ type: 'db-fsync-failed', undurable });
      throw new ProcessExit('WAL fsync failed');
    }
    for (const tx of outcome.txs) {
      assert(tx.lsn === this.durableTxs.length + 1, 'durable transactions arrive in LSN order');
      this.db.makeVisible(tx);
      this.durableTxs.push(tx);
      this.committed.set(tx.txId, tx.lsn);
      const committing = this.committing.get(tx.txId);
      this.committing.delete(tx.txId);
      if (committing !== undefined) {
        this.ackWaiters(tx.txId, committing, true);
      }
    }
  }

  private ackWaiters(txId: string, committing: Committing, durable: boolean): void {
    for (const waiter of committing.waiters) {
      this.reply(waiter.from, waiter.reqId, {
        op: 'commit',
        outcome: 'committed',
        lsn: committing.lsn,
      });
    }
    if (committing.waiters.length > 0 && (!committing.acked || durable)) {
      this.observe({ type: 'db-commit-acked', txId, lsn: committing.lsn, durable });
    }
    committing.acked ||= committing.waiters.length > 0;
    committing.waiters.length = 0;
  }

  /**
   * Runs a WAL step that may write a chunk. Buggify point: the chunk is written to the page
   * cache now and fsynced a little later (a WAL writer's delay, as PostgreSQL's
   * wal_writer_delay), so that there is written, unsynced WAL for a crash to tear.
   */
  private writingWal(step: () => void): void {
    const wal = this.wal as Wal;
    if (this.ctx.buggify('db.defer-wal-fsync')) {
      wal.deferNextFsync();
    }
    step();
    if (wal.fsyncDeferred && !this.fsyncTimerArmed) {
      this.fsyncTimerArmed = true;
      this.ctx.setTimer(1 + this.ctx.random.int(DEFERRED_FSYNC_US_MAX), 'db-fsync');
    }
  }

  onTimer(tag: string): void {
    if (tag === 'db-fsync') {
      this.fsyncTimerArmed = false;
      if (this.wal?.fsyncDeferred === true) {
        this.wal.startFsync();
      }
      return;
    }
    if (tag !== 'db-reap') {
      return;
    }
    const now = this.ctx.monotonic();
    for (const open of [...this.open.values()]) {
      if (now - open.lastActiveUs >= TX_IDLE_US) {
        this.close(open);
        this.remember(open.tx.txId, 'unknown');
        this.observe({ type: 'db-tx-aborted', txId: open.tx.txId, reason: 'idle' });
      }
    }
    this.ctx.setTimer(REAP_EVERY_US, 'db-reap');
  }

  private close(open: OpenTx): void {
    this.open.delete(open.handle);
    if (this.openByTxId.get(open.tx.txId) === open.handle) {
      this.openByTxId.delete(open.tx.txId);
    }
  }

  private remember(txId: string, reason: 'conflict' | 'unknown'): void {
    this.aborted.delete(txId);
    this.aborted.set(txId, reason);
    if (this.aborted.size > ABORTS_REMEMBERED_MAX) {
      const oldest = this.aborted.keys().next().value as string;
      this.aborted.delete(oldest);
    }
  }

  private reply(to: NodeId, reqId: string, body: DbReplyBody): void {
    const reply = { type: 'db-reply', reqId, ...body } as DbReply;
    this.ctx.send(to, reply, wireBytes(reply));
  }

  private observe(observation: DbObservation): void {
    this.ctx.observe(observation);
  }

  inspect(): DbInspect {
    const db = this.db;
    return {
      role: 'db',
      refused: this.refused,
      recovered: this.recovered,
      durableTxs: this.durableTxs,
      durableEndLsn: this.wal?.durableEndLsn ?? 0,
      appliedEndLsn: db.appliedLsn,
      openTxs: this.open.size,
      committingTxs: this.committing.size,
      tableNames: () => db.tableNames(),
      rows: (table: string) => db.rows(table),
    };
  }
}

/** The database node's program, for a scenario's group (a one-node group, e.g. `db`). */
export function dbNodeProgram(ctx: NodeContext): NodeProgram {
  return new DbNode(ctx);
}

export type { DbValue };
