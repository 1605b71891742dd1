// Ports of MIT 6.5840's shardkv tests (Lab 5B and the challenges; peer-suites.md §1.5) as
// scenarios: a controller of three, two or three replica groups of three (MIT's gids 100,
// 101, 102 are 1, 2, 3 here), an administrator whose script is the test's Joins and Leaves,
// clients that are the test's clerks (MIT's clerks never give up), and the test's faults as
// a timeline: ShutdownGroup/StartGroup are every server of a group crashing and restarting;
// an unreliable network drops ~10% of messages with long delays. Every port checks what
// the swarm checks — linearizability (MIT records a porcupine history only in Unreliable3;
// here every port does), appends exactly once at each key's final owner (MIT's check()),
// one group per shard per configuration, configurations in order, handed-off shards
// deleted, every group finishing the newest configuration — and every operation completes
// by the end. Ports with maxraftstate bound each server's log at 8×; Challenge1Delete bounds
// the total state of all servers; Challenge2 checks mid-run which operations completed.
import { kvOperationsComplete } from '../invariants/kv.ts';
import { raftSafetyInvariants } from '../invariants/raft.ts';
import { ctrlerInvariants } from '../invariants/shardctrler.ts';
import {
  shardkvInvariants,
  shardkvPersistedBounded,
  shardkvSometimes,
} from '../invariants/shardkv.ts';
import { Random } from '../sim/random.ts';
import { type GroupSpec, planGroups, registerScenario } from '../sim/scenario.ts';
import { Topology } from '../sim/topology.ts';
import type {
  ClusterView,
  FaultEvent,
  Invariant,
  NodeId,
  Verdict,
  WorkloadValue,
} from '../sim/types.ts';
import { raftOptionsFor } from '../systems/kv/program.ts';
import {
  KV_SHRINKABLE_WORKLOAD,
  type KvOp,
  type ScriptedOp,
  scriptKey,
} from '../systems/kv/workload.ts';
import type { RaftNodeOptions } from '../systems/raft/group.ts';
import { type AdminOp, type AdminStep, adminScriptKey } from '../systems/shardkv/admin.ts';
import {
  INITIAL_CONFIG,
  keyToShard,
  NSHARDS,
  type ShardConfig,
} from '../systems/shardkv/config.ts';
import { nextConfig } from '../systems/shardkv/ctrler-state-machine.ts';
import {
  CTRLER_GROUP,
  ctrlerServer,
  groupName,
  groupServer,
  shardAdmin,
  shardClient,
} from '../systems/shardkv/program.ts';
import { GROUP_VARIANTS } from '../systems/shardkv/types.ts';
import { unreliableKnobs } from './raft-mit-dsl.ts';

const MS = 1000;
const SECOND = 1_000_000;

function topologyGroups(
  gids: number,
  clients: number,
  raft: Partial<RaftNodeOptions>,
): GroupSpec[] {
  return [
    {
      name: CTRLER_GROUP,
      size: 3,
      prefix: 'ctrl',
      program: ctrlerServer({ snapshotEveryEntries: 50 }),
    },
    ...Array.from(
      { length: gids },
      (_, index): GroupSpec => ({
        name: groupName(index + 1),
        size: 3,
        prefix: `${groupName(index + 1)}n`,
        program: groupServer(raft),
      }),
    ),
    { name: 'admins', size: 1, prefix: 'a', client: true, program: shardAdmin() },
    { name: 'clients', size: clients, prefix: 'c', client: true, program: shardClient() },
  ];
}

type Timed<T> = [atUs: number, value: T];
type GroupEvent = readonly [
  atUs: number,
  change: 'down' | 'up',
  gid: number,
  servers?: readonly number[],
];

