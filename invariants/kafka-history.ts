// The Kafka client-history checker (issue 15), after Jepsen's Kafka workload checker
// (jepsen.tests.kafka): it rebuilds each partition's log from what sends were acknowledged at
// and what polls returned, then looks for the anomalies a Kafka-like log must never show.
//
//   G1a                   a poll returned a value whose send definitely failed
//   lost-write            an acknowledged send below the highest offset any poll read was never
//                         polled by anyone
//   inconsistent-offsets  one offset of a partition holds two values
//   duplicate             one value sits at two offsets
//   nonmonotonic-send     one producer's acknowledged sends to a partition went backwards
//   poll-skip             one consumer's next poll of a partition, in the same assignment,
//                         started beyond the offset after the one it last read
//   nonmonotonic-poll     ... started at or before the one it last read
//   int-poll-skip,        the same inside one poll's list of messages
//   int-nonmonotonic-poll
//   unseen                an acknowledged send no poll ever returned (judged only where the
//                         scenario drains every partition after the settle phase)
//
// Offsets are compared by their *dense index*: the position of the offset among the offsets
// known to hold something, so gaps in the offsets (offsets nobody observed) are not skips —
// Jepsen does the same, for transaction markers. Poll-skip and nonmonotonic-poll are judged
// within one assignment of one consumer only: a rebalance or a new assign may legitimately
// rewind to the committed offset or move on. Each anomaly names its partition (key), offsets
// and values; `kafkaHistoryEdn` writes the history in Jepsen's shape for its own checker.
//
// Retention deletes records whether or not anyone read them. The brokers observe each move of
// a replica's log start (contract.ts, `kafka-log-start-advanced`), and those made by retention
// excuse exactly what they deleted: an acknowledged send at an offset below both the new log start and the
// replica's high watermark then, acknowledged no later than that, is not lost or unseen; and a
// consumer's skip, within one assignment, over offsets all deleted so before its poll returned
// is not a poll-skip. Anything else — a later record, one acknowledged after the deletion, a
// skip over a record still held — is judged as before.

import type {
  ClusterView,
  HistoryOperation,
  Invariant,
  NodeId,
  ObservationRecord,
  Verdict,
} from '../sim/types.ts';
import {
  type KafkaKey,
  type KafkaPair,
  type KafkaValue,
  kafkaInput,
  logStartAdvanced,
  pollResult,
  sendOffset,
} from '../systems/kafka/contract.ts';
import { OFFSETS_KEY } from '../systems/kafka/messages.ts';
import { offlineAfterMediaFaults } from './kafka-brokers.ts';

/** In the order they are judged (and reported): data loss before its consequences. */
export const KAFKA_ANOMALIES = [
  'G1a',
  'lost-write',
  'inconsistent-offsets',
  'duplicate',
  'nonmonotonic-send',
  'poll-skip',
  'nonmonotonic-poll',
  'int-poll-skip',
  'int-nonmonotonic-poll',
  'unseen',
] as const;
export type KafkaAnomalyType = (typeof KAFKA_ANOMALIES)[number];

export interface KafkaAnomaly {
  readonly type: KafkaAnomalyType;
  readonly key: KafkaKey;
  /** The offsets involved, in the order the sentence names them. */
  readonly offsets: readonly number[];
  readonly values: readonly KafkaValue[];
  /** The history operations involved (their ids). */
  readonly ops: readonly number[];
  /** A sentence a person can act on. */
  readonly message: string;
}

/** Skipped or lost values are listed up to this many in a sentence. */
const LISTED_MAX = 8;

type Status = 'ok' | 'fail' | 'info';

interface Send {
  op: HistoryOperation;
  key: KafkaKey;
  value: KafkaValue;
  status: Status;
  offset: number | undefined;
}

/** One partition's log as the history shows it. */
class PartitionLog {
  /** offset → the values seen there (from acknowledged sends and from polls). */
  readonly values = new Map<number, Set<KafkaValue>>();
  /** Filled by seal(): the offsets holding something, ascending, and offset → position. */
  offsets: number[] = [];
  readonly indexOf = new Map<number, number>();
  /** value → every offset it was seen at, ascending. */
  readonly offsetsOf = new Map<KafkaValue, number[]>();
  /** Values some ok poll returned. */
  readonly read = new Set<KafkaValue>();
  /** Who acknowledged at or polled a value: its sender, or else its first reader. */
  readonly seenBy = new Map<KafkaValue, HistoryOperation>();

