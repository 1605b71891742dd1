// Lowe's memoisation: a set of (linearized-ops bitset, model state) pairs already explored.
//
// Compact: a long history's bitset is mostly leading all-ones words (everything long finished
// is linearized) and trailing zero words (nothing far in the future is), so an entry stores
// only the window between them, plus the words of the open operations (numbered last by the
// search, since they may be linearized at any time). An entry is
//   [fullWords, windowLength, ...window words, ...open words]
// in one arena, in insertion order, with an open-addressing table over it.
//
// Subsumption: an operation that never returned may also never take effect, so a configuration
// that used a superset of the open operations another used, with the same finished operations
// and the same state, can do nothing the other could not (it has fewer options left). Such a
// configuration counts as seen: open words are compared by subset, not equality, and they are
// left out of the hash so that both land in one bucket. Without it, k crashed operations
// multiply the configurations by up to 2^k.
//
// Bounded: the memo only prunes (dropping an entry never changes a verdict, only repeats
// work), so when it reaches its byte budget it forgets half of its entries instead of giving
// up. Forgetting can cost a lot of repeated work (the memo is what keeps WGL from being
// exponential), so the budget is large and the entries small: at 20k operations an entry is
// tens of bytes where a whole bitset would be 2.5 KB.
import { assert } from '../../sim/assert.ts';

const INITIAL_SLOTS = 1 << 10;
const INITIAL_ARENA_WORDS = 1 << 12;
const HEADER_WORDS = 2;

export interface BitsView {
  bits: Uint32Array;
  /** Leading words that are all ones (finite region). */
  fullWords: number;
  /** One past the last nonzero word of the finite region (at least fullWords). */
  topWord: number;
  /** First word of the open operations' region; words from here to the end are stored whole. */
  openWord: number;
}

export class MemoSet<S> {
  private readonly equal: (a: S, b: S) => boolean;
  private readonly maxBytes: number;
  private slots: Int32Array; // entry index + 1; 0 = empty
  private hashes: Int32Array;
  private offsets: Int32Array; // where each entry starts in the arena
  private arena: Uint32Array;
  private arenaUsed = 0;
  private states: S[] = [];
  private count = 0;
  /** Entries forgotten to stay within the budget, over the memo's life. */
  evicted = 0;

  constructor(equal: (a: S, b: S) => boolean, maxBytes: number) {
    assert(maxBytes > 0, 'a memo budget is positive');
    this.equal = equal;
    this.maxBytes = maxBytes;
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.hashes = new Int32Array(INITIAL_SLOTS / 2);
    this.offsets = new Int32Array(INITIAL_SLOTS / 2);
    this.arena = new Uint32Array(INITIAL_ARENA_WORDS);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes in use: the entries' words, each entry's hash, offset and state reference, the table. */
  get bytes(): number {
    return this.arenaUsed * 4 + this.count * 16 + this.slots.length * 4;
  }

  /** Adds (bits, state) under `hash`; false when an equal or subsuming pair is present. */
  addIfAbsent(hash: number, view: BitsView, state: S): boolean {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let probes = 0; probes <= mask; probes++) {
      const stored = this.slots[slot]!;
      if (stored === 0) {
        this.insertAt(slot, hash, view, state);
        return true;
      }
      if (this.matches(stored - 1, hash, view, state)) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    assert(false, 'memo table full: the load factor bound was broken');
  }

  private matches(entry: number, hash: number, view: BitsView, state: S): boolean {
    if (this.hashes[entry] !== hash) {
      return false;
    }
    const { arena } = this;
    let at = this.offsets[entry]!;
    const { bits, fullWords, topWord, openWord } = view;
    if (arena[at] !== fullWords || arena[at + 1] !== topWord - fullWords) {
      return false;
    }
    at += HEADER_WORDS;
    for (let w = fullWords; w < topWord; w++, at++) {
      if (arena[at] !== bits[w]) {
        return false;
      }
    }
    for (let w = openWord; w < bits.length; w++, at++) {
      // The stored configuration used no open operation that this one has not used.
      if ((arena[at]! & ~bits[w]!) !== 0) {
        return false;
      }
    }
    return this.equal(this.states[entry]!, state);
  }

  private insertAt(slot: number, hash: number, view: BitsView, state: S): void {
    const { bits, fullWords, topWord, openWord } = view;
    const words = HEADER_WORDS + (topWord - fullWords) + (bits.length - openWord);
    if (this.bytes + words * 4 > this.maxBytes && this.count > 1) {
      this.forgetHalf();
      // The table was rebuilt: find this pair's slot again (it is absent, so it ends at a hole).
      this.addIfAbsent(hash, view, state);
      return;
    }
    const entry = this.count;
    if (entry === this.hashes.length) {
      this.growEntries();
    }
    if (this.arenaUsed + words > this.arena.length) {
      this.growArena(this.arenaUsed + words);
    }
    const { arena } = this;
    let at = this.arenaUsed;
    this.offsets[entry] = at;
    arena[at++] = fullWords;
    arena[at++] = topWord - fullWords;
    for (let w = fullWords; w < topWord; w++) {
      arena[at++] = bits[w]!;
    }
    for (let w = openWord; w < bits.length; w++) {
      arena[at++] = bits[w]!;
    }
    this.arenaUsed = at;
    this.hashes[entry] = hash;
    this.states.push(state);
    this.slots[slot] = entry + 1;
    this.count = entry + 1;
    if (this.count * 2 > this.slots.length) {
      this.rebuildSlots(this.slots.length * 2);
    }
  }

  private growEntries(): void {
    const capacity = this.hashes.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const offsets = new Int32Array(capacity);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }

  private growArena(needed: number): void {
    // Doubling, but not past the budget: the arena is most of the memo.
    let capacity = Math.min(this.arena.length * 2, Math.ceil(this.maxBytes / 4));
    while (capacity < needed) {
      capacity *= 2;
    }
    const arena = new Uint32Array(capacity);
    arena.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = arena;
  }

  /**
   * Forgets the newer half of the entries. Which half to keep is a heuristic (forgetting any
   * entry only repeats work): on Porcupine's hard etcd histories keeping the older half, the
   * configurations near the root of the search, finished where keeping the newer half did not.
   */
  private forgetHalf(): void {
    const keep = this.count >>> 1;
    this.arenaUsed = this.offsets[keep]!;
    this.states.length = keep;
    this.evicted += this.count - keep;
    this.count = keep;
    this.rebuildSlots(this.slots.length);
  }

  private rebuildSlots(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.hashes[entry]! & mask;
      for (let probes = 0; probes <= mask && slots[slot] !== 0; probes++) {
        slot = (slot + 1) & mask;
      }
      assert(slots[slot] === 0, 'a rebuilt memo table has room for every entry');
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}
