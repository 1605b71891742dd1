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
  /** The records' payloads as text: a value's decimal digits, or an offsets-partition record. */
  readonly payloads: readonly string[];
}

export type ControllerRequest =
  | {
      type: 'ctl-heartbeat';
      session: number;
      version: number;
      /** Partitions whose logs this session found damaged at its start (registration only). */
      damaged?: KafkaKey[];
    }
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
      /**
       * The session asked about, echoed: a broker acts only on a reply to its own session,
       * never on one to its previous incarnation's heartbeat still in flight (which would say
       * "not fenced" to a broker that has just restarted, or let it delete damaged copies
       * before its registration is in).
       */
      session: number;
    }
  | { type: 'ctl-alter-result'; id: number; ok: boolean; partition: PartitionState | null };

export interface ReplicaFetch {
  type: 'replica-fetch';
  key: KafkaKey;
  /**
   * The follower's correlation id for this fetch, unique within its session: it accepts
   * only the response to its latest fetch, so a duplicated or late response is never applied
   * twice (fetchOffset alone cannot tell: after a truncation the log end can return to it).
   */
  fetchId: number;
  /**
   * The follower's session (new at every start): fetch ids start over with it, and the
   * network may still deliver a fetch of the previous incarnation, whose answer then comes to
   * this one.
   */
  session: number;
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
  /** The fetch's fetchId and session, echoed. */
  fetchId: number;
  session: number;
  leaderEpoch: number;
  fetchOffset: number;
  /**
   * offset-out-of-range: the follower's fetch offset is below the leader's log start
   * (retention deleted what it would fetch); it truncates fully and starts at logStartOffset.
   */
  error: 'fenced-epoch' | 'unknown-epoch' | 'not-leader' | 'offset-out-of-range' | null;
  /** Set when the follower's log diverged: truncate to this epoch's end here. */
  diverging: { epoch: number; endOffset: number } | null;
  batches: WireBatch[];
  highWatermark: number;
  /** The leader's log start offset: a follower deletes what it holds below it. */
  logStartOffset: number;
}

/** Records in one produce request at most (one record batch). */
export const PRODUCE_RECORDS_MAX = 16;

