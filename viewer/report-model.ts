// What a campaign report says, as plain data built from a fuzz summary (one campaign, or the
// merge of its shards) and, where the scenario is known to this code, its description. The
// page is a pure function of this model; the model is embedded in the page, so tests (and
// people) can compare two reports' content. Everything that depends on the machine or the
// moment — wall time, throughput, which machines ran — sits in `execution`, so a report of
// merged shards equals one of a single run over the same seeds outside it.
import type { Finding } from '../sim/fuzz/campaign.ts';
import type { ShapeBin, ThroughputSample } from '../sim/fuzz/histogram.ts';
import type { RunInfo } from '../sim/fuzz/provenance.ts';
import type { FuzzSummary } from '../sim/fuzz/summary.ts';
import { planFor } from '../sim/plan.ts';
import { planGroups, type Scenario } from '../sim/scenario.ts';
import type { ShapePins } from '../sim/shape.ts';
import { Topology } from '../sim/topology.ts';

/** The one command that reruns a seed of the campaign, from any checkout of the same code. */
export function reproduceCommand(
  summary: Pick<FuzzSummary, 'scenario' | 'variant' | 'pins'>,
  seed: number,
): string {
  const variant = summary.variant === null ? '' : ` --variant ${summary.variant}`;
  const pins = Object.entries(summary.pins ?? {}).map(([name, value]) => `${name}=${value}`);
  const set = pins.length === 0 ? '' : ` --set ${pins.join(' ')}`;
  return `npx faultline run ${summary.scenario} --seed ${seed}${variant}${set}`;
}

/** Findings listed one by one (the counts cover them all). */
export const FINDINGS_LISTED_MAX = 100;

/** A finding that is not an invariant's violation: the run could not be judged. */
const OTHER_KINDS = new Set(['budget', 'error', 'hang', 'crash', 'nondeterminism']);

export interface InvariantVerdict {
  name: string;
  /** Seeds that ran to the end with this check clearing them. */
  held: number;
  violated: number;
  /** Seeds where its end-of-run check could not decide (counted as passed by fuzz). */
  undecided: number;
  verdict: 'held' | 'violated' | 'undecided';
}

export interface FaultBar {
  kind: string;
  episodes: number;
  /** Seeds where it fired at least once; null in summaries before format 2. */
  seeds: number | null;
}

export interface ShapeChart {
  name: string;
  /** How values read: µs become time, others are counts. */
  unit: 'us' | 'count';
  bins: ShapeBin[];
}

/** The shrunk case of one violated invariant, as the report's diagram shows it. */
export interface ViolationCase {
  invariant: string;
  seed: number;
  message: string;
  /** One command that reruns the seed on this code from any checkout. */
  reproduce: string;
  /** The campaign's replay file, when it was found here. */
  replay: string | null;
  /** Why this case has no shrunk run (the replay and the seed no longer fail, say). */
  problem?: string;
  shrunk?: {
    file: string;
    replayCommand: string;
    traceHash: string;
    attempts: number;
    accepted: number;
    exhausted: boolean;
    violationAtUs: number;
    violationMessage: string;
    rows: { what: string; before: number; after: number; unit?: 'us' }[];
  };
  /** The diagram: inline in the page, or a file beside it when large. */
  diagram?: { inline: boolean; file: string | null; bytes: number; events: number };
}

