// The viewer page's data, compact: a 65k-event seed as JSON objects was 36 MB of HTML that
// took about 2 s to parse. Here the big lists (messages, arrows, marks, steps) are columns of
// integers (times delta-encoded, varints) with every string interned once, the whole gzipped
// and embedded as base64; the page gunzips it with DecompressionStream and decodes it with
// page-decode.js, which page-data.test.ts runs in Node as well, so both ends read one format.
// Strings stay UTF-8 bytes until the page shows one (a body on hover, a step's text).
//
// Layout after gunzip: u32 LE header length · header JSON (UTF-8) · the columns' varints,
// column after column in the header's order · each string table's UTF-8 bytes, in order.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { Mark, ViewModel } from './model.ts';

export const PAGE_DATA_VERSION = 1;

/** What the header carries besides the columns: the model's small parts, as they are. */
type SmallParts = Omit<ViewModel, 'messages' | 'arrows' | 'marks' | 'steps'>;

export interface PageDataHeader {
  version: number;
  model: SmallParts;
  /**
   * Each string column's table (see StringColumn): its name, string count and byte length;
   * the column `<name>.bytes` holds each string's length in bytes.
   */
  strings: [name: string, count: number, byteLength: number][];
  /** Column name, value count, whether values are deltas of the previous one. */
  columns: [name: string, count: number, delta: boolean][];
  counts: { messages: number; arrows: number; marks: number; steps: number };
}

const ARROW_KINDS = ['deliver', 'drop', 'drop-at-send', 'in-flight'] as const;
const MARK_KINDS: readonly Mark['kind'][] = [
  'crash',
  'restart',
  'fsync',
  'fsync-failed',
  'disk',
  'observe',
  'timer',
  'fault',
];

/**
 * A string column's own table, in order of first use. A reference is 0 for "none", 1 for "the
 * next string of the table, first used here", else the index of a string used before plus 2:
 * a run's thousands of unique texts (message bodies, step texts) then cost one byte each, and
 * the few that repeat (types, labels) keep small indexes.
 */
class StringColumn {
  readonly list: string[] = [];
  readonly codes: number[] = [];
  private readonly index = new Map<string, number>();

  add(text: string | null | undefined): void {
    if (text === null || text === undefined) {
      this.codes.push(0);
      return;
    }
    const at = this.index.get(text);
    if (at !== undefined) {
      this.codes.push(at + 2);
      return;
    }
    this.index.set(text, this.list.push(text) - 1);
    this.codes.push(1);
  }
}

