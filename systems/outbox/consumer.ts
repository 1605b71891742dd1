// A consumer of the `orders` topic (payment, shipping) with its own database. It reads every
// partition (manual assignment, as Kafka-lite's KafkaConsumer does: consume requests to the
// partition's leader, records from its position on), the partitions in parallel and each
// partition's records one after another (one order's events are in one partition, in
// order), up to 16 events in one transaction on its own database: reads their
// `processed/<eventId>` rows; an event present there, or earlier in the same run, was applied
// before (a relay re-published it, or this consumer crashed before saving its position) and
// is skipped; the others append themselves to their aggregates' ledger rows (the effect: a
// charge, a shipment) and write their `processed/<eventId>`, and the transaction commits. Only
// after the commit does its position move past the records; positions are saved in the same database
// (`offsets/<partition>`) after each batch — an external offset store, since the effect and
// the dedup table live there too. A crash loses at most positions, never effects: the records
// come again and are absorbed.
//
// Variant `consumer-not-idempotent`: it does not look at `processed/`, so a redelivered event
// is applied twice.
import { assert } from '../../sim/assert.ts';
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { LeaderCache } from '../kafka/client.ts';
import type { KafkaKey, KafkaPair } from '../kafka/contract.ts';
import { type ClientReply, kafkaConfig } from '../kafka/messages.ts';
import { CrashPoints } from './crash-points.ts';
import { DbCalls, errorOf, okReply } from './db-calls.ts';
import type { DbTx } from './db-client.ts';
import type { DbValue, DbWrite } from './db-protocol.ts';
import { decodeEvent, type OutboxEvent } from './events.ts';
import { type ConsumerInspect, observe } from './outbox-contract.ts';

export const PROCESSED_TABLE = 'processed';
export const OFFSETS_TABLE = 'offsets';
const CONSUME_TIMEOUT_US = 200_000;
const IDLE_POLL_US = 20_000;
const RETRY_US = 50_000;
const METADATA_EVERY_US = 200_000;
const COMMIT_ROUNDS_MAX = 30;
/** A ledger keeps at most this many event ids (an aggregate has a handful of events). */
const LEDGER_EVENTS_MAX = 64;
const RECORDS_PER_BATCH_MAX = 64;
/** Events applied in one transaction: its writes (a mark each, a ledger each) fit one put-many. */
const EVENTS_PER_TX_MAX = 16;

interface Delivery {
  readonly offset: number;
  readonly event: OutboxEvent;
}

/** Where an event was first applied: its `processed/` mark. */
interface ProcessedAt {
  readonly key: KafkaKey;
  readonly offset: number;
}

/** An event of a run, and whether it was applied before (where), or is to be applied now. */
interface Outcome {
  readonly delivery: Delivery;
  readonly absorbedAfter: ProcessedAt | null;
}

interface Ledger {
  events: number[];
  total: number;
}

function parseLedger(value: DbValue): Ledger | undefined {
  if (value === null) {
    return { events: [], total: 0 };
  }
  const record = value as Partial<Record<keyof Ledger, unknown>>;
  if (
    typeof value !== 'object' ||
    !Array.isArray(record.events) ||
    !record.events.every((id) => Number.isSafeInteger(id)) ||
    !Number.isSafeInteger(record.total)
  ) {
    return undefined;
  }
  return { events: [...(record.events as number[])], total: record.total as number };
}

function parseProcessed(value: DbValue): ProcessedAt | null | undefined {
  if (value === null) {
    return null;
  }
  const record = value as { key?: unknown; offset?: unknown };
  return typeof value === 'object' &&
    typeof record.key === 'string' &&
    Number.isSafeInteger(record.offset)
    ? { key: record.key, offset: record.offset as number }
    : undefined;
}

export class OutboxConsumer implements NodeProgram {
  private readonly partitions: readonly KafkaKey[];
  private readonly leaders: LeaderCache;
  private readonly db: DbCalls;
  private readonly idempotent: boolean;
  /** The ledger table its effect writes (charges, shipments). */
  private readonly effectTable: string;
  private readonly positions = new Map<KafkaKey, number>();
  private readonly crash: CrashPoints;
  private fetchCount = 0;
  /** Per partition: the consume request in flight. */
  private readonly fetches = new Map<KafkaKey, { id: string; timer: number }>();
  private readonly stepTimers = new Map<KafkaKey, number>();
  /** Retries of effect transactions, by timer. */
  private readonly retries = new Map<number, () => void>();
  private loadTimer = -1;