export interface ReportModel {
  faultline: 'campaign-report';
  formatVersion: 1;
  title: string;
  scenario: { name: string; description: string | null; system: string | null };
  topology: string | null;
  /** Drawn group sizes, e.g. "servers 3 or 5 · clients 1–4 (drawn per seed)". */
  drawnTopology: string | null;
  variant: { name: string; bug: string | null } | null;
  seedRange: {
    from: number;
    seeds: number;
    requested: number | null;
    pins: ShapePins | null;
    stopReason: string;
  };
  code: { commits: string[]; dirty: boolean | null; versions: string[] } | null;
  totals: { seeds: number; passed: number; failed: number; events: number; virtualTimeUs: number };
  /** One line for the top of the page. */
  headline: string;
  verdict: 'violated' | 'held' | 'undecided' | 'other-findings';
  invariants: InvariantVerdict[];
  /** Findings that are not an invariant's violation (budget, hang, crash, nondeterminism). */
  otherFindings: { kind: string; seeds: number }[];
  findings: (Pick<Finding, 'seed' | 'kind' | 'invariant' | 'message' | 'timeUs' | 'shape'> & {
    reproduce: string;
  })[];
  findingsTotal: number;
  /** The lowest failing seed, and how many seeds of the range come up to it. */
  firstFailure: { seed: number; invariant: string; seedsToIt: number } | null;
  cases: ViolationCase[];
  /** The commit the cases were rerun and shrunk on (null outside a git checkout). */
  casesCommit: string | null;
  faults: FaultBar[];
  faultsNeverFired: string[];
  partitionShapes: FaultBar[] | null;
  partitionShapesNeverFired: string[];
  sometimes: { name: string; seeds: number }[];
  sometimesNeverReached: string[];
  determinism: { rate: number; sampled: number; mismatches: number };
  shapes: ShapeChart[] | null;
  /** What an older summary could not say (the page says so rather than draw zeros). */
  absent: string[];
  execution: {
    elapsedMs: number;
    workers: number;
    seedsPerSec: number;
    eventsPerSec: number;
    acceleration: number;
    throughput: ThroughputSample[] | null;
    runs: RunInfo[];
    /** A merge of shards: how many the split had (null when unknown) and those missing. */
    shards: { count: number | null; missing: number[] } | null;
  };
}

export interface ReportInput {
  summary: FuzzSummary;
  /** The scenario as this code knows it (undefined: the report says what the summary says). */
  scenario?: Scenario;
  cases?: ViolationCase[];
  /** The commit this code is at, where the cases were rerun. */
  casesCommit?: string | null;
}

export function reportModel(input: ReportInput): ReportModel {
  const { summary, scenario } = input;
  const absent: string[] = [];
  const variantName = summary.variant;
  const invariants = invariantVerdicts(summary, scenario);
  const violatedNames = new Set(
    invariants.filter((verdict) => verdict.violated > 0).map((v) => v.name),
  );
  const other = otherFindings(summary, violatedNames);
  if (summary.violations === undefined) {
    absent.push('violation counts past the findings kept');
  }
  const faults = faultBars(summary.coverage.faultsFired, summary.coverage.faultSeeds);
  if (summary.coverage.faultSeeds === undefined) {
    absent.push('seeds per fault kind');
  }
  const shapes = shapeCharts(summary);
  if (summary.shapeHistogram === undefined && scenario?.shape !== undefined) {
    absent.push('the distribution of drawn shapes');
  }
  if (summary.throughput === undefined) {
    absent.push('throughput over the campaign');
  }
  if (summary.runs === undefined) {
    absent.push('code version and machine');
  }
  const firstFailure = firstFailureOf(summary);
  const verdict: ReportModel['verdict'] =
    violatedNames.size > 0
      ? 'violated'
      : other.length > 0
        ? 'other-findings'
        : invariants.some((v) => v.undecided > 0)
          ? 'undecided'
          : 'held';
  const title = `${summary.scenario}${variantName === null ? '' : ` · variant ${variantName}`}`;
  return {
    faultline: 'campaign-report',
    formatVersion: 1,
    title,
    scenario: {
      name: summary.scenario,
      description: scenario?.description ?? null,
      system: scenario?.system ?? null,
    },
    topology: topologyOf(scenario),
    drawnTopology: drawnTopology(scenario, summary.pins),
    variant:
      variantName === null
        ? null
        : { name: variantName, bug: scenario?.variants[variantName] ?? null },
    seedRange: {
      from: summary.from,
      seeds: summary.seeds,
      requested: summary.seedsRequested,
      pins: summary.pins ?? null,
      stopReason: summary.stopReason,
    },
    code: codeOf(summary.runs),
    totals: {
      seeds: summary.seeds,
      passed: summary.passed,
      failed: summary.failed,
      events: summary.events,
      virtualTimeUs: summary.virtualTimeUs,
    },
    headline: headline(summary, invariants, violatedNames, firstFailure),
    verdict,
    invariants,
    otherFindings: other,
    findings: summary.findings.slice(0, FINDINGS_LISTED_MAX).map((finding) => ({
      seed: finding.seed,
      kind: finding.kind,
      invariant: finding.invariant,
      message: finding.message,
      timeUs: finding.timeUs,
      reproduce: reproduceCommand(summary, finding.seed),
      ...(finding.shape === undefined ? {} : { shape: finding.shape }),
    })),
    findingsTotal: summary.failed,
    firstFailure,
    cases: input.cases ?? [],
    casesCommit: input.casesCommit ?? null,
    faults,
    faultsNeverFired: summary.coverage.faultsNeverFired,
    partitionShapes:
      summary.coverage.partitionShapes === undefined
        ? null
        : faultBars(summary.coverage.partitionShapes, summary.coverage.partitionShapeSeeds),
    partitionShapesNeverFired: summary.coverage.partitionShapesNeverFired ?? [],
    sometimes: Object.entries(summary.coverage.sometimes).map(([name, seeds]) => ({ name, seeds })),
    sometimesNeverReached: summary.coverage.sometimesNeverReached,
    determinism: summary.determinism,
    shapes,
    absent,
    execution: {
      elapsedMs: summary.elapsedMs,
      workers: summary.workers,
      seedsPerSec: summary.seedsPerSec,
      eventsPerSec: summary.eventsPerSec,
      acceleration: summary.acceleration,
      throughput: summary.throughput ?? null,
      runs: summary.runs ?? [],
      shards:
        summary.shardsMissing !== undefined
          ? { count: shardCount(summary), missing: summary.shardsMissing }
          : null,
    },
  };
}

