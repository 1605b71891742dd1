// The rest of Knossos's models (knossos.model): mutex, set, unordered and FIFO queues, and the
// multi-register of :txn operations. Each follows Knossos's step function; a state is an
// immutable value with a hash kept up to date, so the search can memoise it cheaply.
import {
  type HistoryInput,
  type HistoryOperation,
  type HistoryOutput,
  sameValue,
  showValue,
  type Value,
} from './history.ts';
import { mix32 } from './search.ts';
import { isUnknown, type Model, type Partition, type StepResult, type Unknown } from './types.ts';

function stringHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
}

/** A value as a string two equal values share (sets, being arrays here, are sorted first). */
function canonical(value: Value | undefined): string {
  return showValue(value);
}

/** A register's key as written: keywords bare (`:x`), anything else as its canonical form. */
export function keyName(key: Value): string {
  return canonical(key);
}

/** The operation's value: a completion's when it completed (Jepsen), else the invoke's. */
function operationValue(input: HistoryInput, output: HistoryOutput | Unknown): Value | undefined {
  if (!isUnknown(output) && output.value !== null && output.value !== undefined) {
    return output.value;
  }
  return input.value;
}

function unknownFunction(model: string, known: string, f: string): string {
  return `the ${model} model knows ${known}, not ${f}`;
}

// ---------------------------------------------------------------- mutex

/** Knossos's mutex: acquire when free, release when held. */
export const mutexModel: Model<boolean, HistoryInput, HistoryOutput> = {
  name: 'mutex',
  init: () => false,
  step(locked, input): StepResult<boolean> {
    if (input.f === 'acquire') {
      return { ok: !locked, state: true };
    }
    if (input.f === 'release') {
      return { ok: locked, state: false };
    }
    return { ok: false, state: locked };
  },
  hash: (locked) => (locked ? 1 : 2),
  describeOperation: (input, output) => `${input.f}()${isUnknown(output) ? ' -> unknown' : ''}`,
  describeState: (locked) => (locked ? 'held' : 'free'),
  validateInput: (input) =>
    input.f === 'acquire' || input.f === 'release'
      ? undefined
      : unknownFunction('mutex', 'acquire and release', input.f),
};

// ---------------------------------------------------------------- set

/** Sorted distinct canonical elements; the hash is the XOR of the elements' hashes. */
export interface SetState {
  items: readonly string[];
  hash: number;
}

function insertSorted(items: readonly string[], item: string, distinct: boolean): string[] {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]! < item) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (distinct && items[lo] === item) {
    return items as string[];
  }
  const out = items.slice();
  out.splice(lo, 0, item);
  return out;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

function setOf(value: Value | undefined): string[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  return [...new Set(value.map(canonical))].sort();
}

const EMPTY_SET: SetState = { items: [], hash: 0 };

/** Knossos's set: `add` an element, `read` the whole set (which must be exactly the state). */
export const setModel: Model<SetState, HistoryInput, HistoryOutput> = {
  name: 'set',
  init: () => EMPTY_SET,
  step(state, input, output): StepResult<SetState> {
    if (input.f === 'add') {
      const item = canonical(input.value);
      const items = insertSorted(state.items, item, true);
      if (items === state.items) {
        return { ok: true, state };
      }
      return { ok: true, state: { items, hash: state.hash ^ stringHash(item) } };
    }
    if (input.f === 'read') {
      if (isUnknown(output)) {
        return { ok: true, state };
      }
      const read = setOf(operationValue(input, output));
      return { ok: read !== undefined && sameItems(read, state.items), state };
    }
    return { ok: false, state };
  },
  equal: (a, b) => a.hash === b.hash && sameItems(a.items, b.items),
  hash: (state) => state.hash,
  readOnly: (input) => input.f === 'read',
  describeOperation(input, output) {
    if (input.f === 'read') {
      return `read() -> ${isUnknown(output) ? 'unknown' : showValue(operationValue(input, output))}`;
    }
    return `${input.f}(${showValue(input.value)})${isUnknown(output) ? ' -> unknown' : ''}`;
  },
  describeState: (state) => `#{${state.items.join(' ')}}`,
  validateInput: (input) =>
    input.f === 'add' || input.f === 'read'
      ? undefined
      : unknownFunction('set', 'add and read', input.f),
};

// ---------------------------------------------------------------- queues

