// `faultline check-history <file...> --model register|kv`: checks recorded histories for
// linearizability and explains the ones that are not.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Argv } from 'yargs';

import {
  type CheckResult,
  checkOperations,
  FORMATS,
  type Format,
  findInvalidInput,
  HistoryFormatError,
  type HistoryOperation,
  type ModelName,
  models,
  parseHistory,
} from '../../invariants/linearizability/index.ts';
import { EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATION, UsageError } from '../errors.ts';
import type { Command } from './index.ts';

interface Checked {
  result: CheckResult;
  ms: number;
  operations: number;
}

interface Args {
  files: string[];
  model: ModelName;
  format: Format | 'auto';
  json: boolean;
  timeoutMs: number;
  maxSteps?: number;
}

function readHistory(file: string, args: Args): HistoryOperation[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let operations: HistoryOperation[];
  try {
    operations = parseHistory(text, args.format);
  } catch (error) {
    if (error instanceof HistoryFormatError) {
      throw new UsageError(`${file}: ${error.message}.`);
    }
    throw error;
  }
  const model = models[args.model];
  const invalid = findInvalidInput(model, operations);
  if (invalid !== undefined) {
    const line = invalid.operation.lines?.call ?? 0;
    throw new UsageError(`${file}: line ${line}: ${invalid.reason}.`);
  }
  return operations;
}

function checkFile(file: string, args: Args): Checked {
  const operations = readHistory(file, args);
  const model = models[args.model];
  const started = performance.now();
  const result = checkOperations(model, operations, {
    timeoutMs: args.timeoutMs,
    nowMs: () => performance.now(),
    ...(args.maxSteps === undefined ? {} : { maxSteps: args.maxSteps }),
  });
  const ms = Math.round((performance.now() - started) * 100) / 100;
  return { result, ms, operations: operations.length };
}

function report(file: string, checked: Checked, json: boolean): string {
  const { result, ms, operations } = checked;
  if (json) {
    const line: Record<string, unknown> = { file, verdict: result.verdict, ms, operations };
    if (result.verdict === 'not-linearizable') {
      line['explanation'] = result.explanation.message;
    } else if (result.verdict === 'unknown') {
      line['reason'] = result.reason;
    }
    return `${JSON.stringify(line)}\n`;
  }
  switch (result.verdict) {
    case 'linearizable':
      return `${file}: linearizable (${operations} operations, ${ms} ms)\n`;
    case 'not-linearizable':
      return `${file}: NOT linearizable (${operations} operations, ${ms} ms)\n  ${result.explanation.message}\n`;
    case 'unknown':
      return `${file}: unknown (${operations} operations, ${ms} ms): ${result.reason}; no verdict was guessed\n`;
  }
}

function validate(args: Args): void {
  if (!Number.isFinite(args.timeoutMs) || args.timeoutMs < 0) {
    throw new UsageError('--timeout-ms must be a number of milliseconds, 0 or more (0: no limit)');
  }
  if (args.maxSteps !== undefined && !(Number.isSafeInteger(args.maxSteps) && args.maxSteps > 0)) {
    throw new UsageError('--max-steps must be a positive integer');
  }
  if (args.files.length === 0) {
    throw new UsageError('name at least one history file');
  }
}

export const checkHistoryCommand: Command = {
  command: 'check-history <files..>',
  describe: 'Check recorded histories for linearizability (Jepsen EDN, Jepsen log, JSON lines)',
  builder: (yargs: Argv) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'history files' })
      .option('model', {
        choices: Object.keys(models),
        demandOption: true,
        describe: 'register (read/write/cas, initially absent) or kv (get/put/append per key)',
      })
      .option('format', {
        choices: ['auto', ...FORMATS],
        default: 'auto',
        describe: 'history format; auto looks at the first line',
      })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per file' })
      .option('timeout-ms', {
        type: 'number',
        default: 0,
        describe: 'wall-clock budget per file; when exceeded the verdict is unknown (0: none)',
      })
      .option('max-steps', {
        type: 'number',
        describe: 'search-step budget per file (deterministic); exceeded gives unknown',
      }),
  run: async (raw: Args) => {
    validate(raw);
    let anyViolation = false;
    let anyUnknown = false;
    for (const file of raw.files) {
      const checked = checkFile(file, raw);
      const { result } = checked;
      process.stdout.write(report(file, checked, raw.json));
      anyViolation ||= result.verdict === 'not-linearizable';
      anyUnknown ||= result.verdict === 'unknown';
    }
    if (anyViolation) {
      return EXIT_VIOLATION;
    }
    return anyUnknown ? EXIT_UNKNOWN : EXIT_OK;
  },
};
