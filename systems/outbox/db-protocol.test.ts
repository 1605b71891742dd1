// Goal: the database node's request rules hold message by message: a commit is answered only
// once the fsync covering its commit record completed, commits arriving meanwhile share the
// next fsync, duplicates and late copies are answered without a second effect, a restart kills
// every open handle, and a commit asked again gets the answer the durable log gives. Method: a
// DbNode on a hand-driven context (a real simulated Disk whose fsyncs complete when the test
// says, sends and observations captured), and a DbClient against it.
import { describe, expect, it } from 'vitest';

import { Disk } from '../../sim/disk.ts';
import { Random } from '../../sim/random.ts';
import type { Message, NodeContext, NodeId, Observation } from '../../sim/types.ts';
import { DbClient, type DbCompletion } from './db-client.ts';
import { DbNode } from './db-node.ts';
import type { DbReply, DbRequest, DbWrite } from './db-protocol.ts';

const DB: NodeId = 0;
const CLIENT: NodeId = 1;

class Harness {
  readonly disk = new Disk(Random.fromSeed('harness-disk'));
  readonly syncs: number[] = [];
  readonly sent: { to: NodeId; message: Message }[] = [];
  readonly observed: Observation[] = [];
  node!: DbNode;
  private incarnation = 0;
  private timers = 0;

  constructor(private readonly variant: string | null = null) {
    this.disk.scheduler = { scheduleSync: (syncId) => this.syncs.push(syncId) };
    this.start();
  }

  context(id: NodeId, name: string): NodeContext {
    return {
      id,
      name,
      group: id === DB ? 'db' : 'clients',
      members: (group) => (group === 'db' ? [DB] : [CLIENT]),
      servers: [DB],
      clients: [CLIENT],
      workload: {},
      variant: this.variant,
      now: () => 0,
      monotonic: () => 0,
      phase: () => 'faults',
      send: (to, message) => this.sent.push({ to, message }),
      setTimer: () => ++this.timers,
      cancelTimer: () => {},
      random: Random.fromSeed(`${name}/${this.incarnation}`),
      disk: this.disk,
      history: { invoke: () => 0, complete: () => {} },
      log: () => {},
      observe: (observation) => this.observed.push(observation),
      buggify: () => false,
    };
  }

  start(): void {
    this.incarnation++;
    this.node = new DbNode(this.context(DB, 'db'));
    this.node.onStart();
  }

  crash(tear = false): void {
    this.syncs.length = 0;
    this.disk.crash(tear);
    this.start();
  }

  /** Completes the oldest pending fsync. */
  sync(): void {
    const syncId = this.syncs.shift();
    expect(syncId).toBeDefined();
    this.node.onSynced(syncId as number, this.disk.completeSync(syncId as number));
  }

  /** Sends a request to the node; returns the replies it sent at once. */
  request(request: DbRequest): DbReply[] {
    const before = this.sent.length;
    this.node.onMessage(CLIENT, request as unknown as Message);
    return this.repliesSince(before);
  }

  repliesSince(before: number): DbReply[] {
    return this.sent.slice(before).map(({ message }) => message as unknown as DbReply);
  }
}

function begin(harness: Harness, txId: string): number {
  const [reply] = harness.request({ type: 'db-begin', reqId: `${txId}/b`, txId });
  expect(reply).toMatchObject({ op: 'begin' });
  return (reply as { handle: number }).handle;
}

const put = (
  txId: string,
  handle: number,
  seq: number,
  key: string,
  value: number | null,
): DbRequest => ({
  type: 'db-put',
  reqId: `${txId}/${seq}`,
  txId,
  handle,
  seq,
  table: 't',
  key,
  value,
});

const putMany = (txId: string, handle: number, seq: number, writes: DbWrite[]): DbRequest => ({
  type: 'db-put-many',
  reqId: `${txId}/${seq}`,
  txId,
  handle,
  seq,
  writes,
});

const getMany = (txId: string, handle: number, seq: number, keys: string[]): DbRequest => ({
  type: 'db-get-many',
  reqId: `${txId}/${seq}`,
  txId,
  handle,
  seq,
  table: 't',
  keys,
});

const commit = (
  txId: string,
  handle: number,
  seq: number,
  reqId = `${txId}/c${seq}`,
): DbRequest => ({
  type: 'db-commit',
  reqId,
  txId,
  handle,
  seq,
});

