// The sharded KV swarm: a shard controller group of three, three replica groups of three
// (g1, g2, g3), an administrator whose Joins, Leaves and Moves are drawn from the seed, and
// clients appending, putting and getting across every shard, under every fault kind and the
// group-aware partitions (a group cut off from the controller or from another group, a group
// split, a node isolated). The history must be linearizable across migrations, every
// acknowledged Append land exactly once, no two groups serve a shard under one
// configuration, every replica take configurations in order, handed-off shards be deleted,
// and after the settle phase every group finish the newest configuration and serve again.
import { kvOperationsComplete, kvSometimes } from '../invariants/kv.ts';
import {
  raftMediaFaultSometimes,
  raftSafetyInvariants,
  raftSometimes,
} from '../invariants/raft.ts';
import { ctrlerInvariants } from '../invariants/shardctrler.ts';
import { shardkvInvariants, shardkvSometimes } from '../invariants/shardkv.ts';
import { Random } from '../sim/random.ts';
import { type GroupSpec, registerScenario } from '../sim/scenario.ts';
import { FAULT_KINDS, type Plan } from '../sim/types.ts';
import { KV_SHRINKABLE_WORKLOAD, type ScriptedOp } from '../systems/kv/workload.ts';
import { RAFT_VARIANTS } from '../systems/raft/program.ts';
import { type AdminStep, adminScriptKey } from '../systems/shardkv/admin.ts';
import { keyToShard, NSHARDS } from '../systems/shardkv/config.ts';
import {
  CTRLER_GROUP,
  ctrlerServer,
  groupName,
  groupServer,
  probeScriptKey,
  shardAdmin,
  shardClient,
  shardProber,
} from '../systems/shardkv/program.ts';
import { SHARDKV_VARIANTS } from '../systems/shardkv/types.ts';

const MS = 1000;
const SECOND = 1_000_000;
const GIDS = [1, 2, 3] as const;
const SERVERS_PER_GROUP = 3;

export const SHARDKV_GROUPS: GroupSpec[] = [
  {
    name: CTRLER_GROUP,
    size: 3,
    prefix: 'ctrl',
    program: ctrlerServer({ snapshotEveryEntries: 50, logRewriteBytes: 16 * 1024 }),
  },
  ...GIDS.map(
    (gid): GroupSpec => ({
      name: groupName(gid),
      size: SERVERS_PER_GROUP,
      prefix: `${groupName(gid)}n`,
      program: groupServer({ snapshotEveryEntries: 100, logRewriteBytes: 32 * 1024 }),
    }),
  ),
  { name: 'admins', size: 1, prefix: 'a', client: true, program: shardAdmin() },
  { name: 'clients', size: 5, prefix: 'c', client: true, program: shardClient() },
  // The prober: 3 s into the settle phase, a Put and a Get on every shard (liveness).
  { name: 'probes', size: 1, prefix: 'p', client: true, program: shardProber() },
];

/** A key of each shard, for the prober. */
const PROBE_KEYS: string[] = (() => {
  const keys: string[] = [];
  for (let i = 0; keys.filter((key) => key !== undefined).length < NSHARDS && i < 10_000; i++) {
    keys[keyToShard(`p${i}`)] ??= `p${i}`;
  }
  return keys;
})();

/** Liveness after settle: 3 s into it, a Put and then a Get on every shard. */
function probeScript(atUs: number): ScriptedOp[] {
  return PROBE_KEYS.flatMap((key): ScriptedOp[] => [
    { atUs, op: { f: 'put', key, value: `probe ${key}` } },
    { atUs, op: { f: 'get', key } },
  ]);
}

/**
 * The administrator's script: a Join of one or two groups at first, then every 0.3–2 s a
 * Join of a group not in, a Leave of one that is (never the last), or a Move, until a second
 * before the faults stop.
 */
