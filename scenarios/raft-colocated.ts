// Three Raft groups on the same servers, as a multi-Raft store (TiKV, CockroachDB) places its
// ranges: every server hosts g1, g2 and g3 (MultiRaftNode), which share its disk, clock, timers
// and network endpoint and crash together, but keep their own files and state. Each group has
// its own clients and its own membership churn (a server leaves one group and stays in the
// others). Every fault kind, as in `raft`; safety per group always, and after settle a leader
// and fresh commits in every group. What raft-multi cannot show: one group's timer, fsync or
// message taken by another, one group's files damaged by another's writes, a restart that
// recovers several groups from one disk.
import { type GroupSpec, registerScenario } from '../sim/scenario.ts';
import type { ScriptStep } from '../sim/types.ts';
import { RAFT_VARIANTS, raftClient, raftMultiServer } from '../systems/raft/program.ts';
import {
  membershipChurn,
  RAFT_CLIENT_PACE,
  RAFT_SWARM_FAULTS,
  RAFT_SWARM_SOMETIMES,
} from './raft.ts';
import { clientGroup, perRaftGroup, raftPerGroupInvariants } from './raft-multi.ts';

const SECOND = 1_000_000;
const RAFT_GROUPS = ['g1', 'g2', 'g3'] as const;
const SERVERS = 'servers';

/** The servers first, then each Raft group's clients: shrink drops clients from the end. */
const groups: GroupSpec[] = [
  {
    name: SERVERS,
    size: 5,
    prefix: 'n',
    program: raftMultiServer(RAFT_GROUPS, {
      snapshotEveryEntries: 200,
      logRewriteBytes: 32 * 1024,
    }),
  },
  ...RAFT_GROUPS.map(
    (group): GroupSpec => ({
      name: clientGroup(group),
      size: 2,
      prefix: `${group}c`,
      client: true,
      program: raftClient({ group: SERVERS, raftGroup: group }),
    }),
  ),
];

const perGroup = perRaftGroup(RAFT_GROUPS);

registerScenario({
  name: 'raft-colocated',
  description:
    'Three Raft groups hosted together on 3 or 5 servers (multi-Raft), 1–2 clients each, every fault kind, 0.5–15 s of faults; safety per group always, a leader and fresh commits in every group after settle.',
  system: 'raft',
  groups,
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  shape: {
    durationUs: { min: SECOND / 2, max: 15 * SECOND },
    groupSizes: {
      [SERVERS]: [3, 5],
      ...Object.fromEntries(RAFT_GROUPS.map((group) => [clientGroup(group), [1, 2]])),
    },
    workload: RAFT_CLIENT_PACE,
  },
  // As in `raft`: media faults hit a minority of the servers, and so of every group.
  faults: RAFT_SWARM_FAULTS,
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  invariants: (plan) => raftPerGroupInvariants(plan, perGroup),
  sometimes: RAFT_SWARM_SOMETIMES,
  plan: (seed, base) => ({
    ...base,
    script: RAFT_GROUPS.flatMap((group): ScriptStep[] =>
      membershipChurn(seed, base, SERVERS, group),
    ),
  }),
});
