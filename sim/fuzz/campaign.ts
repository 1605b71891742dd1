// A fuzz campaign: a small pool of worker threads running seed *ranges* (per-seed dispatch
// costs more than a seed), sized so a task takes a fraction of a second. A watchdog reads each
// worker's shared progress words: a seed that makes no progress for `hangTimeoutMs` is a
// `hang` finding, its worker is terminated and replaced, and the range continues after it.
// A worker that dies is replaced the same way (a `crash` finding). Findings are written as
// replay files the moment they arrive, so an interrupted campaign has lost nothing.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { assert } from '../assert.ts';
import { planFor } from '../plan.ts';
import { type FindingKind, replayFileName, replayFromRun, writeReplay } from '../replay-file.ts';
import type { Scenario } from '../scenario.ts';
import { planShape, type ShapePins } from '../shape.ts';
import type { Violation } from '../types.ts';
import {
  addSample,
  binIndex,
  histogramOf,
  type ShapeHistogram,
  shapeBins,
  type ThroughputSample,
} from './histogram.ts';
import {
  CONTROL_COMPLETED,
  CONTROL_OFFSET,
  CONTROL_STOP,
  CONTROL_TASK,
  CONTROL_WORDS,
  type FindingMessage,
  type RangeTask,
  type RangeTotals,
  type WorkerData,
  type WorkerMessage,
} from './protocol.ts';
import { runInfo } from './provenance.ts';
import { type Shard, shardSeed, shardSeedCount } from './seeds.ts';
import {
  type Coverage,
  coverageOf,
  emptyTotals,
  type FuzzSummary,
  mergeTotals,
  SUMMARY_FORMAT,
} from './summary.ts';
import { TSX_WORKER_ENTRY, type WorkerEntry } from './worker-bundle.ts';

const WATCHDOG_EVERY_MS = 100;
const RESPAWNS_MAX = 1000;
const TASK_SEEDS_MAX = 100_000;
const FINDINGS_KEPT_MAX = 10_000;
/** After a stop, running seeds get this long to finish before their workers are terminated. */
const STOP_GRACE_MS = 2000;
/** Throughput is sampled this often at first; the period doubles as samples are thinned. */
const THROUGHPUT_EVERY_MS = 250;

export interface CampaignConfig {
  scenario: Scenario;
  variant: string | null;
  /** Shape parameters pinned with `--set`, checked against the scenario (absent: none). */
  pins?: ShapePins;
  from: number;
  /** Seeds in the whole campaign (all shards); Infinity with a time limit. */
  seeds: number;
  shard: Shard | null;
  workers: number;
  timeMs: number;
  outDir: string;
  stopOnFirst: boolean;
  determinismRate: number;
  hangTimeoutMs: number;
  /** Extra scenario modules the workers import (test fixtures). */
  modules: string[];
  /** What the workers run (see worker-bundle.ts); the tsx entry when absent. */
  workerEntry?: WorkerEntry;
  /** Aimed-for wall time of one task. */
  targetTaskMs?: number;
  onFinding?: (finding: Finding) => void;
}

export interface Finding {
  seed: number;
  kind: FindingKind;
  invariant: string;
  message: string;
  timeUs: number;
  eventIndex: number;
  /** The replay file, or null when none could be written (no plan). */
  replay: string | null;
  /** The seed's drawn shape (scenarios that draw one; absent in format-1 summaries). */
  shape?: Record<string, number>;
}

export interface Progress {
  seedsDone: number;
  /** Seeds this shard owns; Infinity when the campaign is bounded by time. */
  seedsTotal: number;
  failed: number;
  events: number;
  virtualTimeUs: number;
  elapsedMs: number;
  deadlineMs: number;
}

interface Task {
  serial: number;
  /** Position of offset 0 in the shard's seed sequence. */
  startK: number;
  count: number;
  startedMs: number;
}

interface Slot {
  worker: Worker;
  control: Int32Array;
  ready: boolean;
  task: Task | null;
  /** Progress words last seen by the watchdog, and when they last moved. */
  seenCompleted: number;
  seenOffset: number;
  progressAtMs: number;
  retired: boolean;
}

export type StopReason = 'done' | 'time' | 'interrupted' | 'first-finding';

