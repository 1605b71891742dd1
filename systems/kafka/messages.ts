// The wire messages of the Kafka-like log: broker ↔ controller (heartbeats carrying
// metadata, AlterPartition), broker ↔ broker (replica fetches, KIP-320 style with the last
// fetched epoch so the leader can tell a follower where its log diverged), and clients ↔
// brokers (produce, consume, metadata). Plus the knobs and the partition layout every node
// derives the same way from the plan.
import type { NodeId, WorkloadValue } from '../../sim/types.ts';
import type { KafkaKey, KafkaValue } from './contract.ts';
import type { PartitionState } from './metadata.ts';

/** A run of records of one batch on the wire. */
export interface WireBatch {
  readonly baseOffset: number;
  readonly leaderEpoch: number;
  readonly producerId: number;
  readonly baseSequence: number;
  readonly values: readonly KafkaValue[];
}

export type ControllerRequest =
  | { type: 'ctl-heartbeat'; session: number; version: number }
  | {
      type: 'ctl-alter-partition';
      id: number;
      key: KafkaKey;
      leaderEpoch: number;
      partitionEpoch: number;
      isr: NodeId[];
    };

export type ControllerReply =
  | { type: 'ctl-not-leader'; hint: NodeId | null }
  | {
      type: 'ctl-heartbeat-ok';
      version: number;
      /** All partitions, when `version` is newer than what the broker said it had. */
      partitions: PartitionState[] | null;
      fenced: boolean;
    }
  | { type: 'ctl-alter-result'; id: number; ok: boolean; partition: PartitionState | null };

export interface ReplicaFetch {
  type: 'replica-fetch';
  key: KafkaKey;
  leaderEpoch: number;
  fetchOffset: number;
  /** The epoch of the record just below fetchOffset (-1: none). */
  lastFetchedEpoch: number;
  /** How far the follower's log is durable (never above fetchOffset). */
  durableOffset: number;
}

export interface ReplicaFetchResponse {
  type: 'replica-fetch-response';
  key: KafkaKey;
  leaderEpoch: number;
  fetchOffset: number;
  error: 'fenced-epoch' | 'unknown-epoch' | 'not-leader' | null;
  /** Set when the follower's log diverged: truncate to this epoch's end here. */
  diverging: { epoch: number; endOffset: number } | null;
  batches: WireBatch[];
  highWatermark: number;
}

export type ClientRequest =
  | {
      type: 'produce';
      id: string;
      key: KafkaKey;
      value: KafkaValue;
      producerId: number;
      sequence: number;
      acks: 'all' | '1';
    }
  | { type: 'consume'; id: string; key: KafkaKey; offset: number }
  | { type: 'metadata'; id: string };

export type ProduceError =
  | 'not-leader'
  | 'not-enough-replicas'
  | 'not-enough-replicas-after-append'
  | 'out-of-order-sequence'
  | 'timeout';

export type ClientReply =
  | { type: 'produce-ok'; id: string; offset: number }
  | { type: 'produce-error'; id: string; error: ProduceError; definite: boolean }
  | { type: 'consume-ok'; id: string; key: KafkaKey; pairs: [number, KafkaValue][] }
  | {
      type: 'consume-error';
      id: string;
      key: KafkaKey;
      error: 'not-leader' | 'offset-out-of-range';
    }
  | { type: 'metadata-ok'; id: string; leaders: Record<KafkaKey, NodeId> };

// ---- configuration -----------------------------------------------------------------------------

export interface KafkaConfig {
  readonly keys: readonly KafkaKey[];
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly acks: 'all' | '1';
  readonly uncleanElection: boolean;
  /** Leader epochs on: followers truncate by epoch (KIP-101/320); off: to their HW. */
  readonly leaderEpochs: boolean;
  /**
   * On: a record counts toward the high watermark and acks=1 only once fsynced. Off: once in
   * the page cache, as Kafka does by default (flush.messages unset), relying on replication.
   */
  readonly fsyncBeforeAck: boolean;
  readonly heartbeatUs: number;
  readonly sessionTimeoutUs: number;
  readonly replicaLagMaxUs: number;
  readonly fetchIntervalUs: number;
  readonly requestTimeoutUs: number;
}

export const DEFAULT_KAFKA_CONFIG: KafkaConfig = {
  keys: ['k0', 'k1', 'k2'],
  replicationFactor: 3,
  minInsyncReplicas: 2,
  acks: 'all',
  uncleanElection: false,
  leaderEpochs: true,
  fsyncBeforeAck: true,
  heartbeatUs: 50_000,
  sessionTimeoutUs: 400_000,
  replicaLagMaxUs: 300_000,
  fetchIntervalUs: 20_000,
  requestTimeoutUs: 500_000,
};

/** The configuration a plan's workload sets (scenarios put the knobs there). */
export function kafkaConfig(workload: Readonly<Record<string, WorkloadValue>>): KafkaConfig {
  const number = (name: keyof KafkaConfig, fallback: number) =>
    typeof workload[name] === 'number' ? (workload[name] as number) : fallback;
  const partitions = number('keys' as keyof KafkaConfig, DEFAULT_KAFKA_CONFIG.keys.length);
  return {
    keys: Array.from({ length: partitions }, (_, at) => `k${at}`),
    replicationFactor: number('replicationFactor', DEFAULT_KAFKA_CONFIG.replicationFactor),
    minInsyncReplicas: number('minInsyncReplicas', DEFAULT_KAFKA_CONFIG.minInsyncReplicas),
    acks: workload['acks'] === '1' ? '1' : 'all',
    uncleanElection: workload['uncleanElection'] === true,
    leaderEpochs: workload['leaderEpochs'] !== false,
    fsyncBeforeAck: workload['fsyncBeforeAck'] !== false,
    heartbeatUs: number('heartbeatUs', DEFAULT_KAFKA_CONFIG.heartbeatUs),
    sessionTimeoutUs: number('sessionTimeoutUs', DEFAULT_KAFKA_CONFIG.sessionTimeoutUs),
    replicaLagMaxUs: number('replicaLagMaxUs', DEFAULT_KAFKA_CONFIG.replicaLagMaxUs),
    fetchIntervalUs: number('fetchIntervalUs', DEFAULT_KAFKA_CONFIG.fetchIntervalUs),
    requestTimeoutUs: number('requestTimeoutUs', DEFAULT_KAFKA_CONFIG.requestTimeoutUs),
  };
}

/** Each partition's replicas: `replicationFactor` brokers, starting one further along per key. */
export function partitionLayout(
  config: KafkaConfig,
  brokers: readonly NodeId[],
): { key: KafkaKey; replicas: NodeId[] }[] {
  const factor = Math.min(config.replicationFactor, brokers.length);
  return config.keys.map((key, at) => ({
    key,
    replicas: Array.from(
      { length: factor },
      (_, step) => brokers[(at + step) % brokers.length] as NodeId,
    ),
  }));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record's payload: the value, as decimal text. */
export function encodeValue(value: KafkaValue): Uint8Array {
  return encoder.encode(String(value));
}

export function decodeValue(payload: Uint8Array): KafkaValue {
  return Number(decoder.decode(payload));
}
