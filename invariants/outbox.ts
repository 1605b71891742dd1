// The transactional outbox's delivery invariants (issue 16), read through the outbox's
// contract (systems/outbox/outbox-contract.ts) and Kafka-lite's (the topic's partitions on the
// brokers):
//   - outbox-committed-delivered: after settle, every event of a committed transaction is in
//     the topic and took effect at every consumer;
//   - outbox-aborted-never-delivered: no event of an aborted transaction is in the topic or
//     took effect anywhere;
//   - outbox-payload-matches: every record in the topic is an event some transaction wrote,
//     with the same fields, in its aggregate's partition (nothing invented, nothing mangled);
//   - outbox-per-aggregate-order: one order's committed events reach the topic (first
//     copies) and each consumer's effects in commit order;
//   - outbox-effect-once: no consumer applied an event twice (its ledger row, which every
//     effect transaction reads and rewrites, never holds one event id twice);
//   - outbox-relay-caught-up: after settle the CDC relay's saved position reaches the last
//     committed transaction's LSN, or the polling publisher's last scan found the outbox empty.
// A partition whose last ISR member found its copy damaged by a media fault stays offline
// (clean election; kafka-brokers.ts, offlineAfterMediaFaults): the events of such a partition
// that never reached the topic are excused from delivery, and the relay from getting past the
// first of them; nothing else is, and the safety checks never ask.
// Each violation names the transaction, the event, and the crash that most likely caused it:
// the first crash of the transaction's service, the relay or the database after its commit.
import { assert } from '../sim/assert.ts';
import type {
  ClusterView,
  Invariant,
  NodeId,
  ObservationRecord,
  Plan,
  Verdict,
} from '../sim/types.ts';
import { brokerState, type KafkaKey } from '../systems/kafka/contract.ts';
import { kafkaConfig } from '../systems/kafka/messages.ts';
import { type DbInspect, dbInspect } from '../systems/outbox/contract.ts';
import { comparePositions, type LogPosition } from '../systems/outbox/db-protocol.ts';
import {
  decodeEvent,
  decodeOutboxRow,
  describeEvent,
  OUTBOX_TABLE,
  type OutboxEvent,
  partitionOf,
  sameEvent,
} from '../systems/outbox/events.ts';
import {
  cdcRelayState,
  crashPointHit,
  duplicateAbsorbed,
  effectApplied,
  OUTBOX_GROUPS,
  pollerState,
  published,
  relayResumed,
  txAborted,
  txCommitSent,
  txCommitted,
  txInDoubt,
} from '../systems/outbox/outbox-contract.ts';
import { offlineAfterMediaFaults } from './kafka-brokers.ts';

export type RelayKind = 'cdc' | 'polling' | 'none';

function formatTime(timeUs: number): string {
  return `${(timeUs / 1_000_000).toFixed(3)} s`;
}

interface Attempt {
  readonly event: OutboxEvent;
  readonly txId: string;
  readonly service: string;
  readonly outcome: 'committed' | 'aborted' | 'in-doubt';
  readonly timeUs: number;
  /** Committed only: the commit LSN and the event's place in the transaction. */
  readonly lsn: number;
  readonly indexInTx: number;
  readonly reason?: string;
}

/** What the services said they did, by event id. */
function attempts(
  observations: readonly ObservationRecord[],
  durable?: ReadonlyMap<string, number>,
): Map<number, Attempt> {
  const byEvent = new Map<number, Attempt>();
  for (const record of observations) {
    const committed = txCommitted(record.observation);
    const aborted = txAborted(record.observation);
    // Sent and never answered (the service crashed, or gave up asking) is in doubt too.
    const inDoubt = txInDoubt(record.observation) ?? txCommitSent(record.observation);
    const tx = committed ?? aborted ?? inDoubt;
    if (tx === undefined) {
      continue;
    }
    const outcome =
      committed !== undefined ? 'committed' : aborted !== undefined ? 'aborted' : 'in-doubt';
    tx.events.forEach((event, indexInTx) => {
      byEvent.set(event.eventId, {
        event,
        txId: tx.txId,
        service: tx.service,
        outcome,
        timeUs: record.timeUs,
        lsn: committed?.lsn ?? -1,
        indexInTx,
        ...(aborted === undefined ? {} : { reason: aborted.reason }),
      });
    });
  }
  if (durable !== undefined) {
    // What the service could not tell, the order database's durable log settles: a commit
    // whose answer never came either is in it (committed) or never will be (its process,
    // or the database, lost it).
    for (const [eventId, attempt] of byEvent) {
      if (attempt.outcome === 'in-doubt') {
        const lsn = durable.get(attempt.txId);
        byEvent.set(
          eventId,
          lsn === undefined
            ? { ...attempt, outcome: 'aborted', reason: 'in doubt, and not in the durable log' }
            : { ...attempt, outcome: 'committed', lsn },
        );
      }
    }
  }
  return byEvent;
}

