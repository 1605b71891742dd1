// The outbox's events: what an order service writes to the outbox table in the same
// transaction as its business rows, and how one travels through Kafka-lite.
//
// Kafka-lite's records are integers (Maelstrom's kafka workload), so an event crosses it as
// one safe integer with its fields packed in fixed widths — a compact binary encoding, the
// way a real producer would serialise to bytes. The outbox row keeps the same fields as JSON.
import { assert } from '../../sim/assert.ts';
import type { KafkaKey } from '../kafka/contract.ts';
import type { DbValue } from './db-protocol.ts';

export type OutboxEventType = 'OrderPlaced' | 'OrderUpdated';

export interface OutboxEvent {
  /** Unique across the run: the service, its incarnation, and a counter within it. */
  readonly eventId: number;
  /** The order it is about; one service owns an order. */
  readonly aggregateId: number;
  readonly type: OutboxEventType;
  /** The order's amount after this event (what payment charges, shipping packs). */
  readonly amount: number;
}

// Field widths of the packed value: eventId 29 bits, aggregateId 15, type 1, amount 8 = 53.
export const SERVICES_MAX = 7;
export const INCARNATIONS_MAX = 1 << 10;
export const EVENTS_PER_INCARNATION_MAX = 1 << 16;
export const ORDERS_PER_SERVICE_MAX = (1 << 12) - 1;
export const AMOUNT_MAX = (1 << 8) - 1;
const EVENT_ID_SPAN = 2 ** 29;
const AGGREGATE_SPAN = 2 ** 15;

export function eventIdOf(serviceIndex: number, incarnation: number, counter: number): number {
  assert(serviceIndex >= 1 && serviceIndex <= SERVICES_MAX, 'service index out of range');
  assert(incarnation >= 0 && incarnation < INCARNATIONS_MAX, 'service incarnation out of range');
  assert(counter >= 0 && counter < EVENTS_PER_INCARNATION_MAX, 'event counter out of range');
  return (serviceIndex * INCARNATIONS_MAX + incarnation) * EVENTS_PER_INCARNATION_MAX + counter;
}

export function aggregateIdOf(serviceIndex: number, orderNumber: number): number {
  assert(serviceIndex >= 1 && serviceIndex <= SERVICES_MAX, 'service index out of range');
  assert(orderNumber >= 1 && orderNumber <= ORDERS_PER_SERVICE_MAX, 'order number out of range');
  return serviceIndex * (ORDERS_PER_SERVICE_MAX + 1) + orderNumber;
}

/** One safe integer carrying every field of the event. */
export function encodeEvent(event: OutboxEvent): number {
  assert(Number.isSafeInteger(event.eventId) && event.eventId >= 0, 'event id');
  assert(event.eventId < EVENT_ID_SPAN, 'event id too wide');
  assert(event.aggregateId >= 0 && event.aggregateId < AGGREGATE_SPAN, 'aggregate id too wide');
  assert(event.amount >= 0 && event.amount <= AMOUNT_MAX, 'amount too wide');
  const type = event.type === 'OrderPlaced' ? 0 : 1;
  return ((event.eventId * AGGREGATE_SPAN + event.aggregateId) * 2 + type) * 256 + event.amount;
}

/** The event a record value carries; undefined for a value no outbox producer could write. */
export function decodeEvent(value: number): OutboxEvent | undefined {
  if (!Number.isSafeInteger(value) || value < 0) {
    return undefined;
  }
  const amount = value % 256;
  let rest = (value - amount) / 256;
  const type = rest % 2 === 0 ? 'OrderPlaced' : 'OrderUpdated';
  rest = (rest - (rest % 2)) / 2;
  const aggregateId = rest % AGGREGATE_SPAN;
  const eventId = (rest - aggregateId) / AGGREGATE_SPAN;
  return { eventId, aggregateId, type, amount };
}

/** The partition (topic `orders`) an aggregate's events go to: all of one order's to one. */
export function partitionOf(aggregateId: number, partitions: readonly KafkaKey[]): KafkaKey {
  assert(partitions.length > 0, 'the orders topic needs partitions');
  return partitions[aggregateId % partitions.length] as KafkaKey;
}

// ---- the outbox table ------------------------------------------------------------------------

export const OUTBOX_TABLE = 'outbox';
export const OUTBOX_KEY_DIGITS = 10;

/** `svc1:0000000042`: key order is creation order within one service. */
export function outboxKey(service: string, sequence: number): string {
  assert(Number.isSafeInteger(sequence) && sequence >= 0, 'outbox sequence');
  const digits = String(sequence);
  assert(digits.length <= OUTBOX_KEY_DIGITS, 'outbox sequence too long');
  return `${service}:${digits.padStart(OUTBOX_KEY_DIGITS, '0')}`;
}

/** An outbox row as stored: the event and the transaction that wrote it. */
export interface OutboxRow extends OutboxEvent {
  readonly txId: string;
}

export function encodeOutboxRow(row: OutboxRow): DbValue {
  return {
    eventId: row.eventId,
    aggregateId: row.aggregateId,
    type: row.type,
    amount: row.amount,
    txId: row.txId,
  };
}

/** The row, or undefined when the stored value is not one (never trust what comes back). */
export function decodeOutboxRow(value: DbValue): OutboxRow | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const row = value as Record<string, unknown>;
  const ok =
    Number.isSafeInteger(row['eventId']) &&
    Number.isSafeInteger(row['aggregateId']) &&
    (row['type'] === 'OrderPlaced' || row['type'] === 'OrderUpdated') &&
    Number.isSafeInteger(row['amount']) &&
    typeof row['txId'] === 'string';
  return ok ? (row as unknown as OutboxRow) : undefined;
}

export function eventOf(row: OutboxRow): OutboxEvent {
  return { eventId: row.eventId, aggregateId: row.aggregateId, type: row.type, amount: row.amount };
}

export function sameEvent(a: OutboxEvent, b: OutboxEvent): boolean {
  return (
    a.eventId === b.eventId &&
    a.aggregateId === b.aggregateId &&
    a.type === b.type &&
    a.amount === b.amount
  );
}

export function describeEvent(event: OutboxEvent): string {
  return `event ${event.eventId} (${event.type} of order ${event.aggregateId}, amount ${event.amount})`;
}
