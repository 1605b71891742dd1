// The mutation-score bench's results: one JSON line per tested mutant, appended as soon as
// its campaign ends, so a stopped session loses at most the mutant it was on. A shard writes
// its own file; the summary merges every file into the score and the survivor table.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS_DIR = 'bench/results/mutants';
export const RECORD_FORMAT = 1;

/**
 * killed: `fuzz --stop-on-first` failed (a finding, or the campaign itself could not run the
 * mutated code); survived: every seed passed; timeout: the campaign outran its time limit;
 * error: the harness could not judge the mutant (never counted in the score).
 */
export type MutantStatus = 'killed' | 'survived' | 'timeout' | 'error';

export interface MutantRecord {
  format: typeof RECORD_FORMAT;
  id: string;
  key: string;
  system: string;
  /** The scenario whose campaign gave the verdict (a survivor's: the swarm). */
  scenario: string;
  /** `file:line:col-line:col` (lines 1-based), as Stryker's `mutate` option takes it. */
  location: string;
  mutator: string;
  replacement: string;
  status: MutantStatus;
  /** Seeds asked for (`--seeds`), and seeds that ran. */
  seeds: number;
  seedsRun: number;
  /** Seeds from the first up to and including the failing one (killed by a finding). */
  seedsToKill: number | null;
  failingSeed: number | null;
  /** The first finding's invariant (or kind: hang, crash, determinism…). */
  invariant: string | null;
  message: string | null;
  elapsedMs: number;
  /**
   * The campaign's `sometimes` assertions that no seed reached: a survivor whose swarm never
   * got where it meant to (a client that never sends passes every safety check).
   */
  sometimesNeverReached?: string[];
  /**
   * The scenarios whose campaigns passed on the mutant, in the order run: for a survivor,
   * the swarm and every follow-up; for a kill by a follow-up, those before it. Absent in
   * records from before follow-ups.
   */
  passedCampaigns?: string[];
  /**
   * The swarm's campaign was not run (--follow-ups-only): an earlier run's swarm at the same
   * seed count judged this mutant survived.
   */
  swarmSkipped?: boolean;
  /**
   * The follow-up campaigns were not run either (--variants-only): an earlier run's swarm and
   * follow-ups judged this mutant survived, and only the variant campaigns ran.
   */
  followUpsSkipped?: boolean;
  /** Only these campaigns ran (`--campaigns`): the mutant passed the others in earlier runs. */
  campaignsOnly?: string[];
  /** The sample's source hash: a record of other sources is about another mutant. */
  sourceHash: string;
  commit: string;
}

/** How a survivor was judged by hand (bench/results/mutants/classes.json, id → class). */
export interface SurvivorClass {
  class: 'equivalent' | 'open' | string;
  note?: string;
}

/** Parses a results file's lines; a torn last line (a stopped session) is skipped. */
export function parseRecords(text: string): MutantRecord[] {
  const records: MutantRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isRecord(parsed)) {
      records.push(parsed);
    }
  }
  return records;
}

function isRecord(value: unknown): value is MutantRecord {
  const record = value as Partial<MutantRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    record.format === RECORD_FORMAT &&
    typeof record.id === 'string' &&
    typeof record.status === 'string' &&
    typeof record.sourceHash === 'string'
  );
}

/** Every record in the results folder's .jsonl files, in file-name then line order. */
export function readResultsDir(dir: string): MutantRecord[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => parseRecords(readFileSync(join(dir, name), 'utf8')));
}

/**
 * One verdict per mutant of these sources: a judged record (not error) outranks an error,
 * among judged ones the larger campaign wins (a mutant rerun with more seeds), then the
 * later line. Records of other sources are counted apart, never mixed in.
 */
export function mergeRecords(
  records: readonly MutantRecord[],
  sourceHash: string,
): { verdicts: MutantRecord[]; stale: number } {
  const byId = new Map<string, MutantRecord>();
  let stale = 0;
  for (const record of records) {
    if (record.sourceHash !== sourceHash) {
      stale++;
      continue;
    }
    const kept = byId.get(record.id);
    if (kept === undefined || outranks(record, kept)) {
      byId.set(record.id, record);
    }
  }
  const verdicts = [...byId.values()].sort(
    (a, b) => compare(a.system, b.system) || compare(a.location, b.location),
  );
  return { verdicts, stale };
}

