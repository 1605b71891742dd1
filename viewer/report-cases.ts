// The cases a report shows: for each violated invariant, its lowest failing seed, rerun on
// this code, shrunk, written as a replay file and drawn as a space-time diagram. Shrinking is
// bounded by attempts first (so the same summary on the same code gives the same case on
// any machine) and by wall time as a safety net (the page says when that cut it short).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import type { Finding } from '../sim/fuzz/campaign.ts';
import type { FuzzSummary } from '../sim/fuzz/summary.ts';
import { planFor } from '../sim/plan.ts';
import {
  REPLAY_EXTENSION,
  readReplay,
  replayFileName,
  replayFromRun,
  writeReplay,
} from '../sim/replay-file.ts';
import { runPlan } from '../sim/run.ts';
import type { Scenario } from '../sim/scenario.ts';
import { scenarioShrinkHooks, shrinkPlan } from '../sim/shrink.ts';
import { Topology } from '../sim/topology.ts';
import { TraceRecorder } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { renderHtml } from './render-html.ts';
import { reproduceCommand, type ViolationCase } from './report-model.ts';

export interface CaseOptions {
  /** Where shrunk replay files go. */
  outDir: string;
  /** The report's own path: a large diagram is written beside it. */
  reportPath: string;
  /** Candidate runs per shrink (the deterministic bound). */
  shrinkAttemptsMax: number;
  /** Wall time per shrink (the safety net). */
  shrinkTimeMs: number;
  /** Diagrams larger than this are linked, not inlined. */
  inlineBytesMax: number;
  /** Violated invariants shown as cases (one seed each). */
  casesMax: number;
  onProgress?: (line: string) => void;
}

export const CASE_DEFAULTS = {
  shrinkAttemptsMax: 1000,
  shrinkTimeMs: 60_000,
  inlineBytesMax: 4_000_000,
  casesMax: 6,
} as const;

export interface BuiltCase {
  model: ViolationCase;
  /** The diagram's page when it is inlined. */
  html: string | null;
}

/** The lowest-seed violation of each invariant, in order of those seeds. */
export function firstViolations(summary: FuzzSummary, max: number): Finding[] {
  const seen = new Set<string>();
  const firsts: Finding[] = [];
  const sorted = [...summary.findings].sort((a, b) => a.seed - b.seed);
  for (const finding of sorted) {
    if (finding.kind === 'violation' && !seen.has(finding.invariant) && firsts.length < max) {
      seen.add(finding.invariant);
      firsts.push(finding);
    }
  }
  return firsts;
}

export function buildCases(
  summary: FuzzSummary,
  scenario: Scenario,
  options: CaseOptions,
): BuiltCase[] {
  return firstViolations(summary, options.casesMax).map((finding) =>
    buildCase(summary, scenario, finding, options),
  );
}

