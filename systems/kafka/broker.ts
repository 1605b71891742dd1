// A broker: holds replicas of partitions as PartitionLogs on its disk, learns leadership from
// the controller through its heartbeats, and replicates.
//
// As a partition's leader it appends produced records (deduplicating an idempotent producer's
// retries by sequence), serves followers' fetches, and keeps the high watermark at the
// smallest durable offset of its ISR; acks=all produce requests are answered once the HW has
// passed them, acks=1 once its own log is durable there. It shrinks the ISR of a follower that
// has not caught up for replica.lag.time.max and readmits one that has, through the controller
// (AlterPartition), and uses a shrunk ISR only once the controller has accepted it.
//
// As a follower it fetches from the leader with the epoch of its last record (KIP-320): where
// the leader's log holds that epoch only up to a lower offset, the logs diverged, and the
// follower truncates to where that epoch ends on both (KIP-101/279) before fetching again. With
// `leaderEpochs` off it truncates to its high watermark instead (the pre-KIP-101 protocol).
//
// Every HW_CHECKPOINT_EVERY_US the broker saves its replicas' high watermarks to a checksummed
// file (Kafka's replication-offset-checkpoint) and starts from them after a restart, so the
// pre-KIP-101 truncation cuts to a watermark that lags by one checkpoint interval — KIP-101's
// first data-loss story — rather than to nothing.
import { assert, fail } from '../../sim/assert.ts';
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { DurableCell } from '../durable-cell.ts';
import type {
  BecameLeaderObservation,
  BrokerInspect,
  KafkaKey,
  LogStartAdvancedObservation,
  PartitionReplicaInspect,
} from './contract.ts';
import { GroupCoordinator, offsetsRecordKey } from './coordinator.ts';
import {
  allPartitionsLayout,
  type ClientReply,
  type ClientRequest,
  type ControllerReply,
  decodeValue,
  encodeValue,
  type GroupReply,
  type GroupRequest,
  type KafkaConfig,
  kafkaConfig,
  OFFSETS_KEY,
  PRODUCE_RECORDS_MAX,
  payloadText,
  type ReplicaFetch,
  type ReplicaFetchResponse,
  textPayload,
  type WireBatch,
} from './messages.ts';
import type { PartitionState } from './metadata.ts';
import {
  DEFAULT_PARTITION_LOG_CONFIG,
  PartitionLog,
  type RecoveryStatus,
  type StoredRecord,
} from './partition-log.ts';
import { offsetOfRetry, type ProducerEntry, ProducerState } from './producer-state.ts';

const TICK_US = 10_000;
/** Kafka's replica.high.watermark.checkpoint.interval.ms is 5 s; runs here last seconds. */
const HW_CHECKPOINT_EVERY_US = 1_000_000;
const HW_CHECKPOINT_FILE = 'replication-offset-checkpoint';
/** A checkpoint body must fit the durable cell's one sector. */
const CHECKPOINT_PARTITIONS_MAX = 16;
const FETCH_BYTES_MAX = 4096;
const PENDING_PRODUCE_MAX = 1024;
/** Records of the offsets partition below its HW that compaction leaves alone (a lag). */
const COMPACTION_LAG_OFFSETS = 16;
const ALTER_BACKOFF_US = 100_000;
/** Reads a coordinator makes at most to load the offsets partition. */
const LOAD_READS_MAX = 100_000;

export type KafkaBug =
  | 'hw-advanced-before-isr-ack'
  | 'no-producer-dedup-after-failover'
  | 'fetch-beyond-hw'
  | 'stale-generation-commit-accepted'
  | 'damaged-tail-cut-as-torn'
  | 'elr-hw-moves-below-min-isr';

interface FollowerState {
  logEnd: number;
  durable: number;
  lastCaughtUpUs: number;
}

interface PendingProduce {
  /** The batch's first offset: what the producer is told. */
  offset: number;
  /** Its last: acknowledged once this is below the high watermark (or durable, acks=1). */
  lastOffset: number;
  client: NodeId;
  id: string;
  acks: 'all' | '1';
  deadlineUs: number;
}

class Replica {
  role: 'leader' | 'follower' | 'offline' = 'offline';
  leader: NodeId = -1;
  leaderEpoch = 0;
  partitionEpoch = 0;
  isr: NodeId[] = [];
  highWatermark = 0;
  /**
   * As leader: its log end when it took this leader epoch (Kafka's leader epoch start
   * offset). A follower is readmitted only once its log is durable up to there: below it lie
   * records the previous leader may have committed that this one's HW does not show yet.
   */
  epochStartOffset = 0;
  readonly followers = new Map<NodeId, FollowerState>();
  readonly producerState: ProducerState;
  readonly producers: Map<number, ProducerEntry>;
  /** The active segment's base offset at the last producer snapshot (-1: none yet). */
  snapshotBase = -1;
  pending: PendingProduce[] = [];
  fetchSentUs = -1;
  /** The fetchId of the fetch whose response this follower awaits (-1: none). */
  outstandingFetchId = -1;
  alterInFlight: { id: number; sentUs: number } | null = null;
  /** After a refused AlterPartition, none before this (monotonic µs). */
  alterRetryAtUs = 0;
  /**
   * Brokers this leader asked the controller to readmit, with the partition epoch it asked
   * at, whose fate it does not know yet: the controller may have accepted (and may elect
   * them), so the HW counts them as in the ISR (Kafka's "maximal ISR") until a partition state
   * past that epoch says how it went. A timeout settles nothing.
   */
  readonly pendingIsr = new Map<NodeId, number>();

  constructor(
    readonly key: KafkaKey,
    readonly replicas: readonly NodeId[],
    readonly log: PartitionLog,
    producerState: ProducerState,
  ) {
    this.producerState = producerState;
    this.producers = producerState.producers;
  }