describe('database node: group commit', () => {
  it('answers a commit only after the fsync covering it, and lets commits arriving meanwhile share the next fsync', () => {
    const harness = new Harness();
    const handles = ['a', 'b', 'c'].map((txId) => begin(harness, txId));
    for (const [at, txId] of ['a', 'b', 'c'].entries()) {
      harness.request(put(txId, handles[at] as number, 1, txId, 1));
    }
    expect(harness.request(commit('a', handles[0] as number, 2))).toEqual([]);
    expect(harness.syncs.length).toBe(1); // a's chunk is being fsynced
    expect(harness.request(commit('b', handles[1] as number, 2))).toEqual([]);
    expect(harness.request(commit('c', handles[2] as number, 2))).toEqual([]);
    expect(harness.syncs.length).toBe(1); // b and c wait for it
    let before = harness.sent.length;
    harness.sync();
    expect(harness.repliesSince(before)).toEqual([
      { type: 'db-reply', reqId: 'a/c2', op: 'commit', outcome: 'committed', lsn: 1 },
    ]);
    expect(harness.syncs.length).toBe(1); // one fsync for b and c together
    before = harness.sent.length;
    harness.sync();
    expect(harness.repliesSince(before).map((reply) => reply.reqId)).toEqual(['b/c2', 'c/c2']);
    expect(harness.node.inspect().durableTxs.map((tx) => tx.txId)).toEqual(['a', 'b', 'c']);
  });

  it('in variant ack-before-fsync, answers before the fsync (what the simulated property catches)', () => {
    const harness = new Harness('ack-before-fsync');
    const handle = begin(harness, 'a');
    harness.request(put('a', handle, 1, 'a', 1));
    expect(harness.request(commit('a', handle, 2))).toMatchObject([
      { outcome: 'committed', lsn: 1 },
    ]);
    expect(harness.node.inspect().durableEndLsn).toBe(0);
  });

  it('loses an unsynced commit with a crash, and then answers its retry aborted: unknown', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    harness.request(put('a', handle, 1, 'x', 1));
    harness.request(commit('a', handle, 2));
    harness.crash(false);
    expect(harness.request(commit('a', handle, 2, 'a/retry'))).toMatchObject([
      { op: 'commit', outcome: 'aborted', reason: 'unknown' },
    ]);
    expect(harness.node.inspect().rows('t')).toEqual([]);
  });

  it('answers a retried commit of a durable transaction from the log, across a restart', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    harness.request(put('a', handle, 1, 'x', 1));
    harness.request(commit('a', handle, 2));
    harness.sync();
    // Asked again while still up, and again after a crash.
    expect(harness.request(commit('a', handle, 2, 'a/again'))).toMatchObject([
      { outcome: 'committed', lsn: 1 },
    ]);
    harness.crash(true);
    expect(harness.request(commit('a', handle, 2, 'a/later'))).toMatchObject([
      { outcome: 'committed', lsn: 1 },
    ]);
    expect(harness.node.inspect().rows('t')).toEqual([['x', 1]]);
  });
});

describe('database node: get-many and put-many', () => {
  it('reads keys in order, its own writes included, and buffers a put-many all or nothing', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    expect(
      harness.request(
        putMany('a', handle, 1, [
          { table: 't', key: 'x', value: 1 },
          { table: 't', key: 'y', value: 2 },
          { table: 't', key: 'x', value: 3 }, // a later write of a key wins
        ]),
      ),
    ).toMatchObject([{ op: 'put-many' }]);
    expect(harness.request(getMany('a', handle, 2, ['y', 'z', 'x']))).toMatchObject([
      { op: 'get-many', values: [2, null, 3] },
    ]);
    // One bad write refuses the whole request, and buffers none of it.
    expect(
      harness.request(
        putMany('a', handle, 3, [
          { table: 't', key: 'w', value: 9 },
          { table: 't', key: '', value: 9 },
        ]),
      ),
    ).toMatchObject([{ op: 'put-many', error: 'bad-request' }]);
    expect(harness.request(getMany('a', handle, 4, []))).toMatchObject([
      { op: 'get-many', error: 'bad-request' },
    ]);
    harness.request(commit('a', handle, 5));
    harness.sync();
    expect(harness.node.inspect().rows('t')).toEqual([
      ['x', 3],
      ['y', 2],
    ]);
  });
});