interface Port {
  name: string;
  ports: string;
  description: string;
  gids: number;
  clients: number;
  durationUs: number;
  admin: Timed<AdminOp>[];
  /** Group events: [atUs, 'down' | 'up', gid, which servers (default all)]. */
  groups?: readonly GroupEvent[];
  unreliable?: boolean;
  maxRaftStateBytes?: number;
  raft?: Partial<RaftNodeOptions>;
  /** The clients' workload (the KV one); `scripts` gives each client a fixed script instead. */
  workload?: Record<string, WorkloadValue>;
  scripts?: ScriptedOp[][];
  extraInvariants?: Invariant[];
  checks?: Record<string, (view: ClusterView) => Verdict>;
  checkAtUs?: Timed<string>[];
}

const APPENDERS: Record<string, WorkloadValue> = {
  appendPercent: 60,
  putPercent: 0,
  sharedKeys: 0,
  thinkUsMax: 10 * MS,
  attemptTimeoutUs: 100 * MS,
  giveUpUs: 0,
  opsMax: 100_000,
};

function definePort(port: Port): void {
  const raft = {
    ...raftOptionsFor({ maxRaftStateBytes: port.maxRaftStateBytes ?? 0 }),
    ...port.raft,
  };
  const groups = topologyGroups(port.gids, port.clients, raft);
  const topology = new Topology(planGroups({ groups }));
  const faults: FaultEvent[] = [];
  for (const [atUs, change, gid, servers] of port.groups ?? []) {
    const members = topology.members(groupName(gid));
    for (const index of servers ?? [0, 1, 2]) {
      const node = members[index] as NodeId;
      faults.push(
        change === 'down' ? { atUs, kind: 'crash', node } : { atUs, kind: 'restart', node },
      );
    }
  }
  const workload: Record<string, WorkloadValue> = {
    ...APPENDERS,
    ...port.workload,
    [adminScriptKey(0)]: JSON.stringify(port.admin.map(([atUs, op]): AdminStep => ({ atUs, op }))),
  };
  for (const [index, script] of (port.scripts ?? []).entries()) {
    workload[scriptKey(index)] = JSON.stringify(script);
  }
  const bound = port.maxRaftStateBytes ?? 0;
  registerScenario({
    name: port.name,
    description: `MIT ${port.ports}: ${port.description}`,
    system: 'shardkv',
    groups,
    durationUs: port.durationUs,
    settleUs: 3 * SECOND,
    faults: { eligible: [], swarm: false },
    workload,
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: GROUP_VARIANTS,
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...ctrlerInvariants(plan.durationUs),
      ...shardkvInvariants(plan.durationUs + plan.settleUs - 3 * SECOND),
      kvOperationsComplete(0, plan.durationUs),
      ...(bound > 0 ? [shardkvPersistedBounded({ raftStateBytesMax: 8 * bound })] : []),
      ...(port.extraInvariants ?? []),
    ],
    sometimes: shardkvSometimes,
    ...(port.checks === undefined ? {} : { checks: port.checks }),
    plan: (_seed, base) => ({
      ...base,
      knobs: port.unreliable ? unreliableKnobs(base.knobs) : base.knobs,
      faults: faults.map((fault) => ({ ...fault })),
      script: (port.checkAtUs ?? []).map(([atUs, check]) => ({ atUs, kind: 'check', check })),
    }),
  });
}

const join = (...gids: number[]): AdminOp => ({ f: 'join', gids });
const leave = (...gids: number[]): AdminOp => ({ f: 'leave', gids });

/** The configuration the controller makes from a sequence of Joins and Leaves (it is pure). */
function configAfter(...ops: AdminOp[]): ShardConfig {
  let config = INITIAL_CONFIG;
  for (const op of ops) {
    if (op.f === 'join') {
      config = nextConfig(config, { op: 'join', groups: op.gids.map((gid) => [gid, []]) });
    } else if (op.f === 'leave') {
      config = nextConfig(config, { op: 'leave', gids: op.gids });
    }
  }
  return config;
}

