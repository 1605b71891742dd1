// A Raft group as a component a node program holds: a shell over the pure RaftCore that does
// its I/O through the node's context. It persists each Ready to a checksummed log (snapshot
// first, then truncation, entries and hard state) and fsyncs, then records that the batch is
// synced in its sync marks and fsyncs those (codec.ts: so that recovery tells a synced batch
// that rotted from a torn one), and only then does it send the Ready's messages, apply
// committed entries and hand out read states — etcd's rule, and what makes acknowledgements
// and votes survive crashes.
//
// A group has an id, its peers (node ids from the topology), a file prefix on the node's disk,
// its own timer, and an envelope: every Raft message it sends carries `group`, and it takes
// only messages of its own group, so one node may host several groups (multi-Raft). Its
// observations carry the group too, so the Raft invariants hold per group.
import { assert } from '../../sim/assert.ts';
import { ProcessExit } from '../../sim/disk.ts';
import { variantFor } from '../../sim/scenario.ts';
import { digestValue } from '../../sim/trace.ts';
import type { NodeContext, NodeId, Message as SimMessage } from '../../sim/types.ts';
import { readStable } from '../stable-read.ts';
import {
  decodeLog,
  decodeSnapshotFile,
  decodeSyncMarks,
  encodeBatch,
  encodeBatchTransient,
  encodeSnapshotFile,
  encodeSyncMark,
  marksNeedRepair,
  readyRecords,
  replayLog,
  SYNC_MARK_SLOTS,
  type SyncMarks,
  tailVerdict,
} from './codec.ts';
import { entryDigest, type RaftInspect, type RaftRecovered } from './contract.ts';
import { RaftCore } from './core.ts';
import {
  type Entry,
  type LeaseConfig,
  type Message,
  messageNeedsDurability,
  RAFT_BUGS,
  type RaftBug,
  type ReadState,
  type Ready,
  type RestoredState,
  type SnapshotMeta,
} from './types.ts';

/** The log and snapshot files of a group with no file prefix. */
export const LOG_FILE = 'raft.log';
export const SNAPSHOT_FILE = 'raft.snapshot';
/** Which log batches are known synced (codec.ts, sync marks). */
export const SYNC_MARKS_FILE = 'raft.synced';
/** An early (buggified) snapshot still covers a few entries, as a real trigger would. */
const BUGGIFY_SNAPSHOT_ENTRIES_MIN = 16;
const READY_ROUNDS_MAX = 64;
const ENTRY_OVERHEAD_BYTES = 24;
const MESSAGE_OVERHEAD_BYTES = 48;

/** The application a Raft node replicates. */
export interface StateMachine {
  /** Applies a committed command entry; the result goes back to the proposer. */
  apply(entry: Entry): unknown;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
  /** An empty state machine configured as this one: lets checkers replay durable state. */
  fresh?(): StateMachine;
}

export interface RaftNodeOptions {
  tickUs: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxEntriesPerAppend: number;
  maxInflightAppends: number;
  maxSnapshotChunkBytes: number;
  /** Take a snapshot every this many applied entries (0: never). */
  snapshotEveryEntries: number;
  /** Rewrite the log file without its compacted prefix once it is this large. */
  logRewriteBytes: number;
  /**
   * 'lease': the leader answers reads under a lease where it holds, else by ReadIndex.
   * Every server of a cluster must use the same readMode, tickUs and electionTicks.
   */
  readMode: 'read-index' | 'lease';
  /**
   * The bound lease reads assume: no server's clock runs faster or slower than true time by
   * more than this, in parts per million. Beyond it a lease may outlive the votes it counts on.
   */
  leaseDriftPpmMax: number;
  /**
   * Record each synced batch in sync marks before handing it out (codec.ts), so that recovery
   * refuses a synced last batch that rotted instead of cutting it as torn. A Raft on disks
   * that can rot (bit rot, misdirected writes) needs it; it costs a second fsync before each
   * hand-out. On in the raft and kv swarms (their plans' workload says `syncMarks: true`);
   * off where no disk rots (the MIT ports, Kafka's metadata quorum, shardkv, the outbox) and
   * in plans recorded before it existed, which run as they always did.
   */
  syncMarks: boolean;
  bugs: ReadonlySet<RaftBug>;
}

export const DEFAULT_RAFT_OPTIONS: RaftNodeOptions = {
  tickUs: 10_000,
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 16,
  maxInflightAppends: 4,
  maxSnapshotChunkBytes: 1024,
  snapshotEveryEntries: 0,
  logRewriteBytes: 64 * 1024,
  readMode: 'read-index',
  leaseDriftPpmMax: 10_000,
  syncMarks: false,
  bugs: new Set(),
};

/** No sync marks: what recovery reads when the group keeps none. */
const NO_SYNC_MARKS: SyncMarks = { slots: [], syncedThrough: null, nextSlot: 0 };

/** The Raft options a plan's workload may set for every server: `syncMarks`. */
export function planRaftOptions(workload: NodeContext['workload']): Partial<RaftNodeOptions> {
  const syncMarks = workload['syncMarks'];
  return typeof syncMarks === 'boolean' ? { syncMarks } : {};
}

