// Raft as a pure, deterministic state machine, in the style of etcd's raft: no I/O, no timers,
// no clock, no randomness of its own. The node adapter feeds it ticks, messages and proposals,
// and drains Ready batches: persist, then send and apply, then advance().
import { assert, fail } from '../../sim/assert.ts';
import { RaftLog } from './log.ts';
import { decodeVoters, encodeVoters } from './membership.ts';
import { majority, Progress, quorumIndex } from './tracker.ts';
import type {
  AppendMessage,
  AppendResponse,
  Entry,
  EntryKind,
  HardState,
  HeartbeatMessage,
  HeartbeatResponse,
  MembershipChange,
  MembershipResult,
  Message,
  NodeId,
  NotLeader,
  ProposeResult,
  RaftBug,
  RaftConfig,
  RaftEvent,
  ReadIndexResult,
  ReadState,
  Ready,
  RestoredState,
  Role,
  Snapshot,
  SnapshotMessage,
  SnapshotMeta,
  SnapshotResponse,
  StepDownReason,
  VoteMessage,
  VoteResponse,
} from './types.ts';

type Outgoing = Message extends infer M
  ? M extends Message
    ? Omit<M, 'from' | 'term'>
    : never
  : never;

interface PendingRead {
  readonly requestId: number;
  readonly index: number;
  readonly seq: number;
  readonly acks: Set<NodeId>;
}

interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
}

interface Outstanding {
  readonly handed: number;
  readonly applying: number;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly log: RaftLog;

  private currentTerm: number;
  private votedFor: NodeId | null;
  private commit: number;
  private currentRole: Role = 'follower';
  private leaderId: NodeId | null = null;
  private currentVoters: NodeId[];
  private configIndex: number;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  /**
   * With lease reads: ticks since we last heard from a leader, whose lease our answer may
   * back. Unlike electionElapsed it is reset by nothing else, and it survives losing track of
   * the leader (a restart, a stray higher-term message).
   */
  private leaderContactElapsed: number;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  private termStartIndex = 0;
  private pendingReads: PendingRead[] = [];
  private waitingReads: number[] = [];
  private readSeq = 0;
  /** Whether this leadership has answered a read under its lease yet (reported once). */
  private leaseReadReported = false;
  /** When the last heartbeats went out (only the 'lease-renewed-on-send' bug reads it). */
  private heartbeatSentUs = -1;
  private incoming: IncomingSnapshot | null = null;

  private snapshotData: Uint8Array;
  private applied: number;
  private applying: number;
  private outstanding: Outstanding | null = null;
  private handedHardState: HardState;
  private outbox: Message[] = [];
  private events: RaftEvent[] = [];
  private readStates: ReadState[] = [];
  private snapshotToPersist: Snapshot | undefined;
  private snapshotToApply: Snapshot | undefined;

  constructor(config: RaftConfig, restored: RestoredState) {
    validateConfig(config);
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
    this.applied = base.lastIncludedIndex;
    this.applying = base.lastIncludedIndex;
    this.handedHardState = { term: hard.term, vote: hard.vote, commit: hard.commit };
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

  // ---- observation (read-only) --------------------------------------------------------------

  get role(): Role {
    return this.currentRole;
  }
  get term(): number {
    return this.currentTerm;
  }
  get vote(): NodeId | null {
    return this.votedFor;
  }
  get leader(): NodeId | null {
    return this.leaderId;
  }
  get commitIndex(): number {
    return this.commit;
  }
  get appliedIndex(): number {
    return this.applied;
  }
  /** Last index durable on disk (or covered by a snapshot being persisted). */
  get persistedIndex(): number {
    return this.log.persisted;
  }
  get lastIndex(): number {
    return this.log.lastIndex();
  }
  get firstIndex(): number {
    return this.log.firstIndex();
  }
  get snapshotMeta(): SnapshotMeta {
    return this.log.snapshotMeta();
  }
  get voters(): readonly NodeId[] {
    return this.currentVoters;
  }
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }
  entryAt(index: number): Entry | undefined {
    return this.log.entryAt(index);
  }
  /** Entries in [lo, hi] (clamped to what the log holds). */
  entries(lo = this.log.firstIndex(), hi = this.log.lastIndex()): Entry[] {
    return this.log.slice(Math.max(lo, this.log.firstIndex()), Math.min(hi, this.log.lastIndex()));
  }
  hardState(): HardState {
    return { term: this.currentTerm, vote: this.votedFor, commit: this.commit };
  }
  /** For tests and invariants: the leader's view of a follower. */
  progressOf(id: NodeId): { match: number; next: number; state: string } | undefined {
    const pr = this.progress.get(id);
    return pr === undefined ? undefined : { match: pr.match, next: pr.next, state: pr.state };
  }

