// The order service: places and updates orders, one transaction at a time, against the order
// database. In outbox mode (correct) a transaction writes the order rows and, in the same
// transaction, one outbox row per event (key = the service's next outbox sequence, kept in
// its counters row, so key order is creation order); the relay gets them out. Some
// transactions place several orders or place and update one, so one commit LSN carries
// several events; some updates name an order that does not exist, and some orders fail a
// credit check: those roll back.
//
// Two classic mistakes are modes of the same service:
//   - `outside-transaction`: the business rows commit in one transaction and the outbox rows
//     in a second one; a crash or a failure in between loses the events.
//   - `dual-write`: no outbox at all; after the commit the service publishes the events to
//     Kafka itself; a crash between the commit and the acknowledgement loses them. With
//     `dualWriteOrder: 'publish-first'` it publishes before the credit check and the commit,
//     so an order that then rolls back (or whose commit is lost) was announced anyway.
//
// What it did is observed through the contract (outbox-contract.ts): committed (with the commit LSN
// and the events), aborted (definitely: rolled back, a conflict, lost with the database, a
// failed step), or in doubt (the commit's outcome never came back).
import { assert } from '../../sim/assert.ts';
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { DurableCell } from '../durable-cell.ts';
import { SettleCutoff } from '../settle-cutoff.ts';
import { CrashPoints } from './crash-points.ts';
import { DbCalls, errorOf, okReply } from './db-calls.ts';
import type { DbTx } from './db-client.ts';
import type { DbValue } from './db-protocol.ts';
import {
  AMOUNT_MAX,
  aggregateIdOf,
  EVENTS_PER_INCARNATION_MAX,
  encodeOutboxRow,
  eventIdOf,
  INCARNATIONS_MAX,
  ORDERS_PER_SERVICE_MAX,
  OUTBOX_TABLE,
  type OutboxEvent,
  outboxKey,
  SERVICES_MAX,
} from './events.ts';
import { observe, type ServiceMode, type TxCommittedObservation } from './outbox-contract.ts';
import { EventPublisher } from './publisher.ts';

export const ORDERS_TABLE = 'orders';
export const COUNTERS_TABLE = 'counters';
/** Commit re-asked this often after timeouts before the outcome counts as in doubt. */
const COMMIT_ROUNDS_MAX = 30;
/** Retries of the second (outbox) transaction of outside-transaction mode. */
const OUTSIDE_ATTEMPTS_MAX = 5;
const EVENTS_PER_TX_MAX = 3;
const RETRY_US = 50_000;

export interface ServiceWorkload {
  mode: ServiceMode;
  thinkUs: number;
  /** Per transaction: a credit check fails and it rolls back. */
  rollbackProbability: number;
  /** Per event: an update of an earlier order rather than a new one. */
  updateProbability: number;
  /** Per new order: the same transaction also updates it (two events of one aggregate). */
  placeAndUpdateProbability: number;
  /** Stop starting transactions this long into the settle phase. */
  produceIntoSettleUs: number;
  /** dual-write only: publish before committing (and before the credit check). */
  publishFirst: boolean;
}

export function serviceWorkload(workload: NodeContext['workload']): ServiceWorkload {
  const number = (name: string, fallback: number) =>
    typeof workload[name] === 'number' ? (workload[name] as number) : fallback;
  const mode = workload['serviceMode'];
  return {
    mode: mode === 'dual-write' || mode === 'outside-transaction' ? mode : 'outbox',
    thinkUs: number('serviceThinkUs', 40_000),
    rollbackProbability: number('rollbackProbability', 0.1),
    updateProbability: number('updateProbability', 0.3),
    placeAndUpdateProbability: number('placeAndUpdateProbability', 0.2),
    produceIntoSettleUs: number('produceIntoSettleUs', 1_000_000),
    publishFirst: workload['dualWriteOrder'] === 'publish-first',
  };
}

interface Counters {
  sequence: number;
  orders: number;
}

function parseCounters(value: DbValue): Counters | undefined {
  if (value === null) {
    return { sequence: 0, orders: 0 };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }
  const record = value as Record<string, DbValue>;
  const sequence = record['sequence'];
  const orders = record['orders'];
  return Number.isSafeInteger(sequence) && Number.isSafeInteger(orders)
    ? { sequence: sequence as number, orders: orders as number }
    : undefined;
}

/** One step of a business transaction: a new order, or an update of an existing one. */
type Step = { kind: 'place'; orderNumber: number } | { kind: 'update'; orderNumber: number };

interface Business {
  tx: DbTx;
  counters: Counters;
  steps: Step[];
  /** Index of the next step to read for. */
  at: number;
  events: OutboxEvent[];
  /** Amount per aggregate as of this transaction (reads and writes so far). */
  amounts: Map<number, number>;
  commitRounds: number;
}

