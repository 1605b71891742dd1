// The general Raft swarm scenario: five servers, three clients proposing for the whole run,
// every fault kind eligible, ten seconds of faults and then a settle phase in which a leader
// must emerge and commit again.
import { raftLivenessInvariant, raftSafetyInvariants, raftSometimes } from '../invariants/raft.ts';
import { Random } from '../sim/random.ts';
import { registerScenario } from '../sim/scenario.ts';
import { Topology } from '../sim/topology.ts';
import { FAULT_KINDS, type NodeId, type Plan, type ScriptStep } from '../sim/types.ts';
import { RAFT_VARIANTS, raftGroups } from '../systems/raft/program.ts';

const SECOND = 1_000_000;

registerScenario({
  name: 'raft',
  description:
    'Five Raft servers under every fault kind while three clients propose; safety always, a leader and fresh commits after settle.',
  system: 'raft',
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
  groups: raftGroups(5, 3, { snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 }),
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    raftLivenessInvariant({
      settleStartUs: plan.durationUs,
      commitWithinUs: 3 * SECOND,
    }),
  ],
  sometimes: raftSometimes,
  plan: (seed, base) => ({ ...base, script: membershipChurn(seed, base, 'servers') }),
});

/**
 * Half the seeds remove a random server of the group (perhaps the leader) at a random time
 * and add it back later. The request goes to every server; only the leader acts on it.
 */
export function membershipChurn(seed: number, plan: Plan, group: string): ScriptStep[] {
  // The classic group keeps the stream it always had, so its seeds draw what they drew.
  const stream = group === 'servers' ? 'membership' : `membership:${group}`;
  const random = Random.fromSeed(seed).fork(stream);
  if (!random.chance(0.5)) {
    return [];
  }
  const servers = Topology.of(plan).members(group);
  const node = servers[random.int(servers.length)] as NodeId;
  const removeAtUs = random.between(SECOND, Math.floor(plan.durationUs / 2));
  const addAtUs = removeAtUs + random.between(SECOND / 2, 3 * SECOND);
  const steps: ScriptStep[] = [];
  for (const server of servers) {
    for (const [atUs, change] of [
      [removeAtUs, 'remove'],
      [addAtUs, 'add'],
    ] as const) {
      steps.push({
        atUs,
        kind: 'inject',
        node: server,
        message: { type: 'membership', change, node },
      });
    }
  }
  return steps;
}
