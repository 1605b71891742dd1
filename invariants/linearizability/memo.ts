// Lowe's memoisation: a set of (linearized-ops bitset, model state) pairs already explored.
// Open addressing over typed arrays, bitsets copied into one arena, so an insert allocates
// nothing except on growth and a probe allocates nothing at all.
import { assert } from '../../sim/assert.ts';

const INITIAL_SLOTS = 1 << 10;
// Probing stops at the table size: the load factor is kept at or below one half.
const MAX_LOAD_NUMERATOR = 1;
const MAX_LOAD_DENOMINATOR = 2;

export class MemoSet<S> {
  private readonly wordsPerEntry: number;
  private readonly equal: (a: S, b: S) => boolean;
  private slots: Int32Array; // entry index + 1; 0 = empty
  private hashes: Int32Array;
  private words: Uint32Array;
  private states: S[] = [];
  private count = 0;

  constructor(wordsPerEntry: number, equal: (a: S, b: S) => boolean) {
    assert(wordsPerEntry >= 1, 'a bitset has at least one word');
    this.wordsPerEntry = wordsPerEntry;
    this.equal = equal;
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.hashes = new Int32Array(INITIAL_SLOTS / 2);
    this.words = new Uint32Array((INITIAL_SLOTS / 2) * wordsPerEntry);
  }

  get size(): number {
    return this.count;
  }

  /** Bitset words, hash, two table slots (load one half) and the state reference. */
  get bytesPerEntry(): number {
    return 4 * this.wordsPerEntry + 4 + 8 + 8;
  }

  /** Adds (bits, state) under `hash`; false when an equal pair is already present. */
  addIfAbsent(hash: number, bits: Uint32Array, state: S): boolean {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let probes = 0; probes <= mask; probes++) {
      const stored = this.slots[slot]!;
      if (stored === 0) {
        this.insertAt(slot, hash, bits, state);
        return true;
      }
      if (this.matches(stored - 1, hash, bits, state)) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    assert(false, 'memo table full: the load factor bound was broken');
  }

  private matches(entry: number, hash: number, bits: Uint32Array, state: S): boolean {
    if (this.hashes[entry] !== hash) {
      return false;
    }
    const base = entry * this.wordsPerEntry;
    for (let w = 0; w < this.wordsPerEntry; w++) {
      if (this.words[base + w] !== bits[w]) {
        return false;
      }
    }
    return this.equal(this.states[entry]!, state);
  }

  private insertAt(slot: number, hash: number, bits: Uint32Array, state: S): void {
    const entry = this.count;
    if (entry === this.hashes.length) {
      this.growEntries();
    }
    this.hashes[entry] = hash;
    const base = entry * this.wordsPerEntry;
    for (let w = 0; w < this.wordsPerEntry; w++) {
      this.words[base + w] = bits[w]!;
    }
    this.states.push(state);
    this.slots[slot] = entry + 1;
    this.count = entry + 1;
    if (this.count * MAX_LOAD_DENOMINATOR > this.slots.length * MAX_LOAD_NUMERATOR) {
      this.growSlots();
    }
  }

  private growEntries(): void {
    const capacity = this.hashes.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const words = new Uint32Array(capacity * this.wordsPerEntry);
    words.set(this.words);
    this.words = words;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.hashes[entry]! & mask;
      for (let probes = 0; probes <= mask && slots[slot] !== 0; probes++) {
        slot = (slot + 1) & mask;
      }
      assert(slots[slot] === 0, 'a grown memo table has room for every entry');
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}
