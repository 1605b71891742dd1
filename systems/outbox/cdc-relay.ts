// The CDC relay (log-based, as Debezium's outbox connector): it tails the order database's
// change feed from its own durably saved position (lsn, index), picks the outbox table's
// inserts, publishes each event to Kafka-lite (idempotent producer, acks=all, keyed by
// aggregate) and waits for the acknowledgement, and only then saves the position past it —
// in a small checksummed file on its own disk, which counts as saved once fsynced. A crash
// anywhere (after the read, after the publish, before the save) restarts it from the saved
// position: whatever it had published past it is published again — duplicates the consumers
// absorb — and nothing is skipped.
//
// The position is a pair: one transaction's changes share its commit LSN, so "after LSN L"
// would skip the rest of a transaction whose first events were published (Debezium's
// multi-event-per-LSN trap). Known-bug variants, by name:
//   relay-saves-position-before-publish  saves past an event before Kafka has acknowledged it
//   relay-position-per-lsn               saves the LSN alone, and resumes after the whole LSN
//   publish-unordered                    publishes a batch's events concurrently, unordered
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { DurableCell } from '../durable-cell.ts';
import { CrashPoints } from './crash-points.ts';
import { DbCalls, okReply } from './db-calls.ts';
import { comparePositions, type DbChange, type LogPosition } from './db-protocol.ts';
import { decodeOutboxRow, eventOf, OUTBOX_TABLE, type OutboxEvent } from './events.ts';
import { type CdcRelayInspect, observe } from './outbox-contract.ts';
import { EventPublisher } from './publisher.ts';

export type RelayBug =
  | 'relay-saves-position-before-publish'
  | 'relay-position-per-lsn'
  | 'publish-unordered';

const CHANGES_PER_READ = 32;
/** Events read but not yet covered by a saved position, at most (the publishing window). */
const WINDOW_EVENTS_MAX = 64;

interface Entry {
  readonly event: OutboxEvent;
  readonly position: LogPosition;
  /** How many outbox events the batch it came in held at its LSN. */
  eventsAtLsn: number;
  acked: boolean;
}
const IDLE_POLL_US = 20_000;
const RETRY_US = 50_000;
/** Resuming "after the whole LSN": an index above any transaction's change count. */
const WHOLE_LSN_INDEX = Number.MAX_SAFE_INTEGER;

interface RelayState {
  /** Changes up to here are published (null: nothing yet). index null: the whole LSN. */
  position: { lsn: number; index: number | null } | null;
  incarnation: number;
}

function parseState(body: unknown): RelayState | undefined {
  const record = body as Partial<RelayState> | null;
  if (record === null || typeof record !== 'object' || !Number.isSafeInteger(record.incarnation)) {
    return undefined;
  }
  const position = record.position;
  if (position === null) {
    return { position: null, incarnation: record.incarnation as number };
  }
  if (
    typeof position !== 'object' ||
    position === undefined ||
    !Number.isSafeInteger(position.lsn) ||
    !(position.index === null || Number.isSafeInteger(position.index))
  ) {
    return undefined;
  }
  return { position, incarnation: record.incarnation as number };
}

/** What a saved position means to the change feed: changes strictly after it. */
function resumeAfter(position: RelayState['position']): LogPosition | null {
  if (position === null) {
    return null;
  }
  return { lsn: position.lsn, index: position.index ?? WHOLE_LSN_INDEX };
}

export class CdcRelay implements NodeProgram {
  private readonly bug: RelayBug | null;
  private readonly db: DbCalls;
  private readonly cell: DurableCell<RelayState>;
  private readonly crash: CrashPoints;
  private incarnation = -1;
  private saved: RelayState['position'] = null;
  /** The position of the last change read and handled (published or skipped). */
  private handled: LogPosition | null = null;
  private endLsn = 0;
  private publisher: EventPublisher | null = null;
  /** Events read and not yet covered by a saved position, in log order. */
  private readonly window: Entry[] = [];
  /** The position to save next (everything up to it is published). */
  private target: LogPosition | null = null;
  private reading = false;
  private pollTimer = -1;

  constructor(private readonly ctx: NodeContext) {
    const variant = ctx.variant;
    this.bug =
      variant === 'relay-saves-position-before-publish' ||
      variant === 'relay-position-per-lsn' ||
      variant === 'publish-unordered'
        ? variant
        : null;
    this.db = new DbCalls(ctx, { dbGroup: 'db', timerTag: 'relay:db' });
    this.cell = new DurableCell(ctx, 'relay.state', parseState);
    this.crash = new CrashPoints(ctx);
  }

  onStart(): void {
    const state = this.cell.load();
    const incarnation = (state?.incarnation ?? -1) + 1;
    const position = state?.position ?? null;
    // A new incarnation is a new producer: durable before it publishes anything.
    this.cell.save({ position, incarnation }, () => {
      this.incarnation = incarnation;
      this.saved = position;
      this.handled = resumeAfter(position);
      observe(this.ctx, {
        type: 'outbox-relay-resumed',
        relay: this.ctx.name,
        incarnation,
        after: this.handled,
      });
      this.publisher = new EventPublisher(this.ctx, incarnation, this.bug === 'publish-unordered');
      this.publisher.start();
      this.read();
    });
  }