function buildCase(
  summary: FuzzSummary,
  scenario: Scenario,
  finding: Finding,
  options: CaseOptions,
): BuiltCase {
  const { invariant, seed } = finding;
  const replay = finding.replay !== null && existsSync(finding.replay) ? finding.replay : null;
  const model: ViolationCase = {
    invariant,
    seed,
    message: finding.message,
    reproduce: reproduceCommand(summary, seed),
    replay,
  };
  const plan = planOf(summary, scenario, finding, replay);
  if (typeof plan === 'string') {
    return { model: { ...model, problem: plan }, html: null };
  }
  const before = runPlan(plan);
  if (before.violation?.invariant !== invariant) {
    const now = before.violation ? `fails ${before.violation.invariant}` : 'passes';
    model.problem = `seed ${seed} no longer fails ${invariant} on this code (it ${now}): was the campaign run on other code?`;
    return { model, html: null };
  }
  options.onProgress?.(`shrinking seed ${seed} (${invariant})…`);
  let last: { plan: Plan; result: RunResult } = { plan, result: before };
  const shrunk = shrinkPlan(
    plan,
    (candidate) => {
      const result = runPlan(candidate);
      const fails = result.violation?.invariant === invariant;
      if (fails) {
        last = { plan: candidate, result };
      }
      return fails;
    },
    { timeMs: options.shrinkTimeMs, attemptsMax: options.shrinkAttemptsMax },
    scenarioShrinkHooks(scenario),
  );
  const after = last.plan === shrunk.plan ? last.result : runPlan(shrunk.plan);
  mkdirSync(options.outDir, { recursive: true });
  const name = basename(
    replayFileName({
      scenario: summary.scenario,
      variant: summary.variant,
      seed,
      finding: 'violation',
    }),
    REPLAY_EXTENSION,
  );
  const file = join(options.outDir, `${name}.shrunk${REPLAY_EXTENSION}`);
  writeReplay(
    file,
    replayFromRun({ scenario, plan: shrunk.plan, result: after, finding: 'violation' }),
  );
  const trace = new TraceRecorder();
  const drawn = runPlan(shrunk.plan, { trace });
  const violation = drawn.violation ?? after.violation;
  model.shrunk = {
    file,
    replayCommand: `npx faultline replay ${file} --html ${name}.html`,
    traceHash: drawn.traceHash,
    attempts: shrunk.attempts,
    accepted: shrunk.accepted,
    exhausted: shrunk.exhausted,
    violationAtUs: violation?.timeUs ?? 0,
    violationMessage: violation?.message ?? '',
    rows: sizeRows(plan, before, shrunk.plan, drawn),
  };
  const html = renderHtml({
    records: trace.records,
    plan: shrunk.plan,
    result: drawn,
    truncated: trace.truncated,
    openAtViolation: true,
    title: `${summary.scenario} seed ${seed}, shrunk · ${invariant}`,
  });
  const bytes = Buffer.byteLength(html);
  if (bytes <= options.inlineBytesMax) {
    model.diagram = { inline: true, file: null, bytes, events: drawn.stats.events };
    return { model, html };
  }
  const report = options.reportPath.replace(/\.html?$/i, '');
  const diagramPath = `${report}-${invariant}-seed${seed}.html`;
  mkdirSync(dirname(diagramPath), { recursive: true });
  writeFileSync(diagramPath, html);
  model.diagram = { inline: false, file: basename(diagramPath), bytes, events: drawn.stats.events };
  return { model, html: null };
}

/** The plan as the campaign ran it: its replay file when here, else drawn from the seed. */
function planOf(
  summary: FuzzSummary,
  scenario: Scenario,
  finding: Finding,
  replay: string | null,
): Plan | string {
  if (replay !== null) {
    try {
      const file = readReplay(replay);
      if (file.scenario === summary.scenario && file.seed === finding.seed) {
        return file.plan;
      }
    } catch {
      // A damaged or foreign file: the seed draws the same plan on the same code.
    }
  }
  try {
    return planFor(scenario, finding.seed, summary.variant, summary.pins ?? {});
  } catch (error) {
    return `seed ${finding.seed} has no plan on this code: ${(error as Error).message}`;
  }
}

function sizeRows(
  plan: Plan,
  before: RunResult,
  shrunk: Plan,
  after: RunResult,
): NonNullable<ViolationCase['shrunk']>['rows'] {
  const servers = (p: Plan) => Topology.of(p).servers.length;
  const clients = (p: Plan) => Topology.of(p).clients.length;
  return [
    { what: 'fault events', before: plan.faults.length, after: shrunk.faults.length },
    { what: 'script steps', before: plan.script.length, after: shrunk.script.length },
    { what: 'servers', before: servers(plan), after: servers(shrunk) },
    { what: 'clients', before: clients(plan), after: clients(shrunk) },
    { what: 'fault phase', before: plan.durationUs, after: shrunk.durationUs, unit: 'us' },
    { what: 'operations', before: before.stats.operations, after: after.stats.operations },
    { what: 'events', before: before.stats.events, after: after.stats.events },
    {
      what: 'virtual time',
      before: before.stats.virtualTimeUs,
      after: after.stats.virtualTimeUs,
      unit: 'us',
    },
  ];
}
