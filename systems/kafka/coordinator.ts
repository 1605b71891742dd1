// The group coordinator: runs on the broker that leads the offsets partition
// (`__consumer_offsets`), as Kafka's does, and keeps everything it must not forget in that
// partition, so it survives crashes and moves with leadership:
//
//   offset records  {t:'offset', g, k, o, gen, m}   a committed offset of group g for key k
//   group records   {t:'group', g, gen, a}          generation gen of group g and its assignment
//
// A commit is answered once its records are below the partition's high watermark (acks=all),
// and only then does it count: offset-fetch answers from what is durable. A rebalance (eager,
// like the classic protocol): a join, a leave or a member's session expiry starts one; every
// member must rejoin within the rebalance timeout (the rest are dropped); the generation goes
// up, the coordinator assigns the keys (round-robin over the sorted member ids, on the server
// as KIP-848 does) and appends the group record; a member's sync-group is answered with its
// keys only once that record is durable. So a generation whose assignment anyone was told is in
// the log, and a coordinator that takes over (loading the log) starts past it: two owners of a
// key never share a generation. A new coordinator knows no members: they learn it from
// `unknown-member` and rejoin.
//
// A commit must name a current member and the current generation, with a sequence above the
// member's last (a late duplicate of an older commit is refused); variant
// `stale-generation-commit-accepted` skips the membership and generation checks.
//
// With `compactOffsets`, each replica's log cleaner rewrites the offsets partition's sealed
// segments below its high watermark keeping the newest record per key (offsetsRecordKey:
// group and key for an offset, the group for a generation), offsets kept and gaps left; a
// load reads whatever is left, which gives the same state (compactOffsetsRecords).
import { assert } from '../../sim/assert.ts';
import type { NodeId, Observation } from '../../sim/types.ts';
import type { KafkaKey } from './contract.ts';
import type { GroupError, GroupReply, GroupRequest, KafkaConfig } from './messages.ts';

const GROUPS_MAX = 64;
const MEMBERS_MAX = 64;
const WAITERS_MAX = 1024;

type OffsetsRecord =
  | { t: 'offset'; g: string; k: KafkaKey; o: number; gen: number; m: string }
  | { t: 'group'; g: string; gen: number; a: Record<string, KafkaKey[]> };