  private hasBug(bug: RaftBug): boolean {
    return this.config.bugs.has(bug);
  }

  private promotable(): boolean {
    return this.currentVoters.includes(this.id);
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(): void {
    this.leaderContactElapsed = Math.min(this.leaderContactElapsed + 1, this.config.electionTicks);
    if (this.currentRole === 'leader') {
      this.tickLeader();
      return;
    }
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.currentTerm, null, 'check-quorum');
        return;
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
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

  propose(command: Uint8Array): ProposeResult {
    if (this.currentRole !== 'leader') {
      return this.notLeader();
    }
    const entry = this.appendAsLeader('command', command);
    this.broadcastAppend();
    return { ok: true, index: entry.index, term: entry.term };
  }

  proposeMembershipChange(change: MembershipChange): MembershipResult {
    if (this.currentRole !== 'leader') {
      return this.notLeader();
    }
    const refuse = (
      reason:
        | 'change-in-progress'
        | 'no-commit-in-term'
        | 'already-member'
        | 'not-member'
        | 'last-voter',
    ) => ({ ok: false, reason, leaderHint: this.id }) as const;
    if (this.commit < this.termStartIndex) {
      return refuse('no-commit-in-term');
    }
    if (this.configIndex > this.commit) {
      return refuse('change-in-progress');
    }
    const member = this.currentVoters.includes(change.node);
    if (change.type === 'add' && member) {
      return refuse('already-member');
    }
    if (change.type === 'remove' && !member) {
      return refuse('not-member');
    }
    if (change.type === 'remove' && this.currentVoters.length === 1) {
      return refuse('last-voter');
    }
    const next =
      change.type === 'add'
        ? [...this.currentVoters, change.node]
        : this.currentVoters.filter((id) => id !== change.node);
    const entry = this.appendAsLeader('config', encodeVoters(next));
    this.broadcastAppend();
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Starts a ReadIndex read; its result arrives in a later Ready's readStates. */
  readIndex(requestId: number): ReadIndexResult {
    if (this.currentRole !== 'leader') {
      return this.notLeader();
    }
    if (this.commit < this.termStartIndex) {
      this.waitingReads.push(requestId);
    } else if (this.leaseHeld()) {
      this.readStates.push({ requestId, ok: true, index: this.commit });
      this.reportLeaseRead();
    } else {
      this.issueReads([requestId]);
    }
    return { ok: true };
  }

  /** The application took a snapshot of its state through index: drop the log prefix. */
  compact(index: number, snapshotData: Uint8Array): void {
    if (index > this.applied) {
      fail(`compact(${index}) beyond applied ${this.applied}`);
    }
    const base = this.log.snapshotMeta().lastIncludedIndex;
    if (index < base) {
      fail(`compact(${index}) below the snapshot at ${base}`);
    }
    if (index === base) {
      return;
    }
    const config = this.log.lastConfigAtOrBelow(index);
    const voters =
      config === undefined ? this.log.snapshotMeta().voters : decodeVoters(config.data);
    this.log.compactTo(index, voters);
    this.snapshotData = snapshotData;
    this.snapshotToPersist = { meta: this.log.snapshotMeta(), data: snapshotData };
  }

  private notLeader(): NotLeader {
    return { ok: false, reason: 'not-leader', leaderHint: this.leaderId };
  }

  // ---- Ready / advance ----------------------------------------------------------------------

  /**
   * For the adapter's 'vote-without-fsync' / 'ack-before-fsync' variants only: removes the
   * matching messages from the outbox now, without waiting for a Ready and its fsync.
   * A correct adapter never calls this.
   */
  takeMessagesEarly(predicate: (message: Message) => boolean): Message[] {
    const taken = this.outbox.filter(predicate);
    this.outbox = this.outbox.filter((message) => !predicate(message));
    return taken;
  }

  hasReady(): boolean {
    return this.outstanding === null && this.buildReady(false) !== null;
  }

  /** The next batch of work, or null. Call only after the previous batch was advance()d. */
  ready(): Ready | null {
    assert(this.outstanding === null, 'ready() called before advance() of the previous Ready');
    return this.buildReady(true);
  }

  private buildReady(take: boolean): Ready | null {
    const log = this.log;
    const hard = this.hardState();
    const hardChanged = !sameHardState(hard, this.handedHardState);
    const entriesToAppend =
      log.handed < log.lastIndex() ? log.slice(log.handed + 1, log.lastIndex()) : [];
    const truncateFrom = entriesToAppend.length > 0 || log.rewritten ? log.handed + 1 : undefined;
    const snapshotToApply = this.snapshotToApply;
    let applyFrom = this.applying + 1;
    if (snapshotToApply !== undefined) {
      applyFrom = Math.max(applyFrom, snapshotToApply.meta.lastIncludedIndex + 1);
      if (this.hasBug('snapshot-off-by-one')) {
        applyFrom = snapshotToApply.meta.lastIncludedIndex + 2; // the boundary entry is skipped
      }
    }
    const applyTo = Math.min(this.commit, log.persisted);
    const committedEntries = applyFrom <= applyTo ? log.slice(applyFrom, applyTo) : [];
    const empty =
      !hardChanged &&
      truncateFrom === undefined &&
      this.snapshotToPersist === undefined &&
      snapshotToApply === undefined &&
      committedEntries.length === 0 &&
      this.outbox.length === 0 &&
      this.readStates.length === 0 &&
      this.events.length === 0;
    if (empty) {
      return null;
    }
    const ready: Ready = {
      hardState: hardChanged ? hard : undefined,
      truncateFrom,
      entriesToAppend,
      snapshotToPersist: this.snapshotToPersist,
      messages: this.outbox,
      committedEntries,
      readStates: this.readStates,
      snapshotToApply,
      events: this.events,
    };
    if (take) {
      this.takeReady(ready, Math.max(applyFrom - 1, committedEntries.at(-1)?.index ?? 0));
    }
    return ready;
  }

  private takeReady(ready: Ready, applying: number): void {
    this.outstanding = { handed: this.log.lastIndex(), applying };
    this.applying = applying;
    this.log.handed = this.log.lastIndex();
    this.log.rewritten = false;
    this.handedHardState = ready.hardState ?? this.handedHardState;
    this.outbox = [];
    this.readStates = [];
    this.events = [];
    this.snapshotToPersist = undefined;
    this.snapshotToApply = undefined;
  }

  /** The last Ready is durable, its messages sent and its entries applied. */
  advance(): void {
    const done = this.outstanding;
    assert(done !== null, 'advance() without an outstanding Ready');
    this.outstanding = null;
    this.log.persisted = Math.max(this.log.persisted, Math.min(done.handed, this.log.handed));
    assert(done.applying >= this.applied, 'applied index must not go backwards');
    this.applied = done.applying;
    if (this.currentRole === 'leader') {
      this.maybeCommit();
    }
  }

  // ---- role changes -------------------------------------------------------------------------

  private resetElectionTimer(): void {
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

  private becomeFollower(
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
      this.failReads();
      this.events.push({ type: 'stepped-down', term: this.currentTerm, reason });
    }
  }

  private becomePreCandidate(): void {
    this.currentRole = 'pre-candidate';
    this.leaderId = null;
    this.resetElectionTimer();
    this.startVote('pre-vote', this.currentTerm + 1);
  }

  private becomeCandidate(): void {
    this.setTerm(this.currentTerm + 1);
    this.votedFor = this.id;
    this.currentRole = 'candidate';
    this.leaderId = null;
    this.resetElectionTimer();
    this.startVote('vote', this.currentTerm);
  }

  private startVote(type: 'vote' | 'pre-vote', term: number): void {
    this.votes.clear();
    this.votes.set(this.id, true);
    this.events.push({ type: 'campaign-started', term, preVote: type === 'pre-vote' });
    for (const to of this.currentVoters) {
      if (to !== this.id) {
        this.outbox.push({
          type,
          from: this.id,
          to,
          term,
          lastIndex: this.log.lastIndex(),
          lastTerm: this.log.lastTerm(),
        });
      }
    }
    this.tallyVotes();
  }

  private becomeLeader(): void {
    assert(this.currentRole === 'candidate', 'only a candidate becomes leader');
    this.currentRole = 'leader';
    this.leaderId = this.id;
    this.resetElectionTimer();
    this.progress.clear();
    for (const id of this.currentVoters) {
      this.addProgress(id);
    }
    this.pendingReads = [];
    this.waitingReads = [];
    this.leaseReadReported = false;
    this.events.push({ type: 'became-leader', term: this.currentTerm });
    const noop = this.appendAsLeader('noop', new Uint8Array(0));
    this.termStartIndex = noop.index;
    this.broadcastAppend();
    this.maybeCommit();
  }

  private addProgress(id: NodeId): void {
    if (id === this.id || this.progress.has(id)) {
      return;
    }
    const pr = new Progress(this.log.lastIndex() + 1);
    pr.recentActive = true;
    this.progress.set(id, pr);
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const id of this.currentVoters) {
      const pr = this.progress.get(id);
      if (id === this.id || pr?.recentActive === true) {
        active++;
      }
    }
    for (const pr of this.progress.values()) {
      pr.recentActive = false;
    }
    return active >= majority(this.currentVoters.length);
  }

  // ---- step ---------------------------------------------------------------------------------

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
    this.dispatch(message);
  }

