// A campaign's summary (what `fuzz --json` prints and `merge` combines) and its coverage
// report: how often each fault kind and each partition shape fired and how many seeds reached
// each `sometimes` assertion. A kind the scenario allows or a shape its topology can draw
// that never fired, or a `sometimes` never reached, is flagged: the campaign did not test
// what the scenario claims to test.
import { assert } from '../assert.ts';
import { drawableShapes } from '../plan.ts';
import { planGroups, type Scenario } from '../scenario.ts';
import type { ShapePins } from '../shape.ts';
import { Topology } from '../topology.ts';
import { DERIVED_FAULT_KINDS, type FiredKind } from '../types.ts';
import type { Finding, StopReason } from './campaign.ts';
import {
  mergeHistograms,
  mergeThroughput,
  type ShapeHistogram,
  type ThroughputSample,
} from './histogram.ts';
import type { RangeTotals } from './protocol.ts';
import type { RunInfo } from './provenance.ts';
import type { Shard } from './seeds.ts';

/**
 * Format 2 adds what a campaign report needs (seeds per fault kind, per-invariant violation
 * counts, the shape histogram, throughput samples, provenance), all optional to readers:
 * format 1 summaries (the committed ones in bench/results/) are still read and merged, and a
 * merge that includes one is format 1 and carries none of the format-2 fields, since it
 * cannot fill them for every seed.
 */
export const SUMMARY_FORMAT = 2;
const SUMMARY_FORMATS_READ: readonly number[] = [1, 2];

export interface Coverage {
  /** Fault kind → times it fired, over every eligible kind (zero included). */
  faultsFired: Record<string, number>;
  /** Fault kind → seeds where it fired at least once (same keys). Format 2. */
  faultSeeds?: Record<string, number>;
  faultsNeverFired: string[];
  /** `sometimes` assertion → seeds that reached it. */
  sometimes: Record<string, number>;
  sometimesNeverReached: string[];
  /** Invariant → seeds where its end-of-run check could not decide (those seeds still count
   *  as passed: nothing was found, but this check did not clear them). Absent in old summaries. */
  undecided?: Record<string, number>;
  /**
   * Partition shape → partitions of that shape applied (each flap counts), over every shape
   * the scenario's topology can draw when partitions are eligible (zero included). This and
   * the two below are absent in old summaries.
   */
  partitionShapes?: Record<string, number>;
  /** Partition shape → seeds that applied at least one. */
  partitionShapeSeeds?: Record<string, number>;
  partitionShapesNeverFired?: string[];
}

export interface FuzzSummary {
  faultline: 'fuzz-summary';
  formatVersion: 1 | 2;
  scenario: string;
  variant: string | null;
  /** Shape parameters pinned with `--set`; absent when every seed drew its whole shape. */
  pins?: ShapePins;
  from: number;
  seedsRequested: number | null;
  shard: Shard | null;
  stopReason: StopReason;
  interrupted: boolean;
  seeds: number;
  passed: number;
  failed: number;
  findings: Finding[];
  /** The seed whose finding arrived first (absent without findings, and in old summaries). */
  firstFindingSeed?: number;
  replays: string[];
  elapsedMs: number;
  workers: number;
  seedsPerSec: number;
  eventsPerSec: number;
  events: number;
  virtualTimeUs: number;
  /** Virtual µs per wall µs. */
  acceleration: number;
  determinism: { rate: number; sampled: number; mismatches: number };
  coverage: Coverage;
  /** Set by merge: the shards of the split that no summary covered. */
  shardsMissing?: number[];
  /**
   * Set by merge: Σ elapsed × workers over the summaries merged, the worker time the campaign
   * cost whether its shards ran side by side or one after another. `seedsPerSec` of a merge
   * assumes side by side; seeds per worker-second is the figure that holds either way.
   */
  workerMs?: number;
  /** Set by merge: how many summaries it combined. */
  mergedSummaries?: number;
  // Format 2: what `faultline report` draws (see SUMMARY_FORMAT).
  /** The scenario's invariants, in its order. */
  invariants?: string[];
  /** Invariant (or finding kind: budget, hang, crash, determinism…) → seeds that failed it,
   *  every failing seed counted, even past the findings kept. */
  violations?: Record<string, number>;
  /** Drawn shape parameter → seeds (and failed seeds) per bin; {} for a fixed shape. */
  shapeHistogram?: ShapeHistogram;
  /** Seeds done over the campaign's wall time (for a merge: the shards side by side). */
  throughput?: ThroughputSample[];
  /** Which code ran where, one entry per campaign (a merge keeps every shard's). */
  runs?: RunInfo[];
}

