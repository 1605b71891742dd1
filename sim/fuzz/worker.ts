// A fuzz worker: runs seed ranges handed out by the pool and reports counts and findings. It
// publishes the seed it is running in shared memory, so the pool can tell which seed hung
// when a handler never returns (the pool then terminates this thread).
import { parentPort, workerData } from 'node:worker_threads';

import { assert } from '../assert.ts';
import { runSeed, scenarioNamed } from '../run.ts';
import type { RunResult, Violation } from '../types.ts';
import { binIndex, shapeBins } from './histogram.ts';
import {
  CONTROL_COMPLETED,
  CONTROL_OFFSET,
  CONTROL_STOP,
  CONTROL_TASK,
  type FindingMessage,
  type RangeTask,
  type RangeTotals,
  type WorkerData,
  type WorkerMessage,
} from './protocol.ts';
import { sampledForDeterminism } from './seeds.ts';
import { emptyTotals } from './summary.ts';

const data = workerData as WorkerData;
const port = parentPort;
assert(port !== null, 'the fuzz worker runs in a worker thread');
const control = new Int32Array(data.control);

await import('../../scenarios/index.ts');
if (!data.modulesBundled) {
  for (const module of data.modules) {
    await import(module);
  }
}

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

// The shape bins of the task being run (every task of a campaign has the same).
let binsKey = '';
let bins: Record<string, [number, number][]> = {};

function binsOf(task: RangeTask): Record<string, [number, number][]> {
  const key = JSON.stringify([task.scenario, task.pins]);
  if (key !== binsKey) {
    bins = shapeBins(scenarioNamed(task.scenario).shape, task.pins);
    binsKey = key;
  }
  return bins;
}

function addResult(totals: RangeTotals, result: RunResult, task: RangeTask): void {
  for (const [name, edges] of Object.entries(binsOf(task))) {
    const value = result.shape?.[name];
    if (value !== undefined) {
      const seeds = totals.shapeSeeds[name] ?? edges.map(() => 0);
      totals.shapeSeeds[name] = seeds;
      const index = binIndex(edges, value);
      seeds[index] = (seeds[index] ?? 0) + 1;
    }
  }
  totals.events += result.stats.events;
  totals.virtualTimeUs += result.stats.virtualTimeUs;
  totals.runWallMs += result.stats.wallMs;
  for (const [kind, count] of Object.entries(result.faultsFired)) {
    const key = kind as keyof RangeTotals['faultsFired'];
    totals.faultsFired[key] = (totals.faultsFired[key] ?? 0) + count;
    if (count > 0) {
      totals.faultSeeds[kind] = (totals.faultSeeds[kind] ?? 0) + 1;
    }
  }
  for (const [shape, count] of Object.entries(result.partitionShapes ?? {})) {
    totals.partitionShapes[shape] = (totals.partitionShapes[shape] ?? 0) + count;
    totals.partitionShapeSeeds[shape] = (totals.partitionShapeSeeds[shape] ?? 0) + 1;
  }
  for (const name of result.sometimes) {
    totals.sometimes[name] = (totals.sometimes[name] ?? 0) + 1;
  }
  for (const { invariant } of result.undecided) {
    totals.undecided[invariant] = (totals.undecided[invariant] ?? 0) + 1;
  }
}

function finding(
  task: RangeTask,
  offset: number,
  seed: number,
): Omit<FindingMessage, 'kind' | 'violation'> {
  return { type: 'finding', serial: task.serial, offset, seed };
}

function runOne(task: RangeTask, offset: number, totals: RangeTotals): void {
  const seed = task.firstSeed + offset * task.stride;
  let run: ReturnType<typeof runSeed>;
  try {
    run = runSeed(task.scenario, seed, task.variant, {}, task.pins);
  } catch (error) {
    // The kernel itself failed (an assertion outside any node handler): a finding, not a crash.
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const violation: Violation = {
      invariant: 'kernel-error',
      timeUs: 0,
      eventIndex: 0,
      message: text,
    };
    post({ ...finding(task, offset, seed), kind: 'error', violation });
    return;
  }
  const { plan, result } = run;
  addResult(totals, result, task);
  if (result.outcome !== 'pass') {
    const { outcome, traceHash, checkpoints, stats, violation } = result;
    assert(violation !== undefined, 'a run that did not pass names a violation');
    post({
      ...finding(task, offset, seed),
      kind: outcome === 'violation' ? 'violation' : outcome,
      plan,
      result: { outcome, traceHash, checkpoints, stats, violation },
      violation,
    });
    return;
  }
  if (sampledForDeterminism(seed, task.determinismRate)) {
    totals.determinismSampled++;
    checkDeterminism(task, offset, seed, result);
  }
}

/** Runs a passing seed again: a different trace hash means the run is not deterministic. */
function checkDeterminism(task: RangeTask, offset: number, seed: number, first: RunResult): void {
  const again = runSeed(task.scenario, seed, task.variant, {}, task.pins);
  if (again.result.traceHash === first.traceHash) {
    return;
  }
  const { outcome, traceHash, checkpoints, stats } = first;
  post({
    ...finding(task, offset, seed),
    kind: 'nondeterminism',
    plan: again.plan,
    result: { outcome, traceHash, checkpoints, stats },
    violation: {
      invariant: 'determinism',
      timeUs: 0,
      eventIndex: 0,
      message: `seed ${seed} gave trace hash ${first.traceHash} then ${again.result.traceHash}`,
    },
  });
}

function runRange(task: RangeTask): void {
  assert(task.count > 0, 'a range holds at least one seed');
  const totals = emptyTotals();
  Atomics.store(control, CONTROL_TASK, task.serial);
  Atomics.store(control, CONTROL_COMPLETED, 0);
  for (let offset = 0; offset < task.count; offset++) {
    if (Atomics.load(control, CONTROL_STOP) !== 0) {
      break;
    }
    Atomics.store(control, CONTROL_OFFSET, offset);
    runOne(task, offset, totals);
    totals.completed++;
    Atomics.store(control, CONTROL_COMPLETED, totals.completed);
  }
  post({ type: 'done', serial: task.serial, totals });
}

port.on('message', (task: RangeTask) => {
  assert(task.type === 'range', 'workers only run seed ranges');
  runRange(task);
});
post({ type: 'ready' });
