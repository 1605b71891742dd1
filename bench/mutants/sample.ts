// Which mutants the mutation-score bench tests (issue 17). Stryker's own instrumenter lists
// every mutant of systems/raft and systems/kv (the same mutators, the same locations that a
// Stryker run places), and a seeded draw picks a fixed number per system, so every session
// and every shard agrees on the sample without storing it. Stryker has no random sample of
// its own; its `mutate` option takes exact ranges (`file:line:col-line:col`), which is how a
// run is restricted to the drawn mutants.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { assert } from '../../sim/assert.ts';
import { Random } from '../../sim/random.ts';

/** A further campaign on a mutant the first one did not kill, at a share of its seeds. */
export interface FollowUpCampaign {
  scenario: string;
  /** Its seeds, as a percentage of the first campaign's (at least one seed). */
  seedsPercent: number;
}

/**
 * A known-bug variant the swarm must keep finding: a mutant in the variant's own code (the
 * switch that turns the bug on, the path it takes) that hides it is killed when the campaign
 * with the variant on no longer fails. `faultline fuzz <scenario> --variant <variant>`.
 */
export interface VariantCampaign {
  scenario: string;
  variant: string;
}

/** The largest number of seeds a variant campaign may take, mutated or not. */
export const VARIANT_SEEDS_MAX = 400;

/** A system whose mutants are sampled, and the scenarios that must kill them. */
export interface MutatedSystem {
  name: 'raft' | 'kv';
  /** Folder of the sources mutated, relative to the project. */
  folder: string;
  /** The swarm `faultline fuzz` runs first on this system's mutants, at the full seed count. */
  scenario: string;
  /**
   * Scenarios tried in turn on a mutant the swarm did not kill: the system's code that only
   * they run (leases, several groups on one node, the MIT ports' scripted clients).
   */
  followUps: readonly FollowUpCampaign[];
  /** Then the system's known-bug variants, each of which must still be found. */
  variants: readonly VariantCampaign[];
}

const RAFT_SWARM_VARIANTS = [
  'commit-previous-term',
  'vote-without-fsync',
  'forget-vote-on-restart',
  'ack-before-fsync',
  'accept-stale-term',
  'no-truncate-on-conflict',
  'snapshot-off-by-one',
  'torn-tail-refused',
  'recover-drops-last-entry',
  'leader-never-steps-down',
];
const KV_SWARM_VARIANTS = [
  'stale-follower-read',
  'no-dedup',
  'dedup-not-in-snapshot',
  'apply-before-commit',
  'client-retries-same-server',
];

export const MUTATED_SYSTEMS: readonly MutatedSystem[] = [
  {
    name: 'raft',
    folder: 'systems/raft',
    scenario: 'raft',
    followUps: [
      { scenario: 'raft-colocated', seedsPercent: 25 },
      { scenario: 'kv-lease', seedsPercent: 25 },
      { scenario: 'raft-lease-restart', seedsPercent: 10 },
      // Scripted (or nearly: the MIT port draws only which servers): a run or two is all
      // each needs. The lease at its drift bound; a rejoining follower's pre-vote; the bytes a
      // leader spends backing up over long divergent logs.
      { scenario: 'raft-lease-drift', seedsPercent: 1 },
      { scenario: 'raft-prevote-rejoin', seedsPercent: 1 },
      { scenario: 'raft-3b-backup', seedsPercent: 1 },
      // Backing up over a suffix of a term the leader never saw: the follower's hint.
      { scenario: 'raft-backup-unknown-term', seedsPercent: 1 },
      // The MIT ports with budgets: messages (TestCount3B), bytes (TestRPCBytes3B), the
      // persisted log's size under snapshots (TestSnapshotBasic3D); and catch-up by snapshot.
      { scenario: 'raft-3b-count', seedsPercent: 1 },
      { scenario: 'raft-3b-rpc-bytes', seedsPercent: 1 },
      { scenario: 'raft-3d-snapshot-basic', seedsPercent: 1 },
      { scenario: 'raft-3d-snapshot-install', seedsPercent: 1 },
    ],
    variants: [
      ...RAFT_SWARM_VARIANTS.map((variant) => ({ scenario: 'raft', variant })),
      { scenario: 'kv-lease', variant: 'lease-renewed-on-send' },
      { scenario: 'kv-lease', variant: 'lease-on-ticks' },
      { scenario: 'raft-lease-restart', variant: 'lease-vote-after-restart' },
      { scenario: 'raft-lease-drift', variant: 'lease-ignores-drift' },
    ],
  },
  {
    name: 'kv',
    folder: 'systems/kv',
    scenario: 'kv',
    followUps: [
      { scenario: 'kv-mit-unreliable-one-key', seedsPercent: 5 },
      { scenario: 'kv-mit-snapshot-size', seedsPercent: 5 },
      { scenario: 'kv-mit-one-partition', seedsPercent: 5 },
      { scenario: 'kv-mit-snapshot-rpc', seedsPercent: 5 },
      // The random workload on no shared keys (MIT's GenericTest: each client its own key).
      { scenario: 'kv-mit-basic', seedsPercent: 5 },
    ],
    variants: KV_SWARM_VARIANTS.map((variant) => ({ scenario: 'kv', variant })),
  },
];

