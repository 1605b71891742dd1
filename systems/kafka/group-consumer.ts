// A group-managed (subscribe) consumer: it finds the group's coordinator, joins, syncs to
// learn its keys for the generation, starts each key at the group's committed offset, and
// polls those keys' leaders, the poll recording the generation as its assignment. After
// processing a poll (completing it in the history) it commits its positions (the next offset
// to read, Kafka's convention) under its generation. When the coordinator says a rebalance
// is under way it finishes the poll, commits, and rejoins (the eager protocol); when it says
// the member or generation is unknown, it rejoins without committing.
//
// Churn, for the scenarios that want it, while faults are on: after a poll the process may
// crash (its memory, member id and open poll gone; no leave) or leave the group politely, and
// a new incarnation joins later as a new member. `autoCommit: 'before-process'` is the
// classic mistake: positions are committed as soon as the records are fetched, before they
// are processed, so a crash in between loses them for the group.
//
// A position below the leader's log start (retention deleted those records while the group
// was behind) moves on to the log start (auto.offset.reset=earliest). `offsetReset: 'latest'`
// is the other classic mistake: it moves to the high watermark, skipping records still held.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { type ClientWorkload, clientWorkload, LeaderCache, takeFetched } from './client.ts';
import type { KafkaKey, KafkaPair, KafkaPollOk, OffsetResetObservation } from './contract.ts';
import {
  type ClientReply,
  type GroupReply,
  type GroupRequest,
  type KafkaConfig,
  kafkaConfig,
} from './messages.ts';

const RETRY_US = 50_000;
const METADATA_EVERY_US = 200_000;
const FIND_TIMEOUT_US = 200_000;
const COMMIT_TIMEOUT_US = 500_000;

/** The group's knobs, from the workload. */
interface GroupWorkload {
  group: string;
  autoCommit: 'after-process' | 'before-process';
  /** Where a position below the log start moves (auto.offset.reset). */
  offsetReset: 'earliest' | 'latest';
  heartbeatUs: number;
  /** Per processed poll, while faults are on. */
  crashProbability: number;
  leaveProbability: number;
  /**
   * Per processed poll, while faults are on: processing takes long (a slow handler, a long
   * pause), up to `stallUsMax`, with no heartbeats meanwhile (one thread, as a consumer
   * before KIP-62), so the group may move on before the member commits.
   */
  stallProbability: number;
  stallUsMax: number;
  /** A crashed or departed process comes back after up to this long. */
  downUsMax: number;
  /** Each consumer first joins at a random time up to this long after boot. */
  startSpreadUs: number;
}

function groupWorkload(workload: NodeContext['workload']): GroupWorkload {
  const number = (name: string, fallback: number) =>
    typeof workload[name] === 'number' ? (workload[name] as number) : fallback;
  return {
    group: typeof workload['group'] === 'string' ? workload['group'] : 'g1',
    autoCommit: workload['autoCommit'] === 'before-process' ? 'before-process' : 'after-process',
    offsetReset: workload['offsetReset'] === 'latest' ? 'latest' : 'earliest',
    heartbeatUs: number('groupHeartbeatUs', 100_000),
    crashProbability: number('memberCrashProbability', 0),
    leaveProbability: number('memberLeaveProbability', 0),
    stallProbability: number('memberStallProbability', 0),
    stallUsMax: number('memberStallUsMax', 1_500_000),
    downUsMax: number('memberDownUsMax', 1_000_000),
    startSpreadUs: number('memberStartSpreadUs', 0),
  };
}

type Phase = 'down' | 'finding' | 'joining' | 'syncing' | 'fetching' | 'stable';

interface Pending {
  readonly id: string;
  readonly kind: 'find' | 'join' | 'sync' | 'fetch' | 'commit';
  readonly timer: number;
  /** The history operation it completes (list_committed_offsets, commit_offsets). */
  readonly operationId: number;
}

interface CurrentPoll {
  operationId: number;
  id: string;
  waiting: Set<KafkaKey>;
  msgs: Record<KafkaKey, KafkaPair[]>;
  timer: number;
  /** The records are fetched; before-process has committed them and waits to process. */
  fetched: boolean;
}