const PPM = 1_000_000;

/**
 * How long a lease lasts on the leader's clock. A voter that hears a heartbeat refuses votes
 * until it has counted electionTicks ticks; the first may come at once, so that is at least
 * electionTicks - 1 tick periods of its clock. The leader's clock may run fast by
 * driftPpmMax and the voter's slow by as much, so the leader counts
 * (electionTicks - 1) · tickUs · (1 - ρ) / (1 + ρ) from the heartbeat's send time.
 */
export function leaseDurationUs(
  tickUs: number,
  electionTicks: number,
  driftPpmMax: number,
): number {
  assert(electionTicks >= 2, 'a lease needs electionTicks of at least 2');
  assert(driftPpmMax >= 0 && driftPpmMax < PPM, 'the drift bound must lie in [0, 10^6) ppm');
  return Math.floor(((electionTicks - 1) * tickUs * (PPM - driftPpmMax)) / (PPM + driftPpmMax));
}

/** The known-bug variant named by the plan, as a Raft bug (or none). */
export function bugsForVariant(variant: string | null): Set<RaftBug> {
  const name = variantFor(variant, 'raft');
  if (name === null || !(RAFT_BUGS as readonly string[]).includes(name)) {
    return new Set();
  }
  return new Set([name as RaftBug]);
}

/** A harness (operator) request to add or remove a voter. */
export interface MembershipRequest {
  type: 'membership';
  change: 'add' | 'remove';
  node: NodeId;
}

/** Client ↔ server messages (the Raft messages themselves are the core's). */
export type ClientRequest =
  | { type: 'propose'; id: string; data: Uint8Array }
  | { type: 'read'; id: string };
export type ClientReply =
  | { type: 'propose-ok'; id: string; index: number; term: number; result: unknown }
  | { type: 'read-ok'; id: string; index: number }
  | { type: 'not-leader'; id: string; leaderHint: NodeId | null }
  | { type: 'request-failed'; id: string; reason: string };

interface PendingProposal {
  client: NodeId;
  id: string;
  term: number;
}

type Persisting =
  | { stage: 'snapshot'; syncId: number; ready: Ready }
  | { stage: 'log'; syncId: number; ready: Ready; batch: number }
  /** The Ready's batch is synced; its sync mark is being synced before hand-out. */
  | { stage: 'mark'; syncId: number; ready: Ready }
  | { stage: 'rewrite'; syncId: number; batch: number }
  /** The rewritten log is synced; its sync mark is being synced before the rename. */
  | { stage: 'rewrite-mark'; syncId: number }
  /** Recovery fsyncs the log (a cut tail included), then marks its last batch, before hand-out. */
  | { stage: 'recovery'; syncId: number; batch: number }
  /**
   * Recovery cut a torn tail by copying the log's valid prefix to a fresh file: synced, then
   * renamed over the log (and its last batch marked, when the marks need it) before anything
   * is appended.
   */
  | { stage: 'recovery-copy'; syncId: number; batch: number; repairMarks: boolean }
  | { stage: 'recovery-mark'; syncId: number };

/** What a node program gives the Raft group it holds. */
export interface RaftGroupConfig {
  /** The group's id: carried by its messages and observations. */
  id: string;
  /** The voters at first boot: node ids from the topology (a restart reads them from disk). */
  peers: readonly NodeId[];
  /** Prepended to the group's file names, so several groups can share one disk. */
  filePrefix: string;
  stateMachine: StateMachine;
  options?: Partial<RaftNodeOptions>;
  /** Receives the group's answers to clients; default: send them to the client. */
  onReply?: (client: NodeId, reply: ClientReply) => void;
  /** Runs after every round of Readies (the applied index may have moved). */
  afterProcess?: () => void;
}

/** Client requests (and harness requests) a group answers; `group` picks one on a multi-Raft node. */
const CLIENT_REQUESTS = new Set(['propose', 'read', 'campaign', 'membership']);

export class RaftGroup {
  core!: RaftCore;
  readonly id: string;
  readonly stateMachine: StateMachine;
  private readonly options: RaftNodeOptions;
  private readonly peers: readonly NodeId[];
  private readonly files: GroupFiles;
  private readonly tickTag: string;
  private readonly onReply: ((client: NodeId, reply: ClientReply) => void) | undefined;
  private readonly afterProcess: (() => void) | undefined;
  private persisting: Persisting | null = null;
  private nextBatch = 0;
  /** The sync-mark slot the next mark goes to (never the one holding the newest mark). */
  private nextMarkSlot = 0;
  /** Size of the log file right after the last rewrite (0: none yet). */
  private lastRewriteBytes = 0;
  /**
   * The snapshot index from which a rewrite sheds every entry the last rewrite kept, and at
   * least one more: past the last rewrite's persisted index and its snapshot index.
   */
  private rewriteShedsAllKeptAtIndex = 0;
  /** The index the snapshot file on disk covers. */
  private durableSnapshotIndex = 0;
  /** Set by recovery when the log file disagrees with the snapshot file (see logBehindSnapshot). */
  private rewriteBeforeAppending = false;
  /** Set when the disk holds damaged durable data: the node refuses to take part. */
  private refused = false;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<number, { client: NodeId; id: string }>();
  private nextReadId = 1;
  /** Ticks delivered to the core by this incarnation (what 'lease-on-ticks' times with). */
  private ticks = 0;
  readonly appliedDigests = new Map<number, number>();
  private view: LiveRaftView | undefined;
  /** What this incarnation rebuilt from its disk (set by start()). */
  recovered!: RaftRecovered;
  /** The recovered commit index until this incarnation has applied up to it (then null). */
  private replayTo: number | null = null;

