// The Kafka-like log (issue 15): a controller quorum of three (a Raft group owning the
// metadata, KRaft-style), 3–5 brokers holding three partitions with replication factor 3,
// producers sending idempotently with acks=all and min.insync.replicas=2, consumers assigned
// every partition, clean elections; every fault kind and group-aware partitions. The client
// history must show none of Jepsen's Kafka anomalies, and after the settle phase every
// acknowledged send must have been polled.
//
// The expected-loss configurations are the same cluster with one classic mistake each; the
// history checker must catch the loss.
import { kafkaBrokerInvariants } from '../invariants/kafka-brokers.ts';
import { kafkaHistoryInvariants } from '../invariants/kafka-history.ts';
import { raftSafetyInvariants } from '../invariants/raft.ts';
import { registerScenario, type Scenario } from '../sim/scenario.ts';
import { FAULT_KINDS } from '../sim/types.ts';
import { KAFKA_VARIANTS, kafkaGroups } from '../systems/kafka/program.ts';

const SECOND = 1_000_000;

const KAFKA_BASE = {
  system: 'kafka',
  groups: kafkaGroups({ controllers: 3, brokers: 5, producers: 3, consumers: 2 }),
  durationUs: 10 * SECOND,
  settleUs: 6 * SECOND,
  shape: {
    durationUs: { min: 2 * SECOND, max: 12 * SECOND },
    groupSizes: { brokers: [3, 4, 5], producers: [1, 2, 3], consumers: [1, 2] },
  },
  faults: {
    // As for raft: a latent sector error on a lone copy is unrecoverable here.
    eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'),
    swarm: true,
  },
  workload: {
    keys: 3,
    replicationFactor: 3,
    minInsyncReplicas: 2,
    acks: 'all',
    uncleanElection: false,
    leaderEpochs: true,
    thinkUs: 20_000,
  },
  invariants: () => [
    ...raftSafetyInvariants({ groups: ['metadata'] }),
    ...kafkaHistoryInvariants({ unseen: true }),
  ],
  sometimes: {
    'a partition changed leader': (record) =>
      record.observation.type === 'kafka-leader-elected' &&
      (record.observation['leaderEpoch'] as number) > 1,
    'a follower truncated a diverged log': (record) => record.observation.type === 'kafka-diverged',
    "a retried send was answered from the producer's state": (record) =>
      record.observation.type === 'kafka-duplicate-suppressed',
  },
} satisfies Omit<Scenario, 'name' | 'description' | 'variants'>;

registerScenario({
  ...KAFKA_BASE,
  name: 'kafka',
  // The expected-loss configurations below break these on purpose; they are judged by the
  // client history alone.
  invariants: () => [...KAFKA_BASE.invariants(), ...kafkaBrokerInvariants()],
  description:
    '3 controllers (Raft) and 3–5 brokers with 3 partitions, RF 3, acks=all, min.insync.replicas=2, clean elections, idempotent producers, consumers on every partition; every fault kind. No Jepsen Kafka anomaly, nothing acknowledged left unpolled.',
  variants: KAFKA_VARIANTS,
});

registerScenario({
  ...KAFKA_BASE,
  name: 'kafka-acks1-leader-crash',
  description:
    'Expected loss: producers use acks=1, so a leader acknowledges before its followers have a record; when it crashes or is cut off, a follower from the ISR leads without it.',
  workload: { ...KAFKA_BASE.workload, acks: '1' },
  variants: {},
});

registerScenario({
  ...KAFKA_BASE,
  name: 'kafka-unclean-election',
  description:
    'Expected loss: min.insync.replicas=1 and unclean leader election on, so a leader acknowledges alone once the ISR has shrunk to it, and an out-of-sync replica may lead when it is gone.',
  workload: { ...KAFKA_BASE.workload, minInsyncReplicas: 1, uncleanElection: true },
  variants: {},
});

registerScenario({
  ...KAFKA_BASE,
  name: 'kafka-min-isr-1',
  description:
    "Expected loss: min.insync.replicas=1 and Kafka's default of not fsyncing before acknowledging, so a leader whose ISR has shrunk to itself acknowledges records only in its page cache; when it loses power it comes back without them and, the last replica standing, leads again (KIP-966's case).",
  workload: { ...KAFKA_BASE.workload, minInsyncReplicas: 1, fsyncBeforeAck: false },
  variants: {},
});

registerScenario({
  ...KAFKA_BASE,
  name: 'kafka-truncate-without-epochs',
  description:
    'Expected loss: the protocol before KIP-101 — no leader epochs, a follower truncates to its high watermark when it starts following, and (as with ZooKeeper sessions) a broker back from a restart keeps its ISR place and leaderships — so a fast double failover loses committed records or leaves the logs diverged at one offset.',
  workload: { ...KAFKA_BASE.workload, leaderEpochs: false },
  variants: {},
});