  /** The epoch of the record just below `offset`, -1 when none. */
  epochBelow(offset: number): number {
    const entries = this.log.epochEntries;
    for (let at = entries.length - 1; at >= 0; at--) {
      const entry = entries[at] as { epoch: number; startOffset: number };
      if (entry.startOffset < offset) {
        return entry.epoch;
      }
    }
    return -1;
  }

  noteProducer(
    producerId: number,
    firstSequence: number,
    count: number,
    firstOffset: number,
  ): void {
    this.producerState.note(producerId, firstSequence, count, firstOffset);
  }

  /** Rebuilds producer state from its snapshot and the log (after a restart or a truncation). */
  rebuildProducers(): void {
    this.producerState.rebuild(this.log);
  }
}

export class BrokerNode implements NodeProgram {
  private readonly config: KafkaConfig;
  private readonly bugs: ReadonlySet<KafkaBug>;
  private readonly replicas = new Map<KafkaKey, Replica>();
  private readonly controllers: readonly NodeId[];
  private controller: NodeId;
  private session = 0;
  /**
   * Partitions whose logs recovery found damaged (records that had been durable: a media
   * fault), with why. Such a log is never served, replicated from or cut to fit (an
   * acknowledged record may be gone from it): the broker registers with the damage, the
   * controllers take it out of those partitions' ISRs (even as the last member) and
   * leaderships, and only once they have let this session in does it delete the damaged
   * copy and copy the partition afresh from its leader, as a follower outside the ISR until
   * it has caught up. Its healthy partitions carry on meanwhile (as Kafka does with one
   * failed log directory of several).
   */
  private readonly damaged = new Map<KafkaKey, string>();
  /** The newest state the controllers sent for each partition, ours or not. */
  private readonly partitionStates = new Map<KafkaKey, PartitionState>();
  private metadataVersion = 0;
  private fenced = true;
  /** Leaders of every partition as this broker last heard, for clients' metadata requests. */
  private readonly leaders = new Map<KafkaKey, NodeId>();
  private nextAlterId = 1;
  /** Replica fetch correlation ids, unique within this session (fetches carry both). */
  private nextFetchId = 1;
  private view: BrokerInspect | undefined;
  /** With consumer groups: active while this broker leads the offsets partition. */
  private readonly coordinator: GroupCoordinator | undefined;
  private readonly hwCheckpoint: DurableCell<Record<KafkaKey, number>>;
  private hwCheckpointDueUs = 0;
  /** The high watermarks last saved (or being saved), to skip a save that changes nothing. */
  private hwCheckpointed: Record<KafkaKey, number> = {};

  constructor(
    private readonly ctx: NodeContext,
    bugs: ReadonlySet<KafkaBug> = new Set(),
  ) {
    this.config = kafkaConfig(ctx.workload);
    this.bugs = bugs;
    this.controllers = ctx.members('controllers');
    this.controller = this.controllers[0] as NodeId;
    this.coordinator = this.config.consumerGroups
      ? new GroupCoordinator(
          {
            now: () => this.ctx.monotonic(),
            append: (payloads) => this.appendOffsets(payloads),
            reply: (client, reply) => this.reply(client, reply),
            observe: (observation) => this.ctx.observe(observation),
          },
          this.config,
          this.bugs.has('stale-generation-commit-accepted'),
        )
      : undefined;
    this.hwCheckpoint = new DurableCell(ctx, HW_CHECKPOINT_FILE, parseHwCheckpoint);
  }

  onStart(): void {
    this.session = 1 + this.ctx.random.int(2 ** 30);
    const checkpoint = this.hwCheckpoint.load() ?? {};
    this.hwCheckpointed = checkpoint;
    this.hwCheckpointDueUs = this.ctx.monotonic() + HW_CHECKPOINT_EVERY_US;
    for (const { key, replicas } of allPartitionsLayout(
      this.config,
      this.ctx.members(this.ctx.group),
    )) {
      if (replicas.includes(this.ctx.id)) {
        this.openReplica(key, replicas, checkpoint[key] ?? 0);
      }
    }
    assert(this.replicas.size <= CHECKPOINT_PARTITIONS_MAX, 'too many partitions to checkpoint');
    this.heartbeat();
    this.ctx.setTimer(TICK_US, 'tick');
  }

  /** Opens this broker's copy of a partition from its files; a damaged one stays closed. */
  private openReplica(key: KafkaKey, replicas: readonly NodeId[], checkpointedHw: number): void {
    const { log, recovery } = PartitionLog.open(this.ctx.disk, {
      ...DEFAULT_PARTITION_LOG_CONFIG,
      segmentBytes: this.config.segmentBytes,
      dir: `${key}/`,
      compacted: key === OFFSETS_KEY && this.config.compactOffsets,
      recoveryPoints: this.config.recoveryPoints && !this.bugs.has('damaged-tail-cut-as-torn'),
    });
    if (recovery.status.kind !== 'clean') {
      this.ctx.observe({ type: 'kafka-log-recovered', key, status: recovery.status.kind });
    }
    if (recovery.status.kind === 'corrupt') {
      this.noteDamage(key, recovery.status);
      return;
    }
    const producerState = new ProducerState(this.ctx.disk, `${key}/`, this.retains(key));
    const replica = new Replica(key, replicas, log, producerState);
    // Never above what the log holds now (a crash may have cut its unsynced tail), never
    // below its start (retention deletes only below the high watermark).
    replica.highWatermark = Math.max(
      log.logStartOffset,
      Math.min(checkpointedHw, log.logEndOffset),
    );
    if (replica.highWatermark > 0) {
      this.ctx.observe({
        type: 'kafka-hw-restored',
        key,
        highWatermark: replica.highWatermark,
        logEndOffset: log.logEndOffset,
      });
    }
    replica.rebuildProducers();
    replica.snapshotBase = log.activeBaseOffset;
    log.onDurable = () => this.onDurable(replica);
    this.replicas.set(key, replica);
    this.view = undefined; // the inspect view lists the replicas open
  }

