// A StrykerJS test runner whose "test suite" is one `faultline fuzz <swarm> --stop-on-first`
// campaign: a mutant is killed iff the swarm alone finds it. Stryker's command runner would
// pass only the active mutant's id; this runner gets the whole mutant (file, place, mutator,
// replacement), so it can name it in the results file and append one line per mutant the
// moment its campaign ends.
//
// It runs in Stryker's sandbox (a copy of the project with the drawn mutants placed behind
// switches). `bin/faultline.mjs` loads the sandbox's TypeScript through tsx and the fuzz
// workers run an esbuild bundle of the sandbox's sources (sim/fuzz/worker-bundle.ts resolves
// everything from its own folder), so the workers run the instrumented code; Stryker's switch
// reads the mutant to activate from the __STRYKER_ACTIVE_MUTANT__ environment variable,
// which worker threads inherit.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

import { INSTRUMENTER_CONSTANTS, type StrykerOptions } from '@stryker-mutator/api/core';
import type { Logger } from '@stryker-mutator/api/logging';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import {
  type DryRunResult,
  DryRunStatus,
  type MutantRunOptions,
  type MutantRunResult,
  MutantRunStatus,
  type TestRunner,
  type TestRunnerCapabilities,
  TestStatus,
} from '@stryker-mutator/api/test-runner';
import { assert } from '../../sim/assert.ts';
import type { FuzzSummary } from '../../sim/fuzz/summary.ts';
import { type MutantRecord, RECORD_FORMAT } from './results.ts';
import {
  type Campaign,
  campaignName,
  campaignsOf,
  chooseCampaigns,
  mutantKey,
  mutateRange,
  type SampledMutant,
  VARIANT_SEEDS_MAX,
  variantSeedsFor,
} from './sample.ts';

export const RUNNER_NAME = 'faultline-fuzz';

/** What the bench hands the runner, as the `faultlineFuzz` Stryker option. */
export interface FaultlineFuzzSettings {
  /** The real project (not the sandbox): mutant file names are relative to it. */
  projectDir: string;
  /** Absolute path of the .jsonl file this run appends to. */
  resultsFile: string;
  seeds: number;
  /** Seeds of each swarm run on the instrumented code with no mutant active, first. */
  baselineSeeds: number;
  /**
   * A `sometimes` assertion the baseline reached often enough that a campaign of `seeds`
   * seeds expects at least this many runs to reach it is required: a mutant whose campaign
   * passes without reaching it is killed (the swarm lost that coverage). At 10 a mutant that
   * leaves the rate alone misses it by chance with probability about e^-10.
   */
  sometimesExpectedMin: number;
  /** A campaign's time limit is this many times the baseline's estimate for `seeds` seeds. */
  timeLimitFactor: number;
  /** …and at least this long. */
  timeLimitMinMs: number;
  /**
   * Run the follow-up campaigns only, not the swarm's: for mutants an earlier run's swarm
   * campaign at the same seed count judged survived (named with --only). Their records say so.
   */
  followUpsOnly?: boolean;
  /** Run the variant campaigns only (for survivors of the swarm and its follow-ups). */
  variantsOnly?: boolean;
  /**
   * Run only the campaigns of these names (`--campaigns`), e.g. follow-ups added since the
   * survivors' last run, without rerunning the ones they already passed.
   */
  campaigns?: string[];
  sourceHash: string;
  commit: string;
  /** The drawn mutants of this run; Stryker also places others that share their ranges. */
  mutants: SampledMutant[];
}

const STDOUT_BYTES_MAX = 16 * 1024 * 1024;
const STDERR_CHARS_KEPT = 2000;
const MESSAGE_CHARS_MAX = 300;

export interface FuzzOutcome {
  exitCode: number | null;
  timedOut: boolean;
  summary: FuzzSummary | null;
  stderrTail: string;
  elapsedMs: number;
}

