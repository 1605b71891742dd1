// A made-up but well-formed trace for viewer tests: every record kind the viewer draws
// (roles, duplicates, drops at send and at delivery, pauses, partitions, open operations)
// at any size, without depending on which systems exist yet.

import { nodeNames, Topology } from '../sim/topology.ts';
import type { TraceRecord } from '../sim/trace-log.ts';
import { PLAN_FORMAT, type Plan, type PlanGroup, type RunResult } from '../sim/types.ts';

export interface Synthetic {
  records: TraceRecord[];
  plan: Plan;
  result: RunResult;
}

/** A deterministic LCG: tests need variety, not quality. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The classic topology: one group of servers `n1…`, one of clients `c1…`. */
export function classicGroups(nodes: number, clients: number): PlanGroup[] {
  return [
    { name: 'servers', client: false, nodes: nodeNames('n', nodes) },
    { name: 'clients', client: true, nodes: nodeNames('c', clients) },
  ];
}

/**
 * A whole architecture: a controller group, two replica groups, a database and clients, so
 * tests see several server groups, a one-node group and long names.
 */
export const SYNTHETIC_ARCHITECTURE: readonly PlanGroup[] = [
  { name: 'ctrl', client: false, nodes: nodeNames('ctrl', 3) },
  { name: 'g1', client: false, nodes: nodeNames('g1n', 3) },
  { name: 'g2', client: false, nodes: nodeNames('g2n', 3) },
  { name: 'db', client: false, nodes: nodeNames('db', 1, true) },
  { name: 'clients', client: true, nodes: nodeNames('c', 3) },
];

/** A plan over `nodes` servers and `clients` clients, or over the given topology groups. */
export function syntheticPlan(nodes: number | readonly PlanGroup[], clients = 0): Plan {
  const groups = typeof nodes === 'number' ? classicGroups(nodes, clients) : nodes;
  return {
    format: PLAN_FORMAT,
    scenario: 'synthetic',
    variant: null,
    seed: 7,
    groups: groups.map((group) => ({ ...group, nodes: [...group.nodes] })),
    durationUs: 0,
    settleUs: 0,
    knobs: {} as Plan['knobs'],
    faults: [],
    script: [],
    workload: {},
  };
}

export function syntheticResult(atUs: number, node: number, eventIndex: number): RunResult {
  return {
    outcome: 'violation',
    violation: {
      invariant: 'election-safety',
      timeUs: atUs,
      eventIndex,
      message: `two leaders in term 3: n1 and n${node + 1}`,
      node,
    },
    traceHash: '0',
    checkpoints: [],
    // As in a real run, the violation's event index is the run's event count.
    stats: { virtualTimeUs: atUs, events: eventIndex } as RunResult['stats'],
    faultsFired: {},
    sometimes: [],
    undecided: [],
    linkBytes: {},
    history: [],
  };
}

/**
 * About `events` records ending in a violation: over 3 servers and 2 clients, or over the
 * given topology. With several server groups, the partitions are group-aware: one group cut
 * from another (naming them), a group split (naming it), then a cut between two whole
 * groups whose fault does not name them, as a hand-written or older plan's would not.
 */
export function syntheticTrace(
  events: number,
  seed = 1,
  topology: readonly PlanGroup[] = classicGroups(3, 2),
): Synthetic {
  const plan = syntheticPlan(topology);
  const groups = Topology.of(plan);
  const servers = [...groups.servers];
  const clients = [...groups.clients];
  const total = groups.size;
  const random = lcg(seed);
  const records: TraceRecord[] = [];
  let timeUs = 0;
  let event = 0;
  let messageId = 0;
  let operation = 0;
  const push = (record: Omit<TraceRecord, 'event' | 'timeUs'>) =>
    records.push({ event, timeUs, ...record });
  // In flight: [deliverAtUs, from, to, id, type].
  const inFlight: [number, number, number, number, string][] = [];
  const partitions = groupAwarePartitions(groups);
  push({ kind: 'fault', node: -1, type: 'partition', detail: partitions[0] ?? partition(timeUs) });
  push({
    kind: 'observe',
    node: 0,
    type: 'became-leader',
    detail: { type: 'became-leader', term: 1 },
  });
  let next = 1;
  while (records.length < events - 1) {
    event++;
    timeUs += 1 + Math.floor(random() * 400);
    deliverDue(timeUs, inFlight, push);
    const due = partitions[next];
    if (due !== undefined && records.length >= (events * next) / partitions.length) {
      push({ kind: 'fault', node: -1, type: 'partition', detail: { atUs: timeUs, ...due } });
      next++;
    }
    const from = Math.floor(random() * total);
    const to = (from + 1 + Math.floor(random() * (total - 1))) % total;
    const type = groups.isClient(from) ? 'request' : random() < 0.7 ? 'append' : 'vote';
    messageId++;
    push({
      kind: 'send',
      node: from,
      peer: to,
      messageId,
      type,
      detail: { sizeBytes: 40, body: { type, n: messageId } },
    });
    const roll = random();
    if (roll < 0.03) {
      push({ kind: 'drop', node: from, peer: to, messageId, detail: 'partition' });
    } else {
      inFlight.push([timeUs + 500 + Math.floor(random() * 3000), from, to, messageId, type]);
      if (roll > 0.97) {
        push({ kind: 'duplicate', node: from, peer: to, messageId });
        inFlight.push([timeUs + 800 + Math.floor(random() * 3000), from, to, messageId, type]);
      }
    }
    sprinkle(random, push, { servers, clients, operation: () => operation++ });
  }
  push({ kind: 'fault', node: -1, type: 'heal', detail: { kind: 'heal' } });
  const culprit = 2;
  push({
    kind: 'violation',
    node: culprit,
    detail: syntheticResult(timeUs, culprit, event).violation,
  });
  return { records, plan, result: syntheticResult(timeUs, culprit, event) };
}

