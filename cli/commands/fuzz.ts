import { type Finding, FuzzCampaign, type Progress } from '../../sim/fuzz/campaign.ts';
import { parseShard, type Shard } from '../../sim/fuzz/seeds.ts';
import { shardFromEnvironment } from '../../sim/fuzz/shard-environment.ts';
import type { FuzzSummary } from '../../sim/fuzz/summary.ts';
import { workerEntry } from '../../sim/fuzz/worker-bundle.ts';
import { writeReport } from '../../viewer/report-output.ts';
import {
  countArgument,
  pinsArgument,
  SET_OPTION,
  scenarioArgument,
  seedArgument,
} from '../args.ts';
import { durationArgument, formatDurationMs } from '../duration.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { formatCount, formatRate, formatUs } from '../format.ts';
import { loadedScenarioModules } from '../scenario-modules.ts';
import { StatusLine } from '../status-line.ts';
import type { Command } from './index.ts';
import { REPORT_OPTIONS, reportLine, shrinkOptions } from './report.ts';
import { setFlags } from './run.ts';

const DEFAULT_SEEDS = 1000;
const WORKERS_MAX = 256;
const MESSAGE_CHARS_MAX = 160;

export const fuzzCommand: Command = {
  scenarios: true,
  command: 'fuzz <scenario>',
  describe: 'Run many seeds of a scenario on every core; write a replay file for each failure',
  builder: (yargs) =>
    yargs
      .positional('scenario', { type: 'string', describe: 'scenario name (see `faultline list`)' })
      .option('seeds', {
        type: 'string',
        describe: `seeds to run (default ${DEFAULT_SEEDS}, or unbounded with --time)`,
      })
      .option('from', { type: 'string', default: '0', describe: 'the first seed' })
      .option('time', {
        type: 'string',
        describe: 'stop handing out seeds after this long (90s, 10m, 1h)',
      })
      .option('workers', {
        type: 'string',
        default: 'auto',
        describe: 'worker threads, or auto (one per core)',
      })
      .option('shard', {
        type: 'string',
        describe:
          'run shard i of n: seeds from+i+k·n (e.g. 0/4); auto reads it from the batch engine (FAULTLINE_SHARD_INDEX/_COUNT, Kubernetes JOB_COMPLETION_INDEX, GitLab, CircleCI, Buildkite)',
      })
      .option('variant', { type: 'string', describe: 'a known-bug variant of the system' })
      .option('set', SET_OPTION)
      .option('out', {
        type: 'string',
        default: 'faultline-out',
        describe: 'directory for replay files',
      })
      .option('stop-on-first', {
        type: 'boolean',
        default: false,
        describe: 'stop at the first finding',
      })
      .option('require-sometimes', {
        type: 'boolean',
        default: false,
        describe:
          'fail (exit 1) when a `sometimes` assertion was never reached in the whole campaign: the swarm lost coverage',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print one JSON summary object on stdout',
      })
      .option('report', {
        type: 'string',
        describe: 'also write the campaign report (one self-contained HTML page) to this file',
      })
      .option('shrink-time', REPORT_OPTIONS['shrink-time'])
      .option('shrink-attempts', REPORT_OPTIONS['shrink-attempts'])
      .option('determinism-sample', {
        type: 'string',
        default: '0.01',
        describe: 'fraction of passing seeds run twice to compare trace hashes',
      })
      .option('hang-timeout', {
        type: 'string',
        default: '90s',
        describe: 'a seed with no progress for this long is a hang',
      })
      .option('progress-every', {
        type: 'string',
        default: '5s',
        describe: 'progress line period when stderr is not a terminal',
      })
      .example('$0 fuzz pingpong --seeds 10000', 'fuzz the example on every core')
      .example(
        '$0 fuzz pingpong --variant ack-before-fsync --stop-on-first',
        'watch it find the bug',
      )
      .example('$0 fuzz raft --set durationUs=10000000 servers=5', 'every seed with one shape')
      .example(
        '$0 fuzz pingpong --seeds 1000000 --shard 3/8 --json > s3.json',
        'one machine of eight',
      )
      .example(
        '$0 fuzz raft --seeds 1000000 --shard auto --json > summary.json',
        'one pod of a Kubernetes Indexed Job',
      ),
  run: async (args) => {
    const modules = loadedScenarioModules();
    const config = fuzzConfig(args, modules);
    const json = args.json === true;
    const reportPath = reportArgument(args.report);
    const shrink = shrinkOptions(args);
    const out = json ? process.stderr : process.stdout;
    const entry = await workerEntry(modules);
    if (entry.fallbackReason !== undefined) {
      process.stderr.write(
        `faultline: workers load TypeScript through tsx (slower): no bundle (${entry.fallbackReason})\n`,
      );
    }
    const status = new StatusLine(durationArgument(args['progress-every'], '--progress-every'));
    const campaign = new FuzzCampaign({
      ...config,
      workerEntry: entry,
      onFinding: (finding) => {
        status.clear();
        out.write(findingLines(finding));
      },
    });
    const onSigint = () => campaign.stop('interrupted');
    process.on('SIGINT', onSigint);
    const ticker = setInterval(
      () => status.show(progressLine(campaign.progress())),
      status.periodMs,
    );
    let summary: FuzzSummary;
    try {
      summary = await campaign.run();
    } catch (error) {
      // The pool itself failed (a worker could not load the scenarios): not a finding.
      status.clear();
      process.stderr.write(`faultline: ${(error as Error).message}\n`);
      return EXIT_UNKNOWN;
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', onSigint);
      status.clear();
    }
    if (json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stdout.write(`${summaryLines(summary).join('\n')}\n`);
    }
    if (reportPath !== undefined) {
      const written = writeReport(summary, reportPath, {
        outDir: config.outDir,
        ...shrink,
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      out.write(reportLine(written.model.headline, written.path, written.bytes));
    }
    const unreached = args['require-sometimes'] === true ? unreachedSometimes(summary) : undefined;
    if (unreached !== undefined) {
      out.write(`✗ ${unreached}\n`);
    }
    return fuzzExitCode(summary, unreached);
  },
};

/**
 * With --require-sometimes: the sentence that fails a finished, clean campaign because some
 * `sometimes` assertion was never reached in it — the system or its workload stopped doing
 * something the scenario says a run does (a whole operation type, a membership change), so
 * the invariants about it had nothing to judge. Undefined when all were reached, when a
 * finding already fails the campaign, or when it was interrupted (its seeds are not all in).
 */
export function unreachedSometimes(summary: FuzzSummary): string | undefined {
  const never = summary.coverage.sometimesNeverReached;
  if (never.length === 0 || summary.failed > 0 || summary.interrupted) {
    return undefined;
  }
  const names = never.map((name) => `"${name}"`).join(', ');
  const seeds = `${formatCount(summary.seeds)} seed${summary.seeds === 1 ? '' : 's'}`;
  return `sometimes-never-reached: in ${seeds} no run reached ${names}`;
}

function reportArgument(value: unknown): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new UsageError('--report needs the path of the HTML file to write');
  }
  return value;
}

