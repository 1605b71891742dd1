// A follower rejoining after a partition must not depose a healthy leader (Raft thesis §9.6:
// what pre-vote is for), forced by a script. Three servers with pre-vote and check-quorum,
// fixed 1 ms latencies and fsyncs, 1.5 s election timeouts so only the script elects:
//   1. n1 leads term 1; a command commits at index 2 everywhere.
//   2. n3 is cut off from both others, and its election timer fires: its pre-vote reaches no
//      one, so its term stays 1 (without pre-vote it would climb).
//   3. The partition heals and n3's timer fires twice more: before it has heard from n1 again
//      and after. n3's log is as up to date as anyone's, so only "we heard from our leader
//      within an election timeout" makes n1 and n2 refuse its pre-votes.
//   4. n1 still leads term 1 and every server is at term 1. A server that grants pre-votes
//      while it hears from a leader lets n3 campaign for term 2: n1 and n2 ignore that vote
//      (check-quorum), but n3, now at term 2, answers n1's heartbeats with its higher term and
//      n1 steps down — a healthy leader deposed by one returning follower.
import { serverState } from '../invariants/raft-common.ts';
import { cutBetween } from '../sim/plan.ts';
import { registerScenario } from '../sim/scenario.ts';
import type { ClusterView, FaultEvent, ScriptStep, Verdict } from '../sim/types.ts';
import { RAFT_VARIANTS } from '../systems/raft/program.ts';
import {
  campaignAt,
  describeServers,
  N1,
  N1_ELECTED_AND_COMMITTED,
  N1_LEADS_AND_COMMITS,
  N2,
  N3,
  n1Leads,
  n1LeadsAndCommits,
  notForced as notForcedBy,
  threeServerScript,
} from './raft-script.ts';

const MS = 1000;

const faults: FaultEvent[] = [
  { atUs: 100 * MS, kind: 'partition', shape: 'isolate', links: cutBetween([N3], [N1, N2]) },
  { atUs: 500 * MS, kind: 'heal' },
];

const ISOLATED_PRE_VOTE = 'n3 pre-voted alone and is still at term 1; n1 still leads';
const REJOINED = 'n3 follows n1 again';
const LEADER_KEPT = 'n1 still leads term 1 and every server is at term 1';

const script: ScriptStep[] = [
  ...N1_ELECTED_AND_COMMITTED,
  campaignAt(N3, 300 * MS),
  { atUs: 400 * MS, kind: 'check', check: ISOLATED_PRE_VOTE },
  // Healed at 500 ms; n1's next heartbeat reaches n3 within 20 ms.
  campaignAt(N3, 501 * MS),
  { atUs: 580 * MS, kind: 'check', check: REJOINED },
  campaignAt(N3, 600 * MS),
  { atUs: 900 * MS, kind: 'check', check: LEADER_KEPT },
];

const notForced = notForcedBy('a rejoining follower’s pre-vote');

/** The property: n1 keeps term 1 and nobody moved past it. */
function leaderKept(view: ClusterView): Verdict {
  const terms = [N1, N2, N3].map((node) => serverState(view, node)?.term);
  return n1Leads(view) && terms.every((term) => term === 1)
    ? undefined
    : `a follower rejoining after a partition deposed a healthy leader: ${describeServers(view)}`;
}

const checks: Record<string, (view: ClusterView) => Verdict> = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced),
  [ISOLATED_PRE_VOTE]: (view) => {
    const n3 = serverState(view, N3);
    if (n3 !== undefined && n3.term > 1) {
      return `n3, cut off from everyone, raised its term to ${n3.term}: it campaigned without a pre-vote, and the term it brings back will depose the leader (${describeServers(view)})`;
    }
    return n1Leads(view) && n3?.role === 'pre-candidate' ? undefined : notForced(view, 'step 2');
  },
  [REJOINED]: (view) => {
    const n3 = serverState(view, N3);
    return (
      leaderKept(view) ??
      (n3?.role === 'follower' && n3.leader === N1 ? undefined : notForced(view, 'step 3'))
    );
  },
  [LEADER_KEPT]: leaderKept,
};

registerScenario(
  threeServerScript({
    name: 'raft-prevote-rejoin',
    description:
      'Forces a follower back from a partition to campaign while the leader is healthy: with pre-vote and check-quorum the leader must keep its term.',
    durationUs: 1000 * MS,
    settleUs: 2000 * MS,
    variants: RAFT_VARIANTS,
    serverOptions: { electionTicks: 150 },
    checks,
    faults,
    script,
  }),
);
