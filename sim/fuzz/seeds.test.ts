// Shards: the union of the shards of a split is the seed range, with no overlap, for any
// range and split (property test); merging shard summaries adds them up; and the partition
// shape coverage lists exactly the shapes a scenario's topology can draw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import '../../scenarios/index.ts';
import { scenarioNamed } from '../run.ts';
import { parseShard, sampledForDeterminism, shardSeed, shardSeedCount } from './seeds.ts';
import {
  coverageOf,
  emptyTotals,
  type FuzzSummary,
  MergeError,
  mergeSummaries,
} from './summary.ts';

describe('shards', () => {
  it('cover [from, from + seeds) exactly once across i = 0..n-1', () => {
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.nat(500),
        fc.integer({ min: 1, max: 40 }),
        (from, seeds, count) => {
          const seen = new Set<number>();
          for (let index = 0; index < count; index++) {
            const shard = { index, count };
            const owned = shardSeedCount(seeds, shard);
            for (let k = 0; k < owned; k++) {
              const seed = shardSeed(from, shard, k);
              expect(seed).toBeGreaterThanOrEqual(from);
              expect(seed).toBeLessThan(from + seeds);
              expect(seen.has(seed)).toBe(false);
              seen.add(seed);
            }
          }
          expect(seen.size).toBe(seeds);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  it('parses i/n and explains bad values in one sentence', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShard('8/8')).toMatch(/below the count/);
    expect(parseShard('0/0')).toMatch(/between 1/);
    expect(parseShard('two of eight')).toMatch(/look like i\/n/);
  });

  it('samples about the requested fraction of seeds for determinism, the same way every time', () => {
    let sampled = 0;
    for (let seed = 0; seed < 20_000; seed++) {
      sampled += sampledForDeterminism(seed, 0.01) ? 1 : 0;
    }
    expect(sampled).toBeGreaterThan(120);
    expect(sampled).toBeLessThan(280);
    expect(sampledForDeterminism(12_345, 0.5)).toBe(sampledForDeterminism(12_345, 0.5));
    expect(sampledForDeterminism(1, 0)).toBe(false);
  });
});

function summary(index: number, seeds: number, failed: number): FuzzSummary {
  const totals = emptyTotals();
  totals.faultsFired = { crash: index + 1 };
  totals.sometimes = { 'a ping was retried': seeds - failed };
  totals.undecided = index === 1 ? {} : { 'ping-linearizable': index + 1 };
  totals.partitionShapes = { isolate: 2 * (index + 1), ring: index };
  totals.partitionShapeSeeds = { isolate: index + 1, ring: index === 0 ? 0 : 1 };
  return {
    faultline: 'fuzz-summary',
    formatVersion: 1,
    scenario: 'pingpong',
    variant: null,
    from: 0,
    seedsRequested: 100,
    shard: { index, count: 3 },
    stopReason: 'done',
    interrupted: false,
    seeds,
    passed: seeds - failed,
    failed,
    findings: Array.from({ length: failed }, (_, k) => ({
      seed: index + 3 * k,
      kind: 'violation' as const,
      invariant: 'x',
      message: 'm',
      timeUs: 0,
      eventIndex: 0,
      replay: `out/${index}-${k}.msgpack`,
    })),
    replays: Array.from({ length: failed }, (_, k) => `out/${index}-${k}.msgpack`),
    elapsedMs: 1000 * (index + 1),
    workers: 2,
    seedsPerSec: 0,
    eventsPerSec: 0,
    events: 1000 * seeds,
    virtualTimeUs: 1_000_000 * seeds,
    acceleration: 0,
    determinism: { rate: 0.01, sampled: 1, mismatches: 0 },
    coverage: coverageOf(scenarioNamed('pingpong'), totals),
  };
}

describe('partition shape coverage', () => {
  const totals = () => {
    const counts = emptyTotals();
    counts.partitionShapes = { isolate: 3, 'isolate-node': 1 };
    counts.partitionShapeSeeds = { isolate: 2, 'isolate-node': 1 };
    return counts;
  };

  it('lists every shape the topology can draw and flags those never fired', () => {
    // One server group and its clients: the group-aware split-group and cut-groups cannot be
    // drawn, so they are neither listed nor flagged.
    const coverage = coverageOf(scenarioNamed('pingpong'), totals());
    expect(Object.keys(coverage.partitionShapes ?? {}).sort()).toEqual(
      [
        'bridge',
        'groups',
        'isolate',
        'isolate-node',
        'majority-minority',
        'one-way',
        'ring',
      ].sort(),
    );
    expect(coverage.partitionShapes).toMatchObject({ isolate: 3, 'isolate-node': 1, ring: 0 });
    expect(coverage.partitionShapeSeeds).toMatchObject({ isolate: 2, ring: 0 });
    expect(coverage.partitionShapesNeverFired?.sort()).toEqual(
      ['bridge', 'groups', 'majority-minority', 'one-way', 'ring'].sort(),
    );
  });

  it('adds split-group and cut-groups where several groups exist', () => {
    const coverage = coverageOf(scenarioNamed('raft-multi'), totals());
    expect(coverage.partitionShapesNeverFired).toContain('split-group');
    expect(coverage.partitionShapesNeverFired).toContain('cut-groups');
    expect(coverage.partitionShapesNeverFired).not.toContain('isolate');
  });

  it('lists no shape as never fired where partitions are not eligible', () => {
    const coverage = coverageOf(scenarioNamed('raft-figure8'), emptyTotals());
    expect(coverage.partitionShapes).toEqual({});
    expect(coverage.partitionShapesNeverFired).toEqual([]);
  });
});

describe('merge', () => {
  it('adds counts, keeps every finding and replay, and recomputes rates over the longest shard', () => {
    const merged = mergeSummaries([summary(0, 34, 1), summary(1, 33, 0), summary(2, 33, 2)]);
    expect(merged.seeds).toBe(100);
    expect(merged.failed).toBe(3);
    expect(merged.passed).toBe(97);
    expect(merged.findings.map((finding) => finding.seed)).toEqual([0, 2, 5]);
    expect(merged.replays).toHaveLength(3);
    expect(merged.elapsedMs).toBe(3000);
    expect(merged.seedsPerSec).toBeCloseTo(100 / 3, 1);
    expect(merged.coverage.faultsFired['crash']).toBe(6);
    expect(merged.coverage.faultsNeverFired).toContain('partition');
    expect(merged.coverage.sometimes['a ping was retried']).toBe(97);
    expect(merged.coverage.undecided).toEqual({ 'ping-linearizable': 4 });
    expect(merged.coverage.partitionShapes).toMatchObject({ isolate: 12, ring: 3, bridge: 0 });
    expect(merged.coverage.partitionShapeSeeds).toMatchObject({ isolate: 6, ring: 2 });
    expect(merged.coverage.partitionShapesNeverFired).toContain('bridge');
    expect(merged.coverage.partitionShapesNeverFired).not.toContain('ring');
    expect(merged.shardsMissing).toEqual([]);
    expect(merged.workers).toBe(6);
  });

  it('reads summaries written before undecided counts existed', () => {
    const old = summary(0, 34, 0);
    delete old.coverage.undecided;
    expect(mergeSummaries([old, summary(2, 33, 0)]).coverage.undecided).toEqual({
      'ping-linearizable': 3,
    });
  });

  it('reads summaries written before partition shape counts existed', () => {
    const old = summary(0, 34, 0);
    delete old.coverage.partitionShapes;
    delete old.coverage.partitionShapeSeeds;
    delete old.coverage.partitionShapesNeverFired;
    const merged = mergeSummaries([old, summary(2, 33, 0)]);
    expect(merged.coverage.partitionShapes).toMatchObject({ isolate: 6, ring: 2 });
    expect(merged.coverage.partitionShapeSeeds).toMatchObject({ isolate: 3, ring: 1 });
    expect(merged.seeds).toBe(67);
    // All old: the merge says nothing about shapes rather than flag every one as never fired.
    const older = structuredClone(old);
    older.shard = { index: 1, count: 3 };
    const oldOnly = mergeSummaries([old, older]);
    expect(oldOnly.coverage.partitionShapes).toBeUndefined();
    expect(oldOnly.coverage.partitionShapesNeverFired).toBeUndefined();
  });

  it('reports missing shards and refuses duplicates or mixed splits', () => {
    expect(mergeSummaries([summary(0, 34, 0), summary(2, 33, 0)]).shardsMissing).toEqual([1]);
    expect(() => mergeSummaries([summary(1, 33, 0), summary(1, 33, 0)])).toThrow(MergeError);
    const other = { ...summary(0, 10, 0), shard: { index: 1, count: 4 } };
    expect(() => mergeSummaries([summary(0, 34, 0), other])).toThrow(/different splits/);
    const unsharded = { ...summary(0, 10, 0), shard: null };
    expect(() => mergeSummaries([summary(0, 34, 0), unsharded])).toThrow(/sharded and unsharded/);
  });
});