/** The order database's durable transactions (txId → LSN), when it is up at the end. */
function durableTxs(view: ClusterView): Map<string, number> | undefined {
  const db = orderDatabase(view);
  return db === undefined ? undefined : new Map(db.durableTxs.map((tx) => [tx.txId, tx.lsn]));
}

/** The order database's view when it is up at the end and did not refuse to start. */
function orderDatabase(view: ClusterView): DbInspect | undefined {
  const node = view.members(OUTBOX_GROUPS.db)[0];
  const db = node === undefined ? undefined : dbInspect(view, node);
  return db === undefined || db.refused !== null ? undefined : db;
}

/**
 * Where each committed event sits in the change feed the CDC relay reads — its commit LSN and
 * the index of its outbox write among the transaction's writes (order rows count too, so this
 * is not its place among the transaction's events) — from the order database's durable log,
 * when it is up at the end.
 */
function changePositions(view: ClusterView): Map<number, LogPosition> | undefined {
  const db = orderDatabase(view);
  if (db === undefined) {
    return undefined;
  }
  const positions = new Map<number, LogPosition>();
  for (const tx of db.durableTxs) {
    tx.writes.forEach((write, index) => {
      const row = write.table === OUTBOX_TABLE ? decodeOutboxRow(write.value) : undefined;
      if (row !== undefined) {
        positions.set(row.eventId, { lsn: tx.lsn, index });
      }
    });
  }
  return positions;
}

/** One record of the topic: where it sits and the event it carries. */
interface TopicRecord {
  readonly key: KafkaKey;
  readonly offset: number;
  readonly value: number;
  readonly event: OutboxEvent | undefined;
}

/**
 * The topic as its partitions' leaders hold it below their high watermarks (the committed
 * records; the leader with the highest epoch when several think they lead, any replica with
 * the highest watermark when none does). A record the chosen replica cannot show — a media
 * fault changed its stored bytes, and its checksum fails; the broker finds that only when it
 * reads them back, then crashes, recovers and copies the partition afresh — is taken from a
 * replica in the same leader epoch whose disk no media fault changed, as a consumer would
 * read it after that failover.
 */
function topicRecords(view: ClusterView): { records: TopicRecord[]; keys: KafkaKey[] } {
  const best = new Map<KafkaKey, { epoch: number; leader: boolean; hw: number; node: NodeId }>();
  for (const node of view.members('brokers')) {
    const broker = brokerState(view, node);
    if (broker === undefined) {
      continue;
    }
    for (const [key, replica] of broker.partitions) {
      const candidate = {
        epoch: replica.leaderEpoch,
        leader: replica.role === 'leader',
        hw: replica.highWatermark,
        node,
      };
      const known = best.get(key);
      const better =
        known === undefined ||
        (candidate.leader && !known.leader) ||
        (candidate.leader === known.leader &&
          (candidate.leader ? candidate.epoch > known.epoch : candidate.hw > known.hw));
      if (better) {
        best.set(key, candidate);
      }
    }
  }
  const records: TopicRecord[] = [];
  const keys = [...best.keys()].sort();
  for (const key of keys) {
    const chosen = best.get(key);
    assert(chosen !== undefined, 'a chosen replica');
    const replica = brokerState(view, chosen.node)?.partitions.get(key);
    if (replica === undefined) {
      continue;
    }
    const intact =
      (view.storedDamage?.(chosen.node) ?? 0) === 0
        ? []
        : view
            .members('brokers')
            .filter((node) => node !== chosen.node && (view.storedDamage?.(node) ?? 0) === 0)
            .map((node) => brokerState(view, node)?.partitions.get(key))
            .filter((other) => other !== undefined && other.leaderEpoch === replica.leaderEpoch);
    for (let offset = replica.logStartOffset; offset < replica.highWatermark; offset++) {
      let value = replica.valueAt(offset);
      for (let i = 0; value === undefined && i < intact.length; i++) {
        value = intact[i]?.valueAt(offset);
      }
      if (value !== undefined) {
        records.push({ key, offset, value, event: decodeEvent(value) });
      }
    }
  }
  return { records, keys };
}

