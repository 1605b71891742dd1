// The report's model and page from hand-made summaries: the verdict arithmetic (held on N is
// passed less undecided), findings that are not violations, summaries of format 1 (no
// violation counts: they are read off the findings kept), and the chart's one bar per kind.
import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import type { Finding } from '../sim/fuzz/campaign.ts';
import { coverageOf, emptyTotals, type FuzzSummary } from '../sim/fuzz/summary.ts';
import { scenarioNamed } from '../sim/run.ts';
import { renderReport } from './report-html.ts';
import { embeddedReportModel, reportModel } from './report-model.ts';

function finding(seed: number, invariant: string, kind: Finding['kind'] = 'violation'): Finding {
  return { seed, kind, invariant, message: 'm', timeUs: 5, eventIndex: 1, replay: null };
}

function summary(overrides: Partial<FuzzSummary>, fired: Record<string, number>): FuzzSummary {
  const totals = emptyTotals();
  totals.faultsFired = fired;
  totals.faultSeeds = Object.fromEntries(
    Object.entries(fired).map(([k, n]) => [k, Math.min(n, 3)]),
  );
  totals.undecided = { 'records-intact': 2 };
  return {
    faultline: 'fuzz-summary',
    formatVersion: 2,
    scenario: 'pingpong',
    variant: 'ack-before-fsync',
    from: 10,
    seedsRequested: 20,
    shard: null,
    stopReason: 'done',
    interrupted: false,
    seeds: 20,
    passed: 17,
    failed: 3,
    findings: [
      finding(12, 'acked-pings-durable'),
      finding(15, 'acked-pings-durable'),
      finding(19, 'hang', 'hang'),
    ],
    replays: [],
    elapsedMs: 1000,
    workers: 1,
    seedsPerSec: 20,
    eventsPerSec: 0,
    events: 100,
    virtualTimeUs: 1000,
    acceleration: 1,
    determinism: { rate: 0.01, sampled: 0, mismatches: 0 },
    coverage: coverageOf(scenarioNamed('pingpong'), totals),
    invariants: ['acked-pings-durable', 'records-intact', 'clients-finish'],
    violations: { 'acked-pings-durable': 2, hang: 1 },
    shapeHistogram: {},
    throughput: [
      { elapsedMs: 0, seeds: 0 },
      { elapsedMs: 1000, seeds: 20 },
    ],
    runs: [],
    ...overrides,
  };
}

describe('the report model', () => {
  const scenario = scenarioNamed('pingpong');

  it('counts held as passed less undecided, and keeps hangs out of the invariants', () => {
    const model = reportModel({ summary: summary({}, { crash: 4, partition: 0 }), scenario });
    expect(model.invariants).toEqual([
      { name: 'acked-pings-durable', held: 17, violated: 2, undecided: 0, verdict: 'violated' },
      { name: 'records-intact', held: 15, violated: 0, undecided: 2, verdict: 'undecided' },
      { name: 'clients-finish', held: 17, violated: 0, undecided: 0, verdict: 'held' },
    ]);
    expect(model.otherFindings).toEqual([{ kind: 'hang: hang', seeds: 1 }]);
    expect(model.verdict).toBe('violated');
    expect(model.firstFailure).toEqual({
      seed: 12,
      invariant: 'acked-pings-durable',
      seedsToIt: 3,
    });
    expect(model.findings[0]?.reproduce).toBe(
      'npx faultline run pingpong --seed 12 --variant ack-before-fsync',
    );
    expect(model.variant?.bug).toBe(scenario.variants['ack-before-fsync']);
    expect(model.absent).toEqual([]);
  });

  it('reads a format-1 summary: violations from the findings kept, invariants from the plan', () => {
    const old = summary(
      { formatVersion: 1, findings: [finding(11, 'records-intact')] },
      { crash: 1 },
    );
    for (const field of [
      'invariants',
      'violations',
      'shapeHistogram',
      'throughput',
      'runs',
    ] as const) {
      delete old[field];
    }
    delete old.coverage.faultSeeds;
    const model = reportModel({ summary: old, scenario });
    expect(model.invariants.map((v) => v.name)).toEqual([
      'acked-pings-durable',
      'records-intact',
      'clients-finish',
    ]);
    expect(model.invariants.find((v) => v.name === 'records-intact')?.violated).toBe(1);
    expect(model.faults.find((bar) => bar.kind === 'crash')?.seeds).toBeNull();
    expect(model.absent).toContain('seeds per fault kind');
    expect(model.execution.throughput).toBeNull();
  });

  it('says a correct campaign held, or that findings could not be judged', () => {
    const clean = summary(
      {
        variant: null,
        failed: 0,
        passed: 20,
        findings: [],
        violations: {},
        coverage: coverageOf(scenario, emptyTotals()),
      },
      {},
    );
    const model = reportModel({ summary: clean, scenario });
    expect(model.verdict).toBe('held');
    expect(model.headline).toBe('all 3 invariants held on all 20 seeds');
    const hung = summary(
      { failed: 1, passed: 19, findings: [finding(3, 'hang', 'hang')], violations: { hang: 1 } },
      {},
    );
    hung.coverage.undecided = {};
    expect(reportModel({ summary: hung, scenario }).verdict).toBe('other-findings');
  });

  it('draws one bar per fault kind that fired and embeds the model it drew', () => {
    const model = reportModel({
      summary: summary({}, { crash: 4, pause: 2, partition: 0, drop: 9 }),
      scenario,
    });
    const html = renderReport(model);
    const chart = /<svg data-chart="faults".*?<\/svg>/s.exec(html)?.[0] ?? '';
    expect(chart.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(chart).toContain('never fired');
    expect(embeddedReportModel(html)).toEqual(JSON.parse(JSON.stringify(model)));
    expect(html).not.toMatch(/<script src|<link |https?:\/\/(?!www\.w3\.org)/);
  });
});