/**
 * One campaign of a mutant's: a scenario and its seed count, and for a variant campaign the
 * known bug switched on (the campaign must then fail; its seeds are the most it may take).
 */
export interface Campaign {
  scenario: string;
  seeds: number;
  variant?: string;
}

/** A campaign's name in logs, records and the baseline's keys. */
export function campaignName(campaign: Pick<Campaign, 'scenario' | 'variant'>): string {
  return campaign.variant === undefined
    ? campaign.scenario
    : `${campaign.scenario} --variant ${campaign.variant}`;
}

/**
 * The campaigns run on a system's mutants at `seeds`, in order: the swarm, then follow-ups,
 * then the variant campaigns (each at most VARIANT_SEEDS_MAX seeds; the baseline narrows it).
 */
export function campaignsOf(systemName: string, seeds: number): Campaign[] {
  const system = MUTATED_SYSTEMS.find((candidate) => candidate.name === systemName);
  assert(system !== undefined, `no mutated system ${systemName}`);
  return [
    { scenario: system.scenario, seeds },
    ...system.followUps.map((followUp) => ({
      scenario: followUp.scenario,
      seeds: Math.max(1, Math.round((seeds * followUp.seedsPercent) / 100)),
    })),
    ...system.variants.map((campaign) => ({ ...campaign, seeds: VARIANT_SEEDS_MAX })),
  ];
}

/** Which of a system's campaigns a run takes (`--follow-ups-only`, `--variants-only`, `--campaigns`). */
export interface CampaignChoice {
  followUpsOnly?: boolean;
  variantsOnly?: boolean;
  /** Only the campaigns of these names (campaignName), in the system's order. */
  names?: readonly string[];
}

/** The campaigns a run takes out of a system's list (campaignsOf), in the same order. */
export function chooseCampaigns(
  campaigns: readonly Campaign[],
  choice: CampaignChoice,
): Campaign[] {
  const [swarm, ...rest] = campaigns;
  const kept =
    choice.variantsOnly === true
      ? rest.filter((campaign) => campaign.variant !== undefined)
      : choice.followUpsOnly === true
        ? rest
        : [...(swarm === undefined ? [] : [swarm]), ...rest];
  const names = choice.names;
  return names === undefined
    ? kept
    : kept.filter((campaign) => names.includes(campaignName(campaign)));
}

/**
 * The seeds a mutant's variant campaign may take, from the unmutated code's first failing
 * seed (counted from 1): four times as many and at least 50 more, so that a mutant that merely
 * moves the schedule (the bug found a few seeds later) is not taken for one that hides it.
 */
export function variantSeedsFor(baselineSeedsToFail: number): number {
  return Math.min(VARIANT_SEEDS_MAX, Math.max(4 * baselineSeedsToFail, baselineSeedsToFail + 50));
}

/** Stryker's 0-based line, 0-based column position (its API's convention). */
export interface Position {
  line: number;
  column: number;
}

/** One mutant as the instrumenter lists it, with the file relative to the project. */
export interface ListedMutant {
  file: string;
  start: Position;
  end: Position;
  mutator: string;
  replacement: string;
}

/** A drawn mutant: what a result line names it by. */
export interface SampledMutant extends ListedMutant {
  /** Short hash of the key: the same mutant of the same sources has the same id everywhere. */
  id: string;
  key: string;
  system: MutatedSystem['name'];
  scenario: string;
}

export const SAMPLE_SEED_DEFAULT = 'issue-17';
export const PER_SYSTEM_DEFAULT = 150;

/**
 * The identity of a mutant: where, which mutator and what it puts there. Lines are printed
 * 1-based (as an editor and Stryker's `mutate` option count them), columns 0-based.
 */
export function mutantKey(mutant: ListedMutant): string {
  return `${mutateRange(mutant)} ${mutant.mutator} ${JSON.stringify(mutant.replacement)}`;
}

