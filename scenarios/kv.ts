// The KV swarm scenario for fuzzing: five KV servers on Raft with snapshots, five clients
// appending to their own keys, putting to shared keys and reading both, every fault kind
// but latent-sector errors, ten seconds of faults and then a settle phase.
import {
  kvInvariants,
  kvOperationsComplete,
  kvPersistedStateBounded,
  kvSometimes,
} from '../invariants/kv.ts';
import { raftSafetyInvariants, raftSometimes } from '../invariants/raft.ts';
import { registerScenario } from '../sim/scenario.ts';
import { FAULT_KINDS } from '../sim/types.ts';
import { kvProgram } from '../systems/kv/program.ts';
import { KV_VARIANTS } from '../systems/kv/types.ts';
import { KV_SHRINKABLE_WORKLOAD } from '../systems/kv/workload.ts';

const SECOND = 1_000_000;
const MAX_RAFT_STATE_BYTES = 4096;

registerScenario({
  name: 'kv',
  description:
    'Five KV servers on Raft with snapshots under every fault kind while five clients append, put and get; the history must be linearizable and every acknowledged Append land exactly once.',
  system: 'kv',
  nodes: 5,
  clients: 5,
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  faults: {
    // As in the raft scenario: a latent sector error on a lone copy is unrecoverable here.
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
    // More than a client gets through in 15 s; explicit so that the shrinker can lower it.
    opsMax: 2000,
  },
  shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
  variants: KV_VARIANTS,
  program: kvProgram({ maxRaftStateBytes: MAX_RAFT_STATE_BYTES }),
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    ...kvInvariants(),
    kvPersistedStateBounded({ raftStateBytesMax: 8 * MAX_RAFT_STATE_BYTES }),
    // Liveness: once the faults have stopped for 2 s, operations complete again.
    kvOperationsComplete(plan.durationUs + 2 * SECOND, plan.durationUs + plan.settleUs - SECOND),
  ],
  // The KV service never changes membership, so that Raft condition is not expected here.
  sometimes: {
    ...Object.fromEntries(
      Object.entries(raftSometimes).filter(([name]) => name !== 'a membership change completed'),
    ),
    ...kvSometimes,
  },
});