  constructor(
    readonly ctx: NodeContext,
    config: RaftGroupConfig,
  ) {
    assert(config.id.length > 0, 'a Raft group needs an id');
    assert(config.peers.length > 0, `Raft group ${config.id} has no peers`);
    this.id = config.id;
    this.stateMachine = config.stateMachine;
    this.options = { ...DEFAULT_RAFT_OPTIONS, ...config.options };
    this.peers = config.peers;
    this.files = groupFiles(config.filePrefix);
    this.tickTag = `raft:${config.id}:tick`;
    this.onReply = config.onReply;
    this.afterProcess = config.afterProcess;
  }

  /** False until started, and for good once the disk held damaged durable state. */
  get running(): boolean {
    return !this.refused && this.core !== undefined;
  }

  /** Whether a message is this group's: its Raft traffic, or a client request for it. */
  owns(message: SimMessage): boolean {
    const group = message['group'];
    return group === this.id || (group === undefined && CLIENT_REQUESTS.has(message.type));
  }

  /** Reports a fact about this group to invariants. */
  observe(observation: { readonly type: string; readonly [field: string]: unknown }): void {
    // Tagged in place: every observation is a fresh object (the core's events, or a literal
    // here), and a copy per observation is measurable on a 60k-event seed.
    (observation as { group?: string }).group = this.id;
    this.ctx.observe(observation);
  }

  // --- boot and recovery ------------------------------------------------------------------

  /** First boot and every restart: rebuild from the disk, then start ticking. */
  start(): void {
    const restored = this.recover();
    if (restored === null) {
      return;
    }
    const random = this.ctx.random;
    this.core = new RaftCore(
      {
        id: this.ctx.id,
        voters: this.peers,
        electionTicks: this.options.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks,
        preVote: this.options.preVote,
        checkQuorum: this.options.checkQuorum,
        maxEntriesPerAppend: this.options.maxEntriesPerAppend,
        maxInflightAppends: this.options.maxInflightAppends,
        maxSnapshotChunkBytes: this.options.maxSnapshotChunkBytes,
        bugs: this.options.bugs,
        randomInt: (maxExclusive) => random.int(maxExclusive),
        buggify: (label) => this.ctx.buggify(label),
        ...this.leaseConfig(),
      },
      restored,
    );
    if (restored.snapshotData !== undefined && restored.snapshotMeta.lastIncludedIndex > 0) {
      this.restoreSnapshot(
        restored.snapshotData,
        restored.snapshotMeta.lastIncludedIndex,
        restored.snapshotMeta.lastIncludedTerm,
      );
    }
    this.recovered = this.recoveredState();
    this.replayTo =
      this.recovered.commit > this.recovered.snapshotIndex ? this.recovered.commit : null;
    const hard = restored.hardState;
    this.observe({
      type: 'restarted',
      term: hard.term,
      vote: hard.vote,
      commit: hard.commit,
      lastIndex: this.core.lastIndex,
      snapshotIndex: restored.snapshotMeta.lastIncludedIndex,
      snapshotTerm: restored.snapshotMeta.lastIncludedTerm,
    });
    this.ctx.setTimer(this.options.tickUs, this.tickTag);
  }

  /** What the core and state machine hold right after recovery, for the recovery check. */
  private recoveredState(): RaftRecovered {
    const core = this.core;
    const meta = core.snapshotMeta;
    return {
      logFile: this.files.log,
      snapshotFile: this.files.snapshot,
      term: core.term,
      vote: core.vote,
      commit: core.commitIndex,
      snapshotIndex: meta.lastIncludedIndex,
      snapshotTerm: meta.lastIncludedTerm,
      snapshotVoters: [...meta.voters],
      snapshotDataDigest: digestValue(core.snapshotData),
      stateMachineDigest:
        meta.lastIncludedIndex > 0 ? digestValue(this.stateMachine.snapshot()) : undefined,
      entries: core.entries().map((entry) => ({
        index: entry.index,
        term: entry.term,
        digest: entryDigest(entry.kind, entry.data),
      })),
    };
  }

