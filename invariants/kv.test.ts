// The KV invariants: the checker on real KV histories (and on one made stale by hand), the
// unknown verdict counted and never reported, and MIT's appends check on made-up final states.
import { describe, expect, it } from 'vitest';

import '../scenarios/kv-mit.ts';
import '../scenarios/kv.ts';
import { runSeed } from '../sim/run.ts';
import type { ClusterView, HistoryOperation, ObservationRecord, Plan } from '../sim/types.ts';
import { syntheticPlan } from '../viewer/synthetic.ts';
import {
  type KvServerInspect,
  kvAppendsContendOnOneKey,
  kvAppendsExactlyOnce,
  kvCheckerStats,
  kvEveryClientCompletes,
  kvLinearizable,
  kvReplicasAgree,
  kvWorkloadSometimes,
  shortenQuoted,
  toCheckerOperations,
} from './kv.ts';
import { checkOperations, isUnknown, kvModel } from './linearizability/index.ts';

function viewOf(
  history: HistoryOperation[],
  servers: (KvServerInspect | undefined)[],
): ClusterView {
  const ids = servers.map((_, node) => node);
  return {
    servers: ids,
    clients: [servers.length],
    groups: [
      { name: 'servers', client: false, members: ids },
      { name: 'clients', client: true, members: [servers.length] },
    ],
    members: (group: string) => (group === 'servers' ? ids : [servers.length]),
    groupOf: (node: number) => (node < servers.length ? 'servers' : 'clients'),
    timeUs: 0,
    phase: 'settle',
    isUp: (node) => servers[node] !== undefined,
    inspect: (node) => servers[node],
    name: (node) => `n${node + 1}`,
    history,
    messagesSent: 0,
    bytesSent: 0,
    fileSize: () => 0,
  } as ClusterView;
}

/** The part of a KV server's view the KV invariants read; the Raft part is not used here. */
function server(appliedIndex: number, data: Record<string, string>): KvServerInspect {
  const partial = {
    role: 'follower',
    appliedIndex,
    kv: { data: new Map(Object.entries(data)), sessions: new Map() },
    raftStateBytes: 0,
    snapshotBytes: 0,
  };
  return partial as unknown as KvServerInspect;
}

let nextId = 0;
function op(
  f: 'get' | 'put' | 'append',
  key: string,
  value: string | null,
  callUs: number,
  returnUs?: number,
  output: unknown = null,
): HistoryOperation {
  return {
    id: nextId++,
    client: 5,
    input: { f, key, value },
    callUs,
    ...(returnUs === undefined ? {} : { returnUs, status: 'ok' as const, output }),
  };
}

