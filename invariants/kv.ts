// The KV service's invariants (issue 6; MIT 6.5840 kvraft's checks, peer-suites §1.3):
//   1. the client history is linearizable (the checker, with the kv model, at the end);
//   2. every acknowledged Append appears exactly once, in its client's order, in the final value
//      held by an up-to-date replica (MIT's checkClntAppends);
//   3. replicas that applied through the same index hold the same data;
//   4. persisted Raft state and snapshots stay within bounds (MIT's maxraftstate checks);
//   5. every client gets something done (kvEveryClientCompletes).
// A linearizability verdict of `unknown` (the search ran out of budget) is never a violation
// and never a guess: it is counted in kvCheckerStats for people and benchmarks to read.
import { Topology } from '../sim/topology.ts';
import type {
  ClusterView,
  HistoryOperation,
  Invariant,
  NodeId,
  ObservationRecord,
  Plan,
  Undecided,
  Verdict,
} from '../sim/types.ts';
import {
  isSharedKey,
  type KvServerInspect,
  kvClientObservation,
  kvServerState,
} from '../systems/kv/contract.ts';
import {
  type HistoryOperation as CheckedOperation,
  checkOperations,
  kvModel,
  UNKNOWN,
} from './linearizability/index.ts';
import { quorumLostToMediaFaults } from './raft-recovery.ts';

export type { KvServerInspect } from '../systems/kv/contract.ts';

interface KvInput {
  f: 'get' | 'put' | 'append';
  key: string;
  value: string | null;
}

function kvInput(input: unknown): KvInput | undefined {
  if (typeof input !== 'object' || input === null) {
    return undefined;
  }
  const record = input as Record<string, unknown>;
  const f = record['f'];
  if ((f !== 'get' && f !== 'put' && f !== 'append') || typeof record['key'] !== 'string') {
    return undefined;
  }
  const value = record['value'];
  return { f, key: record['key'], value: typeof value === 'string' ? value : null };
}

/**
 * The simulator's history as the checker's operations. An open operation (never completed)
 * is UNKNOWN: it may have taken effect at any time after its call, or never. A `fail` is a
 * definite no-op and is left out.
 */
export function toCheckerOperations(history: readonly HistoryOperation[]): CheckedOperation[] {
  const operations: CheckedOperation[] = [];
  for (const op of history) {
    const input = kvInput(op.input);
    if (input === undefined || op.status === 'fail') {
      continue;
    }
    const checkedInput =
      input.f === 'get'
        ? { f: input.f, key: input.key }
        : { f: input.f, key: input.key, value: input.value ?? '' };
    const open = op.status === undefined || op.returnUs === undefined;
    operations.push({
      clientId: op.client,
      input: checkedInput,
      output: open
        ? UNKNOWN
        : { type: 'ok', value: input.f === 'get' ? String(op.output ?? '') : null },
      callTime: op.callUs,
      returnTime: open ? Number.POSITIVE_INFINITY : (op.returnUs as number),
    });
  }
  return operations;
}

/** How the end-of-run checks went, across runs in this process (for tests and benchmarks). */
export const kvCheckerStats = {
  runs: 0,
  linearizable: 0,
  notLinearizable: 0,
  unknown: 0,
  lastUnknownReason: '',
};

/** The checker's sentence can quote long values (a key after 500 appends): shorten them. */
export function shortenQuoted(text: string, keep = 60): string {
  return text.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) =>
    inner.length <= 2 * keep
      ? whole
      : `"${inner.slice(0, keep)}…(${inner.length} chars)…${inner.slice(-keep)}"`,
  );
}

export interface KvLinearizableOptions {
  /** Search steps before the verdict is `unknown`; deterministic, unlike a wall-clock limit. */
  maxSteps?: number;
}

export const KV_CHECK_STEPS_DEFAULT = 20_000_000;

export function kvLinearizable(options: KvLinearizableOptions = {}): Invariant {
  return {
    name: 'kv-linearizable',
    atEnd(view: ClusterView): Verdict | Undecided {
      const operations = toCheckerOperations(view.history);
      const result = checkOperations(kvModel, operations, {
        maxSteps: options.maxSteps ?? KV_CHECK_STEPS_DEFAULT,
      });
      kvCheckerStats.runs++;
      switch (result.verdict) {
        case 'linearizable':
          kvCheckerStats.linearizable++;
          return undefined;
        case 'unknown':
          kvCheckerStats.unknown++;
          kvCheckerStats.lastUnknownReason = result.reason;
          return { undecided: `linearizability unknown: ${result.reason}` };
        case 'not-linearizable':
          kvCheckerStats.notLinearizable++;
          return `The KV history (${operations.length} operations) is not linearizable. ${shortenQuoted(result.explanation.message)}`;
      }
    },
  };
}