/** Stryker's `mutate` entry selecting exactly this mutant's node (`file:line:col-line:col`). */
export function mutateRange(mutant: ListedMutant): string {
  const { start, end } = mutant;
  return `${mutant.file}:${start.line + 1}:${start.column}-${end.line + 1}:${end.column}`;
}

export function mutantId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 10);
}

function compareMutants(a: ListedMutant, b: ListedMutant): number {
  return (
    compareText(a.file, b.file) ||
    a.start.line - b.start.line ||
    a.start.column - b.start.column ||
    a.end.line - b.end.line ||
    a.end.column - b.end.column ||
    compareText(a.mutator, b.mutator) ||
    compareText(a.replacement, b.replacement)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Draws `count` mutants of one system (all of them when it has fewer), independent of the
 * order they were listed in: the list is sorted first, then a partial Fisher–Yates shuffle
 * driven by `Random` picks the prefix. The result is in source order.
 */
export function drawSample(
  listed: readonly ListedMutant[],
  system: MutatedSystem,
  count: number,
  seed: string,
): SampledMutant[] {
  assert(Number.isSafeInteger(count) && count >= 0, 'a sample size is a whole number');
  const ordered = [...listed].sort(compareMutants);
  const random = Random.fromSeed(`mutants/${system.name}/${seed}`);
  const take = Math.min(count, ordered.length);
  for (let index = 0; index < take; index++) {
    const pick = index + random.int(ordered.length - index);
    const chosen = ordered[pick] as ListedMutant;
    ordered[pick] = ordered[index] as ListedMutant;
    ordered[index] = chosen;
  }
  const drawn = ordered.slice(0, take).sort(compareMutants);
  const seen = new Set<string>();
  return drawn.map((mutant) => {
    const key = mutantKey(mutant);
    // Two mutants with the same place, mutator and replacement would be one mutant twice.
    assert(!seen.has(key), `the instrumenter listed ${key} twice`);
    seen.add(key);
    return { ...mutant, key, id: mutantId(key), system: system.name, scenario: system.scenario };
  });
}

/** Shard i of n of a sample: every n-th mutant from the i-th, so shards cost about the same. */
export function shardOf<T>(sample: readonly T[], shard: { index: number; count: number }): T[] {
  return sample.filter((_, position) => position % shard.count === shard.index);
}

/** The mutated source files of a system: its .ts files less tests and test kits. */
export function systemSources(projectDir: string, system: MutatedSystem): string[] {
  return readdirSync(join(projectDir, system.folder))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .filter((name) => !name.startsWith('testkit'))
    .sort()
    .map((name) => `${system.folder}/${name}`);
}

/** A hash of every mutated file: results of other sources describe other mutants. */
export function sourcesHash(projectDir: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(`${file}\0${readFileSync(join(projectDir, file), 'utf8')}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Every mutant Stryker would place in these files (its default mutators, nothing excluded). */
export async function listMutants(
  projectDir: string,
  files: readonly string[],
): Promise<ListedMutant[]> {
  const { Instrumenter } = await import('@stryker-mutator/instrumenter');
  const quiet = () => undefined;
  const logger = {
    isTraceEnabled: () => false,
    isDebugEnabled: () => false,
    isInfoEnabled: () => false,
    isWarnEnabled: () => false,
    isErrorEnabled: () => true,
    isFatalEnabled: () => true,
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: quiet,
    error: quiet,
    fatal: quiet,
  };
  const instrumenter = new Instrumenter(logger);
  const result = await instrumenter.instrument(
    files.map((name) => ({
      name,
      content: readFileSync(join(projectDir, name), 'utf8'),
      mutate: true,
    })),
    { plugins: null, excludedMutations: [], ignorers: [] },
  );
  return result.mutants
    .filter((mutant) => mutant.status === undefined) // Stryker skips ignored ones too
    .map((mutant) => ({
      file: mutant.fileName,
      start: { line: mutant.location.start.line, column: mutant.location.start.column },
      end: { line: mutant.location.end.line, column: mutant.location.end.column },
      mutator: mutant.mutatorName,
      replacement: mutant.replacement,
    }));
}

export interface Sample {
  seed: string;
  perSystem: number;
  sourceHash: string;
  /** Mutants listed per system before drawing. */
  listed: Record<string, number>;
  mutants: SampledMutant[];
}

/** The whole sample: `perSystem` mutants of each system, in system then source order. */
export async function sampleFor(projectDir: string, seed: string, perSystem: number) {
  const mutants: SampledMutant[] = [];
  const listed: Record<string, number> = {};
  const allFiles: string[] = [];
  for (const system of MUTATED_SYSTEMS) {
    const files = systemSources(projectDir, system);
    allFiles.push(...files);
    const all = await listMutants(projectDir, files);
    listed[system.name] = all.length;
    mutants.push(...drawSample(all, system, perSystem, seed));
  }
  const sample: Sample = {
    seed,
    perSystem,
    sourceHash: sourcesHash(projectDir, allFiles),
    listed,
    mutants,
  };
  return sample;
}

/** A sampled mutant of the current sources, and the one of older sources it stands for. */
export interface PairedMutant extends SampledMutant {
  /** The id the mutant had in the older sources' sample. */
  pairedWith: string;
}

/**
 * The older sources' sample, found again in the current sources, so that a score measured
 * before a change and one measured after it judge the same mutants: a mutant's key holds its
 * line and column, which an edit above it moves. A mutant is the same when its file, mutator,
 * replacement and the code it replaces are, and it is the same occurrence of that code in the
 * file (counted in source order); when the file now holds that code more or fewer times, the
 * occurrence nearest its old line stands for it. A mutant whose code is gone has no pair.
 */
export async function pairedSample(
  projectDir: string,
  olderDir: string,
  seed: string,
  perSystem: number,
): Promise<
  Omit<Sample, 'mutants'> & {
    mutants: PairedMutant[];
    unpaired: SampledMutant[];
    olderSourceHash: string;
  }
> {
  const older = await sampleFor(olderDir, seed, perSystem);
  const current = await sampleFor(projectDir, seed, perSystem);
  const mutants: PairedMutant[] = [];
  const unpaired: SampledMutant[] = [];
  for (const system of MUTATED_SYSTEMS) {
    const olderAll = await listMutants(olderDir, systemSources(olderDir, system));
    const currentAll = await listMutants(projectDir, systemSources(projectDir, system));
    const olderGroups = groupBySignature(olderDir, olderAll);
    const currentGroups = groupBySignature(projectDir, currentAll);
    for (const mutant of older.mutants.filter((m) => m.system === system.name)) {
      const signature = signatureOf(olderDir, mutant);
      const was = olderGroups.get(signature) ?? [];
      const now = currentGroups.get(signature) ?? [];
      const ordinal = was.findIndex((other) => mutantKey(other) === mutant.key);
      assert(ordinal >= 0, 'a sampled mutant is among the listed ones');
      const match =
        now.length === was.length
          ? now[ordinal]
          : [...now].sort(
              (a, b) =>
                Math.abs(a.start.line - mutant.start.line) -
                Math.abs(b.start.line - mutant.start.line),
            )[0];
      if (match === undefined) {
        unpaired.push(mutant);
        continue;
      }
      const key = mutantKey(match);
      mutants.push({
        ...match,
        key,
        id: mutantId(key),
        system: system.name,
        scenario: system.scenario,
        pairedWith: mutant.id,
      });
    }
  }
  return { ...current, mutants, unpaired, olderSourceHash: older.sourceHash };
}

export type PairedSample = Awaited<ReturnType<typeof pairedSample>>;

/** What makes two mutants of different versions of a file the same mutant, but the place. */
function signatureOf(projectDir: string, mutant: ListedMutant): string {
  return JSON.stringify([
    mutant.file,
    mutant.mutator,
    mutant.replacement,
    codeAt(projectDir, mutant),
  ]);
}

const fileLines = new Map<string, string[]>();

/** The source text a mutant replaces. */
export function codeAt(projectDir: string, mutant: ListedMutant): string {
  const path = join(projectDir, mutant.file);
  let lines = fileLines.get(path);
  if (lines === undefined) {
    lines = readFileSync(path, 'utf8').split('\n');
    fileLines.set(path, lines);
  }
  const { start, end } = mutant;
  if (start.line === end.line) {
    return (lines[start.line] ?? '').slice(start.column, end.column);
  }
  return [
    (lines[start.line] ?? '').slice(start.column),
    ...lines.slice(start.line + 1, end.line),
    (lines[end.line] ?? '').slice(0, end.column),
  ].join('\n');
}

function groupBySignature(
  projectDir: string,
  mutants: readonly ListedMutant[],
): Map<string, ListedMutant[]> {
  const groups = new Map<string, ListedMutant[]>();
  for (const mutant of [...mutants].sort(compareMutants)) {
    const signature = signatureOf(projectDir, mutant);
    const group = groups.get(signature);
    if (group === undefined) {
      groups.set(signature, [mutant]);
    } else {
      group.push(mutant);
    }
  }
  return groups;
}