  /** Damaged durable records in partition `key`: see `damaged`. */
  private noteDamage(key: KafkaKey, status: RecoveryStatus & { kind: 'corrupt' }): void {
    this.damaged.set(key, status.reason);
    this.ctx.log('a partition log holds damaged durable records', { key, reason: status.reason });
    this.ctx.observe({
      type: 'kafka-corruption-detected',
      key,
      file: status.file,
      offset: status.offset,
      reason: status.reason,
    });
  }

  /**
   * The controllers have let this session in, so its registration, and the damage it named,
   * is in the metadata: our copies of the damaged partitions are out of their ISRs. Delete
   * them and start each afresh, empty, as a follower of whatever the metadata says.
   */
  private recopyDamaged(): void {
    for (const key of [...this.damaged.keys()].sort()) {
      for (const file of this.ctx.disk.list()) {
        if (file.startsWith(`${key}/`)) {
          this.ctx.disk.remove(file);
        }
      }
      this.damaged.delete(key);
      const layout = allPartitionsLayout(this.config, this.ctx.members(this.ctx.group)).find(
        (partition) => partition.key === key,
      );
      if (layout === undefined) {
        fail(`no partition ${key} in the layout`);
      }
      this.openReplica(key, layout.replicas, 0);
      this.ctx.observe({ type: 'kafka-partition-recopied', key });
      const state = this.partitionStates.get(key);
      if (state !== undefined) {
        this.applyPartitionState(state);
      }
    }
  }