export function emptyTotals(): RangeTotals {
  return {
    completed: 0,
    events: 0,
    virtualTimeUs: 0,
    runWallMs: 0,
    faultsFired: {},
    sometimes: {},
    undecided: {},
    partitionShapes: {},
    partitionShapeSeeds: {},
    faultSeeds: {},
    shapeSeeds: {},
    determinismSampled: 0,
  };
}

export function mergeTotals(into: RangeTotals, from: RangeTotals): void {
  into.completed += from.completed;
  into.events += from.events;
  into.virtualTimeUs += from.virtualTimeUs;
  into.runWallMs += from.runWallMs;
  into.determinismSampled += from.determinismSampled;
  addCounts(into.faultsFired as Record<string, number>, from.faultsFired);
  addCounts(into.sometimes, from.sometimes);
  addCounts(into.undecided, from.undecided);
  addCounts(into.partitionShapes, from.partitionShapes);
  addCounts(into.partitionShapeSeeds, from.partitionShapeSeeds);
  addCounts(into.faultSeeds, from.faultSeeds);
  for (const [name, bins] of Object.entries(from.shapeSeeds)) {
    const sums = into.shapeSeeds[name] ?? [];
    into.shapeSeeds[name] = sums;
    bins.forEach((count, index) => {
      sums[index] = (sums[index] ?? 0) + count;
    });
  }
}

function addCounts(into: Record<string, number>, from: Record<string, number | undefined>): void {
  for (const [key, count] of Object.entries(from)) {
    into[key] = (into[key] ?? 0) + (count ?? 0);
  }
}

export function coverageOf(scenario: Scenario, totals: RangeTotals): Coverage {
  const faultsFired: Record<string, number> = {};
  for (const kind of scenario.faults.eligible) {
    faultsFired[kind] = totals.faultsFired[kind] ?? 0;
  }
  // Kinds drawn with an eligible kind (crash loops with crashes, say): a campaign where none
  // fired did not test them.
  for (const [derived, kind] of Object.entries(DERIVED_FAULT_KINDS)) {
    if (scenario.faults.eligible.includes(kind)) {
      faultsFired[derived] = totals.faultsFired[derived as FiredKind] ?? 0;
    }
  }
  // Kinds that fired without being eligible (buggify in system code, say) are listed too.
  for (const [kind, count] of Object.entries(totals.faultsFired)) {
    if (!(kind in faultsFired)) {
      faultsFired[kind] = count ?? 0;
    }
  }
  const faultSeeds: Record<string, number> = {};
  for (const kind of Object.keys(faultsFired)) {
    faultSeeds[kind] = totals.faultSeeds[kind] ?? 0;
  }
  const sometimes: Record<string, number> = {};
  for (const name of Object.keys(scenario.sometimes ?? {})) {
    sometimes[name] = totals.sometimes[name] ?? 0;
  }
  const shapes: Record<string, number> = {};
  const shapeSeeds: Record<string, number> = {};
  if (scenario.faults.eligible.includes('partition')) {
    for (const shape of drawableShapes(new Topology(planGroups(scenario)))) {
      shapes[shape] = 0;
      shapeSeeds[shape] = 0;
    }
  }
  // Shapes a scenario's own plan hook drew are listed too.
  addCounts(shapes, totals.partitionShapes);
  addCounts(shapeSeeds, totals.partitionShapeSeeds);
  const coverage = flagged(faultsFired, sometimes, { ...totals.undecided });
  return withShapes({ ...coverage, faultSeeds }, shapes, shapeSeeds);
}

/** A coverage report with its partition shape counts and the shapes never fired. */
function withShapes(
  coverage: Coverage,
  partitionShapes: Record<string, number>,
  partitionShapeSeeds: Record<string, number>,
): Coverage {
  return {
    ...coverage,
    partitionShapes,
    partitionShapeSeeds,
    partitionShapesNeverFired: zeroKeys(partitionShapes),
  };
}

/** A coverage report from its counts, with the kinds never fired and sometimes never reached. */
function flagged(
  faultsFired: Record<string, number>,
  sometimes: Record<string, number>,
  undecided: Record<string, number>,
): Coverage {
  return {
    faultsFired,
    faultsNeverFired: zeroKeys(faultsFired),
    sometimes,
    sometimesNeverReached: zeroKeys(sometimes),
    undecided,
  };
}