  add(offset: number, value: KafkaValue, op: HistoryOperation): void {
    let at = this.values.get(offset);
    if (at === undefined) {
      at = new Set();
      this.values.set(offset, at);
    }
    at.add(value);
    if (!this.seenBy.has(value)) {
      this.seenBy.set(value, op);
    }
  }

  seal(): void {
    this.offsets = [...this.values.keys()].sort((a, b) => a - b);
    for (const [index, offset] of this.offsets.entries()) {
      this.indexOf.set(offset, index);
      for (const value of this.values.get(offset) as Set<KafkaValue>) {
        const list = this.offsetsOf.get(value);
        if (list === undefined) {
          this.offsetsOf.set(value, [offset]);
        } else {
          list.push(offset);
        }
      }
    }
  }

  index(offset: number): number {
    return this.indexOf.get(offset) as number;
  }

  /** The offsets strictly between two dense positions. */
  between(fromIndex: number, toIndex: number): number[] {
    return this.offsets.slice(fromIndex + 1, toIndex);
  }

  /** One value at each offset (the lowest, when inconsistent), for sentences. */
  valueAt(offset: number): KafkaValue | undefined {
    const at = this.values.get(offset);
    return at === undefined ? undefined : Math.min(...at);
  }
}

/** A replica's log start moved up at `timeUs`: records below `deletedBelow` are gone there. */
export interface KafkaDeletion {
  readonly key: KafkaKey;
  readonly timeUs: number;
  /** min(new log start, the replica's high watermark then): what retention may delete. */
  readonly deletedBelow: number;
}

/** The deletions the brokers observed, from a run's observations. */
export function kafkaDeletions(observations: readonly ObservationRecord[]): KafkaDeletion[] {
  const deletions: KafkaDeletion[] = [];
  for (const record of observations) {
    const advanced = logStartAdvanced(record.observation);
    // Only retention decides to delete; a follower following its leader's start, or restarting
    // at it, deletes what some replica's retention already did (and, were it to delete more,
    // that would be a bug to report, not to excuse).
    if (advanced?.reason === 'retention') {
      deletions.push({
        key: advanced.key,
        timeUs: record.timeUs,
        deletedBelow: Math.min(advanced.logStartOffset, advanced.highWatermark),
      });
    }
  }
  return deletions;
}

/** Per key, the deletions in time order, to ask "was offset o deleted before / after t?". */
class Deletions {
  private readonly byKey = new Map<KafkaKey, KafkaDeletion[]>();

  constructor(deletions: readonly KafkaDeletion[]) {
    for (const deletion of deletions) {
      const list = this.byKey.get(deletion.key) ?? [];
      list.push(deletion);
      this.byKey.set(deletion.key, list);
    }
    for (const list of this.byKey.values()) {
      list.sort((a, b) => a.timeUs - b.timeUs);
    }
  }

  /** Some replica deleted `offset` of `key` at or before `timeUs`. */
  deletedBy(key: KafkaKey, offset: number, timeUs: number): boolean {
    return (this.byKey.get(key) ?? []).some(
      (deletion) => deletion.timeUs <= timeUs && offset < deletion.deletedBelow,
    );
  }

  /** Some replica deleted `offset` of `key` at or after `timeUs`. */
  deletedAfter(key: KafkaKey, offset: number, timeUs: number): boolean {
    return (this.byKey.get(key) ?? []).some(
      (deletion) => deletion.timeUs >= timeUs && offset < deletion.deletedBelow,
    );
  }
}

export interface KafkaAnalysisOptions {
  /** Names a client for sentences (default `client N`). */
  name?: (node: NodeId) => string;
  /** Records the brokers' retention deleted (kafkaDeletions); none by default. */
  deletions?: readonly KafkaDeletion[];
}

