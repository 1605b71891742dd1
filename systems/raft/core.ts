// Raft as a pure, deterministic state machine, in the style of etcd's raft: no I/O, no timers,
// no clock, no randomness of its own. The node adapter feeds it ticks, messages and proposals,
// and drains Ready batches: persist, then send and apply, then advance().
//
// RaftCore is the public face (etcd's RawNode): inputs, read-only getters, and the Ready
// bookkeeping. The protocol is split as etcd splits it: the shared state, role changes and
// term checks in raft.ts; each role's step function in leader.ts, candidate.ts and
// follower.ts; ReadIndex and the lease in read-only.ts; InstallSnapshot in snapshot-transfer.ts.
import { assert, fail } from '../../sim/assert.ts';
import {
  leaderPropose,
  leaderProposeMembershipChange,
  leaderReadIndex,
  maybeCommit,
} from './leader.ts';
import { decodeVoters } from './membership.ts';
import { Raft } from './raft.ts';
import type {
  Entry,
  HardState,
  MembershipChange,
  MembershipResult,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  ReadIndexResult,
  Ready,
  RestoredState,
  Role,
  SnapshotMeta,
} from './types.ts';

/** What the Ready handed out and not yet advance()d covers. */
interface Outstanding {
  readonly handed: number;
  readonly applying: number;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly raft: Raft;
  private applied: number;
  private applying: number;
  private outstanding: Outstanding | null = null;
  private handedHardState: HardState;

  constructor(config: RaftConfig, restored: RestoredState) {
    validateConfig(config);
    this.id = config.id;
    this.raft = new Raft(config, restored);
    const base = this.raft.log.snapshotMeta().lastIncludedIndex;
    this.applied = base;
    this.applying = base;
    const hard = restored.hardState;
    this.handedHardState = { term: hard.term, vote: hard.vote, commit: hard.commit };
  }

  // ---- observation (read-only) --------------------------------------------------------------