/**
 * With two or more server groups: the second cut from the first, the last of three or more
 * members split one against the rest, and the second cut from the fourth (or the first)
 * with no `groups` field. Empty for a single server group (the classic partition is used).
 */
function groupAwarePartitions(topology: Topology) {
  const serverGroups = topology.serverGroups();
  const [first, second] = serverGroups;
  if (first === undefined || second === undefined) {
    return [];
  }
  const splittable = serverGroups.filter((group) => group.members.length >= 3).at(-1) ?? first;
  const [alone, ...rest] = splittable.members;
  const unnamed = serverGroups[3] ?? first;
  return [
    {
      atUs: 0,
      kind: 'partition',
      shape: 'cut-groups',
      links: cutBetween(second.members, first.members),
      groups: [second.name, first.name],
    },
    {
      kind: 'partition',
      shape: 'split-group',
      links: cutBetween(alone === undefined ? [] : [alone], rest),
      groups: [splittable.name],
    },
    { kind: 'partition', shape: 'cut-groups', links: cutBetween(second.members, unnamed.members) },
  ];
}

function cutBetween(sideA: readonly number[], sideB: readonly number[]): [number, number][] {
  return sideA.flatMap((a) =>
    sideB.flatMap((b): [number, number][] => [
      [a, b],
      [b, a],
    ]),
  );
}

/** The classic run's partition: n3 cut off, the clients with the majority. */
function partition(atUs: number) {
  return {
    atUs,
    kind: 'partition',
    shape: 'majority-minority',
    links: [
      [0, 2],
      [2, 0],
      [1, 2],
      [2, 1],
      [3, 2],
      [2, 3],
      [4, 2],
      [2, 4],
    ],
  };
}

type Push = (record: Omit<TraceRecord, 'event' | 'timeUs'>) => void;

function deliverDue(
  nowUs: number,
  inFlight: [number, number, number, number, string][],
  push: Push,
): void {
  for (let index = inFlight.length - 1; index >= 0; index--) {
    const [at, from, to, id, type] = inFlight[index] as [number, number, number, number, string];
    if (at <= nowUs) {
      inFlight.splice(index, 1);
      push({ kind: 'deliver', node: to, peer: from, messageId: id, type });
    }
  }
}

/** Now and then: a role change, a crash and restart, a pause, a client operation. */
function sprinkle(
  random: () => number,
  push: Push,
  context: { servers: readonly number[]; clients: readonly number[]; operation: () => number },
): void {
  const roll = random();
  const node = context.servers[Math.floor(random() * context.servers.length)] as number;
  if (roll < 0.004) {
    const term = 2 + Math.floor(random() * 5);
    push({
      kind: 'observe',
      node,
      type: 'became-candidate',
      detail: { type: 'became-candidate', term },
    });
  } else if (roll < 0.008) {
    push({
      kind: 'observe',
      node,
      type: 'became-follower',
      detail: { type: 'became-follower', term: 2 },
    });
  } else if (roll < 0.01) {
    push({ kind: 'fsync', node, detail: { syncId: 1, ok: true } });
  } else if (roll < 0.02) {
    const client = context.clients[Math.floor(random() * context.clients.length)] as number;
    const id = context.operation();
    push({ kind: 'invoke', node: client, messageId: id, detail: { f: 'write', value: id } });
    if (random() < 0.9) {
      push({ kind: 'complete', node: client, messageId: id, type: 'ok', detail: null });
    }
  } else if (roll < 0.021) {
    push({ kind: 'crash', node, detail: 'crash' });
    push({ kind: 'restart', node, detail: '' });
  } else if (roll < 0.022) {
    push({ kind: 'fault', node, type: 'pause', detail: { kind: 'pause', node, durationUs: 900 } });
    push({ kind: 'resume', node, detail: '' });
  }
}
