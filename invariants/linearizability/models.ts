// Built-in sequential specifications. Each is a plain object implementing Model; users write
// their own the same way.
import {
  type HistoryInput,
  type HistoryOperation,
  type HistoryOutput,
  sameValue,
  showValue,
  type Value,
} from './history.ts';
import { isUnknown, type Model, type Partition, type StepResult, type Unknown } from './types.ts';

export type RegisterState = Value;

function hashValue(value: Value): number {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? value | 0 : Math.trunc(value * 65_536) | 0;
  }
  if (typeof value === 'string') {
    return extendHash(1, value);
  }
  if (value === null) {
    return 0x5bd1_e995;
  }
  return typeof value === 'boolean' ? (value ? 3 : 5) : 7;
}

function casArguments(value: Value | undefined): [Value, Value] | undefined {
  if (Array.isArray(value) && value.length === 2) {
    return [value[0]!, value[1]!];
  }
  return undefined;
}

function describeOutput(output: HistoryOutput | Unknown): string {
  if (isUnknown(output)) {
    return 'unknown';
  }
  return output.type === 'ok' ? 'ok' : 'fail';
}

function registerStep(
  state: RegisterState,
  input: HistoryInput,
  output: HistoryOutput | Unknown,
): StepResult<RegisterState> {
  switch (input.f) {
    case 'read':
      return { ok: isUnknown(output) || sameValue(output.value, state), state };
    case 'write':
      return { ok: true, state: input.value ?? null };
    case 'cas': {
      const [from, to] = casArguments(input.value) ?? [null, null];
      const matches = sameValue(state, from);
      // A lost CAS is a result, not a no-op: it says `from` did not match.
      const ok = isUnknown(output) || (output.type === 'ok') === matches;
      return { ok, state: matches ? to : state };
    }
    default:
      return { ok: false, state };
  }
}

/**
 * Knossos's cas-register: a read of nil is a read whose value is not known and matches any
 * state; a CAS takes effect only if it matches (a failed one never reaches the model: under
 * Jepsen semantics `:fail` did not happen), and one whose outcome is unknown may be skipped.
 */
function jepsenRegisterStep(
  state: RegisterState,
  input: HistoryInput,
  output: HistoryOutput | Unknown,
): StepResult<RegisterState> {
  switch (input.f) {
    case 'read':
      return {
        ok: isUnknown(output) || output.value === null || sameValue(output.value, state),
        state,
      };
    case 'write':
      return { ok: true, state: input.value ?? null };
    case 'cas': {
      const [from, to] = casArguments(input.value) ?? [null, null];
      if (!sameValue(state, from)) {
        return { ok: false, state };
      }
      return { ok: isUnknown(output) || output.type === 'ok', state: to };
    }
    default:
      return { ok: false, state };
  }
}

function describeRegisterOperation(input: HistoryInput, output: HistoryOutput | Unknown): string {
  switch (input.f) {
    case 'read':
      return `read() -> ${isUnknown(output) ? 'unknown' : showValue(output.value)}`;
    case 'write':
      return `write(${showValue(input.value)})${isUnknown(output) ? ' -> unknown' : ''}`;
    case 'cas': {
      const [from, to] = casArguments(input.value) ?? [null, null];
      return `cas(${showValue(from)}, ${showValue(to)}) -> ${describeOutput(output)}`;
    }
    default:
      return `${input.f}(${showValue(input.value)})`;
  }
}

/** A read, or a CAS from a value to itself (it succeeds only where it changes nothing). */
function registerReadOnly(input: HistoryInput): boolean {
  if (input.f === 'read') {
    return true;
  }
  const cas = input.f === 'cas' ? casArguments(input.value) : undefined;
  return cas !== undefined && sameValue(cas[0], cas[1]);
}

function validateRegisterInput(input: HistoryInput): string | undefined {
  if (input.f === 'read' || input.f === 'write') {
    return undefined;
  }
  if (input.f === 'cas') {
    return casArguments(input.value) === undefined
      ? `cas needs a value [from to], got ${showValue(input.value)}`
      : undefined;
  }
  return `the register model knows read, write and cas, not ${input.f}`;
}

/**
 * A compare-and-set register under Porcupine's etcd semantics: the initial state is absent
 * (a read of nil means "no value yet") and a failed CAS is a CAS whose compare failed.
 */