export function drawAdminScript(seed: number, durationUs: number): AdminStep[] {
  const random = Random.fromSeed(seed).fork('shardkv-admin');
  const joined = new Set<number>(random.chance(0.5) ? [1] : [1, 2]);
  const steps: AdminStep[] = [{ atUs: 100 * MS, op: { f: 'join', gids: [...joined] } }];
  for (let atUs = 100 * MS + random.between(300 * MS, 2 * SECOND); atUs < durationUs - SECOND; ) {
    const out = GIDS.filter((gid) => !joined.has(gid));
    const roll = random.int(3);
    if (roll === 0 && out.length > 0) {
      const gid = random.pick(out);
      joined.add(gid);
      steps.push({ atUs, op: { f: 'join', gids: [gid] } });
    } else if (roll === 1 && joined.size > 1) {
      const gid = random.pick([...joined].sort());
      joined.delete(gid);
      steps.push({ atUs, op: { f: 'leave', gids: [gid] } });
    } else {
      const gid = random.pick([...joined].sort());
      steps.push({ atUs, op: { f: 'move', shard: random.int(NSHARDS), gid } });
    }
    atUs += random.between(300 * MS, 2 * SECOND);
  }
  return steps;
}

registerScenario({
  name: 'shardkv',
  description:
    'A shard controller and three replica groups on Raft, Joins/Leaves/Moves drawn from the seed while clients append, put and get on every shard, every fault kind and group-aware partitions; linearizable across migrations, appends exactly once, one group per shard per configuration, configurations in order, handed-off shards deleted, every group finishes the newest configuration after settle.',
  system: 'shardkv',
  groups: SHARDKV_GROUPS,
  durationUs: 8 * SECOND,
  // Each seed draws its shape (pin with --set, e.g. durationUs=8000000 clients=3
  // thinkUsMax=20000): short dense runs are cheap and find most bugs, long ones move more.
  shape: {
    durationUs: { min: 2 * SECOND, max: 12 * SECOND },
    groupSizes: { clients: [1, 2, 3, 4, 5] },
    workload: { thinkUsMax: { min: 2_000, max: 40_000 } },
  },
  settleUs: 6 * SECOND,
  faults: {
    // Durable corruption as in `raft`: the media-fault atlas picks a minority of each group's
    // servers (the controller's too), which detect it at restart and refuse to start; the
    // groups keep a running majority. Latent sector errors stay out, as in `raft`.
    eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'),
    swarm: true,
  },
  workload: {
    appendPercent: 45,
    putPercent: 10,
    sharedKeys: 3,
    thinkUsMax: 20_000,
    attemptTimeoutUs: 200_000,
    giveUpUs: 2 * SECOND,
    opsMax: 2000,
    // Sync marks on, as in `raft`: these disks rot. Plans kept from before run without.
    syncMarks: true,
  },
  shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
  // Shrink drops the administrator's Joins, Leaves and Moves that the failure does not need.
  shrinkableWorkloadLists: [adminScriptKey(0)],
  // The service's own bugs, and Raft's in every group (the controller's and the replicas').
  variants: {
    ...SHARDKV_VARIANTS,
    ...Object.fromEntries(
      Object.entries(RAFT_VARIANTS).map(([name, what]) => [`raft:${name}`, what]),
    ),
  },
  invariants: (plan: Plan) => [
    ...raftSafetyInvariants(),
    ...ctrlerInvariants(plan.durationUs),
    ...shardkvInvariants(plan.durationUs + plan.settleUs - 3 * SECOND),
    // Every operation called 3 s into the settle phase completes, the prober's Put and Get on
    // every shard among them.
    kvOperationsComplete(plan.durationUs + 3 * SECOND, plan.durationUs + plan.settleUs - SECOND),
  ],
  sometimes: {
    ...Object.fromEntries(
      Object.entries(raftSometimes).filter(([name]) => name !== 'a membership change completed'),
    ),
    'a retried write was recognised as a duplicate': kvSometimes[
      'a retried write was recognised as a duplicate'
    ] as (typeof kvSometimes)[string],
    ...shardkvSometimes,
    ...raftMediaFaultSometimes,
  },
  plan: (seed, base) => ({
    ...base,
    workload: {
      ...base.workload,
      [adminScriptKey(0)]: JSON.stringify(drawAdminScript(seed, base.durationUs)),
      [probeScriptKey(0)]: JSON.stringify(probeScript(base.durationUs + 3 * SECOND)),
    },
  }),
});