  /** Saves the high watermarks when the interval is up and one has moved since the last save. */
  private checkpointHighWatermarks(now: number): void {
    if (now < this.hwCheckpointDueUs || this.hwCheckpoint.busy()) {
      return;
    }
    this.hwCheckpointDueUs = now + HW_CHECKPOINT_EVERY_US;
    const highWatermarks: Record<KafkaKey, number> = {};
    let moved = false;
    for (const replica of this.replicas.values()) {
      highWatermarks[replica.key] = replica.highWatermark;
      moved ||= this.hwCheckpointed[replica.key] !== replica.highWatermark;
    }
    if (moved) {
      this.hwCheckpointed = highWatermarks;
      this.hwCheckpoint.save(highWatermarks, () => {});
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    if (this.hwCheckpoint.onSynced(syncId, ok)) {
      return;
    }
    for (const replica of this.replicas.values()) {
      if (replica.log.onSynced(syncId, ok) || replica.producerState.onSynced(syncId, ok)) {
        return;
      }
    }
  }

  onTimer(tag: string): void {
    if (tag === 'heartbeat') {
      this.heartbeat();
    } else if (tag === 'tick') {
      this.tick();
      this.ctx.setTimer(TICK_US, 'tick');
    }
  }

  private heartbeat(): void {
    this.ctx.send(
      this.controller,
      {
        type: 'ctl-heartbeat',
        session: this.session,
        version: this.metadataVersion,
        ...(this.damaged.size > 0 ? { damaged: [...this.damaged.keys()].sort() } : {}),
      },
      32,
    );
    this.ctx.setTimer(this.config.heartbeatUs, 'heartbeat');
  }

  onMessage(from: NodeId, message: SimMessage): void {
    switch (message.type) {
      case 'ctl-not-leader':
      case 'ctl-heartbeat-ok':
      case 'ctl-alter-result':
        this.onControllerReply(from, message as unknown as ControllerReply);
        return;
      case 'replica-fetch':
        this.onReplicaFetch(from, message as unknown as ReplicaFetch);
        return;
      case 'replica-fetch-response':
        this.onReplicaFetchResponse(from, message as unknown as ReplicaFetchResponse);
        return;
      case 'produce':
      case 'consume':
      case 'metadata':
        this.onClientRequest(from, message as unknown as ClientRequest);
        return;
      case 'find-coordinator':
      case 'join-group':
      case 'sync-group':
      case 'group-heartbeat':
      case 'leave-group':
      case 'offset-commit':
      case 'offset-fetch':
        this.onGroupRequest(from, message as unknown as GroupRequest);
        return;
      default:
        return;
    }
  }

  // ---- metadata ----------------------------------------------------------------------------

  private onControllerReply(from: NodeId, reply: ControllerReply): void {
    switch (reply.type) {
      case 'ctl-not-leader': {
        const at = this.controllers.indexOf(this.controller);
        this.controller =
          reply.hint !== null && this.controllers.includes(reply.hint)
            ? reply.hint
            : (this.controllers[(at + 1) % this.controllers.length] as NodeId);
        return;
      }
      case 'ctl-heartbeat-ok': {
        if (reply.session !== this.session) {
          // The answer to our previous incarnation's heartbeat, delivered late: its "not
          // fenced" is about a session that is gone, and acting on it would let this restarted
          // broker lead the epochs it led before it lost its unsynced tail.
          return;
        }
        this.controller = from;
        const wasFenced = this.fenced;
        this.fenced = reply.fenced;
        if (reply.partitions !== null && reply.version > this.metadataVersion) {
          this.metadataVersion = reply.version;
          for (const partition of reply.partitions) {
            this.applyPartitionState(partition);
          }
        }
        if (!this.fenced && this.damaged.size > 0) {
          this.recopyDamaged();
        }
        if (wasFenced && !this.fenced) {
          // Let back in: lead what the metadata says we lead, which we held back from while
          // fenced (in the ZooKeeper-era protocol a restarted leader resumes its epoch; with
          // KRaft's fencing such an epoch has moved on before we are let back in).
          for (const replica of this.replicas.values()) {
            if (replica.role === 'offline' && replica.leader === this.ctx.id) {
              this.becomeLeader(replica);
            }
          }
        }
        return;
      }
      case 'ctl-alter-result': {
        const replica = [...this.replicas.values()].find(
          (candidate) => candidate.alterInFlight?.id === reply.id,
        );
        if (replica !== undefined) {
          replica.alterInFlight = null;
          if (!reply.ok) {
            replica.alterRetryAtUs = this.ctx.monotonic() + ALTER_BACKOFF_US;
          }
        }
        // Even the answer to a request given up on says what the partition is now.
        if (reply.partition !== null) {
          this.applyPartitionState(reply.partition);
        }
        return;
      }
    }
  }

  private applyPartitionState(state: PartitionState): void {
    this.leaders.set(state.key, state.leader);
    this.partitionStates.set(state.key, state);
    const replica = this.replicas.get(state.key);
    if (replica === undefined || state.leaderEpoch < replica.leaderEpoch) {
      return; // not ours, or older than what we know
    }
    const sameEpoch = state.leaderEpoch === replica.leaderEpoch;
    if (sameEpoch && state.partitionEpoch <= replica.partitionEpoch) {
      return;
    }
    replica.partitionEpoch = state.partitionEpoch;
    replica.isr = [...state.isr];
    for (const [node, askedAt] of replica.pendingIsr) {
      if (askedAt < state.partitionEpoch) {
        replica.pendingIsr.delete(node); // settled: this state is past the request
      }
    }
    if (sameEpoch && replica.role !== 'offline') {
      this.advanceHighWatermark(replica); // only the ISR changed
      return;
    }
    replica.leaderEpoch = state.leaderEpoch;
    replica.leader = state.leader;
    this.failPending(replica);
    if (replica.key === OFFSETS_KEY) {
      this.coordinator?.deactivate();
    }
    if (state.leader === this.ctx.id && !this.fenced) {
      this.becomeLeader(replica);
    } else if (state.leader >= 0 && state.leader !== this.ctx.id) {
      this.becomeFollower(replica);
    } else {
      // No leader; or us, in metadata from before our registration fenced that leadership
      // (a restarted leader must not lead the epoch it led before it lost its page cache).
      replica.role = 'offline';
    }
  }

  private becomeLeader(replica: Replica): void {
    replica.role = 'leader';
    replica.epochStartOffset = replica.log.logEndOffset;
    replica.followers.clear();
    const now = this.ctx.monotonic();
    for (const node of replica.replicas) {
      if (node !== this.ctx.id) {
        replica.followers.set(node, { logEnd: -1, durable: -1, lastCaughtUpUs: now });
      }
    }
    if (this.bugs.has('no-producer-dedup-after-failover')) {
      replica.producers.clear(); // the bug: a new leader starts without the producers' state
    }
    this.ctx.observe({
      type: 'kafka-became-leader',
      key: replica.key,
      leaderEpoch: replica.leaderEpoch,
      logEndOffset: replica.log.logEndOffset,
      latestLogEpoch: replica.log.latestEpoch,
      session: this.session,
      fencesRestarts: this.config.leaderEpochs,
    } satisfies BecameLeaderObservation);
    if (replica.key === OFFSETS_KEY && this.coordinator !== undefined) {
      this.coordinator.activate(replica.leaderEpoch, this.readAll(replica), replica.highWatermark);
    }
    this.advanceHighWatermark(replica);
  }

  /** The whole log of a replica as text records, for the coordinator's load. */
  private readAll(replica: Replica): { offset: number; text: string }[] {
    const out: { offset: number; text: string }[] = [];
    let from = replica.log.logStartOffset;
    for (let reads = 0; from < replica.log.logEndOffset; reads++) {
      assert(reads < LOAD_READS_MAX, 'offsets partition load does not end');
      const records = replica.log.read(from, 64 * FETCH_BYTES_MAX) ?? [];
      const last = records[records.length - 1];
      if (last === undefined) {
        break;
      }
      for (const record of records) {
        out.push({ offset: record.offset, text: payloadText(record.payload) });
      }
      from = last.offset + 1;
    }
    return out;
  }

  /** The coordinator's append to the offsets partition (as its leader, acks=all). */
  private appendOffsets(payloads: string[]): number | undefined {
    const replica = this.replicas.get(OFFSETS_KEY);
    if (
      replica === undefined ||
      replica.role !== 'leader' ||
      replica.isr.length < this.config.minInsyncReplicas
    ) {
      return undefined;
    }
    const { lastOffset } = replica.log.append({
      leaderEpoch: replica.leaderEpoch,
      producerId: -1,
      producerEpoch: 0,
      baseSequence: -1,
      records: payloads.map(textPayload),
    });
    return lastOffset + 1;
  }

  private onGroupRequest(client: NodeId, request: GroupRequest): void {
    if (this.coordinator === undefined) {
      return; // no consumer groups in this cluster
    }
    if (request.type === 'find-coordinator') {
      this.reply(client, {
        type: 'find-coordinator-ok',
        id: request.id,
        coordinator: this.leaders.get(OFFSETS_KEY) ?? -1,
      });
      return;
    }
    this.coordinator.onRequest(client, request);
  }

  private becomeFollower(replica: Replica): void {
    replica.role = 'follower';
    replica.followers.clear();
    replica.alterInFlight = null;
    replica.fetchSentUs = -1;
    if (!this.config.leaderEpochs) {
      // Pre-KIP-101: what lies above the high watermark may not be the leader's; cut it.
      this.truncate(replica, replica.highWatermark);
    }
    this.sendFetch(replica);
  }

  // ---- follower ----------------------------------------------------------------------------

  private tick(): void {
    const now = this.ctx.monotonic();
    this.checkpointHighWatermarks(now);
    for (const replica of this.replicas.values()) {
      if (replica.producerState.snapshots) {
        this.retain(replica);
      }
      if (replica.log.config.compacted === true) {
        // The cleaner: below the high watermark and the durable end, with a lag, so the
        // newest records (which checkers compare across replicas) stay as written.
        const keepFrom =
          Math.min(replica.highWatermark, replica.log.durableEndOffset) - COMPACTION_LAG_OFFSETS;
        if (replica.log.compact(keepFrom, (payload) => offsetsRecordKey(payloadText(payload)))) {
          this.ctx.observe({ type: 'kafka-offsets-compacting', key: replica.key });
        }
      }
      if (replica.role === 'follower') {
        if (replica.fetchSentUs < 0 || now - replica.fetchSentUs >= this.config.requestTimeoutUs) {
          this.sendFetch(replica);
        }
      } else if (replica.role === 'leader') {
        this.leaderTick(replica, now);
      }
    }
    this.coordinator?.tick();
  }

  /** Retention is on for this partition (never for the offsets partition, which is compacted). */
  private retains(key: KafkaKey): boolean {
    return this.config.retentionBytes > 0 && key !== OFFSETS_KEY;
  }

  /**
   * On every tick, with retention on: a producer-state snapshot once a segment has rolled,
   * then the oldest segments deleted while the log is over retention.bytes, none holding an
   * offset at or above the high watermark or past the newest durable snapshot.
   */
  private retain(replica: Replica): void {
    const log = replica.log;
    if (log.activeBaseOffset !== replica.snapshotBase) {
      replica.producerState.takeSnapshot(log.logEndOffset);
      replica.snapshotBase = log.activeBaseOffset;
    }
    const keepFrom = Math.min(
      replica.highWatermark,
      replica.producerState.deletableBelow(log.durableEndOffset),
    );
    const before = log.logStartOffset;
    if (log.deleteOldSegments(this.config.retentionBytes, keepFrom) > before) {
      this.logStartAdvanced(replica, 'retention');
    }
  }

  /** The replica's log start moved up: old snapshots go, and the checkers hear of it. */
  private logStartAdvanced(replica: Replica, reason: LogStartAdvancedObservation['reason']): void {
    replica.producerState.deleteBelow(replica.log.logStartOffset);
    this.ctx.observe({
      type: 'kafka-log-start-advanced',
      key: replica.key,
      reason,
      logStartOffset: replica.log.logStartOffset,
      highWatermark: replica.highWatermark,
    } satisfies LogStartAdvancedObservation);
  }

  private sendFetch(replica: Replica): void {
    const log = replica.log;
    const fetch: ReplicaFetch = {
      type: 'replica-fetch',
      key: replica.key,
      fetchId: this.nextFetchId++,
      session: this.session,
      leaderEpoch: replica.leaderEpoch,
      fetchOffset: log.logEndOffset,
      lastFetchedEpoch: this.config.leaderEpochs ? replica.epochBelow(log.logEndOffset) : -1,
      durableOffset: this.ackableEnd(log),
    };
    replica.fetchSentUs = this.ctx.monotonic();
    replica.outstandingFetchId = fetch.fetchId;
    this.ctx.send(replica.leader, fetch as unknown as SimMessage, 48);
  }

  private onReplicaFetchResponse(from: NodeId, response: ReplicaFetchResponse): void {
    const replica = this.replicas.get(response.key);
    if (
      replica === undefined ||
      replica.role !== 'follower' ||
      from !== replica.leader ||
      response.fetchId !== replica.outstandingFetchId ||
      response.session !== this.session ||
      response.leaderEpoch !== replica.leaderEpoch ||
      response.fetchOffset !== replica.log.logEndOffset
    ) {
      // Stale, duplicated, or for a fetch the log has moved past. The id matters: a duplicated
      // diverging response, applied after the follower truncated and appended back up to the
      // same fetch offset, would cut a record the leader already counts as replicated.
      return;
    }
    replica.outstandingFetchId = -1;
    replica.fetchSentUs = -1;
    if (response.error === 'offset-out-of-range') {
      // Retention on the leader deleted what we would fetch next: start over at its log start
      // (Kafka's truncateFullyAndStartAt); what we held below it is gone from the leader too.
      assert(
        response.logStartOffset > replica.log.logEndOffset,
        'out of range only below the leader log start',
      );
      replica.log.truncateFullyAndStartAt(response.logStartOffset);
      replica.producerState.clearAll();
      replica.snapshotBase = replica.log.activeBaseOffset;
      replica.highWatermark = Math.max(replica.highWatermark, response.logStartOffset);
      this.logStartAdvanced(replica, 'truncate-fully');
      this.sendFetch(replica);
      return;
    }
    if (response.error !== null) {
      // The leader is ahead of or behind us in epochs: wait for the metadata to settle it.
      replica.fetchSentUs = this.ctx.monotonic();
      return;
    }
    if (response.diverging !== null) {
      // Truncate to where the diverging epoch ends on both logs (KIP-101/279); with no epoch
      // in common, to the leader's end (pre-KIP-101: the leader's log end) or to nothing.
      const { epoch, endOffset } = response.diverging;
      const log = replica.log;
      let cut: number;
      if (epoch < 0) {
        cut = endOffset < 0 ? log.logStartOffset : Math.min(endOffset, log.logEndOffset);
      } else {
        const mine = log.endOffsetForEpoch(epoch);
        cut = mine.epoch < 0 ? log.logStartOffset : Math.min(endOffset, mine.endOffset);
      }
      this.ctx.observe({
        type: 'kafka-diverged',
        key: replica.key,
        truncateTo: cut,
        logEndOffset: log.logEndOffset,
      });
      this.truncate(replica, cut);
      this.sendFetch(replica);
      return;
    }
    for (const batch of response.batches) {
      // A compacted leader's log has gaps, and so has ours where we copy one.
      const gap =
        replica.log.config.compacted === true && batch.baseOffset > replica.log.logEndOffset;
      if ((batch.baseOffset !== replica.log.logEndOffset && !gap) || batch.payloads.length === 0) {
        break;
      }
      replica.log.append(
        {
          leaderEpoch: batch.leaderEpoch,
          producerId: batch.producerId,
          producerEpoch: 0,
          baseSequence: batch.baseSequence,
          records: batch.payloads.map(textPayload),
        },
        batch.baseOffset,
      );
      replica.noteProducer(
        batch.producerId,
        batch.baseSequence,
        batch.payloads.length,
        batch.baseOffset,
      );
    }
    replica.highWatermark = Math.max(
      replica.highWatermark,
      Math.min(response.highWatermark, replica.log.logEndOffset),
    );
    if (replica.producerState.snapshots && response.logStartOffset > replica.log.logStartOffset) {
      // The leader's log start moved up (its retention): ours follows, as far as our own high
      // watermark and producer snapshots allow.
      const upTo = Math.min(
        response.logStartOffset,
        replica.highWatermark,
        replica.producerState.deletableBelow(replica.log.durableEndOffset),
      );
      const before = replica.log.logStartOffset;
      if (replica.log.advanceLogStartTo(upTo) > before) {
        this.logStartAdvanced(replica, 'leader-log-start');
      }
    }
    if (response.batches.length > 0) {
      this.sendFetch(replica); // more may be waiting
    } else {
      replica.fetchSentUs =
        this.ctx.monotonic() - this.config.requestTimeoutUs + this.config.fetchIntervalUs;
    }
  }

  private truncate(replica: Replica, offset: number): void {
    if (offset >= replica.log.logEndOffset) {
      return;
    }
    const fully = offset <= replica.log.logStartOffset;
    replica.log.truncateTo(offset);
    replica.highWatermark = Math.min(replica.highWatermark, replica.log.logEndOffset);
    if (fully) {
      replica.producerState.clearAll(); // nothing left that a snapshot could describe
    } else {
      replica.producerState.deleteAbove(replica.log.logEndOffset);
    }
    replica.rebuildProducers();
    replica.snapshotBase = replica.log.activeBaseOffset;
  }

  // ---- leader ------------------------------------------------------------------------------

  private onReplicaFetch(from: NodeId, fetch: ReplicaFetch): void {
    const replica = this.replicas.get(fetch.key);
    const respond = (fields: Partial<ReplicaFetchResponse>, sizeBytes = 48) => {
      const response: ReplicaFetchResponse = {
        type: 'replica-fetch-response',
        key: fetch.key,
        fetchId: fetch.fetchId,
        session: fetch.session,
        leaderEpoch: fetch.leaderEpoch,
        fetchOffset: fetch.fetchOffset,
        error: null,
        diverging: null,
        batches: [],
        highWatermark: replica?.highWatermark ?? 0,
        logStartOffset: replica?.log.logStartOffset ?? 0,
        ...fields,
      };
      this.ctx.send(from, response as unknown as SimMessage, sizeBytes);
    };
    if (replica === undefined || replica.role !== 'leader') {
      respond({ error: 'not-leader' });
      return;
    }
    if (fetch.leaderEpoch !== replica.leaderEpoch) {
      respond({
        error: fetch.leaderEpoch < replica.leaderEpoch ? 'fenced-epoch' : 'unknown-epoch',
      });
      return;
    }
    const log = replica.log;
    if (fetch.fetchOffset < log.logStartOffset) {
      respond({ error: 'offset-out-of-range' });
      return;
    }
    const here = log.endOffsetForEpoch(fetch.lastFetchedEpoch);
    const diverged =
      fetch.fetchOffset > log.logEndOffset ||
      (fetch.lastFetchedEpoch >= 0 &&
        (here.epoch !== fetch.lastFetchedEpoch || here.endOffset < fetch.fetchOffset));
    if (diverged) {
      respond({
        diverging: fetch.lastFetchedEpoch >= 0 ? here : { epoch: -1, endOffset: log.logEndOffset },
      });
      return;
    }
    const follower = replica.followers.get(from);
    if (follower !== undefined) {
      follower.logEnd = fetch.fetchOffset;
      follower.durable = Math.min(fetch.durableOffset, fetch.fetchOffset);
      if (fetch.fetchOffset >= log.logEndOffset) {
        follower.lastCaughtUpUs = this.ctx.monotonic();
      }
      this.maybeExpandIsr(replica, from, follower);
      this.advanceHighWatermark(replica);
    }
    const records = log.read(fetch.fetchOffset, FETCH_BYTES_MAX) ?? [];
    const batches = toWireBatches(records);
    respond({ batches, highWatermark: replica.highWatermark }, 48 + 16 * records.length);
  }

  private maybeExpandIsr(replica: Replica, node: NodeId, follower: FollowerState): void {
    if (replica.isr.includes(node) || replica.alterInFlight !== null) {
      return;
    }
    // Durable, not just written, up to both: an ISR member must survive its own crash with
    // every committed record (it may be the last member, or an eligible leader replica).
    // Below the epoch start lie records the previous leader may have committed.
    const caughtUp =
      follower.durable >= replica.highWatermark && follower.durable >= replica.epochStartOffset;
    if (caughtUp) {
      this.alterIsr(replica, [...replica.isr, node]);
    }
  }

  private leaderTick(replica: Replica, now: number): void {
    if (
      replica.alterInFlight !== null &&
      now - replica.alterInFlight.sentUs > this.config.requestTimeoutUs
    ) {
      replica.alterInFlight = null;
    }
    this.expirePending(replica);
    if (replica.alterInFlight !== null) {
      return;
    }
    const lagging = replica.isr.filter((node) => {
      const follower = replica.followers.get(node);
      return (
        node !== this.ctx.id &&
        follower !== undefined &&
        now - follower.lastCaughtUpUs > this.config.replicaLagMaxUs
      );
    });
    if (lagging.length > 0) {
      this.alterIsr(
        replica,
        replica.isr.filter((node) => !lagging.includes(node)),
      );
    }
  }

  private alterIsr(replica: Replica, isr: NodeId[]): void {
    if (this.ctx.monotonic() < replica.alterRetryAtUs) {
      return;
    }
    const id = this.nextAlterId++;
    replica.alterInFlight = { id, sentUs: this.ctx.monotonic() };
    for (const node of isr) {
      if (!replica.isr.includes(node)) {
        replica.pendingIsr.set(node, replica.partitionEpoch);
      }
    }
    this.ctx.send(
      this.controller,
      {
        type: 'ctl-alter-partition',
        id,
        key: replica.key,
        leaderEpoch: replica.leaderEpoch,
        partitionEpoch: replica.partitionEpoch,
        isr,
      },
      48,
    );
    if (this.bugs.has('hw-advanced-before-isr-ack') && isr.length < replica.isr.length) {
      // The bug: use the shrunk ISR before the controller has accepted it.
      replica.isr = isr;
      this.advanceHighWatermark(replica);
    }
  }

  /**
   * HW = the smallest durable offset over the ISR, readmissions not yet settled included.
   * With eligible leader replicas (KIP-966) it stands still while the ISR is below
   * min.insync.replicas: the replicas that left it then may be elected, and must hold
   * everything below it.
   */
  private advanceHighWatermark(replica: Replica): void {
    if (replica.role !== 'leader') {
      return;
    }
    if (
      this.config.eligibleLeaderReplicas &&
      replica.isr.length < this.config.minInsyncReplicas &&
      !this.bugs.has('elr-hw-moves-below-min-isr')
    ) {
      this.completePending(replica);
      return;
    }
    let hw = this.ackableEnd(replica.log);
    for (const node of [...replica.isr, ...replica.pendingIsr.keys()]) {
      if (node === this.ctx.id) {
        continue;
      }
      const follower = replica.followers.get(node);
      hw = Math.min(
        hw,
        follower === undefined || follower.durable < 0 ? replica.highWatermark : follower.durable,
      );
    }
    if (hw > replica.highWatermark) {
      replica.highWatermark = hw;
      this.ctx.observe({
        type: 'kafka-hw',
        key: replica.key,
        highWatermark: hw,
        isr: replica.isr.length,
      });
    }
    this.completePending(replica);
    if (replica.key === OFFSETS_KEY) {
      this.coordinator?.onHighWatermark(replica.highWatermark);
    }
  }

  /** How far this broker's log may be counted on: durable, or (fsyncBeforeAck off) written. */
  private ackableEnd(log: PartitionLog): number {
    return this.config.fsyncBeforeAck ? log.durableEndOffset : log.logEndOffset;
  }

  private onDurable(replica: Replica): void {
    if (replica.role === 'leader') {
      this.advanceHighWatermark(replica);
    }
  }

  private completePending(replica: Replica): void {
    if (replica.pending.length === 0) {
      return;
    }
    const still: PendingProduce[] = [];
    for (const pending of replica.pending) {
      const done =
        pending.acks === '1'
          ? pending.lastOffset < this.ackableEnd(replica.log)
          : pending.lastOffset < replica.highWatermark;
      if (!done) {
        still.push(pending);
      } else if (pending.acks === 'all' && replica.isr.length < this.config.minInsyncReplicas) {
        this.reply(pending.client, {
          type: 'produce-error',
          id: pending.id,
          error: 'not-enough-replicas-after-append',
          definite: false,
        });
      } else {
        this.reply(pending.client, { type: 'produce-ok', id: pending.id, offset: pending.offset });
      }
    }
    replica.pending = still;
  }

  private expirePending(replica: Replica): void {
    const now = this.ctx.monotonic();
    const expired = replica.pending.filter((pending) => now >= pending.deadlineUs);
    if (expired.length === 0) {
      return;
    }
    replica.pending = replica.pending.filter((pending) => now < pending.deadlineUs);
    for (const pending of expired) {
      this.reply(pending.client, {
        type: 'produce-error',
        id: pending.id,
        error: 'timeout',
        definite: false,
      });
    }
  }

  /** Leadership moved: whatever was waiting may or may not survive it. */
  private failPending(replica: Replica): void {
    for (const pending of replica.pending) {
      this.reply(pending.client, {
        type: 'produce-error',
        id: pending.id,
        error: 'not-leader',
        definite: false,
      });
    }
    replica.pending = [];
  }

  // ---- clients -----------------------------------------------------------------------------

  private onClientRequest(client: NodeId, request: ClientRequest): void {
    if (request.type === 'metadata') {
      this.reply(client, {
        type: 'metadata-ok',
        id: request.id,
        leaders: Object.fromEntries(this.leaders),
      });
      return;
    }
    const replica = this.replicas.get(request.key);
    if (request.type === 'consume') {
      this.onConsume(client, replica, request);
      return;
    }
    if (replica === undefined || replica.role !== 'leader') {
      this.reply(client, {
        type: 'produce-error',
        id: request.id,
        error: 'not-leader',
        definite: true,
      });
      return;
    }
    const count = request.values.length;
    assert(count >= 1 && count <= PRODUCE_RECORDS_MAX, 'a produce request holds 1 to 16 records');
    const producer = replica.producers.get(request.producerId);
    const expected = producer === undefined ? 0 : producer.lastSequence + 1;
    if (producer !== undefined && request.sequence < expected) {
      // A retry of a batch already appended: answer with its offset once it is acknowledged.
      const offset = offsetOfRetry(producer, request.sequence, request.sequence + count - 1);
      if (offset !== undefined) {
        this.ctx.observe({ type: 'kafka-duplicate-suppressed', key: request.key });
        this.addPending(replica, client, request, offset);
      }
      return;
    }
    if (request.acks === 'all' && replica.isr.length < this.config.minInsyncReplicas) {
      this.reply(client, {
        type: 'produce-error',
        id: request.id,
        error: 'not-enough-replicas',
        definite: true,
      });
      return;
    }
    if (
      request.sequence !== expected &&
      !(producer === undefined && this.bugs.has('no-producer-dedup-after-failover'))
    ) {
      this.reply(client, {
        type: 'produce-error',
        id: request.id,
        error: 'out-of-order-sequence',
        definite: true,
      });
      return;
    }
    if (replica.pending.length >= PENDING_PRODUCE_MAX) {
      return; // overloaded: the client times out and retries
    }
    const { baseOffset } = replica.log.append({
      leaderEpoch: replica.leaderEpoch,
      producerId: request.producerId,
      producerEpoch: 0,
      baseSequence: request.sequence,
      records: request.values.map(encodeValue),
    });
    replica.noteProducer(request.producerId, request.sequence, count, baseOffset);
    this.addPending(replica, client, request, baseOffset);
    this.advanceHighWatermark(replica);
  }

  private addPending(
    replica: Replica,
    client: NodeId,
    request: Extract<ClientRequest, { type: 'produce' }>,
    offset: number,
  ): void {
    replica.pending.push({
      offset,
      lastOffset: offset + request.values.length - 1,
      client,
      id: request.id,
      acks: request.acks,
      deadlineUs: this.ctx.monotonic() + this.config.requestTimeoutUs,
    });
    this.completePending(replica);
  }

  private onConsume(
    client: NodeId,
    replica: Replica | undefined,
    request: Extract<ClientRequest, { type: 'consume' }>,
  ): void {
    if (replica === undefined || replica.role !== 'leader') {
      this.reply(client, {
        type: 'consume-error',
        id: request.id,
        key: request.key,
        error: 'not-leader',
      });
      return;
    }
    const log = replica.log;
    const visibleEnd = this.bugs.has('fetch-beyond-hw') ? log.logEndOffset : replica.highWatermark;
    if (request.offset < log.logStartOffset || request.offset > log.logEndOffset) {
      this.reply(client, {
        type: 'consume-error',
        id: request.id,
        key: request.key,
        error: 'offset-out-of-range',
        logStartOffset: log.logStartOffset,
        highWatermark: replica.highWatermark,
      });
      return;
    }
    const records =
      request.offset >= visibleEnd ? [] : (log.read(request.offset, FETCH_BYTES_MAX) ?? []);
    const pairs = records
      .filter((record) => record.offset < visibleEnd)
      .map((record): [number, number] => [record.offset, decodeValue(record.payload)]);
    this.reply(client, { type: 'consume-ok', id: request.id, key: request.key, pairs });
  }

  private reply(client: NodeId, reply: ClientReply | GroupReply): void {
    if (client < 0) {
      return;
    }
    const size =
      reply.type === 'consume-ok'
        ? 32 + 16 * reply.pairs.length
        : reply.type === 'offset-fetch-ok' || reply.type === 'sync-group-ok'
          ? 96
          : 48;
    this.ctx.send(client, reply as unknown as SimMessage, size);
  }

  inspect(): BrokerInspect {
    this.view ??= {
      role: 'broker',
      partitions: new Map(
        [...this.replicas.values()].map((replica): [KafkaKey, PartitionReplicaInspect] => [
          replica.key,
          liveReplicaView(replica),
        ]),
      ),
    };
    return this.view;
  }
}

function liveReplicaView(replica: Replica): PartitionReplicaInspect {
  return {
    key: replica.key,
    get role() {
      return replica.role === 'leader' ? 'leader' : 'follower';
    },
    get leaderEpoch() {
      return replica.leaderEpoch;
    },
    get logStartOffset() {
      return replica.log.logStartOffset;
    },
    get logEndOffset() {
      return replica.log.logEndOffset;
    },
    get highWatermark() {
      return replica.highWatermark;
    },
    get isr() {
      return replica.role === 'leader' ? replica.isr : [];
    },
    valueAt(offset: number) {
      // Peeked, not read: a checker's look draws no read fault and never changes the run.
      const record = replica.log.peekRecord(offset);
      if (record === undefined || record.offset !== offset) {
        return undefined;
      }
      // The offsets partition holds JSON records, not numbers: compare them by a hash.
      return replica.key === OFFSETS_KEY ? fnv1a(record.payload) : decodeValue(record.payload);
    },
  };
}

/** A checkpoint's body: partition → high watermark, each a safe integer ≥ 0. */
function parseHwCheckpoint(body: unknown): Record<KafkaKey, number> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return undefined;
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length > CHECKPOINT_PARTITIONS_MAX) {
    return undefined;
  }
  const highWatermarks: Record<KafkaKey, number> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return undefined;
    }
    highWatermarks[key] = value;
  }
  return highWatermarks;
}

