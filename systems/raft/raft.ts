// The Raft state machine's state and what every role shares, as etcd's raft.go: terms and
// votes, the role transitions, the term check that every message goes through (Step), the
// election timer, commit, and the voter configuration. Each role's own message handling is
// in its module: leader.ts, candidate.ts, follower.ts; reads and the lease in read-only.ts,
// InstallSnapshot in snapshot-transfer.ts. RaftCore (core.ts) is the public face over this.
import { assert, fail } from '../../sim/assert.ts';
import { handleVoteRequest, startVote, stepCandidate } from './candidate.ts';
import { acceptStale, stepFollower } from './follower.ts';
import {
  addProgress,
  appendAsLeader,
  broadcastAppend,
  maybeCommit,
  stepLeader,
  tickLeader,
} from './leader.ts';
import { RaftLog } from './log.ts';
import { decodeVoters } from './membership.ts';
import { failReads, ReadOnly } from './read-only.ts';
import type { IncomingSnapshot } from './snapshot-transfer.ts';
import type { Progress } from './tracker.ts';
import type {
  Message,
  NodeId,
  NotLeader,
  RaftBug,
  RaftConfig,
  RaftEvent,
  ReadState,
  RestoredState,
  Role,
  Snapshot,
  SnapshotMeta,
  StepDownReason,
} from './types.ts';

/** A message as a handler writes it: send() fills in `from` and `term`. */
export type Outgoing = Message extends infer M
  ? M extends Message
    ? Omit<M, 'from' | 'term'>
    : never
  : never;