/** The crashes in the plan, by node name, in time order. */
function crashesOf(plan: Plan): { node: string; atUs: number }[] {
  const names = plan.groups.flatMap((group) => group.nodes);
  return plan.faults
    .filter((fault) => fault.kind === 'crash')
    .map((fault) => ({
      node: names[(fault as { node: NodeId }).node] ?? `node ${(fault as { node: NodeId }).node}`,
      atUs: fault.atUs,
    }))
    .sort((a, b) => a.atUs - b.atUs);
}

export interface OutboxCheckOptions {
  relay: RelayKind;
}

/** The invariants of an outbox run; `plan` names the crashes a violation blames. */
export function outboxInvariants(plan: Plan, options: OutboxCheckOptions): Invariant[] {
  const crashes = crashesOf(plan);
  const partitions = kafkaConfig(plan.workload).keys;
  /**
   * The LSN of the first committed event of a partition that stays offline after a media fault
   * which the CDC relay must still publish and has no acknowledgement for: it lies after the
   * position the relay last resumed from, and no acknowledgement of it came since. The relay
   * retries it for ever and cannot get past it. Undefined when there is none.
   */
  const firstStrandedLsn = (
    observations: readonly ObservationRecord[],
    committed: readonly Attempt[],
    offline: (attempt: Attempt) => boolean,
    positions: ReadonlyMap<number, LogPosition> | undefined,
  ): number | undefined => {
    let resumedAtUs = 0;
    let resumedAfter: { lsn: number; index: number } | null = null;
    for (const record of observations) {
      const resumed = relayResumed(record.observation);
      if (resumed !== undefined) {
        resumedAtUs = record.timeUs;
        resumedAfter = resumed.after;
      }
    }
    // The resume position is one of the change feed's (lsn, write index), so an event is
    // compared by its own (outbox-cdc seed 4989: the event at LSN 1 write 4 was taken for
    // event 1 of its transaction, before the resume point LSN 1 write 3, and so not owed). An
    // event the durable log does not place is owed whenever it shares the resume LSN: that
    // can only excuse the relay, never blame it.
    const isAfter = (attempt: Attempt, after: LogPosition): boolean => {
      const position = positions?.get(attempt.event.eventId);
      return position === undefined
        ? attempt.lsn >= after.lsn
        : comparePositions(position, after) > 0;
    };
    const acknowledged = new Set<number>();
    for (const record of observations) {
      const ack = published(record.observation);
      if (ack !== undefined && record.timeUs >= resumedAtUs) {
        acknowledged.add(ack.eventId);
      }
    }
    let first: number | undefined;
    for (const attempt of committed) {
      if (
        attempt.lsn >= 0 &&
        offline(attempt) &&
        !acknowledged.has(attempt.event.eventId) &&
        (resumedAfter === null || isAfter(attempt, resumedAfter))
      ) {
        first = Math.min(first ?? attempt.lsn, attempt.lsn);
      }
    }
    return first;
  };
  /**
   * From which LSN on the relay may never get an event out because of a partition left
   * offline. The CDC relay keeps a bounded window of events in flight in log order, so it
   * stops at the first offline event it has no acknowledgement for. The polling publisher
   * waits for a whole scan (32 rows in key order, each service's rows apart) before the next,
   * so one stuck row may hold back any event the topic lacks: from the first LSN on, as soon
   * as an offline partition holds a committed event.
   */
  const relayBlockedAt = (
    view: ClusterView,
    observations: readonly ObservationRecord[],
    committed: readonly Attempt[],
    offline: (attempt: Attempt) => boolean,
  ): number => {
    if (options.relay === 'cdc') {
      return (
        firstStrandedLsn(observations, committed, offline, changePositions(view)) ??
        Number.POSITIVE_INFINITY
      );
    }
    if (options.relay === 'polling' && committed.some(offline)) {
      return Number.NEGATIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  };
  /** The attempts whose transaction committed (in-doubt ones settled by the durable log). */
  const committedAttempts = (
    view: ClusterView,
    observations: readonly ObservationRecord[],
  ): Attempt[] =>
    [...attempts(observations, durableTxs(view)).values()].filter(
      (attempt) => attempt.outcome === 'committed',
    );
  /** Whether an event's partition stays offline after a media fault (see the header). */
  const strandedBy = (
    view: ClusterView,
    observations: readonly ObservationRecord[],
  ): ((attempt: Attempt) => boolean) => {
    const offline = offlineAfterMediaFaults(view, observations);
    return (attempt) => offline.has(partitionOf(attempt.event.aggregateId, partitions));
  };
  /** Crash points the nodes observed (crash-points.ts), in time order; noted online. */
  const pointCrashes: { node: string; atUs: number; point: string; eventIndex: number }[] = [];
  const noteCrash = (record: ObservationRecord): void => {
    const hit = crashPointHit(record.observation);
    const last = pointCrashes[pointCrashes.length - 1];
    if (hit !== undefined && (last === undefined || last.eventIndex < record.eventIndex)) {
      pointCrashes.push({
        node: hit.node,
        atUs: record.timeUs,
        point: hit.point,
        eventIndex: record.eventIndex,
      });
    }
  };
  const noteCrashes = (observations: readonly ObservationRecord[]): void => {
    for (const record of observations) {
      noteCrash(record);
    }
  };
  const relayNode = options.relay === 'cdc' ? 'relay' : options.relay === 'polling' ? 'poller' : '';
  /**
   * The crashes that may be behind a violation about something done at `afterUs`: the first
   * crash after it of each suspect — the transaction's service, the relay, `others` (the
   * database, a consumer) — a scheduled crash or a crash point a node observed, earliest first.
   */
  const blame = (
    attempt: Attempt | undefined,
    afterUs: number,
    others: readonly string[] = ['db'],
  ): string => {
    const suspects = [attempt?.service, relayNode, ...others].filter(
      (name): name is string => name !== undefined && name !== '',
    );
    const firsts: { node: string; atUs: number; point?: string }[] = [];
    for (const node of new Set(suspects)) {
      const scheduled = crashes.find((entry) => entry.atUs >= afterUs && entry.node === node);
      const point = pointCrashes.find((entry) => entry.atUs >= afterUs && entry.node === node);
      const first =
        point !== undefined && (scheduled === undefined || point.atUs <= scheduled.atUs)
          ? point
          : scheduled;
      if (first !== undefined) {
        firsts.push(first);
      }
    }
    if (firsts.length === 0) {
      return `no crash of ${[...new Set(suspects)].join(', ')} after it`;
    }
    firsts.sort((x, y) => x.atUs - y.atUs);
    const named = firsts.map(
      (entry) =>
        `${entry.node} at ${formatTime(entry.atUs)}${entry.point === undefined ? '' : ` (crash point ${entry.point})`}`,
    );
    return `the first crash after it of each suspect: ${named.join(', ')}`;
  };
  /**
   * For an event the CDC relay never published: the first restart of the relay that resumed
   * at or past its LSN (so it never read the event again), and the crash just before it.
   */
  const skippedBy = (
    attempt: Attempt,
    observations: readonly ObservationRecord[],
  ): string | undefined => {
    for (const record of observations) {
      const resumed = relayResumed(record.observation);
      if (
        resumed?.after !== null &&
        resumed !== undefined &&
        record.timeUs >= attempt.timeUs &&
        resumed.after.lsn >= attempt.lsn
      ) {
        const index =
          resumed.after.index >= Number.MAX_SAFE_INTEGER
            ? 'the whole LSN'
            : `index ${resumed.after.index}`;
        return `the relay restarted at ${formatTime(record.timeUs)} resuming after LSN ${resumed.after.lsn} (${index}), past it, and never read it again; ${lastCrashBefore(record.timeUs, [])}`;
      }
    }
    return undefined;
  };
  /** For a violation seen at `atUs`: the last crash before it of the relay or `others`. */
  const lastCrashBefore = (atUs: number, others: readonly string[]): string => {
    const suspects = new Set([relayNode, ...others].filter((name) => name));
    const all = [
      ...crashes.map((entry) => ({ ...entry, point: undefined as string | undefined })),
      ...pointCrashes,
    ]
      .filter((entry) => entry.atUs <= atUs && suspects.has(entry.node))
      .sort((a, b) => a.atUs - b.atUs);
    const last = all[all.length - 1];
    return last === undefined
      ? `no crash of ${[...suspects].join(', ')} before it`
      : `the last crash before it: ${last.node} at ${formatTime(last.atUs)}${last.point === undefined ? '' : `, at its crash point ${last.point}`}`;
  };
  const describeTx = (attempt: Attempt): string =>
    attempt.outcome === 'committed'
      ? `tx ${attempt.txId} of ${attempt.service} (committed at ${formatTime(attempt.timeUs)}, LSN ${attempt.lsn})`
      : `tx ${attempt.txId} of ${attempt.service} (${attempt.outcome} at ${formatTime(attempt.timeUs)}${attempt.reason === undefined ? '' : `: ${attempt.reason}`})`;
  const consumers = (view: ClusterView): string[] =>
    [OUTBOX_GROUPS.payments, OUTBOX_GROUPS.shipping].flatMap((group) =>
      view.members(group).map((node) => view.name(node)),
    );

  // ---- online: effects ---------------------------------------------------------------------
  const abortedSoFar = new Map<number, Attempt>();
  const effectOnce: Invariant = {
    name: 'outbox-effect-once',
    onObservation(record: ObservationRecord): Verdict {
      noteCrash(record);
      const applied = effectApplied(record.observation);
      if (applied === undefined) {
        return undefined;
      }
      const times = applied.ledger.filter((id) => id === applied.eventId).length;
      if (times > 1) {
        return `${applied.consumer} applied event ${applied.eventId} (order ${applied.aggregateId}) ${times} times: its ledger row holds [${applied.ledger.join(', ')}] after applying the record at ${applied.key}@${applied.offset}; ${lastCrashBefore(record.timeUs, [applied.consumer])}`;
      }
      return undefined;
    },
  };
  const abortedNeverDelivered: Invariant = {
    name: 'outbox-aborted-never-delivered',
    onObservation(record: ObservationRecord): Verdict {
      const aborted = txAborted(record.observation);
      if (aborted !== undefined) {
        aborted.events.forEach((event, indexInTx) => {
          abortedSoFar.set(event.eventId, {
            event,
            txId: aborted.txId,
            service: aborted.service,
            outcome: 'aborted',
            timeUs: record.timeUs,
            lsn: -1,
            indexInTx,
            reason: aborted.reason,
          });
        });
        return undefined;
      }
      const applied = effectApplied(record.observation);
      const attempt = applied === undefined ? undefined : abortedSoFar.get(applied.eventId);
      if (applied !== undefined && attempt !== undefined) {
        return `${describeTx(attempt)}: ${describeEvent(attempt.event)} took effect at ${applied.consumer} (read at ${applied.key}@${applied.offset}), though its transaction never committed; ${lastCrashBefore(record.timeUs, [attempt.service, 'db'])}`;
      }
      return undefined;
    },
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      for (const record of topicRecords(view).records) {
        const attempt = record.event === undefined ? undefined : byEvent.get(record.event.eventId);
        if (attempt?.outcome === 'aborted') {
          return `${describeTx(attempt)}: ${describeEvent(attempt.event)} was published to ${record.key}@${record.offset}, though its transaction never committed; ${blame(attempt, attempt.timeUs)}`;
        }
      }
      return undefined;
    },
  };

  // ---- at the end: delivery, payloads, order, progress -------------------------------------
  const committedDelivered: Invariant = {
    name: 'outbox-committed-delivered',
    atEnd(view, observations) {
      noteCrashes(observations);
      const inTopic = new Set<number>();
      for (const record of topicRecords(view).records) {
        if (record.event !== undefined) {
          inTopic.add(record.event.eventId);
        }
      }
      const tookEffect = new Map<string, Set<number>>();
      for (const record of observations) {
        const applied = effectApplied(record.observation) ?? duplicateAbsorbed(record.observation);
        if (applied !== undefined) {
          let set = tookEffect.get(applied.consumer);
          if (set === undefined) {
            set = new Set();
            tookEffect.set(applied.consumer, set);
          }
          set.add(applied.eventId);
        }
      }
      const committed = committedAttempts(view, observations).sort((a, b) => a.timeUs - b.timeUs);
      const durable = durableTxs(view);
      for (const attempt of committed) {
        if (durable !== undefined && !durable.has(attempt.txId)) {
          return `${describeTx(attempt)} was acknowledged as committed, but the order database's durable log does not hold it; ${blame(attempt, attempt.timeUs)}`;
        }
      }
      const offline = strandedBy(view, observations);
      const blockedAt = relayBlockedAt(view, observations, committed, offline);
      // Excused: an offline partition's events, and those the relay could not get to behind
      // the first of them.
      const stranded = (attempt: Attempt): boolean =>
        offline(attempt) || (!inTopic.has(attempt.event.eventId) && attempt.lsn >= blockedAt);
      for (const attempt of committed) {
        if (!inTopic.has(attempt.event.eventId) && !stranded(attempt)) {
          return `${describeTx(attempt)}: ${describeEvent(attempt.event)} was never published; ${skippedBy(attempt, observations) ?? blame(attempt, attempt.timeUs)}`;
        }
      }
      for (const consumer of consumers(view)) {
        for (const attempt of committed) {
          if (tookEffect.get(consumer)?.has(attempt.event.eventId) !== true && !stranded(attempt)) {
            return `${describeTx(attempt)}: ${describeEvent(attempt.event)} is in the topic but never took effect at ${consumer}; ${blame(attempt, attempt.timeUs)}`;
          }
        }
      }
      return undefined;
    },
  };

  const payloadMatches: Invariant = {
    name: 'outbox-payload-matches',
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      const { records, keys } = topicRecords(view);
      for (const record of records) {
        if (record.event === undefined) {
          return `the record at ${record.key}@${record.offset} (value ${record.value}) is no event`;
        }
        const attempt = byEvent.get(record.event.eventId);
        if (attempt === undefined) {
          return `the record at ${record.key}@${record.offset} carries ${describeEvent(record.event)}, which no transaction wrote (an invented event)`;
        }
        if (!sameEvent(attempt.event, record.event)) {
          return `${describeTx(attempt)} wrote ${describeEvent(attempt.event)}, but ${record.key}@${record.offset} carries ${describeEvent(record.event)}`;
        }
        const expectedKey = keys[record.event.aggregateId % keys.length];
        if (keys.length > 0 && record.key !== expectedKey) {
          return `${describeEvent(record.event)} is in partition ${record.key}, not its order's ${expectedKey}`;
        }
      }
      return undefined;
    },
  };

  const perAggregateOrder: Invariant = {
    name: 'outbox-per-aggregate-order',
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      const commitOrder = (a: Attempt, b: Attempt) =>
        comparePositions({ lsn: a.lsn, index: a.indexInTx }, { lsn: b.lsn, index: b.indexInTx });
      const check = (where: string, events: readonly number[]): Verdict => {
        const last = new Map<number, Attempt>();
        const seen = new Set<number>();
        for (const eventId of events) {
          if (seen.has(eventId)) {
            continue; // a duplicate: only first copies order
          }
          seen.add(eventId);
          const attempt = byEvent.get(eventId);
          if (attempt?.outcome !== 'committed') {
            continue;
          }
          const aggregate = attempt.event.aggregateId;
          const previous = last.get(aggregate);
          if (previous !== undefined && commitOrder(previous, attempt) > 0) {
            return `order ${aggregate}: ${where} has ${describeEvent(previous.event)} of ${describeTx(previous)} before ${describeEvent(attempt.event)} of ${describeTx(attempt)}, which committed first; ${blame(attempt, attempt.timeUs)}`;
          }
          last.set(aggregate, attempt);
        }
        return undefined;
      };
      const { records } = topicRecords(view);
      const byKey = new Map<KafkaKey, number[]>();
      for (const record of records) {
        if (record.event !== undefined) {
          const list = byKey.get(record.key) ?? [];
          list.push(record.event.eventId);
          byKey.set(record.key, list);
        }
      }
      for (const [key, events] of byKey) {
        const verdict = check(`partition ${key}`, events);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      const applied = new Map<string, number[]>();
      for (const record of observations) {
        const effect = effectApplied(record.observation);
        if (effect !== undefined) {
          const list = applied.get(effect.consumer) ?? [];
          list.push(effect.eventId);
          applied.set(effect.consumer, list);
        }
      }
      for (const [consumer, events] of applied) {
        const verdict = check(`${consumer}'s effects`, events);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      return undefined;
    },
  };

  const caughtUp: Invariant = {
    name: 'outbox-relay-caught-up',
    atEnd(view, observations) {
      noteCrashes(observations);
      if (options.relay === 'cdc') {
        const node = view.members(OUTBOX_GROUPS.relay)[0];
        const relay = node === undefined ? undefined : cdcRelayState(view, node);
        if (relay === undefined) {
          return 'the CDC relay is not running at the end of the settle phase';
        }
        /** The LSNs of the committed transactions with events. */
        const eventLsns: number[] = [];
        for (const record of observations) {
          const committed = txCommitted(record.observation);
          if (committed !== undefined && committed.events.length > 0) {
            eventLsns.push(committed.lsn);
          }
        }
        const lastLsn = eventLsns.reduce((max, lsn) => Math.max(max, lsn), 0);
        const blockedAt = firstStrandedLsn(
          observations,
          committedAttempts(view, observations),
          strandedBy(view, observations),
          changePositions(view),
        );
        const saved = relay.saved?.lsn ?? 0;
        if (blockedAt !== undefined && blockedAt <= lastLsn) {
          // It saves its position in log order and cannot get past an event no broker takes.
          const needed = eventLsns.reduce(
            (max, lsn) => (lsn < blockedAt ? Math.max(max, lsn) : max),
            0,
          );
          return saved >= needed
            ? undefined
            : `the CDC relay's saved position (LSN ${saved}) is behind LSN ${needed} after the settle phase, the last transaction with events before the first event of a partition left offline by a media fault (LSN ${blockedAt})`;
        }
        return saved >= lastLsn
          ? undefined
          : `the CDC relay's saved position (LSN ${saved}) is behind the last committed transaction with events (LSN ${lastLsn}) after the settle phase`;
      }
      if (options.relay === 'polling') {
        const node = view.members(OUTBOX_GROUPS.poller)[0];
        const poller = node === undefined ? undefined : pollerState(view, node);
        if (poller === undefined) {
          return 'the polling publisher is not running at the end of the settle phase';
        }
        if (committedAttempts(view, observations).some(strandedBy(view, observations))) {
          return undefined; // its rows for a partition that stays offline may never be sent
        }
        return poller.lastEmptyScanPhase === 'settle'
          ? undefined
          : 'the polling publisher never found the outbox empty in the settle phase';
      }
      return undefined;
    },
  };

  return [
    effectOnce,
    abortedNeverDelivered,
    committedDelivered,
    payloadMatches,
    perAggregateOrder,
    caughtUp,
  ];
}
