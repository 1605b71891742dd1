// The general Raft swarm scenario: five servers, three clients proposing for the whole run,
// every fault kind eligible, ten seconds of faults and then a settle phase in which a leader
// must emerge and commit again.
import { raftLivenessInvariant, raftSafetyInvariants, raftSometimes } from '../invariants/raft.ts';
import { registerScenario } from '../sim/scenario.ts';
import { FAULT_KINDS } from '../sim/types.ts';
import { RAFT_VARIANTS, raftProgram } from '../systems/raft/program.ts';

const SECOND = 1_000_000;

registerScenario({
  name: 'raft',
  description:
    'Five Raft servers under every fault kind while three clients propose; safety always, a leader and fresh commits after settle.',
  system: 'raft',
  nodes: 5,
  clients: 3,
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  faults: {
    // A latent sector error on a lone copy of a log is unrecoverable without repair from
    // peers, which this Raft does not do: the node refuses to start, which liveness flags.
    eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'),
    swarm: true,
  },
  workload: {},
  variants: RAFT_VARIANTS,
  program: raftProgram({ snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 }),
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    raftLivenessInvariant({ settleStartUs: plan.durationUs, commitWithinUs: 3 * SECOND }),
  ],
  sometimes: raftSometimes,
});