export class OrderService implements NodeProgram {
  private readonly knobs: ServiceWorkload;
  private readonly index: number;
  private readonly db: DbCalls;
  private readonly cell: DurableCell<{ incarnation: number }>;
  private readonly crash: CrashPoints;
  private incarnation = -1;
  private eventCounter = 0;
  private publisher: EventPublisher | null = null;
  private current: Business | null = null;
  private readonly cutoff: SettleCutoff;
  private nextTimer = -1;
  /** outside-transaction: the next attempt at the second transaction, when its timer fires. */
  private outsideRetry: (() => void) | null = null;

  constructor(private readonly ctx: NodeContext) {
    const knobs = serviceWorkload(ctx.workload);
    // The known-bug variant is the outside-transaction mode of an outbox service.
    this.knobs =
      ctx.variant === 'outbox-outside-transaction' && knobs.mode === 'outbox'
        ? { ...knobs, mode: 'outside-transaction' }
        : knobs;
    this.cutoff = new SettleCutoff(ctx, this.knobs.produceIntoSettleUs);
    this.index = ctx.members(ctx.group).indexOf(ctx.id) + 1;
    assert(this.index >= 1 && this.index <= SERVICES_MAX, `at most ${SERVICES_MAX} services`);
    this.db = new DbCalls(ctx, { dbGroup: 'db', timerTag: 'svc:db' });
    this.crash = new CrashPoints(ctx);
    this.cell = new DurableCell(ctx, 'service.state', (body) => {
      const incarnation = (body as { incarnation?: unknown } | null)?.incarnation;
      return Number.isSafeInteger(incarnation) ? { incarnation: incarnation as number } : undefined;
    });
  }

  onStart(): void {
    const saved = this.cell.load();
    const incarnation = (saved?.incarnation ?? -1) + 1;
    if (incarnation >= INCARNATIONS_MAX) {
      this.ctx.log('out of incarnations: no more orders');
      return;
    }
    // The incarnation names this process's event ids: durable before any is used.
    this.cell.save({ incarnation }, () => {
      this.incarnation = incarnation;
      if (this.knobs.mode === 'dual-write') {
        this.publisher = new EventPublisher(this.ctx, incarnation, false);
        this.publisher.start();
      }
      this.scheduleNext();
    });
  }

  private scheduleNext(delayUs = 1 + this.ctx.random.int(this.knobs.thinkUs)): void {
    this.ctx.cancelTimer(this.nextTimer);
    this.nextTimer = this.ctx.setTimer(delayUs, 'svc:next');
  }

  // ---- one business transaction -----------------------------------------------------------

  private startTransaction(): void {
    if (
      this.cutoff.stopped() ||
      this.eventCounter + EVENTS_PER_TX_MAX > EVENTS_PER_INCARNATION_MAX
    ) {
      return;
    }
    this.db.on(this.db.client.begin(), (completion) => {
      if (completion.tx === null) {
        this.scheduleNext(RETRY_US); // nothing began: nothing to record
        return;
      }
      const tx = completion.tx;
      this.db.on(this.db.client.get(tx, COUNTERS_TABLE, this.ctx.name), (read) => {
        const value = okReply(read, 'get')?.value;
        const counters = value === undefined ? undefined : parseCounters(value);
        if (counters === undefined) {
          this.abandon(tx, [], `reading the counters: ${errorOf(read) ?? 'bad row'}`);
          return;
        }
        this.current = {
          tx,
          counters,
          steps: this.drawSteps(counters),
          at: 0,
          events: [],
          amounts: new Map(),
          commitRounds: 0,
        };
        this.nextStep();
      });
    });
  }

  private drawSteps(counters: Counters): Step[] {
    const steps: Step[] = [];
    const count = 1 + this.ctx.random.int(EVENTS_PER_TX_MAX);
    let orders = counters.orders;
    while (steps.length < count) {
      const update = counters.orders > 0 && this.ctx.random.chance(this.knobs.updateProbability);
      if (update) {
        // Sometimes one that never committed (it rolled back): the update fails its lookup.
        const orderNumber = 1 + this.ctx.random.int(orders + 1);
        steps.push({ kind: 'update', orderNumber: Math.min(orderNumber, ORDERS_PER_SERVICE_MAX) });
      } else if (orders < ORDERS_PER_SERVICE_MAX) {
        orders++;
        steps.push({ kind: 'place', orderNumber: orders });
        if (steps.length < count && this.ctx.random.chance(this.knobs.placeAndUpdateProbability)) {
          steps.push({ kind: 'update', orderNumber: orders });
        }
      } else {
        break;
      }
    }
    return steps;
  }

