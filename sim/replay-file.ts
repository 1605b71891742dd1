// Replay files: one failing (or kept passing) run as msgpack with a versioned schema. The file
// holds the plan *as run*, so a shrunk or hand-edited plan replays exactly; the trace hash and
// hash checkpoints let replay say whether, and at which event, today's code took another path.
// Reading never trusts the bytes: anything that is not a complete file of a format this
// faultline understands raises a ReplayFileError with one sentence a person can act on.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { DecodeError, decode, encode } from '@msgpack/msgpack';

import { assert } from './assert.ts';
import { PlanError, validatePlan } from './plan.ts';
import { runPlan } from './run.ts';
import { clientCount, type Scenario, serverCount } from './scenario.ts';
import type { RunOptions } from './simulation.ts';
import type { TraceRecorder } from './trace-log.ts';
import type { Outcome, Plan, RunResult, Violation, WorkloadValue } from './types.ts';

export const REPLAY_MAGIC = 'replay';
export const REPLAY_FORMAT = 1;
export const REPLAY_EXTENSION = '.msgpack';
/** Temp files start with a dot and end in .tmp: a glob for *.msgpack never picks one up. */
export const REPLAY_TEMP_SUFFIX = '.tmp';
const REPLAY_BYTES_MAX = 256 * 1024 * 1024;
const CHECKPOINTS_MAX = 1_000_000;

/** What a finding was: an invariant broke, or the harness saw the run misbehave. */
export type FindingKind =
  | 'violation'
  | 'budget'
  | 'error'
  | 'hang'
  | 'crash'
  | 'nondeterminism'
  | 'pass';

export type ExpectedOutcome = { outcome: 'fails'; invariant: string } | { outcome: 'passes' };

export interface ScenarioParameters {
  /** Nodes of the server groups and of the client groups, all groups together. */
  nodes: number;
  clients: number;
  durationUs: number;
  settleUs: number;
  workload: Record<string, WorkloadValue>;
  faultsEligible: string[];
}

export interface ReplayFile {
  faultline: typeof REPLAY_MAGIC;
  formatVersion: number;
  faultlineVersion: string;
  scenario: string;
  parameters: ScenarioParameters;
  variant: string | null;
  seed: number;
  finding: FindingKind;
  plan: Plan;
  /** Undefined for a run that never finished (a hang or a crashed worker). */
  outcome: Outcome | null;
  traceHash: string | null;
  checkpoints: [number, string][];
  events: number;
  virtualTimeUs: number;
  violation: Violation | null;
  expected: ExpectedOutcome;
}

export class ReplayFileError extends Error {
  override name = 'ReplayFileError';
}

let versionCache: string | undefined;

export function faultlineVersion(): string {
  if (versionCache === undefined) {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    versionCache = typeof version === 'string' ? version : '0.0.0';
  }
  return versionCache;
}

export function scenarioParameters(scenario: Scenario): ScenarioParameters {
  return {
    nodes: serverCount(scenario),
    clients: clientCount(scenario),
    durationUs: scenario.durationUs,
    settleUs: scenario.settleUs,
    workload: { ...scenario.workload },
    faultsEligible: [...scenario.faults.eligible],
  };
}

export interface ReplayInput {
  scenario: Scenario;
  plan: Plan;
  /** Undefined when the run never finished (hang, crashed worker). */
  result?: Pick<RunResult, 'outcome' | 'traceHash' | 'checkpoints' | 'stats' | 'violation'>;
  finding: FindingKind;
  expected?: ExpectedOutcome;
  /** For hangs and crashes: what the harness saw. */
  violation?: Violation;
}

/** Builds the file for a run; the expected outcome defaults to "fails the same invariant". */
export function replayFromRun(input: ReplayInput): ReplayFile {
  const { scenario, plan, result } = input;
  assert(plan.scenario === scenario.name, 'a replay file describes a run of its own scenario');
  const violation = result?.violation ?? input.violation ?? null;
  const expected: ExpectedOutcome =
    input.expected ??
    (violation === null
      ? { outcome: 'passes' }
      : { outcome: 'fails', invariant: violation.invariant });
  return {
    faultline: REPLAY_MAGIC,
    formatVersion: REPLAY_FORMAT,
    faultlineVersion: faultlineVersion(),
    scenario: scenario.name,
    parameters: scenarioParameters(scenario),
    variant: plan.variant,
    seed: plan.seed,
    finding: input.finding,
    plan,
    outcome: result?.outcome ?? null,
    traceHash: result?.traceHash ?? null,
    checkpoints: result?.checkpoints ?? [],
    events: result?.stats.events ?? 0,
    virtualTimeUs: result?.stats.virtualTimeUs ?? 0,
    violation,
    expected,
  };
}

