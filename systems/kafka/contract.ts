// The Kafka-like log's contract with its checkers (issue 15). Two halves:
//
//   1. The client history: the operations a Kafka client records, shaped like Maelstrom's
//      kafka workload (send(key, value) → offset, poll → messages per key, commit_offsets,
//      list_committed_offsets) plus assign (manual) and subscribe (group-managed). A key names
//      one topic-partition, one to one, as Jepsen's abstract keys do. The history checker
//      (invariants/kafka-history.ts) reads operations only through the parsers below.
//   2. The god's-eye view: what a broker's inspect() shows of each partition replica it holds,
//      for the invariants on replication (HW, ISR, epochs) and consumer groups.
//
// It lives with the system so that systems never import invariants/.
import type { ClusterView, HistoryOperation, NodeId } from '../../sim/types.ts';

// ---- the client history ------------------------------------------------------------------------

/** A message value: unique across the run (clients draw them so), as Jepsen requires. */
export type KafkaValue = number;

/** A key names one topic-partition. */
export type KafkaKey = string;

/** [offset, value] as a poll returns it. */
export type KafkaPair = readonly [offset: number, value: KafkaValue];

export type KafkaInput =
  | { readonly f: 'send'; readonly key: KafkaKey; readonly value: KafkaValue }
  | { readonly f: 'poll' }
  /** Manual assignment: replaces the consumer's partitions; positions go to committed offsets. */
  | { readonly f: 'assign'; readonly keys: readonly KafkaKey[] }
  /** Group-managed: the coordinator decides which of these keys the consumer gets. */
  | { readonly f: 'subscribe'; readonly keys: readonly KafkaKey[] }
  | { readonly f: 'commit_offsets'; readonly offsets: Readonly<Record<KafkaKey, number>> }
  | { readonly f: 'list_committed_offsets'; readonly keys: readonly KafkaKey[] };

export type KafkaF = KafkaInput['f'];

/** The output of a completed (`ok`) operation, by its input's `f`. */
export interface KafkaSendOk {
  readonly offset: number;
}

export interface KafkaPollOk {
  /** Per key, the [offset, value] pairs read, in the order the consumer got them. */
  readonly msgs: Readonly<Record<KafkaKey, readonly KafkaPair[]>>;
  /**
   * Which assignment of this consumer the poll read under: a manual assign bumps it, and so
   * does every rebalance of a group-managed consumer (its generation). Offsets must advance
   * one by one within an assignment; across a change they may repeat or jump (Jepsen resets
   * its poll-skip and nonmonotonic checks the same way).
   */
  readonly assignment: number;
}

export interface KafkaCommittedOk {
  readonly offsets: Readonly<Record<KafkaKey, number>>;
}

/** A history operation's input as the Kafka contract reads it; undefined if not a Kafka op. */
export function kafkaInput(input: unknown): KafkaInput | undefined {
  if (typeof input !== 'object' || input === null) {
    return undefined;
  }
  const record = input as Record<string, unknown>;
  switch (record['f']) {
    case 'send':
      return typeof record['key'] === 'string' && Number.isSafeInteger(record['value'])
        ? (record as unknown as KafkaInput)
        : undefined;
    case 'poll':
      return { f: 'poll' };
    case 'assign':
    case 'subscribe':
    case 'list_committed_offsets':
      return Array.isArray(record['keys']) ? (record as unknown as KafkaInput) : undefined;
    case 'commit_offsets':
      return typeof record['offsets'] === 'object' && record['offsets'] !== null
        ? (record as unknown as KafkaInput)
        : undefined;
    default:
      return undefined;
  }
}