export interface KafkaAnalysis {
  readonly anomalies: readonly KafkaAnomaly[];
  /** Acknowledged sends, and how many of them some poll returned. */
  readonly acknowledged: number;
  readonly polledAcknowledged: number;
  readonly polls: number;
  /** Acknowledged sends never polled because retention deleted them first (excused). */
  readonly deletedUnpolled: number;
}

function statusOf(op: HistoryOperation): Status {
  return op.status === undefined || op.returnUs === undefined ? 'info' : op.status;
}

function list<T>(items: readonly T[]): string {
  const shown = items.slice(0, LISTED_MAX).join(', ');
  return items.length > LISTED_MAX ? `${shown}, … (${items.length} in all)` : shown;
}

/** Every anomaly of a Kafka client history, in KAFKA_ANOMALIES order. */
export function analyzeKafkaHistory(
  history: readonly HistoryOperation[],
  options: KafkaAnalysisOptions = {},
): KafkaAnalysis {
  const name = options.name ?? ((node: NodeId) => `client ${node}`);
  const deletions = new Deletions(options.deletions ?? []);
  /** An acknowledged send retention deleted after its acknowledgement, before anyone read it. */
  const deletedUnread = (send: Send): boolean =>
    send.offset !== undefined &&
    send.op.returnUs !== undefined &&
    deletions.deletedAfter(send.key, send.offset, send.op.returnUs);
  const logs = new Map<KafkaKey, PartitionLog>();
  const logOf = (key: KafkaKey): PartitionLog => {
    let log = logs.get(key);
    if (log === undefined) {
      log = new PartitionLog();
      logs.set(key, log);
    }
    return log;
  };
  const sends: Send[] = [];
  /** key → value → its send (values are unique per run, so one send each). */
  const writerOf = new Map<KafkaKey, Map<KafkaValue, Send>>();
  const polls: {
    op: HistoryOperation;
    msgs: [KafkaKey, readonly KafkaPair[]][];
    assignment: number;
  }[] = [];

  for (const op of history) {
    const input = kafkaInput(op.input);
    if (input === undefined) {
      continue;
    }
    if (input.f === 'send') {
      const send: Send = {
        op,
        key: input.key,
        value: input.value,
        status: statusOf(op),
        offset: sendOffset(op),
      };
      sends.push(send);
      let writers = writerOf.get(input.key);
      if (writers === undefined) {
        writers = new Map();
        writerOf.set(input.key, writers);
      }
      writers.set(input.value, send);
      if (send.offset !== undefined) {
        logOf(input.key).add(send.offset, input.value, op);
      }
    } else if (input.f === 'poll') {
      const result = pollResult(op);
      if (result === undefined) {
        continue;
      }
      const msgs = Object.entries(result.msgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      polls.push({ op, msgs, assignment: result.assignment });
      for (const [key, pairs] of msgs) {
        const log = logOf(key);
        for (const [offset, value] of pairs) {
          log.add(offset, value, op);
          log.read.add(value);
        }
      }
    }
  }
  for (const log of logs.values()) {
    log.seal();
  }
  const keys = [...logs.keys()].sort();
  const anomalies: KafkaAnomaly[] = [];
  const who = (op: HistoryOperation | undefined): string =>
    op === undefined ? 'nobody' : `${name(op.client)} (op ${op.id})`;
  const describeValue = (key: KafkaKey, value: KafkaValue): string => {
    const send = writerOf.get(key)?.get(value);
    if (send === undefined) {
      return `${value} (sent by no recorded send)`;
    }
    const fate =
      send.status === 'ok'
        ? `acknowledged at ${send.offset ?? 'an unknown offset'}`
        : send.status === 'fail'
          ? 'which failed'
          : 'outcome unknown';
    return `${value} (sent by ${who(send.op)}, ${fate})`;
  };

  // inconsistent-offsets
  for (const key of keys) {
    const log = logs.get(key) as PartitionLog;
    for (const offset of log.offsets) {
      const values = [...(log.values.get(offset) as Set<KafkaValue>)].sort((a, b) => a - b);
      if (values.length > 1) {
        anomalies.push({
          type: 'inconsistent-offsets',
          key,
          offsets: [offset],
          values,
          ops: values.map((value) => log.seenBy.get(value)?.id ?? -1),
          message: `partition ${key} offset ${offset} holds ${values.length} different values: ${values.map((value) => describeValue(key, value)).join('; ')}`,
        });
      }
    }
  }

  // duplicate
  for (const key of keys) {
    const log = logs.get(key) as PartitionLog;
    for (const [value, offsets] of log.offsetsOf) {
      if (offsets.length > 1) {
        anomalies.push({
          type: 'duplicate',
          key,
          offsets,
          values: [value],
          ops: [writerOf.get(key)?.get(value)?.op.id ?? log.seenBy.get(value)?.id ?? -1],
          message: `partition ${key} holds value ${describeValue(key, value)} at ${offsets.length} offsets: ${list(offsets)}`,
        });
      }
    }
  }

  // G1a: an ok poll read a value whose send definitely failed
  for (const poll of polls) {
    for (const [key, pairs] of poll.msgs) {
      for (const [offset, value] of pairs) {
        const send = writerOf.get(key)?.get(value);
        if (send?.status === 'fail') {
          anomalies.push({
            type: 'G1a',
            key,
            offsets: [offset],
            values: [value],
            ops: [send.op.id, poll.op.id],
            message: `${who(poll.op)} polled value ${value} at partition ${key} offset ${offset}, but its send by ${who(send.op)} definitely failed (an aborted read)`,
          });
        }
      }
    }
  }

  // lost-write: below the highest offset anyone read, every acknowledged value must have been
  // read by someone. The bound is the highest of the *first* offsets of the values read, and a
  // value must be read only if its *last* offset lies at or below it (duplicates and
  // inconsistent offsets are reported on their own and must not make a lost write).
  for (const key of keys) {
    const log = logs.get(key) as PartitionLog;
    let bound = -1;
    let boundValue: KafkaValue | undefined;
    for (const value of log.read) {
      const first = log.index((log.offsetsOf.get(value) as number[])[0] as number);
      if (first > bound) {
        bound = first;
        boundValue = value;
      }
    }
    if (boundValue === undefined) {
      continue;
    }
    const lost: { offset: number; send: Send }[] = [];
    for (const send of writerOf.get(key)?.values() ?? []) {
      if (
        send.status !== 'ok' ||
        send.offset === undefined ||
        log.read.has(send.value) ||
        deletedUnread(send)
      ) {
        continue;
      }
      const offsets = log.offsetsOf.get(send.value) as number[];
      const last = log.index(offsets[offsets.length - 1] as number);
      if (last <= bound) {
        lost.push({ offset: send.offset, send });
      }
    }
    lost.sort((a, b) => a.offset - b.offset);
    const highest = log.offsets[bound] as number;
    const reader = log.seenBy.get(boundValue);
    for (const { offset, send } of lost) {
      anomalies.push({
        type: 'lost-write',
        key,
        offsets: [offset, highest],
        values: [send.value, boundValue],
        ops: [send.op.id, ...(reader === undefined ? [] : [reader.id])],
        message: `partition ${key}: value ${send.value}, acknowledged to ${who(send.op)} at offset ${offset}, was never polled, though offset ${highest} (value ${boundValue}) was`,
      });
    }
  }

  // nonmonotonic-send: per producer and partition, acknowledged offsets must move forward.
  const lastSend = new Map<string, Send>();
  for (const send of sends) {
    if (send.offset === undefined) {
      continue;
    }
    const slot = `${send.op.client}\u0000${send.key}`;
    const previous = lastSend.get(slot);
    lastSend.set(slot, send);
    if (previous === undefined || previous.offset === undefined) {
      continue;
    }
    const log = logs.get(send.key) as PartitionLog;
    if (log.index(send.offset) - log.index(previous.offset) < 1) {
      anomalies.push({
        type: 'nonmonotonic-send',
        key: send.key,
        offsets: [previous.offset, send.offset],
        values: [previous.value, send.value],
        ops: [previous.op.id, send.op.id],
        message: `${name(send.op.client)} sent value ${previous.value} to partition ${send.key}, acknowledged at offset ${previous.offset} (op ${previous.op.id}), then value ${send.value}, acknowledged at offset ${send.offset} (op ${send.op.id}): not after it`,
      });
    }
  }

  // poll-skip and nonmonotonic-poll, between polls of one consumer in one assignment.
  const consumers = new Map<
    NodeId,
    { assignment: number; last: Map<KafkaKey, { op: HistoryOperation; pair: KafkaPair }> }
  >();
  const external: KafkaAnomaly[] = [];
  const pollIndex = new Map<HistoryOperation, (typeof polls)[number]>();
  for (const poll of polls) {
    pollIndex.set(poll.op, poll);
  }
  for (const op of history) {
    const input = kafkaInput(op.input);
    if (input === undefined) {
      continue;
    }
    let consumer = consumers.get(op.client);
    if (consumer === undefined) {
      consumer = { assignment: Number.NaN, last: new Map() };
      consumers.set(op.client, consumer);
    }
    if ((input.f === 'assign' || input.f === 'subscribe') && op.status === 'ok') {
      consumer.last.clear();
      continue;
    }
    const poll = pollIndex.get(op);
    if (poll === undefined) {
      continue;
    }
    if (poll.assignment !== consumer.assignment) {
      consumer.assignment = poll.assignment;
      consumer.last.clear();
    }
    for (const [key, pairs] of poll.msgs) {
      const first = pairs[0];
      const lastPair = pairs[pairs.length - 1];
      if (first === undefined || lastPair === undefined) {
        continue;
      }
      const log = logs.get(key) as PartitionLog;
      const previous = consumer.last.get(key);
      consumer.last.set(key, { op, pair: lastPair });
      if (previous === undefined) {
        continue;
      }
      const [fromOffset, fromValue] = previous.pair;
      const [toOffset, toValue] = first;
      const delta = log.index(toOffset) - log.index(fromOffset);
      const ops = [previous.op.id, op.id];
      const skipped = delta > 1 ? log.between(log.index(fromOffset), log.index(toOffset)) : [];
      const overDeleted =
        op.returnUs !== undefined &&
        skipped.every((offset) => deletions.deletedBy(key, offset, op.returnUs as number));
      if (delta > 1 && !overDeleted) {
        external.push({
          type: 'poll-skip',
          key,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops,
          message: `${name(op.client)} polled partition ${key} up to offset ${fromOffset} (op ${previous.op.id}), then from offset ${toOffset} (op ${op.id}) in the same assignment ${poll.assignment}, skipping offsets ${list(skipped)}`,
        });
      } else if (delta < 1) {
        external.push({
          type: 'nonmonotonic-poll',
          key,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops,
          message: `${name(op.client)} polled partition ${key} up to offset ${fromOffset} (op ${previous.op.id}), then from offset ${toOffset} (op ${op.id}) in the same assignment ${poll.assignment}: not past what it had read`,
        });
      }
    }
  }
  anomalies.push(...external.filter((anomaly) => anomaly.type === 'poll-skip'));
  anomalies.push(...external.filter((anomaly) => anomaly.type === 'nonmonotonic-poll'));

  // The same inside one poll's list.
  const internal: KafkaAnomaly[] = [];
  for (const poll of polls) {
    for (const [key, pairs] of poll.msgs) {
      const log = logs.get(key) as PartitionLog;
      for (let at = 1; at < pairs.length; at++) {
        const [fromOffset, fromValue] = pairs[at - 1] as KafkaPair;
        const [toOffset, toValue] = pairs[at] as KafkaPair;
        const delta = log.index(toOffset) - log.index(fromOffset);
        if (delta === 1) {
          continue;
        }
        const skip = delta > 1;
        internal.push({
          type: skip ? 'int-poll-skip' : 'int-nonmonotonic-poll',
          key,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops: [poll.op.id],
          message: skip
            ? `one poll by ${who(poll.op)} of partition ${key} went from offset ${fromOffset} to ${toOffset}, skipping offsets ${list(log.between(log.index(fromOffset), log.index(toOffset)))}`
            : `one poll by ${who(poll.op)} of partition ${key} went from offset ${fromOffset} to ${toOffset}: not forward`,
        });
      }
    }
  }
  anomalies.push(...internal.filter((anomaly) => anomaly.type === 'int-poll-skip'));
  anomalies.push(...internal.filter((anomaly) => anomaly.type === 'int-nonmonotonic-poll'));

  // unseen: acknowledged, never polled.
  let acknowledged = 0;
  let polledAcknowledged = 0;
  let deletedUnpolled = 0;
  const unseen = new Map<KafkaKey, Send[]>();
  for (const send of sends) {
    if (send.status !== 'ok') {
      continue;
    }
    acknowledged++;
    if (logs.get(send.key)?.read.has(send.value) === true) {
      polledAcknowledged++;
      continue;
    }
    if (deletedUnread(send)) {
      deletedUnpolled++;
      continue;
    }
    const missing = unseen.get(send.key) ?? [];
    missing.push(send);
    unseen.set(send.key, missing);
  }
  for (const key of [...unseen.keys()].sort()) {
    const missing = (unseen.get(key) as Send[]).sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1));
    anomalies.push({
      type: 'unseen',
      key,
      offsets: missing.map((send) => send.offset ?? -1),
      values: missing.map((send) => send.value),
      ops: missing.map((send) => send.op.id),
      message: `partition ${key}: ${missing.length} acknowledged value(s) never polled by the end: ${list(missing.map((send) => `${send.value} at offset ${send.offset}`))}`,
    });
  }

  const rank = (type: KafkaAnomalyType) => KAFKA_ANOMALIES.indexOf(type);
  anomalies.sort((a, b) => rank(a.type) - rank(b.type)); // stable: within a type, as found
  return { anomalies, acknowledged, polledAcknowledged, polls: polls.length, deletedUnpolled };
}

