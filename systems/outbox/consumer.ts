// A consumer of the `orders` topic (payment, shipping) with its own database. It reads every
// partition (manual assignment, as Kafka-lite's KafkaConsumer does: one consume request to
// the partition's leader, records from its position on), and for each event, in one
// transaction on its own database: reads `processed/<eventId>`; if present, the event was
// applied before (a relay re-published it, or this consumer crashed before saving its
// position) and it is skipped; else it appends the event to the aggregate's ledger row (the
// effect: a charge, a shipment) and writes `processed/<eventId>`, and commits. Only after the
// commit does its position move past the record; positions are saved in the same database
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
import { type ConsumerInspect, observe } from './outbox-contract.ts';
import { CrashPoints } from './crash-points.ts';
import { DbCalls, errorOf, okReply } from './db-calls.ts';
import type { DbTx } from './db-client.ts';
import type { DbValue } from './db-protocol.ts';
import { decodeEvent, type OutboxEvent } from './events.ts';

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

function parseProcessed(value: DbValue): { key: KafkaKey; offset: number } | null | undefined {
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
  private loaded = false;
  private next = 0;
  private fetches = 0;
  private fetch: { id: string; key: KafkaKey; timer: number } | null = null;
  private emptyInARow = 0;
  private timer = -1;

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

  private later(delayUs: number): void {
    this.ctx.cancelTimer(this.timer);
    this.timer = this.ctx.setTimer(delayUs, 'consumer:step');
  }

  /** Reads the saved positions (a read-only transaction), then starts fetching. */
  private loadPositions(): void {
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        this.later(RETRY_US);
        return;
      }
      this.db.on(this.db.client.scan(tx, OFFSETS_TABLE, this.partitions.length + 1), (scan) => {
        const reply = okReply(scan, 'scan');
        this.db.on(this.db.client.rollback(tx), () => {});
        if (reply === undefined) {
          this.later(RETRY_US);
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
        this.loaded = true;
        this.later(1);
      });
    });
  }

  // ---- fetching ----------------------------------------------------------------------------

  private step(): void {
    if (!this.loaded) {
      this.loadPositions();
      return;
    }
    if (this.fetch !== null) {
      return;
    }
    const key = this.partitions[this.next++ % this.partitions.length] as KafkaKey;
    this.fetches++;
    const id = `${this.ctx.name}-f${this.fetches}`;
    this.fetch = { id, key, timer: this.ctx.setTimer(CONSUME_TIMEOUT_US, 'consumer:fetch') };
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
      this.emptyInARow++;
      this.later(this.emptyInARow >= this.partitions.length ? IDLE_POLL_US : 1);
      return;
    }
    this.emptyInARow = 0;
    this.crash.at('consumer-after-fetch');
    this.processAll(key, records, 0);
  }

  private processAll(key: KafkaKey, records: readonly KafkaPair[], at: number): void {
    const record = records[at];
    if (record === undefined) {
      this.savePosition(key);
      return;
    }
    const [offset, value] = record;
    const event = decodeEvent(value);
    if (event === undefined) {
      this.ctx.log('a record that is no event: skipped', { key, offset });
      this.positions.set(key, offset + 1);
      this.processAll(key, records, at + 1);
      return;
    }
    this.apply(key, offset, event, 1, () => {
      this.positions.set(key, offset + 1);
      this.processAll(key, records, at + 1);
    });
  }

  // ---- the effect, exactly once ------------------------------------------------------------

  /** One transaction: dedup check, effect, mark processed, commit; retried until it is done. */
  private apply(
    key: KafkaKey,
    offset: number,
    event: OutboxEvent,
    attempt: number,
    done: () => void,
  ): void {
    const again = () => {
      this.retry = () => this.apply(key, offset, event, attempt + 1, done);
      this.ctx.setTimer(RETRY_US, 'consumer:retry');
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
      const effect = () => {
        const ledgerKey = String(event.aggregateId);
        this.db.on(this.db.client.get(tx, this.effectTable, ledgerKey), (read) => {
          const value = okReply(read, 'get')?.value;
          const ledger = value === undefined ? undefined : parseLedger(value);
          if (ledger === undefined) {
            fail();
            return;
          }
          if (ledger.events.length < LEDGER_EVENTS_MAX) {
            ledger.events.push(event.eventId);
          }
          ledger.total += event.amount;
          const writes: [string, string, DbValue][] = [
            [this.effectTable, ledgerKey, { events: ledger.events, total: ledger.total }],
            [PROCESSED_TABLE, String(event.eventId), { key, offset }],
          ];
          this.putAll(tx, writes, fail, () =>
            this.commit(tx, 1, fail, () => {
              observe(this.ctx, {
                type: 'outbox-effect-applied',
                consumer: this.ctx.name,
                eventId: event.eventId,
                aggregateId: event.aggregateId,
                key,
                offset,
                ledger: ledger.events,
              });
              this.crash.at('consumer-after-effect');
              done();
            }),
          );
        });
      };
      if (!this.idempotent) {
        effect(); // the bug: no look at processed/
        return;
      }
      this.db.on(this.db.client.get(tx, PROCESSED_TABLE, String(event.eventId)), (read) => {
        const value = okReply(read, 'get')?.value;
        const first = value === undefined ? undefined : parseProcessed(value);
        if (first === undefined) {
          fail();
          return;
        }
        if (first === null) {
          effect();
          return;
        }
        this.rollbackQuietly(tx);
        observe(this.ctx, {
          type: 'outbox-duplicate-absorbed',
          consumer: this.ctx.name,
          eventId: event.eventId,
          key,
          offset,
          firstKey: first.key,
          firstOffset: first.offset,
        });
        done();
      });
    });
  }

  private retry: (() => void) | null = null;

  private putAll(
    tx: DbTx,
    writes: readonly [string, string, DbValue][],
    fail: () => void,
    then: () => void,
    at = 0,
  ): void {
    const write = writes[at];
    if (write === undefined) {
      then();
      return;
    }
    this.db.on(this.db.client.put(tx, ...write), (put) => {
      if (okReply(put, 'put') === undefined) {
        fail();
        return;
      }
      this.putAll(tx, writes, fail, then, at + 1);
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
        this.later(1);
        return;
      }
      this.db.on(this.db.client.put(tx, OFFSETS_TABLE, key, position), (put) => {
        if (okReply(put, 'put') === undefined) {
          this.rollbackQuietly(tx);
          this.later(1);
          return;
        }
        this.db.on(this.db.client.commit(tx), () => this.later(1));
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
    const fetch = this.fetch;
    if (
      fetch === null ||
      (reply.type !== 'consume-ok' && reply.type !== 'consume-error') ||
      reply.id !== fetch.id
    ) {
      return;
    }
    this.ctx.cancelTimer(fetch.timer);
    this.fetch = null;
    if (reply.type === 'consume-ok') {
      this.fetched(fetch.key, reply.pairs);
      return;
    }
    if (reply.error === 'not-leader') {
      this.leaders.leaders.delete(fetch.key);
      this.leaders.refresh();
    } else {
      // The leader's log ends below our position: it lost records we read. Start over from
      // the earliest (auto.offset.reset=earliest); the dedup table absorbs what comes again.
      this.ctx.observe({ type: 'outbox-offset-reset', consumer: this.ctx.name, key: fetch.key });
      this.positions.set(fetch.key, 0);
    }
    this.later(RETRY_US);
  }

  onTimer(tag: string, timerId: number): void {
    if (this.db.onTimer(tag, timerId)) {
      return;
    }
    if (tag === 'consumer:step' && timerId === this.timer) {
      this.step();
    } else if (tag === 'consumer:fetch' && this.fetch !== null && timerId === this.fetch.timer) {
      this.leaders.leaders.delete(this.fetch.key);
      this.leaders.refresh();
      this.fetch = null;
      this.later(1);
    } else if (tag === 'consumer:retry') {
      const retry = this.retry;
      this.retry = null;
      retry?.();
    } else if (tag === 'consumer:metadata') {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, 'consumer:metadata');
    }
  }

  inspect(): ConsumerInspect {
    return { role: 'outbox-consumer', positions: this.positions };
  }
}
