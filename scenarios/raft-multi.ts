// Three independent Raft groups in one run — g1, g2, g3, three servers each — with two
// clients proposing to each group, every fault kind (crashes, pauses, clocks and disk faults
// pick servers of any group) and group-aware partitions: one group split into a majority and
// a minority, one group cut off from another, one node isolated from everyone. Every Raft
// invariant holds per group, and after the settle phase every group elects a leader and
// commits again. The shape of a shard controller beside replica groups, before sharding.
import {
  type PerGroupOptions,
  raftClientSometimes,
  raftLivenessInvariant,
  raftMediaFaultSometimes,
  raftSafetyInvariants,
  raftSometimes,
  raftVotersCatchUp,
} from '../invariants/raft.ts';
import { leaderStaysWhileHealthy } from '../invariants/raft-stability.ts';
import { type GroupSpec, registerScenario } from '../sim/scenario.ts';
import type { ClusterView, Invariant, Plan, ScriptStep } from '../sim/types.ts';
import { DEFAULT_RAFT_OPTIONS } from '../systems/raft/group.ts';
import { RAFT_VARIANTS, raftClient, raftServer } from '../systems/raft/program.ts';
import { membershipChurn, RAFT_SWARM_FAULTS } from './raft.ts';

const SECOND = 1_000_000;
const RAFT_GROUPS = ['g1', 'g2', 'g3'] as const;
const SERVERS_PER_GROUP = 3;
const CLIENTS_PER_GROUP = 2;

/** The topology group of a Raft group's clients. */
export const clientGroup = (group: string) => `${group}-clients`;

/**
 * Per-group options for the Raft invariants of a run hosting `raftGroups`, each worked by its
 * own client group: liveness expects new commands in a group only while it has clients
 * (shrink may drop them).
 */
export function perRaftGroup(raftGroups: readonly string[]): PerGroupOptions {
  return {
    groups: raftGroups,
    clientsOf: (view: ClusterView, group: string) => view.members(clientGroup(group)),
  };
}

/**
 * Every Raft invariant per group, always; after settle, a leader and fresh commits in every
 * group, every running voter caught up, and no healthy leader deposed in the settle phase.
 */
export function raftPerGroupInvariants(plan: Plan, perGroup: PerGroupOptions): Invariant[] {
  return [
    ...raftSafetyInvariants(perGroup),
    raftLivenessInvariant({
      ...perGroup,
      settleStartUs: plan.durationUs,
      commitWithinUs: 3 * SECOND,
    }),
    raftVotersCatchUp(perGroup),
    leaderStaysWhileHealthy({ ...perGroup, electionTicks: DEFAULT_RAFT_OPTIONS.electionTicks }),
  ];
}

const server = raftServer({ snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 });

/** The server groups first, then each group's clients: shrink drops clients from the end. */
const groups: GroupSpec[] = [
  ...RAFT_GROUPS.map(
    (group): GroupSpec => ({
      name: group,
      size: SERVERS_PER_GROUP,
      prefix: `${group}n`,
      program: server,
    }),
  ),
  ...RAFT_GROUPS.map(
    (group): GroupSpec => ({
      name: clientGroup(group),
      size: CLIENTS_PER_GROUP,
      prefix: `${group}c`,
      client: true,
      program: raftClient({ group }),
    }),
  ),
];

const perGroup = perRaftGroup(RAFT_GROUPS);

registerScenario({
  name: 'raft-multi',
  description:
    'Three Raft groups of three servers with two clients each, every fault kind and group-aware partitions; safety per group always, a leader and fresh commits in every group after settle.',
  system: 'raft',
  groups,
  durationUs: 10 * SECOND,
  // Each seed draws its fault phase, as `raft` does (pin with --set durationUs=10000000).
  shape: { durationUs: { min: SECOND / 2, max: 15 * SECOND } },
  settleUs: 5 * SECOND,
  // As in `raft`; the media-fault atlas picks a minority of each group's servers.
  faults: RAFT_SWARM_FAULTS,
  // Sync marks on, as in `raft`: these disks rot. Plans kept from before run without.
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  invariants: (plan) => raftPerGroupInvariants(plan, perGroup),
  sometimes: { ...raftSometimes, ...raftClientSometimes, ...raftMediaFaultSometimes },
  plan: (seed, base) => ({
    ...base,
    script: RAFT_GROUPS.flatMap((group): ScriptStep[] => membershipChurn(seed, base, group)),
  }),
});