export class FuzzCampaign {
  private readonly slots: Slot[] = [];
  private readonly pending: { startK: number; count: number }[] = [];
  private readonly findings: Finding[] = [];
  private readonly failedSeeds = new Set<number>();
  private readonly totals: RangeTotals = emptyTotals();
  private readonly shardTotal: number;
  private nextK = 0;
  private serial = 0;
  private respawns = 0;
  private msPerSeed = Number.NaN;
  private seedsDone = 0;
  private startMs = 0;
  private startedAt = new Date(0);
  private readonly violations: Record<string, number> = {};
  private readonly throughput: ThroughputSample[] = [];
  private throughputEveryMs = THROUGHPUT_EVERY_MS;
  /** Failed seeds per shape bin (of runs that reached an outcome). */
  private readonly shapeFailed: Record<string, number[]> = {};
  private readonly bins: Record<string, [number, number][]>;
  private stopReason: StopReason | null = null;
  /** The seed of the finding that arrived first (findings are reported sorted by seed). */
  private firstFound: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private resolve: ((summary: FuzzSummary) => void) | undefined;
  private reject: ((error: Error) => void) | undefined;
  private finished = false;

  constructor(private readonly config: CampaignConfig) {
    assert(config.workers >= 1, 'a campaign has at least one worker');
    assert(config.hangTimeoutMs > 0, 'the hang timeout is positive');
    this.shardTotal = shardSeedCount(config.seeds, config.shard);
    this.bins = shapeBins(config.scenario.shape, config.pins ?? {});
  }

  static defaultWorkers(): number {
    return availableParallelism();
  }

