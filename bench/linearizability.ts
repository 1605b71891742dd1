// Linearizability checker benchmark on the Porcupine histories, against Porcupine's own times
// (README beside the data: Go 1.19, 2-core AMD EPYC VM, one CheckEvents call per history with
// the history already parsed). Same method here: parse once, warm up, then time repeated
// checks of each file and report the mean per check.
//
//   npx tsx bench/linearizability.ts            # print the table
//   npx tsx bench/linearizability.ts --write    # also write bench/results/linearizability.md
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

import {
  checkOperations,
  type HistoryModel,
  type HistoryOperation,
  kvModel,
  parseHistory,
  registerModel,
} from '../invariants/linearizability/index.ts';

const DATA = new URL('../../shared/histories/porcupine/', import.meta.url);
const RESULTS = new URL('results/linearizability.md', import.meta.url);
/** Each file is checked until this much time has passed (and at least MIN_RUNS times). */
const TARGET_MS = 200;
const MIN_RUNS = 3;
const MAX_RUNS = 100_000;

interface Row {
  file: string;
  expected: boolean;
  porcupineMs: number;
}

interface Measured extends Row {
  ms: number;
  runs: number;
  steps: number;
  verdict: string;
}

function readTable(): Row[] {
  const readme = readFileSync(new URL('README.md', DATA), 'utf8');
  const rows = [
    ...readme.matchAll(/^\| ((?:jepsen|kv)\/\S+) \| (true|false) \|.*\| ([\d.]+) \|$/gm),
  ];
  return rows.map((m) => ({ file: m[1]!, expected: m[2] === 'true', porcupineMs: Number(m[3]) }));
}

function measure(row: Row, model: HistoryModel, operations: HistoryOperation[]): Measured {
  const first = checkOperations(model, operations);
  const expected = row.expected ? 'linearizable' : 'not-linearizable';
  if (first.verdict !== expected) {
    throw new Error(`${row.file}: expected ${expected}, got ${first.verdict}`);
  }
  let runs = 0;
  const started = performance.now();
  while (runs < MAX_RUNS && (runs < MIN_RUNS || performance.now() - started < TARGET_MS)) {
    checkOperations(model, operations);
    runs++;
  }
  const ms = (performance.now() - started) / runs;
  return { ...row, ms, runs, steps: first.steps, verdict: first.verdict };
}

function fmt(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function summary(label: string, rows: Measured[]): string {
  const ours = rows.reduce((sum, r) => sum + r.ms, 0);
  const theirs = rows.reduce((sum, r) => sum + r.porcupineMs, 0);
  const sorted = rows.map((r) => r.ms).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const worse = rows.filter((r) => r.ms > r.porcupineMs).length;
  return (
    `| ${label} | ${rows.length} | ${fmt(ours)} | ${fmt(theirs)} | ${(theirs / ours).toFixed(2)}× | ` +
    `${fmt(median)} | ${worse} |`
  );
}

function main(): void {
  const rows = readTable();
  const measured: Measured[] = [];
  // Warm the JIT on a mix of both sets so the first files measured are not penalised.
  for (const row of rows.slice(0, 20).concat(rows.slice(-6))) {
    const model: HistoryModel = row.file.startsWith('kv/') ? kvModel : registerModel;
    checkOperations(model, parseHistory(readFileSync(new URL(row.file, DATA), 'utf8')));
  }
  for (const row of rows) {
    const model: HistoryModel = row.file.startsWith('kv/') ? kvModel : registerModel;
    const operations = parseHistory(readFileSync(new URL(row.file, DATA), 'utf8'));
    measured.push(measure(row, model, operations));
  }
  const etcd = measured.filter((r) => r.file.startsWith('jepsen/'));
  const kv = measured.filter((r) => r.file.startsWith('kv/'));
  const lines = [
    '| set | files | faultline total ms | Porcupine total ms | speed-up | faultline median ms | files slower than Porcupine |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    summary('etcd (register, unpartitioned)', etcd),
    summary('kv (partitioned by key)', kv),
    '',
    '| file | verdict | steps | faultline ms/check | Porcupine ms/check | runs |',
    '| --- | --- | --- | --- | --- | --- |',
    ...measured.map(
      (r) =>
        `| ${r.file} | ${r.verdict} | ${r.steps} | ${fmt(r.ms)} | ${fmt(r.porcupineMs)} | ${r.runs} |`,
    ),
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (process.argv.includes('--write')) {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const header = [
      '# Linearizability checker vs Porcupine',
      '',
      'Command: `npx tsx bench/linearizability.ts --write`',
      '',
      `Machine: ${cpus().length} cores (${cpu}), Node ${process.version}. Porcupine figures are from`,
      '`../shared/histories/porcupine/README.md` (Go 1.19.8, same 2-core VM kind; kv parts checked in',
      'parallel goroutines there, one thread here). Each figure is the mean of repeated checks of one',
      `file with the history already parsed, after a warm-up (at least ${MIN_RUNS} runs and ${TARGET_MS} ms per file).`,
      `Load average when the run ended: ${loadavg()[0]!.toFixed(2)} (other work shares the machine;`,
      'figures above about 1 are slowed by it).',
      '',
    ].join('\n');
    writeFileSync(RESULTS, `${header}\n${table}\n`);
  }
}

main();
