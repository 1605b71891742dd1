// The shapes a user touches: operations, models and verdicts.

/**
 * The output of an operation whose outcome is not known (a timeout, a crash, Jepsen's `:info`).
 * Such an operation stays open until the end of the history: it may take effect at any time
 * after its call, or never. A model's `step` must accept it for any state it could have
 * produced. `Symbol.for` so that two copies of this module agree on it.
 */
export const UNKNOWN: unique symbol = Symbol.for('faultline.linearizability.unknown');
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** Where an operation came from in a history file, for messages a person can act on. */
export interface SourceLines {
  call: number;
  /** Absent when the operation never returned. */
  return?: number;
}

/**
 * One operation of a history as recorded by a client.
 * Intervals are closed: [10, 20] and [20, 30] overlap. When `output` is UNKNOWN the
 * `returnTime` is ignored (the operation is open until the end) and may be Infinity.
 */
export interface Operation<I, O> {
  clientId: number;
  input: I;
  output: O | Unknown;
  callTime: number;
  returnTime: number;
  lines?: SourceLines;
}

export interface StepResult<S> {
  ok: boolean;
  state: S;
}

export interface Partition<I, O> {
  /** Names the part in explanations, for example `key "3"`. */
  label: string;
  operations: Operation<I, O>[];
}

/**
 * A sequential specification. `step` must be pure: the search calls it many times on the
 * same state and keeps the old state to backtrack to.
 */
export interface Model<S, I, O> {
  name: string;
  init(): S;
  step(state: S, input: I, output: O | Unknown): StepResult<S>;
  /** Defaults to `===`. Must agree with `hash`: equal states have equal hashes. */
  equal?(a: S, b: S): boolean;
  /** A 32-bit integer. Without it, states are told apart by `equal` alone (slower). */
  hash?(state: S): number;
  /**
   * True when the operation never changes the state, whatever the state (a read). The search
   * then linearizes it as soon as it can and branches on nothing else there (a sound and
   * complete shortcut), so reads stop multiplying the search. Must be exact: an operation
   * that only sometimes leaves the state alone (a write of the current value) is not read-only.
   */
  readOnly?(input: I, output: O | Unknown): boolean;
  /** P-compositionality: split the history into parts checked independently (e.g. per key). */
  partition?(operations: readonly Operation<I, O>[]): Partition<I, O>[];
  describeOperation?(input: I, output: O | Unknown): string;
  describeState?(state: S): string;
  /** A reason when this model cannot interpret `input`, so bad input is reported, not checked. */
  validateInput?(input: I): string | undefined;
}

export interface Budget {
  /** Search steps over all parts; exceeding it gives `unknown`. Deterministic. None by default. */
  maxSteps?: number;
  /** Wall-clock limit; needs `nowMs` (invariants do not read the real clock themselves). */
  timeoutMs?: number;
  nowMs?: () => number;
  /**
   * Memo size over all parts, in bytes (bitsets and table; states are not counted). A memo at
   * its budget forgets its older half and the search goes on: never a reason to give up.
   */
  maxMemoBytes?: number;
}

export interface Explanation {
  /** The part that could not be linearized (`key "3"`), or '' when the history is one part. */
  partition: string;
  operationsInPartition: number;
  /** The longest linearizable prefix found, in linearization order. */
  longestPrefix: number[];
  /** Index (into the checked operations) of the operation that could not be placed. */
  blockedOperation: number;
  /** The model state after the longest prefix, as `describeState` renders it. */
  stateAfterPrefix: string;
  /** A sentence a person can act on. */
  message: string;
}

/** What every verdict reports about the search. */
export interface SearchStats {
  steps: number;
  partitions: number;
  /** Memo entries forgotten to stay within `maxMemoBytes` (0 when it never filled). */
  memoForgotten: number;
}

export type CheckResult =
  | ({ verdict: 'linearizable' } & SearchStats)
  | ({ verdict: 'not-linearizable'; explanation: Explanation } & SearchStats)
  | ({ verdict: 'unknown'; reason: string } & SearchStats);

export type Verdict = CheckResult['verdict'];