/** 32-bit FNV-1a of some bytes. */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Records back into the batches that hold them. Replication copies stored batches as they
 * are (see StoredRecord): merging a producer's consecutive batches would let a follower's cut
 * at a leader's batch boundary drop the records below it.
 */
export function toWireBatches(records: readonly StoredRecord[]): WireBatch[] {
  const batches: WireBatch[] = [];
  let current:
    | {
        baseOffset: number;
        leaderEpoch: number;
        producerId: number;
        baseSequence: number;
        payloads: string[];
      }
    | undefined;
  let currentStoredBase = -1;
  for (const record of records) {
    const payload = payloadText(record.payload);
    if (current !== undefined && currentStoredBase === record.batchBaseOffset) {
      // One stored batch is one run: one epoch and producer, consecutive offsets and sequences.
      const at = current.payloads.length;
      assert(
        record.offset === current.baseOffset + at &&
          (record.producerId < 0 || record.sequence === current.baseSequence + at),
        'a stored batch read back out of order',
      );
      current.payloads.push(payload);
      continue;
    }
    current = {
      baseOffset: record.offset,
      leaderEpoch: record.leaderEpoch,
      producerId: record.producerId,
      baseSequence: record.sequence,
      payloads: [payload],
    };
    currentStoredBase = record.batchBaseOffset;
    batches.push(current);
  }
  assert(
    batches.every((batch) => batch.payloads.length > 0),
    'empty wire batch',
  );
  return batches;
}
