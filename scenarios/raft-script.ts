// What the scripted three-server Raft scenarios (raft-lease-restart, raft-lease-drift,
// raft-prevote-rejoin, raft-backup-unknown-term) share: the scenario they register (no swarm, fixed
// 1 ms latencies and fsyncs, the Raft safety invariants), the steps they script, n1 elected
// and a first command committed everywhere before the script's own fault, and checks that
// fail with the whole cluster's state when the script did not set up what it means to force
// (so a timing change cannot make a scenario pass vacuously).
import { raftSafetyInvariants } from '../invariants/raft.ts';
import { encodeCommand, serverState } from '../invariants/raft-common.ts';
import type { Scenario } from '../sim/scenario.ts';
import type { ClusterView, FaultEvent, NodeId, ScriptStep, Verdict } from '../sim/types.ts';
import type { RaftNodeOptions } from '../systems/raft/group.ts';
import { raftGroups } from '../systems/raft/program.ts';
import { exactlyTimedPlan } from './scripted.ts';

const MS = 1000;
export const [N1, N2, N3] = [0, 1, 2] as const;

export const N1_LEADS_AND_COMMITS = 'n1 leads term 1 and index 2 is committed everywhere';

/** The harness fires `node`'s election timer ("campaign now"). */
export function campaignAt(node: NodeId, atUs: number): ScriptStep {
  return { atUs, kind: 'inject', node, message: { type: 'campaign' } };
}

/** A client proposes command `id` to `node`. */
export function proposeAt(node: NodeId, atUs: number, id: string): ScriptStep {
  return { atUs, kind: 'inject', node, message: { type: 'propose', id, data: encodeCommand(id) } };
}

/** A client asks `node` for a read. */
export function readAt(node: NodeId, atUs: number, id: string): ScriptStep {
  return { atUs, kind: 'inject', node, message: { type: 'read', id } };
}

/** n1 campaigns at 10 ms and proposes 'a' at 50 ms; by 90 ms it leads and 'a' is everywhere. */
export const N1_ELECTED_AND_COMMITTED: readonly ScriptStep[] = [
  campaignAt(N1, 10 * MS),
  proposeAt(N1, 50 * MS, 'a'),
  { atUs: 90 * MS, kind: 'check', check: N1_LEADS_AND_COMMITS },
];

/** A scripted three-server Raft scenario: its story, its checks and what its servers run. */
export interface ThreeServerScript
  extends Pick<
    Scenario,
    'name' | 'description' | 'durationUs' | 'settleUs' | 'variants' | 'sometimes' | 'checks'
  > {
  serverOptions: Partial<RaftNodeOptions>;
  faults: readonly FaultEvent[];
  script: readonly ScriptStep[];
}

/** The scenario to register for a scripted three-server story. */
export function threeServerScript(spec: ThreeServerScript): Scenario {
  const { serverOptions, faults, script, ...scenario } = spec;
  return {
    ...scenario,
    system: 'raft',
    faults: { eligible: [], swarm: false },
    workload: {},
    groups: raftGroups(3, 0, serverOptions),
    invariants: () => raftSafetyInvariants(),
    plan: (_seed, base) => exactlyTimedPlan(base, faults, script),
  };
}

function describe(view: ClusterView, node: number): string {
  const state = serverState(view, node);
  return state === undefined
    ? `${view.name(node)} down`
    : `${view.name(node)} ${state.role} of term ${state.term}, leader ${state.leader === null ? 'unknown' : view.name(state.leader)}, commit ${state.commitIndex}`;
}

/** Every server's role, term, leader and commit index, for verdicts. */
export function describeServers(view: ClusterView): string {
  return [N1, N2, N3].map((node) => describe(view, node)).join('; ');
}

/** The verdict when the script did not force `what` at `step`: every server's state. */
export function notForced(what: string): (view: ClusterView, step: string) => string {
  return (view, step) => `the script did not force ${what} (${step}): ${describeServers(view)}`;
}

export function n1Leads(view: ClusterView): boolean {
  const n1 = serverState(view, N1);
  return n1?.role === 'leader' && n1.term === 1;
}

/** The check N1_ELECTED_AND_COMMITTED ends with. */
export function n1LeadsAndCommits(
  fail: (view: ClusterView, step: string) => string,
): (view: ClusterView) => Verdict {
  return (view) =>
    n1Leads(view) && [N1, N2, N3].every((node) => serverState(view, node)?.commitIndex === 2)
      ? undefined
      : fail(view, 'step 1');
}
