// Kafka clients that record the history the checker reads (contract.ts).
//
// A producer sends one value at a time to a random partition's leader, idempotently: a
// producer id and a per-partition sequence, the same sequence on every retry, so a leader
// can answer a retry with the first attempt's offset. A send is never recorded `fail`: even a
// refusal before any append (not-enough-replicas, out-of-order) is not definite on a network
// that duplicates and delays messages, since a late copy of an earlier attempt may still be
// appended. One given up on stays open, and the producer starts a new producer id, as a
// producer without a transactional id would after a fatal error.
//
// A consumer is assigned every partition (manual assign) and polls them all: one consume
// request per partition to its leader, the poll completing with what came back within a
// timeout. Positions only move forward; an out-of-range position (the leader's log is
// shorter: data was lost) is reset to the start, which starts a new assignment; one below the
// leader's log start (retention deleted those records) moves on to the log start, in the same
// assignment.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { SettleCutoff } from '../settle-cutoff.ts';
import type { KafkaKey, KafkaPair, KafkaPollOk, OffsetResetObservation } from './contract.ts';
import { type ClientReply, type ClientRequest, type KafkaConfig, kafkaConfig } from './messages.ts';

const RETRY_US = 20_000;
const METADATA_EVERY_US = 200_000;
const PRODUCER_ID_STRIDE = 100_000;

/** Knobs the scenario's workload sets for clients. */
export interface ClientWorkload {
  thinkUs: number;
  attemptTimeoutUs: number;
  giveUpUs: number;
  /** Stop starting sends this long into the settle phase, so consumers can catch up. */
  produceIntoSettleUs: number;
  pollTimeoutUs: number;
}

export function clientWorkload(workload: NodeContext['workload']): ClientWorkload {
  const number = (name: string, fallback: number) =>
    typeof workload[name] === 'number' ? (workload[name] as number) : fallback;
  return {
    thinkUs: number('thinkUs', 20_000),
    attemptTimeoutUs: number('attemptTimeoutUs', 300_000),
    giveUpUs: number('giveUpUs', 3_000_000),
    produceIntoSettleUs: number('produceIntoSettleUs', 1_000_000),
    pollTimeoutUs: number('pollTimeoutUs', 200_000),
  };
}

/** Leaders as brokers report them, refreshed now and then and after a refusal. */
export class LeaderCache {
  readonly leaders = new Map<KafkaKey, NodeId>();
  private next = 0;

  constructor(private readonly ctx: NodeContext) {}

  refresh(): void {
    const brokers = this.ctx.members('brokers');
    const broker = brokers[this.next++ % brokers.length] as NodeId;
    this.ctx.send(broker, { type: 'metadata', id: `${this.ctx.name}-md` }, 24);
  }

  learn(leaders: Record<KafkaKey, NodeId>): void {
    for (const [key, leader] of Object.entries(leaders)) {
      if (leader >= 0) {
        this.leaders.set(key, leader);
      }
    }
  }

  leaderOf(key: KafkaKey): NodeId {
    const known = this.leaders.get(key);
    if (known !== undefined) {
      return known;
    }
    const brokers = this.ctx.members('brokers');
    return brokers[this.ctx.random.int(brokers.length)] as NodeId;
  }
}

interface CurrentSend {
  operationId: number;
  id: string;
  key: KafkaKey;
  value: number;
  sequence: number;
  startedUs: number;
  timer: number;
}

export class KafkaProducer implements NodeProgram {
  private readonly config: KafkaConfig;
  private readonly workload: ClientWorkload;
  private readonly leaders: LeaderCache;
  private readonly index: number;
  private producerId: number;
  private resets = 0;
  private readonly sequences = new Map<KafkaKey, number>();
  private current: CurrentSend | null = null;
  private sent = 0;
  private readonly cutoff: SettleCutoff;

  constructor(private readonly ctx: NodeContext) {
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.cutoff = new SettleCutoff(ctx, this.workload.produceIntoSettleUs);
    this.leaders = new LeaderCache(ctx);
    this.index = ctx.members(ctx.group).indexOf(ctx.id);
    this.producerId = ctx.id + 1;
  }