export function decodeOffsetsRecord(text: string): OffsetsRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<OffsetsRecord>;
    return record.t === 'offset' || record.t === 'group' ? (record as OffsetsRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key compaction of the offsets partition keeps the newest record of (Kafka's: group and
 * topic-partition for an offset, the group for its metadata); undefined for a record that is
 * not the coordinator's (never compacted away).
 */
export function offsetsRecordKey(text: string): string | undefined {
  const record = decodeOffsetsRecord(text);
  if (record === undefined) {
    return undefined;
  }
  return record.t === 'offset'
    ? `offset\u0000${record.g}\u0000${record.k}`
    : `group\u0000${record.g}`;
}

/**
 * Compaction of a stretch of the offsets partition: of the records given (in log order), only
 * the newest per key stays; the others' offsets become gaps. A load replays committed offsets
 * last-wins and generations as a maximum (which, appended in increasing order, the newest
 * record holds), so loading what this keeps gives the coordinator the same state as loading
 * it all.
 */
export function compactOffsetsRecords<R extends { readonly offset: number; readonly text: string }>(
  records: readonly R[],
): R[] {
  const newest = new Map<string, number>();
  for (const record of records) {
    const key = offsetsRecordKey(record.text);
    if (key !== undefined) {
      newest.set(key, record.offset);
    }
  }
  return records.filter((record) => {
    const key = offsetsRecordKey(record.text);
    return key === undefined || newest.get(key) === record.offset;
  });
}

/** What the coordinator needs of the broker that hosts it. */
export interface CoordinatorHost {
  /** The broker's monotonic clock, µs. */
  now(): number;
  /**
   * Appends records to the offsets partition as its leader; returns the offset one past them,
   * or undefined when it may not (the ISR is below min.insync.replicas).
   */
  append(payloads: string[]): number | undefined;
  reply(client: NodeId, reply: GroupReply): void;
  observe(observation: Observation): void;
}

interface Member {
  readonly id: string;
  readonly instance: string;
  client: NodeId;
  lastHeardUs: number;
  /** Rejoined in the rebalance under way. */
  joined: boolean;
  /** The join (or sync) waiting for an answer. */
  joinRequest: string | null;
  syncRequest: string | null;
  lastCommitSequence: number;
}

interface Group {
  readonly id: string;
  generation: number;
  state: 'empty' | 'preparing' | 'syncing' | 'stable';
  preparingSinceUs: number;
  readonly members: Map<string, Member>;
  assignment: Map<string, KafkaKey[]>;
}

export class GroupCoordinator {
  private active = false;
  private leaderEpoch = 0;
  private nextMember = 1;
  private readonly groups = new Map<string, Group>();
  /** group → key → the newest durable committed offset. */
  private readonly committed = new Map<string, Map<KafkaKey, number>>();
  /** Records above the high watermark, in offset order. */
  private unapplied: { offset: number; record: OffsetsRecord }[] = [];
  private waiters: { endOffset: number; run: () => void }[] = [];
  private appliedTo = 0;

  constructor(
    private readonly host: CoordinatorHost,
    private readonly config: KafkaConfig,
    private readonly acceptStaleCommits: boolean,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  /** Became the offsets partition's leader: load the log, durable part first. */
  activate(
    leaderEpoch: number,
    records: readonly { offset: number; text: string }[],
    highWatermark: number,
  ): void {
    this.deactivate();
    this.active = true;
    this.leaderEpoch = leaderEpoch;
    this.appliedTo = 0;
    for (const { offset, text } of records) {
      const record = decodeOffsetsRecord(text);
      if (record === undefined) {
        continue;
      }
      if (record.t === 'group') {
        const group = this.groupOf(record.g);
        group.generation = Math.max(group.generation, record.gen);
      }
      if (offset < highWatermark) {
        this.apply(offset, record);
      } else {
        this.unapplied.push({ offset, record });
      }
    }
    this.appliedTo = highWatermark;
  }

  /** Lost the leadership: answer what waits, forget everything (the log has it). */
  deactivate(): void {
    if (!this.active) {
      return;
    }
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        for (const id of [member.joinRequest, member.syncRequest]) {
          if (id !== null) {
            this.host.reply(member.client, { type: 'group-error', id, error: 'not-coordinator' });
          }
        }
      }
    }
    this.active = false;
    this.groups.clear();
    this.committed.clear();
    this.unapplied = [];
    this.waiters = [];
  }

  /** The offsets partition's high watermark moved: apply and answer what it passed. */
  onHighWatermark(highWatermark: number): void {
    if (!this.active || highWatermark <= this.appliedTo) {
      return;
    }
    this.appliedTo = highWatermark;
    let applied = 0;
    while (applied < this.unapplied.length) {
      const next = this.unapplied[applied] as { offset: number; record: OffsetsRecord };
      if (next.offset >= highWatermark) {
        break;
      }
      this.apply(next.offset, next.record);
      applied++;
    }
    this.unapplied.splice(0, applied);
    const ready = this.waiters.filter((waiter) => waiter.endOffset <= highWatermark);
    this.waiters = this.waiters.filter((waiter) => waiter.endOffset > highWatermark);
    for (const waiter of ready) {
      waiter.run();
    }
  }

  private apply(logOffset: number, record: OffsetsRecord): void {
    if (record.t !== 'offset') {
      return;
    }
    let offsets = this.committed.get(record.g);
    if (offsets === undefined) {
      offsets = new Map();
      this.committed.set(record.g, offsets);
    }
    offsets.set(record.k, record.o);
    this.host.observe({
      type: 'kafka-offset-committed',
      group: record.g,
      key: record.k,
      offset: record.o,
      generation: record.gen,
      member: record.m,
      logOffset,
    });
  }

  private groupOf(id: string): Group {
    let group = this.groups.get(id);
    if (group === undefined) {
      assert(this.groups.size < GROUPS_MAX, 'too many consumer groups');
      group = {
        id,
        generation: 0,
        state: 'empty',
        preparingSinceUs: 0,
        members: new Map(),
        assignment: new Map(),
      };
      this.groups.set(id, group);
    }
    return group;
  }

  private error(client: NodeId, id: string, error: GroupError): void {
    this.host.reply(client, { type: 'group-error', id, error });
  }

  /** Appends and, once durable, runs `done`; false when it may not append. */
  private appendThen(payloads: string[], records: OffsetsRecord[], done: () => void): boolean {
    if (this.waiters.length >= WAITERS_MAX) {
      return false;
    }
    const end = this.host.append(payloads);
    if (end === undefined) {
      return false;
    }
    const base = end - payloads.length;
    records.forEach((record, at) => {
      this.unapplied.push({ offset: base + at, record });
    });
    this.waiters.push({ endOffset: end, run: done });
    return true;
  }

  private append(records: OffsetsRecord[], done: () => void): boolean {
    return this.appendThen(
      records.map((record) => JSON.stringify(record)),
      records,
      done,
    );
  }

  onRequest(client: NodeId, request: GroupRequest): void {
    if (request.type === 'find-coordinator') {
      return; // the broker answers it
    }
    if (!this.active) {
      this.error(client, request.id, 'not-coordinator');
      return;
    }
    if (!this.groups.has(request.group) && this.groups.size >= GROUPS_MAX) {
      this.error(client, request.id, 'overloaded');
      return;
    }
    const group = this.groupOf(request.group);
    switch (request.type) {
      case 'join-group':
        this.onJoin(client, group, request);
        return;
      case 'sync-group':
        this.onSync(client, group, request);
        return;
      case 'group-heartbeat': {
        const member = group.members.get(request.memberId);
        if (member === undefined) {
          this.error(client, request.id, 'unknown-member');
          return;
        }
        member.lastHeardUs = this.host.now();
        member.client = client;
        if (request.generation !== group.generation) {
          this.error(client, request.id, 'illegal-generation');
        } else if (group.state === 'preparing') {
          this.error(client, request.id, 'rebalance-in-progress');
        } else {
          this.host.reply(client, { type: 'group-heartbeat-ok', id: request.id });
        }
        return;
      }
      case 'leave-group':
        if (group.members.delete(request.memberId)) {
          this.rebalance(group);
        }
        this.host.reply(client, { type: 'leave-group-ok', id: request.id });
        return;
      case 'offset-commit':
        this.onCommit(client, group, request);
        return;
      case 'offset-fetch': {
        const known = this.committed.get(group.id);
        const offsets: Record<KafkaKey, number> = {};
        for (const key of request.keys) {
          const offset = known?.get(key);
          if (offset !== undefined) {
            offsets[key] = offset;
          }
        }
        this.host.reply(client, { type: 'offset-fetch-ok', id: request.id, offsets });
        return;
      }
    }
  }

  private onJoin(
    client: NodeId,
    group: Group,
    request: Extract<GroupRequest, { type: 'join-group' }>,
  ): void {
    let member =
      request.memberId === null ? undefined : (group.members.get(request.memberId) ?? undefined);
    if (member === undefined) {
      // A retried first join (its answer lost) finds the member it made by the instance.
      member = [...group.members.values()].find(
        (candidate) => candidate.instance === request.instance,
      );
    }
    if (member === undefined && request.memberId !== null) {
      this.error(client, request.id, 'unknown-member');
      return;
    }
    const now = this.host.now();
    if (member === undefined) {
      if (group.members.size >= MEMBERS_MAX) {
        this.error(client, request.id, 'overloaded');
        return;
      }
      member = {
        id: `${request.instance}@${this.leaderEpoch}.${this.nextMember++}`,
        instance: request.instance,
        client,
        lastHeardUs: now,
        joined: false,
        joinRequest: null,
        syncRequest: null,
        lastCommitSequence: -1,
      };
      group.members.set(member.id, member);
      this.rebalance(group);
    } else if (group.state === 'stable' || group.state === 'syncing') {
      // A member of the current generation rejoining (it saw an error, or its answer was
      // lost): nothing changed, so it gets the current generation again.
      member.client = client;
      member.lastHeardUs = now;
      this.host.reply(client, {
        type: 'join-group-ok',
        id: request.id,
        group: group.id,
        memberId: member.id,
        generation: group.generation,
      });
      return;
    } else if (group.state === 'empty') {
      this.rebalance(group);
    }
    member.client = client;
    member.lastHeardUs = now;
    member.joined = true;
    member.joinRequest = request.id;
    this.maybeCompleteJoin(group);
  }

  /** Starts a rebalance (or restarts one under way): every member must rejoin. */
  private rebalance(group: Group): void {
    if (group.state !== 'preparing') {
      group.state = 'preparing';
      group.preparingSinceUs = this.host.now();
      for (const member of group.members.values()) {
        member.joined = false;
      }
    }
    this.maybeCompleteJoin(group);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'preparing') {
      return;
    }
    const members = [...group.members.values()];
    const timedOut = this.host.now() - group.preparingSinceUs >= this.config.rebalanceTimeoutUs;
    if (!timedOut && !members.every((member) => member.joined)) {
      return;
    }
    const joined = members.filter((member) => member.joined).sort((a, b) => cmp(a.id, b.id));
    const generation = group.generation + 1;
    const assignment = new Map<string, KafkaKey[]>(joined.map((member) => [member.id, []]));
    this.config.keys.forEach((key, at) => {
      const owner = joined[at % Math.max(1, joined.length)];
      if (owner !== undefined) {
        assignment.get(owner.id)?.push(key);
      }
    });
    const record: OffsetsRecord = {
      t: 'group',
      g: group.id,
      gen: generation,
      a: Object.fromEntries(assignment),
    };
    const appended = this.append([record], () => this.onGenerationDurable(group, generation));
    if (!appended) {
      return; // not enough replicas: the tick tries again
    }
    for (const member of members) {
      if (!member.joined) {
        group.members.delete(member.id);
      }
    }
    group.generation = generation;
    group.assignment = assignment;
    group.state = joined.length === 0 ? 'empty' : 'syncing';
    for (const member of joined) {
      member.joined = false;
      member.lastCommitSequence = -1;
      const id = member.joinRequest;
      member.joinRequest = null;
      if (id !== null) {
        this.host.reply(member.client, {
          type: 'join-group-ok',
          id,
          group: group.id,
          memberId: member.id,
          generation,
        });
      }
    }
  }

  private onGenerationDurable(group: Group, generation: number): void {
    if (group.generation !== generation || group.state !== 'syncing') {
      return;
    }
    group.state = 'stable';
    for (const member of group.members.values()) {
      if (member.syncRequest !== null) {
        this.answerSync(group, member, member.syncRequest);
        member.syncRequest = null;
      }
    }
  }

  private answerSync(group: Group, member: Member, id: string): void {
    this.host.reply(member.client, {
      type: 'sync-group-ok',
      id,
      group: group.id,
      generation: group.generation,
      keys: group.assignment.get(member.id) ?? [],
    });
  }

  private onSync(
    client: NodeId,
    group: Group,
    request: Extract<GroupRequest, { type: 'sync-group' }>,
  ): void {
    const member = group.members.get(request.memberId);
    if (member === undefined) {
      this.error(client, request.id, 'unknown-member');
      return;
    }
    member.client = client;
    member.lastHeardUs = this.host.now();
    if (request.generation !== group.generation) {
      this.error(client, request.id, 'illegal-generation');
    } else if (group.state === 'preparing') {
      this.error(client, request.id, 'rebalance-in-progress');
    } else if (group.state === 'syncing') {
      member.syncRequest = request.id; // answered once the generation is durable
    } else {
      this.answerSync(group, member, request.id);
    }
  }

  private onCommit(
    client: NodeId,
    group: Group,
    request: Extract<GroupRequest, { type: 'offset-commit' }>,
  ): void {
    const member = group.members.get(request.memberId);
    const current = member !== undefined && request.generation === group.generation;
    if (!this.acceptStaleCommits || current) {
      if (member === undefined || request.generation !== group.generation) {
        this.host.observe({
          type: 'kafka-commit-fenced',
          group: group.id,
          generation: request.generation,
          current: group.generation,
        });
        this.error(
          client,
          request.id,
          member === undefined ? 'unknown-member' : 'illegal-generation',
        );
        return;
      }
      if (group.state === 'syncing') {
        this.error(client, request.id, 'rebalance-in-progress');
        return;
      }
      if (request.sequence <= member.lastCommitSequence) {
        this.error(client, request.id, 'stale-sequence');
        return;
      }
      member.lastHeardUs = this.host.now();
    }
    // (With the bug, a commit of a member the group has moved on from gets here too.)
    const keys = Object.keys(request.offsets).sort();
    if (keys.length === 0) {
      this.host.reply(client, { type: 'offset-commit-ok', id: request.id });
      return;
    }
    const records: OffsetsRecord[] = keys.map((key) => ({
      t: 'offset',
      g: group.id,
      k: key,
      o: request.offsets[key] as number,
      gen: request.generation,
      m: request.memberId,
    }));
    const appended = this.append(records, () =>
      this.host.reply(client, { type: 'offset-commit-ok', id: request.id }),
    );
    if (!appended) {
      this.error(client, request.id, 'not-enough-replicas');
      return;
    }
    if (member !== undefined && current) {
      member.lastCommitSequence = request.sequence;
    }
  }

  /** Session expiry and rebalance timeouts. */
  tick(): void {
    if (!this.active) {
      return;
    }
    const now = this.host.now();
    for (const group of this.groups.values()) {
      let expired = false;
      for (const member of [...group.members.values()]) {
        const waiting = group.state === 'preparing' && member.joined; // its join is its heartbeat
        if (!waiting && now - member.lastHeardUs > this.config.groupSessionTimeoutUs) {
          group.members.delete(member.id);
          this.host.observe({ type: 'kafka-member-expired', group: group.id, member: member.id });
          expired = true;
        }
      }
      if (expired) {
        this.rebalance(group);
      } else {
        this.maybeCompleteJoin(group);
      }
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