/** A finding outranks the interruption: both say "not all clear", the finding says more. */
function fuzzExitCode(summary: FuzzSummary, unreached?: string): number {
  if (summary.failed > 0 || unreached !== undefined) {
    return EXIT_VIOLATION;
  }
  return summary.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}

// biome-ignore lint/suspicious/noExplicitAny: yargs arguments, checked here one by one
function fuzzConfig(args: any, modules: string[]) {
  const variant = typeof args.variant === 'string' ? args.variant : null;
  const scenario = scenarioArgument(args.scenario, variant);
  const timeMs =
    args.time === undefined ? Number.POSITIVE_INFINITY : durationArgument(args.time, '--time');
  const seeds =
    args.seeds !== undefined
      ? countArgument(args.seeds, '--seeds', 0)
      : Number.isFinite(timeMs)
        ? Number.POSITIVE_INFINITY
        : DEFAULT_SEEDS;
  const from = seedArgument(args.from, '--from');
  if (Number.isFinite(seeds) && !Number.isSafeInteger(from + seeds)) {
    throw new UsageError('--from plus --seeds must stay below 2^53');
  }
  return {
    scenario,
    variant,
    pins: pinsArgument(args.set, scenario),
    from,
    seeds,
    shard: shardOption(args.shard),
    workers: workersOption(args.workers),
    timeMs,
    outDir: String(args.out),
    stopOnFirst: args['stop-on-first'] === true,
    determinismRate: rateOption(args['determinism-sample']),
    hangTimeoutMs: durationArgument(args['hang-timeout'], '--hang-timeout'),
    modules,
  };
}