  onStart(): void {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
    this.scheduleNext();
  }

  private scheduleNext(): void {
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), 'next');
  }

  private start(): void {
    if (this.cutoff.stopped()) {
      return;
    }
    const keys = this.config.keys;
    const key = keys[this.ctx.random.int(keys.length)] as KafkaKey;
    this.sent++;
    const value = (this.index + 1) * 1_000_000 + this.sent;
    this.current = {
      operationId: this.ctx.history.invoke({ f: 'send', key, value }),
      id: `${this.ctx.name}-${this.sent}`,
      key,
      value,
      sequence: this.sequences.get(key) ?? 0,
      startedUs: this.ctx.monotonic(),
      timer: -1,
    };
    this.attempt();
  }

  private attempt(): void {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    this.ctx.send(
      this.leaders.leaderOf(current.key),
      {
        type: 'produce',
        id: current.id,
        key: current.key,
        values: [current.value],
        producerId: this.producerId,
        sequence: current.sequence,
        acks: this.config.acks,
      } satisfies ClientRequest as unknown as SimMessage,
      48,
    );
    current.timer = this.ctx.setTimer(this.workload.attemptTimeoutUs, 'attempt');
  }

  private retrySoon(current: CurrentSend): void {
    this.ctx.cancelTimer(current.timer);
    if (this.ctx.monotonic() - current.startedUs >= this.workload.giveUpUs) {
      this.giveUp(current);
      return;
    }
    current.timer = this.ctx.setTimer(RETRY_US, 'attempt');
  }

  onMessage(_from: NodeId, message: SimMessage): void {
    const reply = message as unknown as ClientReply;
    if (reply.type === 'metadata-ok') {
      this.leaders.learn(reply.leaders);
      return;
    }
    const current = this.current;
    if (current === null || !('id' in reply) || reply.id !== current.id) {
      return;
    }
    if (reply.type === 'produce-ok') {
      this.ctx.cancelTimer(current.timer);
      this.sequences.set(current.key, current.sequence + 1);
      this.ctx.history.complete(current.operationId, 'ok', { offset: reply.offset });
      this.current = null;
      this.scheduleNext();
      return;
    }
    if (reply.type !== 'produce-error') {
      return;
    }
    if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(current.key);
      this.leaders.refresh();
      this.retrySoon(current);
      return;
    }
    if (reply.definite) {
      // Refused before any append. Still not a definite failure: this network duplicates and
      // delays messages, and a late copy of an earlier attempt may yet be appended somewhere.
      // So the send stays open, and the producer goes on under a new producer id, so that no
      // later send can be taken for a retry of this one.
      this.giveUp(current, reply.error);
      return;
    }
    this.retrySoon(current);
  }

  /** Leave the send open (it may yet take effect) and go on as a new producer. */
  private giveUp(current: CurrentSend, reason = 'timeout'): void {
    this.ctx.cancelTimer(current.timer);
    this.ctx.observe({ type: 'kafka-send-given-up', key: current.key, reason });
    this.current = null;
    this.newProducerId();
    this.scheduleNext();
  }

  private newProducerId(): void {
    this.resets++;
    this.producerId = this.ctx.id + 1 + this.resets * PRODUCER_ID_STRIDE;
    this.sequences.clear();
  }

  onTimer(tag: string, timerId: number): void {
    if (tag === 'next') {
      if (this.current === null) {
        this.start();
      }
    } else if (tag === 'metadata') {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
    } else if (tag === 'attempt' && this.current !== null && timerId === this.current.timer) {
      const current = this.current;
      if (this.ctx.monotonic() - current.startedUs >= this.workload.giveUpUs) {
        this.giveUp(current);
        return;
      }
      this.leaders.leaders.delete(current.key);
      this.leaders.refresh();
      this.attempt();
    }
  }

  inspect(): { role: 'client' } {
    return { role: 'client' };
  }
}

interface CurrentPoll {
  operationId: number;
  id: string;
  waiting: Set<KafkaKey>;
  msgs: Record<KafkaKey, KafkaPair[]>;
  timer: number;
}