describe('toCheckerOperations', () => {
  it('turns open operations into UNKNOWN and leaves definite failures out', () => {
    const history: HistoryOperation[] = [
      op('append', 'k', 'x 5 1 y', 0, 10),
      op('get', 'k', null, 20, 30, 'x 5 1 y'),
      op('append', 'k', 'x 5 3 y', 40),
      { ...op('put', 'k', 'v', 50, 60), status: 'fail' },
      { id: 99, client: 5, input: { f: 'propose', id: 'a' }, callUs: 0 },
    ];
    const ops = toCheckerOperations(history);
    expect(ops).toHaveLength(3);
    expect(ops[1]?.output).toEqual({ type: 'ok', value: 'x 5 1 y' });
    expect(isUnknown(ops[2]?.output)).toBe(true);
    expect(ops[2]?.returnTime).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('the checker on real KV histories', () => {
  const { result } = runSeed('kv-mit-concurrent', 0);
  const history = result.history;

  it('finds a real run linearizable', () => {
    const verdict = checkOperations(kvModel, toCheckerOperations(history), { maxSteps: 1e7 });
    expect(verdict.verdict).toBe('linearizable');
    expect(verdict.partitions).toBeGreaterThanOrEqual(5);
  });

  it('catches one Get made stale by hand, and names its key', () => {
    // The last completed Get that saw a non-empty value now returns that value minus its
    // last append: a stale read.
    const index = history.findLastIndex(
      (o) =>
        (o.input as { f: string }).f === 'get' &&
        typeof o.output === 'string' &&
        (o.output as string).length > 0,
    );
    const target = history[index]!;
    const key = (target.input as { key: string }).key;
    const stale = (target.output as string).replace(/x \d+ \d+ y$/, '');
    const edited = history.map((o, i) => (i === index ? { ...o, output: stale } : o));
    const verdict = kvLinearizable({ maxSteps: 1e7 }).atEnd!(viewOf(edited, []), []);
    expect(verdict).toMatch(/not linearizable/);
    expect(verdict).toContain(`key ${JSON.stringify(key)}`);
  });

  it('counts a search that ran out of budget as unknown, not as a violation', () => {
    const before = kvCheckerStats.unknown;
    const verdict = kvLinearizable({ maxSteps: 10 }).atEnd!(viewOf(history, []), []);
    expect(verdict).toEqual({
      undecided: expect.stringMatching(/^linearizability unknown: .*budget/),
    });
    expect(kvCheckerStats.unknown).toBe(before + 1);
    expect(kvCheckerStats.lastUnknownReason).toMatch(/budget/);
  });
});

describe('kvAppendsExactlyOnce', () => {
  const history = [
    op('append', 'k5', 'x 5 1 y', 0, 10),
    op('append', 'k5', 'x 5 2 y', 20, 30),
    op('append', 'k5', 'x 5 3 y', 40), // never acknowledged: may be there or not
  ];
  const check = (value: string, applied = 10) =>
    kvAppendsExactlyOnce().atEnd!(viewOf(history, [server(applied, { k5: value })]), []);

  it('accepts every acknowledged append once and in order, with or without the open one', () => {
    expect(check('x 5 1 yx 5 2 y')).toBeUndefined();
    expect(check('x 5 1 yx 5 2 yx 5 3 y')).toBeUndefined();
  });

  it('reports a duplicate, a reordering, a lost append and a foreign token', () => {
    expect(check('x 5 1 yx 5 1 yx 5 2 y')).toMatch(/appears twice .* applied twice/);
    expect(check('x 5 2 yx 5 1 y')).toMatch(/comes after/);
    expect(check('x 5 1 y')).toMatch(/"x 5 2 y".*missing.*lost/);
    expect(check('x 5 1 yx 5 2 yx 6 1 y')).toMatch(/no client appended/);
  });

  it('judges only the most up-to-date replica', () => {
    const view = viewOf(history, [
      server(3, { k5: 'x 5 1 y' }),
      server(10, { k5: 'x 5 1 yx 5 2 y' }),
    ]);
    expect(kvAppendsExactlyOnce().atEnd!(view, [])).toBeUndefined();
  });
});

describe('kvReplicasAgree', () => {
  it('compares replicas at the same applied index only', () => {
    const agree = kvReplicasAgree();
    expect(
      agree.atEnd!(viewOf([], [server(4, { a: '1' }), server(5, { a: '2' })]), []),
    ).toBeUndefined();
    expect(agree.atEnd!(viewOf([], [server(5, { a: '1' }), server(5, { a: '2' })]), [])).toMatch(
      /n1 and n2 both applied through index 5 but disagree on key "a"/,
    );
  });
});

describe('shortenQuoted', () => {
  it('elides the middle of long quoted values only', () => {
    expect(shortenQuoted('get("k") -> "short"')).toBe('get("k") -> "short"');
    const long = `"${'a'.repeat(50)}${'b'.repeat(100)}${'c'.repeat(50)}"`;
    expect(shortenQuoted(long, 10)).toBe('"aaaaaaaaaa…(200 chars)…cccccccccc"');
  });
});

describe('kv-every-client-completes', () => {
  const plan = (opsMax: number): Plan => ({
    ...syntheticPlan(3, 2), // servers n1–n3 (0–2), clients c1 c2 (3, 4)
    workload: { opsMax },
  });
  const done = (client: number): HistoryOperation => ({
    id: client,
    client,
    input: { f: 'get', key: 'k' },
    callUs: 10,
    returnUs: 20,
    status: 'ok',
    output: '',
  });
  const open = (client: number): HistoryOperation => ({
    id: 100 + client,
    client,
    input: { f: 'put', key: 'k', value: 'v' },
    callUs: 10,
  });
  const judge = (p: Plan, history: HistoryOperation[]) =>
    kvEveryClientCompletes(p).atEnd?.(
      {
        history,
        name: (node: number) => ['n1', 'n2', 'n3', 'c1', 'c2'][node],
      } as unknown as ClusterView,
      [],
    );

  it('names the clients that got nothing done, an open operation not counting', () => {
    expect(judge(plan(10), [done(3), open(4)])).toBe(
      'c2 completed no operation in the whole run, settle phase included (every fault had stopped): a client that gets nothing done passes every other check',
    );
    expect(judge(plan(10), [])).toMatch(/^c1, c2 completed no operation/);
    expect(judge(plan(10), [done(3), done(4)])).toBeUndefined();
  });

  it('leaves clients alone that were given nothing to do', () => {
    expect(judge(plan(0), [])).toBeUndefined();
  });
});

describe('kvWorkloadSometimes', () => {
  const record = (observation: Record<string, unknown>) => ({
    node: 3,
    timeUs: 0,
    eventIndex: 0,
    observation: observation as ObservationRecord['observation'],
  });
  const reached = (observation: Record<string, unknown>) =>
    Object.entries(kvWorkloadSometimes)
      .filter(([, predicate]) => predicate(record(observation)))
      .map(([name]) => name);
  const acked = (f: string) => ({ type: 'kv-acked', f, key: 's1', value: 'v', index: 4, term: 2 });

  it('tells each operation type apart, and a Get of a shared key that a Put wrote', () => {
    expect(reached(acked('put'))).toEqual(['a Put was acknowledged']);
    expect(reached(acked('append'))).toEqual(['an Append was acknowledged']);
    expect(reached(acked('get'))).toEqual([]);
    const read = { type: 'kv-read', key: 's2', valueChars: 3, index: 9 };
    expect(reached(read)).toEqual(["a Get read a shared key's Put"]);
    expect(reached({ ...read, valueChars: 0 })).toEqual([]); // never written
    expect(reached({ ...read, key: 'k2' })).toEqual([]); // an own key: Appends only
  });

  it("are all reached by a kv swarm seed, from the client's observations", () => {
    const { result } = runSeed('kv', 0);
    expect(result.sometimes).toEqual(expect.arrayContaining(Object.keys(kvWorkloadSometimes)));
  });
});

describe('kv-appends-contend-on-one-key', () => {
  const append = (client: number, key: string, acked = true): HistoryOperation => ({
    id: nextId++,
    client,
    input: { f: 'append', key, value: `x ${client}` },
    callUs: 10,
    ...(acked ? { returnUs: 20, status: 'ok' as const, output: null } : {}),
  });
  const judge = (clients: number[], history: HistoryOperation[]) =>
    kvAppendsContendOnOneKey('k').atEnd?.(
      {
        history,
        clients,
        name: (node: number) => `c${node - 2}`,
      } as unknown as ClusterView,
      [],
    );

  it('passes two clients whose acknowledged appends share the key', () => {
    expect(judge([3, 4], [append(3, 'k'), append(4, 'k'), append(4, 'k', false)])).toBeUndefined();
    expect(judge([3], [append(3, 'k')])).toBeUndefined();
  });

  it('fails an append to another key: each client on its own key does not contend', () => {
    expect(judge([3, 4], [append(3, 'k'), append(4, 'k4')])).toMatch(
      /^c2 appended to key "k4" at 10 µs, but every client of this workload appends to the one key "k"/,
    );
  });

  it('fails a run where only one client got an append acknowledged on the key', () => {
    expect(judge([3, 4], [append(3, 'k'), append(4, 'k', false)])).toMatch(
      /^Appends of only 1 client were acknowledged on key "k", of 2/,
    );
  });
});
