// Shard configurations (MIT 6.5840's shardctrler.Config): a numbered, immutable assignment of
// NSHARDS shards to replica groups, and the rebalancing the controller applies on Join and
// Leave. Rebalancing is a pure function of the previous assignment and the new group set —
// no map iteration order, no randomness — so every controller replica computes the same
// configuration, and it moves as few shards as a balanced result allows.
import { assert } from '../../sim/assert.ts';
import type { NodeId } from '../../sim/types.ts';

/** Shards in the key space (MIT's NShards). */
export const NSHARDS = 10;
/** Replica groups are numbered from 1; 0 owns the shards of a configuration with no groups. */
export const NO_GROUP = 0;

/** A group id with the servers (node ids) of that group. */
export type GroupServers = readonly [gid: number, servers: readonly NodeId[]];

export interface ShardConfig {
  /** 0 is the initial configuration: no groups, every shard on NO_GROUP. */
  readonly num: number;
  /** shard → gid, NSHARDS long. */
  readonly shards: readonly number[];
  /** The groups of this configuration, sorted by gid. */
  readonly groups: readonly GroupServers[];
}

export const INITIAL_CONFIG: ShardConfig = {
  num: 0,
  shards: Array.from({ length: NSHARDS }, () => NO_GROUP),
  groups: [],
};

/**
 * The shard a key lives in. MIT's key2shard takes the first byte, which suits its tests'
 * keys ("0", "1", …); the KV workload's keys share a first letter (k1, k2, s0), so this
 * hashes the whole key (FNV-1a) instead.
 */
export function keyToShard(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash % NSHARDS;
}

export function serversOf(config: ShardConfig, gid: number): readonly NodeId[] {
  return config.groups.find(([id]) => id === gid)?.[1] ?? [];
}

export function gidsOf(config: ShardConfig): number[] {
  return config.groups.map(([gid]) => gid);
}

/** Shard counts per group of `gids` (every gid present, 0 when it owns none). */
export function shardCounts(
  shards: readonly number[],
  gids: readonly number[],
): Map<number, number> {
  const counts = new Map<number, number>(gids.map((gid) => [gid, 0]));
  for (const gid of shards) {
    const count = counts.get(gid);
    if (count !== undefined) {
      counts.set(gid, count + 1);
    }
  }
  return counts;
}

/**
 * Assigns the shards to `gids` (sorted, unique): balanced (counts differ by at most one) and
 * keeping every shard a group may keep. A group with more shards than its target gives up
 * its highest-numbered ones; the larger targets go to the groups that own the most already
 * (ties to the lower gid), which is what makes the number of moved shards the least.
 */
export function rebalance(shards: readonly number[], gids: readonly number[]): number[] {
  assert(shards.length === NSHARDS, `a configuration has ${NSHARDS} shards`);
  if (gids.length === 0) {
    return shards.map(() => NO_GROUP);
  }
  const counts = shardCounts(shards, gids);
  const order = [...gids].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b);
  const floor = Math.floor(NSHARDS / gids.length);
  const extra = NSHARDS % gids.length;
  const target = new Map<number, number>(
    order.map((gid, rank) => [gid, floor + (rank < extra ? 1 : 0)]),
  );
  const result = [...shards];
  const kept = new Map<number, number>(gids.map((gid) => [gid, 0]));
  const free: number[] = [];
  for (let shard = 0; shard < NSHARDS; shard++) {
    const gid = result[shard] as number;
    const goal = target.get(gid);
    if (goal !== undefined && (kept.get(gid) as number) < goal) {
      kept.set(gid, (kept.get(gid) as number) + 1);
    } else {
      free.push(shard);
    }
  }
  for (const gid of order) {
    while ((kept.get(gid) as number) < (target.get(gid) as number)) {
      const shard = free.shift();
      assert(shard !== undefined, 'rebalance ran out of free shards');
      result[shard] = gid;
      kept.set(gid, (kept.get(gid) as number) + 1);
    }
  }
  assert(free.length === 0, 'rebalance left a shard unassigned');
  return result;
}

/**
 * The fewest shards any balanced assignment of `gids` must move away from `shards`: the
 * largest targets paired with the groups that own the most (a checker's independent count).
 */
export function minimalMoves(shards: readonly number[], gids: readonly number[]): number {
  if (gids.length === 0) {
    return shards.filter((gid) => gid !== NO_GROUP).length;
  }
  const owned = [...shardCounts(shards, gids).values()].sort((a, b) => b - a);
  const floor = Math.floor(NSHARDS / gids.length);
  const extra = NSHARDS % gids.length;
  let kept = 0;
  for (const [rank, count] of owned.entries()) {
    kept += Math.min(count, floor + (rank < extra ? 1 : 0));
  }
  return NSHARDS - kept;
}

/** Shards whose owner differs between two assignments. */
export function movedShards(before: readonly number[], after: readonly number[]): number {
  let moved = 0;
  for (let shard = 0; shard < NSHARDS; shard++) {
    if (before[shard] !== after[shard]) {
      moved++;
    }
  }
  return moved;
}

/** Why an assignment is not balanced over `gids`, or undefined when it is. */
export function unbalanced(shards: readonly number[], gids: readonly number[]): string | undefined {
  if (gids.length === 0) {
    const owned = shards.findIndex((gid) => gid !== NO_GROUP);
    return owned < 0
      ? undefined
      : `shard ${owned} is on group ${shards[owned]} with no groups joined`;
  }
  const stray = shards.findIndex((gid) => !gids.includes(gid));
  if (stray >= 0) {
    return `shard ${stray} is on group ${shards[stray]}, which is not in the configuration`;
  }
  const counts = [...shardCounts(shards, gids).values()];
  const most = Math.max(...counts);
  const least = Math.min(...counts);
  return most - least <= 1
    ? undefined
    : `shard counts per group range from ${least} to ${most}: more than one apart`;
}

export function sameConfig(a: ShardConfig, b: ShardConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function describeConfig(config: ShardConfig): string {
  const groups = config.groups.map(([gid, servers]) => `${gid}:[${servers.join(',')}]`).join(' ');
  return `config ${config.num} shards [${config.shards.join(',')}] groups {${groups}}`;
}
