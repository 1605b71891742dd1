// The two-group scenario README's "Writing a scenario" shows, kept here so that it compiles
// and runs (scenarios/examples/ledger.test.ts checks README shows exactly this code).
import { raftLivenessInvariant, raftSafetyInvariants } from '../../invariants/raft.ts';
import { registerScenario } from '../../sim/scenario.ts';
import { RAFT_VARIANTS, raftClient, raftServer } from '../../systems/raft/program.ts';

registerScenario({
  name: 'ledger',
  description: 'Three ledger servers on Raft and two clients; crashes, pauses and partitions.',
  system: 'raft',
  groups: [
    // Nodes ledger1–ledger3, each holding a RaftGroup whose peers are ctx.members('ledger').
    { name: 'ledger', size: 3, program: raftServer({ snapshotEveryEntries: 100 }) },
    // Nodes c1, c2: client groups record history and are never fault victims.
    {
      name: 'clients',
      size: 2,
      prefix: 'c',
      client: true,
      program: raftClient({ group: 'ledger' }),
    },
  ],
  durationUs: 5_000_000,
  settleUs: 3_000_000,
  faults: { eligible: ['crash', 'pause', 'partition', 'drop', 'torn-write'], swarm: true },
  workload: {},
  variants: RAFT_VARIANTS,
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    raftLivenessInvariant({ settleStartUs: plan.durationUs }),
  ],
});
