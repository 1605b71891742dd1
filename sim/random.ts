// The one module that owns randomness. Everything random in a run comes from a Random
// built here from the run's seed, so the algorithm can change in one place.
//
// We use seedrandom's xor128: fast (hundreds of millions of draws per second), with state
// capture. Never the default ARC4 (ten times slower, 9 µs to seed), and never unseeded.
//
// We do not let seedrandom seed xor128 from the label string: it xors each character code
// into one state word, so labels one character apart ("3/faults", "4/faults") start in nearly
// the same state and consecutive seeds drew strongly correlated values (autocorrelation of
// the first draw across seeds -0.49 at lag 2, +0.64 at lag 100). We hash the label into all
// four state words instead (stateFromLabel) and hand seedrandom the state.
import seedrandom from 'seedrandom';

import { assert } from './assert.ts';

/**
 * xor128's four state words. Spelled out rather than taken from @types/seedrandom, so the
 * package's declarations do not make every user install seedrandom's types.
 */
export interface RandomState {
  x: number;
  y: number;
  z: number;
  w: number;
}
type Generator = seedrandom.StatefulPRNG<seedrandom.State.Xor128>;

const UINT32 = 0x1_0000_0000;

// One salt per state word, so the four words are four unrelated hashes of the same label.
const LANE_SALTS = [0x9e37_79b9, 0x85eb_ca6b, 0xc2b2_ae35, 0x27d4_eb2f] as const;
// Outputs thrown away after seeding; cheap insurance on top of a hashed state.
const WARM_UP_DRAWS = 16;
// Longest label we hash; labels are seeds plus fork paths, a few dozen characters.
const LABEL_LENGTH_MAX = 4096;

const rotateLeft32 = (value: number, bits: number): number =>
  (value << bits) | (value >>> (32 - bits));

/** murmur3's finaliser: every input bit flips each output bit with probability close to 1/2. */
function fmix32(input: number): number {
  let hash = input;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85eb_ca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2_ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** murmur3_32 over the label's UTF-16 code units (one code unit per block), from `salt`. */
function hashLabel(label: string, salt: number): number {
  let hash = salt | 0;
  for (let index = 0; index < label.length; index++) {
    let block = Math.imul(label.charCodeAt(index), 0xcc9e_2d51);
    block = rotateLeft32(block, 15);
    block = Math.imul(block, 0x1b87_3593);
    hash ^= block;
    hash = rotateLeft32(hash, 13);
    hash = (Math.imul(hash, 5) + 0xe654_6b64) | 0;
  }
  return fmix32(hash ^ label.length);
}

/** xor128's starting state for a label: four salted hashes, never the all-zero state. */
export function stateFromLabel(label: string): RandomState {
  assert(label.length <= LABEL_LENGTH_MAX, 'a seed label must be at most 4096 characters');
  const [x, y, z, w] = LANE_SALTS.map((salt) => hashLabel(label, salt)) as [
    number,
    number,
    number,
    number,
  ];
  // xor128 stays at zero forever from the all-zero state (odds 2^-128, but cheap to rule out).
  return x === 0 && y === 0 && z === 0 && w === 0 ? { x, y, z, w: 1 } : { x, y, z, w };
}

export class Random {
  readonly label: string;
  private readonly generator: Generator;

  private constructor(label: string, generator: Generator) {
    this.label = label;
    this.generator = generator;
  }

  static fromSeed(seed: number | string): Random {
    const label = String(seed);
    assert(label.length > 0, 'a seed must not be empty');
    // seedrandom's xor128 copies a given state object's x, y, z, w over its own (it has no
    // other fields to fill); the empty string seed skips its own character mixing.
    const generator = seedrandom.xor128('', { state: stateFromLabel(label) });
    for (let draw = 0; draw < WARM_UP_DRAWS; draw++) {
      generator.int32();
    }
    return new Random(label, generator);
  }

  // A named, independent stream: extra draws here never shift the parent's or a sibling's.
  fork(name: string): Random {
    assert(name.length > 0, 'a stream name must not be empty');
    return Random.fromSeed(`${this.label}/${name}`);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.generator();
  }

  /** An unsigned 32-bit integer. */
  uint32(): number {
    return this.generator.int32() >>> 0;
  }

  /** An integer in [0, maxExclusive), by multiply-shift (bias below 2^-32 · maxExclusive). */
  int(maxExclusive: number): number {
    assert(Number.isSafeInteger(maxExclusive) && maxExclusive > 0, 'int() needs a positive bound');
    if (maxExclusive <= UINT32) {
      return Math.floor((this.uint32() / UINT32) * maxExclusive);
    }
    return Math.floor(this.generator.double() * maxExclusive);
  }

  /** An integer in [min, max], both ends included. */
  between(min: number, max: number): number {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max), 'between() takes integers');
    assert(min <= max, 'between() needs min <= max');
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    assert(probability >= 0 && probability <= 1, 'a probability lies in [0, 1]');
    if (probability === 0) {
      return false;
    }
    return this.generator() < probability;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick() needs at least one item');
    return items[this.int(items.length)] as T;
  }

  /** Fisher–Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const result = items.slice();
    for (let index = result.length - 1; index > 0; index--) {
      const other = this.int(index + 1);
      const held = result[index] as T;
      result[index] = result[other] as T;
      result[other] = held;
    }
    return result;
  }

  /** An exponentially distributed integer with the given mean (for latency tails). */
  exponential(mean: number): number {
    assert(mean >= 0, 'exponential() needs a non-negative mean');
    if (mean === 0) {
      return 0;
    }
    const uniform = 1 - this.generator(); // (0, 1], so the log is finite
    return Math.floor(-Math.log(uniform) * mean);
  }

  getState(): RandomState {
    return this.generator.state();
  }

  static fromState(label: string, state: RandomState): Random {
    return new Random(label, seedrandom.xor128('', { state }));
  }
}