/**
 * Queue contents as canonical elements: in order for the FIFO queue, sorted for the unordered
 * one (a multiset). The hash is a sum of element hashes (order-free, as a multiset's must be)
 * for the unordered queue and positional for the FIFO queue.
 */
export interface QueueState {
  items: readonly string[];
  hash: number;
}

const EMPTY_QUEUE: QueueState = { items: [], hash: 0 };

function fifoHash(items: readonly string[]): number {
  let h = items.length;
  for (const item of items) {
    h = (Math.imul(h, 0x01000193) + stringHash(item)) | 0;
  }
  return mix32(h);
}

function queueModel(
  name: 'unordered-queue' | 'fifo-queue',
): Model<QueueState, HistoryInput, HistoryOutput> {
  const fifo = name === 'fifo-queue';
  return {
    name,
    init: () => EMPTY_QUEUE,
    step(state, input, output): StepResult<QueueState> {
      if (input.f === 'enqueue') {
        const item = canonical(input.value);
        if (fifo) {
          const items = [...state.items, item];
          return { ok: true, state: { items, hash: fifoHash(items) } };
        }
        const items = insertSorted(state.items, item, false);
        return { ok: true, state: { items, hash: (state.hash + stringHash(item)) | 0 } };
      }
      if (input.f === 'dequeue') {
        const item = canonical(operationValue(input, output));
        if (fifo) {
          if (state.items[0] !== item) {
            return { ok: false, state };
          }
          const items = state.items.slice(1);
          return { ok: true, state: { items, hash: fifoHash(items) } };
        }
        const at = state.items.indexOf(item);
        if (at < 0) {
          return { ok: false, state };
        }
        const items = state.items.slice();
        items.splice(at, 1);
        return { ok: true, state: { items, hash: (state.hash - stringHash(item)) | 0 } };
      }
      return { ok: false, state };
    },
    equal: (a, b) => a.hash === b.hash && sameItems(a.items, b.items),
    hash: (state) => state.hash,
    describeOperation(input, output) {
      const value = input.f === 'dequeue' ? operationValue(input, output) : input.value;
      return `${input.f}(${showValue(value)})${isUnknown(output) ? ' -> unknown' : ''}`;
    },
    describeState: (state) => `[${state.items.join(' ')}]`,
    validateInput: (input) =>
      input.f === 'enqueue' || input.f === 'dequeue'
        ? undefined
        : unknownFunction(name, 'enqueue and dequeue', input.f),
  };
}

/** Knossos's unordered-queue: a dequeue takes out any element enqueued and not yet taken. */
export const unorderedQueueModel = queueModel('unordered-queue');
/** Knossos's fifo-queue: a dequeue takes out the oldest element. */
export const fifoQueueModel = queueModel('fifo-queue');

// ---------------------------------------------------------------- multi-register

/** Register values by key; a key whose value is nil is absent. */
export interface MultiRegisterState {
  values: ReadonlyMap<string, Value>;
  hash: number;
}

type Micro = { f: 'read' | 'write'; key: string; value: Value };

function entryHash(key: string, value: Value): number {
  return mix32(stringHash(key) ^ Math.imul(stringHash(canonical(value)), 0x9e3779b1));
}

/** The [f k v] micro-operations of a :txn value, or a reason it is not one. */
function microsOf(value: Value | undefined): Micro[] | string {
  if (!Array.isArray(value)) {
    return `a txn needs a vector of [f k v], got ${showValue(value)}`;
  }
  const micros: Micro[] = [];
  for (const micro of value) {
    if (!Array.isArray(micro) || micro.length !== 3) {
      return `a txn's micro-operation must be [f k v], got ${showValue(micro)}`;
    }
    const [f, key, v] = micro as [Value, Value, Value];
    const name = typeof f === 'string' ? f.replace(/^:/, '') : '';
    if (name !== 'read' && name !== 'write') {
      return `a txn's micro-operation is :read or :write, got ${showValue(f)}`;
    }
    micros.push({ f: name, key: keyName(key), value: v });
  }
  return micros;
}

function keysOf(input: HistoryInput): string[] {
  const micros = microsOf(input.value);
  return typeof micros === 'string' ? [] : [...new Set(micros.map((m) => m.key))];
}

/**
 * P-compositionality for transactions: operations that share no key, directly or through a
 * chain of others, are independent objects; each connected group is checked alone.
 */