export interface KafkaHistoryInvariantOptions {
  /**
   * Judge `unseen` too: only where every partition is drained after the settle phase, or an
   * acknowledged send nobody got around to polling would count as lost.
   */
  unseen?: boolean;
  /** Anomalies a scenario does not judge (none by default). */
  skip?: readonly KafkaAnomalyType[];
}

/**
 * One invariant per anomaly, named after it (so a campaign reports `lost-write`, not a
 * generic failure), in KAFKA_ANOMALIES order; they share one analysis of the history.
 */
const NONE: ReadonlySet<KafkaKey> = new Set();

export function kafkaHistoryInvariants(options: KafkaHistoryInvariantOptions = {}): Invariant[] {
  let cached:
    | { history: readonly HistoryOperation[]; length: number; analysis: KafkaAnalysis }
    | undefined;
  const analysisOf = (
    view: ClusterView,
    observations: readonly ObservationRecord[],
  ): KafkaAnalysis => {
    if (cached?.history !== view.history || cached.length !== view.history.length) {
      cached = {
        history: view.history,
        length: view.history.length,
        analysis: analyzeKafkaHistory(view.history, {
          name: (node) => view.name(node),
          deletions: kafkaDeletions(observations),
        }),
      };
    }
    return cached.analysis;
  };
  const judged = KAFKA_ANOMALIES.filter(
    (type) =>
      !(options.skip ?? []).includes(type) && (type !== 'unseen' || options.unseen === true),
  );
  return judged.map(
    (type): Invariant => ({
      name: type,
      atEnd(view: ClusterView, observations: readonly ObservationRecord[] = []): Verdict {
        // A partition kept offline by brokers that refused after media faults cannot be
        // drained: `unseen` stands down for it (kafka-brokers.ts), and for it alone.
        const offline = type === 'unseen' ? offlineAfterMediaFaults(view, observations) : NONE;
        if (offline.has(OFFSETS_KEY)) {
          // The offsets partition is the group's coordinator: kept offline, no member can
          // join, be assigned or commit, so the group drains nothing more, of any partition.
          return undefined;
        }
        const found = analysisOf(view, observations).anomalies.filter(
          (anomaly) => anomaly.type === type && !offline.has(anomaly.key),
        );
        const first = found[0];
        if (first === undefined) {
          return undefined;
        }
        return found.length === 1
          ? first.message
          : `${first.message} (and ${found.length - 1} more)`;
      },
    }),
  );
}