/** A key in each shard (MIT's tests use keys "0"…"9"; this port hashes keys). */
const KEY_OF_SHARD: string[] = (() => {
  const keys: string[] = [];
  for (let i = 0; keys.filter((key) => key !== undefined).length < NSHARDS && i < 10_000; i++) {
    const key = String(i);
    keys[keyToShard(key)] ??= key;
  }
  return keys;
})();

/** What the clients of a Challenge2/StaticShards port did with the keys of some shards. */
function completed(view: ClusterView, keys: readonly string[], afterUs: number): boolean[] {
  return view.history
    .filter((op) => {
      const input = op.input as { key?: string };
      return op.callUs >= afterUs && input.key !== undefined && keys.includes(input.key);
    })
    .map((op) => op.returnUs !== undefined);
}

/**
 * A mid-run check of a Challenge2/StaticShards port: every Get of the `served` keys called
 * since `sinceUs` completed, and none of the `blocked` keys' did. `short` says how many of
 * the served ones completed, where that falls short; `leaked` what a blocked one completing
 * means.
 */
function servedNotBlocked(
  served: readonly string[],
  blocked: readonly string[],
  sinceUs: number,
  short: (done: number) => string,
  leaked: string,
): (view: ClusterView) => Verdict {
  return (view) => {
    const done = completed(view, served, sinceUs);
    if (done.length !== served.length || !done.every(Boolean)) {
      return short(done.filter(Boolean).length);
    }
    return completed(view, blocked, sinceUs).some(Boolean) ? leaked : undefined;
  };
}

const STUCK_SERVED =
  'a Get of a shard still on the dead group 1 completed: served before its data arrived';

function ownedBy(config: ShardConfig, gid: number): string[] {
  return KEY_OF_SHARD.filter((_, shard) => config.shards[shard] === gid);
}

/** One client per key: a Put at `putUs`, then a Get at `getUs`, so they run side by side. */
function perKeyScripts(putUs: number, getUs: number, value = (key: string) => `v${key}`) {
  return KEY_OF_SHARD.map((key): ScriptedOp[] => [
    { atUs: putUs, op: { f: 'put', key, value: value(key) } },
    { atUs: getUs, op: { f: 'get', key } },
  ]);
}

// TestStaticShards5A: with group 2 down, exactly the Gets of group 1's shards complete.
{
  const config = configAfter(join(1), join(2));
  const up = ownedBy(config, 1);
  const down = ownedBy(config, 2);
  definePort({
    name: 'shardkv-mit-static-shards',
    ports: 'TestStaticShards5A',
    description:
      'two groups; with group 2 shut down only the Gets of group 1’s shards complete (the data really is sharded); all complete once it restarts.',
    gids: 2,
    clients: NSHARDS,
    durationUs: 3 * SECOND,
    admin: [
      [100 * MS, join(1)],
      [150 * MS, join(2)],
    ],
    scripts: perKeyScripts(500 * MS, 1500 * MS),
    groups: [
      [1200 * MS, 'down', 2],
      [2600 * MS, 'up', 2],
    ],
    checks: {
      'only group 1 answered': servedNotBlocked(
        up,
        down,
        1400 * MS,
        (done) =>
          `of the Gets of group 1's ${up.length} shards only ${done} completed while group 2 was down`,
        'a Get of a shard of group 2 completed while group 2 was down: the data is not sharded as the configuration says',
      ),
    },
    checkAtUs: [[2500 * MS, 'only group 1 answered']],
  });
}

// TestJoinLeave5B: appends through a join and a leave; group 1 is shut down after leaving.
definePort({
  name: 'shardkv-mit-join-leave',
  ports: 'TestJoinLeave5B',
  description:
    'appends while group 2 joins and group 1 leaves and is shut down; every value survives.',
  gids: 2,
  clients: 5,
  durationUs: 3 * SECOND,
  admin: [
    [100 * MS, join(1)],
    [800 * MS, join(2)],
    [1600 * MS, leave(1)],
  ],
  groups: [[2400 * MS, 'down', 1]],
});

