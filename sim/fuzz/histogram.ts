// What a campaign report draws besides coverage, kept in the summary so that shards merged on
// another machine give the same report as one run: seeds per bin of each drawn shape parameter
// (and how many of them failed), and the seeds done over wall time. Bins come from the
// scenario's shape spec alone, so every shard of a campaign bins alike and merge adds bins up.
import { assert } from '../assert.ts';
import type { ShapePins, ShapeSpec } from '../shape.ts';

/** Log-spaced bins per drawn range: enough to see where failures fall, few enough to read. */
export const RANGE_BINS = 8;
/** Throughput samples kept in a summary (older ones are thinned as a campaign goes on). */
export const THROUGHPUT_SAMPLES_MAX = 200;

/** One bin of a shape parameter: values in [lo, hi] (lo = hi for a group size). */
export interface ShapeBin {
  lo: number;
  hi: number;
  seeds: number;
  failed: number;
}

/** Shape parameter → its bins, in increasing order. */
export type ShapeHistogram = Record<string, ShapeBin[]>;

/** Seeds finished (and failed) after `elapsedMs` of wall time, cumulative. */
export interface ThroughputSample {
  elapsedMs: number;
  seeds: number;
}

/** Bin edges per drawn parameter: [lo, hi] pairs. Pinned parameters have one value: no bins. */
export function shapeBins(
  spec: ShapeSpec | undefined,
  pins: ShapePins = {},
): Record<string, [number, number][]> {
  const bins: Record<string, [number, number][]> = {};
  if (spec === undefined) {
    return bins;
  }
  // The order of shapeParameters: the fault phase, group sizes, then workload values.
  if (spec.durationUs !== undefined && !('durationUs' in pins)) {
    bins['durationUs'] = logBins(spec.durationUs);
  }
  for (const [group, sizes] of Object.entries(spec.groupSizes ?? {})) {
    if (!(group in pins)) {
      bins[group] = [...new Set(sizes)].sort((a, b) => a - b).map((size) => [size, size]);
    }
  }
  for (const [name, range] of Object.entries(spec.workload ?? {})) {
    if (!(name in pins)) {
      bins[name] = logBins(range);
    }
  }
  return bins;
}

function logBins(range: { min: number; max: number }): [number, number][] {
  assert(range.min >= 1 && range.min <= range.max, 'a drawn range is 1 <= min <= max');
  const edges: number[] = [];
  const ratio = range.max / range.min;
  for (let index = 0; index <= RANGE_BINS; index++) {
    edges.push(Math.round(range.min * ratio ** (index / RANGE_BINS)));
  }
  const bins: [number, number][] = [];
  for (let index = 0; index < RANGE_BINS; index++) {
    const lo = index === 0 ? range.min : (edges[index] as number) + 1;
    const hi = index === RANGE_BINS - 1 ? range.max : (edges[index + 1] as number);
    if (lo <= hi) {
      bins.push([lo, hi]);
    }
  }
  return bins;
}

/** The bin a value falls in; values outside every bin (an edited plan) go to the nearest end. */
export function binIndex(bins: readonly [number, number][], value: number): number {
  assert(bins.length > 0, 'a parameter with bins has at least one');
  for (let index = 0; index < bins.length; index++) {
    if (value <= (bins[index] as [number, number])[1]) {
      return index;
    }
  }
  return bins.length - 1;
}

/** Per parameter, seeds per bin (what workers count) → a histogram with failed counts. */
export function histogramOf(
  bins: Record<string, [number, number][]>,
  seeds: Record<string, number[]>,
  failed: Record<string, number[]>,
): ShapeHistogram {
  const histogram: ShapeHistogram = {};
  for (const [name, edges] of Object.entries(bins)) {
    histogram[name] = edges.map(([lo, hi], index) => ({
      lo,
      hi,
      seeds: seeds[name]?.[index] ?? 0,
      failed: failed[name]?.[index] ?? 0,
    }));
  }
  return histogram;
}

/** Adds histograms bin by bin (bins matched by their bounds). */
export function mergeHistograms(histograms: readonly ShapeHistogram[]): ShapeHistogram {
  const merged: ShapeHistogram = {};
  for (const histogram of histograms) {
    for (const [name, bins] of Object.entries(histogram)) {
      const into = merged[name] ?? [];
      merged[name] = into;
      for (const bin of bins) {
        const same = into.find((other) => other.lo === bin.lo && other.hi === bin.hi);
        if (same === undefined) {
          into.push({ ...bin });
        } else {
          same.seeds += bin.seeds;
          same.failed += bin.failed;
        }
      }
      into.sort((a, b) => a.lo - b.lo || a.hi - b.hi);
    }
  }
  return merged;
}

/** Adds a sample; past the cap, every other sample goes (the curve keeps its shape). */
export function addSample(samples: ThroughputSample[], sample: ThroughputSample): void {
  samples.push(sample);
  if (samples.length > THROUGHPUT_SAMPLES_MAX) {
    thin(samples);
  }
}

function thin(samples: ThroughputSample[]): void {
  const last = samples.at(-1) as ThroughputSample;
  const kept = samples.filter((_, index) => index % 2 === 0);
  if (kept.at(-1) !== last) {
    kept.push(last);
  }
  samples.splice(0, samples.length, ...kept);
}

/**
 * Shards run side by side: at each moment the campaign had done the sum of what every shard
 * had done (linear between a shard's samples, its total after its last one).
 */
export function mergeThroughput(series: readonly ThroughputSample[][]): ThroughputSample[] {
  const times = [...new Set(series.flatMap((samples) => samples.map((s) => s.elapsedMs)))].sort(
    (a, b) => a - b,
  );
  const merged: ThroughputSample[] = [];
  for (const elapsedMs of times) {
    let seeds = 0;
    for (const samples of series) {
      seeds += seedsAt(samples, elapsedMs);
    }
    addSample(merged, { elapsedMs, seeds: Math.round(seeds) });
  }
  return merged;
}

function seedsAt(samples: readonly ThroughputSample[], elapsedMs: number): number {
  let before: ThroughputSample = { elapsedMs: 0, seeds: 0 };
  for (const sample of samples) {
    if (sample.elapsedMs >= elapsedMs) {
      if (sample.elapsedMs === before.elapsedMs) {
        return sample.seeds;
      }
      const share = (elapsedMs - before.elapsedMs) / (sample.elapsedMs - before.elapsedMs);
      return before.seeds + share * (sample.seeds - before.seeds);
    }
    before = sample;
  }
  return before.seeds;
}