export class KafkaGroupConsumer implements NodeProgram {
  private readonly config: KafkaConfig;
  private readonly workload: ClientWorkload;
  private readonly knobs: GroupWorkload;
  private readonly leaders: LeaderCache;
  /** Bumped by a crash or leave: timers and replies of an older incarnation are ignored. */
  private incarnation = 0;
  private phase: Phase = 'down';
  private coordinator: NodeId = -1;
  private memberId: string | null = null;
  private generation = -1;
  private assigned: KafkaKey[] = [];
  /** The generation its positions belong to (-1: none yet). */
  private ownedGeneration = -1;
  private readonly positions = new Map<KafkaKey, number>();
  private readonly committed = new Map<KafkaKey, number>();
  private pending: Pending | null = null;
  private poll: CurrentPoll | null = null;
  private heartbeatId: string | null = null;
  private lastHeartbeatOkUs = 0;
  private needRejoin = false;
  private stalled = false;
  private commitSequence = 0;
  private commitOffsets: Record<KafkaKey, number> = {};
  private requests = 0;
  private findNext = 0;

  constructor(private readonly ctx: NodeContext) {
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.knobs = groupWorkload(ctx.workload);
    this.leaders = new LeaderCache(ctx);
  }

  onStart(): void {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
    this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.startSpreadUs)), 'start');
  }

  // ---- incarnations ----------------------------------------------------------------------

  private later(delayUs: number, tag: string): number {
    return this.ctx.setTimer(delayUs, `${tag}:${this.incarnation}`);
  }

  private startIncarnation(): void {
    this.phase = 'finding';
    this.memberId = null;
    this.generation = -1;
    this.ownedGeneration = -1;
    this.assigned = [];
    this.positions.clear();
    this.committed.clear();
    this.needRejoin = false;
    const operationId = this.ctx.history.invoke({ f: 'subscribe', keys: [...this.config.keys] });
    this.ctx.history.complete(operationId, 'ok', null);
    this.later(this.knobs.heartbeatUs, 'heartbeat'); // one chain per incarnation
    this.find();
  }

  /** The process dies (crash) or leaves: everything in memory goes; it comes back later. */
  private stop(leave: boolean): void {
    if (leave && this.memberId !== null && this.coordinator >= 0) {
      this.send(this.coordinator, {
        type: 'leave-group',
        id: this.nextId('leave'),
        group: this.knobs.group,
        memberId: this.memberId,
      });
    }
    this.ctx.observe({
      type: leave ? 'kafka-member-left' : 'kafka-member-crashed',
      consumer: this.ctx.name,
      generation: this.generation,
    });
    this.incarnation++;
    this.phase = 'down';
    this.pending = null;
    this.stalled = false;
    this.poll = null; // an open poll stays open in the history: its outcome is unknown
    this.heartbeatId = null;
    this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.downUsMax)), 'start');
  }

  private nextId(kind: string): string {
    this.requests++;
    return `${this.ctx.name}.${this.incarnation}.${kind}${this.requests}`;
  }

  private send(to: NodeId, request: GroupRequest): void {
    this.ctx.send(to, request as unknown as SimMessage, 64);
  }

  private request(
    kind: Pending['kind'],
    to: NodeId,
    body: (id: string) => GroupRequest,
    timeoutUs: number,
    operationId = -1,
  ): void {
    if (this.pending !== null) {
      this.ctx.cancelTimer(this.pending.timer);
    }
    if (to < 0) {
      // The coordinator was given up on (a heartbeat said not-coordinator) while a join was
      // answered: find it again rather than send to nobody. A fetch's operation stays open.
      this.pending = null;
      this.find();
      return;
    }
    const id = this.nextId(kind);
    this.pending = { id, kind, timer: this.later(timeoutUs, `timeout-${kind}`), operationId };
    this.send(to, body(id));
  }

  // ---- joining -----------------------------------------------------------------------------

  private find(): void {
    this.phase = 'finding';
    const brokers = this.ctx.members('brokers');
    const broker = brokers[this.findNext++ % brokers.length] as NodeId;
    this.request('find', broker, (id) => ({ type: 'find-coordinator', id }), FIND_TIMEOUT_US);
  }

  private join(): void {
    if (this.coordinator < 0) {
      this.find();
      return;
    }
    this.phase = 'joining';
    this.needRejoin = false;
    this.request(
      'join',
      this.coordinator,
      (id) => ({
        type: 'join-group',
        id,
        group: this.knobs.group,
        instance: `${this.ctx.name}.${this.incarnation}`,
        memberId: this.memberId,
      }),
      this.config.rebalanceTimeoutUs + this.config.requestTimeoutUs,
    );
  }

  private sync(): void {
    this.phase = 'syncing';
    const memberId = this.memberId as string;
    this.request(
      'sync',
      this.coordinator,
      (id) => ({
        type: 'sync-group',
        id,
        group: this.knobs.group,
        memberId,
        generation: this.generation,
      }),
      this.config.requestTimeoutUs,
    );
    this.lastHeartbeatOkUs = this.ctx.monotonic();
  }

  private fetchCommitted(): void {
    this.phase = 'fetching';
    const keys = [...this.assigned];
    const operationId = this.ctx.history.invoke({ f: 'list_committed_offsets', keys });
    this.request(
      'fetch',
      this.coordinator,
      (id) => ({ type: 'offset-fetch', id, group: this.knobs.group, keys }),
      this.config.requestTimeoutUs,
      operationId,
    );
  }

  /** Sent while a member of a generation (a join in progress counts as liveness itself). */
  private heartbeat(): void {
    this.later(this.knobs.heartbeatUs, 'heartbeat');
    const member = this.phase === 'syncing' || this.phase === 'fetching' || this.phase === 'stable';
    if (!member || this.stalled || this.memberId === null || this.coordinator < 0) {
      return;
    }
    if (this.ctx.monotonic() - this.lastHeartbeatOkUs > this.config.groupSessionTimeoutUs) {
      // The coordinator has not answered for a session: it may have moved.
      this.coordinator = -1;
      this.needRejoin = true;
      this.maybeRejoin();
    } else {
      const id = this.nextId('hb');
      this.heartbeatId = id;
      this.send(this.coordinator, {
        type: 'group-heartbeat',
        id,
        group: this.knobs.group,
        memberId: this.memberId,
        generation: this.generation,
      });
    }
  }

  /** Rejoins now unless a poll cycle is under way (it rejoins when that ends). */
  private maybeRejoin(): void {
    if (!this.needRejoin || this.poll !== null || this.pending?.kind === 'commit') {
      return;
    }
    if (this.phase === 'stable' || this.phase === 'fetching' || this.phase === 'syncing') {
      this.join();
    }
  }

  // ---- messages ----------------------------------------------------------------------------

  onMessage(_from: NodeId, message: SimMessage): void {
    const reply = message as unknown as ClientReply | GroupReply;
    if (reply.type === 'metadata-ok') {
      this.leaders.learn(reply.leaders);
      return;
    }
    if (reply.type === 'consume-ok' || reply.type === 'consume-error') {
      this.onConsumeReply(reply);
      return;
    }
    if (!('id' in reply)) {
      return;
    }
    if (reply.id === this.heartbeatId) {
      this.onHeartbeatReply(reply as GroupReply);
      return;
    }
    const pending = this.pending;
    if (pending === null || reply.id !== pending.id) {
      return; // late, duplicated, or of an older incarnation
    }
    this.ctx.cancelTimer(pending.timer);
    this.pending = null;
    this.onGroupReply(pending, reply as GroupReply);
  }

  private onHeartbeatReply(reply: GroupReply): void {
    this.heartbeatId = null;
    if (reply.type === 'group-heartbeat-ok') {
      this.lastHeartbeatOkUs = this.ctx.monotonic();
      return;
    }
    if (reply.type !== 'group-error') {
      return;
    }
    this.onMembershipError(reply.error);
  }

  /** An error that may say our membership or generation is over. */
  private onMembershipError(error: string): boolean {
    switch (error) {
      case 'unknown-member':
        this.memberId = null;
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      case 'illegal-generation':
      case 'rebalance-in-progress':
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      case 'not-coordinator':
        this.coordinator = -1;
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      default:
        return false;
    }
  }

  private onGroupReply(pending: Pending, reply: GroupReply): void {
    switch (reply.type) {
      case 'find-coordinator-ok':
        if (reply.coordinator >= 0) {
          this.coordinator = reply.coordinator;
          this.join();
        } else {
          this.later(RETRY_US, 'find');
        }
        return;
      case 'join-group-ok':
        this.memberId = reply.memberId;
        this.generation = reply.generation;
        this.sync();
        return;
      case 'sync-group-ok':
        if (reply.generation !== this.generation) {
          this.join();
          return;
        }
        if (
          reply.generation === this.ownedGeneration &&
          reply.keys.length === this.assigned.length &&
          reply.keys.every((key) => this.assigned.includes(key))
        ) {
          // Back in the generation it was polling in (a rejoin that changed nothing): its
          // positions are still its own, and may be ahead of what it has committed.
          this.phase = 'stable';
          this.scheduleFetch();
          return;
        }
        this.assigned = [...reply.keys];
        this.ctx.observe({
          type: 'kafka-group-assignment',
          group: this.knobs.group,
          generation: this.generation,
          member: this.memberId,
          consumer: this.ctx.name,
          keys: this.assigned,
        });
        this.fetchCommitted();
        return;
      case 'offset-fetch-ok': {
        this.ctx.history.complete(pending.operationId, 'ok', { offsets: reply.offsets });
        this.positions.clear();
        this.committed.clear();
        for (const key of this.assigned) {
          const offset = reply.offsets[key] ?? 0;
          this.positions.set(key, offset);
          this.committed.set(key, offset);
        }
        this.phase = 'stable';
        this.ownedGeneration = this.generation;
        this.scheduleFetch();
        return;
      }
      case 'offset-commit-ok':
        this.ctx.history.complete(pending.operationId, 'ok', null);
        for (const [key, offset] of Object.entries(this.commitOffsets)) {
          this.committed.set(key, offset); // the next commit names only what moved since
        }
        this.afterCommit();
        return;
      case 'group-error':
        this.onRequestError(pending, reply.error);
        return;
      default:
        return;
    }
  }

  private onRequestError(pending: Pending, error: string): void {
    if (pending.kind === 'commit') {
      // The commit's fate is unknown to the history (a copy may yet land): it stays open.
      this.onMembershipError(error);
      this.afterCommit();
      return;
    }
    if (pending.kind === 'fetch') {
      this.phase = 'syncing';
    }
    if (!this.onMembershipError(error)) {
      // Not enough replicas, overloaded: try the same step again shortly.
      this.later(RETRY_US, `retry-${pending.kind}`);
      return;
    }
    if (pending.kind === 'join' || pending.kind === 'find') {
      this.later(RETRY_US, 'rejoin');
    }
  }

  private onTimeout(kind: Pending['kind']): void {
    this.pending = null;
    switch (kind) {
      case 'find':
        this.find();
        return;
      case 'commit':
        this.afterCommit(); // stays open
        return;
      default:
        // The coordinator did not answer: it may have moved; find it again and rejoin.
        this.coordinator = -1;
        this.find();
        return;
    }
  }

  onTimer(tag: string): void {
    if (tag === 'metadata') {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
      return;
    }
    const colon = tag.lastIndexOf(':');
    if (Number(tag.slice(colon + 1)) !== this.incarnation) {
      return; // an older incarnation's timer
    }
    const name = tag.slice(0, colon);
    if (name === 'start') {
      if (this.phase === 'down') {
        this.startIncarnation();
      }
    } else if (name === 'heartbeat') {
      this.heartbeat();
    } else if (name === 'find') {
      this.find();
    } else if (name === 'rejoin' || name === 'retry-join') {
      if (this.pending === null && this.poll === null) {
        this.join();
      }
    } else if (name === 'retry-sync') {
      this.sync();
    } else if (name === 'retry-fetch') {
      this.fetchCommitted();
    } else if (name.startsWith('timeout-')) {
      const kind = name.slice('timeout-'.length) as Pending['kind'];
      if (this.pending?.kind === kind) {
        this.onTimeout(kind);
      }
    } else if (name === 'fetch') {
      if (this.phase === 'stable' && this.poll === null) {
        if (this.pending === null) {
          this.startPoll();
        } else {
          this.scheduleFetch();
        }
      }
    } else if (name === 'poll-timeout') {
      this.fetched();
    } else if (name === 'resume' && this.stalled) {
      this.stalled = false;
      this.commit(); // under the generation it had: the group may have moved on meanwhile
    }
  }

  // ---- polling -----------------------------------------------------------------------------

  private scheduleFetch(): void {
    this.later(1 + this.ctx.random.int(this.workload.thinkUs), 'fetch');
  }

  private startPoll(): void {
    if (this.needRejoin) {
      this.maybeRejoin();
      return;
    }
    if (this.assigned.length === 0) {
      this.scheduleFetch(); // nothing of ours this generation: keep heartbeating
      return;
    }
    const id = this.nextId('poll');
    this.poll = {
      operationId: this.ctx.history.invoke({ f: 'poll' }),
      id,
      waiting: new Set(this.assigned),
      msgs: {},
      timer: this.later(this.workload.pollTimeoutUs, 'poll-timeout'),
      fetched: false,
    };
    for (const key of this.assigned) {
      this.ctx.send(
        this.leaders.leaderOf(key),
        { type: 'consume', id, key, offset: this.positions.get(key) ?? 0 },
        32,
      );
    }
  }

  private onConsumeReply(reply: Extract<ClientReply, { type: 'consume-ok' | 'consume-error' }>) {
    const poll = this.poll;
    if (poll === null || poll.fetched || reply.id !== poll.id || !poll.waiting.has(reply.key)) {
      return;
    }
    poll.waiting.delete(reply.key);
    if (reply.type === 'consume-ok') {
      takeFetched(this.positions, poll.msgs, reply.key, reply.pairs);
    } else if (
      reply.error === 'offset-out-of-range' &&
      (this.positions.get(reply.key) ?? 0) < (reply.logStartOffset ?? 0)
    ) {
      // Retention deleted the records from our position on: move on to the log start (forward,
      // so committed offsets still only grow), in the same generation.
      const logStart =
        this.knobs.offsetReset === 'latest'
          ? Math.max(reply.logStartOffset ?? 0, reply.highWatermark ?? 0)
          : (reply.logStartOffset ?? 0);
      this.ctx.observe({
        type: 'kafka-offset-reset',
        key: reply.key,
        reason: 'log-start',
        from: this.positions.get(reply.key) ?? 0,
        to: logStart,
      } satisfies OffsetResetObservation);
      this.positions.set(reply.key, logStart);
    } else {
      // Not the leader, or its log ends below our position (a stale leader): ask again later;
      // the position stays, since the group's committed offsets must only move forward.
      if (reply.error === 'offset-out-of-range') {
        this.ctx.observe({ type: 'kafka-offset-out-of-range', key: reply.key });
      }
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    }
    if (poll.waiting.size === 0) {
      this.fetched();
    }
  }

  /** Every partition answered (or the poll timed out). */
  private fetched(): void {
    const poll = this.poll;
    if (poll === null || poll.fetched) {
      return;
    }
    this.ctx.cancelTimer(poll.timer);
    poll.fetched = true;
    if (this.knobs.autoCommit === 'before-process') {
      this.commit(); // the mistake: committed before processed
      return;
    }
    this.process();
    if (this.churn()) {
      return;
    }
    if (this.ctx.phase() === 'faults' && this.ctx.random.chance(this.knobs.stallProbability)) {
      this.stalled = true;
      this.ctx.observe({ type: 'kafka-member-stalled', consumer: this.ctx.name });
      this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.stallUsMax)), 'resume');
      return;
    }
    this.commit();
  }

  /** Processing a poll is completing it in the history. */
  private process(): void {
    const poll = this.poll;
    if (poll === null) {
      return;
    }
    const output: KafkaPollOk = { msgs: poll.msgs, assignment: this.generation };
    this.ctx.history.complete(poll.operationId, 'ok', output);
  }

  /** Maybe crash or leave (faults phase only); true if the process is gone. */
  private churn(): boolean {
    if (this.ctx.phase() !== 'faults') {
      return false;
    }
    if (this.ctx.random.chance(this.knobs.crashProbability)) {
      this.stop(false);
      return true;
    }
    if (this.ctx.random.chance(this.knobs.leaveProbability)) {
      this.stop(true);
      return true;
    }
    return false;
  }

  private commit(): void {
    const offsets: Record<KafkaKey, number> = {};
    for (const key of this.assigned) {
      const position = this.positions.get(key) ?? 0;
      if (position !== this.committed.get(key)) {
        offsets[key] = position;
      }
    }
    if (Object.keys(offsets).length === 0 || this.memberId === null || this.coordinator < 0) {
      this.afterCommit();
      return;
    }
    const operationId = this.ctx.history.invoke({ f: 'commit_offsets', offsets });
    const memberId = this.memberId;
    this.commitSequence++;
    const sequence = this.commitSequence;
    this.commitOffsets = offsets;
    this.request(
      'commit',
      this.coordinator,
      (id) => ({
        type: 'offset-commit',
        id,
        group: this.knobs.group,
        memberId,
        generation: this.generation,
        sequence,
        offsets,
      }),
      COMMIT_TIMEOUT_US,
      operationId,
    );
  }

  /** The commit is answered (or given up on): finish the cycle. */
  private afterCommit(): void {
    if (this.poll !== null && this.knobs.autoCommit === 'before-process') {
      if (this.churn()) {
        return; // crashed after committing what it had not processed
      }
      this.process();
    }
    this.poll = null;
    if (this.needRejoin) {
      this.maybeRejoin();
      return;
    }
    if (this.phase === 'stable') {
      this.scheduleFetch();
    }
  }

  inspect(): {
    role: 'client';
    positions: ReadonlyMap<KafkaKey, number>;
    generation: number;
    assigned: readonly KafkaKey[];
  } {
    return {
      role: 'client',
      positions: this.positions,
      generation: this.generation,
      assigned: this.assigned,
    };
  }
}