function zeroKeys(counts: Record<string, number>): string[] {
  return Object.entries(counts)
    .filter(([, count]) => count === 0)
    .map(([key]) => key);
}

export class MergeError extends Error {
  override name = 'MergeError';
}

/** Checks that a parsed JSON value is a fuzz summary; a sentence names what is wrong. */
export function asSummary(value: unknown, source: string): FuzzSummary {
  const summary = value as Partial<FuzzSummary> | null;
  if (typeof summary !== 'object' || summary === null || summary.faultline !== 'fuzz-summary') {
    throw new MergeError(`${source} is not a faultline fuzz summary (the output of fuzz --json)`);
  }
  if (!SUMMARY_FORMATS_READ.includes(summary.formatVersion as number)) {
    throw new MergeError(
      `${source} is a fuzz summary of format ${summary.formatVersion}, which this faultline does not read (it reads ${SUMMARY_FORMATS_READ.join(' and ')})`,
    );
  }
  for (const key of ['seeds', 'passed', 'failed', 'elapsedMs', 'events', 'virtualTimeUs']) {
    if (typeof (summary as Record<string, unknown>)[key] !== 'number') {
      throw new MergeError(`${source} is a damaged fuzz summary: ${key} should be a number`);
    }
  }
  if (!Array.isArray(summary.findings) || typeof summary.coverage !== 'object') {
    throw new MergeError(`${source} is a damaged fuzz summary: findings or coverage missing`);
  }
  return summary as FuzzSummary;
}

/**
 * Combines the summaries of the shards of one split (run side by side: elapsed is the
 * longest, throughput the total over it). Summaries without shards may be merged too (say,
 * disjoint --from ranges); mixing the two, or one shard twice, is refused.
 */
export function mergeSummaries(summaries: FuzzSummary[]): FuzzSummary {
  assert(summaries.length > 0, 'merge needs at least one summary');
  const first = summaries[0] as FuzzSummary;
  for (const summary of summaries) {
    if (summary.scenario !== first.scenario || summary.variant !== first.variant) {
      throw new MergeError(
        `cannot merge summaries of different campaigns (${first.scenario}/${first.variant ?? 'main'} and ${summary.scenario}/${summary.variant ?? 'main'})`,
      );
    }
  }
  const pins = pinsText(first.pins);
  for (const summary of summaries) {
    if (pinsText(summary.pins) !== pins) {
      throw new MergeError(
        `cannot merge summaries with different pinned shapes (${pinsText(first.pins)} and ${pinsText(summary.pins)})`,
      );
    }
  }
  const shardsMissing = checkShards(summaries);
  const elapsedMs = Math.max(...summaries.map((summary) => summary.elapsedMs));
  const seconds = Math.max(elapsedMs / 1000, 1e-9);
  const sum = (pick: (summary: FuzzSummary) => number) =>
    summaries.reduce((total, summary) => total + pick(summary), 0);
  const seeds = sum((summary) => summary.seeds);
  const events = sum((summary) => summary.events);
  const virtualTimeUs = sum((summary) => summary.virtualTimeUs);
  const findings = summaries.flatMap((summary) => summary.findings).sort((a, b) => a.seed - b.seed);
  const merged: FuzzSummary = {
    ...first,
    shard: null,
    stopReason: summaries.some((summary) => summary.interrupted) ? 'interrupted' : first.stopReason,
    interrupted: summaries.some((summary) => summary.interrupted),
    seeds,
    passed: sum((summary) => summary.passed),
    failed: sum((summary) => summary.failed),
    findings,
    replays: summaries.flatMap((summary) => summary.replays),
    elapsedMs,
    workers: sum((summary) => summary.workers),
    seedsPerSec: Math.round((seeds / seconds) * 10) / 10,
    eventsPerSec: Math.round((events / seconds) * 10) / 10,
    events,
    virtualTimeUs,
    acceleration: Math.round((virtualTimeUs / (seconds * 1_000_000)) * 10) / 10,
    determinism: {
      rate: first.determinism.rate,
      sampled: sum((summary) => summary.determinism.sampled),
      mismatches: sum((summary) => summary.determinism.mismatches),
    },
    coverage: mergeCoverage(summaries.map((summary) => summary.coverage)),
  };
  if (shardsMissing !== undefined) {
    merged.shardsMissing = shardsMissing;
  }
  merged.workerMs = sum((summary) => summary.workerMs ?? summary.elapsedMs * summary.workers);
  merged.mergedSummaries = sum((summary) => summary.mergedSummaries ?? 1);
  return withReportFields(merged, summaries);
}

