// Public surface of the linearizability checker.
//
// From a simulated run (the KV system calls this at the end of each seed):
//   const result = checkOperations(kvModel, ops, { maxSteps: 10_000_000 });
// where each op is { clientId, input: { f: 'get' | 'put' | 'append', key, value? },
// output: { type: 'ok', value } or UNKNOWN (timed out, crashed: open until the end),
// callTime, returnTime } in virtual time. A step budget keeps the verdict deterministic;
// `unknown` means the budget ran out, never a guess. From a file: parseHistory(text).

export type { CheckOptions } from './checker.ts';
export {
  checkOperations,
  DEFAULT_MAX_MEMO_BYTES,
  DEFAULT_MAX_STEPS,
  describeOperation,
  findInvalidInput,
} from './checker.ts';
export type {
  HistoryEvent,
  HistoryInput,
  HistoryOperation,
  HistoryOutput,
  Value,
} from './history.ts';
export {
  HistoryFormatError,
  pairEvents,
  SEMANTICS,
  type Semantics,
  sameValue,
  showValue,
} from './history.ts';
export {
  fifoQueueModel,
  multiRegisterModel,
  mutexModel,
  setModel,
  unorderedQueueModel,
} from './knossos-models.ts';
export {
  type HistoryModel,
  jepsenRegisterModel,
  type KvState,
  kvModel,
  type RegisterState,
  registerModel,
} from './models.ts';
export {
  detectFormat,
  FORMATS,
  type Format,
  type ParsedHistory,
  parseHistory,
  parseInitial,
  readHistory,
  semanticsOf,
} from './parse.ts';
export {
  initialProblem,
  MODEL_HELP,
  MODEL_NAMES,
  type ModelName,
  type ModelOptions,
  modelFor,
} from './registry.ts';
export type {
  Budget,
  CheckResult,
  Explanation,
  Model,
  Operation,
  Partition,
  SourceLines,
  StepResult,
  Unknown,
  Verdict,
} from './types.ts';
export { isUnknown, UNKNOWN } from './types.ts';