export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;

  currentTerm: number;
  votedFor: NodeId | null;
  commit: number;
  currentRole: Role = 'follower';
  leaderId: NodeId | null = null;
  currentVoters: NodeId[];
  configIndex: number;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  /**
   * With lease reads: ticks since we last heard from a leader, whose lease our answer may
   * back. Unlike electionElapsed it is reset by nothing else, and it survives losing track of
   * the leader (a restart, a stray higher-term message).
   */
  leaderContactElapsed: number;
  randomizedElectionTimeout = 0;
  /** Campaigning: the answers so far (our own vote included). */
  readonly votes = new Map<NodeId, boolean>();
  /** Leading: each follower's Progress. */
  readonly progress = new Map<NodeId, Progress>();
  /** Leading: the index of this term's no-op; reads and config changes wait for its commit. */
  termStartIndex = 0;
  readonly reads = new ReadOnly();
  /** Following: the snapshot being received in chunks. */
  incoming: IncomingSnapshot | null = null;
  /** The state machine's snapshot at the log's base, which a leader sends to laggards. */
  snapshotData: Uint8Array;

  // What the next Ready hands out (see RaftCore.ready).
  outbox: Message[] = [];
  events: RaftEvent[] = [];
  readStates: ReadState[] = [];
  snapshotToPersist: Snapshot | undefined;
  snapshotToApply: Snapshot | undefined;

  constructor(config: RaftConfig, restored: RestoredState) {
    this.config = config;
    this.id = config.id;
    const meta = restored.snapshotMeta;
    const base: SnapshotMeta =
      meta.lastIncludedIndex > 0
        ? meta
        : { lastIncludedIndex: 0, lastIncludedTerm: 0, voters: config.voters };
    this.log = new RaftLog(base, restored.entries);
    this.snapshotData = restored.snapshotData ?? new Uint8Array(0);
    const hard = restored.hardState;
    this.currentTerm = hard.term;
    this.votedFor = this.hasBug('forget-vote-on-restart') ? null : hard.vote;
    // The commit point is a hint: it can never be below the snapshot, nor beyond the log we have.
    this.commit = Math.min(Math.max(hard.commit, base.lastIncludedIndex), this.log.lastIndex());
    // A server that reached any term may have acknowledged a heartbeat just before it went
    // down (terms are durable before any answer leaves), so it waits an election timeout
    // before it votes. One still at term 0 has never heard from a leader.
    const mayHaveBackedLease = hard.term > 0 && !this.hasBug('lease-vote-after-restart');
    this.leaderContactElapsed = mayHaveBackedLease ? 0 : config.electionTicks;
    const [voters, configIndex] = this.configFromLog();
    this.currentVoters = voters;
    this.configIndex = configIndex;
    this.resetElectionTimer();
  }

  hasBug(bug: RaftBug): boolean {
    return this.config.bugs.has(bug);
  }

  /**
   * A voter of its newest configuration may campaign; so may a server that configuration
   * removes while the removal is not yet known committed. It may be the only server holding
   * the removal — a leader that removed itself and stepped down (check-quorum) before the
   * entry committed — and the remaining voters, which lack the entry, cannot out-vote its more
   * up-to-date log: without this nobody could ever be elected (found by membership bursts,
   * raft seed 273). Elected by the new voters (its own vote does not count), it commits the
   * removal as the thesis's removed leader does and then steps down (leader.ts, 'removed').
   */
  promotable(): boolean {
    if (this.currentVoters.includes(this.id)) {
      return true;
    }
    return this.configIndex > this.commit && this.previousVoters().includes(this.id);
  }

  /** The configuration before the newest one (the snapshot's when that is compacted away). */
  private previousVoters(): NodeId[] {
    const entry = this.log.lastConfigAtOrBelow(this.configIndex - 1);
    return entry !== undefined ? decodeVoters(entry.data) : [...this.log.snapshotMeta().voters];
  }

  notLeader(): NotLeader {
    return { ok: false, reason: 'not-leader', leaderHint: this.leaderId };
  }

  // ---- ticks and campaigns ------------------------------------------------------------------

  tick(): void {
    this.leaderContactElapsed = Math.min(this.leaderContactElapsed + 1, this.config.electionTicks);
    if (this.currentRole === 'leader') {
      tickLeader(this);
      return;
    }
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign();
    }
  }

  /** The election timer fired now (etcd's MsgHup). Ignored by a leader and by non-voters. */
  campaign(): void {
    if (this.currentRole === 'leader' || !this.promotable()) {
      return;
    }
    if (this.config.preVote) {
      this.becomePreCandidate();
    } else {
      this.becomeCandidate();
    }
  }

  // ---- role changes -------------------------------------------------------------------------

  resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const span = this.config.electionTicks;
    const draw = this.config.randomInt(span);
    if (!(Number.isInteger(draw) && draw >= 0 && draw < span)) {
      fail(`randomInt(${span}) returned ${draw}`);
    }
    this.randomizedElectionTimeout = span + draw;
  }

  private setTerm(term: number): void {
    if (term < this.currentTerm) {
      fail(`term must not decrease: ${this.currentTerm} -> ${term}`);
    }
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
  }

  becomeFollower(
    term: number,
    leader: NodeId | null,
    reason: StepDownReason,
    resetTimer = true,
  ): void {
    const wasLeader = this.currentRole === 'leader';
    this.setTerm(term);
    this.currentRole = 'follower';
    this.leaderId = leader;
    if (resetTimer || wasLeader) {
      this.resetElectionTimer();
    }
    this.votes.clear();
    if (wasLeader) {
      this.progress.clear();
      failReads(this);
      this.events.push({ type: 'stepped-down', term: this.currentTerm, reason });
    }
  }

  private becomePreCandidate(): void {
    this.currentRole = 'pre-candidate';
    this.leaderId = null;
    this.resetElectionTimer();
    startVote(this, 'pre-vote', this.currentTerm + 1);
  }

  becomeCandidate(): void {
    this.setTerm(this.currentTerm + 1);
    this.votedFor = this.id;
    this.currentRole = 'candidate';
    this.leaderId = null;
    this.resetElectionTimer();
    startVote(this, 'vote', this.currentTerm);
  }

  becomeLeader(): void {
    assert(this.currentRole === 'candidate', 'only a candidate becomes leader');
    this.currentRole = 'leader';
    this.leaderId = this.id;
    this.resetElectionTimer();
    this.progress.clear();
    for (const id of this.currentVoters) {
      addProgress(this, id);
    }
    this.reads.reset();
    this.events.push({ type: 'became-leader', term: this.currentTerm });
    const noop = appendAsLeader(this, 'noop', new Uint8Array(0));
    this.termStartIndex = noop.index;
    broadcastAppend(this);
    maybeCommit(this);
  }

  // ---- step ---------------------------------------------------------------------------------

  /** etcd's Step: the term check every message goes through, then the role's step function. */
  step(message: Message): void {
    if (message.to !== this.id) {
      fail(`message for ${message.to} delivered to ${this.id}`);
    }
    if (message.from === this.id) {
      return;
    }
    if (message.term > this.currentTerm) {
      if (!this.onHigherTerm(message)) {
        return;
      }
    } else if (message.term < this.currentTerm) {
      this.onLowerTerm(message);
      return;
    }
    if (message.type === 'vote' || message.type === 'pre-vote') {
      handleVoteRequest(this, message); // every role answers a campaign
      return;
    }
    switch (this.currentRole) {
      case 'leader':
        stepLeader(this, message);
        return;
      case 'pre-candidate':
      case 'candidate':
        stepCandidate(this, message);
        return;
      case 'follower':
        stepFollower(this, message);
        return;
    }
  }

  /**
   * Whether to refuse votes now because we heard from a leader less than an election timeout
   * ago. With lease reads that leader may be answering reads on the strength of our answer,
   * so what counts is leaderContactElapsed, which a restart or a stray message cannot reset.
   */
  inLease(): boolean {
    if (this.config.lease !== undefined) {
      return this.currentRole === 'leader' || this.leaderContactElapsed < this.config.electionTicks;
    }
    return this.leaderId !== null && this.electionElapsed < this.config.electionTicks;
  }

  /** Returns true if the message should still be dispatched. */
  private onHigherTerm(m: Message): boolean {
    if (m.type === 'pre-vote') {
      return true; // a pre-vote never changes our term; dispatch decides
    }
    if (m.type === 'vote' && this.config.checkQuorum && this.inLease()) {
      return false; // leader lease: ignore disruptive votes while we hear from a leader
    }
    if (m.type === 'pre-vote-response' && m.granted) {
      return true;
    }
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    // Only a leader's message (or granting a vote, in handleVoteRequest) restarts the election
    // timer, as in Figure 2 of the paper: a stale candidate campaigning at ever higher terms
    // must not keep resetting the one up-to-date server that could win (found by
    // raft-3c-persist2 seed 34: terms climbed to 118 with no leader).
    this.becomeFollower(m.term, fromLeader ? m.from : null, 'higher-term', fromLeader);
    return true;
  }

  private onLowerTerm(m: Message): void {
    const stale =
      m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'vote';
    if (stale && this.hasBug('accept-stale-term') && this.currentRole === 'follower') {
      acceptStale(this, m);
      return;
    }
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Tell the stale leader about our term so it steps down.
        this.send({ type: 'heartbeat-response', to: m.from, readSeq: 0 });
        return;
      case 'vote':
        this.send({ type: 'vote-response', to: m.from, granted: false });
        return;
      case 'pre-vote':
        this.send({ type: 'pre-vote-response', to: m.from, granted: false });
        return;
      default:
        return; // stale responses are dropped
    }
  }

  /** Every caller passes a fresh literal, so it is completed in place rather than copied. */
  send(m: Outgoing, term = this.currentTerm): void {
    const envelope = m as unknown as { from: NodeId; term: number };
    envelope.from = this.id;
    envelope.term = term;
    this.outbox.push(m as Message);
  }

  // ---- commit -------------------------------------------------------------------------------

  commitTo(index: number, leaderTerm: number | null): void {
    if (index <= this.commit) {
      return;
    }
    if (index > this.log.lastIndex()) {
      fail(`commit ${index} beyond last index ${this.log.lastIndex()}`);
    }
    const term = this.log.termAt(index);
    if (term === undefined) {
      fail(`commit ${index} has no term`);
    }
    this.commit = index;
    this.events.push({ type: 'committed', index, term, leaderTerm });
  }

  // ---- membership ---------------------------------------------------------------------------

  /** The newest configuration in the log (used as soon as it is appended, as in the thesis). */
  private configFromLog(): [NodeId[], number] {
    const entry = this.log.lastConfigAtOrBelow(this.log.lastIndex());
    if (entry !== undefined) {
      return [decodeVoters(entry.data), entry.index];
    }
    const meta = this.log.snapshotMeta();
    return [[...meta.voters], meta.lastIncludedIndex];
  }

  refreshConfig(): void {
    const [voters, index] = this.configFromLog();
    if (index !== this.configIndex || !sameVoters(voters, this.currentVoters)) {
      this.applyConfig(voters, index);
    }
  }

  applyConfig(voters: NodeId[], index: number): void {
    this.currentVoters = voters;
    this.configIndex = index;
    this.events.push({ type: 'membership-changed', voters: [...voters], index });
    if (this.currentRole !== 'leader') {
      return;
    }
    for (const id of voters) {
      addProgress(this, id);
    }
    for (const id of [...this.progress.keys()]) {
      if (!voters.includes(id)) {
        this.progress.delete(id);
      }
    }
  }
}

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, position) => b[position] === id);
}