function outranks(candidate: MutantRecord, kept: MutantRecord): boolean {
  const judged = (record: MutantRecord) => record.status !== 'error';
  if (judged(candidate) !== judged(kept)) {
    return judged(candidate);
  }
  // A kill is a kill at any seed count: a later campaign that did not find it (a variants-only
  // run, a rerun at more seeds) does not undo it.
  const detected = (record: MutantRecord) =>
    record.status === 'killed' || record.status === 'timeout';
  if (detected(candidate) !== detected(kept)) {
    return detected(candidate);
  }
  return candidate.seeds >= kept.seeds;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a mutant already has a verdict worth keeping for a campaign of `seeds` seeds. */
export function isDone(verdict: MutantRecord | undefined, seeds: number): boolean {
  if (verdict === undefined || verdict.status === 'error') {
    return false;
  }
  // A kill is a kill at any seed count it took; a survivor must have passed this many seeds.
  return verdict.status === 'killed' || verdict.seeds >= seeds;
}

export interface Score {
  system: string;
  tested: number;
  killed: number;
  timeout: number;
  survived: number;
  errors: number;
  /** Survivors classified equivalent by hand: out of the score's denominator. */
  equivalent: number;
  /** (killed + timeout) / (tested − errors − equivalent), in percent; null with nothing judged. */
  scorePercent: number | null;
  medianSeedsToKill: number | null;
}

/** The score of one system's verdicts ('all' for every system). */
export function scoreOf(
  verdicts: readonly MutantRecord[],
  system: string,
  classes: Readonly<Record<string, SurvivorClass>> = {},
): Score {
  const mine = system === 'all' ? verdicts : verdicts.filter((v) => v.system === system);
  const count = (status: MutantStatus) => mine.filter((v) => v.status === status).length;
  const killed = count('killed');
  const timeout = count('timeout');
  const survived = count('survived');
  const errors = count('error');
  const equivalent = mine.filter(
    (v) => v.status === 'survived' && classes[v.id]?.class === 'equivalent',
  ).length;
  const judged = killed + timeout + survived - equivalent;
  const seedsToKill = mine
    .filter((v) => v.status === 'killed' && v.seedsToKill !== null)
    .map((v) => v.seedsToKill as number);
  return {
    system,
    tested: mine.length,
    killed,
    timeout,
    survived,
    errors,
    equivalent,
    scorePercent: judged === 0 ? null : Math.round((1000 * (killed + timeout)) / judged) / 10,
    medianSeedsToKill: median(seedsToKill),
  };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The summary as Markdown: a score table, then every survivor with its class. */
export function summaryMarkdown(
  verdicts: readonly MutantRecord[],
  sampleSize: number,
  classes: Readonly<Record<string, SurvivorClass>> = {},
): string {
  const systems = [...new Set(verdicts.map((v) => v.system))].sort();
  const lines = [
    `${verdicts.length} of ${sampleSize} sampled mutants judged.`,
    '',
    '| system | tested | killed | timeout | survived | equivalent | errors | score | median seeds to kill |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const system of [...systems, 'all']) {
    const s = scoreOf(verdicts, system, classes);
    const score = s.scorePercent === null ? '–' : `${s.scorePercent} %`;
    lines.push(
      `| ${system} | ${s.tested} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.equivalent} | ${s.errors} | ${score} | ${s.medianSeedsToKill ?? '–'} |`,
    );
  }
  const survivors = verdicts.filter((v) => v.status === 'survived');
  lines.push('', `Survivors (${survivors.length}):`, '');
  if (survivors.length > 0) {
    lines.push(
      '| id | location | mutator | replacement | seeds | sometimes never reached | class |',
      '| --- | --- | --- | --- | ---: | --- | --- |',
    );
    for (const v of survivors) {
      const judged = classes[v.id];
      const label =
        judged === undefined
          ? 'unclassified'
          : `${judged.class}${judged.note ? `: ${judged.note}` : ''}`;
      lines.push(
        `| ${v.id} | ${v.location} | ${v.mutator} | \`${cell(v.replacement)}\` | ${v.seedsRun} | ${cell((v.sometimesNeverReached ?? []).join(', ') || '–')} | ${cell(label)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A table cell: one line, no pipes, at most 80 characters. */
function cell(text: string): string {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