  private leaseConfig(): { lease?: LeaseConfig } {
    const { readMode, tickUs, electionTicks, leaseDriftPpmMax, bugs } = this.options;
    if (readMode !== 'lease') {
      return {};
    }
    // The bug: the lease as if clocks kept perfect time, whatever drift it assumes.
    const driftPpm = bugs.has('lease-ignores-drift') ? 0 : leaseDriftPpmMax;
    const durationUs = leaseDurationUs(tickUs, electionTicks, driftPpm);
    // The bug: ticks stop while the process is paused, so a paused leader's lease stops
    // running out too. The monotonic clock keeps counting, as real time does.
    const clockUs = bugs.has('lease-on-ticks')
      ? () => this.ticks * tickUs
      : () => this.ctx.monotonic();
    return { lease: { durationUs, clockUs } };
  }

  private recover(): RestoredState | null {
    const disk = this.ctx.disk;
    const files = this.files;
    disk.remove(files.snapshotTemp);
    disk.remove(files.logTemp);
    const logBytes = readStable(disk, files.log);
    const decoded = decodeLog(logBytes);
    if (decoded.status.kind === 'corrupt') {
      this.refuse(
        `log corrupt at byte ${decoded.status.offset}: ${decoded.status.reason}`,
        decoded.status.offset,
      );
      return null;
    }
    const marks = this.options.syncMarks
      ? decodeSyncMarks(readStable(disk, files.syncMarks))
      : NO_SYNC_MARKS;
    this.nextMarkSlot = marks.nextSlot;
    if (decoded.status.kind === 'torn-tail' && this.options.bugs.has('torn-tail-refused')) {
      this.refuse('log damaged at its tail', decoded.status.truncateAt);
      return null;
    }
    if (decoded.status.kind === 'torn-tail') {
      const { batch, truncateAt, reason } = decoded.status;
      if (tailVerdict(batch, marks) === 'refuse') {
        // Synced (a mark covers it), so perhaps acknowledged: cutting it could lose a
        // committed entry or a vote. Damage there is a media fault; never apply, never drop.
        this.refuse(
          `log's last batch ${batch} is damaged (${reason}), yet its fsync completed (synced through batch ${marks.syncedThrough}${marks.slots.some((slot) => slot.kind === 'bad') ? ', and a sync mark is damaged' : ''}): synced data was damaged, not torn`,
          truncateAt,
        );
        return null;
      }
      // Not cut in place: on this disk a truncated sector keeps its old bytes, and a torn
      // write that later extends the file past the cut can bring them back behind the next
      // batch, which is numbered as the torn one was (outbox-cdc seed 34508: a record of the
      // torn batch 32 behind the new batch 32, refused as corruption). The valid prefix goes
      // to a fresh file instead, synced and renamed over the log before anything is
      // appended; a crash before the rename finds the same torn tail again.
      disk.truncate(files.logTemp, 0);
      if (truncateAt > 0) {
        disk.write(files.logTemp, 0, logBytes.subarray(0, truncateAt));
      }
      this.persisting = {
        stage: 'recovery-copy',
        syncId: disk.fsync(files.logTemp),
        batch: decoded.nextBatch - 1,
        repairMarks: this.options.syncMarks && marksNeedRepair(marks, decoded.nextBatch - 1),
      };
      this.observe({ type: 'torn-tail-recovered', truncateAt });
    }
    this.nextBatch = decoded.nextBatch;
    if (
      this.persisting === null &&
      this.options.syncMarks &&
      marksNeedRepair(marks, decoded.nextBatch - 1)
    ) {
      // Nothing is handed out (and nothing appended) until the log and its mark are synced.
      this.persisting = {
        stage: 'recovery',
        syncId: disk.fsync(files.log),
        batch: decoded.nextBatch - 1,
      };
    }
    if (marks.syncedThrough !== null && marks.syncedThrough >= decoded.nextBatch) {
      // A rewrite was synced and marked, then the crash came before its rename: the old log
      // is whole (it was all synced), but a batch appended to it now would be numbered at or
      // below a mark it did not earn. Rewrite first, as that rewrite would have.
      this.rewriteBeforeAppending = true;
    }
    let replayed = replayLog(decoded.records);
    if (this.options.bugs.has('recover-drops-last-entry') && replayed.entries.length > 0) {
      // The bug: "only the last write can be torn, so do not trust the newest entry" — but a
      // torn batch is already cut by its checksums, and this one was synced (and perhaps
      // acknowledged) whole.
      replayed = { ...replayed, entries: replayed.entries.slice(0, -1) };
    }
    if (!disk.exists(files.snapshot)) {
      return replayed;
    }
    const snapshot = decodeSnapshotFile(readStable(disk, files.snapshot));
    if (!snapshot.ok) {
      this.refuse(`snapshot file damaged: ${snapshot.reason}`, 0);
      return null;
    }
    const meta = snapshot.snapshot.meta;
    this.durableSnapshotIndex = meta.lastIncludedIndex;
    let entries = replayed.entries;
    if (meta.lastIncludedIndex > replayed.snapshotMeta.lastIncludedIndex) {
      entries = this.logBehindSnapshot(entries, meta);
    }
    return { ...replayed, entries, snapshotMeta: meta, snapshotData: snapshot.snapshot.data };
  }

