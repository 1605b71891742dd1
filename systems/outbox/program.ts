// The groups of an outbox run, in one simulation: Kafka-lite (a controller quorum and
// brokers; the topic `orders` is its partitions k0…, keyed by aggregate), the order
// database `db`, the relay that gets the outbox out (`relay`: CDC, or `poller`: polling; none
// for dual-write, where the services publish themselves), the order services `svc1`…, and
// the consumers `pay1` and `ship1`, each with its own database (`paydb`, `shipdb`, the same
// database program). Every group is a server group: the swarm crashes, pauses and cuts off
// services, relays and consumers as it does brokers and databases.
import type { GroupSpec } from '../../sim/scenario.ts';
import type { ProgramFactory } from '../../sim/types.ts';
import { kafkaGroups } from '../kafka/program.ts';
import { CdcRelay, type RelayBug } from './cdc-relay.ts';
import { OutboxConsumer } from './consumer.ts';
import { OrderService } from './order-service.ts';
import { OUTBOX_GROUPS } from './outbox-contract.ts';
import { PollingPublisher } from './poller.ts';

export type OutboxBug = RelayBug | 'consumer-not-idempotent' | 'outbox-outside-transaction';

export const OUTBOX_VARIANTS: Record<OutboxBug, string> = {
  'relay-saves-position-before-publish':
    'the relay saves its position past an event (the poller deletes its rows) before Kafka has acknowledged it, so a crash in between skips the event',
  'relay-position-per-lsn':
    "the CDC relay saves its position as the commit LSN alone and resumes after the whole LSN, so a crash between two events of one transaction skips the second (Debezium's multi-event-per-LSN trap)",
  'publish-unordered':
    'the relay publishes a batch of events concurrently without idempotence (max.in.flight > 1), so jitter and retries reorder one order’s events',
  'consumer-not-idempotent':
    'the consumers apply every record they read without checking processed/, so a re-published or redelivered event takes effect twice',
  'outbox-outside-transaction':
    'the service writes the outbox rows in a second transaction after the business one commits, so a crash or failure in between loses the events',
};

/** The variants that make sense per relay kind (the polling publisher has no LSN). */
export const CDC_VARIANTS: Record<string, string> = OUTBOX_VARIANTS;
export const POLLING_VARIANTS: Record<string, string> = Object.fromEntries(
  Object.entries(OUTBOX_VARIANTS).filter(([name]) => name !== 'relay-position-per-lsn'),
);

export interface OutboxTopology {
  relay: 'cdc' | 'polling' | 'none';
  services: number;
  brokers: number;
  /** The database node's program (order, payment and shipping databases alike). */
  database: ProgramFactory;
}

export function outboxGroups(topology: OutboxTopology): GroupSpec[] {
  const kafka = kafkaGroups({
    controllers: 3,
    brokers: topology.brokers,
    producers: 0,
    consumers: 0,
  }).filter((group) => group.name === 'controllers' || group.name === 'brokers');
  const relay: GroupSpec[] =
    topology.relay === 'cdc'
      ? [
          {
            name: OUTBOX_GROUPS.relay,
            size: 1,
            prefix: 'relay',
            alone: true,
            program: (ctx) => new CdcRelay(ctx),
          },
        ]
      : topology.relay === 'polling'
        ? [
            {
              name: OUTBOX_GROUPS.poller,
              size: 1,
              prefix: 'poller',
              alone: true,
              program: (ctx) => new PollingPublisher(ctx),
            },
          ]
        : [];
  return [
    ...kafka,
    { name: OUTBOX_GROUPS.db, size: 1, prefix: 'db', alone: true, program: topology.database },
    ...relay,
    {
      name: OUTBOX_GROUPS.services,
      size: topology.services,
      prefix: 'svc',
      program: (ctx) => new OrderService(ctx),
    },
    {
      name: OUTBOX_GROUPS.payments,
      size: 1,
      prefix: 'pay',
      program: (ctx) =>
        new OutboxConsumer(ctx, { dbGroup: OUTBOX_GROUPS.paymentsDb, effectTable: 'charges' }),
    },
    {
      name: OUTBOX_GROUPS.paymentsDb,
      size: 1,
      prefix: 'paydb',
      alone: true,
      program: topology.database,
    },
    {
      name: OUTBOX_GROUPS.shipping,
      size: 1,
      prefix: 'ship',
      program: (ctx) =>
        new OutboxConsumer(ctx, { dbGroup: OUTBOX_GROUPS.shippingDb, effectTable: 'shipments' }),
    },
    {
      name: OUTBOX_GROUPS.shippingDb,
      size: 1,
      prefix: 'shipdb',
      alone: true,
      program: topology.database,
    },
  ];
}