describe('database node: exactly once over a faulty network', () => {
  it('applies a late duplicate of an old put never, answers a duplicate of the last from its cache', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    harness.request(put('a', handle, 1, 'x', 1));
    harness.request(put('a', handle, 2, 'x', 2));
    expect(harness.request(put('a', handle, 1, 'x', 1))).toMatchObject([
      { op: 'put', error: 'stale' },
    ]);
    expect(harness.request(put('a', handle, 2, 'x', 2))).toMatchObject([{ op: 'put' }]);
    expect(harness.request(put('a', handle, 4, 'x', 4))).toMatchObject([{ error: 'out-of-order' }]);
    harness.request(commit('a', handle, 3));
    harness.sync();
    expect(harness.node.inspect().rows('t')).toEqual([['x', 2]]);
  });

  it('answers a malformed request as that request, so the transaction goes on at the next seq', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    expect(
      harness.request({ ...put('a', handle, 1, 'x', 1), table: '' } as DbRequest),
    ).toMatchObject([{ op: 'put', error: 'bad-request' }]);
    expect(harness.request(put('a', handle, 2, 'x', 2))).toMatchObject([{ op: 'put' }]);
    harness.request(commit('a', handle, 3));
    harness.sync();
    expect(harness.node.inspect().rows('t')).toEqual([['x', 2]]);
  });

  it('kills every open handle at a restart, so late copies of an old transaction cannot re-create it', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    harness.request(put('a', handle, 1, 'x', 1));
    harness.crash(false);
    // The client is told the commit is unknown; late copies of begin, put and commit arrive.
    expect(harness.request(commit('a', handle, 2))).toMatchObject([
      { outcome: 'aborted', reason: 'unknown' },
    ]);
    const reborn = begin(harness, 'a');
    expect(reborn).not.toBe(handle);
    expect(harness.request(put('a', handle, 1, 'x', 1))).toMatchObject([{ error: 'no-such-tx' }]);
    expect(harness.request(commit('a', handle, 2, 'a/late'))).toMatchObject([
      { outcome: 'aborted' },
    ]);
    expect(harness.syncs.length).toBe(0);
  });

  it('answers a conflict again as a conflict, and refuses to begin a committed txId again', () => {
    const harness = new Harness();
    const reader = begin(harness, 'r');
    harness.request({
      type: 'db-get',
      reqId: 'r/1',
      txId: 'r',
      handle: reader,
      seq: 1,
      table: 't',
      key: 'x',
    });
    const writer = begin(harness, 'w');
    harness.request(put('w', writer, 1, 'x', 1));
    harness.request(commit('w', writer, 2));
    harness.sync();
    harness.request(put('r', reader, 2, 'y', 1));
    expect(harness.request(commit('r', reader, 3))).toMatchObject([
      { outcome: 'aborted', reason: 'conflict' },
    ]);
    expect(harness.request(commit('r', reader, 3, 'r/again'))).toMatchObject([
      { outcome: 'aborted', reason: 'conflict' },
    ]);
    expect(harness.request({ type: 'db-begin', reqId: 'w/again', txId: 'w' })).toMatchObject([
      { op: 'begin', error: 'bad-request' },
    ]);
  });

  it('serves the change feed from the durable log only, at (lsn, index), a transaction split across pages', () => {
    const harness = new Harness();
    const handle = begin(harness, 'a');
    for (const [seq, key] of ['x', 'y', 'z'].entries()) {
      harness.request(put('a', handle, seq + 1, key, seq));
    }
    harness.request(commit('a', handle, 4));
    const changes = (after: { lsn: number; index: number } | null, maxChanges: number) =>
      harness.request({
        type: 'db-changes',
        reqId: `f${harness.sent.length}`,
        after,
        maxChanges,
      })[0];
    expect(changes(null, 10)).toMatchObject({ changes: [], endLsn: 0 }); // not durable yet
    harness.sync();
    expect(changes(null, 2)).toMatchObject({
      changes: [
        { lsn: 1, index: 0, txId: 'a', table: 't', key: 'x', value: 0 },
        { lsn: 1, index: 1, key: 'y' },
      ],
      endLsn: 1,
    });
    expect(changes({ lsn: 1, index: 1 }, 2)).toMatchObject({
      changes: [{ lsn: 1, index: 2, key: 'z' }],
    });
    expect(changes({ lsn: 1, index: 2 }, 2)).toMatchObject({ changes: [], endLsn: 1 });
    expect(changes({ lsn: 1, index: 0 }, 0)).toMatchObject({ error: 'bad-request' });
  });
});

describe('db client', () => {
  it('resends the same request on a timeout, matches the reply by reqId, and gives up after its attempts', () => {
    const harness = new Harness();
    const timers: { tag: string; id: number }[] = [];
    const context = harness.context(CLIENT, 'c1');
    let timerId = 100;
    const client = new DbClient(
      {
        ...context,
        setTimer: (_delayUs, tag) => {
          timers.push({ tag, id: ++timerId });
          return timerId;
        },
      },
      { dbGroup: 'db', attemptsMax: 2 },
    );
    expect(client.nextTxId()).toMatch(/^c1\.[0-9a-z]+:1$/);
    const reqId = client.begin('c1:tx');
    const first = harness.sent.at(-1)?.message as unknown as DbRequest;
    expect(first).toMatchObject({ type: 'db-begin', reqId, txId: 'c1:tx' });
    // No answer: the timer resends the same request.
    expect(client.onTimer('db-client', (timers.at(-1) as { id: number }).id)).toBeNull();
    expect(harness.sent.at(-1)?.message).toBe(first);
    // The db answers it (twice, as a duplicating network would): one completion.
    harness.node.onMessage(CLIENT, first as unknown as Message);
    const reply = harness.sent.at(-1)?.message as Message;
    const completion = client.onMessage(DB, reply) as DbCompletion;
    expect(completion.reply).toMatchObject({ op: 'begin' });
    expect(completion.tx).toMatchObject({ txId: 'c1:tx', seq: 0 });
    expect(client.onMessage(DB, reply)).toBeNull();
    // A put that is never answered gives up, and breaks its transaction.
    const tx = completion.tx as NonNullable<DbCompletion['tx']>;
    client.put(tx, 't', 'k', 1);
    expect(client.onTimer('db-client', (timers.at(-1) as { id: number }).id)).toBeNull();
    const gaveUp = client.onTimer('db-client', (timers.at(-1) as { id: number }).id);
    expect(gaveUp?.reply).toMatchObject({ op: 'put', error: 'timeout' });
    expect(tx.broken).toBe(true);
    expect(() => client.commit(tx)).toThrow(/broken/);
  });
});