/**
 * Takes a consume reply's records for one key into a poll: only those at or past the
 * consumer's position (a poll never returns a record twice within one assignment), and moves
 * the position past the last. Shared by the manual and the group consumer.
 */
export function takeFetched(
  positions: Map<KafkaKey, number>,
  msgs: Record<KafkaKey, KafkaPair[]>,
  key: KafkaKey,
  fetched: readonly KafkaPair[],
): void {
  const position = positions.get(key) ?? 0;
  const pairs = fetched.filter(([offset]) => offset >= position);
  const last = pairs[pairs.length - 1];
  if (last !== undefined) {
    msgs[key] = pairs;
    positions.set(key, last[0] + 1);
  }
}

export class KafkaConsumer implements NodeProgram {
  private readonly config: KafkaConfig;
  private readonly workload: ClientWorkload;
  private readonly leaders: LeaderCache;
  private readonly positions = new Map<KafkaKey, number>();
  private assignment = 0;
  private polls = 0;
  private current: CurrentPoll | null = null;

  constructor(private readonly ctx: NodeContext) {
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.leaders = new LeaderCache(ctx);
  }

  onStart(): void {
    const keys = [...this.config.keys];
    const operationId = this.ctx.history.invoke({ f: 'assign', keys });
    this.ctx.history.complete(operationId, 'ok', null);
    for (const key of keys) {
      this.positions.set(key, 0);
    }
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), 'next');
  }

  private poll(): void {
    this.polls++;
    const id = `${this.ctx.name}-p${this.polls}`;
    this.current = {
      operationId: this.ctx.history.invoke({ f: 'poll' }),
      id,
      waiting: new Set(this.config.keys),
      msgs: {},
      timer: this.ctx.setTimer(this.workload.pollTimeoutUs, 'poll-timeout'),
    };
    for (const key of this.config.keys) {
      this.ctx.send(
        this.leaders.leaderOf(key),
        { type: 'consume', id, key, offset: this.positions.get(key) ?? 0 },
        32,
      );
    }
  }

  private finish(): void {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    const output: KafkaPollOk = { msgs: current.msgs, assignment: this.assignment };
    this.ctx.history.complete(current.operationId, 'ok', output);
    this.current = null;
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), 'next');
  }

  onMessage(_from: NodeId, message: SimMessage): void {
    const reply = message as unknown as ClientReply;
    if (reply.type === 'metadata-ok') {
      this.leaders.learn(reply.leaders);
      return;
    }
    const current = this.current;
    if (
      current === null ||
      (reply.type !== 'consume-ok' && reply.type !== 'consume-error') ||
      reply.id !== current.id ||
      !current.waiting.has(reply.key)
    ) {
      return;
    }
    current.waiting.delete(reply.key);
    if (reply.type === 'consume-ok') {
      takeFetched(this.positions, current.msgs, reply.key, reply.pairs);
    } else if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    } else {
      const position = this.positions.get(reply.key) ?? 0;
      const logStart = reply.logStartOffset ?? 0;
      if (position < logStart) {
        // Retention deleted the records from our position on up to the log start: move on to
        // the earliest offset held (auto.offset.reset=earliest), in the same assignment.
        this.ctx.observe({
          type: 'kafka-offset-reset',
          key: reply.key,
          reason: 'log-start',
          from: position,
          to: logStart,
        } satisfies OffsetResetObservation);
        this.positions.set(reply.key, logStart);
      } else {
        // The leader's log ends below our position: it lost what we read. Start over.
        this.ctx.observe({ type: 'kafka-offset-reset', key: reply.key });
        this.positions.set(reply.key, logStart);
        this.assignment++;
      }
    }
    if (current.waiting.size === 0) {
      this.finish();
    }
  }

  onTimer(tag: string): void {
    if (tag === 'next') {
      if (this.current === null) {
        this.poll();
      }
    } else if (tag === 'poll-timeout') {
      this.finish();
    } else if (tag === 'metadata') {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, 'metadata');
    }
  }

  inspect(): { role: 'client'; positions: ReadonlyMap<KafkaKey, number> } {
    return { role: 'client', positions: this.positions };
  }
}
