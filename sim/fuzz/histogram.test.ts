import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import '../../scenarios/index.ts';
import { planFor } from '../plan.ts';
import { scenarioNamed } from '../run.ts';
import { planShape } from '../shape.ts';
import {
  addSample,
  binIndex,
  mergeHistograms,
  mergeThroughput,
  shapeBins,
  THROUGHPUT_SAMPLES_MAX,
  type ThroughputSample,
} from './histogram.ts';
import { asSummary, coverageOf, emptyTotals, type FuzzSummary, mergeSummaries } from './summary.ts';

describe('shape bins', () => {
  const spec = scenarioNamed('raft').shape;

  it('cover every drawn range without gaps or overlaps, group sizes one bin each', () => {
    const bins = shapeBins(spec);
    expect(Object.keys(bins)).toEqual([
      'durationUs',
      'servers',
      'clients',
      'thinkUs',
      'readPercent',
    ]);
    expect(bins['servers']).toEqual([
      [3, 3],
      [5, 5],
    ]);
    for (const name of ['durationUs', 'thinkUs', 'readPercent']) {
      const edges = bins[name] as [number, number][];
      const range = name === 'durationUs' ? spec?.durationUs : spec?.workload?.[name];
      expect(edges[0]?.[0]).toBe(range?.min);
      expect(edges.at(-1)?.[1]).toBe(range?.max);
      for (let index = 1; index < edges.length; index++) {
        expect(edges[index]?.[0]).toBe((edges[index - 1]?.[1] ?? 0) + 1);
      }
    }
  });

  it('put every seed of a scenario in the bin that holds its drawn value', () => {
    const bins = shapeBins(spec);
    for (let seed = 0; seed < 40; seed++) {
      const shape = planShape(spec, planFor(scenarioNamed('raft'), seed)) ?? {};
      for (const [name, edges] of Object.entries(bins)) {
        const value = shape[name] as number;
        const [lo, hi] = edges[binIndex(edges, value)] as [number, number];
        expect(value).toBeGreaterThanOrEqual(lo);
        expect(value).toBeLessThanOrEqual(hi);
      }
    }
  });

  it('leave pinned parameters out, and fixed-shape scenarios have none', () => {
    expect(Object.keys(shapeBins(spec, { servers: 5, durationUs: 1_000_000 }))).toEqual([
      'clients',
      'thinkUs',
      'readPercent',
    ]);
    expect(shapeBins(scenarioNamed('pingpong').shape)).toEqual({});
  });

  it('merge bin by bin', () => {
    const a = { servers: [{ lo: 3, hi: 3, seeds: 2, failed: 1 }] };
    const b = {
      servers: [
        { lo: 5, hi: 5, seeds: 4, failed: 0 },
        { lo: 3, hi: 3, seeds: 1, failed: 1 },
      ],
    };
    expect(mergeHistograms([a, b])).toEqual({
      servers: [
        { lo: 3, hi: 3, seeds: 3, failed: 2 },
        { lo: 5, hi: 5, seeds: 4, failed: 0 },
      ],
    });
  });
});

describe('throughput samples', () => {
  it('stay under the cap, keeping the first and the last', () => {
    const samples: ThroughputSample[] = [];
    for (let index = 0; index <= 1000; index++) {
      addSample(samples, { elapsedMs: index * 10, seeds: index });
    }
    expect(samples.length).toBeLessThanOrEqual(THROUGHPUT_SAMPLES_MAX);
    expect(samples[0]).toEqual({ elapsedMs: 0, seeds: 0 });
    expect(samples.at(-1)).toEqual({ elapsedMs: 10_000, seeds: 1000 });
  });

  it('of shards side by side add up at every moment', () => {
    const merged = mergeThroughput([
      [
        { elapsedMs: 0, seeds: 0 },
        { elapsedMs: 1000, seeds: 10 },
      ],
      [
        { elapsedMs: 0, seeds: 0 },
        { elapsedMs: 500, seeds: 6 },
        { elapsedMs: 2000, seeds: 6 },
      ],
    ]);
    expect(merged).toEqual([
      { elapsedMs: 0, seeds: 0 },
      { elapsedMs: 500, seeds: 11 },
      { elapsedMs: 1000, seeds: 16 },
      { elapsedMs: 2000, seeds: 16 },
    ]);
  });
});

