// The correct sharded KV service passes its swarm scenario over a few seeds, with shards
// migrating under client writes, and each known bug is caught on a seed that finds it.
import { describe, expect, it } from 'vitest';

import './shardkv.ts';
import { runSeed } from '../sim/run.ts';
import type { RunResult } from '../sim/types.ts';

const SEEDS_TO_CATCH_MAX = 30;

/** The first seed from 0 whose run of `variant` fails `invariant`, within `count` seeds. */
function firstSeedFailing(variant: string, invariant: string, count: number): number | undefined {
  for (let seed = 0; seed < count; seed++) {
    if (runSeed('shardkv', seed, variant).result.violation?.invariant === invariant) {
      return seed;
    }
  }
  return undefined;
}

function outcome(result: RunResult): string {
  return result.violation === undefined
    ? result.outcome
    : `${result.outcome}: ${result.violation.invariant}: ${result.violation.message}`;
}

describe('the sharded KV swarm', () => {
  it('passes, migrating shards while clients write to them', () => {
    const reached = new Set<string>();
    // Seeds 0–3: together they reach every migration `sometimes` below (0–2 did before the
    // seed derivation was hashed; now only seed 3 serves a shard before its migration ends).
    for (const seed of [0, 1, 2, 3]) {
      const { plan, result } = runSeed('shardkv', seed);
      expect(outcome(result), `shardkv seed ${seed}`).toBe('pass');
      const completed = result.history.filter((op) => op.returnUs !== undefined);
      expect(completed.length).toBeGreaterThan(300);
      // The prober's Put and Get on every shard, 3 s into the settle phase, all completed.
      const prober = Math.max(...result.history.map((op) => op.client));
      const probes = completed.filter((op) => op.client === prober);
      expect(probes).toHaveLength(20);
      expect(probes.every((op) => op.callUs >= plan.durationUs + 3_000_000)).toBe(true);
      for (const name of result.sometimes) {
        reached.add(name);
      }
    }
    expect([...reached]).toEqual(
      expect.arrayContaining([
        'a shard moved while clients wrote to it',
        'a handed-off shard was deleted',
        'a client was told wrong-group and recovered',
        'a group served a received shard before its migration finished',
      ]),
    );
  }, 60_000);

  // Each bug fails the invariant named within a few seeds from 0. First seeds with the media
  // faults drawn (2026-12-04): 3, 13, 2, 2, 3, 12, 19; config-outside-log fails
  // kv-linearizable first (seeds 0, 2, 4, …) and its own invariant first at 19.
  it.each([
    ['serve-before-install', 'kv-linearizable'],
    ['dedup-not-migrated', 'kv-linearizable'],
    ['no-gc', 'shardkv-stored-state-bounded'],
    ['serve-after-handoff', 'shardkv-one-group-per-shard'],
    ['rebalance-from-scratch', 'shardctrler-balanced-minimal'],
    ['skip-config', 'shardkv-configs-in-order'],
    ['config-outside-log', 'shardkv-appends-exactly-once'],
  ])(
    'catches %s (%s)',
    (variant, invariant) => {
      expect(firstSeedFailing(variant, invariant, SEEDS_TO_CATCH_MAX)).toBeDefined();
    },
    60_000,
  );
});
