// Mutation score of the swarms (issue 17): a sampled StrykerJS run over systems/raft and
// systems/kv where a mutant is killed iff `faultline fuzz <scenario> --stop-on-first` fails on
// it — the raft swarm for raft mutants, the kv swarm for kv mutants, at N seeds, then on a
// survivor each follow-up scenario at its share of N (sample.ts: raft-colocated, kv-lease,
// raft-lease-restart, the scripted raft scenarios and MIT ports with budgets for raft; five MIT
// kv ports for kv), no unit tests.
//
//   npm run bench:mutants -- run [--shard i/n] [--seeds 2000] [--system raft|kv] [--limit K]
//                               [--only id,id] [--concurrency 1] [--per-system 150]
//                               [--sample-seed issue-17] [--baseline-seeds <seeds>]
//                               [--sometimes-expected-min 10] [--follow-ups-only]
//                               [--variants-only] [--campaigns name,name]
//                               [--time-limit-min 300] [--time-limit-factor 3]
//
// --follow-ups-only skips the swarm's campaign, for the survivors of an earlier run at the same
// N named with --only: their records carry swarmSkipped. --variants-only skips the follow-ups
// too and runs only the variant campaigns (sample.ts): each known-bug variant of the system,
// switched on, must still be found within the seeds its unmutated baseline allows; a mutant
// that hides one is killed (variant-not-found). --campaigns runs only the named campaigns
// (`raft-prevote-rejoin`, `kv --variant no-dedup`) on the survivors named with --only: for
// follow-ups added after the survivors' last run, without rerunning the ones they passed.
//
// A mutant whose campaign passes is still killed when it reaches none of a `sometimes`
// assertion that the unmutated baseline reaches in enough seeds to expect at least
// --sometimes-expected-min runs of the campaign to reach it (the swarm lost that coverage).
//   npm run bench:mutants -- summary        merge every results file: score, survivor table
//   … --paired-with DIR                     (any command) the sample of the older sources
//                                           checked out in DIR, found again in these: the same
//                                           mutants before and after a change
//   npm run bench:mutants -- sample         list the drawn mutants (id, place, mutator)
//
// Each tested mutant is appended to bench/results/mutants/shard-<i>-of-<n>.jsonl as its
// campaign ends, and a run skips the mutants any results file already judges, so a stopped
// session resumes where it stopped, and sessions can split the sample with --shard.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseShard } from '../sim/fuzz/seeds.ts';
import { type FaultlineFuzzSettings, RUNNER_NAME } from './mutants/fuzz-test-runner.ts';
import {
  isDone,
  type MutantRecord,
  mergeRecords,
  RESULTS_DIR,
  readResultsDir,
  type SurvivorClass,
  scoreOf,
  summaryMarkdown,
} from './mutants/results.ts';
import {
  campaignName,
  campaignsOf,
  MUTATED_SYSTEMS,
  mutateRange,
  type PairedMutant,
  type PairedSample,
  PER_SYSTEM_DEFAULT,
  pairedSample,
  SAMPLE_SEED_DEFAULT,
  type SampledMutant,
  sampleFor,
  shardOf,
} from './mutants/sample.ts';

const PROJECT_DIR = fileURLToPath(new URL('../', import.meta.url));
const PLUGIN_PATH = fileURLToPath(new URL('./mutants/stryker-plugin.mjs', import.meta.url));
const CLASSES_FILE = join(PROJECT_DIR, RESULTS_DIR, 'classes.json');
const SEEDS_DEFAULT = 2000;
const OPTIONS = new Set([
  '--shard',
  '--seeds',
  '--system',
  '--limit',
  '--only',
  '--concurrency',
  '--per-system',
  '--sample-seed',
  '--baseline-seeds',
  '--sometimes-expected-min',
  '--paired-with',
  '--time-limit-min',
  '--time-limit-factor',
  '--follow-ups-only',
  '--variants-only',
  '--campaigns',
]);

class UsageError extends Error {}

function option(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) {
    return undefined;
  }
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) {
    throw new UsageError(`${name} needs a value`);
  }
  return value;
}