function fresh(index: number, seeds: number, failedSeeds: number[]): FuzzSummary {
  const totals = emptyTotals();
  totals.faultsFired = { crash: index + 2, pause: 1 };
  totals.faultSeeds = { crash: index + 1, pause: 1 };
  return {
    faultline: 'fuzz-summary',
    formatVersion: 2,
    scenario: 'pingpong',
    variant: 'ack-before-fsync',
    from: 0,
    seedsRequested: 20,
    shard: { index, count: 2 },
    stopReason: 'done',
    interrupted: false,
    seeds,
    passed: seeds - failedSeeds.length,
    failed: failedSeeds.length,
    findings: failedSeeds.map((seed) => ({
      seed,
      kind: 'violation' as const,
      invariant: 'acked-pings-durable',
      message: 'm',
      timeUs: 0,
      eventIndex: 0,
      replay: null,
    })),
    replays: [],
    elapsedMs: 1000,
    workers: 1,
    seedsPerSec: 10,
    eventsPerSec: 0,
    events: 0,
    virtualTimeUs: 0,
    acceleration: 0,
    determinism: { rate: 0.01, sampled: 0, mismatches: 0 },
    coverage: coverageOf(scenarioNamed('pingpong'), totals),
    invariants: ['acked-pings-durable', 'records-intact', 'clients-finish'],
    violations: { 'acked-pings-durable': failedSeeds.length },
    shapeHistogram: {},
    throughput: [
      { elapsedMs: 0, seeds: 0 },
      { elapsedMs: 1000, seeds },
    ],
    runs: [],
  };
}

describe('merging format-2 summaries', () => {
  it('adds the report fields up', () => {
    const merged = mergeSummaries([fresh(0, 10, [0, 4]), fresh(1, 10, [3])]);
    expect(merged.formatVersion).toBe(2);
    expect(merged.violations).toEqual({ 'acked-pings-durable': 3 });
    expect(merged.invariants).toEqual(['acked-pings-durable', 'records-intact', 'clients-finish']);
    expect(merged.coverage.faultSeeds).toMatchObject({ crash: 3, pause: 2, partition: 0 });
    expect(merged.throughput?.at(-1)).toEqual({ elapsedMs: 1000, seeds: 20 });
  });

  it('with a format-1 summary is format 1 and claims none of the fields for all seeds', () => {
    const old = fresh(1, 10, [3]) as Partial<FuzzSummary>;
    for (const field of ['invariants', 'violations', 'shapeHistogram', 'throughput', 'runs']) {
      delete old[field as keyof FuzzSummary];
    }
    delete old.coverage?.faultSeeds;
    old.formatVersion = 1;
    const merged = mergeSummaries([fresh(0, 10, [0]), old as FuzzSummary]);
    expect(merged.formatVersion).toBe(1);
    expect(merged.seeds).toBe(20);
    expect(merged.violations).toBeUndefined();
    expect(merged.throughput).toBeUndefined();
    expect(merged.coverage.faultSeeds).toBeUndefined();
    expect(asSummary(JSON.parse(JSON.stringify(merged)), 'merged')).toEqual(merged);
  });

  it('reads the committed format-1 summaries and refuses a format it does not know', () => {
    const paths = [0, 1, 2, 3].map(
      (index) => `bench/results/raft-multi/seeds-0-4999-shard${index}-of-4.json`,
    );
    const summaries = paths.map((path) => asSummary(JSON.parse(readFileSync(path, 'utf8')), path));
    const merged = mergeSummaries(summaries);
    expect(merged.formatVersion).toBe(1);
    expect(merged.seeds).toBe(5000);
    expect(() => asSummary({ ...summaries[0], formatVersion: 3 }, 'x.json')).toThrow(
      /format 3, which this faultline does not read/,
    );
  });
});