// TestSnapshot5B: maxraftstate 1000, joins and leaves, then every group restarts.
definePort({
  name: 'shardkv-mit-snapshot',
  ports: 'TestSnapshot5B',
  description:
    'maxraftstate 1000; joins and leaves of three groups, then every server of every group restarts; logs stay bounded and values survive.',
  gids: 3,
  clients: 5,
  durationUs: 4 * SECOND,
  maxRaftStateBytes: 1000,
  admin: [
    [100 * MS, join(1)],
    [600 * MS, join(2)],
    [1100 * MS, join(3)],
    [1600 * MS, leave(2)],
    [2100 * MS, join(2)],
    [2600 * MS, leave(1)],
  ],
  groups: [1, 2, 3].flatMap((gid) => [
    [3200 * MS, 'down', gid] as const,
    [3400 * MS, 'up', gid] as const,
  ]),
});

// TestMissChange5B: one server per group is down while several configurations pass.
definePort({
  name: 'shardkv-mit-miss-change',
  ports: 'TestMissChange5B',
  description:
    'one server of each group is down while configurations pass, then another; the restarted servers catch up through every configuration in order.',
  gids: 3,
  clients: 5,
  durationUs: 5 * SECOND,
  maxRaftStateBytes: 1000,
  admin: [
    [100 * MS, join(1)],
    [1000 * MS, join(2)],
    [1400 * MS, leave(1)],
    [1800 * MS, join(3)],
    [2200 * MS, join(1)],
    [3200 * MS, leave(2)],
    [3600 * MS, leave(3)],
    [4000 * MS, join(2)],
  ],
  groups: [1, 2, 3].flatMap((gid) => [
    [700 * MS, 'down', gid, [0]] as const,
    [2600 * MS, 'up', gid, [0]] as const,
    [2800 * MS, 'down', gid, [1]] as const,
    [4400 * MS, 'up', gid, [1]] as const,
  ]),
});

/** Concurrent1: joins and leaves while every group in turn shuts down and restarts. */
function shutdownEach(fromUs: number, stepUs: number, gids: number): GroupEvent[] {
  return Array.from({ length: gids }, (_, index) => [
    [fromUs + index * stepUs, 'down', index + 1] as const,
    [fromUs + index * stepUs + stepUs / 2, 'up', index + 1] as const,
  ]).flat();
}

definePort({
  name: 'shardkv-mit-concurrent1',
  ports: 'TestConcurrent1_5B',
  description:
    'ten appenders while groups join and leave and each group in turn shuts down and restarts; exact final values.',
  gids: 3,
  clients: 10,
  durationUs: 4 * SECOND,
  admin: [
    [100 * MS, join(1)],
    [500 * MS, join(2)],
    [900 * MS, join(3)],
    [1300 * MS, leave(1)],
    [1700 * MS, leave(2)],
    [2100 * MS, join(1)],
    [2500 * MS, join(2)],
  ],
  groups: shutdownEach(2800 * MS, 300 * MS, 3),
});

// TestConcurrent2_5B: groups 1 and 3 leave and rejoin apart; then every group restarts, so a
// restarting group fetches shards from several sources.
definePort({
  name: 'shardkv-mit-concurrent2',
  ports: 'TestConcurrent2_5B',
  description:
    'groups leave and rejoin in turn while clients append, then every group shuts down and restarts; exact final values.',
  gids: 3,
  clients: 5,
  durationUs: 5 * SECOND,
  admin: [
    [100 * MS, join(2)],
    [200 * MS, join(1)],
    [300 * MS, join(3)],
    [900 * MS, leave(1)],
    [1200 * MS, leave(3)],
    [1800 * MS, join(1)],
    [2100 * MS, join(3)],
    [2700 * MS, leave(1)],
    [3000 * MS, leave(3)],
    [3600 * MS, join(1)],
    [3900 * MS, join(3)],
  ],
  groups: shutdownEach(4200 * MS, 200 * MS, 3),
});