  /**
   * The snapshot file is newer than any snapshot the log records: it was renamed into place
   * and the log batch recording it (with the truncation an install may imply) was lost to a
   * failed fsync or a crash (raft seed 25804). Recover as installSnapshot would have — keep
   * the log's suffix only if it matches the snapshot — and rewrite the log before anything
   * else is appended to it, or the next recovery would read entries after a gap.
   */
  private logBehindSnapshot(entries: Entry[], meta: SnapshotMeta): Entry[] {
    const last = entries.find((entry) => entry.index === meta.lastIncludedIndex);
    const suffixKept = last?.term === meta.lastIncludedTerm;
    this.rewriteBeforeAppending = true;
    this.ctx.log('log behind its snapshot file: rewriting it', {
      snapshotIndex: meta.lastIncludedIndex,
      suffixKept,
    });
    return suffixKept ? entries.filter((entry) => entry.index > meta.lastIncludedIndex) : [];
  }

  /** Damaged durable state is detected, never applied: this node stays out of the cluster. */
  private refuse(reason: string, offset: number): void {
    this.refused = true;
    // A sync-mark repair recovery started before it found the damage has nothing to do now
    // (raft seed 1399: a damaged snapshot file after the log's repair began).
    this.persisting = null;
    this.ctx.log('refusing to start', { reason });
    this.observe({ type: 'corruption-detected', offset, reason });
  }

  // --- inputs -----------------------------------------------------------------------------

  /** A message this group owns (see owns()): Raft traffic or a client request. */
  onMessage(from: NodeId, message: SimMessage): void {
    if (!this.running) {
      return;
    }
    switch (message.type) {
      case 'propose':
        this.onPropose(from, message as unknown as ClientRequest & { type: 'propose' });
        break;
      case 'read':
        this.onRead(from, message as unknown as ClientRequest & { type: 'read' });
        break;
      case 'campaign':
        this.core.campaign(); // a scripted "fire your election timer now"
        break;
      case 'membership': {
        // An operator's request; only the leader can act on it, others ignore it.
        const change = message as unknown as MembershipRequest;
        if (this.core.role === 'leader') {
          const result = this.core.proposeMembershipChange({
            type: change.change,
            node: change.node,
          });
          this.ctx.log('membership change proposed', { ...change, ok: result.ok });
        }
        break;
      }
      default:
        this.core.step(message as unknown as Message);
    }
    this.process();
  }

  /** Handles the group's own timer; false when the tag is not this group's. */
  onTimer(tag: string): boolean {
    if (tag !== this.tickTag) {
      return false;
    }
    if (!this.running) {
      return true;
    }
    // buggify: a lost tick, as when the process was descheduled.
    if (!this.ctx.buggify('raft.skip-tick')) {
      this.ticks++;
      this.core.tick();
    }
    this.ctx.setTimer(this.options.tickUs, this.tickTag);
    this.process();
    return true;
  }

  private onPropose(client: NodeId, request: { id: string; data: Uint8Array }): void {
    const result = this.core.propose(request.data);
    if (!result.ok) {
      this.reply(client, { type: 'not-leader', id: request.id, leaderHint: result.leaderHint });
      return;
    }
    this.proposals.set(result.index, { client, id: request.id, term: result.term });
  }

  private onRead(client: NodeId, request: { id: string }): void {
    const readId = this.nextReadId++;
    const result = this.core.readIndex(readId);
    if (!result.ok) {
      this.reply(client, { type: 'not-leader', id: request.id, leaderHint: result.leaderHint });
      return;
    }
    this.observe({ type: 'read-requested', readId });
    this.reads.set(readId, { client, id: request.id });
  }

  /** Answers a client (through the holder's onReply when it has one). */
  reply(client: NodeId, reply: ClientReply): void {
    if (this.onReply !== undefined) {
      this.onReply(client, reply);
      return;
    }
    this.sendReply(client, reply);
  }

  /** Sends a reply on the wire, whoever produced it. */
  sendReply(client: NodeId, reply: ClientReply): void {
    if (client < 0) {
      return; // injected by a script: nobody to answer
    }
    this.ctx.send(client, reply, 64);
  }

  // --- the Ready loop ---------------------------------------------------------------------

  /** Drives the core: persist the next Ready, or hand it out once durable. */
  process(): void {
    this.processReadies();
    this.afterProcess?.();
  }

  private processReadies(): void {
    for (let round = 0; round < READY_ROUNDS_MAX; round++) {
      this.sendEarlyIfBuggy();
      if (this.persisting !== null || this.maybeRewriteLog()) {
        return;
      }
      const ready = this.core.ready();
      if (ready === null) {
        return;
      }
      if (ready.snapshotToPersist !== undefined) {
        this.ctx.disk.remove(this.files.snapshotTemp);
        this.ctx.disk.write(
          this.files.snapshotTemp,
          0,
          encodeSnapshotFile(ready.snapshotToPersist),
        );
        this.persisting = {
          stage: 'snapshot',
          syncId: this.ctx.disk.fsync(this.files.snapshotTemp),
          ready,
        };
        return;
      }
      if (this.persistLog(ready)) {
        return;
      }
      this.handOut(ready);
    }
  }

