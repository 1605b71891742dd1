// A leader backing up over a follower's suffix of a term it never saw, forced by a script:
// the one case where the leader must trust the follower's conflict index (etcd's and MIT's
// fast backup; raft-3b-backup always leaves the leader holding the conflicting term). Three
// servers, fixed 1 ms latencies and fsyncs, 1.5 s election timeouts so only the script elects:
//   1. n1 leads term 1; a command commits at index 2 everywhere.
//   2. n1 is cut off; n2 and n3 restart (so neither knows a leader) and n2 wins term 2, and
//      is cut off the moment it wins, before its first append leaves: no other server ever
//      holds an entry of term 2. n2 then takes 50 commands it cannot commit (indexes 3–53).
//   3. n1 and n3 meet again: n1 wins term 3 and commits 50 commands with n3 (3–53).
//   4. n1 restarts and n3 wins term 4 with 53 entries (its no-op is 54): its first append to
//      n2 comes after index 53.
//   5. Everyone meets. n2 rejects at 53, in term 2, which n3 lacks: only n2's hint (the
//      first index of term 2 in its log, 3) lets n3 back up in one step. A follower hinting
//      the rejected index itself makes n3 back up one entry per round trip, 50 of them.
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
  n1LeadsAndCommits,
  notForced as notForcedBy,
  proposeAt,
  threeServerScript,
} from './raft-script.ts';

const MS = 1000;
const ENTRIES = 50;

const faults: FaultEvent[] = [
  { atUs: 100 * MS, kind: 'partition', shape: 'isolate', links: cutBetween([N1], [N2, N3]) },
  { atUs: 100 * MS, kind: 'crash', node: N2 },
  { atUs: 100 * MS, kind: 'crash', node: N3 },
  { atUs: 110 * MS, kind: 'restart', node: N2 },
  { atUs: 110 * MS, kind: 'restart', node: N3 },
  // n2 campaigns at 120 ms; the vote answers reach it at 126.0 ms and its first append would
  // leave at 127.0, after the no-op's 1 ms fsync: cut it off in between.
  {
    atUs: 126_500,
    kind: 'partition',
    shape: 'groups',
    links: [...cutBetween([N1], [N2, N3]), ...cutBetween([N2], [N3])],
  },
  { atUs: 200 * MS, kind: 'partition', shape: 'isolate', links: cutBetween([N2], [N1, N3]) },
  { atUs: 400 * MS, kind: 'crash', node: N1 },
  { atUs: 410 * MS, kind: 'restart', node: N1 },
  { atUs: 500 * MS, kind: 'heal' },
];

const BEFORE_HEAL = 'n3 leads term 4 with 54 entries committed; n2 leads term 2 alone with 53';
const REPAIRED = 'n2 follows n3 and holds its 54 entries, within the backup budget';
/**
 * Messages from the heal to the check (200 ms): heartbeats and their answers (~40), the
 * repair, the commits. Measured (2026-12-07): 1 rejection and 54 messages here on the
 * correct code; a follower hinting the rejected index takes 56 rejections, 164 messages.
 */
const MESSAGES_MAX = 80;

const script: ScriptStep[] = [
  ...N1_ELECTED_AND_COMMITTED,
  campaignAt(N2, 120 * MS),
  ...Array.from({ length: ENTRIES }, (_, i) => proposeAt(N2, 130 * MS + i * 100, `x${i + 1}`)),
  campaignAt(N1, 250 * MS),
  ...Array.from({ length: ENTRIES }, (_, i) => proposeAt(N1, 300 * MS + i * 1000, `c${i + 1}`)),
  campaignAt(N3, 420 * MS),
  { atUs: 490 * MS, kind: 'check', check: BEFORE_HEAL },
  { atUs: 700 * MS, kind: 'check', check: REPAIRED },
];

const notForced = notForcedBy('a backup over a term the leader never saw');

/** Messages sent by the check before the heal, per run (a view is one run's). */
const sentBeforeHeal = new WeakMap<ClusterView, number>();

const checks: Record<string, (view: ClusterView) => Verdict> = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced),
  [BEFORE_HEAL]: (view) => {
    const n2 = serverState(view, N2);
    const n3 = serverState(view, N3);
    const ready =
      n3?.role === 'leader' &&
      n3.term === 4 &&
      n3.commitIndex === 54 &&
      n2?.role === 'leader' &&
      n2.term === 2 &&
      n2.lastIndex === 53;
    if (!ready) {
      return notForced(view, 'step 4');
    }
    sentBeforeHeal.set(view, view.messagesSent ?? 0);
    return undefined;
  },
  [REPAIRED]: (view) => {
    const n2 = serverState(view, N2);
    if (!(n2?.role === 'follower' && n2.leader === N3 && n2.commitIndex === 54)) {
      return `n2 was not repaired within 200 ms of the heal: ${describeServers(view)}`;
    }
    const used = (view.messagesSent ?? 0) - (sentBeforeHeal.get(view) ?? 0);
    return used <= MESSAGES_MAX
      ? undefined
      : `${used} messages from the heal to n2's repair, expected at most ${MESSAGES_MAX}: the leader backed up over n2's term-2 suffix slowly (does the follower hint the first index of the conflicting term?)`;
  },
};

registerScenario(
  threeServerScript({
    name: 'raft-backup-unknown-term',
    description:
      'Forces a leader to back up over a follower’s 50-entry suffix of a term the leader never saw: the follower’s conflict hint must let it back up in one step.',
    durationUs: 700 * MS,
    settleUs: 1000 * MS,
    variants: RAFT_VARIANTS,
    serverOptions: { electionTicks: 150 },
    checks,
    faults,
    script,
  }),
);
