// History file formats. Each parser yields HistoryEvents in file order; pairEvents turns them
// into operations. Malformed input raises HistoryFormatError carrying the line number.
//
// JSON lines schema (one object per line; blank lines and lines starting with // are skipped):
//   {"process": 0, "type": "invoke"|"ok"|"fail"|"info", "f": "read", "key"?: "k", "value"?: ...}
// `process` is an integer; `f` a string; `key` (optional) a string or number; `value` any JSON
// (null, number, string, boolean or arrays of them; a CAS's value is [from, to]).
import { EdnMap, EdnSymbol, type EdnValue, Keyword, readEdn } from './edn.ts';
import {
  type EventType,
  type HistoryEvent,
  HistoryFormatError,
  type HistoryOperation,
  pairEvents,
  type Semantics,
  showValue,
  type Value,
} from './history.ts';

export const FORMATS = ['edn', 'jepsen-log', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

const EVENT_TYPES = new Set<string>(['invoke', 'ok', 'fail', 'info']);
const JEPSEN_LOG_MARKER = 'jepsen.util - ';

/** Picks the format from the first line that is not blank or a comment. */
export function detectFormat(text: string): Format {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('//')) {
      continue;
    }
    if (line.includes(JEPSEN_LOG_MARKER)) {
      return 'jepsen-log';
    }
    if (line.startsWith('{"') || line.startsWith('{ "')) {
      return 'jsonl';
    }
    if (/^[[{(#]/.test(line)) {
      return 'edn';
    }
    throw new HistoryFormatError(
      i + 1,
      'cannot tell the format: expected an EDN map, a JSON object or a Jepsen log line',
    );
  }
  // Nothing but blanks: an empty history in any format.
  return 'jsonl';
}

/**
 * The semantics a format's histories are written in: Jepsen's EDN and the JSON lines that
 * mirror its operation maps mean what Jepsen and Knossos mean; the `jepsen.util` text logs
 * are Porcupine's etcd test data and mean what Porcupine's etcd model means.
 */
export function semanticsOf(format: Format): Semantics {
  return format === 'jepsen-log' ? 'porcupine' : 'jepsen';
}

export interface ParsedHistory {
  operations: HistoryOperation[];
  format: Format;
  semantics: Semantics;
}

/** Parses a history; the format is detected and the semantics follow it unless given. */
export function readHistory(
  text: string,
  options: { format?: Format | 'auto'; semantics?: Semantics | 'auto' } = {},
): ParsedHistory {
  const requested = options.format ?? 'auto';
  const format = requested === 'auto' ? detectFormat(text) : requested;
  const semantics =
    options.semantics === undefined || options.semantics === 'auto'
      ? semanticsOf(format)
      : options.semantics;
  const events =
    format === 'edn'
      ? ednEvents(text)
      : format === 'jepsen-log'
        ? jepsenLogEvents(text)
        : jsonLinesEvents(text);
  return { operations: pairEvents(events, semantics), format, semantics };
}

export function parseHistory(
  text: string,
  format: Format | 'auto' = 'auto',
  semantics: Semantics | 'auto' = 'auto',
): HistoryOperation[] {
  return readHistory(text, { format, semantics }).operations;
}

function toValue(value: EdnValue, line: number): Value {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => toValue(item, line));
  }
  if (value instanceof Keyword || value instanceof EdnSymbol) {
    return `:${value.name}`;
  }
  throw new HistoryFormatError(line, 'a map is not a supported operation value');
}

function nameOf(value: EdnValue | undefined): string | undefined {
  if (value instanceof Keyword || value instanceof EdnSymbol) {
    return value.name;
  }
  return typeof value === 'string' ? value : undefined;
}

function eventType(name: string | undefined, line: number): EventType {
  if (name === undefined || !EVENT_TYPES.has(name)) {
    throw new HistoryFormatError(
      line,
      `the type must be invoke, ok, fail or info, got ${name ?? 'nothing'}`,
    );
  }
  return name as EventType;
}

/** Jepsen EDN: maps one per line, or all inside one vector (or list). */
export function ednEvents(text: string): HistoryEvent[] {
  const forms = readEdn(text);
  const only = forms[0];
  const maps: { value: EdnValue; line: number }[] =
    forms.length === 1 && only !== undefined && Array.isArray(only.value)
      ? only.value.map((value) => ({
          value,
          line: value instanceof EdnMap ? value.line : only.line,
        }))
      : forms;
  const events: HistoryEvent[] = [];
  for (const { value, line } of maps) {
    if (!(value instanceof EdnMap)) {
      throw new HistoryFormatError(
        line,
        'expected an operation map like {:process 0, :type :invoke, :f :read}',
      );
    }
    const event = ednEvent(value, line);
    if (event !== undefined) {
      events.push(event);
    }
  }
  return events;
}

function ednEvent(map: EdnMap, line: number): HistoryEvent | undefined {
  const process = map.get('process');
  if (process instanceof Keyword) {
    return undefined; // :nemesis and friends act on the system, not on the object checked
  }
  if (typeof process !== 'number' || !Number.isInteger(process)) {
    throw new HistoryFormatError(line, ':process must be an integer');
  }
  const f = nameOf(map.get('f'));
  if (f === undefined) {
    throw new HistoryFormatError(line, ':f must name the operation, like :read');
  }
  const event: HistoryEvent = {
    process,
    type: eventType(nameOf(map.get('type')), line),
    f,
    value: toValue(map.get('value') ?? null, line),
    line,
  };
  const key = map.get('key');
  if (key !== undefined && key !== null) {
    event.key = typeof key === 'string' ? key : String(toValue(key, line));
  }
  return event;
}

/** Porcupine's / Knossos' text logs: `INFO  jepsen.util - <process> <type> <f> <value>`. */
export function jepsenLogEvents(text: string): HistoryEvent[] {
  const lines = text.split('\n');
  const events: HistoryEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') {
      continue;
    }
    const event = jepsenLogEvent(raw, i + 1);
    if (event !== undefined) {
      events.push(event);
    }
  }
  return events;
}

