// A lease at its clock-drift bound, forced by a script. Three servers with lease reads that
// assume clocks within ±5 % (leaseDriftPpmMax 50,000), and clocks that drift by exactly that
// much: the leader's runs 5 % slow, the followers' 5 % fast. Fixed 1 ms latencies and fsyncs,
// 1.5 s election timeouts, so only the script elects.
//   1. n1 leads term 1; a command commits at index 2 everywhere; a read is answered under the
//      lease (the fast path works).
//   2. n1 is cut off from both followers. Each follower refuses votes until it has counted an
//      election timeout on its fast clock: ~1.42 s of real time after the last heartbeat.
//   3. n3 campaigns once the followers' refusal has run out, wins with n2's vote, and commits
//      index 4.
//   4. A read reaches n1. A correct lease, (electionTicks − 1) ticks shortened by
//      (1 − ρ) / (1 + ρ) on the leader's slow clock, ran out with the followers' refusal, so n1
//      must confirm by ReadIndex (which it cannot, cut off) and answers nothing. A lease not
//      shortened for drift lasts ~1.57 s of real time: n1 answers at index 2, stale, as
//      `fresh-reads` reports. Clocks in the swarms drift by ±0.2 % at most, far inside
//      kv-lease's assumed 1 %, so only a run at the bound tells the formula's margin apart.
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
/** The drift the lease assumes, and the drift the clocks run at. */
const DRIFT_PPM = 50_000;

const faults: FaultEvent[] = [
  { atUs: 0, kind: 'clock-drift', node: N1, driftPpm: -DRIFT_PPM },
  { atUs: 0, kind: 'clock-drift', node: N2, driftPpm: DRIFT_PPM },
  { atUs: 0, kind: 'clock-drift', node: N3, driftPpm: DRIFT_PPM },
  { atUs: 100 * MS, kind: 'partition', shape: 'isolate', links: cutBetween([N1], [N2, N3]) },
];

/** n3 asks again and again past the followers' refusal; the asks before it are refused. */
const campaigns: ScriptStep[] = [1530, 1545, 1560].map((atMs) => campaignAt(N3, atMs * MS));

const script: ScriptStep[] = [
  ...N1_ELECTED_AND_COMMITTED.slice(0, 2),
  readAt(N1, 70 * MS, 'under-lease'),
  ...N1_ELECTED_AND_COMMITTED.slice(2),
  ...campaigns,
  proposeAt(N3, 1580 * MS, 'b'),
  { atUs: 1600 * MS, kind: 'check', check: 'n3 leads and has committed b; n1 still leads term 1' },
  readAt(N1, 1610 * MS, 'stale?'),
];

const notForced = notForcedBy("a read at the lease's drift bound");

const checks: Record<string, (view: ClusterView) => Verdict> = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced),
  'n3 leads and has committed b; n1 still leads term 1': (view) => {
    const n3 = serverState(view, N3);
    return n1Leads(view) && n3?.role === 'leader' && n3.commitIndex >= 4
      ? undefined
      : notForced(view, 'step 3');
  },
};

registerScenario(
  threeServerScript({
    name: 'raft-lease-drift',
    description:
      'Forces a lease read at the clock-drift bound the lease assumes (leader 5 % slow, followers 5 % fast): a lease not shortened for drift outlives the followers’ vote refusal and answers a stale read.',
    durationUs: 1700 * MS,
    settleUs: 2000 * MS,
    variants: LEASE_VARIANTS,
    serverOptions: { electionTicks: 150, readMode: 'lease', leaseDriftPpmMax: DRIFT_PPM },
    sometimes: raftLeaseSometimes,
    checks,
    faults,
    script,
  }),
);