// TestConcurrent3_5B: random joins and leaves with crashes and restarts of all groups, maxraftstate 300.
{
  const random = Random.fromSeed(3).fork('shardkv-mit-concurrent3');
  const admin: Timed<AdminOp>[] = [[100 * MS, join(1)]];
  const joined = new Set([1]);
  for (let atUs = 400 * MS; atUs < 5 * SECOND; atUs += random.between(200 * MS, 500 * MS)) {
    const gid = 1 + random.int(3);
    if (joined.has(gid) && joined.size > 1) {
      joined.delete(gid);
      admin.push([atUs, leave(gid)]);
    } else if (!joined.has(gid)) {
      joined.add(gid);
      admin.push([atUs, join(gid)]);
    }
  }
  const groups: GroupEvent[] = [];
  for (const atUs of [1500 * MS, 3000 * MS, 4500 * MS]) {
    for (const gid of [1, 2, 3]) {
      groups.push([atUs, 'down', gid], [atUs + 200 * MS, 'up', gid]);
    }
  }
  definePort({
    name: 'shardkv-mit-concurrent3',
    ports: 'TestConcurrent3_5B',
    description:
      'five seconds of random joins and leaves with crashes and restarts of all groups, maxraftstate 300; exact final values.',
    gids: 3,
    clients: 5,
    durationUs: 5500 * MS,
    maxRaftStateBytes: 300,
    admin,
    groups,
  });
}

// TestUnreliable1_5B, 2_5B and 3_5B: the unreliable network while configurations change.
// 1: five appenders, a join or leave every 500 ms; 2: ten appenders, one every 250 ms;
// 3: random Gets, Puts and Appends on shared keys as well (MIT checks it with porcupine).
{
  const cycle = [join(1), join(2), join(3), leave(1), leave(2), join(1), join(2), leave(3)];
  const every = (stepUs: number): Timed<AdminOp>[] =>
    cycle.map((op, index): Timed<AdminOp> => [100 * MS + index * stepUs, op]);
  for (const [name, ports, clients, stepUs, randomKeys] of [
    ['shardkv-mit-unreliable1', 'TestUnreliable1_5B', 5, 500 * MS, false],
    ['shardkv-mit-unreliable2', 'TestUnreliable2_5B', 10, 250 * MS, false],
    ['shardkv-mit-unreliable3', 'TestUnreliable3_5B', 5, 500 * MS, true],
  ] as const) {
    definePort({
      name,
      ports,
      description: randomKeys
        ? 'an unreliable network, joins and leaves, random Gets, Puts and Appends; the history must be linearizable.'
        : `an unreliable network, a join or leave every ${stepUs / MS} ms and ${clients} concurrent appenders; exact final values, so duplicate tables must move with their shards.`,
      gids: 3,
      clients,
      durationUs: 4 * SECOND,
      maxRaftStateBytes: 1000,
      unreliable: true,
      workload: randomKeys ? { appendPercent: 40, putPercent: 20, sharedKeys: 10 } : {},
      admin: every(stepUs),
    });
  }
}

