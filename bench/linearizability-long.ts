// Long register histories, faultline against Porcupine in the same run (issue 19).
//
//   bench/porcupine/build.sh <porcupine git dir>       # once: builds the Go harness offline
//   nice -n 10 npx tsx bench/linearizability-long.ts [--write] [--timeout-ms 20000]
//
// Histories come from bench/long-history.ts (Jepsen-style: 10 or 20 processes, 0.5 % crashed
// operations, failed CASes left out; a failing one has one stale read 90 % of the way in).
// Each is written as Jepsen EDN for faultline and as JSON for the Go harness. Both checkers
// get the same operations with the history already parsed, one check each after a warm-up,
// with the same timeout; a timeout is `unknown`, never a verdict. faultline checks under
// Jepsen semantics with the register starting at 0, Porcupine with the same model in Go.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { checkOperations, modelFor, readHistory } from '../invariants/linearizability/index.ts';
import { generateLongHistory, toEdn } from './long-history.ts';

const HARNESS = fileURLToPath(new URL('porcupine/porcupine-bench', import.meta.url));
const RESULTS = new URL('results/linearizability-long.md', import.meta.url);
const SIZES = [1_000, 5_000, 20_000];
const CLIENTS = [10, 20];

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

interface Row {
  name: string;
  operations: number;
  clients: number;
  failing: boolean;
  ours: { verdict: string; ms: number; steps: number };
  porcupine: { verdict: string; ms: number } | undefined;
}

function checkOurs(file: string, timeoutMs: number) {
  const { operations, semantics } = readHistory(readFileSync(file, 'utf8'));
  const model = modelFor('register', { semantics, initial: 0 });
  const started = performance.now();
  const result = checkOperations(model, operations, {
    timeoutMs,
    nowMs: () => performance.now(),
  });
  return { verdict: result.verdict, ms: performance.now() - started, steps: result.steps };
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function main(): void {
  const timeoutMs = option('--timeout-ms', 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'faultline-long-'));
  const cases: { name: string; operations: number; clients: number; failing: boolean }[] = [];
  for (const clients of CLIENTS) {
    for (const operations of SIZES) {
      for (const failing of [false, true]) {
        cases.push({
          name: `r${operations}-c${clients}-${failing ? 'bad' : 'ok'}`,
          operations,
          clients,
          failing,
        });
      }
    }
  }
  for (const c of cases) {
    const history = generateLongHistory(c.operations, c.clients, 1, c.failing);
    writeFileSync(join(dir, `${c.name}.edn`), toEdn(history));
    writeFileSync(
      join(dir, `${c.name}.json`),
      JSON.stringify(history.map((op) => ({ ...op, ret: op.unknown ? 0 : op.ret }))),
    );
  }
  // Warm the JIT on the small linearizable histories first, as Go needs no warm-up.
  for (let i = 0; i < 3; i++) {
    checkOurs(join(dir, 'r1000-c10-ok.edn'), timeoutMs);
    checkOurs(join(dir, 'r1000-c20-ok.edn'), timeoutMs);
  }
  const porcupine = new Map<string, { verdict: string; ms: number }>();
  const rows: Row[] = [];
  for (const c of cases) {
    const ours = checkOurs(join(dir, `${c.name}.edn`), timeoutMs);
    process.stderr.write(`${c.name}: faultline ${ours.verdict} ${fmt(ours.ms)} ms\n`);
    if (existsSync(HARNESS)) {
      const run = spawnSync(HARNESS, [String(timeoutMs), join(dir, `${c.name}.json`)], {
        encoding: 'utf8',
      });
      for (const line of run.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')) {
        const parsed = JSON.parse(line) as { file: string; verdict: string; ms: number };
        porcupine.set(c.name, { verdict: parsed.verdict, ms: parsed.ms });
        process.stderr.write(`${c.name}: Porcupine ${parsed.verdict} ${fmt(parsed.ms)} ms\n`);
      }
    }
    const entries = readHistory(readFileSync(join(dir, `${c.name}.edn`), 'utf8')).operations.length;
    rows.push({ ...c, operations: entries, ours, porcupine: porcupine.get(c.name) });
  }
  const lines = [
    `| history | processes | operations | expected | faultline | faultline ms | Porcupine | Porcupine ms | Porcupine ÷ faultline |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const theirs = r.porcupine;
      const ratio =
        theirs !== undefined && r.ours.verdict !== 'unknown' && theirs.verdict !== 'unknown'
          ? `${(theirs.ms / r.ours.ms).toFixed(2)}×`
          : '–';
      return (
        `| ${r.name} | ${r.clients} | ${r.operations} | ${r.failing ? 'not linearizable' : 'linearizable'} | ` +
        `${r.ours.verdict} | ${fmt(r.ours.ms)} | ${theirs?.verdict ?? 'not run'} | ` +
        `${theirs === undefined ? '–' : fmt(theirs.ms)} | ${ratio} |`
      );
    }),
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (!existsSync(HARNESS)) {
    process.stdout.write(
      `\nPorcupine not run: build ${HARNESS} with bench/porcupine/build.sh first.\n`,
    );
  }
  if (process.argv.includes('--write')) {
    const header = [
      '# Long register histories: faultline vs Porcupine, same run',
      '',
      'Command: `nice -n 10 npx tsx bench/linearizability-long.ts --write` (Porcupine: Go harness in',
      '`bench/porcupine`, built offline from anishathalye/porcupine 55508eb with Debian go1.19.8).',
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}.`,
      `Timeout per check: ${timeoutMs} ms (then \`unknown\`). One check per history after a warm-up.`,
      `Load average when the run ended: ${loadavg()[0]!.toFixed(2)} (the machine is shared; both`,
      'checkers ran in the same minutes, alternating, so they saw the same load).',
      '',
    ].join('\n');
    writeFileSync(RESULTS, `${header}\n${table}\n`);
  }
}

main();
