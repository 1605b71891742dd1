// The seed space of a campaign: `--from S --seeds N --shard i/n` covers, on shard i, the seeds
// S + i + k·n for k = 0, 1, … that lie in [S, S + N). The shards of one split are disjoint and
// together cover [S, S + N) exactly, with no coordination: any batch engine can run them.
import { assert } from '../assert.ts';

export interface Shard {
  index: number;
  count: number;
}

export const SHARD_COUNT_MAX = 1_000_000;

/** How many seeds shard `shard` owns out of `total` seeds (`Infinity` for unbounded). */
export function shardSeedCount(total: number, shard: Shard | null): number {
  assert(total >= 0, 'a seed count is non-negative');
  if (shard === null) {
    return total;
  }
  assert(shard.index >= 0 && shard.index < shard.count, 'a shard index is below the count');
  if (total === Number.POSITIVE_INFINITY) {
    return total;
  }
  return total > shard.index ? Math.ceil((total - shard.index) / shard.count) : 0;
}

/** The k-th seed of a shard. */
export function shardSeed(from: number, shard: Shard | null, k: number): number {
  assert(Number.isSafeInteger(k) && k >= 0, 'a seed position is a non-negative integer');
  const seed = shard === null ? from + k : from + shard.index + k * shard.count;
  assert(Number.isSafeInteger(seed), 'seeds stay safe integers');
  return seed;
}

/** Parses "i/n"; returns a sentence when it is malformed. */
export function parseShard(text: string): Shard | string {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) {
    return `--shard should look like i/n (for example 0/4), got ${JSON.stringify(text)}`;
  }
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > SHARD_COUNT_MAX) {
    return `--shard count should be between 1 and ${SHARD_COUNT_MAX}, got ${count}`;
  }
  if (index >= count) {
    return `--shard index should be below the count (0..${count - 1}), got ${index}`;
  }
  return { index, count };
}

/**
 * Whether a passing seed is re-run to sample determinism: a fixed hash of the seed, so the
 * same campaign samples the same seeds on every machine.
 */
export function sampledForDeterminism(seed: number, rate: number): boolean {
  if (rate <= 0) {
    return false;
  }
  if (rate >= 1) {
    return true;
  }
  let h = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 0x1_0000_0000 < rate;
}