  /** Appends the Ready's records as one batch and starts its fsync; false if none. */
  private persistLog(ready: Ready): boolean {
    const records = readyRecords(ready);
    if (records.length === 0) {
      return false;
    }
    const batch = this.nextBatch++;
    const startsFile = this.ctx.disk.size(this.files.log) === 0;
    // The disk copies what it is given, so the batch is handed over without a copy of its own.
    this.ctx.disk.append(this.files.log, encodeBatchTransient(batch, records, startsFile));
    this.persisting = { stage: 'log', syncId: this.ctx.disk.fsync(this.files.log), ready, batch };
    return true;
  }

  /** Records that the log is synced through `batch`, and starts that record's fsync. */
  private markSynced(batch: number): number {
    const { offsetBytes, bytes } = encodeSyncMark(this.nextMarkSlot, batch);
    this.ctx.disk.write(this.files.syncMarks, offsetBytes, bytes);
    this.nextMarkSlot = (this.nextMarkSlot + 1) % SYNC_MARK_SLOTS;
    return this.ctx.disk.fsync(this.files.syncMarks);
  }

  /** An fsync finished; false when it was not this group's. */
  onSynced(syncId: number, ok: boolean): boolean {
    const persisting = this.persisting;
    if (persisting === null || persisting.syncId !== syncId) {
      return false;
    }
    if (!ok) {
      // Like PostgreSQL: after a failed fsync the page cache cannot be trusted.
      this.observe({ type: 'fsync-failed' });
      throw new ProcessExit('fsync failed');
    }
    this.persisting = null;
    if (persisting.stage === 'log' && this.options.syncMarks) {
      this.persisting = {
        stage: 'mark',
        syncId: this.markSynced(persisting.batch),
        ready: persisting.ready,
      };
      return true;
    }
    if (persisting.stage === 'rewrite' && this.options.syncMarks) {
      this.persisting = { stage: 'rewrite-mark', syncId: this.markSynced(persisting.batch) };
      return true;
    }
    if (persisting.stage === 'recovery') {
      this.persisting = { stage: 'recovery-mark', syncId: this.markSynced(persisting.batch) };
      return true;
    }
    if (persisting.stage === 'recovery-copy') {
      this.ctx.disk.rename(this.files.logTemp, this.files.log);
      if (persisting.repairMarks) {
        this.persisting = { stage: 'recovery-mark', syncId: this.markSynced(persisting.batch) };
        return true;
      }
    }
    if (persisting.stage === 'recovery-mark' || persisting.stage === 'recovery-copy') {
      // copied or marked: nothing to hand out, the core's Readies may go now
    } else if (persisting.stage === 'rewrite-mark' || persisting.stage === 'rewrite') {
      this.ctx.disk.rename(this.files.logTemp, this.files.log);
    } else if (persisting.stage === 'snapshot') {
      this.ctx.disk.rename(this.files.snapshotTemp, this.files.snapshot);
      this.durableSnapshotIndex = persisting.ready.snapshotToPersist?.meta.lastIncludedIndex ?? 0;
      if (!this.persistLog(persisting.ready)) {
        this.handOut(persisting.ready);
      }
    } else {
      this.handOut(persisting.ready);
    }
    this.process();
    return true;
  }

  /** The buggy variants send votes or acknowledgements before they are durable. */
  private sendEarlyIfBuggy(): void {
    const bugs = this.options.bugs;
    if (!bugs.has('vote-without-fsync') && !bugs.has('ack-before-fsync')) {
      return;
    }
    const early = this.core.takeMessagesEarly((message) => {
      const need = messageNeedsDurability(message);
      return (
        (need === 'vote' && bugs.has('vote-without-fsync')) ||
        (need === 'ack' && bugs.has('ack-before-fsync'))
      );
    });
    for (const message of early) {
      this.send(message);
    }
  }

  private send(message: Message): void {
    if (message.type === 'vote-response' && message.granted) {
      this.observe({ type: 'vote-sent', term: message.term, to: message.to });
    }
    let sizeBytes = MESSAGE_OVERHEAD_BYTES;
    if (message.type === 'append') {
      for (const entry of message.entries) {
        sizeBytes += ENTRY_OVERHEAD_BYTES + entry.data.length;
      }
    } else if (message.type === 'snapshot') {
      sizeBytes += message.data.length;
    }
    // The envelope is stamped in place: the core hands each message out once, fresh, and a
    // spread per message cost 6–8 % of a seed the last time the core did one.
    (message as { group?: string }).group = this.id;
    this.ctx.send(message.to, message as unknown as SimMessage, sizeBytes);
  }