function partitionByConnectedKeys(
  operations: readonly HistoryOperation[],
): Partition<HistoryInput, HistoryOutput>[] {
  const parent = new Map<string, string>();
  const find = (key: string): string => {
    let root = key;
    for (let guard = 0; parent.get(root) !== root; guard++) {
      if (guard > parent.size) {
        throw new Error('union-find cycle');
      }
      root = parent.get(root)!;
    }
    parent.set(key, root);
    return root;
  };
  const keysPerOp = operations.map((op) => keysOf(op.input));
  for (const keys of keysPerOp) {
    for (const key of keys) {
      if (!parent.has(key)) {
        parent.set(key, key);
      }
    }
    for (let i = 1; i < keys.length; i++) {
      const a = find(keys[0]!);
      const b = find(keys[i]!);
      // The smaller key becomes the root, so labels do not depend on the order of operations.
      if (a < b) {
        parent.set(b, a);
      } else if (b < a) {
        parent.set(a, b);
      }
    }
  }
  const groups = new Map<string, HistoryOperation[]>();
  operations.forEach((op, i) => {
    const root = keysPerOp[i]!.length === 0 ? '' : find(keysPerOp[i]![0]!);
    let group = groups.get(root);
    if (group === undefined) {
      group = [];
      groups.set(root, group);
    }
    group.push(op);
  });
  const roots = [...groups.keys()].sort();
  if (roots.length === 1) {
    return [{ label: '', operations: groups.get(roots[0]!)! }];
  }
  return roots.map((root) => {
    const members = [...parent.keys()].filter((key) => find(key) === root).sort();
    return {
      label: root === '' ? 'empty transactions' : `keys ${members.join(', ')}`,
      operations: groups.get(root)!,
    };
  });
}

/**
 * Knossos's multi-register: `:txn` operations whose value is a vector of [:read k v] and
 * [:write k v]; a read of nil is always legal, and a key never written holds its initial value
 * (nil unless given).
 */
export function multiRegisterModel(
  initial: ReadonlyMap<string, Value> = new Map(),
): Model<MultiRegisterState, HistoryInput, HistoryOutput> {
  const start = new Map<string, Value>();
  let startHash = 0;
  for (const [key, value] of initial) {
    if (value !== null) {
      start.set(key, value);
      startHash ^= entryHash(key, value);
    }
  }
  const initialState: MultiRegisterState = { values: start, hash: startHash };
  return {
    name: 'multi-register',
    init: () => initialState,
    step(state, input, output): StepResult<MultiRegisterState> {
      const micros = microsOf(operationValue(input, output));
      if (typeof micros === 'string') {
        return { ok: false, state };
      }
      let values: Map<string, Value> | undefined;
      let hash = state.hash;
      for (const micro of micros) {
        const current = (values ?? state.values).get(micro.key) ?? null;
        if (micro.f === 'read') {
          if (micro.value !== null && !sameValue(micro.value, current)) {
            return { ok: false, state };
          }
          continue;
        }
        values ??= new Map(state.values);
        if (current !== null) {
          hash ^= entryHash(micro.key, current);
        }
        if (micro.value === null) {
          values.delete(micro.key);
        } else {
          values.set(micro.key, micro.value);
          hash ^= entryHash(micro.key, micro.value);
        }
      }
      return { ok: true, state: values === undefined ? state : { values, hash } };
    },
    equal(a, b) {
      if (a.hash !== b.hash || a.values.size !== b.values.size) {
        return false;
      }
      for (const [key, value] of a.values) {
        if (!sameValue(value, b.values.get(key))) {
          return false;
        }
      }
      return true;
    },
    hash: (state) => state.hash,
    readOnly(input, output) {
      const micros = microsOf(operationValue(input, output));
      return typeof micros !== 'string' && micros.every((micro) => micro.f === 'read');
    },
    partition: partitionByConnectedKeys,
    describeOperation(input, output) {
      const micros = microsOf(operationValue(input, output));
      const body =
        typeof micros === 'string'
          ? showValue(input.value)
          : micros.map((m) => `${m.f} ${m.key} ${showValue(m.value)}`).join(', ');
      return `txn[${body}]${isUnknown(output) ? ' -> unknown' : ''}`;
    },
    describeState(state) {
      const keys = [...state.values.keys()].sort();
      return `{${keys.map((key) => `${key} ${showValue(state.values.get(key))}`).join(', ')}}`;
    },
    validateInput(input) {
      if (input.f !== 'txn') {
        return unknownFunction('multi-register', 'txn', input.f);
      }
      const micros = microsOf(input.value);
      return typeof micros === 'string' ? micros : undefined;
    },
  };
}
