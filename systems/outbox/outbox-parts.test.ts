// The outbox's event codec on its own: it carries an event through Kafka-lite's integer
// records and an outbox row through the database (systems/durable-cell.test.ts tests the
// relay's position file).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  AMOUNT_MAX,
  aggregateIdOf,
  decodeEvent,
  decodeOutboxRow,
  EVENTS_PER_INCARNATION_MAX,
  encodeEvent,
  encodeOutboxRow,
  eventIdOf,
  INCARNATIONS_MAX,
  ORDERS_PER_SERVICE_MAX,
  outboxKey,
  SERVICES_MAX,
} from './events.ts';

describe('the event codec', () => {
  it('round-trips every event it can carry, as a safe integer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: SERVICES_MAX }),
        fc.integer({ min: 0, max: INCARNATIONS_MAX - 1 }),
        fc.integer({ min: 0, max: EVENTS_PER_INCARNATION_MAX - 1 }),
        fc.integer({ min: 1, max: ORDERS_PER_SERVICE_MAX }),
        fc.boolean(),
        fc.integer({ min: 0, max: AMOUNT_MAX }),
        (service, incarnation, counter, order, placed, amount) => {
          const event = {
            eventId: eventIdOf(service, incarnation, counter),
            aggregateId: aggregateIdOf(service, order),
            type: placed ? ('OrderPlaced' as const) : ('OrderUpdated' as const),
            amount,
          };
          const value = encodeEvent(event);
          expect(Number.isSafeInteger(value)).toBe(true);
          expect(decodeEvent(value)).toEqual(event);
        },
      ),
    );
  });

  it('gives distinct events distinct ids across services and incarnations', () => {
    expect(eventIdOf(1, 1, 0)).not.toBe(eventIdOf(1, 0, 0));
    expect(eventIdOf(2, 0, 0)).not.toBe(eventIdOf(1, INCARNATIONS_MAX - 1, 0));
    expect(() => eventIdOf(1, INCARNATIONS_MAX, 0)).toThrow();
  });

  it('orders outbox keys as the sequence within a service', () => {
    const keys = [1, 9, 10, 100, 12345].map((sequence) => outboxKey('svc1', sequence));
    expect([...keys].sort()).toEqual(keys);
  });

  it('refuses an outbox row that is not one', () => {
    const row = {
      eventId: 5,
      aggregateId: 4097,
      type: 'OrderPlaced' as const,
      amount: 3,
      txId: 't',
    };
    expect(decodeOutboxRow(encodeOutboxRow(row))).toEqual(row);
    expect(decodeOutboxRow({ ...row, type: 'OrderShipped' })).toBeUndefined();
    expect(decodeOutboxRow('x')).toBeUndefined();
    expect(decodeOutboxRow(null)).toBeUndefined();
  });
});