  /** Everything in the Ready is durable: send, apply, answer, observe, advance. */
  private handOut(ready: Ready): void {
    for (const message of ready.messages) {
      this.send(message);
    }
    if (ready.snapshotToApply !== undefined) {
      const { meta, data } = ready.snapshotToApply;
      this.restoreSnapshot(data, meta.lastIncludedIndex, meta.lastIncludedTerm);
    }
    for (const entry of ready.committedEntries) {
      this.apply(entry);
    }
    for (const readState of ready.readStates) {
      this.answerRead(readState);
    }
    for (const event of ready.events) {
      this.observe(event);
    }
    this.core.advance();
    this.maybeSnapshot();
  }

  private restoreSnapshot(data: Uint8Array, index: number, term: number): void {
    this.replayTo = null; // installed, not replayed: nothing left to compare with the disk
    this.stateMachine.restore(data);
    this.appliedDigests.clear();
    this.observe({ type: 'snapshot-applied', index, term });
  }

  private apply(entry: Entry): void {
    const result = entry.kind === 'command' ? this.stateMachine.apply(entry) : undefined;
    const digest = entryDigest(entry.kind, entry.data);
    this.appliedDigests.set(entry.index, digest);
    this.observe({
      type: 'applied',
      index: entry.index,
      term: entry.term,
      kind: entry.kind,
      digest,
    });
    if (entry.index === this.replayTo) {
      this.replayTo = null;
      const stateDigest = digestValue(this.stateMachine.snapshot());
      this.observe({ type: 'recovery-replayed', index: entry.index, stateDigest });
    }
    const proposal = this.proposals.get(entry.index);
    if (proposal === undefined) {
      return;
    }
    this.proposals.delete(entry.index);
    if (proposal.term === entry.term) {
      this.reply(proposal.client, {
        type: 'propose-ok',
        id: proposal.id,
        index: entry.index,
        term: entry.term,
        result,
      });
    } else {
      this.reply(proposal.client, {
        type: 'request-failed',
        id: proposal.id,
        reason: 'overwritten by a new leader',
      });
    }
  }

  private answerRead(readState: ReadState): void {
    const read = this.reads.get(readState.requestId);
    if (read === undefined) {
      return;
    }
    this.reads.delete(readState.requestId);
    if (!readState.ok) {
      this.reply(read.client, { type: 'request-failed', id: read.id, reason: 'leadership lost' });
      return;
    }
    // Serve the read once the state machine has applied up to the read index.
    assert(readState.index <= this.core.commitIndex, 'a read index beyond the commit index');
    this.observe({ type: 'read-served', readId: readState.requestId, index: readState.index });
    this.reply(read.client, { type: 'read-ok', id: read.id, index: readState.index });
  }

  private maybeSnapshot(): void {
    const every = this.options.snapshotEveryEntries;
    const applied = this.core.appliedIndex;
    const due = every > 0 && applied - this.core.snapshotMeta.lastIncludedIndex >= every;
    // buggify: snapshot at odd moments, so compaction races replication and restarts.
    const early =
      applied - this.core.snapshotMeta.lastIncludedIndex >= BUGGIFY_SNAPSHOT_ENTRIES_MIN &&
      this.ctx.buggify('raft.snapshot-early');
    if (due || early) {
      this.core.compact(applied, this.stateMachine.snapshot());
    }
  }

  /**
   * Once the log file has grown past the limit and a snapshot covers its prefix, rewrite it
   * as one batch holding only what the snapshot does not cover; rename makes it atomic.
   */
  private maybeRewriteLog(): boolean {
    const snapshot = this.core.snapshotMeta;
    // Only between Readies, and only while the core's snapshot is the one on disk: a
    // compaction not yet persisted would have the new log point at a snapshot file that a
    // crash could still lose. Checked before each Ready (not only when idle), or a busy
    // leader never rewrites (kv-mit-snapshot-recover-many-clients grew past its bound).
    if (
      snapshot.lastIncludedIndex === 0 ||
      snapshot.lastIncludedIndex !== this.durableSnapshotIndex
    ) {
      return false;
    }
    // Rewrite only once the file has doubled since the last rewrite, or once the snapshot
    // covers every entry the last rewrite kept: when little is compacted (no commits for a
    // while) a rewrite barely shrinks it, and rewriting on every idle moment was quadratic
    // (raft seed 172: 600k events in 85 s). The second rule copies each entry in at most one
    // rewrite, and without it a rewrite that kept a large tail (a shard's install entry not
    // yet applied) left the log over MIT's 8 × maxraftstate bound for good: it had to double
    // first (shardkv-mit-concurrent3, 3 of its first 4 seeds).
    const sizeBytes = this.ctx.disk.size(this.files.log);
    const grown =
      sizeBytes >= 2 * this.lastRewriteBytes ||
      snapshot.lastIncludedIndex >= this.rewriteShedsAllKeptAtIndex;
    const large = sizeBytes >= this.options.logRewriteBytes;
    const wanted = grown && (large || this.ctx.buggify('raft.rewrite-log-early'));
    if (!wanted && !this.rewriteBeforeAppending) {
      return false;
    }
    this.rewriteBeforeAppending = false; // a crash before the rename brings recovery back here
    const persistedIndex = this.core.persistedIndex;
    const durableEntries = this.core.entries(snapshot.lastIncludedIndex + 1, persistedIndex);
    const hardState = this.core.hardState();
    // Numbered on from the old log's batches, never from 0 again: the sync marks count up.
    const batch = this.nextBatch++;
    const bytes = encodeBatch(
      batch,
      [
        { type: 'snapshot-meta', meta: snapshot },
        ...durableEntries.map((entry) => ({ type: 'entry' as const, entry })),
        // The commit index may already cover entries not yet on disk.
        {
          type: 'hard-state',
          hardState: { ...hardState, commit: Math.min(hardState.commit, persistedIndex) },
        },
      ],
      true,
    );
    this.ctx.disk.remove(this.files.logTemp);
    this.ctx.disk.write(this.files.logTemp, 0, bytes);
    this.lastRewriteBytes = bytes.length;
    this.rewriteShedsAllKeptAtIndex = Math.max(persistedIndex, snapshot.lastIncludedIndex + 1);
    this.persisting = {
      stage: 'rewrite',
      syncId: this.ctx.disk.fsync(this.files.logTemp),
      batch,
    };
    this.observe({
      type: 'log-rewritten',
      bytes: bytes.length,
      snapshotIndex: snapshot.lastIncludedIndex,
    });
    return true;
  }

