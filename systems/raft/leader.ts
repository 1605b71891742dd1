// The leader: etcd's stepLeader and tickHeartbeat. Proposals and configuration changes go
// into its log; it replicates with per-follower flow control (tracker.ts), backs up over
// divergent logs with the followers' conflict hints, commits by counting replicas (entries
// of its own term only), and checks that a quorum still hears it. Reads are in
// read-only.ts, snapshot transfers in snapshot-transfer.ts.
import { assert, fail } from '../../sim/assert.ts';
import { decodeVoters, encodeVoters } from './membership.ts';
import type { Raft } from './raft.ts';
import { ackReads, issueReads, leaseHeld, reportLeaseRead } from './read-only.ts';
import { onSnapshotResponse, sendSnapshotChunk } from './snapshot-transfer.ts';
import { majority, Progress, quorumIndex } from './tracker.ts';
import type {
  AppendResponse,
  Entry,
  EntryKind,
  HeartbeatResponse,
  MembershipChange,
  MembershipResult,
  Message,
  NodeId,
  ProposeResult,
  ReadIndexResult,
} from './types.ts';

export function stepLeader(r: Raft, m: Message): void {
  if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
    fail(`two leaders in term ${r.currentTerm}: ${r.id} and ${m.from}`);
  }
  switch (m.type) {
    case 'append-response':
      handleAppendResponse(r, m);
      return;
    case 'heartbeat-response':
      handleHeartbeatResponse(r, m);
      return;
    case 'snapshot-response': {
      const pr = r.progress.get(m.from);
      if (pr === undefined) {
        return;
      }
      pr.recentActive = true;
      if (onSnapshotResponse(r, pr, m)) {
        sendAppend(r, m.from, true);
      }
      return;
    }
    default:
      return; // late answers to the campaign this leader already won
  }
}

/** etcd's tickHeartbeat: check-quorum every election timeout, heartbeats more often. */
export function tickLeader(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0;
    // The bug counts (and clears the marks) but never acts on a missing quorum.
    if (r.config.checkQuorum && !quorumActive(r) && !r.hasBug('leader-never-steps-down')) {
      r.becomeFollower(r.currentTerm, null, 'check-quorum');
      return;
    }
  }
  if (r.heartbeatElapsed >= r.config.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    broadcastHeartbeat(r);
  }
}

/** Whether a majority of voters was heard from since the last check; clears the marks. */
function quorumActive(r: Raft): boolean {
  let active = 0;
  for (const id of r.currentVoters) {
    const pr = r.progress.get(id);
    if (id === r.id || pr?.recentActive === true) {
      active++;
    }
  }
  for (const pr of r.progress.values()) {
    pr.recentActive = false;
  }
  return active >= majority(r.currentVoters.length);
}

export function addProgress(r: Raft, id: NodeId): void {
  if (id === r.id || r.progress.has(id)) {
    return;
  }
  const pr = new Progress(r.log.lastIndex() + 1);
  pr.recentActive = true;
  r.progress.set(id, pr);
}

// ---- proposals ------------------------------------------------------------------------------

export function leaderPropose(r: Raft, command: Uint8Array): ProposeResult {
  assert(r.currentRole === 'leader', 'only a leader takes proposals');
  const entry = appendAsLeader(r, 'command', command);
  broadcastAppend(r);
  return { ok: true, index: entry.index, term: entry.term };
}

/** Single-server changes, one at a time, once this term has committed an entry. */
export function leaderProposeMembershipChange(r: Raft, change: MembershipChange): MembershipResult {
  assert(r.currentRole === 'leader', 'only a leader changes the configuration');
  const refuse = (
    reason:
      | 'change-in-progress'
      | 'no-commit-in-term'
      | 'already-member'
      | 'not-member'
      | 'last-voter',
  ) => ({ ok: false, reason, leaderHint: r.id }) as const;
  if (r.commit < r.termStartIndex) {
    return refuse('no-commit-in-term');
  }
  if (r.configIndex > r.commit) {
    return refuse('change-in-progress');
  }
  const member = r.currentVoters.includes(change.node);
  if (change.type === 'add' && member) {
    return refuse('already-member');
  }
  if (change.type === 'remove' && !member) {
    return refuse('not-member');
  }
  if (change.type === 'remove' && r.currentVoters.length === 1) {
    return refuse('last-voter');
  }
  const next =
    change.type === 'add'
      ? [...r.currentVoters, change.node]
      : r.currentVoters.filter((id) => id !== change.node);
  const entry = appendAsLeader(r, 'config', encodeVoters(next));
  broadcastAppend(r);
  return { ok: true, index: entry.index, term: entry.term };
}

/**
 * A read: it waits for this term's first commit, is answered at once under a lease, or else
 * waits for a heartbeat round (ReadIndex). Its result comes in a later Ready's readStates.
 */
export function leaderReadIndex(r: Raft, requestId: number): ReadIndexResult {
  assert(r.currentRole === 'leader', 'only a leader answers reads');
  if (r.commit < r.termStartIndex) {
    r.reads.waiting.push(requestId);
  } else if (leaseHeld(r)) {
    r.readStates.push({ requestId, ok: true, index: r.commit });
    reportLeaseRead(r);
  } else if (issueReads(r, [requestId])) {
    broadcastHeartbeat(r);
  }
  return { ok: true };
}

export function appendAsLeader(r: Raft, kind: EntryKind, data: Uint8Array): Entry {
  assert(r.currentRole === 'leader', 'only a leader appends its own entries');
  const entry: Entry = { index: r.log.lastIndex() + 1, term: r.currentTerm, kind, data };
  r.log.append(entry);
  if (kind === 'config') {
    r.applyConfig(decodeVoters(data), entry.index);
  }
  return entry;
}