export function encodeReplay(file: ReplayFile): Uint8Array {
  return encode(file, { ignoreUndefined: true });
}

// ---------------------------------------------------------------------------------------
// Decoding: every field checked, every failure one sentence.

function damaged(source: string, detail: string): never {
  throw new ReplayFileError(`${source} is a damaged faultline replay file: ${detail}`);
}

/** Decodes and checks a replay file; `source` names it in error messages. */
export function decodeReplay(bytes: Uint8Array, source = 'the file'): ReplayFile {
  const value = decodeMsgpack(bytes, source);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ReplayFileError(`${source} is not a faultline replay file (it holds no map)`);
  }
  const file = value as Record<string, unknown>;
  if (file['faultline'] !== REPLAY_MAGIC) {
    throw new ReplayFileError(`${source} is not a faultline replay file (no faultline marker)`);
  }
  const format = file['formatVersion'];
  if (typeof format !== 'number' || !Number.isSafeInteger(format) || format < 1) {
    damaged(source, 'its format version is missing');
  }
  if (format > REPLAY_FORMAT) {
    throw new ReplayFileError(
      `${source} was written by a newer faultline (${describeVersion(file)}, replay format ${format}; this one reads format ${REPLAY_FORMAT}): upgrade faultline to replay it`,
    );
  }
  checkFields(file, source);
  try {
    file['plan'] = validatePlan(file['plan']); // migrated when it is of an older format
  } catch (error) {
    if (error instanceof PlanError) {
      damaged(source, error.message);
    }
    throw error;
  }
  const plan = file['plan'] as Plan;
  if (plan.scenario !== file['scenario'] || plan.seed !== file['seed']) {
    damaged(source, 'its plan belongs to another scenario or seed');
  }
  return value as ReplayFile;
}

function decodeMsgpack(bytes: Uint8Array, source: string): unknown {
  if (bytes.length === 0) {
    throw new ReplayFileError(`${source} is empty, not a faultline replay file`);
  }
  try {
    return decode(bytes, { maxStrLength: 1 << 24, maxBinLength: 1 << 24 });
  } catch (error) {
    if (error instanceof DecodeError || error instanceof RangeError) {
      throw new ReplayFileError(
        `${source} is not a faultline replay file, or it is truncated (not valid msgpack)`,
      );
    }
    // Garbage can make the decoder fail in other ways (a bad extension type, a huge length).
    throw new ReplayFileError(
      `${source} is not a faultline replay file, or it is corrupt (${errorText(error)})`,
    );
  }
}

function describeVersion(file: Record<string, unknown>): string {
  const version = file['faultlineVersion'];
  return typeof version === 'string' ? `faultline ${version}` : 'an unknown version';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const FINDINGS: FindingKind[] = [
  'violation',
  'budget',
  'error',
  'hang',
  'crash',
  'nondeterminism',
  'pass',
];
const OUTCOMES: Outcome[] = ['pass', 'violation', 'budget', 'error'];

function checkFields(file: Record<string, unknown>, source: string): void {
  const isCount = (value: unknown) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (typeof file['faultlineVersion'] !== 'string') {
    damaged(source, 'faultlineVersion should be a string');
  }
  if (typeof file['scenario'] !== 'string' || file['scenario'].length === 0) {
    damaged(source, 'scenario should be a scenario name');
  }
  if (file['variant'] !== null && typeof file['variant'] !== 'string') {
    damaged(source, 'variant should be a name or null');
  }
  if (!isCount(file['seed'])) {
    damaged(source, 'seed should be a non-negative integer');
  }
  if (!FINDINGS.includes(file['finding'] as FindingKind)) {
    damaged(source, `finding should be one of ${FINDINGS.join(', ')}`);
  }
  if (file['outcome'] !== null && !OUTCOMES.includes(file['outcome'] as Outcome)) {
    damaged(source, `outcome should be one of ${OUTCOMES.join(', ')} or null`);
  }
  if (file['traceHash'] !== null && typeof file['traceHash'] !== 'string') {
    damaged(source, 'traceHash should be a string or null');
  }
  if (!isCount(file['events']) || !isCount(file['virtualTimeUs'])) {
    damaged(source, 'events and virtualTimeUs should be non-negative integers');
  }
  checkParameters(file['parameters'], source);
  checkCheckpoints(file['checkpoints'], source);
  checkViolation(file['violation'], source);
  checkExpected(file['expected'], source);
}

function checkParameters(value: unknown, source: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    damaged(source, 'parameters should be a map');
  }
  const parameters = value as Record<string, unknown>;
  for (const key of ['nodes', 'clients', 'durationUs', 'settleUs']) {
    if (typeof parameters[key] !== 'number') {
      damaged(source, `parameters.${key} should be a number`);
    }
  }
}

