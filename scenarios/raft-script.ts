// What the scripted three-server Raft scenarios (raft-lease-restart, raft-lease-drift,
// raft-prevote-rejoin) share: n1 elected and a first command committed everywhere before the
// script's own fault, and checks that fail with the whole cluster's state when the script did
// not set up what it means to force (so a timing change cannot make a scenario pass
// vacuously).
import { encodeCommand, serverState } from '../invariants/raft-common.ts';
import type { ClusterView, ScriptStep, Verdict } from '../sim/types.ts';

const MS = 1000;
export const [N1, N2, N3] = [0, 1, 2] as const;

export const N1_LEADS_AND_COMMITS = 'n1 leads term 1 and index 2 is committed everywhere';

/** n1 campaigns at 10 ms and proposes 'a' at 50 ms; by 90 ms it leads and 'a' is everywhere. */
export const N1_ELECTED_AND_COMMITTED: readonly ScriptStep[] = [
  { atUs: 10 * MS, kind: 'inject', node: N1, message: { type: 'campaign' } },
  {
    atUs: 50 * MS,
    kind: 'inject',
    node: N1,
    message: { type: 'propose', id: 'a', data: encodeCommand('a') },
  },
  { atUs: 90 * MS, kind: 'check', check: N1_LEADS_AND_COMMITS },
];

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