/** The model a report page embeds (for tests, and for tools reading a report back). */
export function embeddedReportModel(html: string): ReportModel {
  const match = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  if (match === null) {
    throw new Error('not a faultline campaign report: no report-data element');
  }
  return JSON.parse(match[1] as string) as ReportModel;
}

/** The model without what depends on the machine and the moment (for comparing reports). */
export function reportContent(model: ReportModel): Omit<ReportModel, 'execution'> {
  const { execution: _execution, ...content } = model;
  return content;
}

/**
 * Held on N: the seeds that ran to their end (passed) less those where this check could not
 * decide. A failing seed's run stops at its finding, so no invariant is counted as held there.
 */
function invariantVerdicts(
  summary: FuzzSummary,
  scenario: Scenario | undefined,
): InvariantVerdict[] {
  const counts = violationCounts(summary);
  const undecided = summary.coverage.undecided ?? {};
  const names = [...(summary.invariants ?? declaredInvariants(summary, scenario))];
  // An invariant that failed or could not decide is listed even if not declared up front.
  for (const name of [...Object.keys(counts), ...Object.keys(undecided)]) {
    if (!names.includes(name) && !OTHER_KINDS.has(findingKindOf(summary, name))) {
      names.push(name);
    }
  }
  return names.map((name) => {
    const violated = counts[name] ?? 0;
    const notDecided = undecided[name] ?? 0;
    return {
      name,
      held: Math.max(0, summary.passed - notDecided),
      violated,
      undecided: notDecided,
      verdict: violated > 0 ? 'violated' : notDecided > 0 ? 'undecided' : 'held',
    };
  });
}

/** Format 1 did not list the invariants: read them as the campaign did, off its first plan. */
function declaredInvariants(summary: FuzzSummary, scenario: Scenario | undefined): string[] {
  if (scenario === undefined) {
    return [];
  }
  try {
    const plan = planFor(scenario, summary.from, summary.variant, summary.pins ?? {});
    return scenario.invariants(plan).map((invariant) => invariant.name);
  } catch {
    return [];
  }
}

/** Seeds per failed invariant: the summary's counts, or (format 1) the findings it kept. */
function violationCounts(summary: FuzzSummary): Record<string, number> {
  if (summary.violations !== undefined) {
    return summary.violations;
  }
  const counts: Record<string, number> = {};
  const seen = new Set<number>();
  for (const finding of summary.findings) {
    if (!seen.has(finding.seed)) {
      seen.add(finding.seed);
      counts[finding.invariant] = (counts[finding.invariant] ?? 0) + 1;
    }
  }
  return counts;
}

/** The kind of the findings that carry this invariant name ('violation' when unknown). */
function findingKindOf(summary: FuzzSummary, invariant: string): string {
  return summary.findings.find((finding) => finding.invariant === invariant)?.kind ?? 'violation';
}

function otherFindings(
  summary: FuzzSummary,
  violated: ReadonlySet<string>,
): { kind: string; seeds: number }[] {
  const counts = violationCounts(summary);
  return Object.entries(counts)
    .filter(([name]) => !violated.has(name))
    .map(([name, seeds]) => ({ kind: `${findingKindOf(summary, name)}: ${name}`, seeds }));
}

function faultBars(
  fired: Record<string, number>,
  seeds: Record<string, number> | undefined,
): FaultBar[] {
  return Object.entries(fired).map(([kind, episodes]) => ({
    kind,
    episodes,
    seeds: seeds === undefined ? null : (seeds[kind] ?? 0),
  }));
}