function jepsenLogEvent(raw: string, line: number): HistoryEvent | undefined {
  const at = raw.indexOf(JEPSEN_LOG_MARKER);
  if (at < 0) {
    throw new HistoryFormatError(
      line,
      `expected a Jepsen log line containing "${JEPSEN_LOG_MARKER.trim()}"`,
    );
  }
  const fields = raw
    .slice(at + JEPSEN_LOG_MARKER.length)
    .trim()
    .split(/\s+/);
  const [processField, typeField, fField, ...valueFields] = fields;
  if (processField === undefined || typeField === undefined || fField === undefined) {
    throw new HistoryFormatError(
      line,
      'expected <process> <type> <f> <value> after "jepsen.util -"',
    );
  }
  if (processField.startsWith(':')) {
    return undefined; // :nemesis
  }
  if (!/^\d+$/.test(processField)) {
    throw new HistoryFormatError(line, `process must be an integer, got ${processField}`);
  }
  if (!fField.startsWith(':')) {
    throw new HistoryFormatError(line, `the operation must be a keyword like :read, got ${fField}`);
  }
  const forms = readEdn(valueFields.join(' '), line);
  if (forms.length > 1) {
    throw new HistoryFormatError(line, `expected one value, got ${valueFields.join(' ')}`);
  }
  return {
    process: Number(processField),
    type: eventType(typeField.startsWith(':') ? typeField.slice(1) : undefined, line),
    f: fField.slice(1),
    value: toValue(forms[0]?.value ?? null, line),
    line,
  };
}

function isValue(value: unknown): value is Value {
  if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) {
    return true;
  }
  return Array.isArray(value) && value.every(isValue);
}

/** JSON lines, one event object per line (schema at the top of this file). */
export function jsonLinesEvents(text: string): HistoryEvent[] {
  const lines = text.split('\n');
  const events: HistoryEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('//')) {
      continue;
    }
    events.push(jsonLineEvent(raw, i + 1));
  }
  return events;
}

function jsonLineEvent(raw: string, line: number): HistoryEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new HistoryFormatError(line, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HistoryFormatError(line, 'expected a JSON object per line');
  }
  const record = parsed as Record<string, unknown>;
  const process = record['process'];
  if (typeof process !== 'number' || !Number.isInteger(process)) {
    throw new HistoryFormatError(line, '"process" must be an integer');
  }
  const type = record['type'];
  const f = record['f'];
  if (typeof f !== 'string' || f === '') {
    throw new HistoryFormatError(line, '"f" must be a non-empty string');
  }
  const value = record['value'] ?? null;
  if (!isValue(value)) {
    throw new HistoryFormatError(
      line,
      '"value" must be null, a number, a string, a boolean or an array',
    );
  }
  const event: HistoryEvent = {
    process,
    type: eventType(typeof type === 'string' ? type : undefined, line),
    f,
    value,
    line,
  };
  const key = record['key'];
  if (key !== undefined && key !== null) {
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new HistoryFormatError(line, '"key" must be a string or a number');
    }
    event.key = String(key);
  }
  return event;
}

/**
 * An initial state given on the command line (`--initial`): an EDN or JSON value, or a map of
 * keys to values (`{:x 0 :y 0}` or `{"x": 0}`) for the multi-register.
 */
export function parseInitial(text: string): Value | ReadonlyMap<string, Value> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json !== undefined) {
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      const map = new Map<string, Value>();
      for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
        if (!isValue(value)) {
          throw new HistoryFormatError(1, `the value of ${key} is not a plain value`);
        }
        map.set(showValue(key), value);
      }
      return map;
    }
    if (isValue(json)) {
      return json;
    }
  }
  const forms = readEdn(text);
  if (forms.length !== 1) {
    throw new HistoryFormatError(1, `expected one value, got ${forms.length}`);
  }
  const form = forms[0]!.value;
  if (form instanceof EdnMap) {
    const map = new Map<string, Value>();
    for (const [key, value] of form.entries) {
      map.set(showValue(toValue(key, 1)), toValue(value, 1));
    }
    return map;
  }
  return toValue(form, 1);
}