export class FaultlineFuzzTestRunner implements TestRunner {
  static inject = tokens(commonTokens.logger, commonTokens.options);
  private readonly settings: FaultlineFuzzSettings;
  private readonly byKey: Map<string, SampledMutant>;
  /**
   * Scenario → estimated wall ms of a full campaign, from the dry run. Only one runner
   * process does the dry run (and Stryker starts a new one after a timeout), so it is also
   * written to the sandbox, where every runner process of this run reads it.
   */
  private campaignEstimateMs = new Map<string, number>();
  /** Scenario → the `sometimes` assertions its campaigns must reach (see the settings). */
  private requiredSometimes = new Map<string, string[]>();
  /**
   * Variant campaign → the seeds a mutant's run may take (variantSeedsFor the unmutated
   * code's first failing seed); 0 where the unmutated code did not fail in VARIANT_SEEDS_MAX.
   */
  private variantSeeds = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    options: StrykerOptions,
  ) {
    this.settings = (options as unknown as { faultlineFuzz: FaultlineFuzzSettings }).faultlineFuzz;
    this.byKey = new Map(this.settings.mutants.map((mutant) => [mutant.key, mutant]));
  }

  capabilities(): TestRunnerCapabilities {
    return { reloadEnvironment: true }; // every campaign is a new process
  }

  /**
   * A short campaign of each scenario on the instrumented sources, no mutant active: it must
   * pass (or every kill would mean nothing), and its pace sets each campaign's time limit.
   * Each runs at its campaign's share of the baseline seeds.
   */
  async dryRun(): Promise<DryRunResult> {
    const systems = [...new Set(this.settings.mutants.map((mutant) => mutant.system))];
    const campaigns = systems.flatMap((system) => this.campaignsFor(system));
    const tests = [];
    for (const campaign of campaigns) {
      const { scenario } = campaign;
      if (campaign.variant !== undefined) {
        tests.push(await this.variantBaseline(campaign));
        continue;
      }
      const baselineSeeds = Math.max(
        1,
        Math.round((this.settings.baselineSeeds * campaign.seeds) / this.settings.seeds),
      );
      const outcome = await this.fuzz(scenario, baselineSeeds, null, 30 * 60_000);
      if (outcome.exitCode !== 0 || outcome.summary === null) {
        return {
          status: DryRunStatus.Error,
          errorMessage: `the unmutated ${scenario} campaign did not pass ${baselineSeeds} seeds (exit ${outcome.exitCode}): ${outcome.stderrTail}`,
        };
      }
      // The CLI's start (tsx, the worker bundle) is paid once a campaign, the seeds each.
      const seedsRun = Math.max(1, outcome.summary.seeds);
      const campaignMs = outcome.summary.elapsedMs;
      const startMs = Math.max(0, outcome.elapsedMs - campaignMs);
      const estimateMs = Math.ceil(startMs + (campaignMs / seedsRun) * campaign.seeds);
      this.campaignEstimateMs.set(scenario, estimateMs);
      const required = requiredSometimes(
        outcome.summary,
        campaign.seeds,
        this.settings.sometimesExpectedMin,
      );
      this.requiredSometimes.set(scenario, required);
      this.log.info(
        `baseline ${scenario}: ${seedsRun} seeds in ${campaignMs} ms after a ${startMs} ms start, so ${campaign.seeds} seeds ≈ ${Math.round(estimateMs / 1000)} s; required sometimes: ${required.join(', ') || 'none'}`,
      );
      tests.push({
        id: scenario,
        name: `fuzz ${scenario} --seeds ${campaign.seeds}`,
        status: TestStatus.Success as const,
        timeSpentMs: estimateMs,
      });
    }
    mkdirSync(dirname(estimatesPath()), { recursive: true });
    const stored: StoredBaseline = {
      estimatesMs: Object.fromEntries(this.campaignEstimateMs),
      requiredSometimes: Object.fromEntries(this.requiredSometimes),
      variantSeeds: Object.fromEntries(this.variantSeeds),
    };
    writeFileSync(estimatesPath(), JSON.stringify(stored));
    return { status: DryRunStatus.Complete, tests };
  }

  /**
   * The unmutated code with the variant on must fail within VARIANT_SEEDS_MAX seeds; its
   * first failing seed sets how many a mutant's campaign may take. One that does not fail is
   * left out of every mutant's campaigns (logged): it cannot tell a mutant from the original.
   */
  private async variantBaseline(campaign: Campaign) {
    const name = campaignName(campaign);
    const outcome = await this.fuzz(
      campaign.scenario,
      VARIANT_SEEDS_MAX,
      null,
      30 * 60_000,
      campaign.variant,
    );
    const findings = outcome.summary?.findings ?? [];
    const from = outcome.summary?.from ?? 0;
    const first = findings.reduce<number | undefined>(
      (low, finding) => (low === undefined || finding.seed < low ? finding.seed : low),
      undefined,
    );
    const seedsToFail = first === undefined ? undefined : first - from + 1;
    const seeds = seedsToFail === undefined ? 0 : variantSeedsFor(seedsToFail);
    this.variantSeeds.set(name, seeds);
    const seedsRun = Math.max(1, outcome.summary?.seeds ?? 1);
    const campaignMs = outcome.summary?.elapsedMs ?? outcome.elapsedMs;
    const startMs = Math.max(0, outcome.elapsedMs - campaignMs);
    // Unmutated, it stops at its first failure; a mutant that hides the bug runs all `seeds`.
    const estimateMs = Math.ceil(startMs + (campaignMs / seedsRun) * Math.max(1, seeds));
    this.campaignEstimateMs.set(name, estimateMs);
    this.log.info(
      seedsToFail === undefined
        ? `baseline ${name}: not found in ${VARIANT_SEEDS_MAX} seeds (exit ${outcome.exitCode}), so no mutant runs it`
        : `baseline ${name}: first failure at seed ${first} (${findings[0]?.invariant}), so a mutant's campaign may take ${seeds} seeds ≈ ${Math.round(estimateMs / 1000)} s`,
    );
    return {
      id: name,
      name: `fuzz ${name} --seeds ${seeds}`,
      status: TestStatus.Success as const,
      timeSpentMs: estimateMs,
    };
  }

  async mutantRun(options: MutantRunOptions): Promise<MutantRunResult> {
    const active = options.activeMutant;
    const file = this.projectRelative(active.fileName);
    const key = mutantKey({
      file,
      start: active.location.start,
      end: active.location.end,
      mutator: active.mutatorName,
      replacement: active.replacement,
    });
    const mutant = this.byKey.get(key);
    if (mutant === undefined) {
      // Placed because it lies inside a drawn mutant's range, but not drawn itself.
      return { status: MutantRunStatus.Survived, nrOfTests: 0 };
    }
    if (this.campaignEstimateMs.size === 0 && existsSync(estimatesPath())) {
      const stored = JSON.parse(readFileSync(estimatesPath(), 'utf8')) as StoredBaseline;
      this.campaignEstimateMs = new Map(Object.entries(stored.estimatesMs));
      this.requiredSometimes = new Map(Object.entries(stored.requiredSometimes));
      this.variantSeeds = new Map(Object.entries(stored.variantSeeds));
      this.log.info(`baseline from the dry run: ${JSON.stringify(stored)}`);
    }
    // The swarm first, then each follow-up while the mutant survives; the first campaign
    // that does not pass gives the verdict. Every campaign shares the mutant's one time budget.
    const startedMs = Date.now();
    const passed: string[] = [];
    let record: MutantRecord | undefined;
    for (const campaign of this.campaignsFor(mutant.system)) {
      const name = campaignName(campaign);
      const estimateMs = this.campaignEstimateMs.get(name) ?? this.settings.timeLimitMinMs;
      // Our limit ends the campaign before Stryker's own (which would kill this process).
      const limitMs = Math.min(
        Math.max(this.settings.timeLimitMinMs, estimateMs * this.settings.timeLimitFactor),
        options.timeout - 10_000 - (Date.now() - startedMs),
      );
      const outcome = await this.fuzz(
        campaign.scenario,
        campaign.seeds,
        active.id,
        limitMs,
        campaign.variant,
      );
      const verdict = verdictOf(mutant, outcome, {
        ...this.settings,
        campaign,
        requiredSometimes:
          campaign.variant === undefined ? (this.requiredSometimes.get(name) ?? []) : [],
      });
      if (record === undefined || verdict.status !== 'survived') {
        record = verdict; // a survivor is recorded as the swarm judged it
      }
      if (verdict.status !== 'survived') {
        break;
      }
      passed.push(name);
    }
    assert(record !== undefined, 'a mutant runs at least its swarm campaign');
    record = {
      ...record,
      passedCampaigns: passed,
      ...(this.settings.followUpsOnly === true || this.settings.variantsOnly === true
        ? { swarmSkipped: true }
        : {}),
      ...(this.settings.variantsOnly === true ? { followUpsSkipped: true } : {}),
      ...(this.settings.campaigns === undefined ? {} : { campaignsOnly: this.settings.campaigns }),
      elapsedMs: Date.now() - startedMs,
    };
    appendDurably(this.settings.resultsFile, `${JSON.stringify(record)}\n`);
    this.log.info(
      `${record.id} ${record.location} ${record.mutator}: ${record.status}${record.invariant ? ` by ${record.invariant} in ${record.scenario} at seed ${record.failingSeed}` : ''} (passed: ${passed.join(', ') || 'none'}; ${Math.round(record.elapsedMs / 1000)} s)`,
    );
    switch (record.status) {
      case 'killed':
        return {
          status: MutantRunStatus.Killed,
          killedBy: [record.scenario],
          failureMessage: record.message ?? record.invariant ?? 'fuzz failed',
          nrOfTests: 1,
        };
      case 'survived':
        return { status: MutantRunStatus.Survived, nrOfTests: 1 };
      case 'timeout':
        return {
          status: MutantRunStatus.Timeout,
          reason: `${record.scenario}: no verdict in time`,
        };
      default:
        return { status: MutantRunStatus.Error, errorMessage: record.message ?? 'harness error' };
    }
  }

  /**
   * The mutant's campaigns in order; variant campaigns at the seeds their baseline allows
   * (none before the dry run has set them, and none whose baseline did not fail).
   */
  private campaignsFor(system: string): Campaign[] {
    const campaigns = campaignsOf(system, this.settings.seeds).map((campaign) =>
      campaign.variant === undefined || this.variantSeeds.size === 0
        ? campaign
        : { ...campaign, seeds: this.variantSeeds.get(campaignName(campaign)) ?? 0 },
    );
    return chooseCampaigns(campaigns, {
      followUpsOnly: this.settings.followUpsOnly,
      variantsOnly: this.settings.variantsOnly,
      names: this.settings.campaigns,
    }).filter((campaign) => campaign.seeds > 0);
  }

  private projectRelative(fileName: string): string {
    for (const base of [this.settings.projectDir, process.cwd()]) {
      const path = isAbsolute(fileName) ? relative(base, fileName) : fileName;
      if (!path.startsWith('..')) {
        return path.split(sep).join('/');
      }
    }
    return fileName;
  }

  private fuzz(
    scenario: string,
    seeds: number,
    mutantId: string | null,
    limitMs: number,
    variant?: string,
  ): Promise<FuzzOutcome> {
    const startedMs = Date.now();
    const env = { ...process.env };
    delete env[INSTRUMENTER_CONSTANTS.ACTIVE_MUTANT_ENV_VARIABLE];
    if (mutantId !== null) {
      env[INSTRUMENTER_CONSTANTS.ACTIVE_MUTANT_ENV_VARIABLE] = mutantId;
    }
    const args = [
      '--single-threaded-gc',
      join(process.cwd(), 'bin', 'faultline.mjs'),
      'fuzz',
      scenario,
      '--seeds',
      String(seeds),
      '--stop-on-first',
      '--workers',
      '1',
      '--json',
      '--out',
      join(process.cwd(), '.mutants-out'),
      '--progress-every',
      '1h',
      ...(variant === undefined ? [] : ['--variant', variant]),
    ];
    return new Promise((resolve) => {
      // Fuzz workers are threads of this one process, so killing it ends the campaign. It
      // stays in our process group: whatever stops the bench stops the campaign too.
      const child = spawn(process.execPath, args, {
        cwd: process.cwd(),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderrTail = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdoutBytes + chunk.length <= STDOUT_BYTES_MAX) {
          stdout.push(chunk);
          stdoutBytes += chunk.length;
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_CHARS_KEPT);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, limitMs);
      const finish = (exitCode: number | null) => {
        clearTimeout(timer);
        resolve({
          exitCode,
          timedOut,
          summary: parseSummary(Buffer.concat(stdout).toString('utf8')),
          stderrTail: stderrTail.trim(),
          elapsedMs: Date.now() - startedMs,
        });
      };
      child.on('error', (error) => {
        stderrTail = `${stderrTail}\n${error.message}`;
        finish(null);
      });
      child.on('close', (code) => finish(code));
    });
  }
}

