// The outbox's event publisher on its own, with a hand-driven context: one produce request in
// flight per partition, each a batch of the partition's oldest queued events (so a backlog
// drains a batch per round trip, not an event), the same batch and sequence on every retry,
// sequences that go on from the batch acknowledged, and offsets handed out in batch order.
import { describe, expect, it } from 'vitest';

import { Random } from '../../sim/random.ts';
import type { NodeContext, NodeId, Message as SimMessage } from '../../sim/types.ts';
import { type ClientRequest, kafkaConfig, PRODUCE_RECORDS_MAX } from '../kafka/messages.ts';
import { decodeEvent, type OutboxEvent, partitionOf } from './events.ts';
import { EventPublisher } from './publisher.ts';

type Produce = Extract<ClientRequest, { type: 'produce' }>;

function rig(unordered = false) {
  const sent: { to: NodeId; message: Produce }[] = [];
  const timers = new Map<number, string>();
  let nextTimer = 0;
  const ctx = {
    id: 3,
    name: 'poller',
    group: 'poller',
    workload: {},
    random: Random.fromSeed(7),
    members: (group: string) => (group === 'brokers' ? [10, 11, 12] : []),
    send: (to: NodeId, message: SimMessage) => {
      const body = message as unknown as { type: string };
      if (body.type === 'produce') {
        sent.push({ to, message: message as unknown as Produce });
      }
    },
    setTimer: (_delayUs: number, tag: string) => {
      timers.set(++nextTimer, tag);
      return nextTimer;
    },
    cancelTimer: (timerId: number) => timers.delete(timerId),
    monotonic: () => 0,
  } as unknown as NodeContext;
  const publisher = new EventPublisher(ctx, 0, unordered);
  publisher.start();
  const partitions = kafkaConfig({}).keys;
  publisher.onMessage(10, {
    type: 'metadata-ok',
    id: 'm',
    leaders: Object.fromEntries(partitions.map((key) => [key, 11])),
  } as unknown as SimMessage);
  const acknowledged: { eventId: number; key: string; offset: number }[] = [];
  const publish = (event: OutboxEvent) =>
    publisher.publish(event, (key, offset) =>
      acknowledged.push({ eventId: event.eventId, key, offset }),
    );
  const ok = (request: Produce, offset: number) =>
    publisher.onMessage(11, {
      type: 'produce-ok',
      id: request.id,
      offset,
    } as unknown as SimMessage);
  const fireAttemptTimers = () => {
    for (const [timerId, tag] of [...timers]) {
      if (tag === 'pub:attempt') {
        timers.delete(timerId);
        publisher.onTimer(tag, timerId);
      }
    }
  };
  return { publisher, partitions, sent, acknowledged, publish, ok, fireAttemptTimers };
}

const event = (eventId: number, aggregateId: number): OutboxEvent => ({
  eventId,
  aggregateId,
  type: 'OrderPlaced',
  amount: eventId % 200,
});

describe('the event publisher', () => {
  it('drains a backlog in batches, one in flight per partition, offsets in order', () => {
    const { publisher, partitions, sent, acknowledged, publish, ok } = rig();
    const aggregate = 0; // every event to one partition
    const backlog = 2 * PRODUCE_RECORDS_MAX + 5;
    for (let id = 0; id < backlog; id++) {
      publish(event(id, aggregate));
    }
    // The first event goes at once, alone (no linger); the rest wait for it, then go in batches.
    expect(sent).toHaveLength(1);
    const first = sent[0]?.message as Produce;
    expect(first.key).toBe(partitionOf(aggregate, partitions));
    expect(first.values).toHaveLength(1);
    expect(first.sequence).toBe(0);
    ok(first, 100);
    const second = sent[1]?.message as Produce;
    expect(second.sequence).toBe(1);
    expect(second.values).toHaveLength(PRODUCE_RECORDS_MAX);
    expect(second.values.map((value) => decodeEvent(value)?.eventId)).toEqual(
      Array.from({ length: PRODUCE_RECORDS_MAX }, (_, at) => 1 + at),
    );
    ok(second, 200);
    const third = sent[2]?.message as Produce;
    expect(third.sequence).toBe(1 + PRODUCE_RECORDS_MAX);
    expect(third.values).toHaveLength(PRODUCE_RECORDS_MAX);
    ok(third, 300);
    const fourth = sent[3]?.message as Produce;
    expect(fourth.sequence).toBe(1 + 2 * PRODUCE_RECORDS_MAX);
    expect(fourth.values).toHaveLength(4);
    ok(fourth, 400);
    expect(sent).toHaveLength(4);
    expect(publisher.idle()).toBe(true);
    expect(acknowledged.map((entry) => entry.eventId)).toEqual(
      Array.from({ length: backlog }, (_, at) => at),
    );
    expect(acknowledged[0]?.offset).toBe(100);
    expect(acknowledged[1 + 3]?.offset).toBe(203);
    expect(acknowledged.at(-1)?.offset).toBe(403);
  });

  it('retries a batch whole, with its sequence, and counts what is pending', () => {
    const { publisher, sent, publish, ok, fireAttemptTimers } = rig();
    for (let id = 0; id < 3; id++) {
      publish(event(id, 1));
    }
    publish(event(3, 2)); // another partition: its own batch, in flight at once
    expect(sent).toHaveLength(2);
    expect(publisher.pending()).toBe(4);
    fireAttemptTimers();
    expect(sent).toHaveLength(4);
    expect(sent[2]?.message).toEqual(sent[0]?.message);
    expect(sent[3]?.message).toEqual(sent[1]?.message);
    ok(sent[2]?.message as Produce, 50);
    ok(sent[0]?.message as Produce, 50); // the first attempt's late answer: already done
    // The two events queued behind the first go as one batch, sequence 1.
    expect(sent).toHaveLength(5);
    expect(sent[4]?.message.values).toHaveLength(2);
    expect(sent[4]?.message.sequence).toBe(1);
    expect(publisher.pending()).toBe(3);
  });

  it('unordered, sends every event on its own, not idempotent', () => {
    const { sent, publish } = rig(true);
    for (let id = 0; id < 5; id++) {
      publish(event(id, 0));
    }
    expect(sent).toHaveLength(5);
    expect(sent.every((entry) => entry.message.values.length === 1)).toBe(true);
    expect(sent.every((entry) => entry.message.producerId < 0)).toBe(true);
  });
});