  /** Bytes in the group's log file (MIT's persister.RaftStateSize). */
  get logBytes(): number {
    return this.ctx.disk.size(this.files.log);
  }

  get snapshotBytes(): number {
    return this.ctx.disk.size(this.files.snapshot);
  }

  /** A god's-eye view for invariants; undefined while the group refuses to start. */
  inspect(): RaftNodeView | undefined {
    if (!this.running) {
      return undefined;
    }
    // One long-lived view whose getters read the live core: invariants call inspect() on
    // most observations, and building a fresh object with closures each time showed up.
    this.view ??= new LiveRaftView(this);
    return this.view;
  }
}

interface GroupFiles {
  log: string;
  logTemp: string;
  snapshot: string;
  snapshotTemp: string;
  syncMarks: string;
}

function groupFiles(prefix: string): GroupFiles {
  return {
    syncMarks: `${prefix}${SYNC_MARKS_FILE}`,
    log: `${prefix}${LOG_FILE}`,
    logTemp: `${prefix}${LOG_FILE}.tmp`,
    snapshot: `${prefix}${SNAPSHOT_FILE}`,
    snapshotTemp: `${prefix}${SNAPSHOT_FILE}.tmp`,
  };
}

class LiveRaftView implements RaftNodeView {
  constructor(private readonly node: RaftGroup) {}
  get group() {
    return this.node.id;
  }
  raftGroup(group?: string): RaftInspect | undefined {
    return group === undefined || group === this.node.id ? this : undefined;
  }
  get role() {
    return this.node.core.role;
  }
  get term() {
    return this.node.core.term;
  }
  get vote() {
    return this.node.core.vote;
  }
  get leader() {
    return this.node.core.leader;
  }
  get electionElapsedTicks() {
    return this.node.core.electionElapsedTicks;
  }
  get commitIndex() {
    return this.node.core.commitIndex;
  }
  get appliedIndex() {
    return this.node.core.appliedIndex;
  }
  get firstIndex() {
    return this.node.core.firstIndex;
  }
  get lastIndex() {
    return this.node.core.lastIndex;
  }
  get snapshotIndex() {
    return this.node.core.snapshotMeta.lastIncludedIndex;
  }
  get snapshotTerm() {
    return this.node.core.snapshotMeta.lastIncludedTerm;
  }
  get voters() {
    return this.node.core.voters;
  }
  get appliedDigests() {
    return this.node.appliedDigests;
  }
  get recovered() {
    return this.node.recovered;
  }
  get stateMachine() {
    return this.node.stateMachine;
  }
  termAt(index: number): number | undefined {
    return this.node.core.termAt(index);
  }
  /** Only where the state machine declares fresh(): the checkers then count on a rebuild. */
  get rebuildStateMachine() {
    return this.node.stateMachine.fresh === undefined ? undefined : this.rebuild;
  }
  private readonly rebuild = (snapshot: Uint8Array | undefined, entries: readonly Entry[]) => {
    const machine = this.node.stateMachine.fresh?.();
    if (machine === undefined) {
      return undefined;
    }
    if (snapshot !== undefined) {
      machine.restore(snapshot);
    }
    for (const entry of entries) {
      if (entry.kind === 'command') {
        machine.apply(entry);
      }
    }
    return digestValue(machine.snapshot());
  };
  digestAt(index: number): number | undefined {
    const entry = this.node.core.entryAt(index);
    return entry === undefined ? undefined : entryDigest(entry.kind, entry.data);
  }
}

/** The inspect() contract of the Raft invariants, plus the replicated application. */
export interface RaftNodeView extends RaftInspect {
  readonly stateMachine: StateMachine;
}
