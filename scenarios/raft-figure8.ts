// Figure 8 of the Raft paper, forced by a script. With fixed 1 ms latencies and 1 ms fsyncs
// the interleaving is exact:
//   1. n1 leads term 1; the no-op at index 1 commits everywhere.
//   2. {n1,n2} are cut off from {n3,n4,n5}; a command reaches index 2 on n1 and n2 only.
//   3. n1 crashes; n5 wins term 2 with n3 and n4, appends its own index 2 — and a one-way cut,
//      installed after its vote requests left and before its appends do, keeps that entry on n5.
//   4. n1 restarts and wins term 3 (n2, n3, n4 vote for it), then replicates its index 2 (of
//      term 1) to n3 one entry at a time: an entry of an earlier term is now on a majority.
// A correct leader commits nothing until its own term-3 entry is on a majority; the
// `commit-previous-term` variant commits index 2 by counting replicas, which is exactly the
// mistake that lets n5 overwrite a committed entry later.
import { raftSafetyInvariants } from '../invariants/raft.ts';
import { encodeCommand, serverState } from '../invariants/raft-common.ts';
import { cutBetween } from '../sim/plan.ts';
import { registerScenario } from '../sim/scenario.ts';
import type { ClusterView, FaultEvent, Link, ScriptStep, Verdict } from '../sim/types.ts';
import { RAFT_VARIANTS, raftGroups } from '../systems/raft/program.ts';
import { exactlyTimedPlan } from './scripted.ts';

const MS = 1000;
const [N1, N2, N3, N4, N5] = [0, 1, 2, 3, 4] as const;

const faults: FaultEvent[] = [
  { atUs: 100 * MS, kind: 'partition', shape: 'groups', links: cutBetween([N1, N2], [N3, N4, N5]) },
  { atUs: 200 * MS, kind: 'crash', node: N1 },
  { atUs: 205 * MS, kind: 'heal' },
  // After n5's vote requests arrive (212 ms), before its first append leaves (215 ms).
  {
    atUs: 212_500,
    kind: 'partition',
    shape: 'one-way',
    links: [N1, N2, N3, N4].map((to): Link => [N5, to]),
  },
  { atUs: 300 * MS, kind: 'restart', node: N1 },
];

const script: ScriptStep[] = [
  { atUs: 10 * MS, kind: 'inject', node: N1, message: { type: 'campaign' } },
  { atUs: 90 * MS, kind: 'check', check: 'n1 leads and index 1 is everywhere' },
  {
    atUs: 110 * MS,
    kind: 'inject',
    node: N1,
    message: { type: 'propose', id: 'figure-8', data: encodeCommand('figure-8') },
  },
  { atUs: 190 * MS, kind: 'check', check: 'index 2 is on n1 and n2 only' },
  { atUs: 210 * MS, kind: 'inject', node: N5, message: { type: 'campaign' } },
  { atUs: 290 * MS, kind: 'check', check: 'n5 leads term 2 with its index 2 alone' },
  // The first campaign fails (n3 and n4 voted for n5 in term 2); the second wins term 3.
  { atUs: 310 * MS, kind: 'inject', node: N1, message: { type: 'campaign' } },
  { atUs: 340 * MS, kind: 'inject', node: N1, message: { type: 'campaign' } },
  { atUs: 600 * MS, kind: 'check', check: 'n1 leads term 3 and index 2 holds its entry' },
];

function describeLog(view: ClusterView, node: number): string {
  const state = serverState(view, node);
  if (state === undefined) {
    return `${view.name(node)} down`;
  }
  const terms: number[] = [];
  for (let index = 1; index <= state.lastIndex; index++) {
    terms.push(state.termAt(index) ?? -1);
  }
  return `${view.name(node)} ${state.role} term ${state.term} log terms [${terms.join(',')}]`;
}

function expectLogs(view: ClusterView, expected: (number[] | null)[], what: string): Verdict {
  for (const [node, terms] of expected.entries()) {
    const state = serverState(view, node);
    const actual =
      state === undefined
        ? null
        : Array.from({ length: state.lastIndex }, (_, index) => state.termAt(index + 1));
    if (JSON.stringify(actual) !== JSON.stringify(terms)) {
      const logs = expected.map((_, other) => describeLog(view, other)).join('; ');
      return `the script did not force Figure 8 (${what}): ${logs}`;
    }
  }
  return undefined;
}

registerScenario({
  name: 'raft-figure8',
  description:
    'Forces the Figure 8 interleaving of the Raft paper; a leader that commits an earlier-term entry by counting replicas is caught.',
  system: 'raft',
  durationUs: 1000 * MS,
  settleUs: 2000 * MS,
  faults: { eligible: [], swarm: false },
  workload: {},
  variants: RAFT_VARIANTS,
  // Long election timeouts: only the script starts elections. One entry per append and no
  // pre-vote, as in the paper's story.
  groups: raftGroups(5, 0, {
    electionTicks: 150,
    preVote: false,
    checkQuorum: false,
    maxEntriesPerAppend: 1,
    maxInflightAppends: 1,
  }),
  invariants: () => raftSafetyInvariants(),
  checks: {
    'n1 leads and index 1 is everywhere': (view) =>
      serverState(view, N1)?.role === 'leader'
        ? expectLogs(view, [[1], [1], [1], [1], [1]], 'step 1')
        : `the script did not force Figure 8 (step 1): ${describeLog(view, N1)}`,
    'index 2 is on n1 and n2 only': (view) =>
      expectLogs(view, [[1, 1], [1, 1], [1], [1], [1]], 'step 2'),
    'n5 leads term 2 with its index 2 alone': (view) =>
      serverState(view, N5)?.role === 'leader'
        ? expectLogs(view, [null, [1, 1], [1], [1], [1, 2]], 'step 3')
        : `the script did not force Figure 8 (step 3): ${describeLog(view, N5)}`,
    'n1 leads term 3 and index 2 holds its entry': (view) => {
      const leader = serverState(view, N1);
      if (leader?.role !== 'leader' || leader.term !== 3) {
        return `the script did not force Figure 8 (step 4): ${describeLog(view, N1)}`;
      }
      return [N2, N3, N4].every((node) => serverState(view, node)?.termAt(2) === 1)
        ? undefined
        : `after step 4 index 2 should hold n1's term-1 entry on n2, n3 and n4: ${[N2, N3, N4].map((node) => describeLog(view, node)).join('; ')}`;
    },
  },
  plan: (_seed, base) => exactlyTimedPlan(base, faults, script),
});
