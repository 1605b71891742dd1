// Public surface of the linearizability checker.

export type { CheckOptions } from './checker.ts';
export {
  checkOperations,
  DEFAULT_MAX_CACHE_ENTRIES,
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
export { HistoryFormatError, pairEvents, sameValue, showValue } from './history.ts';
export {
  type HistoryModel,
  type KvState,
  kvModel,
  type ModelName,
  models,
  type RegisterState,
  registerModel,
} from './models.ts';
export { detectFormat, FORMATS, type Format, parseHistory } from './parse.ts';
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