  /**
   * Whether to refuse votes now because we heard from a leader less than an election timeout
   * ago. With lease reads that leader may be answering reads on the strength of our answer,
   * so what counts is leaderContactElapsed, which a restart or a stray message cannot reset.
   */
  private inLease(): boolean {
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
    // Only a leader's message (or granting a vote, in handleVote) restarts the election
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
      this.acceptStale(m);
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

  /** The 'accept-stale-term' bug: handle a lower-term request as if it were current. */
  private acceptStale(m: Message): void {
    switch (m.type) {
      case 'append':
        this.leaderId = m.from;
        this.electionElapsed = 0;
        this.handleAppend(m, m.term);
        return;
      case 'heartbeat':
        this.handleHeartbeat(m, m.term);
        return;
      case 'snapshot':
        this.handleSnapshot(m, m.term);
        return;
      case 'vote': {
        const granted = this.log.isUpToDate(m.lastIndex, m.lastTerm);
        if (granted) {
          this.events.push({ type: 'vote-granted', term: m.term, to: m.from });
        }
        this.outbox.push({
          type: 'vote-response',
          from: this.id,
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

  private dispatch(m: Message): void {
    switch (m.type) {
      case 'append':
        this.fromCurrentLeader(m.from);
        this.handleAppend(m, this.currentTerm);
        return;
      case 'heartbeat':
        this.fromCurrentLeader(m.from);
        this.handleHeartbeat(m, this.currentTerm);
        return;
      case 'snapshot':
        this.fromCurrentLeader(m.from);
        this.handleSnapshot(m, this.currentTerm);
        return;
      case 'vote':
      case 'pre-vote':
        this.handleVoteRequest(m);
        return;
      case 'vote-response':
      case 'pre-vote-response':
        this.handleVoteResponse(m);
        return;
      case 'append-response':
        this.handleAppendResponse(m);
        return;
      case 'heartbeat-response':
        this.handleHeartbeatResponse(m);
        return;
      case 'snapshot-response':
        this.handleSnapshotResponse(m);
        return;
    }
  }

  /** A leader's message in our own term: follow it. */
  private fromCurrentLeader(from: NodeId): void {
    if (this.currentRole === 'leader') {
      fail(`two leaders in term ${this.currentTerm}: ${this.id} and ${from}`);
    }
    if (this.currentRole !== 'follower') {
      this.becomeFollower(this.currentTerm, from, 'leader-seen');
    }
    this.leaderId = from;
    this.electionElapsed = 0;
    this.leaderContactElapsed = 0;
  }

  /** Every caller passes a fresh literal, so it is completed in place rather than copied. */
  private send(m: Outgoing, term = this.currentTerm): void {
    const envelope = m as unknown as { from: NodeId; term: number };
    envelope.from = this.id;
    envelope.term = term;
    this.outbox.push(m as Message);
  }

  // ---- elections ----------------------------------------------------------------------------

  private handleVoteRequest(m: VoteMessage): void {
    const upToDate = this.log.isUpToDate(m.lastIndex, m.lastTerm);
    if (m.type === 'pre-vote') {
      // Grant only a future term, to an up-to-date log, when we have not heard from a leader
      // within an election timeout (Raft thesis §9.6).
      const granted = m.term > this.currentTerm && upToDate && !this.inLease();
      this.send(
        { type: 'pre-vote-response', to: m.from, granted },
        granted ? m.term : this.currentTerm,
      );
      return;
    }
    // inLease() matters here only with lease reads (without, it needs a known leader): a
    // voter that reached this term by a stray response may still back another leader's lease.
    const canVote =
      this.votedFor === m.from ||
      (this.votedFor === null && this.leaderId === null && !this.inLease());
    const granted = canVote && upToDate;
    if (granted) {
      this.votedFor = m.from;
      this.electionElapsed = 0;
      this.events.push({ type: 'vote-granted', term: this.currentTerm, to: m.from });
    }
    this.send({ type: 'vote-response', to: m.from, granted });
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expected = this.currentRole === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
    const campaigning = this.currentRole === 'pre-candidate' || this.currentRole === 'candidate';
    if (!campaigning || m.type !== expected || !this.currentVoters.includes(m.from)) {
      return;
    }
    this.votes.set(m.from, m.granted);
    this.tallyVotes();
  }

  private tallyVotes(): void {
    let granted = 0;
    let rejected = 0;
    for (const [id, vote] of this.votes) {
      if (!this.currentVoters.includes(id)) {
        continue;
      }
      if (vote) {
        granted++;
      } else {
        rejected++;
      }
    }
    const needed = majority(this.currentVoters.length);
    if (granted >= needed) {
      if (this.currentRole === 'pre-candidate') {
        this.becomeCandidate();
      } else {
        this.becomeLeader();
      }
    } else if (rejected >= needed) {
      this.becomeFollower(this.currentTerm, null, 'higher-term');
    }
  }

  // ---- follower: append, heartbeat, snapshot ------------------------------------------------

  private handleAppend(m: AppendMessage, replyTerm: number): void {
    const reply = (fields: Omit<AppendResponse, 'type' | 'from' | 'to' | 'term'>) =>
      this.send({ type: 'append-response', to: m.from, ...fields }, replyTerm);
    if (m.prevIndex < this.commit) {
      reply({ success: true, index: this.commit, conflictTerm: 0, conflictIndex: 0 });
      return;
    }
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = m.prevIndex + m.entries.length;
      const keptSuffix = this.appendFromLeader(m.entries);
      // With 'no-truncate-on-conflict' the follower trusts the suffix it kept as if it matched.
      this.commitTo(Math.min(m.commit, keptSuffix ? this.log.lastIndex() : lastNew), null);
      reply({ success: true, index: lastNew, conflictTerm: 0, conflictIndex: 0 });
      return;
    }
    const term = this.log.termAt(m.prevIndex);
    if (term === undefined) {
      reply({
        success: false,
        index: m.prevIndex,
        conflictTerm: 0,
        conflictIndex: this.log.lastIndex() + 1,
      });
      return;
    }
    const conflictIndex = this.log.firstIndexOfTerm(m.prevIndex);
    reply({ success: false, index: m.prevIndex, conflictTerm: term, conflictIndex });
  }

  /** Returns true if a stale suffix was kept (only with the 'no-truncate-on-conflict' bug). */
  private appendFromLeader(entries: readonly Entry[]): boolean {
    const conflict = this.log.findConflict(entries);
    if (conflict === 0) {
      return false;
    }
    if (!(conflict > this.commit)) {
      fail(`entry ${conflict} conflicts with committed entry (commit ${this.commit})`);
    }
    const first = entries.findIndex((e) => e.index === conflict);
    assert(first >= 0, 'conflict index must be one of the new entries');
    let truncated = false;
    let kept = false;
    let sawConfig = false;
    for (let position = first; position < entries.length; position++) {
      const entry = entries[position] as Entry;
      sawConfig ||= entry.kind === 'config' || this.log.entryAt(entry.index)?.kind === 'config';
      if (entry.index <= this.log.lastIndex()) {
        if (this.hasBug('no-truncate-on-conflict')) {
          this.log.overwriteInPlace(entry); // the old suffix beyond the new entries survives
          kept = entry.index < this.log.lastIndex();
          continue;
        }
        if (!truncated) {
          this.log.truncateFrom(entry.index);
          this.events.push({ type: 'log-truncated', from: entry.index });
          truncated = true;
        }
      }
      this.log.append(entry);
    }
    if (sawConfig || truncated || kept) {
      this.refreshConfig();
    }
    return kept;
  }

  private handleHeartbeat(m: HeartbeatMessage, replyTerm: number): void {
    if (m.commit > this.log.lastIndex()) {
      fail(
        `leader says commit ${m.commit} but ${this.id} holds only ${this.log.lastIndex()}: an acknowledged entry was lost`,
      );
    }
    this.commitTo(m.commit, null);
    if (m.leaseSentUs === undefined) {
      this.send({ type: 'heartbeat-response', to: m.from, readSeq: m.readSeq }, replyTerm);
    } else {
      const { readSeq, leaseSentUs } = m;
      this.send({ type: 'heartbeat-response', to: m.from, readSeq, leaseSentUs }, replyTerm);
    }
  }

  private handleSnapshot(m: SnapshotMessage, replyTerm: number): void {
    const index = m.meta.lastIncludedIndex;
    const reply = (nextOffset: number, done: boolean) =>
      this.send(
        { type: 'snapshot-response', to: m.from, index, nextOffset, done, chunkOffset: m.offset },
        replyTerm,
      );
    if (index <= this.commit) {
      this.incoming = null;
      reply(m.totalBytes, true);
      return;
    }
    const incoming = this.acceptChunk(m);
    if (incoming === null) {
      const current = this.incoming;
      reply(
        current !== null && current.meta.lastIncludedIndex === index ? current.received : 0,
        false,
      );
      return;
    }
    if (!m.done) {
      reply(incoming.received, false);
      return;
    }
    assert(incoming.received === incoming.totalBytes, 'snapshot transfer ended short');
    this.incoming = null;
    this.installSnapshot({ meta: m.meta, data: concat(incoming.chunks, incoming.totalBytes) });
    reply(incoming.received, true);
  }

  /** Takes a chunk if it is the next one expected; returns the transfer, or null. */
  private acceptChunk(m: SnapshotMessage): IncomingSnapshot | null {
    if (m.offset === 0) {
      this.incoming = { meta: m.meta, totalBytes: m.totalBytes, chunks: [], received: 0 };
    }
    const incoming = this.incoming;
    if (
      incoming === null ||
      incoming.meta.lastIncludedIndex !== m.meta.lastIncludedIndex ||
      incoming.meta.lastIncludedTerm !== m.meta.lastIncludedTerm ||
      incoming.received !== m.offset
    ) {
      return null;
    }
    assert(
      incoming.received + m.data.length <= incoming.totalBytes,
      'snapshot chunk overruns its total',
    );
    incoming.chunks.push(m.data);
    incoming.received += m.data.length;
    return incoming;
  }

  private installSnapshot(snapshot: Snapshot): void {
    const { meta } = snapshot;
    if (this.log.matchTerm(meta.lastIncludedIndex, meta.lastIncludedTerm)) {
      this.log.compactTo(meta.lastIncludedIndex, meta.voters); // keep the matching suffix
    } else {
      this.log.resetTo(meta);
      this.events.push({ type: 'log-truncated', from: meta.lastIncludedIndex + 1 });
    }
    this.snapshotData = snapshot.data;
    this.snapshotToPersist = snapshot;
    this.snapshotToApply = snapshot;
    this.events.push({
      type: 'snapshot-installed',
      index: meta.lastIncludedIndex,
      term: meta.lastIncludedTerm,
    });
    this.commitTo(meta.lastIncludedIndex, null);
    this.refreshConfig();
  }

  // ---- commit -------------------------------------------------------------------------------

  private commitTo(index: number, leaderTerm: number | null): void {
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

  private maybeCommit(): boolean {
    const candidate = quorumIndex(this.currentVoters, (id) =>
      id === this.id ? this.log.persisted : (this.progress.get(id)?.match ?? 0),
    );
    if (candidate <= this.commit) {
      return false;
    }
    const term = this.log.termAt(candidate);
    // Raft §5.4.2: only entries of the current term are committed by counting replicas.
    if (term !== this.currentTerm && !this.hasBug('commit-previous-term')) {
      return false;
    }
    this.commitTo(candidate, this.currentTerm);
    this.afterLeaderCommit();
    return true;
  }

  private afterLeaderCommit(): void {
    if (this.commit >= this.termStartIndex && this.waitingReads.length > 0) {
      const waiting = this.waitingReads;
      this.waitingReads = [];
      this.issueReads(waiting);
    }
    if (!this.currentVoters.includes(this.id) && this.commit >= this.configIndex) {
      this.broadcastAppend(); // tell followers the removal committed before stepping down
      this.becomeFollower(this.currentTerm, null, 'removed');
      return;
    }
    this.broadcastAppend();
  }

  // ---- leader: replication ------------------------------------------------------------------

  private appendAsLeader(kind: EntryKind, data: Uint8Array): Entry {
    assert(this.currentRole === 'leader', 'only a leader appends its own entries');
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.currentTerm, kind, data };
    this.log.append(entry);
    if (kind === 'config') {
      this.applyConfig(decodeVoters(data), entry.index);
    }
    return entry;
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) {
      this.sendAppend(id, true);
    }
  }

  /** Sends what the follower needs next, unless flow control pauses it. Returns true if sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused(this.config.maxInflightAppends)) {
      return false;
    }
    const prevIndex = pr.next - 1;
    if (prevIndex > this.log.lastIndex()) {
      fail(`next ${pr.next} for ${to} beyond the log`);
    }
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === undefined) {
      pr.becomeSnapshot(this.log.snapshotMeta().lastIncludedIndex);
      this.sendSnapshotChunk(to, pr);
      return true;
    }
    const last = Math.min(this.log.lastIndex(), prevIndex + this.config.maxEntriesPerAppend);
    const entries = last > prevIndex ? this.log.slice(prevIndex + 1, last) : [];
    if (entries.length === 0 && !sendIfEmpty) {
      return false;
    }
    this.send({ type: 'append', to, prevIndex, prevTerm, entries, commit: this.commit });
    pr.sentEntries(entries.length, last);
    return true;
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const meta = this.log.snapshotMeta();
    if (pr.snapshotIndex !== meta.lastIncludedIndex) {
      pr.becomeSnapshot(meta.lastIncludedIndex); // compacted again since: start over
    }
    const data = this.snapshotData;
    assert(meta.lastIncludedIndex > 0, 'a snapshot transfer needs a snapshot');
    const offset = Math.min(pr.snapshotOffset, data.length);
    const end = Math.min(data.length, offset + this.config.maxSnapshotChunkBytes);
    pr.snapshotSentOffset = offset;
    this.send({
      type: 'snapshot',
      to,
      meta,
      totalBytes: data.length,
      offset,
      data: data.subarray(offset, end),
      done: end === data.length,
    });
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.leaderProgress(m.from);
    if (pr === undefined) {
      return;
    }
    pr.recentActive = true;
    if (!m.success) {
      this.handleAppendRejection(pr, m);
      return;
    }
    if (m.index > this.log.lastIndex()) {
      fail(`${m.from} acknowledged ${m.index} beyond our log`);
    }
    const wasPaused = pr.isPaused(this.config.maxInflightAppends);
    if (!pr.maybeUpdate(m.index)) {
      return;
    }
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) {
      pr.becomeProbe();
    }
    if (!this.maybeCommit() && wasPaused) {
      this.sendAppend(m.from, false);
    }
    this.sendWhileOpen(m.from);
  }

  private sendWhileOpen(to: NodeId): void {
    for (let round = 0; round < this.config.maxInflightAppends; round++) {
      if (this.currentRole !== 'leader' || !this.sendAppend(to, false)) {
        return;
      }
    }
  }

  private handleAppendRejection(pr: Progress, m: AppendResponse): void {
    let hint = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const last = this.log.lastIndexOfTerm(m.conflictTerm);
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
    this.sendAppend(m.from, true);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.leaderProgress(m.from);
    if (pr === undefined) {
      return;
    }
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'snapshot') {
      this.sendSnapshotChunk(m.from, pr);
    } else if (pr.match < this.log.lastIndex()) {
      if (pr.state === 'replicate' && pr.isPaused(this.config.maxInflightAppends)) {
        pr.inflight.shift();
      }
      this.sendAppend(m.from, true);
    }
    if (m.leaseSentUs !== undefined) {
      pr.leaseAckUs = Math.max(pr.leaseAckUs, m.leaseSentUs);
    }
    if (m.readSeq > 0) {
      this.ackReads(m.from, m.readSeq);
    }
  }

  private handleSnapshotResponse(m: SnapshotResponse): void {
    const pr = this.leaderProgress(m.from);
    if (pr === undefined) {
      return;
    }
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.index !== pr.snapshotIndex) {
      return;
    }
    if (!m.done) {
      // Act only on the answer to the latest chunk sent. Answering every response
      // (duplicates and answers to resent chunks included) multiplied the chunks in flight
      // each round trip: raft seed 55 sent 150,000 snapshot chunks in 9 s. The answer may
      // also rewind (the follower restarted and lost the partial transfer).
      if (m.chunkOffset !== pr.snapshotSentOffset) {
        return;
      }
      pr.snapshotOffset = m.nextOffset;
      this.sendSnapshotChunk(m.from, pr);
      return;
    }
    pr.maybeUpdate(m.index);
    pr.becomeProbe();
    this.sendAppend(m.from, true);
  }

  private leaderProgress(from: NodeId): Progress | undefined {
    return this.currentRole === 'leader' ? this.progress.get(from) : undefined;
  }

  private broadcastHeartbeat(): void {
    const readSeq = this.pendingReads.length > 0 ? this.readSeq : 0;
    const leaseSentUs = this.config.lease?.clockUs();
    this.heartbeatSentUs = leaseSentUs ?? -1;
    for (const [to, pr] of this.progress) {
      const commit = Math.min(pr.match, this.commit);
      if (leaseSentUs === undefined) {
        this.send({ type: 'heartbeat', to, commit, readSeq });
      } else {
        this.send({ type: 'heartbeat', to, commit, readSeq, leaseSentUs });
      }
    }
  }

  // ---- lease reads --------------------------------------------------------------------------

  /**
   * The lease runs from the send time of the newest heartbeat a quorum has acknowledged (our
   * own vote counts as now). Every voter of that quorum refuses votes for an election timeout
   * after it heard the heartbeat, so no other leader can be elected before the lease ends.
   */
  private leaseHeld(): boolean {
    const lease = this.config.lease;
    if (lease === undefined) {
      return false;
    }
    const nowUs = lease.clockUs();
    if (this.hasBug('lease-renewed-on-send')) {
      return this.heartbeatSentUs >= 0 && nowUs - this.heartbeatSentUs < lease.durationUs;
    }
    const startUs = quorumIndex(this.currentVoters, (id) =>
      id === this.id ? nowUs : (this.progress.get(id)?.leaseAckUs ?? -1),
    );
    return startUs >= 0 && nowUs - startUs < lease.durationUs;
  }

  private reportLeaseRead(): void {
    if (!this.leaseReadReported) {
      this.leaseReadReported = true;
      this.events.push({ type: 'lease-read', term: this.currentTerm, index: this.commit });
    }
  }

  // ---- ReadIndex ----------------------------------------------------------------------------

  private issueReads(requestIds: readonly number[]): void {
    this.readSeq++;
    for (const requestId of requestIds) {
      const acks = new Set<NodeId>(this.currentVoters.includes(this.id) ? [this.id] : []);
      this.pendingReads.push({ requestId, index: this.commit, seq: this.readSeq, acks });
    }
    this.releaseReads();
    if (this.pendingReads.length > 0) {
      this.broadcastHeartbeat();
    }
  }

  private ackReads(from: NodeId, seq: number): void {
    if (!this.currentVoters.includes(from)) {
      return;
    }
    for (const read of this.pendingReads) {
      if (read.seq <= seq) {
        read.acks.add(from);
      }
    }
    this.releaseReads();
  }

  private releaseReads(): void {
    const needed = majority(this.currentVoters.length);
    let released = 0;
    for (const read of this.pendingReads) {
      let acks = 0;
      for (const id of read.acks) {
        acks += this.currentVoters.includes(id) ? 1 : 0;
      }
      if (acks < needed) {
        break;
      }
      this.readStates.push({ requestId: read.requestId, ok: true, index: read.index });
      released++;
    }
    this.pendingReads.splice(0, released);
  }

  private failReads(): void {
    for (const read of this.pendingReads) {
      this.readStates.push({ requestId: read.requestId, ok: false });
    }
    for (const requestId of this.waitingReads) {
      this.readStates.push({ requestId, ok: false });
    }
    this.pendingReads = [];
    this.waitingReads = [];
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

  private refreshConfig(): void {
    const [voters, index] = this.configFromLog();
    if (index !== this.configIndex || !sameVoters(voters, this.currentVoters)) {
      this.applyConfig(voters, index);
    }
  }

  private applyConfig(voters: NodeId[], index: number): void {
    this.currentVoters = voters;
    this.configIndex = index;
    this.events.push({ type: 'membership-changed', voters: [...voters], index });
    if (this.currentRole !== 'leader') {
      return;
    }
    for (const id of voters) {
      this.addProgress(id);
    }
    for (const id of [...this.progress.keys()]) {
      if (!voters.includes(id)) {
        this.progress.delete(id);
      }
    }
  }
}

function validateConfig(config: RaftConfig): void {
  const positive = (value: number, name: string) =>
    assert(
      Number.isInteger(value) && value > 0,
      `${name} must be a positive integer, got ${value}`,
    );
  positive(config.electionTicks, 'electionTicks');
  positive(config.heartbeatTicks, 'heartbeatTicks');
  positive(config.maxEntriesPerAppend, 'maxEntriesPerAppend');
  positive(config.maxInflightAppends, 'maxInflightAppends');
  positive(config.maxSnapshotChunkBytes, 'maxSnapshotChunkBytes');
  assert(
    config.heartbeatTicks < config.electionTicks,
    'heartbeatTicks must be below electionTicks',
  );
  if (config.lease !== undefined) {
    positive(config.lease.durationUs, 'lease.durationUs');
    // The followers' side of a lease is the check-quorum rule of refusing votes.
    assert(config.checkQuorum, 'lease reads need checkQuorum');
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, position) => b[position] === id);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