  /** Reads what the next step needs (an update reads its order), then writes it. */
  private nextStep(): void {
    const business = this.current;
    assert(business !== null, 'no transaction');
    const step = business.steps[business.at];
    if (step === undefined) {
      this.writeOutboxAndCounters();
      return;
    }
    const aggregateId = aggregateIdOf(this.index, step.orderNumber);
    if (step.kind === 'place' || business.amounts.has(aggregateId)) {
      this.writeStep(step, aggregateId);
      return;
    }
    this.db.on(this.db.client.get(business.tx, ORDERS_TABLE, String(aggregateId)), (read) => {
      const reply = okReply(read, 'get');
      if (reply === undefined) {
        this.abandon(
          business.tx,
          business.events,
          `reading order ${aggregateId}: ${errorOf(read)}`,
        );
        return;
      }
      const amount = (reply.value as { amount?: unknown } | null)?.amount;
      if (!Number.isSafeInteger(amount)) {
        // The business rule: an update of an order that does not exist is refused.
        this.abandon(business.tx, business.events, `order ${aggregateId} does not exist`);
        return;
      }
      business.amounts.set(aggregateId, amount as number);
      this.writeStep(step, aggregateId);
    });
  }

  private writeStep(step: Step, aggregateId: number): void {
    const business = this.current as Business;
    const amount = 1 + this.ctx.random.int(AMOUNT_MAX);
    const event: OutboxEvent = {
      eventId: eventIdOf(this.index, this.incarnation, this.eventCounter++),
      aggregateId,
      type: step.kind === 'place' ? 'OrderPlaced' : 'OrderUpdated',
      amount,
    };
    business.events.push(event);
    business.amounts.set(aggregateId, amount);
    const row = { amount, lastEvent: event.eventId };
    this.db.on(this.db.client.put(business.tx, ORDERS_TABLE, String(aggregateId), row), (put) => {
      if (okReply(put, 'put') === undefined) {
        this.abandon(business.tx, business.events, `writing order ${aggregateId}: ${errorOf(put)}`);
        return;
      }
      business.at++;
      this.nextStep();
    });
  }

  private writeOutboxAndCounters(): void {
    const business = this.current as Business;
    const writes: [table: string, key: string, value: DbValue][] = [];
    let sequence = business.counters.sequence;
    if (this.knobs.mode === 'outbox') {
      for (const event of business.events) {
        sequence++;
        const row = encodeOutboxRow({ ...event, txId: business.tx.txId });
        writes.push([OUTBOX_TABLE, outboxKey(this.ctx.name, sequence), row]);
      }
    } else if (this.knobs.mode === 'outside-transaction') {
      sequence += business.events.length; // reserved here, written by the second transaction
    }
    const orders = business.steps.reduce(
      (most, step) => Math.max(most, step.kind === 'place' ? step.orderNumber : 0),
      business.counters.orders,
    );
    writes.push([COUNTERS_TABLE, this.ctx.name, { sequence, orders }]);
    this.writeAll(business.tx, writes, business.events, () => {
      const decide = () => {
        if (this.ctx.random.chance(this.knobs.rollbackProbability)) {
          this.abandon(business.tx, business.events, 'the credit check failed');
          return;
        }
        this.commit(business);
      };
      if (this.knobs.mode === 'dual-write' && this.knobs.publishFirst) {
        // Tell the world first, then decide: an order that fails its credit check (or whose
        // commit is lost) was announced anyway.
        this.publishDirectly(business.events, 0, decide);
        return;
      }
      decide();
    });
  }

  /** Puts the writes one after another (the node takes one request of a tx at a time). */
  private writeAll(
    tx: DbTx,
    writes: readonly [string, string, DbValue][],
    events: readonly OutboxEvent[],
    then: () => void,
    at = 0,
  ): void {
    const write = writes[at];
    if (write === undefined) {
      then();
      return;
    }
    const [table, key, value] = write;
    this.db.on(this.db.client.put(tx, table, key, value), (put) => {
      if (okReply(put, 'put') === undefined) {
        this.abandon(tx, events, `writing ${table}/${key}: ${errorOf(put)}`);
        return;
      }
      this.writeAll(tx, writes, events, then, at + 1);
    });
  }

  private commit(business: Business): void {
    business.commitRounds++;
    if (business.commitRounds === 1) {
      this.crash.at('service-before-commit');
      observe(this.ctx, {
        type: 'outbox-tx-commit-sent',
        service: this.ctx.name,
        txId: business.tx.txId,
        events: business.events,
      });
    }
    this.db.on(this.db.client.commit(business.tx), (completion) => {
      const reply = okReply(completion, 'commit');
      if (reply !== undefined && reply.outcome === 'committed') {
        this.committed(business, reply.lsn);
      } else if (reply !== undefined) {
        this.aborted(
          business.tx.txId,
          business.events,
          `the database aborted it (${reply.reason})`,
        );
        this.finish();
      } else if (errorOf(completion) === 'timeout' && business.commitRounds < COMMIT_ROUNDS_MAX) {
        this.commit(business); // the same commit again: the node answers from its records
      } else {
        observe(this.ctx, {
          type: 'outbox-tx-in-doubt',
          service: this.ctx.name,
          txId: business.tx.txId,
          events: business.events,
        });
        this.finish();
      }
    });
  }