// ---- appends --------------------------------------------------------------------------------

const TOKEN = /x (\d+) (\d+) y/g;

interface Token {
  text: string;
  client: number;
  seq: number;
}

function parseTokens(value: string): { tokens: Token[]; leftover: string } {
  const tokens: Token[] = [];
  for (const match of value.matchAll(TOKEN)) {
    tokens.push({ text: match[0], client: Number(match[1]), seq: Number(match[2]) });
  }
  return { tokens, leftover: value.replace(TOKEN, '') };
}

export interface AppendRecord {
  key: string;
  acked: boolean;
  callUs: number;
  returnUs: number | undefined;
}

export function appendsOf(history: readonly HistoryOperation[]): Map<string, AppendRecord> {
  const appends = new Map<string, AppendRecord>();
  for (const op of history) {
    const input = kvInput(op.input);
    if (input?.f === 'append' && input.value !== null) {
      appends.set(input.value, {
        key: input.key,
        acked: op.status === 'ok',
        callUs: op.callUs,
        returnUs: op.returnUs,
      });
    }
  }
  return appends;
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}

/** The up servers that applied the most: the up-to-date replicas at the end. */
export function upToDateServers(view: ClusterView): { node: NodeId; state: KvServerInspect }[] {
  const servers: { node: NodeId; state: KvServerInspect }[] = [];
  for (const node of view.servers) {
    const state = kvServerState(view, node);
    if (state?.kv !== undefined) {
      servers.push({ node, state });
    }
  }
  const most = Math.max(...servers.map((server) => server.state.appliedIndex));
  return servers.filter((server) => server.state.appliedIndex === most);
}

function maxAckedIndex(observations: readonly ObservationRecord[]): number {
  let most = 0;
  for (const record of observations) {
    const observation = record.observation;
    if (observation.type === 'kv-acked' && typeof observation['index'] === 'number') {
      most = Math.max(most, observation['index']);
    }
  }
  return most;
}

export function checkKeyValue(
  where: string,
  key: string,
  value: string,
  appends: ReadonlyMap<string, AppendRecord>,
): Verdict {
  const { tokens, leftover } = parseTokens(value);
  const seen = new Set<string>();
  const lastSeq = new Map<number, number>();
  for (const token of tokens) {
    const record = appends.get(token.text);
    if (record === undefined || record.key !== key) {
      return `${where}: key ${JSON.stringify(key)} holds ${JSON.stringify(token.text)}, which no client appended to it`;
    }
    if (seen.has(token.text)) {
      return `${where}: Append ${JSON.stringify(token.text)} (called at ${ms(record.callUs)}${record.acked ? `, acknowledged at ${ms(record.returnUs ?? 0)}` : ', never acknowledged'}) appears twice in key ${JSON.stringify(key)}: a retried Append was applied twice`;
    }
    seen.add(token.text);
    const previous = lastSeq.get(token.client) ?? 0;
    if (token.seq < previous) {
      return `${where}: in key ${JSON.stringify(key)}, client ${token.client}'s Append #${token.seq} comes after its Append #${previous}, but the client issued them the other way round`;
    }
    lastSeq.set(token.client, token.seq);
  }
  if (leftover !== '' && [...appends.values()].some((record) => record.key === key)) {
    return `${where}: key ${JSON.stringify(key)} holds text that is no whole Append: ${JSON.stringify(leftover.slice(0, 80))}`;
  }
  for (const [text, record] of appends) {
    if (record.key === key && record.acked && !seen.has(text)) {
      return `${where}: the Append ${JSON.stringify(text)} to key ${JSON.stringify(key)}, acknowledged at ${ms(record.returnUs ?? 0)}, is missing from its final value: an acknowledged write was lost`;
    }
  }
  return undefined;
}

