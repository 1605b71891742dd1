// The checker: split the history with the model's partition (P-compositionality), search each
// part with WGL, interleaving parts in slices so that the first illegal part ends the check,
// and turn the deepest point of an illegal part into a sentence a person can act on.
import { assert } from '../../sim/assert.ts';
import { PartitionSearch } from './search.ts';
import {
  type Budget,
  type CheckResult,
  type Explanation,
  isUnknown,
  type Model,
  type Operation,
  type Partition,
  type SearchStats,
} from './types.ts';

/** No step ceiling unless one is given: the search always terminates, the memo only prunes. */
export const DEFAULT_MAX_STEPS = Number.POSITIVE_INFINITY;
/** The memo's budget over all parts; a full memo forgets its older half, it never gives up. */
export const DEFAULT_MAX_MEMO_BYTES = 1024 * 1024 * 1024;
/** Steps one part runs before the next part gets a turn; also how often the clock is read. */
const SLICE_STEPS = 16_384;

export interface CheckOptions extends Budget {}

interface Part<S, I, O> {
  label: string;
  indices: number[];
  search: PartitionSearch<S, I, O>;
}

/**
 * Checks a history recorded in memory against a model. Never guesses: when the budget runs
 * out before a verdict, the verdict is `unknown`.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxMemoBytes = options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES;
  assert(maxSteps > 0 && maxMemoBytes > 0, 'a budget must be positive');
  const deadlineMs = deadlineOf(options);
  const parts = partsOf(model, operations, maxMemoBytes);
  let steps = 0;
  let active = parts.filter((part) => part.search.operationCount > 0);
  // Each pass runs every active part for at least one step, and every search terminates
  // (the memo only prunes), so the loop ends; the pass count is bounded by the steps.
  for (let pass = 0; active.length > 0; pass++) {
    assert(pass <= steps + 1, 'the scheduler makes progress on every pass');
    const stillActive: Part<S, I, O>[] = [];
    for (const part of active) {
      if (steps >= maxSteps) {
        return unknown(steps, parts, `the search used its budget of ${maxSteps} steps`);
      }
      const before = part.search.stepsTaken;
      const outcome = part.search.run(Math.min(SLICE_STEPS, maxSteps - steps));
      steps += part.search.stepsTaken - before;
      if (outcome === 'illegal') {
        const explanation = explain(model, operations, part);
        return { verdict: 'not-linearizable', ...stats(steps, parts), explanation };
      }
      if (outcome === 'running') {
        stillActive.push(part);
      }
    }
    if (deadlineMs !== undefined && stillActive.length > 0 && options.nowMs!() > deadlineMs) {
      return unknown(steps, parts, `the search ran out of its ${options.timeoutMs} ms`);
    }
    active = stillActive;
  }
  return { verdict: 'linearizable', ...stats(steps, parts) };
}

function deadlineOf(options: CheckOptions): number | undefined {
  if (options.timeoutMs === undefined || options.timeoutMs <= 0) {
    return undefined;
  }
  assert(options.nowMs !== undefined, 'a timeout needs a clock: pass nowMs');
  return options.nowMs() + options.timeoutMs;
}

function stats<S, I, O>(steps: number, parts: readonly Part<S, I, O>[]): SearchStats {
  const memoForgotten = parts.reduce((sum, part) => sum + part.search.memoEvicted, 0);
  return { steps, partitions: parts.length, memoForgotten };
}

function unknown<S, I, O>(
  steps: number,
  parts: readonly Part<S, I, O>[],
  reason: string,
): CheckResult {
  return { verdict: 'unknown', ...stats(steps, parts), reason };
}

function partsOf<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  maxMemoBytes: number,
): Part<S, I, O>[] {
  const split: Partition<I, O>[] =
    model.partition === undefined
      ? [{ label: '', operations: [...operations] }]
      : model.partition(operations);
  const indexOf = new Map<Operation<I, O>, number>();
  operations.forEach((op, index) => {
    indexOf.set(op, index);
  });
  let total = 0;
  const parts = split.map((partition) => {
    total += partition.operations.length;
    const indices = partition.operations.map((op) => {
      const index = indexOf.get(op);
      assert(
        index !== undefined,
        `${model.name}.partition returned an operation not in the history`,
      );
      return index;
    });
    return {
      label: partition.label,
      indices,
      // Each part's share of the budget, by its size: a part's memo grows with its operations.
      search: new PartitionSearch(
        model,
        partition.operations,
        Math.max(4096, (maxMemoBytes * partition.operations.length) / operations.length),
      ),
    };
  });
  assert(total === operations.length, `${model.name}.partition must keep every operation once`);
  return parts;
}

/** Renders one operation as `write(3) by client 2 (lines 4–9)`. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const what =
    model.describeOperation?.(op.input, op.output) ??
    `${JSON.stringify(op.input)} -> ${isUnknown(op.output) ? 'unknown' : JSON.stringify(op.output)}`;
  return `${what} by client ${op.clientId} (${whereOf(op)})`;
}

function whereOf<I, O>(op: Operation<I, O>): string {
  const open = isUnknown(op.output);
  if (op.lines !== undefined) {
    if (open || op.lines.return === undefined) {
      return `called at line ${op.lines.call}, never returned`;
    }
    return `lines ${op.lines.call}–${op.lines.return}`;
  }
  return open
    ? `called at t=${op.callTime}, never returned`
    : `called at t=${op.callTime}, returned at t=${op.returnTime}`;
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  part: Part<S, I, O>,
): Explanation {
  const deepest = part.search.deepestPoint;
  assert(deepest !== undefined, 'an illegal part has backtracked from some deepest point');
  const prefix = Array.from(deepest.prefix, (local) => part.indices[local]!);
  const blocked = part.indices[deepest.blocked]!;
  const stateAfterPrefix = model.describeState?.(deepest.state) ?? JSON.stringify(deepest.state);
  const blockedOp = operations[blocked]!;
  const n = part.indices.length;
  const last = prefix.at(-1);
  const ending =
    last === undefined ? '' : `, ending with ${describeOperation(model, operations[last]!)},`;
  const scope = part.label === '' ? '' : ` in ${part.label}`;
  const returnNote = isUnknown(blockedOp.output) ? '' : ' before it returned';
  const message =
    `Not linearizable${scope}: ${describeOperation(model, blockedOp)} cannot be placed. ` +
    `The longest linearizable prefix found orders ${prefix.length} of ${n} operations${ending} ` +
    `and leaves the state at ${stateAfterPrefix}; from there no order of the pending operations ` +
    `lets this one take effect${returnNote} with the output it reported. ` +
    `That is a lost write, a stale read or a reordering${scope}: compare it with the ` +
    `operations that completed just before it.`;
  return {
    partition: part.label,
    operationsInPartition: n,
    longestPrefix: prefix,
    blockedOperation: blocked,
    stateAfterPrefix,
    message,
  };
}

/** The first operation the model cannot interpret, with the reason; for bad-input errors. */
export function findInvalidInput<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
): { operation: Operation<I, O>; reason: string } | undefined {
  if (model.validateInput === undefined) {
    return undefined;
  }
  for (const operation of operations) {
    const reason = model.validateInput(operation.input);
    if (reason !== undefined) {
      return { operation, reason };
    }
  }
  return undefined;
}