  run(): Promise<FuzzSummary> {
    assert(this.resolve === undefined, 'a campaign runs once');
    this.startMs = performance.now();
    this.startedAt = new Date();
    this.throughput.push({ elapsedMs: 0, seeds: 0 });
    return new Promise<FuzzSummary>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.shardTotal === 0) {
        this.finish('done');
        return;
      }
      const workers = Math.min(this.config.workers, this.shardTotal);
      for (let index = 0; index < workers; index++) {
        this.slots.push(this.spawn());
      }
      this.watchdog = setInterval(() => this.watch(), WATCHDOG_EVERY_MS);
      if (Number.isFinite(this.config.timeMs)) {
        this.deadline = setTimeout(() => this.stop('time'), this.config.timeMs);
      }
    });
  }

  /** Stops handing out work; running seeds finish (within a grace period) and count. */
  stop(reason: StopReason): void {
    if (this.finished) {
      return;
    }
    if (this.stopReason !== null) {
      // A second stop (a second Ctrl-C) does not wait for running seeds.
      this.terminateAll();
      this.finish(this.stopReason);
      return;
    }
    this.stopReason = reason;
    for (const slot of this.slots) {
      Atomics.store(slot.control, CONTROL_STOP, 1);
    }
    this.graceTimer = setTimeout(() => {
      this.terminateAll();
      this.finish(reason);
    }, STOP_GRACE_MS);
    this.maybeFinish();
  }

  progress(): Progress {
    let inFlight = 0;
    for (const slot of this.slots) {
      if (slot.task !== null && Atomics.load(slot.control, CONTROL_TASK) === slot.task.serial) {
        inFlight += Atomics.load(slot.control, CONTROL_COMPLETED);
      }
    }
    return {
      seedsDone: this.seedsDone + inFlight,
      seedsTotal: this.shardTotal,
      failed: this.failedSeeds.size,
      events: this.totals.events,
      virtualTimeUs: this.totals.virtualTimeUs,
      elapsedMs: performance.now() - this.startMs,
      deadlineMs: this.config.timeMs,
    };
  }

  // --- workers ----------------------------------------------------------------------------

  private spawn(): Slot {
    const buffer = new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const entry = this.config.workerEntry ?? TSX_WORKER_ENTRY;
    const data: WorkerData = {
      modules: this.config.modules,
      modulesBundled: entry.modulesBundled,
      control: buffer,
    };
    const worker = new Worker(entry.url, { workerData: data });
    const slot: Slot = {
      worker,
      control: new Int32Array(buffer),
      ready: false,
      task: null,
      seenCompleted: 0,
      seenOffset: -1,
      progressAtMs: 0,
      retired: false,
    };
    if (this.stopReason !== null) {
      Atomics.store(slot.control, CONTROL_STOP, 1);
    }
    worker.on('message', (message: WorkerMessage) => this.onMessage(slot, message));
    worker.on('error', (error) => this.onWorkerGone(slot, error));
    worker.on('exit', (code) => this.onWorkerGone(slot, new Error(`worker exited with ${code}`)));
    return slot;
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    if (slot.retired) {
      return;
    }
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        this.dispatch(slot);
        return;
      case 'finding':
        this.onFinding(message);
        return;
      case 'done':
        this.onDone(slot, message.serial, message.totals);
        return;
    }
  }

  private onDone(slot: Slot, serial: number, totals: RangeTotals): void {
    const task = slot.task;
    assert(task !== null && task.serial === serial, 'a worker finishes the task it was given');
    mergeTotals(this.totals, totals);
    this.seedsDone += totals.completed;
    if (totals.completed > 0) {
      const taskMsPerSeed = (performance.now() - task.startedMs) / totals.completed;
      this.msPerSeed = Number.isNaN(this.msPerSeed)
        ? taskMsPerSeed
        : 0.7 * this.msPerSeed + 0.3 * taskMsPerSeed;
    }
    if (totals.completed < task.count && this.stopReason === null) {
      // Only a stop cuts a range short.
      this.pending.push({
        startK: task.startK + totals.completed,
        count: task.count - totals.completed,
      });
    }
    slot.task = null;
    this.dispatch(slot);
  }

  /** A worker died or errored: if it was running a seed, that seed is a `crash` finding. */
  private onWorkerGone(slot: Slot, error: Error): void {
    if (slot.retired) {
      return;
    }
    slot.retired = true;
    if (!slot.ready) {
      this.fail(new Error(`a fuzz worker failed to start: ${error.message}`));
      return;
    }
    const task = slot.task;
    if (task !== null) {
      const offset = Atomics.load(slot.control, CONTROL_COMPLETED);
      this.abandon(
        task,
        offset,
        'crash',
        `the worker died while running this seed: ${error.message}`,
      );
    }
    this.replace(slot);
  }

  /** Ends a task at `offset`, blaming that seed; the rest of the range goes back in the queue. */
  private abandon(task: Task, offset: number, kind: FindingKind, message: string): void {
    this.seedsDone += offset; // the seeds before it finished (their stats are lost with the worker)
    if (offset >= task.count) {
      return;
    }
    this.seedsDone++;
    const seed = shardSeed(this.config.from, this.config.shard, task.startK + offset);
    const violation: Violation = { invariant: kind, timeUs: 0, eventIndex: 0, message };
    this.onFinding({ type: 'finding', serial: task.serial, offset, seed, kind, violation });
    if (offset + 1 < task.count && this.stopReason === null) {
      this.pending.unshift({ startK: task.startK + offset + 1, count: task.count - offset - 1 });
    }
  }

  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    assert(index >= 0, 'a replaced worker belongs to the pool');
    slot.task = null;
    void slot.worker.terminate();
    if (this.stopReason !== null) {
      this.slots.splice(index, 1);
      this.maybeFinish();
      return;
    }
    this.respawns++;
    if (this.respawns > RESPAWNS_MAX) {
      this.fail(new Error(`fuzz workers died ${RESPAWNS_MAX} times; giving up`));
      return;
    }
    this.slots[index] = this.spawn();
  }

  private watch(): void {
    const nowMs = performance.now();
    this.sampleThroughput(nowMs);
    for (const slot of [...this.slots]) {
      const task = slot.task;
      if (task === null || slot.retired) {
        continue;
      }
      const completed = Atomics.load(slot.control, CONTROL_COMPLETED);
      const offset = Atomics.load(slot.control, CONTROL_OFFSET);
      const current = Atomics.load(slot.control, CONTROL_TASK) === task.serial;
      if (!current || completed !== slot.seenCompleted || offset !== slot.seenOffset) {
        slot.seenCompleted = current ? completed : -1;
        slot.seenOffset = current ? offset : -1;
        slot.progressAtMs = nowMs;
        continue;
      }
      if (nowMs - slot.progressAtMs > this.config.hangTimeoutMs) {
        slot.retired = true;
        const seconds = (this.config.hangTimeoutMs / 1000).toFixed(1);
        this.abandon(
          task,
          completed,
          'hang',
          `the seed made no progress for ${seconds} s of wall time (an endless loop in a handler?)`,
        );
        this.replace(slot);
      }
    }
  }

  private sampleThroughput(nowMs: number): void {
    const elapsedMs = Math.round(nowMs - this.startMs);
    const last = this.throughput.at(-1);
    if (last !== undefined && elapsedMs - last.elapsedMs < this.throughputEveryMs) {
      return;
    }
    const before = this.throughput.length;
    addSample(this.throughput, { elapsedMs, seeds: this.progress().seedsDone });
    if (this.throughput.length < before) {
      this.throughputEveryMs *= 2; // thinned: keep the spacing even
    }
  }

  // --- work -------------------------------------------------------------------------------

  private dispatch(slot: Slot): void {
    if (!slot.ready || slot.retired || slot.task !== null) {
      return;
    }
    const range = this.stopReason === null ? this.nextRange() : undefined;
    if (range === undefined) {
      this.maybeFinish();
      return;
    }
    const task: Task = { serial: ++this.serial, ...range, startedMs: performance.now() };
    slot.task = task;
    slot.seenCompleted = -1;
    slot.seenOffset = -1;
    slot.progressAtMs = task.startedMs;
    const message: RangeTask = {
      type: 'range',
      serial: task.serial,
      scenario: this.config.scenario.name,
      variant: this.config.variant,
      pins: this.config.pins ?? {},
      firstSeed: shardSeed(this.config.from, this.config.shard, task.startK),
      stride: this.config.shard?.count ?? 1,
      count: task.count,
      determinismRate: this.config.determinismRate,
    };
    slot.worker.postMessage(message);
  }

  /** The next range: leftovers first, then fresh seeds, sized to take ~targetTaskMs. */
  private nextRange(): { startK: number; count: number } | undefined {
    const leftover = this.pending.shift();
    if (leftover !== undefined) {
      return leftover;
    }
    const remaining = this.shardTotal - this.nextK;
    if (remaining <= 0) {
      return undefined;
    }
    const targetMs = this.config.targetTaskMs ?? 300;
    // Start small to measure; then aim for targetMs, but leave work for every worker at the end.
    const sized = Number.isNaN(this.msPerSeed) ? 2 : Math.round(targetMs / this.msPerSeed);
    const share = Math.ceil(remaining / (this.slots.length * 4));
    const count = Math.max(1, Math.min(sized, share, TASK_SEEDS_MAX, remaining));
    const range = { startK: this.nextK, count };
    this.nextK += count;
    return range;
  }

  private onFinding(message: FindingMessage): void {
    const { scenario, variant, outDir } = this.config;
    const plan = message.plan ?? this.planOrUndefined(message.seed);
    let replay: string | null = null;
    if (plan !== undefined) {
      mkdirSync(outDir, { recursive: true });
      const file = replayFromRun({
        scenario,
        plan,
        finding: message.kind,
        violation: message.violation,
        ...(message.result === undefined ? {} : { result: message.result }),
        ...(message.kind === 'nondeterminism' ? { expected: { outcome: 'passes' as const } } : {}),
      });
      replay = join(
        outDir,
        replayFileName({
          scenario: scenario.name,
          variant,
          seed: message.seed,
          finding: message.kind,
        }),
      );
      writeReplay(replay, file);
    }
    const finding: Finding = {
      seed: message.seed,
      kind: message.kind,
      invariant: message.violation.invariant,
      message: message.violation.message,
      timeUs: message.violation.timeUs,
      eventIndex: message.violation.eventIndex,
      replay,
    };
    const shape = plan === undefined ? undefined : planShape(scenario.shape, plan);
    if (shape !== undefined) {
      finding.shape = shape;
    }
    if (!this.failedSeeds.has(message.seed)) {
      const invariant = message.violation.invariant;
      this.violations[invariant] = (this.violations[invariant] ?? 0) + 1;
      if (message.result !== undefined && shape !== undefined) {
        this.countFailedShape(shape);
      }
    }
    this.failedSeeds.add(message.seed);
    if (this.findings.length < FINDINGS_KEPT_MAX) {
      this.findings.push(finding);
    }
    this.firstFound ??= finding.seed;
    this.config.onFinding?.(finding);
    // Only the first finding stops: another worker's finding that arrives while the campaign
    // winds down must not count as a second stop, which ends workers before they report
    // their totals (the summary then read "0 events/s").
    if (this.config.stopOnFirst && this.stopReason === null) {
      this.stop('first-finding');
    }
  }

  /** Failed seeds per shape bin: only runs that reached an outcome, as the seed counts are. */
  private countFailedShape(shape: Record<string, number>): void {
    for (const [name, edges] of Object.entries(this.bins)) {
      const value = shape[name];
      if (value !== undefined) {
        const failed = this.shapeFailed[name] ?? edges.map(() => 0);
        this.shapeFailed[name] = failed;
        const index = binIndex(edges, value);
        failed[index] = (failed[index] ?? 0) + 1;
      }
    }
  }

  /** The scenario's invariant names, read from the first seed's plan (they may depend on it). */
  private invariantNames(): string[] {
    const plan = this.planOrUndefined(this.config.from);
    if (plan === undefined) {
      return [];
    }
    try {
      return this.config.scenario.invariants(plan).map((invariant) => invariant.name);
    } catch {
      return [];
    }
  }

  private planOrUndefined(seed: number) {
    try {
      return planFor(this.config.scenario, seed, this.config.variant, this.config.pins);
    } catch {
      return undefined;
    }
  }

  // --- the end ----------------------------------------------------------------------------

  private maybeFinish(): void {
    const busy = this.slots.some((slot) => slot.task !== null && !slot.retired);
    if (busy) {
      return;
    }
    if (this.stopReason === null && (this.pending.length > 0 || this.nextK < this.shardTotal)) {
      return;
    }
    this.terminateAll();
    this.finish(this.stopReason ?? 'done');
  }

  private terminateAll(): void {
    for (const slot of this.slots) {
      slot.retired = true;
      void slot.worker.terminate();
    }
  }

  private fail(error: Error): void {
    if (this.finished) {
      return;
    }
    this.finished = true;
    this.clearTimers();
    this.terminateAll();
    this.reject?.(error);
  }

  private clearTimers(): void {
    clearInterval(this.watchdog);
    clearTimeout(this.deadline);
    clearTimeout(this.graceTimer);
  }

  private finish(reason: StopReason): void {
    if (this.finished) {
      return;
    }
    this.finished = true;
    this.clearTimers();
    this.resolve?.(this.summary(reason));
  }

  private summary(reason: StopReason): FuzzSummary {
    const { scenario, variant, pins, from, seeds, shard, determinismRate } = this.config;
    const elapsedMs = performance.now() - this.startMs;
    const seconds = Math.max(elapsedMs / 1000, 1e-9);
    const findings = [...this.findings].sort((a, b) => a.seed - b.seed);
    const coverage: Coverage = coverageOf(scenario, this.totals);
    // A stop can end workers before their last "done": count what they had finished, and
    // never fewer seeds than failed ones (--stop-on-first once printed "-2 passed").
    const seedsDone = Math.max(this.progress().seedsDone, this.failedSeeds.size);
    const throughput = [...this.throughput];
    addSample(throughput, { elapsedMs: Math.round(elapsedMs), seeds: seedsDone });
    const seedsPerSec = round(seedsDone / seconds);
    const shapeHistogram: ShapeHistogram = histogramOf(
      this.bins,
      this.totals.shapeSeeds,
      this.shapeFailed,
    );
    const counts = {
      shard,
      from,
      seeds: seedsDone,
      elapsedMs: Math.round(elapsedMs),
      workers: this.config.workers,
      seedsPerSec,
    };
    return {
      faultline: 'fuzz-summary',
      formatVersion: SUMMARY_FORMAT,
      scenario: scenario.name,
      variant,
      ...(pins === undefined || Object.keys(pins).length === 0 ? {} : { pins }),
      from,
      seedsRequested: Number.isFinite(seeds) ? seeds : null,
      shard,
      stopReason: reason,
      interrupted: reason === 'interrupted',
      seeds: seedsDone,
      passed: seedsDone - this.failedSeeds.size,
      failed: this.failedSeeds.size,
      findings,
      ...(this.firstFound === undefined ? {} : { firstFindingSeed: this.firstFound }),
      replays: findings.flatMap((finding) => (finding.replay === null ? [] : [finding.replay])),
      elapsedMs: Math.round(elapsedMs),
      workers: this.config.workers,
      seedsPerSec,
      eventsPerSec: round(this.totals.events / seconds),
      events: this.totals.events,
      virtualTimeUs: this.totals.virtualTimeUs,
      acceleration: round(this.totals.virtualTimeUs / (seconds * 1_000_000)),
      determinism: {
        rate: determinismRate,
        sampled: this.totals.determinismSampled,
        mismatches: findings.filter((finding) => finding.kind === 'nondeterminism').length,
      },
      coverage,
      invariants: this.invariantNames(),
      violations: { ...this.violations },
      shapeHistogram,
      throughput,
      runs: [runInfo(counts, this.startedAt)],
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
