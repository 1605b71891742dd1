// The follower: etcd's stepFollower. It follows the leader of its term, appends what the
// leader sends (truncating a conflicting suffix, never a committed entry), advances its
// commit index as the leader says, and answers heartbeats (which carry ReadIndex rounds and
// lease send times back). Chunks of a snapshot go to snapshot-transfer.ts.
import { assert, fail } from '../../sim/assert.ts';
import type { Raft } from './raft.ts';
import { handleSnapshot } from './snapshot-transfer.ts';
import type { AppendMessage, AppendResponse, Entry, HeartbeatMessage, Message } from './types.ts';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      followLeader(r, m.from);
      handleAppend(r, m, r.currentTerm);
      return;
    case 'heartbeat':
      followLeader(r, m.from);
      handleHeartbeat(r, m, r.currentTerm);
      return;
    case 'snapshot':
      followLeader(r, m.from);
      handleSnapshot(r, m, r.currentTerm);
      return;
    default:
      return; // answers meant for a leader or a candidate we no longer are
  }
}

/** A leader's message in our own term: it is the leader, and we just heard from it. */
function followLeader(r: Raft, from: number): void {
  r.leaderId = from;
  r.electionElapsed = 0;
  r.leaderContactElapsed = 0;
}

/** The 'accept-stale-term' bug: handle a lower-term request as if it were current. */
export function acceptStale(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      r.leaderId = m.from;
      r.electionElapsed = 0;
      handleAppend(r, m, m.term);
      return;
    case 'heartbeat':
      handleHeartbeat(r, m, m.term);
      return;
    case 'snapshot':
      handleSnapshot(r, m, m.term);
      return;
    case 'vote': {
      const granted = r.log.isUpToDate(m.lastIndex, m.lastTerm);
      if (granted) {
        r.events.push({ type: 'vote-granted', term: m.term, to: m.from });
      }
      r.outbox.push({
        type: 'vote-response',
        from: r.id,
        to: m.from,
        term: m.term,
        granted,
      });
      return;
    }
    default:
      return;
  }
}

function handleAppend(r: Raft, m: AppendMessage, replyTerm: number): void {
  const reply = (fields: Omit<AppendResponse, 'type' | 'from' | 'to' | 'term'>) =>
    r.send({ type: 'append-response', to: m.from, ...fields }, replyTerm);
  if (m.prevIndex < r.commit) {
    reply({ success: true, index: r.commit, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  if (r.log.matchTerm(m.prevIndex, m.prevTerm)) {
    const lastNew = m.prevIndex + m.entries.length;
    const keptSuffix = appendFromLeader(r, m.entries);
    // With 'no-truncate-on-conflict' the follower trusts the suffix it kept as if it matched.
    r.commitTo(Math.min(m.commit, keptSuffix ? r.log.lastIndex() : lastNew), null);
    reply({ success: true, index: lastNew, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  const term = r.log.termAt(m.prevIndex);
  if (term === undefined) {
    reply({
      success: false,
      index: m.prevIndex,
      conflictTerm: 0,
      conflictIndex: r.log.lastIndex() + 1,
    });
    return;
  }
  const conflictIndex = r.log.firstIndexOfTerm(m.prevIndex);
  reply({ success: false, index: m.prevIndex, conflictTerm: term, conflictIndex });
}

/** Returns true if a stale suffix was kept (only with the 'no-truncate-on-conflict' bug). */
function appendFromLeader(r: Raft, entries: readonly Entry[]): boolean {
  const conflict = r.log.findConflict(entries);
  if (conflict === 0) {
    return false;
  }
  if (!(conflict > r.commit)) {
    fail(`entry ${conflict} conflicts with committed entry (commit ${r.commit})`);
  }
  const first = entries.findIndex((e) => e.index === conflict);
  assert(first >= 0, 'conflict index must be one of the new entries');
  let truncated = false;
  let kept = false;
  let sawConfig = false;
  for (let position = first; position < entries.length; position++) {
    const entry = entries[position] as Entry;
    sawConfig ||= entry.kind === 'config' || r.log.entryAt(entry.index)?.kind === 'config';
    if (entry.index <= r.log.lastIndex()) {
      if (r.hasBug('no-truncate-on-conflict')) {
        r.log.overwriteInPlace(entry); // the old suffix beyond the new entries survives
        kept = entry.index < r.log.lastIndex();
        continue;
      }
      if (!truncated) {
        r.log.truncateFrom(entry.index);
        r.events.push({ type: 'log-truncated', from: entry.index });
        truncated = true;
      }
    }
    r.log.append(entry);
  }
  if (sawConfig || truncated || kept) {
    r.refreshConfig();
  }
  return kept;
}

function handleHeartbeat(r: Raft, m: HeartbeatMessage, replyTerm: number): void {
  if (m.commit > r.log.lastIndex()) {
    fail(
      `leader says commit ${m.commit} but ${r.id} holds only ${r.log.lastIndex()}: an acknowledged entry was lost`,
    );
  }
  r.commitTo(m.commit, null);
  if (m.leaseSentUs === undefined) {
    r.send({ type: 'heartbeat-response', to: m.from, readSeq: m.readSeq }, replyTerm);
  } else {
    const { readSeq, leaseSentUs } = m;
    r.send({ type: 'heartbeat-response', to: m.from, readSeq, leaseSentUs }, replyTerm);
  }
}