  get role(): Role {
    return this.raft.currentRole;
  }
  get term(): number {
    return this.raft.currentTerm;
  }
  get vote(): NodeId | null {
    return this.raft.votedFor;
  }
  get leader(): NodeId | null {
    return this.raft.leaderId;
  }
  /** The election timer's count: ticks since the timer was last reset (by a leader's message). */
  get electionElapsedTicks(): number {
    return this.raft.electionElapsed;
  }
  get commitIndex(): number {
    return this.raft.commit;
  }
  get appliedIndex(): number {
    return this.applied;
  }
  /** Last index durable on disk (or covered by a snapshot being persisted). */
  get persistedIndex(): number {
    return this.raft.log.persisted;
  }
  get lastIndex(): number {
    return this.raft.log.lastIndex();
  }
  get firstIndex(): number {
    return this.raft.log.firstIndex();
  }
  get snapshotMeta(): SnapshotMeta {
    return this.raft.log.snapshotMeta();
  }
  get voters(): readonly NodeId[] {
    return this.raft.currentVoters;
  }
  /** The data of the snapshot the log starts from (empty when there is none). */
  get snapshotData(): Uint8Array {
    return this.raft.snapshotData;
  }
  termAt(index: number): number | undefined {
    return this.raft.log.termAt(index);
  }
  entryAt(index: number): Entry | undefined {
    return this.raft.log.entryAt(index);
  }
  /** Entries in [lo, hi] (clamped to what the log holds). */
  entries(lo = this.raft.log.firstIndex(), hi = this.raft.log.lastIndex()): Entry[] {
    const log = this.raft.log;
    return log.slice(Math.max(lo, log.firstIndex()), Math.min(hi, log.lastIndex()));
  }
  hardState(): HardState {
    const raft = this.raft;
    return { term: raft.currentTerm, vote: raft.votedFor, commit: raft.commit };
  }
  /** For tests and invariants: the leader's view of a follower. */
  progressOf(id: NodeId): { match: number; next: number; state: string } | undefined {
    const pr = this.raft.progress.get(id);
    return pr === undefined ? undefined : { match: pr.match, next: pr.next, state: pr.state };
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  /** The election timer fired now (etcd's MsgHup). Ignored by a leader and by non-voters. */
  campaign(): void {
    this.raft.campaign();
  }

  propose(command: Uint8Array): ProposeResult {
    if (this.raft.currentRole !== 'leader') {
      return this.raft.notLeader();
    }
    return leaderPropose(this.raft, command);
  }

  proposeMembershipChange(change: MembershipChange): MembershipResult {
    if (this.raft.currentRole !== 'leader') {
      return this.raft.notLeader();
    }
    return leaderProposeMembershipChange(this.raft, change);
  }

  /** Starts a ReadIndex read; its result arrives in a later Ready's readStates. */
  readIndex(requestId: number): ReadIndexResult {
    if (this.raft.currentRole !== 'leader') {
      return this.raft.notLeader();
    }
    return leaderReadIndex(this.raft, requestId);
  }

  /** The application took a snapshot of its state through index: drop the log prefix. */
  compact(index: number, snapshotData: Uint8Array): void {
    if (index > this.applied) {
      fail(`compact(${index}) beyond applied ${this.applied}`);
    }
    const log = this.raft.log;
    const base = log.snapshotMeta().lastIncludedIndex;
    if (index < base) {
      fail(`compact(${index}) below the snapshot at ${base}`);
    }
    if (index === base) {
      return;
    }
    const config = log.lastConfigAtOrBelow(index);
    const voters = config === undefined ? log.snapshotMeta().voters : decodeVoters(config.data);
    log.compactTo(index, voters);
    this.raft.snapshotData = snapshotData;
    this.raft.snapshotToPersist = { meta: log.snapshotMeta(), data: snapshotData };
  }

  // ---- Ready / advance ----------------------------------------------------------------------

  /**
   * For the adapter's 'vote-without-fsync' / 'ack-before-fsync' variants only: removes the
   * matching messages from the outbox now, without waiting for a Ready and its fsync.
   * A correct adapter never calls this.
   */
  takeMessagesEarly(predicate: (message: Message) => boolean): Message[] {
    const raft = this.raft;
    const taken = raft.outbox.filter(predicate);
    raft.outbox = raft.outbox.filter((message) => !predicate(message));
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
    const raft = this.raft;
    const log = raft.log;
    // Nothing is allocated for a Ready's unchanged parts: this runs for every Ready.
    const handed = this.handedHardState;
    const hardChanged =
      raft.currentTerm !== handed.term ||
      raft.votedFor !== handed.vote ||
      raft.commit !== handed.commit;
    const entriesToAppend =
      log.handed < log.lastIndex() ? log.slice(log.handed + 1, log.lastIndex()) : NO_ENTRIES;
    const truncateFrom = entriesToAppend.length > 0 || log.rewritten ? log.handed + 1 : undefined;
    const snapshotToApply = raft.snapshotToApply;
    let applyFrom = this.applying + 1;
    if (snapshotToApply !== undefined) {
      applyFrom = Math.max(applyFrom, snapshotToApply.meta.lastIncludedIndex + 1);
      if (raft.hasBug('snapshot-off-by-one')) {
        applyFrom = snapshotToApply.meta.lastIncludedIndex + 2; // the boundary entry is skipped
      }
    }
    const applyTo = Math.min(raft.commit, log.persisted);
    const committedEntries = applyFrom <= applyTo ? log.slice(applyFrom, applyTo) : NO_ENTRIES;
    const empty =
      !hardChanged &&
      truncateFrom === undefined &&
      raft.snapshotToPersist === undefined &&
      snapshotToApply === undefined &&
      committedEntries.length === 0 &&
      raft.outbox.length === 0 &&
      raft.readStates.length === 0 &&
      raft.events.length === 0;
    if (empty) {
      return null;
    }
    const ready: Ready = {
      hardState: hardChanged ? this.hardState() : undefined,
      truncateFrom,
      entriesToAppend,
      snapshotToPersist: raft.snapshotToPersist,
      messages: raft.outbox,
      committedEntries,
      readStates: raft.readStates,
      snapshotToApply,
      events: raft.events,
    };
    if (take) {
      this.takeReady(ready, Math.max(applyFrom - 1, committedEntries.at(-1)?.index ?? 0));
    }
    return ready;
  }

  private takeReady(ready: Ready, applying: number): void {
    const raft = this.raft;
    this.outstanding = { handed: raft.log.lastIndex(), applying };
    this.applying = applying;
    raft.log.handed = raft.log.lastIndex();
    raft.log.rewritten = false;
    this.handedHardState = ready.hardState ?? this.handedHardState;
    raft.outbox = [];
    raft.readStates = [];
    raft.events = [];
    raft.snapshotToPersist = undefined;
    raft.snapshotToApply = undefined;
  }

  /** The last Ready is durable, its messages sent and its entries applied. */
  advance(): void {
    const done = this.outstanding;
    assert(done !== null, 'advance() without an outstanding Ready');
    this.outstanding = null;
    const log = this.raft.log;
    log.persisted = Math.max(log.persisted, Math.min(done.handed, log.handed));
    assert(done.applying >= this.applied, 'applied index must not go backwards');
    this.applied = done.applying;
    if (this.raft.currentRole === 'leader') {
      maybeCommit(this.raft);
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

/** What a Ready holds when it has no entries to append or apply (its arrays are read-only). */
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);