  constructor(
    private readonly ctx: NodeContext,
    options: { dbGroup: string; effectTable: string },
  ) {
    this.partitions = kafkaConfig(ctx.workload).keys;
    this.leaders = new LeaderCache(ctx);
    this.db = new DbCalls(ctx, { dbGroup: options.dbGroup, timerTag: 'consumer:db' });
    this.idempotent = ctx.variant !== 'consumer-not-idempotent';
    this.effectTable = options.effectTable;
    this.crash = new CrashPoints(ctx);
  }

  onStart(): void {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, 'consumer:metadata');
    this.loadPositions();
  }

  /** The partition's next step (a fetch) after `delayUs`. */
  private later(key: KafkaKey, delayUs: number): void {
    this.ctx.cancelTimer(this.stepTimers.get(key) ?? -1);
    this.stepTimers.set(key, this.ctx.setTimer(delayUs, 'consumer:step'));
  }

  /** Reads the saved positions (a read-only transaction), then starts every partition. */
  private loadPositions(): void {
    const retry = () => {
      this.loadTimer = this.ctx.setTimer(RETRY_US, 'consumer:load');
    };
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        retry();
        return;
      }
      this.db.on(this.db.client.scan(tx, OFFSETS_TABLE, this.partitions.length + 1), (scan) => {
        const reply = okReply(scan, 'scan');
        this.db.on(this.db.client.rollback(tx), () => {});
        if (reply === undefined) {
          retry();
          return;
        }
        for (const key of this.partitions) {
          this.positions.set(key, 0);
        }
        for (const [key, value] of reply.rows) {
          if (this.positions.has(key) && Number.isSafeInteger(value)) {
            this.positions.set(key, value as number);
          }
        }
        for (const key of this.partitions) {
          this.later(key, 1);
        }
      });
    });
  }

  // ---- fetching: one lane per partition, in parallel --------------------------------------

  private fetch(key: KafkaKey): void {
    if (this.fetches.has(key)) {
      return;
    }
    this.fetchCount++;
    // The db client's name carries this incarnation's boot nonce: the count starts over at a
    // restart, and the answer to a fetch of the previous incarnation comes to this one.
    const id = `${this.db.client.clientName}-f${this.fetchCount}`;
    this.fetches.set(key, { id, timer: this.ctx.setTimer(CONSUME_TIMEOUT_US, 'consumer:fetch') });
    this.ctx.send(
      this.leaders.leaderOf(key),
      { type: 'consume', id, key, offset: this.positions.get(key) ?? 0 },
      32,
    );
  }

  private fetched(key: KafkaKey, pairs: readonly KafkaPair[]): void {
    const position = this.positions.get(key) ?? 0;
    const records = pairs.filter(([offset]) => offset >= position).slice(0, RECORDS_PER_BATCH_MAX);
    if (records.length === 0) {
      this.later(key, IDLE_POLL_US);
      return;
    }
    this.crash.at('consumer-after-fetch');
    this.processAll(key, records, 0);
  }

  /**
   * The partition's records in order (its order is its aggregates' order), up to
   * EVENTS_PER_TX_MAX events per transaction: one round of reads and one of writes for the
   * whole run (a transaction per event drained a backlog at ~20 events/s per partition).
   */
  private processAll(key: KafkaKey, records: readonly KafkaPair[], at: number): void {
    if (at >= records.length) {
      this.savePosition(key);
      return;
    }
    const batch: Delivery[] = [];
    let next = at;
    for (; next < records.length && batch.length < EVENTS_PER_TX_MAX; next++) {
      const [offset, value] = records[next] as KafkaPair;
      const event = decodeEvent(value);
      if (event === undefined) {
        this.ctx.log('a record that is no event: skipped', { key, offset });
        if (batch.length === 0) {
          this.positions.set(key, offset + 1);
          continue;
        }
        break; // apply the events before it first, so the position never passes them
      }
      batch.push({ offset, event });
    }
    if (batch.length === 0) {
      this.processAll(key, records, next);
      return;
    }
    const last = batch[batch.length - 1] as Delivery;
    this.apply(key, batch, () => {
      this.positions.set(key, last.offset + 1);
      this.processAll(key, records, next);
    });
  }

  // ---- the effect, exactly once ------------------------------------------------------------

  /**
   * One transaction for a run of one partition's events: the dedup check of all of them, their
   * aggregates' ledgers, the effects and the processed marks, commit; retried until it is done.
   * An event already in `processed/` (or twice in the run: a re-publish lands next to the
   * first) is absorbed, not applied.
   */
  private apply(key: KafkaKey, batch: readonly Delivery[], done: () => void): void {
    const again = () => {
      const timer = this.ctx.setTimer(RETRY_US, 'consumer:retry');
      this.retries.set(timer, () => this.apply(key, batch, done));
    };
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        again();
        return;
      }
      const fail = () => {
        this.rollbackQuietly(tx);
        again();
      };
      const decide = (processed: readonly (ProcessedAt | null)[]) => {
        const firstSeen = new Map<number, ProcessedAt>();
        const outcomes: Outcome[] = batch.map((delivery, index) => {
          const before = processed[index] ?? firstSeen.get(delivery.event.eventId) ?? null;
          if (before !== null) {
            return { delivery, absorbedAfter: before };
          }
          if (this.idempotent) {
            firstSeen.set(delivery.event.eventId, { key, offset: delivery.offset });
          }
          return { delivery, absorbedAfter: null };
        });
        this.applyEffects(tx, key, outcomes, fail, done);
      };
      if (!this.idempotent) {
        decide(batch.map(() => null)); // the bug: no look at processed/
        return;
      }
      const ids = batch.map((delivery) => String(delivery.event.eventId));
      this.db.on(this.db.client.getMany(tx, PROCESSED_TABLE, ids), (read) => {
        const values = okReply(read, 'get-many')?.values;
        const processed = values?.map(parseProcessed);
        if (processed === undefined || processed.some((entry) => entry === undefined)) {
          fail();
          return;
        }
        decide(processed as (ProcessedAt | null)[]);
      });
    });
  }

  /** Reads the ledgers the fresh events touch, writes the effects and marks, commits. */
  private applyEffects(
    tx: DbTx,
    key: KafkaKey,
    outcomes: readonly Outcome[],
    fail: () => void,
    done: () => void,
  ): void {
    const fresh = outcomes.filter((outcome) => outcome.absorbedAfter === null);
    const finish = (snapshots: readonly number[][]) => {
      let applied = 0;
      for (const { delivery, absorbedAfter } of outcomes) {
        const { event, offset } = delivery;
        if (absorbedAfter === null) {
          observe(this.ctx, {
            type: 'outbox-effect-applied',
            consumer: this.ctx.name,
            eventId: event.eventId,
            aggregateId: event.aggregateId,
            key,
            offset,
            ledger: snapshots[applied++] as number[],
          });
        } else {
          observe(this.ctx, {
            type: 'outbox-duplicate-absorbed',
            consumer: this.ctx.name,
            eventId: event.eventId,
            key,
            offset,
            firstKey: absorbedAfter.key,
            firstOffset: absorbedAfter.offset,
          });
        }
      }
      assert(applied === fresh.length, 'every fresh event applied');
      if (fresh.length > 0) {
        this.crash.at('consumer-after-effect');
      }
      done();
    };
    if (fresh.length === 0) {
      this.rollbackQuietly(tx);
      finish([]);
      return;
    }
    const aggregates = [
      ...new Set(fresh.map(({ delivery }) => String(delivery.event.aggregateId))),
    ];
    this.db.on(this.db.client.getMany(tx, this.effectTable, aggregates), (read) => {
      const values = okReply(read, 'get-many')?.values;
      const ledgers = new Map<string, Ledger>();
      for (const [index, aggregate] of aggregates.entries()) {
        const value = values?.[index];
        const ledger = value === undefined ? undefined : parseLedger(value);
        if (ledger === undefined) {
          fail();
          return;
        }
        ledgers.set(aggregate, ledger);
      }
      const snapshots: number[][] = [];
      const writes: DbWrite[] = [];
      for (const { delivery } of fresh) {
        const ledger = ledgers.get(String(delivery.event.aggregateId)) as Ledger;
        if (ledger.events.length < LEDGER_EVENTS_MAX) {
          ledger.events.push(delivery.event.eventId);
        }
        ledger.total += delivery.event.amount;
        snapshots.push([...ledger.events]);
        writes.push({
          table: PROCESSED_TABLE,
          key: String(delivery.event.eventId),
          value: { key, offset: delivery.offset },
        });
      }
      for (const [aggregate, ledger] of ledgers) {
        writes.push({
          table: this.effectTable,
          key: aggregate,
          value: { events: ledger.events, total: ledger.total },
        });
      }
      this.db.on(this.db.client.putMany(tx, writes), (put) => {
        if (okReply(put, 'put-many') === undefined) {
          fail();
          return;
        }
        this.commit(tx, 1, fail, () => finish(snapshots));
      });
    });
  }

  /**
   * Commits; after a timeout asks again. Aborted or in doubt: `fail` runs the transaction
   * again, whose dedup check settles whether the first one committed.
   */
  private commit(tx: DbTx, round: number, fail: () => void, committed: () => void): void {
    this.db.on(this.db.client.commit(tx), (completion) => {
      const reply = okReply(completion, 'commit');
      if (reply?.outcome === 'committed') {
        committed();
      } else if (errorOf(completion) === 'timeout' && round < COMMIT_ROUNDS_MAX) {
        this.commit(tx, round + 1, fail, committed);
      } else {
        fail();
      }
    });
  }

  private rollbackQuietly(tx: DbTx): void {
    if (!tx.busy && tx.commitSeq === null) {
      this.db.on(this.db.client.rollback(tx), () => {});
    }
  }

  /** Saves the partition's position (best effort: a lost save only redelivers). */
  private savePosition(key: KafkaKey): void {
    const position = this.positions.get(key) ?? 0;
    assert(Number.isSafeInteger(position), 'position');
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        this.later(key, 1);
        return;
      }
      this.db.on(this.db.client.put(tx, OFFSETS_TABLE, key, position), (put) => {
        if (okReply(put, 'put') === undefined) {
          this.rollbackQuietly(tx);
          this.later(key, 1);
          return;
        }
        this.db.on(this.db.client.commit(tx), () => this.later(key, 1));
      });
    });
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (this.db.onMessage(from, message)) {
      return;
    }
    const reply = message as unknown as ClientReply;
    if (reply.type === 'metadata-ok') {
      this.leaders.learn(reply.leaders);
      return;
    }
    if (reply.type !== 'consume-ok' && reply.type !== 'consume-error') {
      return;
    }
    const fetch = this.fetches.get(reply.key);
    if (fetch === undefined || reply.id !== fetch.id) {
      return;
    }
    this.ctx.cancelTimer(fetch.timer);
    this.fetches.delete(reply.key);
    if (reply.type === 'consume-ok') {
      this.fetched(reply.key, reply.pairs);
      return;
    }
    if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    } else {
      // The leader's log ends below our position: it lost records we read. Start over from
      // the earliest (auto.offset.reset=earliest); the dedup table absorbs what comes again.
      this.ctx.observe({ type: 'outbox-offset-reset', consumer: this.ctx.name, key: reply.key });
      this.positions.set(reply.key, 0);
    }
    this.later(reply.key, RETRY_US);
  }

  onTimer(tag: string, timerId: number): void {
    if (this.db.onTimer(tag, timerId)) {
      return;
    }
    if (tag === 'consumer:step') {
      for (const [key, timer] of this.stepTimers) {
        if (timer === timerId) {
          this.stepTimers.delete(key);
          this.fetch(key);
          break;
        }
      }
    } else if (tag === 'consumer:fetch') {
      for (const [key, fetch] of this.fetches) {
        if (fetch.timer === timerId) {
          this.leaders.leaders.delete(key);
          this.leaders.refresh();
          this.fetches.delete(key);
          this.later(key, 1);
          break;
        }
      }
    } else if (tag === 'consumer:retry') {
      const retry = this.retries.get(timerId);
      this.retries.delete(timerId);
      retry?.();
    } else if (tag === 'consumer:load' && timerId === this.loadTimer) {
      this.loadPositions();
    } else if (tag === 'consumer:metadata') {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, 'consumer:metadata');
    }
  }

  inspect(): ConsumerInspect {
    return { role: 'outbox-consumer', positions: this.positions };
  }
}