/**
 * The verdict on one mutant from its campaign's end. Killed: a finding (the lowest failing
 * seed names the invariant), or a campaign that could not run the mutated code at all (it
 * threw while loading: exit 3, or 1 with no summary). Interrupted campaigns (exit 130, a
 * signal) and bad usage (exit 2) say nothing about the mutant: errors, tried again next run.
 */
export function verdictOf(
  mutant: SampledMutant,
  outcome: FuzzOutcome,
  context: Pick<FaultlineFuzzSettings, 'seeds' | 'sourceHash' | 'commit'> & {
    /** The campaign judged (default: the mutant's swarm at `seeds`). */
    campaign?: Campaign;
    /** The `sometimes` assertions a passing campaign must still reach (requiredSometimes). */
    requiredSometimes?: readonly string[];
  },
): MutantRecord {
  const summary = outcome.summary;
  const campaign = context.campaign ?? { scenario: mutant.scenario, seeds: context.seeds };
  const base = {
    format: RECORD_FORMAT,
    id: mutant.id,
    key: mutant.key,
    system: mutant.system,
    scenario: campaign.scenario,
    location: mutateRange(mutant),
    mutator: mutant.mutator,
    replacement: mutant.replacement,
    seeds: context.seeds,
    seedsRun: summary?.seeds ?? 0,
    seedsToKill: null,
    failingSeed: null,
    invariant: null,
    message: null,
    elapsedMs: outcome.elapsedMs,
    sometimesNeverReached: summary?.coverage.sometimesNeverReached ?? [],
    sourceHash: context.sourceHash,
    commit: context.commit,
  } satisfies Omit<MutantRecord, 'status'>;
  if (outcome.timedOut) {
    return { ...base, status: 'timeout' };
  }
  if (campaign.variant !== undefined) {
    const variantVerdict = variantVerdictOf(base, outcome, campaign);
    if (variantVerdict !== undefined) {
      return variantVerdict;
    }
  }
  if (outcome.exitCode === 0) {
    if (summary === null || summary.failed !== 0) {
      return { ...base, status: 'error', message: 'fuzz exited 0 without a passing summary' };
    }
    const lost = (context.requiredSometimes ?? []).filter((name) =>
      summary.coverage.sometimesNeverReached.includes(name),
    );
    if (lost.length > 0 && summary.seeds >= campaign.seeds) {
      return {
        ...base,
        status: 'killed',
        seedsToKill: summary.seeds,
        invariant: 'sometimes-never-reached',
        message: clip(
          `no run of ${summary.seeds} seeds reached ${lost.map((name) => `"${name}"`).join(', ')}, which the unmutated swarm reaches`,
        ),
      };
    }
    return { ...base, status: 'survived' };
  }
  const findings = summary?.findings ?? [];
  if (outcome.exitCode === 1 && summary !== null && findings.length > 0) {
    const first = findings.reduce((low, finding) => (finding.seed < low.seed ? finding : low));
    return {
      ...base,
      status: 'killed',
      failingSeed: first.seed,
      seedsToKill: first.seed - summary.from + 1,
      invariant: first.invariant,
      message: clip(first.message),
    };
  }
  if (outcome.exitCode === 1 || outcome.exitCode === 3) {
    return {
      ...base,
      status: 'killed',
      invariant: `exit ${outcome.exitCode}`,
      message: clip(outcome.stderrTail),
    };
  }
  return {
    ...base,
    status: 'error',
    message: clip(`exit ${outcome.exitCode ?? 'by a signal'}: ${outcome.stderrTail}`),
  };
}

