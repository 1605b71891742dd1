// The groups of a Kafka scenario: a controller quorum (a Raft group owning the metadata),
// brokers holding the partitions, producers and consumers that record the history.
import type { GroupSpec } from '../../sim/scenario.ts';
import { variantFor } from '../../sim/scenario.ts';
import type { RaftNodeOptions } from '../raft/group.ts';
import { BrokerNode, type KafkaBug } from './broker.ts';
import { KafkaConsumer, KafkaProducer } from './client.ts';
import { ControllerNode } from './controller.ts';
import { KafkaGroupConsumer } from './group-consumer.ts';

export const KAFKA_VARIANTS: Record<KafkaBug, string> = {
  'hw-advanced-before-isr-ack':
    'a leader uses a shrunk ISR (and advances its high watermark with it) before the controller has accepted the change',
  'no-producer-dedup-after-failover':
    "a new leader starts without the idempotent producers' state, so a retried batch is appended twice",
  'fetch-beyond-hw': 'a leader lets consumers read records above its high watermark',
  'stale-generation-commit-accepted':
    'the group coordinator accepts offset commits from members and generations it has moved on from',
  'damaged-tail-cut-as-torn':
    'brokers keep no recovery point, so a synced tail that a media fault damaged is cut at restart as if a crash had torn it, records it acknowledged with it (only the `kafka` swarm draws media faults)',
  'elr-hw-moves-below-min-isr':
    'with eligible leader replicas, a leader still advances its high watermark while the ISR is below min.insync.replicas, so a replica elected from them may lack records consumers have read (only with eligible leader replicas, which no swarm turns on for now: see scenarios/kafka.ts)',
};

export function kafkaBugs(variant: string | null): Set<KafkaBug> {
  const name = variantFor(variant, 'kafka');
  return name !== null && name in KAFKA_VARIANTS ? new Set([name as KafkaBug]) : new Set();
}

export interface KafkaGroupSizes {
  controllers: number;
  brokers: number;
  producers: number;
  consumers: number;
  /** Group-managed (subscribe) consumers, `m1`…; the workload must turn `consumerGroups` on. */
  members?: number;
}

export function kafkaGroups(
  sizes: KafkaGroupSizes,
  raft: Partial<RaftNodeOptions> = {},
): GroupSpec[] {
  return [
    {
      name: 'controllers',
      size: sizes.controllers,
      prefix: 'ctrl',
      program: (context) => new ControllerNode(context, raft),
    },
    {
      name: 'brokers',
      size: sizes.brokers,
      prefix: 'broker',
      program: (context) => new BrokerNode(context, kafkaBugs(context.variant)),
    },
    {
      name: 'producers',
      size: sizes.producers,
      prefix: 'p',
      client: true,
      program: (context) => new KafkaProducer(context),
    },
    {
      name: 'consumers',
      size: sizes.consumers,
      prefix: 'c',
      client: true,
      program: (context) => new KafkaConsumer(context),
    },
    ...(sizes.members === undefined
      ? []
      : [
          {
            name: 'members',
            size: sizes.members,
            prefix: 'm',
            client: true,
            program: (context) => new KafkaGroupConsumer(context),
          } satisfies GroupSpec,
        ]),
  ];
}