// TestChallenge1Delete: a snapshot after every entry, 30 values of 1 KB, join/leave cycles;
// the snapshots of all servers together stay within the lab's bound for all persisted state,
// which holds only if handed-off shards are deleted. (MIT counts Raft state too; our log
// files keep compacted entries until a rewrite, which waits for the file to double, so a
// log after a 15 KB shard install may hold tens of KB for a while.)
{
  const KEYS = 30;
  const VALUE_BYTES = 1000;
  const scripts: ScriptedOp[][] = [0, 1, 2].map((client) =>
    Array.from({ length: KEYS / 3 }, (_, i): ScriptedOp => {
      const key = String(client * (KEYS / 3) + i);
      const op: KvOp = { f: 'put', key, value: key.padEnd(VALUE_BYTES, 'x') };
      return { atUs: 300 * MS, op };
    }),
  );
  definePort({
    name: 'shardkv-mit-challenge1-delete',
    ports: 'TestChallenge1Delete',
    description:
      'a snapshot after every entry, thirty 1 KB values, join and leave cycles; the total state of all servers stays under 3 × (27 + 6 + 6) KB, so handed-off shards must be deleted.',
    gids: 3,
    clients: 3,
    durationUs: 4 * SECOND,
    raft: { snapshotEveryEntries: 1, logRewriteBytes: 4 * 1024 },
    scripts,
    admin: [
      [100 * MS, join(1)],
      [1000 * MS, join(2)],
      [1500 * MS, join(3)],
      [2000 * MS, leave(1)],
      [2500 * MS, leave(2)],
      [3000 * MS, join(1)],
      [3500 * MS, leave(3)],
    ],
    extraInvariants: [
      shardkvPersistedBounded({ totalSnapshotBytesMax: 3 * (27_000 + 6_000 + 6_000) }),
    ],
  });
}

// TestChallenge2Unaffected: group 1 is killed, then leaves; group 2 cannot fetch group 1's
// shards, but keeps serving the shards it already owned while that migration is stuck.
{
  const before = configAfter(join(1), join(2));
  const after = configAfter(join(1), join(2), leave(1));
  const unaffected = ownedBy(before, 2).filter((key) => after.shards[keyToShard(key)] === 2);
  const stuck = ownedBy(before, 1);
  definePort({
    name: 'shardkv-mit-challenge2-unaffected',
    ports: 'TestChallenge2Unaffected',
    description:
      'group 1 is killed and leaves; while group 2 cannot fetch its shards it keeps serving the shards it owned already.',
    gids: 2,
    clients: NSHARDS,
    durationUs: 3 * SECOND,
    admin: [
      [100 * MS, join(1)],
      [150 * MS, join(2)],
      [1100 * MS, leave(1)],
    ],
    scripts: perKeyScripts(400 * MS, 1500 * MS),
    groups: [
      [1000 * MS, 'down', 1],
      [2800 * MS, 'up', 1],
    ],
    checks: {
      'unaffected shards served': servedNotBlocked(
        unaffected,
        stuck,
        1400 * MS,
        (done) =>
          `group 2 served only ${done} of ${unaffected.length} Gets of shards it owned before and after group 1 left, while the migration from group 1 was stuck`,
        STUCK_SERVED,
      ),
    },
    checkAtUs: [[2600 * MS, 'unaffected shards served']],
  });
}

// TestChallenge2Partial: three groups; group 1 is killed; groups 1 and 3 leave. Group 2
// serves the shards that arrived from group 3 while group 1's are still pending.
{
  const before = configAfter(join(1), join(2), join(3));
  const fromThree = ownedBy(before, 3);
  const stuck = ownedBy(before, 1);
  definePort({
    name: 'shardkv-mit-challenge2-partial',
    ports: 'TestChallenge2Partial',
    description:
      'three groups; group 1 is killed, groups 1 and 3 leave; group 2 serves the shards received from group 3 while group 1’s are still pending.',
    gids: 3,
    clients: NSHARDS,
    durationUs: 3 * SECOND,
    admin: [
      [100 * MS, join(1)],
      [150 * MS, join(2)],
      [200 * MS, join(3)],
      [1100 * MS, leave(1, 3)],
    ],
    scripts: perKeyScripts(400 * MS, 1500 * MS),
    groups: [
      [1000 * MS, 'down', 1],
      [2800 * MS, 'up', 1],
    ],
    checks: {
      'shards from group 3 served': servedNotBlocked(
        fromThree,
        stuck,
        1400 * MS,
        (done) =>
          `group 2 served only ${done} of ${fromThree.length} Gets of the shards it received from group 3 while group 1's were pending`,
        STUCK_SERVED,
      ),
    },
    checkAtUs: [[2600 * MS, 'shards from group 3 served']],
  });
}