function checkCheckpoints(value: unknown, source: string): void {
  if (!Array.isArray(value) || value.length > CHECKPOINTS_MAX) {
    damaged(source, 'checkpoints should be a list');
  }
  let previous = 0;
  for (const item of value) {
    const ok =
      Array.isArray(item) &&
      item.length === 2 &&
      typeof item[0] === 'number' &&
      Number.isSafeInteger(item[0]) &&
      item[0] > previous &&
      typeof item[1] === 'string';
    if (!ok) {
      damaged(source, 'checkpoints should be increasing [eventIndex, hash] pairs');
    }
    previous = item[0] as number;
  }
}

function checkViolation(value: unknown, source: string): void {
  if (value === null) {
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    damaged(source, 'violation should be a map or null');
  }
  const violation = value as Record<string, unknown>;
  const ok =
    typeof violation['invariant'] === 'string' &&
    typeof violation['message'] === 'string' &&
    typeof violation['timeUs'] === 'number' &&
    typeof violation['eventIndex'] === 'number';
  if (!ok) {
    damaged(source, 'violation should name an invariant, a time, an event and a message');
  }
}

function checkExpected(value: unknown, source: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    damaged(source, 'expected should be a map');
  }
  const expected = value as Record<string, unknown>;
  if (expected['outcome'] === 'passes') {
    return;
  }
  if (expected['outcome'] === 'fails' && typeof expected['invariant'] === 'string') {
    return;
  }
  damaged(source, 'expected should be {outcome: "passes"} or {outcome: "fails", invariant}');
}

// ---------------------------------------------------------------------------------------
// Files

/**
 * Writes atomically: a temp file in the same directory, fsync, rename, fsync the directory.
 * A reader (or a kill -9 at any moment) sees either no file or the complete one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const directory = dirname(path);
  const temp = join(
    directory,
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${REPLAY_TEMP_SUFFIX}`,
  );
  const fd = openSync(temp, 'wx', 0o644);
  try {
    let offset = 0;
    // A bounded loop: each write makes progress or throws.
    for (let attempt = 0; offset < bytes.length && attempt < 1_000_000; attempt++) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
    assert(offset === bytes.length, 'the whole replay file was written');
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    void unlink(temp).catch(() => undefined);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  syncDirectory(directory);
}

function syncDirectory(directory: string): void {
  // Makes the rename itself durable. Some platforms cannot fsync a directory: best effort.
  try {
    const fd = openSync(directory, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Durability of the directory entry is a bonus, not a requirement, for replay files.
  }
}

export function writeReplay(path: string, file: ReplayFile): void {
  writeFileAtomic(path, encodeReplay(file));
}

export function readReplay(path: string): ReplayFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EISDIR') {
      throw new ReplayFileError(directoryText(path));
    }
    const reason = code === 'ENOENT' ? 'no such file' : errorText(error);
    throw new ReplayFileError(`cannot read replay file ${path}: ${reason}`);
  }
  if (bytes.length > REPLAY_BYTES_MAX) {
    throw new ReplayFileError(`${path} is too large to be a faultline replay file`);
  }
  return decodeReplay(bytes, path);
}

/** "`dir` is a directory; name one of its replay files (a.msgpack, b.msgpack, …)". */
function directoryText(path: string): string {
  let names: string[] = [];
  try {
    names = readdirSync(path)
      .filter((name) => name.endsWith(REPLAY_EXTENSION))
      .sort();
  } catch {
    // Unreadable: say what it is without listing it.
  }
  const shown = names.slice(0, 3).map((name) => join(path, name));
  const more = names.length > shown.length ? `, and ${names.length - shown.length} more` : '';
  return names.length === 0
    ? `${path} is a directory, and it holds no ${REPLAY_EXTENSION} replay files; name a replay file`
    : `${path} is a directory; name one of its replay files: ${shown.join(', ')}${more}`;
}

/** A stable, readable file name for a finding. */
export function replayFileName(
  file: Pick<ReplayFile, 'scenario' | 'variant' | 'seed' | 'finding'>,
) {
  const variant = file.variant ?? 'main';
  return `${file.scenario}-${variant}-seed${file.seed}-${file.finding}${REPLAY_EXTENSION}`;
}

