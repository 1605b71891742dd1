// Publishing outbox events to Kafka-lite's `orders` topic (partitions k0…, keyed by
// aggregate): a component the CDC relay, the polling publisher and the dual-write service
// hold. Correct mode is Kafka's idempotent producer with acks=all and one request in flight:
// a producer id and a per-partition sequence, the same sequence on every retry, so a leader
// answers a retried batch with the first attempt's offset instead of appending it twice; a
// send is retried until acknowledged (never given up: an outbox publisher that gives up loses
// the event). A new process incarnation is a new producer (its id is derived from the
// incarnation), so what a crash left unacknowledged is published again: a duplicate the
// consumers absorb.
//
// `unordered` is the classic mistake behind publish-unordered: several sends in flight at
// once without idempotence (max.in.flight.requests > 1, enable.idempotence=false), so the
// network's jitter and retries reorder one aggregate's events in its partition.
import { assert } from '../../sim/assert.ts';
import type { NodeContext, NodeId, Message as SimMessage } from '../../sim/types.ts';
import { LeaderCache } from '../kafka/client.ts';
import type { KafkaKey } from '../kafka/contract.ts';
import { type ClientReply, kafkaConfig } from '../kafka/messages.ts';
import { encodeEvent, type OutboxEvent, partitionOf } from './events.ts';

const ATTEMPT_TIMEOUT_US = 300_000;
const RETRY_US = 20_000;
const METADATA_EVERY_US = 200_000;
/** Sends queued or in flight at once; callers wait for acknowledgements before adding more. */
export const PUBLISH_QUEUE_MAX = 256;
const PRODUCER_RESETS_MAX = 256;
const INCARNATIONS_MAX = 4096;
/** Random bits in a producer id, beside the incarnation (see idFor). */
const NONCE_SPAN = 2 ** 20;
const NODES_SPAN = 64;

export type Published = (key: KafkaKey, offset: number) => void;

interface Send {
  readonly id: string;
  readonly event: OutboxEvent;
  readonly key: KafkaKey;
  readonly done: Published;
  /** Set when the send is first sent: the idempotent sequence it keeps on every retry. */
  sequence: number;
  producerId: number;
  timer: number;
  attempts: number;
}

export class EventPublisher {
  readonly partitions: readonly KafkaKey[];
  private readonly leaders: LeaderCache;
  private readonly queue: Send[] = [];
  private readonly inFlight = new Map<string, Send>();
  private readonly sequences = new Map<KafkaKey, number>();
  private resets = 0;
  private producerId: number;
  private readonly nonce: number;
  private sent = 0;
  private metadataTimer = -1;

  constructor(
    private readonly ctx: NodeContext,
    /** This process's incarnation (durable, bumped at every start): a new producer id. */
    private readonly incarnation: number,
    private readonly unordered: boolean,
  ) {
    assert(incarnation >= 0 && incarnation < INCARNATIONS_MAX, 'publisher incarnation range');
    assert(ctx.id >= 0 && ctx.id < NODES_SPAN, 'publisher node id range');
    this.nonce = ctx.random.int(NONCE_SPAN);
    this.partitions = kafkaConfig(ctx.workload).keys;
    this.leaders = new LeaderCache(ctx);
    this.producerId = this.idFor(0);
  }

  /**
   * A producer id no earlier process used: the node, its durable incarnation, random bits
   * (so that a node whose state file was lost, and counts incarnations from 0 again, does not
   * come back as an earlier producer whose sequences the brokers still hold: its first sends
   * would be taken for retries and answered without being appended), and the resets.
   */
  private idFor(resets: number): number {
    const process = (this.ctx.id * INCARNATIONS_MAX + this.incarnation) * NONCE_SPAN + this.nonce;
    return process * PRODUCER_RESETS_MAX + resets + 1; // ≥ 1: negative ids mean "not idempotent"
  }

  start(): void {
    this.leaders.refresh();
    this.metadataTimer = this.ctx.setTimer(METADATA_EVERY_US, 'pub:metadata');
  }

  /** Nothing queued or in flight. */
  idle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  pending(): number {
    return this.queue.length + this.inFlight.size;
  }