const REPORT_FIELDS = ['invariants', 'violations', 'shapeHistogram', 'throughput', 'runs'] as const;

/**
 * The format-2 fields of a merge: each only when every summary has it (a count over some of
 * the seeds would read as a count over all of them), and format 1 when any summary is.
 */
function withReportFields(merged: FuzzSummary, summaries: FuzzSummary[]): FuzzSummary {
  for (const field of REPORT_FIELDS) {
    delete merged[field];
  }
  const formatVersion = Math.min(...summaries.map((summary) => summary.formatVersion));
  merged.formatVersion = formatVersion === 1 ? 1 : 2;
  const all = <K extends (typeof REPORT_FIELDS)[number]>(field: K) =>
    summaries.every((summary) => summary[field] !== undefined)
      ? summaries.map((summary) => summary[field] as NonNullable<FuzzSummary[K]>)
      : undefined;
  const invariants = all('invariants');
  if (invariants !== undefined) {
    merged.invariants = [...new Set(invariants.flat())];
  }
  const violations = all('violations');
  if (violations !== undefined) {
    merged.violations = {};
    for (const counts of violations) {
      addCounts(merged.violations, counts);
    }
  }
  const histograms = all('shapeHistogram');
  if (histograms !== undefined) {
    merged.shapeHistogram = mergeHistograms(histograms);
  }
  const throughput = all('throughput');
  if (throughput !== undefined) {
    merged.throughput = mergeThroughput(throughput);
  }
  const runs = all('runs');
  if (runs !== undefined) {
    merged.runs = runs.flat();
  }
  return merged;
}

function checkShards(summaries: FuzzSummary[]): number[] | undefined {
  const sharded = summaries.filter((summary) => summary.shard !== null);
  if (sharded.length === 0) {
    return undefined;
  }
  if (sharded.length !== summaries.length) {
    throw new MergeError('cannot merge sharded and unsharded summaries together');
  }
  const first = sharded[0] as FuzzSummary;
  const count = (first.shard as Shard).count;
  const seen = new Set<number>();
  for (const summary of sharded) {
    const shard = summary.shard as Shard;
    if (shard.count !== count || summary.from !== first.from) {
      throw new MergeError(
        `cannot merge shards of different splits (${shard.index}/${shard.count} from ${summary.from} and ?/${count} from ${first.from})`,
      );
    }
    if (seen.has(shard.index)) {
      throw new MergeError(`shard ${shard.index}/${count} appears twice`);
    }
    seen.add(shard.index);
  }
  const missing: number[] = [];
  for (let index = 0; index < count && missing.length < 1000; index++) {
    if (!seen.has(index)) {
      missing.push(index);
    }
  }
  return missing;
}

function mergeCoverage(coverages: Coverage[]): Coverage {
  const faultsFired: Record<string, number> = {};
  const sometimes: Record<string, number> = {};
  const undecided: Record<string, number> = {};
  const shapes: Record<string, number> = {};
  const shapeSeeds: Record<string, number> = {};
  for (const coverage of coverages) {
    addCounts(faultsFired, coverage.faultsFired);
    addCounts(sometimes, coverage.sometimes);
    addCounts(undecided, coverage.undecided ?? {});
    addCounts(shapes, coverage.partitionShapes ?? {});
    addCounts(shapeSeeds, coverage.partitionShapeSeeds ?? {});
  }
  const merged: Coverage = flagged(faultsFired, sometimes, undecided);
  if (coverages.every((coverage) => coverage.faultSeeds !== undefined)) {
    const faultSeeds: Record<string, number> = {};
    for (const coverage of coverages) {
      addCounts(faultSeeds, coverage.faultSeeds ?? {});
    }
    for (const kind of Object.keys(faultsFired)) {
      faultSeeds[kind] ??= 0;
    }
    merged.faultSeeds = faultSeeds;
  }
  // Summaries written before shape counts existed add nothing; if none has them, neither
  // does the merge (it cannot say which shapes never fired).
  if (coverages.every((coverage) => coverage.partitionShapes === undefined)) {
    return merged;
  }
  return withShapes(merged, shapes, shapeSeeds);
}

function pinsText(pins: ShapePins | undefined): string {
  const entries = Object.entries(pins ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0
    ? 'none'
    : entries.map(([name, value]) => `${name}=${String(value)}`).join(' ');
}
