// A small EDN reader, enough for Jepsen histories: maps, vectors, lists, sets, keywords,
// strings, numbers, nil/true/false, symbols, `#tag` (the tag is dropped), `;` comments and
// commas as whitespace. Iterative (explicit stack), and every value knows its line.
import { HistoryFormatError } from './history.ts';

export class Keyword {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export class EdnSymbol {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export class EdnMap {
  readonly entries: [EdnValue, EdnValue][];
  readonly line: number;
  constructor(entries: [EdnValue, EdnValue][], line: number) {
    this.entries = entries;
    this.line = line;
  }

  /** The value under keyword `:name`, or undefined. */
  get(name: string): EdnValue | undefined {
    for (const [key, value] of this.entries) {
      if (key instanceof Keyword && key.name === name) {
        return value;
      }
    }
    return undefined;
  }
}

export type EdnValue = null | boolean | number | string | Keyword | EdnSymbol | EdnMap | EdnValue[];

export interface TopLevelForm {
  value: EdnValue;
  line: number;
}

type Open = '{' | '[' | '(' | '#{';
const CLOSER: Record<Open, string> = { '{': '}', '[': ']', '(': ')', '#{': '}' };

interface Frame {
  open: Open;
  items: EdnValue[];
  line: number;
}

const DELIMITERS = new Set(['{', '}', '[', ']', '(', ')', '"', ';', ',']);
const NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?[NM]?$/;
const MAX_DEPTH = 256;

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === ',';
}

class Reader {
  private readonly text: string;
  private pos = 0;
  private line: number;
  private readonly stack: Frame[] = [];
  private readonly forms: TopLevelForm[] = [];

  constructor(text: string, firstLine: number) {
    this.text = text;
    this.line = firstLine;
  }

  readAll(): TopLevelForm[] {
    // Each iteration consumes at least one character, so the text length bounds the loop.
    for (let guard = 0; guard <= this.text.length; guard++) {
      this.skipSpace();
      if (this.pos >= this.text.length) {
        break;
      }
      this.readToken();
    }
    const open = this.stack.at(-1);
    if (open !== undefined) {
      throw new HistoryFormatError(open.line, `'${open.open}' is never closed`);
    }
    return this.forms;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (ch === '\n') {
        this.line++;
      } else if (ch === ';') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') {
          this.pos++;
        }
        continue;
      } else if (!isSpace(ch)) {
        return;
      }
      this.pos++;
    }
  }

  private readToken(): void {
    const ch = this.text[this.pos]!;
    const line = this.line;
    if (ch === '{' || ch === '[' || ch === '(') {
      this.pos++;
      this.push(ch, line);
    } else if (ch === '#' && this.text[this.pos + 1] === '{') {
      this.pos += 2;
      this.push('#{', line);
    } else if (ch === '#') {
      // A tagged literal such as #jepsen.history.Op{...}: the value is what follows the tag.
      this.pos++;
      this.readAtom();
    } else if (ch === '}' || ch === ']' || ch === ')') {
      this.pos++;
      this.close(ch, line);
    } else if (ch === '"') {
      this.emit(this.readString(), line);
    } else if (ch === '\\') {
      this.pos++;
      this.emit(this.readAtom(), line);
    } else {
      this.emit(this.atomValue(this.readAtom(), line), line);
    }
  }

  private push(open: Open, line: number): void {
    if (this.stack.length >= MAX_DEPTH) {
      throw new HistoryFormatError(line, `values nest deeper than ${MAX_DEPTH} levels`);
    }
    this.stack.push({ open, items: [], line });
  }

  private close(closer: string, line: number): void {
    const frame = this.stack.pop();
    if (frame === undefined) {
      throw new HistoryFormatError(line, `unexpected '${closer}' with nothing open`);
    }
    if (CLOSER[frame.open] !== closer) {
      throw new HistoryFormatError(
        line,
        `'${closer}' closes the '${frame.open}' opened at line ${frame.line}`,
      );
    }
    if (frame.open === '{') {
      if (frame.items.length % 2 !== 0) {
        throw new HistoryFormatError(frame.line, 'a map has a key without a value');
      }
      const entries: [EdnValue, EdnValue][] = [];
      for (let i = 0; i < frame.items.length; i += 2) {
        entries.push([frame.items[i]!, frame.items[i + 1]!]);
      }
      this.emit(new EdnMap(entries, frame.line), frame.line);
    } else {
      this.emit(frame.items, frame.line);
    }
  }

  private emit(value: EdnValue, line: number): void {
    const top = this.stack.at(-1);
    if (top === undefined) {
      this.forms.push({ value, line });
    } else {
      top.items.push(value);
    }
  }

  private readString(): string {
    const startLine = this.line;
    this.pos++;
    let out = '';
    for (; this.pos < this.text.length; this.pos++) {
      const ch = this.text[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '\n') {
        this.line++;
      }
      if (ch === '\\') {
        this.pos++;
        out += this.escape(this.text[this.pos]);
      } else {
        out += ch;
      }
    }
    throw new HistoryFormatError(startLine, 'a string is never closed');
  }

  private escape(ch: string | undefined): string {
    switch (ch) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '"':
      case '\\':
        return ch;
      default:
        throw new HistoryFormatError(this.line, `unknown string escape \\${ch ?? ''}`);
    }
  }

  private readAtom(): string {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (isSpace(ch) || ch === '\n' || DELIMITERS.has(ch)) {
        break;
      }
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  private atomValue(atom: string, line: number): EdnValue {
    if (atom.length === 0) {
      throw new HistoryFormatError(line, `unexpected character '${this.text[this.pos]}'`);
    }
    if (atom === 'nil') {
      return null;
    }
    if (atom === 'true' || atom === 'false') {
      return atom === 'true';
    }
    if (atom[0] === ':') {
      if (atom.length === 1) {
        throw new HistoryFormatError(line, 'a keyword needs a name after ":"');
      }
      return new Keyword(atom.slice(1));
    }
    if (NUMBER.test(atom)) {
      return Number(atom.replace(/[NM]$/, ''));
    }
    if (/^[+-]?\d/.test(atom)) {
      throw new HistoryFormatError(line, `'${atom}' is not a number`);
    }
    return new EdnSymbol(atom);
  }
}

/** Reads every top-level form of `text`; `firstLine` numbers the first line of `text`. */
export function readEdn(text: string, firstLine = 1): TopLevelForm[] {
  return new Reader(text, firstLine).readAll();
}
