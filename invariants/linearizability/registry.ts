// The models `check-history` offers by name, built for the semantics a history is read in.
import type { Semantics, Value } from './history.ts';
import {
  fifoQueueModel,
  multiRegisterModel,
  mutexModel,
  setModel,
  unorderedQueueModel,
} from './knossos-models.ts';
import { type HistoryModel, jepsenRegisterModel, kvModel, registerModel } from './models.ts';

export const MODEL_NAMES = [
  'register',
  'kv',
  'mutex',
  'set',
  'unordered-queue',
  'fifo-queue',
  'multi-register',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** One line per model for `--help` and the README. */
export const MODEL_HELP: Readonly<Record<ModelName, string>> = {
  register: 'read/write/cas on one register (Knossos cas-register; --initial sets its value)',
  kv: 'get/put/append on string keys, each key initially "" (Porcupine kv; partitioned by key)',
  mutex: 'acquire/release of one lock, initially free (Knossos mutex)',
  set: 'add an element / read the whole set, initially empty (Knossos set)',
  'unordered-queue': 'enqueue/dequeue, any enqueued element may come out (Knossos unordered-queue)',
  'fifo-queue': 'enqueue/dequeue in order (Knossos fifo-queue)',
  'multi-register':
    ':txn of [:read k v] and [:write k v] (Knossos multi-register; --initial {:x 0 :y 0}; a nil read matches anything; partitioned by connected keys)',
};

export interface ModelOptions {
  semantics: Semantics;
  initial?: Value | ReadonlyMap<string, Value>;
}

/** A reason `--initial` does not fit the model, or undefined when it does (or is absent). */
export function initialProblem(
  name: ModelName,
  initial: Value | ReadonlyMap<string, Value> | undefined,
): string | undefined {
  if (initial === undefined) {
    return undefined;
  }
  if (name === 'register') {
    return initial instanceof Map
      ? '--initial for the register is one value, not a map'
      : undefined;
  }
  if (name === 'multi-register') {
    return initial instanceof Map
      ? undefined
      : '--initial for the multi-register is a map of keys to values, like {:x 0 :y 0}';
  }
  return `--initial applies to the register and multi-register models, not ${name}`;
}

export function modelFor(name: ModelName, options: ModelOptions): HistoryModel {
  const { initial } = options;
  switch (name) {
    case 'register':
      if (options.semantics === 'porcupine' && initial === undefined) {
        return registerModel;
      }
      if (options.semantics === 'porcupine') {
        return { ...registerModel, init: () => initial as Value };
      }
      return jepsenRegisterModel(initial === undefined ? null : (initial as Value));
    case 'kv':
      return kvModel;
    case 'mutex':
      return mutexModel;
    case 'set':
      return setModel;
    case 'unordered-queue':
      return unorderedQueueModel;
    case 'fifo-queue':
      return fifoQueueModel;
    case 'multi-register':
      return multiRegisterModel(initial instanceof Map ? initial : new Map());
  }
}
