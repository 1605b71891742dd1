// The operation shape shared by the file parsers and the built-in models: Jepsen's, with
// the call's arguments as input and the return's type and value as output.
import { assert } from '../../sim/assert.ts';
import { type Operation, UNKNOWN } from './types.ts';

export type Value = null | boolean | number | string | Value[];

export interface HistoryInput {
  /** The operation's function: `read`, `write`, `cas`, `get`, `put`, `append`, … */
  f: string;
  key?: string;
  /** The argument given at the call (Jepsen's `:value` on `:invoke`). */
  value?: Value;
}

export interface HistoryOutput {
  /** `fail` reaches a model only for operations whose failure is a result (a CAS that lost). */
  type: 'ok' | 'fail';
  value?: Value;
}

export type HistoryOperation = Operation<HistoryInput, HistoryOutput>;

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of a Jepsen-style history, before calls and returns are paired. */
export interface HistoryEvent {
  process: number;
  type: EventType;
  f: string;
  key?: string;
  value: Value;
  line: number;
}

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

/**
 * How a history's events are read: the two traditions disagree, so the format chooses.
 * - `jepsen` (Knossos): `:fail` definitely did not happen, whatever the function; `:info`
 *   may or may not have happened; an `:ok` completion's value is the operation's value
 *   (Knossos's `complete`: an invoke of `read nil` completed with `ok 3` is a read of 3);
 *   a register read of nil is a read whose value is not known, matching any state.
 * - `porcupine` (its etcd test logs): a `:fail` CAS is a CAS that returned false (the compare
 *   failed), any other `:fail` did not happen; a read of nil means the register is absent.
 */
export type Semantics = 'jepsen' | 'porcupine';
export const SEMANTICS: readonly Semantics[] = ['jepsen', 'porcupine'];

/** Functions whose `:fail` is a completed operation that returned false, not a no-op. */
const FAIL_IS_RESULT: Readonly<Record<Semantics, ReadonlySet<string>>> = {
  jepsen: new Set(),
  porcupine: new Set(['cas']),
};

interface Pending {
  event: HistoryEvent;
  time: number;
}

/**
 * Pairs invokes with their completions, per process, in file order (the event index is the
 * time). `:info` and an invoke never completed stay open to the end with an UNKNOWN output;
 * `:fail` is read as `semantics` says (above). Under Jepsen semantics an `:info` with nothing
 * outstanding is ignored, as Knossos does.
 */
export function pairEvents(
  events: readonly HistoryEvent[],
  semantics: Semantics = 'porcupine',
): HistoryOperation[] {
  const pending = new Map<number, Pending>();
  const operations: { op: HistoryOperation; time: number }[] = [];
  for (let time = 0; time < events.length; time++) {
    const event = events[time]!;
    if (event.type === 'invoke') {
      const open = pending.get(event.process);
      if (open !== undefined) {
        throw new HistoryFormatError(
          event.line,
          `process ${event.process} invokes again while its ${open.event.f} from line ${open.event.line} is still outstanding`,
        );
      }
      pending.set(event.process, { event, time });
      continue;
    }
    const open = pending.get(event.process);
    if (open === undefined && event.type === 'info' && semantics === 'jepsen') {
      continue;
    }
    if (open === undefined) {
      throw new HistoryFormatError(
        event.line,
        `process ${event.process} completes a ${event.f} it never invoked`,
      );
    }
    if (open.event.f !== event.f) {
      throw new HistoryFormatError(
        event.line,
        `process ${event.process} completes ${event.f} but invoked ${open.event.f} at line ${open.event.line}`,
      );
    }
    pending.delete(event.process);
    const op = completed(open, event, time, semantics);
    if (op !== undefined) {
      operations.push({ op, time: open.time });
    }
  }
  for (const open of pending.values()) {
    operations.push({ op: openForever(open), time: open.time });
  }
  // Calls in file order, so operation indices read like the file.
  operations.sort((a, b) => a.time - b.time);
  return operations.map((entry) => entry.op);
}

function inputOf(event: HistoryEvent): HistoryInput {
  const input: HistoryInput = { f: event.f, value: event.value };
  if (event.key !== undefined) {
    input.key = event.key;
  }
  return input;
}

function completed(
  open: Pending,
  event: HistoryEvent,
  time: number,
  semantics: Semantics,
): HistoryOperation | undefined {
  assert(event.type !== 'invoke', 'an invoke does not complete an operation');
  if (event.type === 'info') {
    return openForever(open);
  }
  if (event.type === 'fail' && !FAIL_IS_RESULT[semantics].has(event.f)) {
    return undefined;
  }
  const input = inputOf(open.event);
  if (semantics === 'jepsen') {
    input.value = event.value;
  }
  return {
    clientId: event.process,
    input,
    output: { type: event.type, value: event.value },
    callTime: open.time,
    returnTime: time,
    lines: { call: open.event.line, return: event.line },
  };
}

function openForever(open: Pending): HistoryOperation {
  return {
    clientId: open.event.process,
    input: inputOf(open.event),
    output: UNKNOWN,
    callTime: open.time,
    returnTime: Number.POSITIVE_INFINITY,
    lines: { call: open.event.line },
  };
}

export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) {
    return true;
  }
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (!sameValue(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

const KEYWORD = /^:[A-Za-z_*+!?<>=.-][\w*+!?<>=.\-/]*$/;

export function showValue(value: Value | undefined): string {
  if (value === null || value === undefined) {
    return 'nil';
  }
  if (typeof value === 'string') {
    // Keywords arrive as ":name" strings; they read best as they were written.
    return KEYWORD.test(value) ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(showValue).join(' ')}]`;
  }
  return String(value);
}
