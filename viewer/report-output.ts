// Writing a campaign report: the summary, the scenario as this code knows it, the shrunk cases
// with their diagrams, one HTML file. Shared by `faultline report` and `fuzz --report`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { codeVersion } from '../sim/fuzz/provenance.ts';
import type { FuzzSummary } from '../sim/fuzz/summary.ts';
import { findScenario } from '../sim/scenario.ts';
import { type BuiltCase, buildCases, CASE_DEFAULTS, type CaseOptions } from './report-cases.ts';
import { renderReport } from './report-html.ts';
import { type ReportModel, reportModel } from './report-model.ts';

export type ReportOptions = Partial<Omit<CaseOptions, 'reportPath'>> & { outDir: string };

export interface WrittenReport {
  path: string;
  model: ReportModel;
  bytes: number;
}

/** Builds the report of a summary and writes it to `path` (creating its directory). */
export function writeReport(
  summary: FuzzSummary,
  path: string,
  options: ReportOptions,
): WrittenReport {
  const absolute = resolve(path);
  const scenario = findScenario(summary.scenario);
  let cases: BuiltCase[] = [];
  if (scenario !== undefined) {
    cases = buildCases(summary, scenario, { ...CASE_DEFAULTS, ...options, reportPath: absolute });
  }
  const model = reportModel({
    summary,
    ...(scenario === undefined ? {} : { scenario }),
    cases: cases.map((item) => item.model),
    casesCommit: codeVersion().commit,
  });
  if (scenario === undefined) {
    model.absent.push(
      `the scenario ${summary.scenario} (not known to this faultline: no shrunk cases)`,
    );
  }
  const html = renderReport(
    model,
    cases.map((item) => item.html),
  );
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, html);
  return { path: absolute, model, bytes: Buffer.byteLength(html) };
}