/** MIT's checkClntAppends, on every up-to-date replica after the settle phase. */
export function kvAppendsExactlyOnce(): Invariant {
  return {
    name: 'kv-appends-exactly-once',
    atEnd(view: ClusterView, observations: readonly ObservationRecord[]): Verdict {
      const appends = appendsOf(view.history);
      if (appends.size === 0) {
        return undefined;
      }
      const replicas = upToDateServers(view);
      if (replicas.length === 0) {
        return 'no KV server is up at the end to hold the final values';
      }
      const needed = maxAckedIndex(observations);
      const applied = replicas[0]!.state.appliedIndex;
      if (applied < needed) {
        return `an Append was acknowledged at log index ${needed}, but after the settle phase no up server has applied past index ${applied}`;
      }
      const keys = new Set([...appends.values()].map((record) => record.key));
      for (const { node, state } of replicas) {
        const where = `${view.name(node)} (applied through ${state.appliedIndex})`;
        for (const key of [...keys].sort()) {
          const verdict = checkKeyValue(where, key, state.kv.data.get(key) ?? '', appends);
          if (verdict !== undefined) {
            return verdict;
          }
        }
      }
      return undefined;
    },
  };
}

// ---- replicas agree -------------------------------------------------------------------------

function firstDifference(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): string | undefined {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.find((key) => (a.get(key) ?? '') !== (b.get(key) ?? ''));
}

/** The KV form of State Machine Safety: the same applied prefix gives the same data. */
export function kvReplicasAgree(): Invariant {
  return {
    name: 'kv-replicas-agree',
    atEnd(view: ClusterView): Verdict {
      const byIndex = new Map<number, { node: NodeId; state: KvServerInspect }>();
      for (const node of view.servers) {
        const state = kvServerState(view, node);
        if (state?.kv === undefined) {
          continue;
        }
        const other = byIndex.get(state.appliedIndex);
        if (other === undefined) {
          byIndex.set(state.appliedIndex, { node, state });
          continue;
        }
        const key = firstDifference(other.state.kv.data, state.kv.data);
        if (key !== undefined) {
          const show = (s: KvServerInspect) =>
            shortenQuoted(JSON.stringify(s.kv.data.get(key) ?? ''), 40);
          return `${view.name(other.node)} and ${view.name(node)} both applied through index ${state.appliedIndex} but disagree on key ${JSON.stringify(key)}: ${show(other.state)} vs ${show(state)}`;
        }
      }
      return undefined;
    },
  };
}

// ---- persisted state bounds -----------------------------------------------------------------

export interface PersistedBounds {
  /** MIT: persisted Raft state ≤ 8 × maxraftstate. */
  raftStateBytesMax?: number;
  snapshotBytesMax?: number;
}

