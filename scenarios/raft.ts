// The general Raft swarm scenario: servers under every fault kind while clients propose for
// the whole run, then a settle phase in which a leader must emerge and commit again. Each
// seed draws its shape: 3 or 5 servers, 1–4 clients, their think time and a fault phase of
// 0.5–15 s (short seeds find most bugs cheaply; long ones find those that need a long history).
import {
  raftClientReadSometimes,
  raftClientSometimes,
  raftLivenessInvariant,
  raftMediaFaultSometimes,
  raftSafetyInvariants,
  raftSometimes,
  raftVotersCatchUp,
} from '../invariants/raft.ts';
import { leaderStepsDownWithoutQuorum } from '../invariants/raft-availability.ts';
import { leaderStaysWhileHealthy } from '../invariants/raft-stability.ts';
import { Random } from '../sim/random.ts';
import { registerScenario, type Scenario } from '../sim/scenario.ts';
import { Topology } from '../sim/topology.ts';
import { FAULT_KINDS, type NodeId, type Plan, type ScriptStep } from '../sim/types.ts';
import { DEFAULT_RAFT_OPTIONS } from '../systems/raft/group.ts';
import { RAFT_VARIANTS, raftGroups } from '../systems/raft/program.ts';

const SECOND = 1_000_000;

/**
 * The Raft swarms' faults. Durable corruption (bit rot, misdirected writes) hits a minority
 * of the servers (the plan's media-fault atlas). What a correct node does: detect it by
 * checksum when it reads its files back at restart and refuse to start — never apply damaged
 * data, never drop a synced batch as if torn (the sync marks, systems/raft/codec.ts). The
 * majority carries on; a node refuses only when a media fault hit its disk
 * (refuses-only-on-media-fault), and liveness holds the rest to a majority that runs. Latent
 * sector errors stay out: they fail a read outright, which this Raft (no repair from peers)
 * treats as a process death, restarted again and again.
 */
export const RAFT_SWARM_FAULTS: Scenario['faults'] = {
  eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'),
  swarm: true,
};

/**
 * The pace a Raft swarm's clients draw per seed: their think time, and the share of reads
 * (ReadIndex, 1–50 % of the operations), drawn last so no other draw moves.
 */
export const RAFT_CLIENT_PACE = {
  thinkUs: { min: 1_000, max: 20_000 },
  readPercent: { min: 1, max: 50 },
};

/** What a Raft swarm whose clients propose and read must sometimes reach. */
export const RAFT_SWARM_SOMETIMES: Scenario['sometimes'] = {
  ...raftSometimes,
  ...raftClientSometimes,
  ...raftClientReadSometimes,
  ...raftMediaFaultSometimes,
};

registerScenario({
  name: 'raft',
  description:
    '3 or 5 Raft servers under every fault kind while 1–4 clients propose, 0.5–15 s of faults; safety always, a leader and fresh commits after settle.',
  system: 'raft',
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  shape: {
    durationUs: { min: SECOND / 2, max: 15 * SECOND },
    groupSizes: { servers: [3, 5], clients: [1, 2, 3, 4] },
    // Servers snapshot every 200 entries in every seed: drawing it (20–1,000, then 50–400)
    // made commit-previous-term and no-truncate-on-conflict slower to find (BENCHMARKS.md).
    workload: RAFT_CLIENT_PACE,
  },
  faults: RAFT_SWARM_FAULTS,
  // Sync marks on (systems/raft/codec.ts): these disks rot. Plans kept from before it run
  // without, as they were recorded.
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  groups: raftGroups(5, 3, { snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 }),
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    leaderStepsDownWithoutQuorum(plan, DEFAULT_RAFT_OPTIONS),
    raftLivenessInvariant({
      settleStartUs: plan.durationUs,
      commitWithinUs: 3 * SECOND,
    }),
    raftVotersCatchUp(),
    leaderStaysWhileHealthy(DEFAULT_RAFT_OPTIONS),
  ],
  sometimes: RAFT_SWARM_SOMETIMES,
  plan: (seed, base) => ({ ...base, script: membershipChurn(seed, base, 'servers') }),
});

/**
 * Half the seeds remove a random server of the group (perhaps the leader) at a random time
 * and add it back later. The request goes to every server; only the leader acts on it.
 * `raftGroup` names the Raft group when the group's servers host several (multi-Raft): the
 * requests carry it, and it draws from a stream of its own.
 */