// ---- commit ---------------------------------------------------------------------------------

export function maybeCommit(r: Raft): boolean {
  const candidate = quorumIndex(r.currentVoters, (id) =>
    id === r.id ? r.log.persisted : (r.progress.get(id)?.match ?? 0),
  );
  if (candidate <= r.commit) {
    return false;
  }
  const term = r.log.termAt(candidate);
  // Raft §5.4.2: only entries of the current term are committed by counting replicas.
  if (term !== r.currentTerm && !r.hasBug('commit-previous-term')) {
    return false;
  }
  r.commitTo(candidate, r.currentTerm);
  afterLeaderCommit(r);
  return true;
}

function afterLeaderCommit(r: Raft): void {
  if (r.commit >= r.termStartIndex && r.reads.waiting.length > 0) {
    const waiting = r.reads.waiting;
    r.reads.waiting = [];
    if (issueReads(r, waiting)) {
      broadcastHeartbeat(r);
    }
  }
  if (!r.currentVoters.includes(r.id) && r.commit >= r.configIndex) {
    broadcastAppend(r); // tell followers the removal committed before stepping down
    r.becomeFollower(r.currentTerm, null, 'removed');
    return;
  }
  broadcastAppend(r);
}

// ---- replication ----------------------------------------------------------------------------

export function broadcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) {
    sendAppend(r, id, true);
  }
}

/** Sends what the follower needs next, unless flow control pauses it. Returns true if sent. */
function sendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.progress.get(to);
  if (pr === undefined || pr.isPaused(r.config.maxInflightAppends)) {
    return false;
  }
  const prevIndex = pr.next - 1;
  if (prevIndex > r.log.lastIndex()) {
    fail(`next ${pr.next} for ${to} beyond the log`);
  }
  const prevTerm = r.log.termAt(prevIndex);
  if (prevTerm === undefined) {
    pr.becomeSnapshot(r.log.snapshotMeta().lastIncludedIndex);
    sendSnapshotChunk(r, to, pr);
    return true;
  }
  // buggify: one entry per append, so the commit rules run on many small appends where a
  // probe would otherwise carry a whole batch.
  const batchMax =
    r.config.buggify?.('raft.tiny-appends') === true ? 1 : r.config.maxEntriesPerAppend;
  const last = Math.min(r.log.lastIndex(), prevIndex + batchMax);
  const entries = last > prevIndex ? r.log.slice(prevIndex + 1, last) : [];
  if (entries.length === 0 && !sendIfEmpty) {
    return false;
  }
  r.send({ type: 'append', to, prevIndex, prevTerm, entries, commit: r.commit });
  pr.sentEntries(entries.length, last);
  return true;
}

function handleAppendResponse(r: Raft, m: AppendResponse): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) {
    return;
  }
  pr.recentActive = true;
  if (!m.success) {
    handleAppendRejection(r, pr, m);
    return;
  }
  if (m.index > r.log.lastIndex()) {
    fail(`${m.from} acknowledged ${m.index} beyond our log`);
  }
  const wasPaused = pr.isPaused(r.config.maxInflightAppends);
  if (!pr.maybeUpdate(m.index)) {
    return;
  }
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) {
    pr.becomeProbe();
  }
  if (!maybeCommit(r) && wasPaused) {
    sendAppend(r, m.from, false);
  }
  sendWhileOpen(r, m.from);
}

function sendWhileOpen(r: Raft, to: NodeId): void {
  for (let round = 0; round < r.config.maxInflightAppends; round++) {
    if (r.currentRole !== 'leader' || !sendAppend(r, to, false)) {
      return;
    }
  }
}

function handleAppendRejection(r: Raft, pr: Progress, m: AppendResponse): void {
  let hint = m.conflictIndex;
  if (r.config.buggify?.('raft.one-step-backup') === true) {
    // buggify: ignore the follower's hint and back up one entry, as the Raft paper's basic
    // rule does, so a long stale suffix is probed entry by entry.
    hint = m.index;
  } else if (m.conflictTerm > 0) {
    const last = r.log.lastIndexOfTerm(m.conflictTerm);
    if (last > 0) {
      hint = last + 1;
    }
  }
  const wasReplicate = pr.state === 'replicate';
  if (!pr.maybeDecrease(m.index, Math.max(1, hint))) {
    return;
  }
  if (wasReplicate) {
    pr.state = 'probe';
    pr.inflight = [];
    pr.probeSent = false;
  }
  sendAppend(r, m.from, true);
}

// ---- heartbeats -----------------------------------------------------------------------------

export function broadcastHeartbeat(r: Raft): void {
  const reads = r.reads;
  const readSeq = reads.pending.length > 0 ? reads.seq : 0;
  const leaseSentUs = r.config.lease?.clockUs();
  reads.heartbeatSentUs = leaseSentUs ?? -1;
  for (const [to, pr] of r.progress) {
    const commit = Math.min(pr.match, r.commit);
    if (leaseSentUs === undefined) {
      r.send({ type: 'heartbeat', to, commit, readSeq });
    } else {
      r.send({ type: 'heartbeat', to, commit, readSeq, leaseSentUs });
    }
  }
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) {
    return;
  }
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === 'snapshot') {
    sendSnapshotChunk(r, m.from, pr);
  } else if (pr.match < r.log.lastIndex()) {
    if (pr.state === 'replicate' && pr.isPaused(r.config.maxInflightAppends)) {
      pr.inflight.shift();
    }
    sendAppend(r, m.from, true);
  }
  if (m.leaseSentUs !== undefined) {
    pr.leaseAckUs = Math.max(pr.leaseAckUs, m.leaseSentUs);
  }
  if (m.readSeq > 0) {
    ackReads(r, m.from, m.readSeq);
  }
}