/** The offset an ok send returned, or undefined. */
export function sendOffset(op: HistoryOperation): number | undefined {
  if (op.status !== 'ok') {
    return undefined;
  }
  const offset = (op.output as Partial<KafkaSendOk> | undefined)?.offset;
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/** The messages and assignment of an ok poll, or undefined. */
export function pollResult(op: HistoryOperation): KafkaPollOk | undefined {
  if (op.status !== 'ok') {
    return undefined;
  }
  const output = op.output as Partial<KafkaPollOk> | undefined;
  if (output?.msgs === undefined || typeof output.msgs !== 'object') {
    return undefined;
  }
  return { msgs: output.msgs, assignment: output.assignment ?? 0 };
}

// ---- the god's-eye view --------------------------------------------------------------------------

/** One replica of one partition on one broker, as invariants see it. */
export interface PartitionReplicaInspect {
  readonly key: KafkaKey;
  readonly role: 'leader' | 'follower';
  /** The leader epoch this replica knows (it only ever grows). */
  readonly leaderEpoch: number;
  /** The first offset still held (retention moves it up). */
  readonly logStartOffset: number;
  /** The log end offset: one past the last record held. */
  readonly logEndOffset: number;
  /** The high watermark: consumers read only below it. */
  readonly highWatermark: number;
  /** On the leader: the in-sync replicas, itself included. Empty on a follower. */
  readonly isr: readonly NodeId[];
  /** The value at an offset, undefined when not held. */
  valueAt(offset: number): KafkaValue | undefined;
}

/** What a broker's inspect() shows. */
export interface BrokerInspect {
  readonly role: 'broker';
  /** Every partition replica this broker holds, by key. */
  readonly partitions: ReadonlyMap<KafkaKey, PartitionReplicaInspect>;
}

/** A running broker's view, or undefined when the node is down or not a broker. */
export function brokerState(view: ClusterView, node: NodeId): BrokerInspect | undefined {
  const inspected = view.inspect(node) as Partial<BrokerInspect> | undefined;
  return inspected?.role === 'broker' ? (inspected as BrokerInspect) : undefined;
}

// ---- consumer groups: what the coordinator and members observe --------------------------------

/**
 * `kafka-offset-committed`: the coordinator saw a committed-offset record of the offsets
 * partition become durable (below its high watermark); every coordinator that holds the
 * record when its HW passes it says so, with the record's offset in that partition.
 */
export interface OffsetCommittedObservation {
  readonly type: 'kafka-offset-committed';
  readonly group: string;
  readonly key: KafkaKey;
  /** The committed position: the next offset the group reads. */
  readonly offset: number;
  readonly generation: number;
  readonly member: string;
  /** Where the record sits in the offsets partition (log order is commit order). */
  readonly logOffset: number;
}

/** `kafka-group-assignment`: a member learned its keys for a generation (sync-group). */
export interface GroupAssignmentObservation {
  readonly type: 'kafka-group-assignment';
  readonly group: string;
  readonly generation: number;
  readonly member: string;
  /** The consumer node's name. */
  readonly consumer: string;
  readonly keys: readonly KafkaKey[];
}

/**
 * `kafka-became-leader`: a broker took the leadership of a partition in a leader epoch. With
 * `fencesRestarts` (leader epochs on, KRaft-style fencing) a restarted broker never leads an
 * epoch it led before the restart: its unsynced tail is gone, and followers may still hold
 * records of that epoch it no longer has. Without (the pre-KIP-101 protocol) it resumes it.
 */
export interface BecameLeaderObservation {
  readonly type: 'kafka-became-leader';
  readonly key: KafkaKey;
  readonly leaderEpoch: number;
  readonly logEndOffset: number;
  /** The newest epoch of the records in its log (-1: none). */
  readonly latestLogEpoch: number;
  /** The broker's session: new at every start. */
  readonly session: number;
  readonly fencesRestarts: boolean;
}

/**
 * `kafka-partition-state`: a controller applied a change of a partition's metadata (leader,
 * leader epoch, ISR) from the metadata log. Every change bumps the partition epoch, and the
 * log decides each one once, so every controller reports the same state for one partition
 * epoch, and the leader epoch never falls as the partition epoch grows. A restarted controller
 * reports the changes again as it replays its log.
 */
export interface PartitionStateObservation {
  readonly type: 'kafka-partition-state';
  readonly key: KafkaKey;
  /** -1: offline, no eligible leader. */
  readonly leader: NodeId;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly NodeId[];
}

/**
 * `kafka-log-start-advanced`: a broker's replica of a partition moved its log start offset up,
 * deleting every record below it: by its own retention, following its leader's log start, or
 * restarting empty at the leader's log start (a follower that fell behind it). The history
 * checker excuses records deleted this way from lost-write and unseen, and a consumer's skip
 * over them from poll-skip — only those below both offsets here, and only at this time.
 */
export interface LogStartAdvancedObservation {
  readonly type: 'kafka-log-start-advanced';
  readonly key: KafkaKey;
  readonly reason: 'retention' | 'leader-log-start' | 'truncate-fully';
  /** The new log start offset: nothing below it is held any more. */
  readonly logStartOffset: number;
  /** The replica's high watermark when it deleted (retention never deletes at or above it). */
  readonly highWatermark: number;
}

/**
 * `kafka-offset-reset`: a consumer's position pointed below the leader's log start (retention
 * deleted those records) and it moved on to the log start, in the same assignment; or (with
 * `reason` absent) the leader's log ended below its position and it started over.
 */
export interface OffsetResetObservation {
  readonly type: 'kafka-offset-reset';
  readonly key: KafkaKey;
  readonly reason?: 'log-start';
  readonly from?: number;
  readonly to?: number;
}

/**
 * `kafka-corruption-detected`: a broker's recovery found records of partition `key` that had
 * been durable damaged from `offset` on (a media fault hit its disk), and the broker refuses
 * to start: it stays out of the cluster, its files as they were. A crash alone never causes
 * this (torn tails are cut, not refused).
 */
export interface CorruptionDetectedObservation {
  readonly type: 'kafka-corruption-detected';
  readonly key: KafkaKey;
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

export function corruptionDetected(observation: {
  readonly type: string;
}): CorruptionDetectedObservation | undefined {
  return observation.type === 'kafka-corruption-detected'
    ? (observation as CorruptionDetectedObservation)
    : undefined;
}

export function logStartAdvanced(observation: {
  readonly type: string;
}): LogStartAdvancedObservation | undefined {
  return observation.type === 'kafka-log-start-advanced'
    ? (observation as LogStartAdvancedObservation)
    : undefined;
}

export function offsetCommitted(observation: {
  readonly type: string;
}): OffsetCommittedObservation | undefined {
  return observation.type === 'kafka-offset-committed'
    ? (observation as OffsetCommittedObservation)
    : undefined;
}

export function groupAssignment(observation: {
  readonly type: string;
}): GroupAssignmentObservation | undefined {
  return observation.type === 'kafka-group-assignment'
    ? (observation as GroupAssignmentObservation)
    : undefined;
}