function shardOption(value: unknown): Shard | null {
  if (value === undefined) {
    return null;
  }
  if (value === 'auto') {
    const found = shardFromEnvironment(process.env);
    if (typeof found === 'string') {
      throw new UsageError(found);
    }
    process.stderr.write(
      `faultline: shard ${found.shard.index}/${found.shard.count} from ${found.source}\n`,
    );
    return found.shard;
  }
  const shard = parseShard(String(value));
  if (typeof shard === 'string') {
    throw new UsageError(shard);
  }
  return shard;
}

function workersOption(value: unknown): number {
  if (value === 'auto') {
    return FuzzCampaign.defaultWorkers();
  }
  return Math.min(countArgument(value, '--workers'), WORKERS_MAX);
}

function rateOption(value: unknown): number {
  const rate = Number(value);
  if (!(rate >= 0 && rate <= 1)) {
    throw new UsageError(
      `--determinism-sample should be a fraction between 0 and 1, got ${JSON.stringify(value)}`,
    );
  }
  return rate;
}

function findingLines(finding: Finding): string {
  const message =
    finding.message.length > MESSAGE_CHARS_MAX
      ? `${finding.message.slice(0, MESSAGE_CHARS_MAX - 1)}…`
      : finding.message;
  const where = finding.kind === 'violation' ? ` at ${formatUs(finding.timeUs)}` : '';
  const head = `✗ seed ${finding.seed} ${finding.kind} ${finding.invariant}${where}: ${message}\n`;
  const repro =
    finding.replay === null
      ? '  (no plan: no replay file)'
      : `  npx faultline replay ${finding.replay}`;
  return `${head}${repro}\n`;
}

export function progressLine(progress: Progress): string {
  const { seedsDone, seedsTotal, elapsedMs } = progress;
  const seconds = Math.max(elapsedMs / 1000, 1e-9);
  const rate = seedsDone / seconds;
  const acceleration = progress.virtualTimeUs / (seconds * 1_000_000);
  const total = Number.isFinite(seedsTotal) ? `/${formatCount(seedsTotal)}` : '';
  const percent =
    Number.isFinite(seedsTotal) && seedsTotal > 0
      ? ` ${Math.floor((100 * seedsDone) / seedsTotal)}%`
      : '';
  let etaMs = Number.POSITIVE_INFINITY;
  if (Number.isFinite(seedsTotal) && rate > 0) {
    etaMs = ((seedsTotal - seedsDone) / rate) * 1000;
  }
  if (Number.isFinite(progress.deadlineMs)) {
    etaMs = Math.min(etaMs, Math.max(0, progress.deadlineMs - elapsedMs));
  }
  // Short enough for an 80-column terminal: the most useful figures first.
  return [
    `seeds ${formatCount(seedsDone)}${total}${percent}`,
    `${formatCount(Math.round(rate))}/s`,
    `sim ×${formatCount(Math.round(acceleration))}`,
    `${progress.failed} failed`,
    `${formatDurationMs(elapsedMs)} ETA ${formatDurationMs(etaMs)}`,
  ].join(' · ');
}

/**
 * A merge cannot know whether its summaries ran side by side or one after another (a long
 * campaign runs shard by shard across sessions), so it leads with the worker time and the
 * rates per worker, which hold either way, and gives the side-by-side rate as what it is.
 */
function mergedHeadline(
  summary: FuzzSummary,
  counts: string,
  workerMs: number,
  merged: number,
  stopped: string,
): string[] {
  const workerSeconds = Math.max(workerMs / 1000, 1e-9);
  const perWorker = (total: number) => total / workerSeconds;
  return [
    `${counts} in ${merged} summaries: ${formatDurationMs(workerMs)} of worker time (the longest ${formatDurationMs(summary.elapsedMs)})${stopped}`,
    `  per worker: ${formatRate(Math.round(perWorker(summary.seeds) * 10) / 10)} seeds/s · ${formatCount(Math.round(perWorker(summary.events)))} events/s · simulated time ×${formatCount(Math.round(perWorker(summary.virtualTimeUs) / 1_000_000))}; ${formatRate(summary.seedsPerSec)} seeds/s in all only if the ${merged} ran side by side`,
  ];
}

