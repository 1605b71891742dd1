// A lease read made stale by a restart, forced by a script. Three servers with lease reads,
// fixed 1 ms latencies and fsyncs, and 1.5 s election timeouts so only the script elects:
//   1. n1 leads term 1; a command commits at index 2 everywhere.
//   2. n1 is cut off from both followers, and n2 crashes at once: the last heartbeat n2
//      acknowledged keeps n1's lease alive for another ~1.46 s.
//   3. n2 restarts and n3 campaigns. n2 is the vote n3 needs — and the vote n1's lease counts
//      on. A correct server that restarts at a term above 0 may have backed a lease, so it
//      refuses votes for an election timeout after it boots, and n3 loses.
//      With `lease-vote-after-restart` n2 votes at once: n3 leads term 2 and commits index 4.
//   4. A read reaches n1, which still holds its lease and answers at index 2: stale, as
//      `fresh-reads` reports.
import { raftLeaseSometimes } from '../invariants/raft.ts';
import { serverState } from '../invariants/raft-common.ts';
import { cutBetween } from '../sim/plan.ts';
import { registerScenario } from '../sim/scenario.ts';
import type { ClusterView, FaultEvent, ScriptStep, Verdict } from '../sim/types.ts';
import { LEASE_VARIANTS } from '../systems/raft/program.ts';
import {
  campaignAt,
  N1,
  N1_ELECTED_AND_COMMITTED,
  N1_LEADS_AND_COMMITS,
  N2,
  N3,
  n1Leads,
  n1LeadsAndCommits,
  notForced as notForcedBy,
  proposeAt,
  readAt,
  threeServerScript,
} from './raft-script.ts';

const MS = 1000;

const faults: FaultEvent[] = [
  { atUs: 100 * MS, kind: 'partition', shape: 'isolate', links: cutBetween([N1], [N2, N3]) },
  { atUs: 100 * MS, kind: 'crash', node: N2 },
  { atUs: 150 * MS, kind: 'restart', node: N2 },
];

const script: ScriptStep[] = [
  ...N1_ELECTED_AND_COMMITTED,
  { atUs: 170 * MS, kind: 'check', check: 'n2 restarted knowing no leader; n1 still leads' },
  campaignAt(N3, 200 * MS),
  proposeAt(N3, 300 * MS, 'b'),
  readAt(N1, 400 * MS, 'stale?'),
  { atUs: 500 * MS, kind: 'check', check: 'n1 still leads term 1' },
];

const notForced = notForcedBy('the stale lease read');

const checks: Record<string, (view: ClusterView) => Verdict> = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced),
  'n2 restarted knowing no leader; n1 still leads': (view) => {
    const n2 = serverState(view, N2);
    return n1Leads(view) && n2?.term === 1 && n2.leader === null
      ? undefined
      : notForced(view, 'step 3');
  },
  'n1 still leads term 1': (view) => (n1Leads(view) ? undefined : notForced(view, 'step 4')),
};

registerScenario(
  threeServerScript({
    name: 'raft-lease-restart',
    description:
      'Forces a lease read across a follower restart: a server that votes as soon as it boots lets a new leader commit while the old one still answers reads under its lease.',
    durationUs: 600 * MS,
    settleUs: 2000 * MS,
    variants: LEASE_VARIANTS,
    serverOptions: { electionTicks: 150, readMode: 'lease' },
    sometimes: raftLeaseSometimes,
    checks,
    faults,
    script,
  }),
);