// ---- EDN export ----------------------------------------------------------------------------------

/** An EDN keyword in the writer's input. */
class Kw {
  constructor(readonly name: string) {}
}
const kw = (name: string) => new Kw(name);

type Edn = null | number | string | Kw | Edn[] | Map<Edn, Edn>;

function edn(value: Edn): string {
  if (value === null) {
    return 'nil';
  }
  if (typeof value === 'number') {
    return String(value);
  }
  if (typeof value === 'string') {
    return JSON.stringify(value); // EDN strings escape as JSON's do for what we write
  }
  if (value instanceof Kw) {
    return `:${value.name}`;
  }
  if (Array.isArray(value)) {
    return `[${value.map(edn).join(' ')}]`;
  }
  return `{${[...value].map(([k, v]) => `${edn(k)} ${edn(v)}`).join(', ')}}`;
}

function offsetsMap(offsets: Readonly<Record<string, number>>): Map<Edn, Edn> {
  return new Map(
    Object.keys(offsets)
      .sort()
      .map((key) => [key, offsets[key] as number]),
  );
}

/** The :value of an invocation (also of a fail or info completion: nothing came back). */
function invokeValue(input: NonNullable<ReturnType<typeof kafkaInput>>): Edn {
  switch (input.f) {
    case 'send':
      return [[kw('send'), input.key, input.value]];
    case 'poll':
      return [[kw('poll')]];
    case 'assign':
    case 'subscribe':
    case 'list_committed_offsets':
      return [...input.keys];
    case 'commit_offsets':
      return offsetsMap(input.offsets);
  }
}

