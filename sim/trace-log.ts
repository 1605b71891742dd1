// The optional full event log of a run, for replay timelines and the space-time viewer.
// Fuzzing never records it; replay and `run --html` do.
import { digestValue } from './trace.ts';
import type {
  FaultEvent,
  HistoryOperation,
  Message,
  ObservationRecord,
  Violation,
} from './types.ts';

export type TraceKind =
  | 'send'
  | 'deliver'
  | 'drop'
  | 'duplicate'
  | 'timer'
  | 'fsync'
  | 'fault'
  | 'crash'
  | 'restart'
  | 'resume'
  | 'settle'
  | 'observe'
  | 'invoke'
  | 'complete'
  | 'log'
  | 'violation';

export interface TraceRecord {
  /** Index of the simulator event during which this happened. */
  event: number;
  timeUs: number;
  kind: TraceKind;
  node: number;
  /** For messages: the other end, the message id, its type. */
  peer?: number;
  messageId?: number;
  type?: string;
  detail?: unknown;
}

/** What the simulator needs to know of itself to stamp a record. */
interface Clock {
  readonly nowUs: number;
  readonly eventIndex: number;
}

const DETAIL_CHARS_MAX = 2000;
const RECORDS_MAX = 2_000_000;

/** Keeps message bodies small and printable (bytes as a length and digest). */
export function summarize(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, item) => {
    if (item instanceof Uint8Array) {
      return `<${item.length} bytes #${digestValue(item).toString(16)}>`;
    }
    if (typeof item === 'bigint') {
      return item.toString();
    }
    return item;
  });
  if (text === undefined) {
    return null;
  }
  if (text.length > DETAIL_CHARS_MAX) {
    return `${text.slice(0, DETAIL_CHARS_MAX)}…`;
  }
  return JSON.parse(text);
}

export class TraceRecorder {
  readonly records: TraceRecord[] = [];
  truncated = false;

  private add(clock: Clock, record: Omit<TraceRecord, 'event' | 'timeUs'>): void {
    if (this.records.length >= RECORDS_MAX) {
      this.truncated = true;
      return;
    }
    // The event being handled is the next to be counted.
    this.records.push({ event: clock.eventIndex + 1, timeUs: clock.nowUs, ...record });
  }

  send(
    clock: Clock,
    from: number,
    to: number,
    messageId: number,
    message: Message,
    sizeBytes: number,
  ): void {
    this.add(clock, {
      kind: 'send',
      node: from,
      peer: to,
      messageId,
      type: message.type,
      detail: { sizeBytes, body: summarize(message) },
    });
  }

  deliver(clock: Clock, from: number, to: number, messageId: number, message: Message): void {
    this.add(clock, { kind: 'deliver', node: to, peer: from, messageId, type: message.type });
  }

  drop(clock: Clock, from: number, to: number, messageId: number, reason: string): void {
    this.add(clock, { kind: 'drop', node: from, peer: to, messageId, detail: reason });
  }

  duplicate(clock: Clock, from: number, to: number, messageId: number): void {
    this.add(clock, { kind: 'duplicate', node: from, peer: to, messageId });
  }

  timer(clock: Clock, node: number, tag: string): void {
    this.add(clock, { kind: 'timer', node, detail: tag });
  }

  fsync(clock: Clock, node: number, syncId: number, ok: boolean): void {
    this.add(clock, { kind: 'fsync', node, detail: { syncId, ok } });
  }

  fault(clock: Clock, fault: FaultEvent): void {
    const node = 'node' in fault ? fault.node : -1;
    this.add(clock, { kind: 'fault', node, type: fault.kind, detail: summarize(fault) });
  }

  /** Where a media fault landed (a misdirected write at its fsync, a rotted sector). */
  mediaFault(
    clock: Clock,
    node: number,
    kind: 'bit-rot' | 'misdirected-write',
    where: { file: string; sector: number; landedOn?: number },
  ): void {
    this.add(clock, { kind: 'fault', node, type: `${kind} landed`, detail: { ...where } });
  }

  lifecycle(
    clock: Clock,
    node: number,
    kind: 'crash' | 'restart' | 'resume' | 'settle',
    detail: string,
  ): void {
    this.add(clock, { kind, node, detail });
  }

  observe(clock: Clock, record: ObservationRecord): void {
    this.add(clock, {
      kind: 'observe',
      node: record.node,
      type: record.observation.type,
      detail: summarize(record.observation),
    });
  }

  invoke(clock: Clock, operation: HistoryOperation): void {
    this.add(clock, {
      kind: 'invoke',
      node: operation.client,
      messageId: operation.id,
      detail: summarize(operation.input),
    });
  }

  complete(clock: Clock, operation: HistoryOperation): void {
    this.add(clock, {
      kind: 'complete',
      node: operation.client,
      messageId: operation.id,
      type: operation.status,
      detail: summarize(operation.output),
    });
  }

  log(clock: Clock, node: number, message: string, fields?: Record<string, unknown>): void {
    this.add(clock, {
      kind: 'log',
      node,
      type: message,
      detail: fields ? summarize(fields) : null,
    });
  }

  violation(clock: Clock, violation: Violation): void {
    this.add(clock, {
      kind: 'violation',
      node: violation.node ?? -1,
      detail: summarize(violation),
    });
  }
}