function shapeCharts(summary: FuzzSummary): ShapeChart[] | null {
  const histogram = summary.shapeHistogram;
  if (histogram === undefined || Object.keys(histogram).length === 0) {
    return null;
  }
  return Object.entries(histogram).map(([name, bins]) => ({
    name,
    unit: name.endsWith('Us') ? 'us' : 'count',
    bins,
  }));
}

/** The scenario's groups; with sizes drawn per seed only their names (the sizes vary). */
function topologyOf(scenario: Scenario | undefined): string | null {
  if (scenario === undefined) {
    return null;
  }
  if (scenario.shape?.groupSizes === undefined) {
    return new Topology(planGroups(scenario)).describe();
  }
  return scenario.groups
    .map((group) => `${group.name}${group.client === true ? ' (client)' : ''}`)
    .join(', ');
}

function drawnTopology(scenario: Scenario | undefined, pins: ShapePins | undefined): string | null {
  const sizes = scenario?.shape?.groupSizes;
  if (sizes === undefined) {
    return null;
  }
  const parts = Object.entries(sizes).map(([group, choices]) => {
    const pinned = pins?.[group];
    if (pinned !== undefined) {
      return `${group} ${pinned} (pinned)`;
    }
    const sorted = [...new Set(choices)].sort((a, b) => a - b);
    const contiguous = sorted.every(
      (size, index) => index === 0 || size === (sorted[index - 1] ?? 0) + 1,
    );
    const text =
      sorted.length > 2 && contiguous
        ? `${sorted[0]}–${sorted.at(-1)}`
        : sorted.join(sorted.length === 2 ? ' or ' : ', ');
    return `${group} ${text}`;
  });
  return `${parts.join(' · ')} (drawn per seed)`;
}

function shardCount(summary: FuzzSummary): number | null {
  const counts = new Set(
    (summary.runs ?? []).flatMap((run) => (run.shard === null ? [] : [run.shard.count])),
  );
  return counts.size === 1 ? ([...counts][0] as number) : null;
}

function codeOf(runs: RunInfo[] | undefined): ReportModel['code'] {
  if (runs === undefined || runs.length === 0) {
    return null;
  }
  const commits = [...new Set(runs.map((run) => run.commit ?? 'not a git checkout'))].sort();
  const versions = [...new Set(runs.map((run) => run.faultlineVersion))].sort();
  const dirty = runs.some((run) => run.dirty === true)
    ? true
    : runs.every((run) => run.dirty === false)
      ? false
      : null;
  return { commits, dirty, versions };
}

/**
 * The lowest failing seed and how many seeds of the range lead up to it, counting it: the
 * seeds a campaign run in order from `from` would have needed (shards interleave, so the
 * count is over the whole range, and a merge says the same as one run).
 */
function firstFailureOf(summary: FuzzSummary): ReportModel['firstFailure'] {
  const first = summary.findings[0];
  if (first === undefined) {
    return null;
  }
  return { seed: first.seed, invariant: first.invariant, seedsToIt: first.seed - summary.from + 1 };
}

function headline(
  summary: FuzzSummary,
  invariants: InvariantVerdict[],
  violated: ReadonlySet<string>,
  firstFailure: ReportModel['firstFailure'],
): string {
  const seeds = summary.seeds.toLocaleString('en-US');
  if (violated.size > 0) {
    const names = [...violated].join(', ');
    const first =
      firstFailure === null
        ? ''
        : `; first at seed ${firstFailure.seed}, ${firstFailure.seedsToIt.toLocaleString('en-US')} seed${firstFailure.seedsToIt === 1 ? '' : 's'} into the range`;
    return `${violated.size} of ${invariants.length} invariants violated (${names}) on ${summary.failed.toLocaleString('en-US')} of ${seeds} seeds${first}`;
  }
  if (summary.failed > 0) {
    return `every invariant held, but ${summary.failed.toLocaleString('en-US')} of ${seeds} seeds could not be judged (budget, hang, crash or nondeterminism)`;
  }
  const undecided = invariants.filter((verdict) => verdict.undecided > 0);
  if (undecided.length > 0) {
    return `all ${invariants.length} invariants held on ${seeds} seeds; ${undecided.map((v) => v.name).join(', ')} could not decide on some`;
  }
  return `all ${invariants.length} invariants held on all ${seeds} seeds`;
}
