// The polling publisher, the outbox's other relay: in a read-only transaction it scans the
// outbox table for unsent rows in key order (key order is creation order within a service),
// publishes them in that order to Kafka-lite (idempotent producer, acks=all, one request in
// flight per partition, so each order's events keep their order),
// and once every one is acknowledged deletes them in a second transaction (blind writes, so
// it never conflicts with the services inserting new rows). A crash or a failed delete
// leaves them in the table: the next scan publishes them again, and the consumers absorb the
// duplicates. Variants: `relay-saves-position-before-publish` (here: deletes the rows before
// publishing them), `publish-unordered` (publishes a scan's rows concurrently).
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { DurableCell } from '../durable-cell.ts';
import { CrashPoints } from './crash-points.ts';
import { DbCalls, okReply } from './db-calls.ts';
import type { DbTx } from './db-client.ts';
import { decodeOutboxRow, eventOf, OUTBOX_TABLE, type OutboxEvent } from './events.ts';
import { observe, type PollerInspect } from './outbox-contract.ts';
import { EventPublisher } from './publisher.ts';

const ROWS_PER_SCAN = 32;
const IDLE_POLL_US = 20_000;
const RETRY_US = 50_000;

export class PollingPublisher implements NodeProgram {
  private readonly deleteFirst: boolean;
  private readonly unordered: boolean;
  private readonly db: DbCalls;
  private readonly cell: DurableCell<{ incarnation: number }>;
  private publisher: EventPublisher | null = null;
  private readonly crash: CrashPoints;
  private lastEmptyScanUs = -1;
  private lastEmptyScanPhase: PollerInspect['lastEmptyScanPhase'] = null;
  private timer = -1;

  constructor(private readonly ctx: NodeContext) {
    this.deleteFirst = ctx.variant === 'relay-saves-position-before-publish';
    this.unordered = ctx.variant === 'publish-unordered';
    this.crash = new CrashPoints(ctx);
    this.db = new DbCalls(ctx, { dbGroup: 'db', timerTag: 'poller:db' });
    this.cell = new DurableCell(ctx, 'poller.state', (body) => {
      const incarnation = (body as { incarnation?: unknown } | null)?.incarnation;
      return Number.isSafeInteger(incarnation) ? { incarnation: incarnation as number } : undefined;
    });
  }

  onStart(): void {
    const incarnation = (this.cell.load()?.incarnation ?? -1) + 1;
    this.cell.save({ incarnation }, () => {
      this.publisher = new EventPublisher(this.ctx, incarnation, this.unordered);
      this.publisher.start();
      this.scan();
    });
  }

  private later(delayUs: number): void {
    this.ctx.cancelTimer(this.timer);
    this.timer = this.ctx.setTimer(delayUs, 'poller:scan');
  }

  private scan(): void {
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        this.later(RETRY_US);
        return;
      }
      this.db.on(this.db.client.scan(tx, OUTBOX_TABLE, ROWS_PER_SCAN), (scanned) => {
        const reply = okReply(scanned, 'scan');
        this.rollbackQuietly(tx);
        if (reply === undefined) {
          this.later(RETRY_US);
          return;
        }
        const rows: { key: string; event: OutboxEvent }[] = [];
        for (const [key, value] of reply.rows) {
          const row = decodeOutboxRow(value);
          if (row === undefined) {
            this.ctx.log('an outbox row that is no event: left alone', { key });
            continue;
          }
          rows.push({ key, event: eventOf(row) });
        }
        if (rows.length === 0) {
          this.lastEmptyScanUs = this.ctx.monotonic();
          this.lastEmptyScanPhase = this.ctx.phase();
          this.later(IDLE_POLL_US);
          return;
        }
        this.crash.at('poller-after-scan');
        const keys = rows.map((row) => row.key);
        if (this.deleteFirst) {
          this.remove(keys, () => this.publishAll(rows, () => this.later(1)));
        } else {
          this.publishAll(rows, () => this.remove(keys, () => this.later(1)));
        }
      });
    });
  }

  private publishAll(rows: readonly { key: string; event: OutboxEvent }[], then: () => void): void {
    const publisher = this.publisher as EventPublisher;
    const one = (event: OutboxEvent, done: () => void) =>
      publisher.publish(event, (key, offset) => {
        observe(this.ctx, {
          type: 'outbox-published',
          publisher: this.ctx.name,
          eventId: event.eventId,
          key,
          offset,
        });
        this.crash.at('poller-after-publish');
        done();
      });
    // All at once: the publisher keeps each partition's sends in order (one in flight per
    // partition), so one order's events stay in key order; unordered, it does not.
    let waiting = rows.length;
    for (const row of rows) {
      one(row.event, () => {
        waiting--;
        if (waiting === 0) {
          then();
        }
      });
    }
  }

  /** Deletes the rows in one transaction; a failure leaves them (published again later). */
  private remove(keys: readonly string[], then: () => void): void {
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        then();
        return;
      }
      const step = (at: number): void => {
        const key = keys[at];
        if (key === undefined) {
          this.db.on(this.db.client.commit(tx), () => {
            this.crash.at('poller-after-delete');
            then();
          });
          return;
        }
        this.db.on(this.db.client.put(tx, OUTBOX_TABLE, key, null), (put) => {
          if (okReply(put, 'put') === undefined) {
            this.rollbackQuietly(tx);
            then();
            return;
          }
          step(at + 1);
        });
      };
      step(0);
    });
  }

  private rollbackQuietly(tx: DbTx): void {
    if (!tx.busy && tx.commitSeq === null) {
      this.db.on(this.db.client.rollback(tx), () => {});
    }
  }

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
    if (tag === 'poller:scan' && timerId === this.timer) {
      this.scan();
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    this.cell.onSynced(syncId, ok);
  }

  inspect(): PollerInspect {
    return {
      role: 'outbox-poller',
      lastEmptyScanUs: this.lastEmptyScanUs,
      lastEmptyScanPhase: this.lastEmptyScanPhase,
    };
  }
}
