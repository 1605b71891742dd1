// Fuzz throughput on pingpong: in-process single thread, the worker pool with 1 and 2
// workers, and the time `faultline replay` takes to start printing. Run with
// `npx tsx bench/fuzz.ts` (add `--write` to update bench/results/fuzz.md).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import '../scenarios/index.ts';
import { FuzzCampaign } from '../sim/fuzz/campaign.ts';
import { runSeed, scenarioNamed } from '../sim/run.ts';

const SEEDS = Number(process.env['FUZZ_BENCH_SEEDS'] ?? 5000);
const REPEATS = 3;
const REPLAY_FILE = 'replays/pingpong-ack-before-fsync-seed0-violation.shrunk.msgpack';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Figure {
  seedsPerSec: number;
  elapsedMs: number;
}

/**
 * In a fresh process, like a fresh worker: both pay the JIT warm-up, so the comparison is of
 * dispatch and messaging, not of a warm JIT against a cold one.
 */
function inFreshProcess(from: number): Promise<Figure> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/fuzz.ts', '--in-process', String(from)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(text) as Figure));
  });
}

/** The machine's parallel ceiling right now: a pure CPU loop on 1 thread vs 2 threads. */
async function spinCeiling(): Promise<number> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    let x = 0; const start = Date.now();
    for (let i = 0; i < 3e8; i++) { x = (x * 31 + i) | 0; }
    parentPort.postMessage(Date.now() - start + (x & 0));`;
  const spin = (threads: number) =>
    Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<number>((resolve) => {
            const worker = new Worker(code, { eval: true });
            worker.once('message', (elapsedMs: number) => {
              void worker.terminate();
              resolve(elapsedMs);
            });
          }),
      ),
    );
  const startOne = performance.now();
  await spin(1);
  const oneMs = performance.now() - startOne;
  const startTwo = performance.now();
  await spin(2);
  const twoMs = performance.now() - startTwo;
  return (2 * oneMs) / twoMs;
}

function inProcess(from: number): Figure {
  const startMs = performance.now();
  for (let seed = from; seed < from + SEEDS; seed++) {
    runSeed('pingpong', seed, null);
  }
  const elapsedMs = performance.now() - startMs;
  return { seedsPerSec: (SEEDS / elapsedMs) * 1000, elapsedMs };
}

async function pool(workers: number, from: number, seeds = SEEDS): Promise<Figure> {
  const campaign = new FuzzCampaign({
    scenario: scenarioNamed('pingpong'),
    variant: null,
    from,
    seeds,
    shard: null,
    workers,
    timeMs: Number.POSITIVE_INFINITY,
    outDir: 'faultline-out/bench',
    stopOnFirst: false,
    // Sampling re-runs seeds; off here so every configuration does the same work.
    determinismRate: 0,
    hangTimeoutMs: 90_000,
    modules: [],
  });
  const summary = await campaign.run();
  return { seedsPerSec: (summary.seeds / summary.elapsedMs) * 1000, elapsedMs: summary.elapsedMs };
}

/** Wall time from spawn to the first byte on stdout, and to exit. */
function replayLatency(): Promise<{ firstOutputMs: number; totalMs: number }> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    let firstOutputMs = -1;
    const child = spawn(process.execPath, ['bin/faultline.mjs', 'replay', REPLAY_FILE], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', () => {
      if (firstOutputMs < 0) {
        firstOutputMs = performance.now() - startMs;
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ firstOutputMs, totalMs: performance.now() - startMs }));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const single: number[] = [];
  const one: number[] = [];
  const two: number[] = [];
  const startup: number[] = [];
  const replay: number[] = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    // Different seeds each repeat, the same seeds for every configuration within one.
    const from = repeat * SEEDS;
    single.push((await inFreshProcess(from)).seedsPerSec);
    one.push((await pool(1, from)).seedsPerSec);
    two.push((await pool(2, from)).seedsPerSec);
    startup.push((await pool(1, 1_000_000 + repeat, 1)).elapsedMs);
    replay.push((await replayLatency()).firstOutputMs);
  }
  const ceiling = await spinCeiling();
  const startupMs = median(startup);
  // Steady state: the same runs with one worker start-up taken out (workers start in parallel).
  const steady = (seedsPerSec: number) => SEEDS / (SEEDS / seedsPerSec - startupMs / 1000);
  const figures = {
    seeds: SEEDS,
    inProcessSeedsPerSec: Math.round(median(single)),
    pool1SeedsPerSec: Math.round(median(one)),
    pool2SeedsPerSec: Math.round(median(two)),
    speedup2over1: Math.round((median(two) / median(one)) * 100) / 100,
    poolOverheadPercent: Math.round((1 - median(one) / median(single)) * 1000) / 10,
    pool1SteadySeedsPerSec: Math.round(steady(median(one))),
    pool2SteadySeedsPerSec: Math.round(steady(median(two))),
    steadyOverheadPercent: Math.round((1 - steady(median(one)) / median(single)) * 1000) / 10,
    steadySpeedup2over1: Math.round((steady(median(two)) / steady(median(one))) * 100) / 100,
    workerStartupMs: Math.round(median(startup)),
    replayFirstOutputMs: Math.round(median(replay)),
    spinCeiling2over1: Math.round(ceiling * 100) / 100,
    loadAverage1m: Math.round((loadavg()[0] as number) * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  if (process.argv.includes('--write')) {
    writeFileSync(new URL('results/fuzz.md', import.meta.url), report(figures));
  }
}

function report(figures: Record<string, number>): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `# Fuzz throughput (issue 3)

Command: \`npx tsx bench/fuzz.ts --write\` — pingpong, ${figures['seeds']} seeds per
configuration, correct variant, determinism sampling off; median of ${REPEATS} repeats, each
repeat on fresh seeds. Pool figures include worker start-up (tsx compiles the sources in each
worker).
Machine: ${availableParallelism()} cores (${cpu}), Node ${process.versions.node}; load average at the
end ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}.

| configuration | seeds/s, start-up included | seeds/s, steady state |
| --- | --- | --- |
| in-process, one thread (\`runSeed\` loop, fresh process) | | ${figures['inProcessSeedsPerSec']} |
| pool, 1 worker | ${figures['pool1SeedsPerSec']} | ${figures['pool1SteadySeedsPerSec']} |
| pool, 2 workers | ${figures['pool2SeedsPerSec']} | ${figures['pool2SteadySeedsPerSec']} |

- 2 workers vs 1: **${figures['speedup2over1']}×** with start-up, **${figures['steadySpeedup2over1']}×**
  steady state (target ≥ 1.8×).
- Pool overhead, 1 worker vs in-process: **${figures['poolOverheadPercent']} %** with start-up,
  **${figures['steadyOverheadPercent']} %** steady state (target ≤ 5 %). A worker takes
  ${figures['workerStartupMs']} ms from spawn to its first seed done (tsx loading the sources);
  steady state subtracts that once.
- Parallel ceiling of the machine during the run: a pure CPU loop on 2 threads did
  **${figures['spinCeiling2over1']}×** the work of 1 thread (load average ${figures['loadAverage1m']}: other
  sessions share these 2 cores). The 2-worker speed-up cannot exceed this ceiling.
- \`faultline replay\` of a recorded failure prints its first line after
  **${figures['replayFirstOutputMs']} ms** (target < 1 s), process start-up and tsx included.
`;
}

if (process.argv[2] === '--in-process') {
  process.stdout.write(JSON.stringify(inProcess(Number(process.argv[3]))));
} else {
  await main();
}