function okValue(input: NonNullable<ReturnType<typeof kafkaInput>>, op: HistoryOperation): Edn {
  switch (input.f) {
    case 'send':
      return [[kw('send'), input.key, [sendOffset(op) ?? null, input.value]]];
    case 'poll': {
      const msgs = pollResult(op)?.msgs ?? {};
      const byKey = new Map<Edn, Edn>(
        Object.keys(msgs)
          .sort()
          .map((key) => [key, (msgs[key] ?? []).map(([offset, value]) => [offset, value])]),
      );
      return [[kw('poll'), byKey]];
    }
    case 'list_committed_offsets':
      return offsetsMap((op.output as { offsets?: Record<string, number> })?.offsets ?? {});
    default:
      return invokeValue(input);
  }
}

/**
 * The history as Jepsen writes it (history.edn): one map per line, invocations and
 * completions ordered by time, `:time` in nanoseconds, `:process` the client's node id. An
 * operation that never completed gets an `:info` completion at the end, as Jepsen records a
 * crashed client's. A poll's completion carries its `:assignment` besides Jepsen's fields.
 */
export function kafkaHistoryEdn(history: readonly HistoryOperation[]): string {
  const events: { timeUs: number; seq: number; fields: Map<Edn, Edn> }[] = [];
  let endUs = 0;
  for (const op of history) {
    endUs = Math.max(endUs, op.callUs, op.returnUs ?? 0);
  }
  for (const op of history) {
    const input = kafkaInput(op.input);
    if (input === undefined) {
      continue;
    }
    const status = statusOf(op);
    const base = (type: string, value: Edn): Map<Edn, Edn> =>
      new Map<Edn, Edn>([
        [kw('type'), kw(type)],
        [kw('f'), kw(input.f)],
        [kw('value'), value],
        [kw('process'), op.client],
      ]);
    events.push({ timeUs: op.callUs, seq: 2 * op.id, fields: base('invoke', invokeValue(input)) });
    const completion = base(status, status === 'ok' ? okValue(input, op) : invokeValue(input));
    const assignment = input.f === 'poll' ? pollResult(op)?.assignment : undefined;
    if (assignment !== undefined) {
      completion.set(kw('assignment'), assignment);
    }
    // An open operation's :info comes after everything that did complete by the end.
    const seq = 2 * op.id + 1 + (op.returnUs === undefined ? 2 * history.length : 0);
    events.push({ timeUs: op.returnUs ?? endUs, seq, fields: completion });
  }
  events.sort((a, b) => a.timeUs - b.timeUs || a.seq - b.seq);
  return events
    .map((event, index) => {
      event.fields.set(kw('time'), event.timeUs * 1000);
      event.fields.set(kw('index'), index);
      return `${edn(event.fields)}\n`;
    })
    .join('');
}
