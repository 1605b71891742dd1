// The KV swarm scenarios for fuzzing: KV servers on Raft with snapshots, clients appending to
// their own keys, putting to shared keys and reading both, every fault kind but latent-sector
// errors (bit rot and misdirected writes included), a fault phase and then a settle phase. Each seed draws 3 or 5 servers, 1–5 clients,
// how fast they go and 2–15 s of faults. `kv` serves Gets
// by ReadIndex, `kv-lease` under leader leases.
import {
  kvEveryClientCompletes,
  kvInvariants,
  kvOperationsComplete,
  kvPersistedStateBounded,
  kvSometimes,
  kvWorkloadSometimes,
} from '../invariants/kv.ts';
import {
  raftLeaseSometimes,
  raftMediaFaultSometimes,
  raftSafetyInvariants,
  raftSometimes,
} from '../invariants/raft.ts';
import {
  answersWhileMajorityReachable,
  leaderStepsDownWithoutQuorum,
} from '../invariants/raft-availability.ts';
import { leaderStaysWhileHealthy } from '../invariants/raft-stability.ts';
import { CLOCK_DRIFT_PPM_MAX } from '../sim/plan.ts';
import { registerScenario } from '../sim/scenario.ts';
import { FAULT_KINDS, type Plan } from '../sim/types.ts';
import { kvGroups } from '../systems/kv/program.ts';
import { KV_VARIANTS } from '../systems/kv/types.ts';
import { KV_SHRINKABLE_WORKLOAD } from '../systems/kv/workload.ts';
import { DEFAULT_RAFT_OPTIONS } from '../systems/raft/group.ts';
import { LEASE_VARIANTS } from '../systems/raft/program.ts';

const SECOND = 1_000_000;
const MAX_RAFT_STATE_BYTES = 4096;
/** The bound kv-lease states; the swarm's clock-drift faults draw within CLOCK_DRIFT_PPM_MAX. */
const LEASE_DRIFT_PPM_MAX = 10_000;

/**
 * How long a kv operation may wait while its client and a majority are up and connected (and
 * no server outside them may hold a quorum): the correct service answered within 500 ms in
 * every such window of kv seeds 0–399 (53 seeds judged), so 1 s leaves it twice that. Under
 * the client's 2 s give-up.
 */
const KV_ANSWER_BOUND_US = 1_000_000;
const KV_SWARM_GIVE_UP_US = 2 * SECOND;

const KV_SWARM = {
  system: 'kv',
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  // Each seed draws its shape (pin any of it with --set; the old fixed shape was
  // durationUs=10000000 servers=5 clients=5 thinkUsMax=20000).
  shape: {
    // Not shorter: in 300 seeds of stale-follower-read and lease-renewed-on-send, none under
    // 1.5 s of faults failed (bench/shape-yield.ts); their cost is the settle phase's.
    durationUs: { min: 2 * SECOND, max: 15 * SECOND },
    groupSizes: { servers: [3, 5], clients: [1, 2, 3, 4, 5] },
    workload: { thinkUsMax: { min: 2_000, max: 40_000 } },
  },
  faults: {
    // As in the raft scenario: durable corruption on a minority of the servers, which detect
    // it and refuse to start; latent sector errors stay out.
    eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'),
    swarm: true,
  },
  workload: {
    appendPercent: 45,
    putPercent: 10,
    sharedKeys: 3,
    thinkUsMax: 20_000,
    attemptTimeoutUs: 200_000,
    giveUpUs: KV_SWARM_GIVE_UP_US,
    // More than a client gets through in 15 s; explicit so that the shrinker can lower it.
    opsMax: 2000,
    // Sync marks on (systems/raft/codec.ts): these disks rot. Plans kept from before it run
    // without, as they were recorded.
    syncMarks: true,
  },
  shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
  invariants: (plan: Plan) => [
    ...raftSafetyInvariants(),
    leaderStepsDownWithoutQuorum(plan, DEFAULT_RAFT_OPTIONS),
    leaderStaysWhileHealthy(DEFAULT_RAFT_OPTIONS),
    answersWhileMajorityReachable(plan, {
      group: 'servers',
      boundUs: KV_ANSWER_BOUND_US,
      giveUpUs: plan.workload['giveUpUs'] as number,
    }),
    ...kvInvariants(),
    kvPersistedStateBounded({ raftStateBytesMax: 8 * MAX_RAFT_STATE_BYTES }),
    // Liveness: once the faults have stopped for 2 s, operations complete again.
    kvOperationsComplete(plan.durationUs + 2 * SECOND, plan.durationUs + plan.settleUs - SECOND),
    kvEveryClientCompletes(plan),
  ],
  // The KV service never changes membership, so that Raft condition is not expected here.
  sometimes: {
    ...Object.fromEntries(
      Object.entries(raftSometimes).filter(([name]) => name !== 'a membership change completed'),
    ),
    ...kvSometimes,
    ...kvWorkloadSometimes,
    ...raftMediaFaultSometimes,
  },
} as const;

registerScenario({
  ...KV_SWARM,
  name: 'kv',
  description:
    '3 or 5 KV servers on Raft with snapshots under every fault kind while 1–5 clients append, put and get; the history must be linearizable and every acknowledged Append land exactly once.',
  variants: KV_VARIANTS,
  groups: kvGroups(5, 5, { maxRaftStateBytes: MAX_RAFT_STATE_BYTES }),
});

registerScenario({
  ...KV_SWARM,
  name: 'kv-lease',
  description: `The kv swarm with Gets served under a leader lease (ReadIndex once it runs out), assuming clocks within ±${LEASE_DRIFT_PPM_MAX / 10_000} % of true time; the swarm's drift stays within ±${CLOCK_DRIFT_PPM_MAX / 10_000} %.`,
  variants: LEASE_VARIANTS,
  groups: kvGroups(5, 5, {
    maxRaftStateBytes: MAX_RAFT_STATE_BYTES,
    raft: { readMode: 'lease', leaseDriftPpmMax: LEASE_DRIFT_PPM_MAX },
  }),
  sometimes: { ...KV_SWARM.sometimes, ...raftLeaseSometimes },
});
