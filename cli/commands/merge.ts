import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';

import { asSummary, type FuzzSummary, MergeError, mergeSummaries } from '../../sim/fuzz/summary.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { summaryLines, unreachedSometimes } from './fuzz.ts';
import type { Command } from './index.ts';

export const mergeCommand: Command = {
  command: 'merge <summaries..>',
  describe: 'Combine the --json summaries of fuzz shards into one summary',
  builder: (yargs) =>
    yargs
      .positional('summaries', { type: 'string', array: true, describe: 'fuzz --json outputs' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print one JSON summary object',
      })
      .option('require-sometimes', {
        type: 'boolean',
        default: false,
        describe:
          'fail (exit 1) when a `sometimes` assertion was never reached in any shard (judge it here, not per shard)',
      })
      .example('$0 merge shard-*.json', 'one report for the whole split'),
  run: async (args) => {
    const paths = (args.summaries as unknown[]).map(String);
    if (paths.length === 0) {
      throw new UsageError('name at least one summary file');
    }
    let merged: FuzzSummary;
    try {
      merged = mergeSummaries(paths.map(readSummary));
    } catch (error) {
      if (error instanceof MergeError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(merged)}\n`);
    } else {
      process.stdout.write(
        `merged ${paths.length} summaries\n${summaryLines(merged).join('\n')}\n`,
      );
      for (const replay of merged.replays) {
        process.stdout.write(`  npx faultline replay ${replay}\n`);
      }
    }
    const unreached = args['require-sometimes'] === true ? unreachedSometimes(merged) : undefined;
    if (unreached !== undefined) {
      (args.json ? process.stderr : process.stdout).write(`✗ ${unreached}\n`);
    }
    return merged.failed > 0 || unreached !== undefined ? EXIT_VIOLATION : EXIT_OK;
  },
};

/** Reads a fuzz --json summary; anything else is one sentence (UsageError). */
export function readSummary(path: string): FuzzSummary {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    // A summary file may hold log lines before the JSON object: take the last line that parses.
    const lines = text.trim().split('\n').reverse();
    const line = lines.find((candidate) => candidate.trimStart().startsWith('{'));
    value = JSON.parse(line ?? '');
  } catch {
    throw new UsageError(`${path} is not a faultline fuzz summary (not JSON)`);
  }
  return withReplaysFound(asSummary(value, path), path);
}

/**
 * A shard names its replay files relative to where it ran, and writes its summary there too;
 * a merge on another machine finds both downloaded side by side (one directory per shard), so a
 * replay path that does not resolve here is looked up beside its summary.
 */
function withReplaysFound(summary: FuzzSummary, summaryPath: string): FuzzSummary {
  const directory = dirname(summaryPath);
  const found = (replay: string): string => {
    if (isAbsolute(replay) || existsSync(replay)) {
      return replay;
    }
    const beside = join(directory, replay);
    return existsSync(beside) ? relative(process.cwd(), beside) : replay;
  };
  return {
    ...summary,
    replays: summary.replays.map(found),
    findings: summary.findings.map((finding) =>
      finding.replay === null ? finding : { ...finding, replay: found(finding.replay) },
    ),
  };
}