/** Checked whenever a server applies an entry or rewrites its log, and at the end. */
export function kvPersistedStateBounded(bounds: PersistedBounds): Invariant {
  const check = (view: ClusterView, node: NodeId): Verdict => {
    const state = kvServerState(view, node);
    if (state?.kv === undefined) {
      return undefined;
    }
    const raftMax = bounds.raftStateBytesMax;
    if (raftMax !== undefined && state.raftStateBytes > raftMax) {
      return `${view.name(node)} holds ${state.raftStateBytes} bytes of persisted Raft state, more than the bound of ${raftMax}: the log is not being compacted`;
    }
    const snapshotMax = bounds.snapshotBytesMax;
    if (snapshotMax !== undefined && state.snapshotBytes > snapshotMax) {
      return `${view.name(node)}'s snapshot is ${state.snapshotBytes} bytes, more than the bound of ${snapshotMax}`;
    }
    return undefined;
  };
  return {
    name: 'kv-persisted-state-bounded',
    onObservation(record, view) {
      const type = record.observation.type;
      return view.servers.includes(record.node) && (type === 'applied' || type === 'log-rewritten')
        ? check(view, record.node)
        : undefined;
    },
    atEnd(view) {
      for (const node of view.servers) {
        const verdict = check(view, node);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      return undefined;
    },
  };
}

/** The three correctness invariants every KV scenario runs. */
export function kvInvariants(options: KvLinearizableOptions = {}): Invariant[] {
  return [kvLinearizable(options), kvAppendsExactlyOnce(), kvReplicasAgree()];
}

export const kvSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> = {
  'a retried write was recognised as a duplicate': (record) =>
    record.observation.type === 'kv-duplicate-suppressed',
  'a client gave up on an operation': (record) => record.observation.type === 'kv-gave-up',
  'a state machine was restored from a snapshot': (record) =>
    record.observation.type === 'snapshot-applied',
};

/** Whether the record is a KV client's acknowledgement of a `f` through the log. */
function acknowledged(record: ObservationRecord, f: 'put' | 'append'): boolean {
  const observation = kvClientObservation(record);
  return observation?.type === 'kv-acked' && observation.f === f;
}

/**
 * What the kv swarm's random workload does in some run of every campaign: each operation
 * type completes, and a Get reads what a Put wrote. A workload that silently stops issuing
 * one of them leaves the invariants about it nothing to judge (fuzz --require-sometimes
 * fails such a campaign). Scripted and MIT-port workloads need not do all three.
 */
export const kvWorkloadSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> =
  {
    'a Put was acknowledged': (record) => acknowledged(record, 'put'),
    'an Append was acknowledged': (record) => acknowledged(record, 'append'),
    "a Get read a shared key's Put": (record) => {
      const observation = kvClientObservation(record);
      return (
        observation?.type === 'kv-read' &&
        isSharedKey(observation.key) &&
        observation.valueChars > 0
      );
    },
  };

/**
 * Liveness: every operation called in [fromUs, toUs] has completed by the end of the run.
 * For scenarios whose clients never give up and whose settle phase heals everything.
 */
export function kvOperationsComplete(fromUs: number, toUs: number): Invariant {
  return {
    name: 'kv-operations-complete',
    atEnd(view: ClusterView, observations): Verdict {
      // Servers that refused after media faults are down for good: judged only while the
      // rest still make a majority.
      if (quorumLostToMediaFaults(view, observations) !== undefined) {
        return undefined;
      }
      for (const op of view.history) {
        const input = kvInput(op.input);
        if (input === undefined || op.callUs < fromUs || op.callUs > toUs) {
          continue;
        }
        if (op.returnUs === undefined) {
          const what = `${input.f}(${JSON.stringify(input.key)}${input.value === null ? '' : `, ${JSON.stringify(input.value)}`})`;
          return `${view.name(op.client)}'s ${what}, called at ${ms(op.callUs)}, never completed by the end of the run (faults had stopped): the service stopped making progress`;
        }
      }
      return undefined;
    },
  };
}

/**
 * Every client of `group` completes at least one operation in the run (given operations to
 * do): the settle phase heals everything, so a client that gets nothing done — one that never
 * sends, or sends where nobody answers — is a bug that every other check passes, since an
 * empty history is linearizable and has nothing left incomplete. (Found by the mutation
 * score: a kv client whose onStart did nothing survived every invariant.)
 */
export function kvEveryClientCompletes(plan: Plan, group = 'clients'): Invariant {
  const opsMax = plan.workload['opsMax'];
  const members = Topology.of(plan).groups.find((candidate) => candidate.name === group)?.members;
  return {
    name: 'kv-every-client-completes',
    atEnd(view: ClusterView, observations): Verdict {
      if (typeof opsMax === 'number' && opsMax <= 0) {
        return undefined; // the shrinker may leave a client nothing to do
      }
      if (quorumLostToMediaFaults(view, observations) !== undefined) {
        return undefined; // no majority runs: nobody can complete anything
      }
      const completed = new Set<NodeId>();
      for (const op of view.history) {
        if (op.returnUs !== undefined && kvInput(op.input) !== undefined) {
          completed.add(op.client);
        }
      }
      const idle = (members ?? []).filter((client) => !completed.has(client));
      if (idle.length === 0) {
        return undefined;
      }
      const names = idle.map((client) => view.name(client)).join(', ');
      return `${names} completed no operation in the whole run, settle phase included (every fault had stopped): a client that gets nothing done passes every other check`;
    },
  };
}

/**
 * For a workload whose clients all append to one key (`appendKeys: 'one'`, MIT's
 * TestUnreliableOneKey): every Append names that key, and when the run has two clients or more,
 * Appends of at least two of them were acknowledged on it. The port exists for that contention
 * (concurrent appends to one value, each exactly once and in each client's order); a workload
 * that quietly gave each client its own key passes every per-key check and tests none of it.
 */
export function kvAppendsContendOnOneKey(key: string): Invariant {
  return {
    name: 'kv-appends-contend-on-one-key',
    atEnd(view: ClusterView): Verdict {
      const appenders = new Set<NodeId>();
      for (const op of view.history) {
        const input = kvInput(op.input);
        if (input?.f !== 'append') {
          continue;
        }
        if (input.key !== key) {
          return `${view.name(op.client)} appended to key ${JSON.stringify(input.key)} at ${op.callUs} µs, but every client of this workload appends to the one key ${JSON.stringify(key)}: the appends do not contend`;
        }
        if (op.returnUs !== undefined && op.status !== 'fail') {
          appenders.add(op.client);
        }
      }
      const wanted = Math.min(2, view.clients.length);
      if (appenders.size < wanted) {
        return `Appends of only ${appenders.size} client${appenders.size === 1 ? '' : 's'} were acknowledged on key ${JSON.stringify(key)}, of ${view.clients.length}: the one-key workload needs two clients' appends to contend`;
      }
      return undefined;
    },
  };
}