// ---------------------------------------------------------------------------------------
// Replaying

export interface Divergence {
  /** The last event index at which both runs agreed (0 when they differ from the start). */
  agreedThroughEvent: number;
  /** The first checkpoint index at which they disagree, or null when only the end differs. */
  differsByEvent: number | null;
  /** A sentence saying where the run diverged. */
  message: string;
}

/**
 * Compares hash checkpoints of the recorded run with a new one. `untilEvent` limits the
 * comparison when the new run was stopped early. Undefined when the compared parts agree.
 */
export function locateDivergence(
  recorded: Pick<ReplayFile, 'checkpoints' | 'traceHash' | 'events'>,
  now: Pick<RunResult, 'checkpoints' | 'traceHash' | 'stats'>,
  untilEvent = Number.POSITIVE_INFINITY,
): Divergence | undefined {
  const fresh = new Map(now.checkpoints);
  let agreed = 0;
  for (const [eventIndex, hash] of recorded.checkpoints) {
    if (eventIndex > untilEvent) {
      return undefined;
    }
    const other = fresh.get(eventIndex);
    if (other === undefined) {
      // The new run ended before this checkpoint.
      return {
        agreedThroughEvent: agreed,
        differsByEvent: eventIndex,
        message: `the run diverged between event ${agreed} and event ${Math.min(eventIndex, now.stats.events + 1)}: the recorded run went on to event ${recorded.events}, this one ended at event ${now.stats.events}`,
      };
    }
    if (other !== hash) {
      return {
        agreedThroughEvent: agreed,
        differsByEvent: eventIndex,
        message: `the run diverged between event ${agreed} and event ${eventIndex} (checkpoints agree through event ${agreed}, differ at event ${eventIndex})`,
      };
    }
    agreed = eventIndex;
  }
  if (untilEvent < Number.POSITIVE_INFINITY) {
    return undefined;
  }
  if (now.traceHash === recorded.traceHash && now.stats.events === recorded.events) {
    return undefined;
  }
  const end = Math.max(recorded.events, now.stats.events);
  return {
    agreedThroughEvent: agreed,
    differsByEvent: null,
    message: `the run diverged after event ${agreed}, the last checkpoint both runs agree on (the recorded run ended at event ${recorded.events}, this one at event ${now.stats.events}; end ${end})`,
  };
}

export interface ReplayOptions {
  trace?: TraceRecorder;
  logSink?: RunOptions['logSink'];
  untilEvent?: number;
}

export interface Replayed {
  file: ReplayFile;
  plan: Plan;
  result: RunResult;
  /** The trace records, when a recorder was passed (for timelines and the viewer). */
  records: TraceRecorder['records'];
  /** True when the recorded trace hash is known and the new run matches it. */
  hashMatches: boolean;
  divergence: Divergence | undefined;
  /** How the new run compares with the file's expected outcome. */
  verdict: 'reproduced' | 'passes' | 'fails-differently';
}

/** Reads a replay file and re-runs its plan: the seam the CLI and the viewer share. */
export function replayFile(path: string, options: ReplayOptions = {}): Replayed {
  return replayLoaded(readReplay(path), options);
}

export function replayLoaded(file: ReplayFile, options: ReplayOptions = {}): Replayed {
  const runOptions: RunOptions = {};
  if (options.trace !== undefined) {
    runOptions.trace = options.trace;
  }
  if (options.logSink !== undefined) {
    runOptions.logSink = options.logSink;
  }
  if (options.untilEvent !== undefined) {
    runOptions.untilEvent = options.untilEvent;
  }
  const result = runPlan(file.plan, runOptions);
  const divergence =
    file.traceHash === null ? undefined : locateDivergence(file, result, options.untilEvent);
  const hashMatches = file.traceHash !== null && result.traceHash === file.traceHash;
  return {
    file,
    plan: file.plan,
    result,
    records: options.trace?.records ?? [],
    hashMatches,
    divergence,
    verdict: verdictOf(file, result),
  };
}

function verdictOf(file: ReplayFile, result: RunResult): Replayed['verdict'] {
  if (result.violation === undefined) {
    return 'passes';
  }
  const expected = file.violation?.invariant;
  return expected === result.violation.invariant ? 'reproduced' : 'fails-differently';
}

/** True when a run meets the file's recorded expectation (regression replays). */
export function meetsExpectation(file: ReplayFile, result: RunResult): boolean {
  if (file.expected.outcome === 'passes') {
    return result.outcome === 'pass';
  }
  return result.violation?.invariant === file.expected.invariant;
}
