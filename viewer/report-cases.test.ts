// A report's cases in process, on pingpong's ack-before-fsync (seed 0 fails in a few hundred
// events): the lowest seed of each invariant is shrunk and drawn; a diagram over the inline
// limit is written beside the report and linked; a seed that no longer fails says so.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import { coverageOf, emptyTotals, type FuzzSummary } from '../sim/fuzz/summary.ts';
import { readReplay } from '../sim/replay-file.ts';
import { runPlan, runSeed, scenarioNamed } from '../sim/run.ts';
import { buildCases, CASE_DEFAULTS, firstViolations } from './report-cases.ts';
import { renderReport } from './report-html.ts';
import { reportModel } from './report-model.ts';

const scenario = scenarioNamed('pingpong');

function failing(variant: string | null, seeds: number[], invariant: string): FuzzSummary {
  return {
    faultline: 'fuzz-summary',
    formatVersion: 2,
    scenario: 'pingpong',
    variant,
    from: 0,
    seedsRequested: 10,
    shard: null,
    stopReason: 'done',
    interrupted: false,
    seeds: 10,
    passed: 10 - seeds.length,
    failed: seeds.length,
    findings: seeds.map((seed) => ({
      seed,
      kind: 'violation' as const,
      invariant,
      message: 'm',
      timeUs: 0,
      eventIndex: 0,
      replay: null,
    })),
    replays: [],
    elapsedMs: 1,
    workers: 1,
    seedsPerSec: 0,
    eventsPerSec: 0,
    events: 0,
    virtualTimeUs: 0,
    acceleration: 0,
    determinism: { rate: 0, sampled: 0, mismatches: 0 },
    coverage: coverageOf(scenario, emptyTotals()),
  };
}

describe('report cases', () => {
  it('shrink the lowest failing seed per invariant, and link a diagram too large to inline', () => {
    // Seeds 6 and 9 are the first two that fail (0 and 4 before the seed derivation was hashed).
    const first = runSeed('pingpong', 6, 'ack-before-fsync').result.violation?.invariant ?? '';
    expect(first).not.toBe('');
    const summary = failing('ack-before-fsync', [9, 6], first);
    expect(firstViolations(summary, 6).map((finding) => finding.seed)).toEqual([6]);
    const dir = mkdtempSync(join(tmpdir(), 'faultline-cases-'));
    const reportPath = join(dir, 'report.html');
    const [built] = buildCases(summary, scenario, {
      ...CASE_DEFAULTS,
      shrinkAttemptsMax: 40,
      inlineBytesMax: 1000,
      outDir: join(dir, 'out'),
      reportPath,
    });
    const item = built?.model;
    expect(item?.problem).toBeUndefined();
    expect(item?.reproduce).toBe('npx faultline run pingpong --seed 6 --variant ack-before-fsync');
    // The shrunk replay fails the same invariant with the trace hash the page quotes.
    const replay = readReplay(item?.shrunk?.file ?? '');
    const again = runPlan(replay.plan);
    expect(again.violation?.invariant).toBe(first);
    expect(again.traceHash).toBe(item?.shrunk?.traceHash);
    const faults = item?.shrunk?.rows.find((row) => row.what === 'fault events');
    expect(faults?.after).toBeLessThan(faults?.before ?? 0);
    // Over the inline limit: a file beside the report, and a link to it instead of a frame.
    expect(built?.html).toBeNull();
    expect(item?.diagram?.inline).toBe(false);
    const diagram = join(dir, item?.diagram?.file ?? '');
    expect(existsSync(diagram)).toBe(true);
    expect(readFileSync(diagram, 'utf8')).toContain('id="faultline-data"');
    const html = renderReport(reportModel({ summary, scenario, cases: [item!] }), [built!.html]);
    expect(html).toContain(`<a href="${item?.diagram?.file}">`);
    expect(html).not.toContain('<iframe');
  });

  it('say so when a seed no longer fails the way the summary says', () => {
    const summary = failing(null, [1], 'acked-pings-durable');
    const dir = mkdtempSync(join(tmpdir(), 'faultline-cases-'));
    const [built] = buildCases(summary, scenario, {
      ...CASE_DEFAULTS,
      outDir: join(dir, 'out'),
      reportPath: join(dir, 'r.html'),
    });
    expect(built?.model.problem).toMatch(/seed 1 no longer fails acked-pings-durable on this code/);
    expect(built?.model.shrunk).toBeUndefined();
  });
});