  private later(delayUs: number): void {
    this.ctx.cancelTimer(this.pollTimer);
    this.pollTimer = this.ctx.setTimer(delayUs, 'relay:read');
  }

  /** Reads the next changes, while the window of unsaved events has room. */
  private read(): void {
    if (this.reading || this.window.length >= WINDOW_EVENTS_MAX) {
      return;
    }
    this.reading = true;
    this.db.on(this.db.client.changes(this.handled, CHANGES_PER_READ), (completion) => {
      this.reading = false;
      const reply = okReply(completion, 'changes');
      if (reply === undefined) {
        this.later(RETRY_US);
        return;
      }
      this.endLsn = Math.max(this.endLsn, reply.endLsn);
      if (this.take(reply.changes)) {
        this.read();
      } else {
        this.later(IDLE_POLL_US);
      }
    });
  }

  /** Queues a batch's outbox events for publishing; false when it brought nothing new. */
  private take(changes: readonly DbChange[]): boolean {
    const fresh: Entry[] = [];
    let last = this.handled;
    for (const change of changes) {
      const position = { lsn: change.lsn, index: change.index };
      if (last !== null && comparePositions(position, last) <= 0) {
        this.ctx.log('the change feed went backwards: ignored', { lsn: change.lsn });
        return false;
      }
      last = position;
      const row = change.table === OUTBOX_TABLE ? decodeOutboxRow(change.value) : undefined;
      if (row !== undefined) {
        fresh.push({ event: eventOf(row), position, eventsAtLsn: 0, acked: false });
      }
    }
    if (last === null || (this.handled !== null && comparePositions(last, this.handled) === 0)) {
      return false;
    }
    for (const entry of fresh) {
      entry.eventsAtLsn = fresh.filter((other) => other.position.lsn === entry.position.lsn).length;
    }
    if (fresh.length > 0) {
      this.crash.at('relay-after-read');
    }
    this.handled = last;
    this.window.push(...fresh);
    if (this.bug === 'relay-saves-position-before-publish') {
      this.target = last; // the bug: the read counts as done before anything is published
    }
    for (const entry of fresh) {
      this.publishOne(entry);
    }
    this.advance();
    return true;
  }

  private publishOne(entry: Entry): void {
    (this.publisher as EventPublisher).publish(entry.event, (key, offset) => {
      entry.acked = true;
      observe(this.ctx, {
        type: 'outbox-published',
        publisher: this.ctx.name,
        eventId: entry.event.eventId,
        key,
        offset,
        position: entry.position,
        eventsAtLsn: entry.eventsAtLsn,
      });
      this.crash.at('relay-after-publish');
      this.advance();
    });
  }

  /**
   * Moves the position to save past every change whose events are all acknowledged: up to
   * the last acknowledged event before the first unacknowledged one, or to the last change
   * read when none is left (past trailing changes of other tables too, so the saved position
   * reaches the log end).
   */
  private advance(): void {
    if (this.bug !== 'relay-saves-position-before-publish') {
      const pending = this.window.findIndex((entry) => !entry.acked);
      if (pending < 0) {
        this.target = this.handled;
      } else if (pending > 0) {
        this.target = (this.window[pending - 1] as Entry).position;
      }
    }
    this.saveTarget();
    if (this.window.length < WINDOW_EVENTS_MAX) {
      this.read();
    }
  }

  /** One save at a time; when it is durable, the next (the newest target) follows. */
  private saveTarget(): void {
    const target = this.target;
    const current = resumeAfter(this.saved);
    if (target === null || this.cell.busy()) {
      return;
    }
    if (current !== null && comparePositions(target, current) <= 0) {
      this.prune(current);
      return;
    }
    const stored =
      this.bug === 'relay-position-per-lsn'
        ? { lsn: target.lsn, index: null }
        : { lsn: target.lsn, index: target.index };
    this.cell.save({ position: stored, incarnation: this.incarnation }, () => {
      this.saved = stored;
      this.crash.at('relay-after-save');
      // A full window stopped the reading, and only this prune makes room again: read on,
      // or the relay waits for ever (outbox-cdc seed 1904: 64 events held through a Kafka
      // outage, then acknowledged, saved and pruned, and nothing read after LSN 62).
      const wasFull = this.window.length >= WINDOW_EVENTS_MAX;
      this.prune(resumeAfter(stored) as LogPosition);
      this.saveTarget();
      if (wasFull && this.window.length < WINDOW_EVENTS_MAX) {
        this.read();
      }
    });
  }

  /** Forgets the events a saved position covers (acknowledged ones only: the bug's are not). */
  private prune(saved: LogPosition): void {
    while (this.window.length > 0) {
      const first = this.window[0] as Entry;
      if (comparePositions(first.position, saved) > 0 || !first.acked) {
        break;
      }
      this.window.shift();
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
    if (tag === 'relay:read' && timerId === this.pollTimer) {
      this.read();
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    this.cell.onSynced(syncId, ok);
  }

  inspect(): CdcRelayInspect {
    return { role: 'cdc-relay', saved: resumeAfter(this.saved), endLsn: this.endLsn };
  }
}