function count(args: readonly string[], name: string, fallback: number, min = 1): number {
  const text = option(args, name);
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${name} should be a whole number of at least ${min}, got ${text}`);
  }
  return value;
}

function checkOptions(args: readonly string[]): void {
  for (const arg of args) {
    if (arg.startsWith('--') && !OPTIONS.has(arg)) {
      throw new UsageError(`unknown option ${arg} (known: ${[...OPTIONS].join(', ')})`);
    }
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_DIR, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function commitLabel(): string {
  const head = git(['rev-parse', '--short=12', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'systems', 'sim', 'invariants', 'scenarios']);
  return dirty === '' ? head : `${head}-dirty`;
}

/**
 * The same mutants before and after (a paired sample): how many kept or changed their
 * verdict, and each that changed, with what now kills it.
 */
function pairedChanges(
  mutants: readonly PairedMutant[],
  before: readonly MutantRecord[],
  after: readonly MutantRecord[],
): string {
  const beforeById = new Map(before.map((verdict) => [verdict.id, verdict]));
  const afterById = new Map(after.map((verdict) => [verdict.id, verdict]));
  const counts = new Map<string, number>();
  const changed: string[] = [];
  for (const mutant of mutants) {
    const was = beforeById.get(mutant.pairedWith);
    const now = afterById.get(mutant.id);
    if (was === undefined || now === undefined) {
      continue;
    }
    const detected = (verdict: MutantRecord) =>
      verdict.status === 'killed' || verdict.status === 'timeout' ? 'detected' : verdict.status;
    const transition = `${detected(was)} → ${detected(now)}`;
    counts.set(transition, (counts.get(transition) ?? 0) + 1);
    if (detected(was) !== detected(now)) {
      const how = now.invariant === null ? '' : ` by ${now.invariant}`;
      changed.push(
        `| ${mutant.pairedWith} → ${mutant.id} | ${mutateRange(mutant)} | ${mutant.mutator} | ${transition}${how} |`,
      );
    }
  }
  const lines = [
    'Before → after, the same mutants (paired):',
    '',
    ...[...counts].sort().map(([transition, count]) => `- ${transition}: ${count}`),
  ];
  if (changed.length > 0) {
    lines.push(
      '',
      '| mutant | place | mutator | change |',
      '| --- | --- | --- | --- |',
      ...changed,
    );
  }
  return `${lines.join('\n')}\n`;
}

function readClasses(): Record<string, SurvivorClass> {
  if (!existsSync(CLASSES_FILE)) {
    return {};
  }
  return JSON.parse(readFileSync(CLASSES_FILE, 'utf8')) as Record<string, SurvivorClass>;
}

async function loadSample(args: readonly string[]) {
  const seed = option(args, '--sample-seed') ?? SAMPLE_SEED_DEFAULT;
  const perSystem = count(args, '--per-system', PER_SYSTEM_DEFAULT);
  const older = option(args, '--paired-with');
  if (older === undefined) {
    return sampleFor(PROJECT_DIR, seed, perSystem);
  }
  if (!existsSync(join(older, 'systems'))) {
    throw new UsageError(
      `--paired-with needs a checkout of the older sources; ${older} has no systems/`,
    );
  }
  const paired = await pairedSample(PROJECT_DIR, older, seed, perSystem);
  process.stdout.write(
    `paired with the sample of ${older}: ${paired.mutants.length} mutants found again, ${paired.unpaired.length} gone (${paired.unpaired.map((mutant) => mutant.id).join(', ') || 'none'})\n`,
  );
  return paired;
}

async function sampleCommand(args: readonly string[]): Promise<number> {
  const sample = await loadSample(args);
  process.stdout.write(
    `sample ${sample.seed}: ${sample.mutants.length} mutants of ${Object.entries(sample.listed)
      .map(([system, listed]) => `${system} ${listed}`)
      .join(', ')} listed; sources ${sample.sourceHash}\n`,
  );
  for (const [position, mutant] of sample.mutants.entries()) {
    const paired = 'pairedWith' in mutant ? `\t(was ${mutant.pairedWith})` : '';
    process.stdout.write(
      `${position}\t${mutant.id}\t${mutateRange(mutant)}\t${mutant.mutator}\t${JSON.stringify(mutant.replacement).slice(0, 80)}${paired}\n`,
    );
  }
  return 0;
}

async function summaryCommand(args: readonly string[]): Promise<number> {
  const sample = await loadSample(args);
  const { verdicts, stale } = mergeRecords(
    readResultsDir(join(PROJECT_DIR, RESULTS_DIR)),
    sample.sourceHash,
  );
  const inSample = new Set(sample.mutants.map((mutant) => mutant.id));
  const mine = verdicts.filter((verdict) => inSample.has(verdict.id));
  const classes = readClasses();
  const paired = 'olderSourceHash' in sample ? (sample as PairedSample) : undefined;
  if (paired !== undefined) {
    // A survivor of both samples keeps the class read for it in the older sources.
    for (const mutant of paired.mutants) {
      const was = classes[mutant.pairedWith];
      if (classes[mutant.id] === undefined && was !== undefined) {
        classes[mutant.id] = was;
      }
    }
  }
  process.stdout.write(summaryMarkdown(mine, sample.mutants.length, classes));
  if (paired !== undefined) {
    const before = mergeRecords(
      readResultsDir(join(PROJECT_DIR, RESULTS_DIR)),
      paired.olderSourceHash,
    ).verdicts;
    process.stdout.write(`\n${pairedChanges(paired.mutants, before, mine)}`);
  }
  if (stale > 0) {
    process.stdout.write(
      `\n${stale} result lines are of other sources (not ${sample.sourceHash}) and were left out.\n`,
    );
  }
  return 0;
}

async function runCommand(args: readonly string[]): Promise<number> {
  const shardText = option(args, '--shard') ?? '0/1';
  const shard = parseShard(shardText);
  if (typeof shard === 'string') {
    throw new UsageError(shard);
  }
  const seeds = count(args, '--seeds', SEEDS_DEFAULT);
  const system = option(args, '--system');
  if (system !== undefined && system !== 'raft' && system !== 'kv') {
    throw new UsageError(`--system should be raft or kv, got ${system}`);
  }
  const limit = count(args, '--limit', Number.MAX_SAFE_INTEGER);
  const only = option(args, '--only')?.split(',');
  const followUpsOnly = args.includes('--follow-ups-only');
  const variantsOnly = args.includes('--variants-only');
  if (followUpsOnly && only === undefined) {
    throw new UsageError(
      '--follow-ups-only needs --only: the survivors of an earlier run of the swarm at these seeds',
    );
  }
  if (variantsOnly && only === undefined) {
    throw new UsageError(
      '--variants-only needs --only: the survivors of an earlier run of the swarm and its follow-ups at these seeds',
    );
  }
  if (variantsOnly && followUpsOnly) {
    throw new UsageError('--variants-only and --follow-ups-only exclude each other: pick one');
  }
  const campaigns = option(args, '--campaigns')?.split(',');
  if (campaigns !== undefined) {
    if (only === undefined) {
      throw new UsageError(
        '--campaigns needs --only: the survivors of earlier runs, which passed the other campaigns',
      );
    }
    const known = MUTATED_SYSTEMS.flatMap((mutated) =>
      campaignsOf(mutated.name, 1).map(campaignName),
    );
    const unknown = campaigns.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new UsageError(
        `--campaigns names no campaign of a mutated system: ${unknown.join(', ')} (known: ${known.join(', ')})`,
      );
    }
  }
  const partial = followUpsOnly || variantsOnly || campaigns !== undefined;
  const concurrency = count(args, '--concurrency', 1);
  // The baseline runs the mutants' own campaign by default: its reach counts decide which
  // `sometimes` assertions a mutant's campaign must still reach.
  const baselineSeeds = count(args, '--baseline-seeds', seeds);
  const sometimesExpectedMin = count(args, '--sometimes-expected-min', 10);
  const timeLimitMinMs = count(args, '--time-limit-min', 300) * 1000;
  const timeLimitFactor = Number(option(args, '--time-limit-factor') ?? '3');
  if (!(timeLimitFactor > 0)) {
    throw new UsageError('--time-limit-factor should be a positive number');
  }

  const sample = await loadSample(args);
  const records = readResultsDir(join(PROJECT_DIR, RESULTS_DIR));
  const { verdicts } = mergeRecords(records, sample.sourceHash);
  const judged = new Map(verdicts.map((verdict) => [verdict.id, verdict]));
  // A partial run (follow-ups or variants only) is done with a mutant that is killed, or that a
  // record of the same partial run at these seeds already judged; a full run, as isDone says.
  const partialDone = (id: string) =>
    records.some(
      (record) =>
        record.id === id &&
        record.sourceHash === sample.sourceHash &&
        record.status !== 'error' &&
        record.seeds >= seeds &&
        (campaigns !== undefined
          ? campaigns.every((name) => record.campaignsOnly?.includes(name) === true)
          : variantsOnly
            ? record.followUpsSkipped === true
            : record.swarmSkipped === true && record.campaignsOnly === undefined),
    );
  const done = (id: string) => {
    const verdict = judged.get(id);
    if (!partial) {
      return isDone(verdict, seeds);
    }
    return verdict?.status === 'killed' || verdict?.status === 'timeout' || partialDone(id);
  };
  if (only !== undefined) {
    const unknown = only.filter((id) => !sample.mutants.some((mutant) => mutant.id === id));
    if (unknown.length > 0) {
      throw new UsageError(`--only names mutants not in the sample: ${unknown.join(', ')}`);
    }
  }
  const mine = shardOf(sample.mutants, shard);
  const todo = mine
    .filter((mutant) => system === undefined || mutant.system === system)
    .filter((mutant) => only === undefined || only.includes(mutant.id))
    .filter((mutant) => !done(mutant.id))
    .slice(0, limit);
  process.stdout.write(
    `sample ${sample.seed} (sources ${sample.sourceHash}): shard ${shard.index}/${shard.count} holds ${mine.length} mutants; ${todo.length} to test at ${seeds} seeds\n`,
  );
  if (todo.length === 0) {
    return 0;
  }
  const resultsFile = join(
    PROJECT_DIR,
    RESULTS_DIR,
    `shard-${shard.index}-of-${shard.count}.jsonl`,
  );
  await runStryker(
    todo,
    {
      projectDir: PROJECT_DIR,
      resultsFile,
      seeds,
      baselineSeeds,
      sometimesExpectedMin,
      timeLimitFactor,
      timeLimitMinMs,
      followUpsOnly,
      variantsOnly,
      ...(campaigns === undefined ? {} : { campaigns }),
      sourceHash: sample.sourceHash,
      commit: commitLabel(),
      mutants: todo,
    },
    concurrency,
  );
  const after = mergeRecords(readResultsDir(join(PROJECT_DIR, RESULTS_DIR)), sample.sourceHash);
  const tested = new Set(todo.map((mutant) => mutant.id));
  const now = after.verdicts.filter((verdict) => tested.has(verdict.id));
  const score = scoreOf(now, 'all');
  process.stdout.write(
    `this run: ${now.length} of ${todo.length} judged: ${score.killed} killed, ${score.timeout} timeout, ${score.survived} survived, ${score.errors} errors (results in ${resultsFile})\n`,
  );
  return now.length === todo.length ? 0 : 1;
}

async function runStryker(
  todo: readonly SampledMutant[],
  settings: FaultlineFuzzSettings,
  concurrency: number,
): Promise<void> {
  const { Stryker } = await import('@stryker-mutator/core');
  const stryker = new Stryker({
    testRunner: RUNNER_NAME,
    plugins: [PLUGIN_PATH],
    // Exactly the drawn mutants' nodes: Stryker also places the mutants nested inside them,
    // which the runner passes over without a campaign.
    mutate: [...new Set(todo.map((mutant) => mutateRange(mutant)))],
    coverageAnalysis: 'off',
    checkers: [],
    concurrency,
    maxTestRunnerReuse: 0,
    disableTypeChecks: false,
    incremental: false,
    // Our runner ends a campaign at its own limit; Stryker's must lie beyond it.
    timeoutMS: settings.timeLimitMinMs + 60_000,
    timeoutFactor: settings.timeLimitFactor + 1,
    dryRunTimeoutMinutes: 60,
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    ignorePatterns: ['faultline-out', 'test-artifacts', 'dist', 'bench/results', '.mutants-out'],
    reporters: ['progress-append-only'],
    fileLogLevel: 'off',
    allowConsoleColors: false,
    faultlineFuzz: settings,
  } as Record<string, unknown>);
  await stryker.runMutationTest();
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    checkOptions(args);
    switch (command) {
      case 'run':
        return await runCommand(args);
      case 'summary':
        return await summaryCommand(args);
      case 'sample':
        return await sampleCommand(args);
      default:
        throw new UsageError(
          'usage: bench:mutants -- run|summary|sample [options] (see bench/mutants.ts)',
        );
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench:mutants: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