  private committed(business: Business, lsn: number): void {
    const observation: TxCommittedObservation = {
      type: 'outbox-tx-committed',
      service: this.ctx.name,
      txId: business.tx.txId,
      lsn,
      events: business.events,
      mode: this.knobs.mode,
    };
    observe(this.ctx, observation);
    this.crash.at('service-after-commit');
    if (this.knobs.mode === 'dual-write' && !this.knobs.publishFirst) {
      this.publishDirectly(business.events, 0, () => this.finish());
    } else if (this.knobs.mode === 'outside-transaction' && business.events.length > 0) {
      this.writeOutboxSeparately(business, 1);
    } else {
      this.finish();
    }
  }

  /** dual-write: the events go to Kafka now, one after another, after the commit. */
  private publishDirectly(events: readonly OutboxEvent[], at: number, then: () => void): void {
    const event = events[at];
    const publisher = this.publisher;
    if (event === undefined || publisher === null) {
      then();
      return;
    }
    publisher.publish(event, (key, offset) => {
      this.ctx.observe({
        type: 'outbox-published',
        publisher: this.ctx.name,
        eventId: event.eventId,
        key,
        offset,
      });
      this.crash.at('service-after-publish');
      this.publishDirectly(events, at + 1, then);
    });
  }

  /** outside-transaction: the outbox rows, in a transaction of their own. */
  private writeOutboxSeparately(business: Business, attempt: number): void {
    if (attempt > OUTSIDE_ATTEMPTS_MAX) {
      this.ctx.log('gave up writing the outbox rows', { txId: business.tx.txId });
      this.finish();
      return;
    }
    const retry = () => this.ctx.setTimer(RETRY_US, `svc:outside:${attempt + 1}`);
    this.outsideRetry = () => this.writeOutboxSeparately(business, attempt + 1);
    this.db.on(this.db.client.begin(), (completion) => {
      const tx = completion.tx;
      if (tx === null) {
        retry();
        return;
      }
      let sequence = business.counters.sequence;
      const writes = business.events.map((event): [string, string, DbValue] => {
        sequence++;
        const row = encodeOutboxRow({ ...event, txId: business.tx.txId });
        return [OUTBOX_TABLE, outboxKey(this.ctx.name, sequence), row];
      });
      const write = (at: number): void => {
        const next = writes[at];
        if (next === undefined) {
          this.db.on(this.db.client.commit(tx), (commit) => {
            if (okReply(commit, 'commit')?.outcome === 'committed') {
              this.finish();
            } else {
              retry();
            }
          });
          return;
        }
        this.db.on(this.db.client.put(tx, ...next), (put) => {
          if (okReply(put, 'put') === undefined) {
            this.rollbackQuietly(tx);
            retry();
            return;
          }
          write(at + 1);
        });
      };
      write(0);
    });
  }

  private aborted(txId: string, events: readonly OutboxEvent[], reason: string): void {
    this.ctx.observe({ type: 'outbox-tx-aborted', service: this.ctx.name, txId, reason, events });
  }

  /** Gives the transaction up before its commit: it can never commit, so it is aborted. */
  private abandon(tx: DbTx, events: readonly OutboxEvent[], reason: string): void {
    this.aborted(tx.txId, events, reason);
    this.rollbackQuietly(tx);
    this.finish();
  }

  private rollbackQuietly(tx: DbTx): void {
    if (!tx.busy) {
      this.db.on(this.db.client.rollback(tx), () => {});
    }
  }

  private finish(): void {
    this.current = null;
    this.outsideRetry = null;
    this.scheduleNext();
  }

  // ---- the node program -------------------------------------------------------------------

  onMessage(from: NodeId, message: SimMessage): void {
    if (this.db.onMessage(from, message)) {
      return;
    }
    this.publisher?.onMessage(from, message);
  }

  onTimer(tag: string, timerId: number): void {
    if (this.db.onTimer(tag, timerId) || this.publisher?.onTimer(tag, timerId) === true) {
      return;
    }
    if (tag === 'svc:next' && timerId === this.nextTimer) {
      if (this.current === null) {
        this.startTransaction();
      }
    } else if (tag.startsWith('svc:outside:')) {
      this.outsideRetry?.();
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    this.cell.onSynced(syncId, ok);
  }

  inspect(): { role: 'order-service'; incarnation: number } {
    return { role: 'order-service', incarnation: this.incarnation };
  }
}