/** Zigzag LEB128 varints, exact for every safe integer (no 32-bit bit operations). */
class Varints {
  private bytes = new Uint8Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (!Number.isSafeInteger(value)) {
      throw new Error(`page data: ${value} is not a safe integer (times are integer µs)`);
    }
    let rest = value >= 0 ? value * 2 : -value * 2 - 1;
    if (this.length + 8 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    while (rest >= 128) {
      this.bytes[this.length++] = (rest % 128) + 128;
      rest = Math.floor(rest / 128);
    }
    this.bytes[this.length++] = rest;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

class Columns {
  readonly header: PageDataHeader['columns'] = [];
  readonly strings: PageDataHeader['strings'] = [];
  private readonly out = new Varints();
  private readonly tables: Buffer[] = [];

  addStrings(name: string, texts: readonly (string | null | undefined)[]): void {
    const column = new StringColumn();
    for (const text of texts) column.add(text);
    const encoded = column.list.map((text) => Buffer.from(text, 'utf8'));
    const table = Buffer.concat(encoded);
    this.add(name, column.codes);
    this.add(
      `${name}.bytes`,
      encoded.map((bytes) => bytes.length),
    );
    this.strings.push([name, column.list.length, table.length]);
    this.tables.push(table);
  }

  addJson(name: string, values: readonly unknown[]): void {
    this.addStrings(
      name,
      values.map((value) => (value === null || value === undefined ? null : JSON.stringify(value))),
    );
  }

  add(name: string, values: readonly number[], delta = false): void {
    let previous = 0;
    for (const value of values) {
      this.out.push(delta ? value - previous : value);
      previous = value;
    }
    this.header.push([name, values.length, delta]);
  }

  /** The varints, then the string tables. */
  bytes(): Buffer {
    return Buffer.concat([this.out.view(), ...this.tables]);
  }
}

/**
 * A step's text around the number it names (`#17` of a message, `op 3` of an operation), so
 * that the thousands of "n1 → n2 append #… delivered" share their two halves. Returns null
 * when the text does not hold the number as a whole token.
 */
export function splitAtId(text: string, id: number): [head: string, tail: string] | null {
  const token = String(id);
  let from = 0;
  for (let tries = 0; tries < 8; tries++) {
    const at = text.indexOf(token, from);
    if (at < 0) {
      return null;
    }
    const before = text[at - 1];
    const after = text[at + token.length];
    if ((before === '#' || before === ' ') && (after === undefined || !/[0-9]/.test(after))) {
      return [text.slice(0, at), text.slice(at + token.length)];
    }
    from = at + 1;
  }
  return null;
}

export function encodePageData(model: ViewModel): Buffer {
  const columns = new Columns();
  const { messages, arrows, marks, steps, ...small } = model;

  columns.add(
    'messageId',
    messages.map((m) => m.id),
    true,
  );
  columns.add(
    'messageFrom',
    messages.map((m) => m.from),
  );
  columns.add(
    'messageTo',
    messages.map((m) => m.to),
  );
  columns.addStrings(
    'messageType',
    messages.map((m) => m.type),
  );
  columns.add(
    'messageSendUs',
    messages.map((m) => m.sendUs),
    true,
  );
  columns.add(
    'messageSizeBytes',
    messages.map((m) => m.sizeBytes),
  );
  columns.addJson(
    'messageBody',
    messages.map((m) => m.body),
  );
  columns.add(
    'messageDuplicated',
    messages.map((m) => (m.duplicated ? 1 : 0)),
  );

  columns.add(
    'arrowMessage',
    arrows.map((a) => a.message),
    true,
  );
  columns.add(
    'arrowKind',
    arrows.map((a) => ARROW_KINDS.indexOf(a.kind) * 2 + (a.copy ? 1 : 0)),
  );
  columns.add(
    'arrowFromUs',
    arrows.map((a) => a.fromUs - (messages[a.message]?.sendUs ?? 0)),
  );
  columns.add(
    'arrowDurationUs',
    arrows.map((a) => a.toUs - a.fromUs),
  );
  columns.addStrings(
    'arrowReason',
    arrows.map((a) => a.reason),
  );

  columns.add(
    'markNode',
    marks.map((m) => m.node),
  );
  columns.add(
    'markAtUs',
    marks.map((m) => m.atUs),
    true,
  );
  columns.add(
    'markKind',
    marks.map((m) => MARK_KINDS.indexOf(m.kind)),
  );
  columns.addStrings(
    'markLabel',
    marks.map((m) => m.label),
  );
  columns.addJson(
    'markDetail',
    marks.map((m) => m.detail),
  );

  // A step's text is its two halves around the id it names. The id is most often its arrow's
  // message's (stored as 1), and its arrow most often the next new one (a send) or a recent
  // one (its delivery): both are stored relative, so they take a byte.
  const heads: string[] = [];
  const tails: (string | null)[] = [];
  const ids: number[] = [];
  const arrowCodes: number[] = [];
  let arrowsSeen = 0;
  for (const step of steps) {
    const id = step.id;
    const split = id === undefined ? null : splitAtId(step.text, id);
    const arrow = step.arrow;
    if (arrow === undefined) {
      arrowCodes.push(0);
    } else {
      // 1 is the next new arrow; k ≥ 2 the arrow k - 1 before it.
      arrowCodes.push(arrowsSeen - arrow + 1);
      arrowsSeen = Math.max(arrowsSeen, arrow + 1);
    }
    if (split === null || id === undefined) {
      heads.push(step.text);
      tails.push(null);
      ids.push(0);
      continue;
    }
    heads.push(split[0]);
    tails.push(split[1]);
    const own = arrow === undefined ? undefined : messages[arrows[arrow]?.message ?? -1]?.id;
    // 0: no id; 1: its arrow's message id; else the id itself, shifted past those two codes.
    ids.push(own === id ? 1 : id >= 0 ? id + 2 : id);
  }
  columns.add(
    'stepAtUs',
    steps.map((s) => s.atUs),
    true,
  );
  columns.add(
    'stepNode',
    steps.map((s) => s.node),
  );
  columns.addStrings(
    'stepKind',
    steps.map((s) => s.kind),
  );
  columns.addStrings('stepHead', heads);
  columns.add('stepId', ids);
  columns.addStrings('stepTail', tails);
  columns.add('stepArrow', arrowCodes);

  const header: PageDataHeader = {
    version: PAGE_DATA_VERSION,
    model: small,
    strings: columns.strings,
    columns: columns.header,
    counts: {
      messages: messages.length,
      arrows: arrows.length,
      marks: marks.length,
      steps: steps.length,
    },
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  return gzipSync(Buffer.concat([length, headerBytes, columns.bytes()]), { level: 9 });
}

/** The page's decoder (page-decode.js), run here as the page runs it. */
export function decodePageData(gzipped: Uint8Array, gunzip: (bytes: Uint8Array) => Uint8Array) {
  const source = readFileSync(new URL('./page-decode.js', import.meta.url), 'utf8');
  const decode = runInNewContext(`${source}; decodeFaultlineData`, {
    TextDecoder,
    Uint8Array,
    DataView,
    Float64Array,
    Int32Array,
    JSON,
    Math,
    Error,
  }) as (bytes: Uint8Array) => DecodedPage;
  return decode(gunzip(gzipped));
}

/** What page-decode.js hands the page. */
export interface DecodedPage {
  model: SmallParts & {
    messages: {
      id: number;
      from: number;
      to: number;
      type: string;
      sendUs: number;
      sizeBytes: number;
      duplicated: boolean;
    }[];
    arrows: {
      message: number;
      kind: string;
      fromUs: number;
      toUs: number;
      copy: boolean;
      reason?: string;
    }[];
    marks: { node: number; atUs: number; kind: string; label: string }[];
  };
  messageBody(index: number): string | null;
  markDetail(index: number): string | null;
  steps: {
    count: number;
    atUs: Float64Array;
    node: Int32Array;
    arrow: Int32Array;
    kind(index: number): string;
    text(index: number): string;
  };
}