  publish(event: OutboxEvent, done: Published): void {
    assert(this.pending() < PUBLISH_QUEUE_MAX, 'publish queue full');
    this.sent++;
    this.queue.push({
      id: `${this.ctx.name}-i${this.incarnation}-e${this.sent}`,
      event,
      key: partitionOf(event.aggregateId, this.partitions),
      done,
      sequence: -1,
      producerId: -1,
      timer: -1,
      attempts: 0,
    });
    this.pump();
  }

  /**
   * Starts what may start: unordered, everything; ordered, the oldest queued send of each
   * partition with nothing in flight (one request in flight per partition keeps its order).
   */
  private pump(): void {
    const busy = new Set<KafkaKey>();
    if (!this.unordered) {
      for (const send of this.inFlight.values()) {
        busy.add(send.key);
      }
    }
    const waiting: Send[] = [];
    for (const send of this.queue) {
      if (busy.has(send.key)) {
        waiting.push(send);
        continue;
      }
      if (!this.unordered) {
        busy.add(send.key);
        send.producerId = this.producerId;
        send.sequence = this.sequences.get(send.key) ?? 0;
      } else {
        send.producerId = -1; // not idempotent: every attempt is a fresh append
        send.sequence = 0;
      }
      this.inFlight.set(send.id, send);
      this.attempt(send);
    }
    this.queue.length = 0;
    this.queue.push(...waiting);
  }

  private attempt(send: Send): void {
    this.ctx.cancelTimer(send.timer);
    send.attempts++;
    this.ctx.send(
      this.leaders.leaderOf(send.key),
      {
        type: 'produce',
        id: send.id,
        key: send.key,
        value: encodeEvent(send.event),
        producerId: send.producerId,
        sequence: send.sequence,
        acks: 'all',
      },
      48,
    );
    send.timer = this.ctx.setTimer(ATTEMPT_TIMEOUT_US, 'pub:attempt');
  }

  private retrySoon(send: Send): void {
    this.ctx.cancelTimer(send.timer);
    send.timer = this.ctx.setTimer(RETRY_US, 'pub:attempt');
  }

  /** True when the message was a Kafka reply (this component's). */
  onMessage(_from: NodeId, message: SimMessage): boolean {
    const reply = message as unknown as ClientReply;
    if (reply.type === 'metadata-ok') {
      this.leaders.learn(reply.leaders);
      return true;
    }
    if (reply.type !== 'produce-ok' && reply.type !== 'produce-error') {
      return false;
    }
    const send = this.inFlight.get(reply.id);
    if (send === undefined) {
      return true; // a late or duplicated answer to a send already acknowledged
    }
    if (reply.type === 'produce-ok') {
      this.ctx.cancelTimer(send.timer);
      this.inFlight.delete(send.id);
      if (!this.unordered && send.producerId === this.producerId) {
        this.sequences.set(send.key, send.sequence + 1);
      }
      send.done(send.key, reply.offset);
      this.pump();
      return true;
    }
    if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(send.key);
      this.leaders.refresh();
      this.retrySoon(send);
    } else if (reply.error === 'out-of-order-sequence' && !this.unordered) {
      // The leader lost track of this producer (its state was evicted): go on as a new one.
      // The send may still be appended under the old id, so this can publish it twice.
      this.resets++;
      assert(this.resets < PRODUCER_RESETS_MAX, 'producer reset too often');
      this.producerId = this.idFor(this.resets);
      this.sequences.clear();
      send.producerId = this.producerId;
      send.sequence = 0;
      this.retrySoon(send);
    } else {
      // not-enough-replicas (refused before appending) or an unknown outcome: the same
      // sequence again, which the leader deduplicates if an earlier attempt did land.
      this.retrySoon(send);
    }
    return true;
  }

  /** True when the timer was this component's. */
  onTimer(tag: string, timerId: number): boolean {
    if (tag === 'pub:metadata') {
      if (timerId === this.metadataTimer) {
        this.leaders.refresh();
        this.metadataTimer = this.ctx.setTimer(METADATA_EVERY_US, 'pub:metadata');
      }
      return true;
    }
    if (tag !== 'pub:attempt') {
      return false;
    }
    for (const send of this.inFlight.values()) {
      if (send.timer === timerId) {
        if (send.attempts % 4 === 0) {
          this.leaders.leaders.delete(send.key);
          this.leaders.refresh();
        }
        this.attempt(send);
        break;
      }
    }
    return true;
  }
}
