// Elections: etcd's stepCandidate (a pre-candidate or candidate counts the answers to its
// campaign, and steps down when it hears the leader of its term), plus the voter's side,
// which every role runs: grant a vote to an up-to-date log, once per term, and never while a
// live leader may still count on us (pre-vote, check-quorum, the lease).
import { stepFollower } from './follower.ts';
import type { Raft } from './raft.ts';
import { majority } from './tracker.ts';
import type { Message, VoteMessage, VoteResponse } from './types.ts';

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // Someone won this term: follow it.
      r.becomeFollower(r.currentTerm, m.from, 'leader-seen');
      stepFollower(r, m);
      return;
    case 'vote-response':
    case 'pre-vote-response':
      handleVoteResponse(r, m);
      return;
    default:
      return; // answers meant for a leader
  }
}

/** Asks every other voter for a (pre-)vote in `term`; our own vote counts at once. */
export function startVote(r: Raft, type: 'vote' | 'pre-vote', term: number): void {
  r.votes.clear();
  r.votes.set(r.id, true);
  r.events.push({ type: 'campaign-started', term, preVote: type === 'pre-vote' });
  for (const to of r.currentVoters) {
    if (to !== r.id) {
      r.outbox.push({
        type,
        from: r.id,
        to,
        term,
        lastIndex: r.log.lastIndex(),
        lastTerm: r.log.lastTerm(),
      });
    }
  }
  tallyVotes(r);
}

function handleVoteResponse(r: Raft, m: VoteResponse): void {
  const expected = r.currentRole === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
  if (m.type !== expected || !r.currentVoters.includes(m.from)) {
    return;
  }
  r.votes.set(m.from, m.granted);
  tallyVotes(r);
}

function tallyVotes(r: Raft): void {
  let granted = 0;
  let rejected = 0;
  for (const [id, vote] of r.votes) {
    if (!r.currentVoters.includes(id)) {
      continue;
    }
    if (vote) {
      granted++;
    } else {
      rejected++;
    }
  }
  const needed = majority(r.currentVoters.length);
  if (granted >= needed) {
    if (r.currentRole === 'pre-candidate') {
      r.becomeCandidate();
    } else {
      r.becomeLeader();
    }
  } else if (rejected >= needed) {
    r.becomeFollower(r.currentTerm, null, 'higher-term');
  }
}

/** A (pre-)vote request in our term or a later one, in any role. */
export function handleVoteRequest(r: Raft, m: VoteMessage): void {
  const upToDate = r.log.isUpToDate(m.lastIndex, m.lastTerm);
  if (m.type === 'pre-vote') {
    // Grant only a future term, to an up-to-date log, when we have not heard from a leader
    // within an election timeout (Raft thesis §9.6).
    const granted = m.term > r.currentTerm && upToDate && !r.inLease();
    r.send({ type: 'pre-vote-response', to: m.from, granted }, granted ? m.term : r.currentTerm);
    return;
  }
  // inLease() matters here only with lease reads (without, it needs a known leader): a
  // voter that reached this term by a stray response may still back another leader's lease.
  const canVote =
    r.votedFor === m.from || (r.votedFor === null && r.leaderId === null && !r.inLease());
  const granted = canVote && upToDate;
  if (granted) {
    r.votedFor = m.from;
    r.electionElapsed = 0;
    r.events.push({ type: 'vote-granted', term: r.currentTerm, to: m.from });
  }
  r.send({ type: 'vote-response', to: m.from, granted });
}
