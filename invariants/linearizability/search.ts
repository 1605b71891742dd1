// Wing–Gong–Lowe search over one part of a history, resumable in slices of steps so that
// parts can be interleaved (the first illegal part ends the check, as Porcupine's goroutines
// do) and so that a budget can stop it. No recursion: the linearization is an explicit stack.
import { assert } from '../../sim/assert.ts';
import { MemoSet } from './memo.ts';
import { isUnknown, type Model, type Operation, type Unknown } from './types.ts';

export type SliceOutcome = 'linearizable' | 'illegal' | 'running';

export interface Deepest<S> {
  /** Operation indices (into this part) of the longest linearizable prefix found. */
  prefix: Int32Array;
  /** The operation whose return was reached with no way to continue from that prefix. */
  blocked: number;
  state: S;
}

const NONE = -1;

/** A well-mixed 32-bit value for each operation: XOR of these over set bits is the bitset hash. */
export function mix32(value: number): number {
  let h = Math.imul(value ^ (value >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

function defaultEqual<S>(a: S, b: S): boolean {
  return a === b;
}

export class PartitionSearch<S, I, O> {
  readonly operationCount: number;
  private readonly model: Model<S, I, O>;
  private readonly inputs: I[];
  private readonly outputs: (O | Unknown)[];
  // Doubly linked list of entries in time order; entry 2n is the head sentinel.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head: number;
  /** For a call entry, its return entry; NONE for a return entry. */
  private readonly matchOf: Int32Array;
  private readonly operationOf: Int32Array;
  /** 1 for an operation whose outcome is unknown (open until the end), else 0. */
  private readonly open: Uint8Array;
  private readonly zobrist: Int32Array;
  private readonly bits: Uint32Array;
  private readonly memo: MemoSet<S>;
  private readonly stateHash: ((state: S) => number) | undefined;
  private readonly stackEntry: Int32Array;
  private readonly stackState: S[];
  private depth = 0;
  /** Search steps so far: one per entry visited. */
  stepsTaken = 0;
  private bitsHash = 0;
  private state: S;
  private cursor: number;
  private done: SliceOutcome = 'running';
  private deepest: Deepest<S> | undefined;
  private deepestDepth = -1;

  constructor(model: Model<S, I, O>, operations: readonly Operation<I, O>[]) {
    const n = operations.length;
    this.operationCount = n;
    this.model = model;
    this.inputs = operations.map((op) => op.input);
    this.outputs = operations.map((op) => op.output);
    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1);
    this.prev = new Int32Array(2 * n + 1);
    this.matchOf = new Int32Array(2 * n);
    this.operationOf = new Int32Array(2 * n);
    this.open = new Uint8Array(n);
    this.zobrist = new Int32Array(n);
    const wordCount = Math.max(1, Math.ceil(n / 32));
    this.bits = new Uint32Array(wordCount);
    this.memo = new MemoSet<S>(wordCount, model.equal?.bind(model) ?? defaultEqual);
    this.stateHash = model.hash?.bind(model);
    this.stackEntry = new Int32Array(n);
    this.stackState = new Array<S>(n);
    this.state = model.init();
    this.buildList(operations);
    this.cursor = this.next[this.head]!;
  }

  get memoSize(): number {
    return this.memo.size;
  }

  get memoBytes(): number {
    return this.memo.size * this.memo.bytesPerEntry;
  }

  get memoBytesPerEntry(): number {
    return this.memo.bytesPerEntry;
  }

  get outcome(): SliceOutcome {
    return this.done;
  }

  /** The deepest point reached, recorded when the search had to backtrack from it. */
  get deepestPoint(): Deepest<S> | undefined {
    return this.deepest;
  }

  private buildList(operations: readonly Operation<I, O>[]): void {
    const n = operations.length;
    const times = new Float64Array(2 * n);
    const order: number[] = [];
    for (let op = 0; op < n; op++) {
      const operation = operations[op]!;
      assert(Number.isFinite(operation.callTime), `operation ${op} needs a finite call time`);
      const open = isUnknown(operation.output);
      this.open[op] = open ? 1 : 0;
      // An unknown outcome may take effect at any later time: its return is at the very end.
      const returnTime = open ? Number.POSITIVE_INFINITY : operation.returnTime;
      assert(returnTime >= operation.callTime, `operation ${op} returns before its call`);
      times[2 * op] = operation.callTime;
      times[2 * op + 1] = returnTime;
      order.push(2 * op, 2 * op + 1);
      this.zobrist[op] = mix32(op + 0x9e3779b9);
    }
    // Time order; at equal times calls come first (closed intervals overlap), then by operation.
    order.sort((a, b) => times[a]! - times[b]! || (a & 1) - (b & 1) || a - b);
    const position = new Int32Array(2 * n);
    for (let i = 0; i < order.length; i++) {
      const raw = order[i]!;
      position[raw] = i;
      this.operationOf[i] = raw >> 1;
    }
    for (let i = 0; i < order.length; i++) {
      const raw = order[i]!;
      this.matchOf[i] = (raw & 1) === 0 ? position[raw + 1]! : NONE;
      this.next[i] = i + 1 < order.length ? i + 1 : NONE;
      this.prev[i] = i === 0 ? this.head : i - 1;
    }
    this.next[this.head] = order.length > 0 ? 0 : NONE;
    this.prev[this.head] = NONE;
  }

  /**
   * Runs at most `maxSteps` steps, and stops early (still 'running') before the memo would
   * grow past `memoLimit` entries. Once the outcome is not 'running' it stays so.
   */
  run(maxSteps: number, memoLimit: number): SliceOutcome {
    assert(maxSteps > 0, 'a slice runs at least one step');
    let steps = 0;
    for (; steps < maxSteps && this.done === 'running'; steps++) {
      if (this.next[this.head] === NONE) {
        assert(this.depth === this.operationCount, 'an empty list means every op is linearized');
        this.done = 'linearizable';
        break;
      }
      const entry = this.cursor;
      if (this.matchOf[entry] === NONE && this.open[this.operationOf[entry]!] === 1) {
        // Returns of open operations sort after every finite entry, so reaching one means every
        // operation that returned is linearized; the open ones left may never have taken
        // effect (Knossos ends its search at the first :info the same way).
        this.done = 'linearizable';
        break;
      }
      if (this.matchOf[entry]! !== NONE) {
        if (this.memo.size >= memoLimit) {
          break;
        }
        this.tryCall(entry);
      } else if (!this.backtrack(entry)) {
        assert(this.depth === 0 && this.deepest !== undefined, 'illegal only with nothing to undo');
        this.done = 'illegal';
      }
    }
    this.stepsTaken += steps;
    return this.done;
  }

  private tryCall(entry: number): void {
    const op = this.operationOf[entry]!;
    const result = this.model.step(this.state, this.inputs[op]!, this.outputs[op]!);
    if (!result.ok) {
      this.cursor = this.next[entry]!;
      return;
    }
    const word = op >>> 5;
    const bit = 1 << (op & 31);
    this.bits[word]! |= bit;
    const bitsHash = this.bitsHash ^ this.zobrist[op]!;
    const hash =
      this.stateHash === undefined ? bitsHash : bitsHash ^ mix32(this.stateHash(result.state));
    if (this.memo.addIfAbsent(hash, this.bits, result.state)) {
      this.stackEntry[this.depth] = entry;
      this.stackState[this.depth] = this.state;
      this.depth++;
      this.state = result.state;
      this.bitsHash = bitsHash;
      this.lift(entry);
      this.cursor = this.next[this.head]!;
    } else {
      this.bits[word]! &= ~bit;
      this.cursor = this.next[entry]!;
    }
  }

  /** At a return entry: undo the last linearized call. False when there is nothing to undo. */
  private backtrack(returnEntry: number): boolean {
    if (this.depth > this.deepestDepth) {
      this.recordDeepest(returnEntry);
    }
    if (this.depth === 0) {
      return false;
    }
    this.depth--;
    const entry = this.stackEntry[this.depth]!;
    this.state = this.stackState[this.depth]!;
    const op = this.operationOf[entry]!;
    this.bits[op >>> 5]! &= ~(1 << (op & 31));
    this.bitsHash ^= this.zobrist[op]!;
    this.unlift(entry);
    this.cursor = this.next[entry]!;
    return true;
  }

  private recordDeepest(returnEntry: number): void {
    this.deepestDepth = this.depth;
    this.deepest = {
      prefix: Int32Array.from(this.stackEntry.subarray(0, this.depth), (e) => this.operationOf[e]!),
      blocked: this.operationOf[returnEntry]!,
      state: this.state,
    };
  }

  // Dancing links: the removed entries keep their own pointers, so unlift restores them.
  private lift(entry: number): void {
    const ret = this.matchOf[entry]!;
    const { next, prev } = this;
    next[prev[entry]!] = next[entry]!;
    prev[next[entry]!] = prev[entry]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== NONE) {
      prev[next[ret]!] = prev[ret]!;
    }
  }

  private unlift(entry: number): void {
    const ret = this.matchOf[entry]!;
    const { next, prev } = this;
    next[prev[ret]!] = ret;
    if (next[ret] !== NONE) {
      prev[next[ret]!] = ret;
    }
    next[prev[entry]!] = entry;
    prev[next[entry]!] = entry;
  }
}
