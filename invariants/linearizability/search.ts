// Wing–Gong–Lowe search over one part of a history, resumable in slices of steps so that
// parts can be interleaved (the first illegal part ends the check, as Porcupine's goroutines
// do) and so that a budget can stop it. No recursion: the linearization is an explicit stack.
import { assert } from '../../sim/assert.ts';
import { type BitsView, MemoSet } from './memo.ts';
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
  /**
   * For an open operation, the previous open operation (by call) with the same input, or NONE.
   * Such twins are interchangeable once both are called, so only the earliest unused one is
   * tried: k crashed `write(1)`s then cost k+1 configurations, not 2^k.
   */
  private readonly twinBefore: Int32Array;
  /**
   * Open operations are not in the list: they are tried only when the walk reaches a return
   * (after every finished call before it), in call order, those called by then. Trying them
   * last makes the search reach the configurations that used fewer of them first, so the
   * memo's subsumption prunes the ones that used more.
   */
  private readonly openOrder: Int32Array;
  private readonly openCall: Float64Array;
  /** Each list entry's time (call or return). */
  private readonly entryTime: Float64Array;
  /** Stack slots for open operations: their index in openOrder, and the return they met. */
  private readonly stackOpen: Int32Array;
  private readonly stackBlock: Int32Array;
  /**
   * 1 at a depth whose operation is read-only (Model.readOnly: it never changes the state).
   * Such an operation can always be linearized as soon as it is a candidate and its step
   * succeeds: moving it earlier in any successful order changes no state and breaks no
   * real-time order (every operation that returned before its call is linearized already). So that depth tries nothing else: when
   * its subtree fails, so does its parent. Reads then stop multiplying the search.
   */
  private readonly stackForced: Uint8Array;
  private readonly equal: (a: S, b: S) => boolean;
  private readonly readOnly: ((input: I, output: O | Unknown) => boolean) | undefined;
  /** Set when the current configuration is known to fail without trying more candidates. */
  private failHere = false;
  /** -1 while walking the list; else the next index into openOrder to try before `block`. */
  private openCursor = -1;
  private block = NONE;
  private readonly zobrist: Int32Array;
  /** Each operation's bit: finished operations first in their order, open ones after them. */
  private readonly bitOf: Int32Array;
  private readonly bits: Uint32Array;
  /** The bitset with its all-ones prefix and zero suffix tracked, for the compact memo. */
  private readonly view: BitsView;
  private readonly finiteWords: number;
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
  /** The deepest prefix so far; entries below `unchangedDepth` still match the stack. */
  private deepestPrefix: Int32Array;
  private unchangedDepth = 0;

  constructor(
    model: Model<S, I, O>,
    operations: readonly Operation<I, O>[],
    maxMemoBytes = Number.POSITIVE_INFINITY,
  ) {
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
    this.twinBefore = new Int32Array(n).fill(NONE);
    this.entryTime = new Float64Array(2 * n);
    this.stackOpen = new Int32Array(n).fill(NONE);
    this.stackBlock = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.equal = model.equal?.bind(model) ?? defaultEqual;
    this.readOnly = model.readOnly?.bind(model);
    this.zobrist = new Int32Array(n);
    this.bitOf = new Int32Array(n);
    let finite = 0;
    for (const operation of operations) {
      if (!isUnknown(operation.output)) {
        finite++;
      }
    }
    this.finiteWords = Math.ceil(finite / 32);
    let nextFinite = 0;
    let nextOpen = this.finiteWords * 32;
    operations.forEach((operation, op) => {
      this.bitOf[op] = isUnknown(operation.output) ? nextOpen++ : nextFinite++;
    });
    this.bits = new Uint32Array(Math.max(1, Math.ceil(nextOpen / 32)));
    this.view = { bits: this.bits, fullWords: 0, topWord: 0, openWord: this.finiteWords };
    const budget = Number.isFinite(maxMemoBytes) ? maxMemoBytes : 2 ** 52;
    this.memo = new MemoSet<S>(model.equal?.bind(model) ?? defaultEqual, budget);
    this.deepestPrefix = new Int32Array(n);
    this.stateHash = model.hash?.bind(model);
    this.stackEntry = new Int32Array(n);
    this.stackState = new Array<S>(n);
    this.state = model.init();
    const openOps = operations
      .map((operation, op) => ({ op, operation }))
      .filter(({ operation }) => isUnknown(operation.output))
      .sort((a, b) => a.operation.callTime - b.operation.callTime || a.op - b.op);
    this.openOrder = Int32Array.from(openOps, ({ op }) => op);
    this.openCall = Float64Array.from(openOps, ({ operation }) => operation.callTime);
    this.buildList(operations);
    this.findTwins(operations);
    this.cursor = this.next[this.head]!;
  }

  get memoSize(): number {
    return this.memo.size;
  }

  get memoBytes(): number {
    return this.memo.bytes;
  }

  /** Memo entries forgotten to keep within the budget. */
  get memoEvicted(): number {
    return this.memo.evicted;
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
      // Open operations are tried at returns (see openOrder), not from the list.
      if (!open) {
        assert(
          operation.returnTime >= operation.callTime,
          `operation ${op} returns before its call`,
        );
        times[2 * op] = operation.callTime;
        times[2 * op + 1] = operation.returnTime;
        order.push(2 * op, 2 * op + 1);
      }
      // Open operations stay out of the memo's hash: entries that differ only in which open
      // operations they used must meet in one bucket, where the memo compares them by subset.
      this.zobrist[op] = open ? 0 : mix32(op + 0x9e3779b9);
    }
    // Time order; at equal times calls come first (closed intervals overlap), then by operation.
    order.sort((a, b) => times[a]! - times[b]! || (a & 1) - (b & 1) || a - b);
    const position = new Int32Array(2 * n);
    for (let i = 0; i < order.length; i++) {
      const raw = order[i]!;
      position[raw] = i;
      this.operationOf[i] = raw >> 1;
      this.entryTime[i] = times[raw]!;
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

  /** Runs at most `maxSteps` steps. Once the outcome is not 'running' it stays so. */
  run(maxSteps: number): SliceOutcome {
    assert(maxSteps > 0, 'a slice runs at least one step');
    let steps = 0;
    for (; steps < maxSteps && this.done === 'running'; steps++) {
      if (this.next[this.head] === NONE) {
        // Every operation that returned is linearized; the open ones left may never have
        // taken effect (Knossos ends its search at the first :info the same way).
        this.done = 'linearizable';
        break;
      }
      if (this.failHere) {
        this.failHere = false;
        if (!this.backtrack(this.firstReturn())) {
          this.done = 'illegal';
        }
        continue;
      }
      if (this.openCursor < 0) {
        const entry = this.cursor;
        if (this.matchOf[entry]! !== NONE) {
          this.tryCall(entry);
        } else {
          this.openCursor = 0;
          this.block = entry;
        }
        continue;
      }
      const j = this.nextOpen(this.openCursor);
      if (j !== NONE) {
        this.tryOpen(j);
      } else if (!this.backtrack(this.block)) {
        assert(this.depth === 0 && this.deepest !== undefined, 'illegal only with nothing to undo');
        this.done = 'illegal';
      }
    }
    this.stepsTaken += steps;
    return this.done;
  }

  /** Links each open operation to its previous twin by call time (see twinBefore). */
  private findTwins(operations: readonly Operation<I, O>[]): void {
    const lastOf = new Map<string, number>();
    const byCall = operations
      .map((operation, op) => ({ op, operation }))
      .filter(({ operation }) => isUnknown(operation.output))
      .sort((a, b) => a.operation.callTime - b.operation.callTime || a.op - b.op);
    for (const { op, operation } of byCall) {
      const key = JSON.stringify(operation.input);
      const before = lastOf.get(key);
      if (before !== undefined) {
        this.twinBefore[op] = before;
      }
      lastOf.set(key, op);
    }
  }

  private isLinearized(op: number): boolean {
    const position = this.bitOf[op]!;
    return (this.bits[position >>> 5]! & (1 << (position & 31))) !== 0;
  }

  /** The first open operation from `from` on that may be linearized before `block`, or NONE. */
  private nextOpen(from: number): number {
    const limit = this.entryTime[this.block]!;
    for (let j = from; j < this.openOrder.length && this.openCall[j]! <= limit; j++) {
      const op = this.openOrder[j]!;
      if (this.isLinearized(op)) {
        continue;
      }
      const twin = this.twinBefore[op]!;
      if (twin !== NONE && !this.isLinearized(twin)) {
        continue;
      }
      return j;
    }
    return NONE;
  }

  private tryOpen(j: number): void {
    const op = this.openOrder[j]!;
    const result = this.model.step(this.state, this.inputs[op]!, this.outputs[op]!);
    // An open operation that changes nothing is never needed: not using it dominates.
    if (!result.ok || this.equal(result.state, this.state)) {
      this.openCursor = j + 1;
      return;
    }
    const position = this.bitOf[op]!;
    this.setBit(position);
    const hash =
      this.stateHash === undefined
        ? this.bitsHash
        : this.bitsHash ^ mix32(this.stateHash(result.state));
    if (this.memo.addIfAbsent(hash, this.view, result.state)) {
      this.stackEntry[this.depth] = NONE;
      this.stackForced[this.depth] = 0;
      this.stackOpen[this.depth] = j;
      this.stackBlock[this.depth] = this.block;
      this.stackState[this.depth] = this.state;
      this.depth++;
      this.state = result.state;
      this.openCursor = -1;
      this.cursor = this.next[this.head]!;
    } else {
      this.clearBit(position);
      this.openCursor = j + 1;
    }
  }

  private tryCall(entry: number): void {
    const op = this.operationOf[entry]!;
    const result = this.model.step(this.state, this.inputs[op]!, this.outputs[op]!);
    if (!result.ok) {
      this.cursor = this.next[entry]!;
      return;
    }
    const position = this.bitOf[op]!;
    this.setBit(position);
    const bitsHash = this.bitsHash ^ this.zobrist[op]!;
    const hash =
      this.stateHash === undefined ? bitsHash : bitsHash ^ mix32(this.stateHash(result.state));
    const forced = this.readOnly?.(this.inputs[op]!, this.outputs[op]!) === true;
    if (this.memo.addIfAbsent(hash, this.view, result.state)) {
      this.stackEntry[this.depth] = entry;
      this.stackForced[this.depth] = forced ? 1 : 0;
      this.stackOpen[this.depth] = NONE;
      this.stackState[this.depth] = this.state;
      this.depth++;
      this.state = result.state;
      this.bitsHash = bitsHash;
      this.lift(entry);
      this.cursor = this.next[this.head]!;
    } else {
      this.clearBit(position);
      if (forced) {
        // The only child worth trying was explored and failed: so does this configuration.
        this.failHere = true;
        return;
      }
      this.cursor = this.next[entry]!;
    }
  }

  /** The first return entry in the list: the operation that blocks this configuration. */
  private firstReturn(): number {
    let entry = this.next[this.head]!;
    while (entry !== NONE && this.matchOf[entry]! !== NONE) {
      entry = this.next[entry]!;
    }
    assert(entry !== NONE, 'a non-empty list ends with a return');
    return entry;
  }

  private setBit(position: number): void {
    const word = position >>> 5;
    const bits = this.bits;
    bits[word]! |= 1 << (position & 31);
    if (word >= this.finiteWords) {
      return;
    }
    const view = this.view;
    if (word >= view.topWord) {
      view.topWord = word + 1;
    }
    if (word === view.fullWords) {
      let full = view.fullWords;
      while (full < this.finiteWords && bits[full] === 0xffff_ffff) {
        full++;
      }
      view.fullWords = full;
    }
  }

  private clearBit(position: number): void {
    const word = position >>> 5;
    const bits = this.bits;
    bits[word]! &= ~(1 << (position & 31));
    if (word >= this.finiteWords) {
      return;
    }
    const view = this.view;
    if (word < view.fullWords) {
      view.fullWords = word;
    }
    if (word === view.topWord - 1 && bits[word] === 0) {
      let top = word;
      while (top > view.fullWords && bits[top - 1] === 0) {
        top--;
      }
      view.topWord = top;
    }
  }

  /**
   * At a return entry: undo the last linearized call, and any forced ones below it (see
   * stackForced). False when there is nothing to undo.
   */
  private backtrack(returnEntry: number): boolean {
    if (this.depth > this.deepestDepth) {
      this.recordDeepest(returnEntry);
    }
    for (let guard = 0; this.depth > 0 && this.stackForced[this.depth - 1] === 1; guard++) {
      assert(guard <= this.operationCount, 'forced levels are on the stack');
      this.undoOne();
    }
    if (this.depth === 0) {
      return false;
    }
    this.undoOne();
    return true;
  }

  private undoOne(): void {
    this.depth--;
    if (this.depth < this.unchangedDepth) {
      this.unchangedDepth = this.depth;
    }
    const entry = this.stackEntry[this.depth]!;
    this.state = this.stackState[this.depth]!;
    if (entry === NONE) {
      // An open operation: resume trying the open ones after it, before the same return.
      const j = this.stackOpen[this.depth]!;
      this.clearBit(this.bitOf[this.openOrder[j]!]!);
      this.openCursor = j + 1;
      this.block = this.stackBlock[this.depth]!;
      return;
    }
    const op = this.operationOf[entry]!;
    this.clearBit(this.bitOf[op]!);
    this.bitsHash ^= this.zobrist[op]!;
    this.unlift(entry);
    this.cursor = this.next[entry]!;
    this.openCursor = -1;
  }

  /**
   * Keeps the deepest point. Only the part of the stack that changed since the last record is
   * copied: copying the whole prefix each time made long linearizable histories quadratic.
   */
  private recordDeepest(returnEntry: number): void {
    this.deepestDepth = this.depth;
    for (let d = this.unchangedDepth; d < this.depth; d++) {
      const entry = this.stackEntry[d]!;
      this.deepestPrefix[d] =
        entry === NONE ? this.openOrder[this.stackOpen[d]!]! : this.operationOf[entry]!;
    }
    this.unchangedDepth = this.depth;
    this.deepest = {
      prefix: this.deepestPrefix.subarray(0, this.depth),
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