export type ClientRequest =
  | {
      type: 'produce';
      id: string;
      key: KafkaKey;
      /** One record batch: 1 to PRODUCE_RECORDS_MAX values, at consecutive offsets. */
      values: KafkaValue[];
      producerId: number;
      /** The first record's sequence; the others follow it. */
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
  /** `offset`: the batch's first record's; the others follow it. */
  | { type: 'produce-ok'; id: string; offset: number }
  | { type: 'produce-error'; id: string; error: ProduceError; definite: boolean }
  | { type: 'consume-ok'; id: string; key: KafkaKey; pairs: [number, KafkaValue][] }
  | {
      type: 'consume-error';
      id: string;
      key: KafkaKey;
      error: 'not-leader' | 'offset-out-of-range';
      /**
       * The leader's log start offset: a position below it points at records retention has
       * deleted, and the consumer moves on to it (auto.offset.reset=earliest). Absent from
       * brokers that predate retention.
       */
      logStartOffset?: number;
      /** The leader's high watermark (the "latest" offset a consumer could reset to). */
      highWatermark?: number;
    }
  | { type: 'metadata-ok'; id: string; leaders: Record<KafkaKey, NodeId> };

// ---- consumer groups (client ↔ the group coordinator) ------------------------------------------

/** Every group request names its group; all but find-coordinator go to the coordinator. */
export type GroupRequest =
  /** Any broker answers with the leader of the offsets partition, as it last heard. */
  | { type: 'find-coordinator'; id: string }
  | {
      type: 'join-group';
      id: string;
      group: string;
      /** The consumer process (node and incarnation): a retried join keeps its member. */
      instance: string;
      memberId: string | null;
    }
  | { type: 'sync-group'; id: string; group: string; memberId: string; generation: number }
  | { type: 'group-heartbeat'; id: string; group: string; memberId: string; generation: number }
  | { type: 'leave-group'; id: string; group: string; memberId: string }
  | {
      type: 'offset-commit';
      id: string;
      group: string;
      memberId: string;
      generation: number;
      /** Per member and generation, increasing: a late duplicate of an older commit is refused. */
      sequence: number;
      offsets: Record<KafkaKey, number>;
    }
  | { type: 'offset-fetch'; id: string; group: string; keys: KafkaKey[] };

export type GroupError =
  | 'not-coordinator'
  | 'coordinator-loading'
  | 'not-enough-replicas'
  | 'unknown-member'
  | 'illegal-generation'
  | 'rebalance-in-progress'
  | 'stale-sequence'
  | 'overloaded';

export type GroupReply =
  | { type: 'find-coordinator-ok'; id: string; coordinator: NodeId }
  | { type: 'join-group-ok'; id: string; group: string; memberId: string; generation: number }
  | { type: 'sync-group-ok'; id: string; group: string; generation: number; keys: KafkaKey[] }
  | { type: 'group-heartbeat-ok'; id: string }
  | { type: 'leave-group-ok'; id: string }
  | { type: 'offset-commit-ok'; id: string }
  | { type: 'offset-fetch-ok'; id: string; offsets: Record<KafkaKey, number> }
  | { type: 'group-error'; id: string; error: GroupError };

/** The internal partition holding committed offsets and group generations (`__consumer_offsets`). */
export const OFFSETS_KEY = '__consumer_offsets';

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
  /**
   * Consumer groups: the offsets partition exists (replicated like any partition), and the
   * broker leading it coordinates the groups. Off: manual-assign consumers only.
   */
  readonly consumerGroups: boolean;
  /** A group member not heard from in this long is removed (session.timeout.ms). */
  readonly groupSessionTimeoutUs: number;
  /** How long a rebalance waits for every member to rejoin (rebalance.timeout.ms). */
  readonly rebalanceTimeoutUs: number;
  /** A partition log rolls a new segment once the active one holds this many bytes. */
  readonly segmentBytes: number;
  /**
   * Retention (retention.bytes, per partition): each replica deletes its oldest segments
   * while its log is over this size, never one holding an offset at or above its high
   * watermark; the offsets partition is never retention-deleted. 0: keep everything. With
   * it on, brokers also keep producer-state snapshots, so that deduplication survives the
   * deletion of the segments it was rebuilt from.
   */
  readonly retentionBytes: number;
  /**
   * Compaction of the offsets partition: each replica rewrites its sealed segments below its
   * high watermark keeping the newest record per group and key (offsets kept, gaps left).
   */
  readonly compactOffsets: boolean;
  /**
   * Every partition log keeps a recovery point (partition-log.ts), so that a broker whose
   * synced records a media fault damaged refuses to start instead of cutting them as a torn
   * tail. On in the swarms that draw media faults; off keeps the plans recorded before it.
   */
  readonly recoveryPoints: boolean;
  /**
   * Eligible leader replicas (KIP-966): replicas that left the ISR while it was below
   * min.insync.replicas still hold every record below the high watermark, which a leader
   * then no longer advances; when no ISR member is left to lead (the last one died or found
   * its copy damaged), one of them is elected, cleanly. It counts on fsync before
   * acknowledging (`fsyncBeforeAck`, as in every configuration that turns it on): a replica
   * that lost its page cache would not hold what it reported. Off keeps the plans recorded
   * before it, and the expected-loss configurations.
   */
  readonly eligibleLeaderReplicas: boolean;
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
  consumerGroups: false,
  groupSessionTimeoutUs: 600_000,
  rebalanceTimeoutUs: 600_000,
  segmentBytes: 16 * 1024,
  retentionBytes: 0,
  compactOffsets: false,
  recoveryPoints: false,
  eligibleLeaderReplicas: false,
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
    consumerGroups: workload['consumerGroups'] === true,
    groupSessionTimeoutUs: number(
      'groupSessionTimeoutUs',
      DEFAULT_KAFKA_CONFIG.groupSessionTimeoutUs,
    ),
    rebalanceTimeoutUs: number('rebalanceTimeoutUs', DEFAULT_KAFKA_CONFIG.rebalanceTimeoutUs),
    segmentBytes: number('segmentBytes', DEFAULT_KAFKA_CONFIG.segmentBytes),
    retentionBytes: number('retentionBytes', DEFAULT_KAFKA_CONFIG.retentionBytes),
    compactOffsets: workload['compactOffsets'] === true,
    recoveryPoints: workload['recoveryPoints'] === true,
    eligibleLeaderReplicas: workload['eligibleLeaderReplicas'] === true,
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

/**
 * Every partition the brokers hold: the topic's (partitionLayout) and, with consumer groups,
 * the offsets partition, placed one further along like another key.
 */
export function allPartitionsLayout(
  config: KafkaConfig,
  brokers: readonly NodeId[],
): { key: KafkaKey; replicas: NodeId[] }[] {
  const layout = partitionLayout(config, brokers);
  if (config.consumerGroups) {
    const factor = Math.min(config.replicationFactor, brokers.length);
    const at = config.keys.length;
    layout.push({
      key: OFFSETS_KEY,
      replicas: Array.from(
        { length: factor },
        (_, step) => brokers[(at + step) % brokers.length] as NodeId,
      ),
    });
  }
  return layout;
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

export function payloadText(payload: Uint8Array): string {
  return decoder.decode(payload);
}

export function textPayload(text: string): Uint8Array {
  return encoder.encode(text);
}