export const registerModel: Model<RegisterState, HistoryInput, HistoryOutput> = {
  name: 'register',
  init: () => null,
  step: registerStep,
  equal: sameValue,
  hash: hashValue,
  readOnly: registerReadOnly,
  describeOperation: describeRegisterOperation,
  describeState: (state) => (state === null ? 'absent' : showValue(state)),
  validateInput: validateRegisterInput,
};

/** Knossos's `(cas-register initial)`, for histories under Jepsen semantics. */
export function jepsenRegisterModel(
  initial: Value = null,
): Model<RegisterState, HistoryInput, HistoryOutput> {
  return {
    name: 'register',
    init: () => initial,
    step: jepsenRegisterStep,
    equal: sameValue,
    hash: hashValue,
    readOnly: registerReadOnly,
    describeOperation: describeRegisterOperation,
    describeState: showValue,
    validateInput: validateRegisterInput,
  };
}

/**
 * The value of one key, with a polynomial hash of it kept up to date as values are appended:
 * appends of equal-length values commute in length, so a cheap hash (length, last char) makes
 * every order collide, and comparing long strings is what the search would then spend its time on.
 */
export interface KvState {
  value: string;
  hash: number;
}

const HASH_MULTIPLIER = 0x01000193;

function extendHash(hash: number, suffix: string): number {
  let h = hash;
  for (let i = 0; i < suffix.length; i++) {
    h = (Math.imul(h, HASH_MULTIPLIER) + suffix.charCodeAt(i)) | 0;
  }
  return h;
}

const EMPTY_KV_STATE: KvState = { value: '', hash: 0 };

function kvStep(
  state: KvState,
  input: HistoryInput,
  output: HistoryOutput | Unknown,
): StepResult<KvState> {
  switch (input.f) {
    case 'get':
      return { ok: isUnknown(output) || output.value === state.value, state };
    case 'put': {
      const value = String(input.value ?? '');
      return { ok: true, state: { value, hash: extendHash(0, value) } };
    }
    case 'append': {
      const suffix = String(input.value ?? '');
      return {
        ok: true,
        state: { value: state.value + suffix, hash: extendHash(state.hash, suffix) },
      };
    }
    default:
      return { ok: false, state };
  }
}

function partitionByKey(
  operations: readonly HistoryOperation[],
): Partition<HistoryInput, HistoryOutput>[] {
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of operations) {
    const key = op.input.key ?? '';
    let part = byKey.get(key);
    if (part === undefined) {
      part = [];
      byKey.set(key, part);
    }
    part.push(op);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, part]) => ({ label: `key ${JSON.stringify(key)}`, operations: part }));
}

/**
 * A map of string keys to string values, every key initially "". The state of one part is
 * the value of its one key, so the model must be used with its partition (which the checker
 * always applies).
 */
export const kvModel: Model<KvState, HistoryInput, HistoryOutput> = {
  name: 'kv',
  init: () => EMPTY_KV_STATE,
  step: kvStep,
  equal: (a, b) => a.hash === b.hash && a.value === b.value,
  hash: (state) => state.hash,
  readOnly: (input) => input.f === 'get',
  partition: partitionByKey,
  describeOperation(input, output) {
    const key = JSON.stringify(input.key ?? '');
    switch (input.f) {
      case 'get':
        return `get(${key}) -> ${isUnknown(output) ? 'unknown' : showValue(output.value)}`;
      default: {
        const suffix = isUnknown(output) ? ' -> unknown' : '';
        return `${input.f}(${key}, ${showValue(input.value)})${suffix}`;
      }
    }
  },
  describeState: (state) => JSON.stringify(state.value),
  validateInput(input) {
    if (input.f !== 'get' && input.f !== 'put' && input.f !== 'append') {
      return `the kv model knows get, put and append, not ${input.f}`;
    }
    if (input.key === undefined) {
      return `a kv ${input.f} needs a key`;
    }
    if (input.f !== 'get' && typeof input.value !== 'string') {
      return `a kv ${input.f} needs a string value, got ${showValue(input.value)}`;
    }
    return undefined;
  },
};

/** A model over the operations the file parsers produce, whatever its state type. */
// biome-ignore lint/suspicious/noExplicitAny: each model's state type is its own business
export type HistoryModel = Model<any, HistoryInput, HistoryOutput>;