/**
 * A variant campaign inverts the verdict: a finding means the known bug is still found (the
 * mutant survives this campaign), and a campaign that passes every one of its seeds means the
 * mutant hid the bug. Whatever else (a mutant that cannot load, bad usage) is judged as any
 * campaign is.
 */
function variantVerdictOf(
  base: Omit<MutantRecord, 'status'>,
  outcome: FuzzOutcome,
  campaign: Campaign,
): MutantRecord | undefined {
  const summary = outcome.summary;
  if (outcome.exitCode === 1 && summary !== null && summary.findings.length > 0) {
    return { ...base, status: 'survived' };
  }
  if (outcome.exitCode === 0 && summary !== null && summary.failed === 0) {
    if (summary.seeds < campaign.seeds) {
      return { ...base, status: 'error', message: 'the variant campaign stopped early' };
    }
    return {
      ...base,
      status: 'killed',
      seedsToKill: summary.seeds,
      invariant: 'variant-not-found',
      message: clip(
        `${campaignName(campaign)} passed all ${summary.seeds} seeds: the known bug ${campaign.variant} is no longer found, which the unmutated code is within them`,
      ),
    };
  }
  return undefined;
}

/**
 * The `sometimes` assertions a baseline campaign reached so often that a campaign of `seeds`
 * seeds expects at least `expectedMin` runs to reach them (scaled from the baseline's own
 * seed count), in name order.
 */
