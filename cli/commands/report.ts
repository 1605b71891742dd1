import { type FuzzSummary, MergeError, mergeSummaries } from '../../sim/fuzz/summary.ts';
import { CASE_DEFAULTS } from '../../viewer/report-cases.ts';
import { writeReport } from '../../viewer/report-output.ts';
import { countArgument } from '../args.ts';
import { durationArgument } from '../duration.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { formatCount } from '../format.ts';
import { loadScenarioModules } from '../scenario-modules.ts';
import type { Command } from './index.ts';
import { readSummary } from './merge.ts';

export const REPORT_OPTIONS = {
  'shrink-time': {
    type: 'string',
    default: '60s',
    describe: 'wall-time cap per shrunk case (a safety net: --shrink-attempts bounds it first)',
  },
  'shrink-attempts': {
    type: 'string',
    default: String(CASE_DEFAULTS.shrinkAttemptsMax),
    describe: 'candidate runs per shrunk case (the same bound gives the same case anywhere)',
  },
} as const;

/** The shrink bounds of --shrink-time and --shrink-attempts. */
// biome-ignore lint/suspicious/noExplicitAny: yargs arguments, checked here
export function shrinkOptions(args: any): { shrinkTimeMs: number; shrinkAttemptsMax: number } {
  return {
    shrinkTimeMs: durationArgument(args['shrink-time'], '--shrink-time'),
    shrinkAttemptsMax: countArgument(args['shrink-attempts'], '--shrink-attempts', 0),
  };
}

export const reportCommand: Command = {
  command: 'report <summaries..>',
  describe:
    'Write a campaign report: one self-contained HTML page from fuzz --json summaries (shards are merged)',
  builder: (yargs) =>
    yargs
      .positional('summaries', { type: 'string', array: true, describe: 'fuzz --json outputs' })
      .option('output', {
        alias: 'o',
        type: 'string',
        default: 'faultline-report.html',
        describe: 'the HTML file to write',
      })
      .option('out', {
        type: 'string',
        default: 'faultline-out',
        describe: 'directory for the shrunk replay files',
      })
      .option('shrink-time', REPORT_OPTIONS['shrink-time'])
      .option('shrink-attempts', REPORT_OPTIONS['shrink-attempts'])
      .example('$0 report raft.json -o raft.html', 'the report of one campaign')
      .example('$0 report shard-*.json -o raft.html', 'the report of a split campaign'),
  run: async (args) => {
    await loadScenarioModules();
    const paths = (args.summaries as unknown[]).map(String);
    if (paths.length === 0) {
      throw new UsageError('name at least one summary file');
    }
    const shrink = shrinkOptions(args);
    let summary: FuzzSummary;
    try {
      summary = mergeSummaries(paths.map(readSummary));
    } catch (error) {
      if (error instanceof MergeError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    const written = writeReport(summary, String(args.output), {
      outDir: String(args.out),
      ...shrink,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(reportLine(written.model.headline, written.path, written.bytes));
    return summary.failed > 0 ? EXIT_VIOLATION : EXIT_OK;
  },
};

export function reportLine(headline: string, path: string, bytes: number): string {
  return `${headline}\nreport: ${path} (${formatCount(Math.round(bytes / 1024))} KB, open it in a browser)\n`;
}
