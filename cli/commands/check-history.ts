// `faultline check-history <file...> --model NAME`: checks recorded histories for
// linearizability and explains the ones that are not. How events are read (what :fail, :info
// and a nil read mean) follows the format, as the people who wrote such files meant it, and
// every verdict says which semantics it used.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Argv } from 'yargs';
import { historyPage, renderHistoryHtml } from '../../invariants/linearizability/html.ts';
import {
  type CheckResult,
  checkOperations,
  FORMATS,
  type Format,
  findInvalidInput,
  HistoryFormatError,
  type HistoryModel,
  type HistoryOperation,
  initialProblem,
  MODEL_HELP,
  MODEL_NAMES,
  type ModelName,
  modelFor,
  parseInitial,
  readHistory as parseText,
  SEMANTICS,
  type Semantics,
  type Value,
} from '../../invariants/linearizability/index.ts';
import { EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATION, UsageError } from '../errors.ts';
import type { Command } from './index.ts';

interface Checked {
  result: CheckResult;
  ms: number;
  operations: number;
  semantics: Semantics;
}

interface Args {
  files: string[];
  model: ModelName;
  format: Format | 'auto';
  semantics: Semantics | 'auto';
  initial?: string;
  json: boolean;
  html?: string;
  timeoutMs: number;
  maxSteps?: number;
}

interface Loaded {
  operations: HistoryOperation[];
  semantics: Semantics;
  model: HistoryModel;
}

function initialOf(args: Args): Value | ReadonlyMap<string, Value> | undefined {
  if (args.initial === undefined) {
    return undefined;
  }
  let initial: Value | ReadonlyMap<string, Value>;
  try {
    initial = parseInitial(String(args.initial));
  } catch (error) {
    if (error instanceof HistoryFormatError) {
      throw new UsageError(`--initial must be one EDN or JSON value: ${error.message}`);
    }
    throw error;
  }
  const problem = initialProblem(args.model, initial);
  if (problem !== undefined) {
    throw new UsageError(problem);
  }
  return initial;
}

function readHistory(file: string, args: Args): Loaded {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: ReturnType<typeof parseText>;
  try {
    parsed = parseText(text, { format: args.format, semantics: args.semantics });
  } catch (error) {
    if (error instanceof HistoryFormatError) {
      throw new UsageError(`${file}: ${error.message}.`);
    }
    throw error;
  }
  const { operations, semantics } = parsed;
  const initial = initialOf(args);
  const model = modelFor(args.model, { semantics, ...(initial === undefined ? {} : { initial }) });
  const invalid = findInvalidInput(model, operations);
  if (invalid !== undefined) {
    const line = invalid.operation.lines?.call ?? 0;
    throw new UsageError(`${file}: line ${line}: ${invalid.reason}.`);
  }
  return { operations, semantics, model };
}

function checkFile(file: string, args: Args): Checked {
  const { operations, semantics, model } = readHistory(file, args);
  const started = performance.now();
  const result = checkOperations(model, operations, {
    timeoutMs: args.timeoutMs,
    nowMs: () => performance.now(),
    ...(args.maxSteps === undefined ? {} : { maxSteps: args.maxSteps }),
  });
  const ms = Math.round((performance.now() - started) * 100) / 100;
  if (args.html !== undefined) {
    const page = historyPage(file, model, operations, result);
    try {
      writeFileSync(args.html, renderHistoryHtml(page));
    } catch (error) {
      throw new UsageError(`cannot write ${args.html}: ${(error as Error).message}`);
    }
  }
  return { result, ms, operations: operations.length, semantics };
}

function report(file: string, checked: Checked, json: boolean): string {
  const { result, ms, operations, semantics } = checked;
  if (json) {
    const line: Record<string, unknown> = {
      file,
      verdict: result.verdict,
      ms,
      operations,
      semantics,
    };
    if (result.verdict === 'not-linearizable') {
      line['explanation'] = result.explanation.message;
    } else if (result.verdict === 'unknown') {
      line['reason'] = result.reason;
    }
    return `${JSON.stringify(line)}\n`;
  }
  const facts = `${operations} operations, ${ms} ms, ${semantics} semantics`;
  switch (result.verdict) {
    case 'linearizable':
      return `${file}: linearizable (${facts})\n`;
    case 'not-linearizable':
      return `${file}: NOT linearizable (${facts})\n  ${result.explanation.message}\n`;
    case 'unknown':
      return `${file}: unknown (${facts}): ${result.reason}; no verdict was guessed\n`;
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
  if (args.html !== undefined && args.files.length !== 1) {
    throw new UsageError('--html draws one history: name exactly one file with it');
  }
  initialOf(args);
}

const MODELS_HELP = MODEL_NAMES.map((name) => `${name}: ${MODEL_HELP[name]}`).join('; ');
const SEMANTICS_HELP =
  'how events are read. jepsen (Knossos): :fail did not happen, :info may or may not have, ' +
  'an :ok value is the operation value, a nil register read matches any value. porcupine ' +
  '(its etcd logs): a :fail CAS is a CAS whose compare failed, a nil read means absent, the ' +
  'register starts absent. auto: jepsen for EDN and JSON lines, porcupine for jepsen.util text logs';

export const checkHistoryCommand: Command = {
  command: 'check-history <files..>',
  describe: 'Check recorded histories for linearizability (Jepsen EDN, Jepsen log, JSON lines)',
  builder: (yargs: Argv) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'history files' })
      .option('model', {
        choices: MODEL_NAMES,
        demandOption: true,
        describe: MODELS_HELP,
      })
      .option('semantics', {
        choices: ['auto', ...SEMANTICS],
        default: 'auto',
        describe: SEMANTICS_HELP,
      })
      .option('initial', {
        type: 'string',
        describe:
          'initial state as an EDN or JSON value: the register (default nil under jepsen, absent under porcupine) or the multi-register map (default: every key nil)',
      })
      .option('format', {
        choices: ['auto', ...FORMATS],
        default: 'auto',
        describe: 'history format; auto looks at the first line',
      })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per file' })
      .option('html', {
        type: 'string',
        describe:
          'write the history as one self-contained HTML file: a row per client, the longest linearizable prefix numbered, the operation that cannot be placed in red',
      })
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