export function requiredSometimes(
  baseline: FuzzSummary,
  seeds: number,
  expectedMin: number,
): string[] {
  const scale = seeds / Math.max(1, baseline.seeds);
  return Object.entries(baseline.coverage.sometimes)
    .filter(([, reachedSeeds]) => reachedSeeds * scale >= expectedMin)
    .map(([name]) => name)
    .sort();
}

interface StoredBaseline {
  estimatesMs: Record<string, number>;
  requiredSometimes: Record<string, string[]>;
  variantSeeds: Record<string, number>;
}

/** The dry run's campaign estimates, in the sandbox every runner process shares. */
function estimatesPath(): string {
  return join(process.cwd(), '.mutants-out', 'campaign-estimates.json');
}

/** One whole line in one append, synced before the next mutant starts: a stop loses none. */
function appendDurably(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function parseSummary(text: string): FuzzSummary | null {
  const line = text.trim().split('\n').at(-1);
  if (line === undefined || line === '') {
    return null;
  }
  try {
    const parsed = JSON.parse(line) as FuzzSummary;
    return parsed.faultline === 'fuzz-summary' ? parsed : null;
  } catch {
    return null;
  }
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_CHARS_MAX ? `${flat.slice(0, MESSAGE_CHARS_MAX - 3)}...` : flat;
}

export const strykerPlugins = [
  declareClassPlugin(PluginKind.TestRunner, RUNNER_NAME, FaultlineFuzzTestRunner),
];

/** Declares the `faultlineFuzz` option, so Stryker does not warn that it is unknown. */
export const strykerValidationSchema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  type: 'object',
  properties: { faultlineFuzz: { type: 'object' } },
};