export function membershipChurn(
  seed: number,
  plan: Plan,
  group: string,
  raftGroup?: string,
): ScriptStep[] {
  // The classic group keeps the stream it always had, so its seeds draw what they drew.
  const stream =
    raftGroup !== undefined
      ? `membership:raft:${raftGroup}`
      : group === 'servers'
        ? 'membership'
        : `membership:${group}`;
  const target: MembershipTarget = {
    group,
    tag: raftGroup === undefined ? {} : { group: raftGroup },
  };
  const burst = membershipBurst(Random.fromSeed(seed).fork(`${stream}:burst`), plan, target);
  return [...removeAndAddBack(Random.fromSeed(seed).fork(stream), plan, target), ...burst];
}

/** The servers' topology group, and what a request adds to name its Raft group (if any). */
interface MembershipTarget {
  readonly group: string;
  readonly tag: { readonly group?: string };
}

function removeAndAddBack(random: Random, plan: Plan, target: MembershipTarget): ScriptStep[] {
  if (!random.chance(0.5)) {
    return [];
  }
  const servers = Topology.of(plan).members(target.group);
  const node = servers[random.int(servers.length)] as NodeId;
  // Both changes fall inside the fault phase, however short the seed drew it; a phase of 6 s
  // or more draws what the fixed 10 s phase always drew.
  const halfUs = Math.floor(plan.durationUs / 2);
  const removeAtUs = random.between(Math.min(SECOND, Math.floor(halfUs / 2)), halfUs);
  const gapMinUs = Math.min(SECOND / 2, Math.floor(plan.durationUs / 8));
  const addAtUs =
    removeAtUs + random.between(gapMinUs, Math.max(gapMinUs, Math.min(3 * SECOND, halfUs - 1)));
  return [
    ...membershipRequest(servers, target, removeAtUs, 'remove', node),
    ...membershipRequest(servers, target, addAtUs, 'add', node),
  ];
}

/** One membership request, sent to every server of the group (only the leader acts on it). */
function membershipRequest(
  servers: readonly NodeId[],
  target: MembershipTarget,
  atUs: number,
  change: 'add' | 'remove',
  node: NodeId,
): ScriptStep[] {
  return servers.map((server) => ({
    atUs,
    kind: 'inject',
    node: server,
    message: { type: 'membership', change, node, ...target.tag },
  }));
}

/** Requests in one burst, and how far apart (µs) they arrive at most. */
const BURST_CHANGES_MAX = 4;
const BURST_GAP_US_MAX = 20_000;

/**
 * A third of the seeds also send a burst of 2–4 membership requests a few milliseconds apart,
 * overlapping (the code that refuses a change while another is in progress runs), right after
 * a pause or a partition when the plan has one in its first half (the leader may be the node
 * cut off or frozen). Every node the burst may have removed is asked back twice, a second
 * apart, so the group ends whole when the requests are accepted. All inside the fault phase.
 */
function membershipBurst(random: Random, plan: Plan, target: MembershipTarget): ScriptStep[] {
  if (!random.chance(1 / 3)) {
    return [];
  }
  const servers = Topology.of(plan).members(target.group);
  const halfUs = Math.floor(plan.durationUs / 2);
  const anchors = plan.faults
    .filter(
      (fault) => (fault.kind === 'pause' || fault.kind === 'partition') && fault.atUs < halfUs,
    )
    .map((fault) => fault.atUs);
  let atUs =
    anchors.length > 0
      ? (random.pick(anchors) as number) + random.between(0, 50_000)
      : random.between(0, halfUs);
  const steps: ScriptStep[] = [];
  const removed = new Set<NodeId>();
  const changes = random.between(2, BURST_CHANGES_MAX);
  for (let change = 0; change < changes; change++) {
    const node = servers[random.int(servers.length)] as NodeId;
    const kind = removed.has(node) || random.chance(0.3) ? 'add' : 'remove';
    if (kind === 'remove') {
      removed.add(node);
    }
    steps.push(...membershipRequest(servers, target, atUs, kind, node));
    atUs += random.between(0, BURST_GAP_US_MAX);
  }
  for (const node of [...removed].sort((a, b) => a - b)) {
    for (const afterUs of [SECOND, 2 * SECOND]) {
      steps.push(...membershipRequest(servers, target, atUs + afterUs, 'add', node));
    }
  }
  return steps.filter((step) => step.atUs < plan.durationUs);
}