export function summaryLines(summary: FuzzSummary): string[] {
  const variant = summary.variant === null ? '' : ` (variant ${summary.variant})`;
  const shard =
    summary.shard === null ? '' : ` shard ${summary.shard.index}/${summary.shard.count}`;
  const stopped = summary.stopReason === 'done' ? '' : ` — stopped: ${summary.stopReason}`;
  const counts = `${summary.scenario}${variant}${shard}: ${formatCount(summary.seeds)} seeds, ${formatCount(summary.passed)} passed, ${formatCount(summary.failed)} failed`;
  const lines =
    summary.workerMs === undefined || summary.mergedSummaries === undefined
      ? [
          `${counts} in ${formatDurationMs(summary.elapsedMs)} on ${summary.workers} worker${summary.workers === 1 ? '' : 's'}${stopped}`,
          `  ${formatRate(summary.seedsPerSec)} seeds/s · ${formatCount(Math.round(summary.eventsPerSec))} events/s · simulated time ×${formatCount(Math.round(summary.acceleration))}`,
        ]
      : mergedHeadline(summary, counts, summary.workerMs, summary.mergedSummaries, stopped);
  if (summary.pins !== undefined) {
    lines.push(`  shape pinned:${setFlags(summary.pins).replace(' --set', '')}`);
  }
  if (summary.findings.length > 0) {
    const kinds = new Map<string, number>();
    for (const finding of summary.findings) {
      kinds.set(finding.kind, (kinds.get(finding.kind) ?? 0) + 1);
    }
    const byKind = [...kinds].map(([kind, count]) => `${kind} ${count}`).join(', ');
    lines.push(`  findings: ${byKind}; ${summary.replays.length} replay files written`);
    const first = summary.firstFindingSeed;
    if (summary.stopReason === 'first-finding' && first !== undefined) {
      const others = summary.findings
        .map((finding) => finding.seed)
        .filter((seed) => seed !== first);
      lines.push(
        others.length === 0
          ? `  stopped at the first finding, seed ${first}`
          : `  stopped at the first finding, seed ${first}; ${others.length === 1 ? `seed ${others[0]} was` : `seeds ${others.join(', ')} were`} found too, by ${others.length === 1 ? 'a worker' : 'workers'} already running ${others.length === 1 ? 'it' : 'them'}`,
      );
    }
  }
  lines.push(...coverageLines(summary));
  const { determinism } = summary;
  lines.push(
    `  determinism: ${determinism.sampled} passing seeds re-run, ${determinism.mismatches === 0 ? 'all trace hashes equal' : `${determinism.mismatches} MISMATCHED`}`,
  );
  if (summary.shardsMissing !== undefined && summary.shardsMissing.length > 0) {
    lines.push(`  shards missing from the merge: ${summary.shardsMissing.join(', ')}`);
  }
  return lines;
}

function coverageLines(summary: FuzzSummary): string[] {
  const { coverage } = summary;
  const fired = Object.entries(coverage.faultsFired)
    .map(([kind, count]) => `${kind} ${formatCount(count)}`)
    .join(', ');
  const lines = [`  faults fired: ${fired || 'none eligible'}`];
  if (coverage.faultsNeverFired.length > 0) {
    lines.push(`  ⚠ eligible but never fired: ${coverage.faultsNeverFired.join(', ')}`);
  }
  const shapes = Object.entries(coverage.partitionShapes ?? {})
    .map(([shape, count]) => {
      const seeds = coverage.partitionShapeSeeds?.[shape] ?? 0;
      return `${shape} ${formatCount(count)} (${formatCount(seeds)})`;
    })
    .join(', ');
  if (shapes.length > 0) {
    lines.push(`  partition shapes fired (seeds): ${shapes}`);
  }
  if ((coverage.partitionShapesNeverFired ?? []).length > 0) {
    lines.push(
      `  ⚠ partition shapes drawable but never fired: ${coverage.partitionShapesNeverFired?.join(', ')}`,
    );
  }
  const reached = Object.entries(coverage.sometimes)
    .map(([name, seeds]) => `"${name}" ${formatCount(seeds)}`)
    .join(', ');
  if (reached.length > 0) {
    lines.push(`  sometimes reached (seeds): ${reached}`);
  }
  if (coverage.sometimesNeverReached.length > 0) {
    lines.push(
      `  ⚠ never reached: ${coverage.sometimesNeverReached.map((name) => `"${name}"`).join(', ')}`,
    );
  }
  const undecided = Object.entries(coverage.undecided ?? {})
    .map(([name, seeds]) => `${name} in ${formatCount(seeds)} seeds`)
    .join(', ');
  if (undecided.length > 0) {
    lines.push(`  ⚠ undecided (counted as passed, not cleared by that check): ${undecided}`);
  }
  return lines;
}
