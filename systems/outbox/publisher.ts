// Publishing outbox events to Kafka-lite's `orders` topic (partitions k0…, keyed by
// aggregate): a component the CDC relay, the polling publisher and the dual-write service
// hold. Correct mode is Kafka's idempotent producer with acks=all and one request in flight
// per partition, each request a batch of up to 16 of the partition's oldest queued events
// (Kafka's batch.size: one acks=all round trip, which waits for the followers' fetch, carries
// many events; one event per request drained a backlog at ~43 events/s): a producer id and
// a per-partition sequence, the same batch and sequence on every retry, so a leader answers a
// retried batch with the first attempt's offset instead of appending it twice; a
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
import {
  type ClientReply,
  type ClientRequest,
  kafkaConfig,
  PRODUCE_RECORDS_MAX,
} from '../kafka/messages.ts';
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
  readonly event: OutboxEvent;
  readonly key: KafkaKey;
  readonly done: Published;
}

/** One produce request: a record batch of one partition's oldest queued sends. */
interface Batch {
  readonly id: string;
  readonly key: KafkaKey;
  readonly sends: readonly Send[];
  /** Set when first sent: the idempotent sequence it keeps on every retry. */
  sequence: number;
  producerId: number;
  timer: number;
  attempts: number;
}

export class EventPublisher {
  readonly partitions: readonly KafkaKey[];
  private readonly leaders: LeaderCache;
  private readonly queue: Send[] = [];
  private readonly inFlight = new Map<string, Batch>();
  private inFlightSends = 0;
  private readonly sequences = new Map<KafkaKey, number>();
  private resets = 0;
  private producerId: number;
  private readonly nonce: number;
  private batches = 0;
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
    return this.queue.length + this.inFlightSends;
  }

  publish(event: OutboxEvent, done: Published): void {
    assert(this.pending() < PUBLISH_QUEUE_MAX, 'publish queue full');
    this.queue.push({ event, key: partitionOf(event.aggregateId, this.partitions), done });
    this.pump();
  }

  /**
   * Starts what may start. Ordered: for each partition with nothing in flight, one batch of its
   * oldest queued sends (one request in flight per partition keeps their order; a batch keeps
   * its records, and so its sequences, on every retry). Unordered: every send on its own.
   */
  private pump(): void {
    const busy = new Set<KafkaKey>();
    if (!this.unordered) {
      for (const batch of this.inFlight.values()) {
        busy.add(batch.key);
      }
    }
    const batches = new Map<KafkaKey, Send[]>();
    const waiting: Send[] = [];
    for (const send of this.queue) {
      if (this.unordered) {
        this.startBatch([send], -1, 0); // not idempotent: every attempt is a fresh append
        continue;
      }
      const batch = batches.get(send.key);
      if (busy.has(send.key) || (batch !== undefined && batch.length >= PRODUCE_RECORDS_MAX)) {
        waiting.push(send);
      } else if (batch === undefined) {
        batches.set(send.key, [send]);
      } else {
        batch.push(send);
      }
    }
    for (const [key, sends] of batches) {
      this.startBatch(sends, this.producerId, this.sequences.get(key) ?? 0);
    }
    this.queue.length = 0;
    this.queue.push(...waiting);
  }

  private startBatch(sends: readonly Send[], producerId: number, sequence: number): void {
    const first = sends[0] as Send;
    this.batches++;
    const batch: Batch = {
      id: `${this.ctx.name}-i${this.incarnation}-b${this.batches}`,
      key: first.key,
      sends,
      sequence,
      producerId,
      timer: -1,
      attempts: 0,
    };
    this.inFlight.set(batch.id, batch);
    this.inFlightSends += sends.length;
    this.attempt(batch);
  }

  private attempt(batch: Batch): void {
    this.ctx.cancelTimer(batch.timer);
    batch.attempts++;
    const request = {
      type: 'produce',
      id: batch.id,
      key: batch.key,
      values: batch.sends.map((send) => encodeEvent(send.event)),
      producerId: batch.producerId,
      sequence: batch.sequence,
      acks: 'all',
    } satisfies ClientRequest;
    this.ctx.send(
      this.leaders.leaderOf(batch.key),
      request as unknown as SimMessage,
      32 + 16 * batch.sends.length,
    );
    batch.timer = this.ctx.setTimer(ATTEMPT_TIMEOUT_US, 'pub:attempt');
  }

  private retrySoon(batch: Batch): void {
    this.ctx.cancelTimer(batch.timer);
    batch.timer = this.ctx.setTimer(RETRY_US, 'pub:attempt');
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
    const batch = this.inFlight.get(reply.id);
    if (batch === undefined) {
      return true; // a late or duplicated answer to a batch already acknowledged
    }
    if (reply.type === 'produce-ok') {
      this.ctx.cancelTimer(batch.timer);
      this.inFlight.delete(batch.id);
      this.inFlightSends -= batch.sends.length;
      if (!this.unordered && batch.producerId === this.producerId) {
        this.sequences.set(batch.key, batch.sequence + batch.sends.length);
      }
      for (const [at, send] of batch.sends.entries()) {
        send.done(batch.key, reply.offset + at);
      }
      this.pump();
      return true;
    }
    if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(batch.key);
      this.leaders.refresh();
      this.retrySoon(batch);
    } else if (reply.error === 'out-of-order-sequence' && !this.unordered) {
      // The leader lost track of this producer (its state was evicted): go on as a new one.
      // The batch may still be appended under the old id, so this can publish it twice.
      this.resets++;
      assert(this.resets < PRODUCER_RESETS_MAX, 'producer reset too often');
      this.producerId = this.idFor(this.resets);
      this.sequences.clear();
      batch.producerId = this.producerId;
      batch.sequence = 0;
      this.retrySoon(batch);
    } else {
      // not-enough-replicas (refused before appending) or an unknown outcome: the same
      // sequence again, which the leader deduplicates if an earlier attempt did land.
      this.retrySoon(batch);
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
    for (const batch of this.inFlight.values()) {
      if (batch.timer === timerId) {
        if (batch.attempts % 4 === 0) {
          this.leaders.leaders.delete(batch.key);
          this.leaders.refresh();
        }
        this.attempt(batch);
        break;
      }
    }
    return true;
  }
}
