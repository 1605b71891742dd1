import { writeFileSync } from 'node:fs';

import { kafkaHistoryEdn } from '../../invariants/kafka-history.ts';
import type { LogLine } from '../../sim/log.ts';
import { type Replayed, type ReplayFile, replayLoaded } from '../../sim/replay-file.ts';
import { Topology } from '../../sim/topology.ts';
import { TraceRecorder } from '../../sim/trace-log.ts';
import type { Violation } from '../../sim/types.ts';
import { timelineOptions, viewerOptions, writeViews } from '../../viewer/output.ts';
import { countArgument } from '../args.ts';
import { EXIT_OK, EXIT_VIOLATION } from '../errors.ts';
import { formatCount, formatUs, summarizeResult } from '../format.ts';
import { replayArgument } from '../replay-input.ts';
import { type LogLevel, TimelinePrinter } from '../replay-timeline.ts';

import { exitQuietlyOnClosedStdout } from '../stdout.ts';
import type { Command } from './index.ts';

export const replayCommand: Command = {
  scenarios: true,
  command: 'replay <file>',
  describe: 'Re-run a replay file: print its timeline and violation, verify its trace hash',
  builder: (yargs) =>
    viewerOptions(yargs)
      .positional('file', { type: 'string', describe: 'a .msgpack replay file' })
      .option('log-level', {
        type: 'string',
        choices: ['info', 'debug'],
        default: 'info',
        describe: 'debug adds every message, timer and fsync',
      })
      .option('until', { type: 'string', describe: 'stop after this event index' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print one JSON object, no timeline',
      })
      .option('history-edn', {
        type: 'string',
        describe: "write the run's Kafka client history to this file, as Jepsen's history.edn",
      })
      .example(
        '$0 replay faultline-out/pingpong-ack-before-fsync-seed0-violation.msgpack',
        'replay a finding',
      ),
  run: async (args) => {
    exitQuietlyOnClosedStdout();
    const file = replayArgument(args.file);
    const untilEvent = args.until === undefined ? undefined : countArgument(args.until, '--until');
    const json = args.json === true;
    timelineOptions(args, file.plan); // bad filters: before the run
    const write = (text: string) => process.stdout.write(text);
    if (!json) {
      write(headerLines(String(args.file), file).join('\n') + '\n');
    }
    const replayed = runWithTimeline(
      file,
      json ? null : (args['log-level'] as LogLevel),
      untilEvent,
    );
    const toStderr = (text: string) => process.stderr.write(text); // stdout is the JSON's
    writeViews(args, replayed, replayed.plan, replayed.result, json ? toStderr : write);
    const ednPath = args['history-edn'];
    if (typeof ednPath === 'string') {
      const edn = kafkaHistoryEdn(replayed.result.history);
      writeFileSync(ednPath, edn);
      const lines = edn === '' ? 0 : edn.split('\n').length - 1;
      (json ? toStderr : write)(`wrote ${ednPath} (${formatCount(lines)} history events)\n`);
    }
    if (json) {
      write(`${JSON.stringify(replayJson(String(args.file), replayed))}\n`);
    } else {
      write(verdictLines(replayed, untilEvent).join('\n') + '\n');
    }
    return replayed.result.outcome === 'pass' ? EXIT_OK : EXIT_VIOLATION;
  },
};

/** Replays with a trace recorder; prints the timeline as it grows (each node log flushes). */
export function runWithTimeline(
  file: ReplayFile,
  level: LogLevel | null,
  untilEvent: number | undefined,
): Replayed {
  const trace = new TraceRecorder();
  const printer =
    level === null
      ? null
      : new TimelinePrinter(file.plan, level, (line) => process.stdout.write(line));
  if (printer !== null) {
    process.stdout.write('timeline\n');
  }
  const logSink = (_line: LogLine) => printer?.flush(trace.records);
  const replayed = replayLoaded(file, {
    trace,
    ...(printer === null ? {} : { logSink }),
    ...(untilEvent === undefined ? {} : { untilEvent }),
  });
  printer?.flush(trace.records);
  return replayed;
}

function headerLines(path: string, file: ReplayFile): string[] {
  const variant = file.variant === null ? '' : ` variant ${file.variant}`;
  const { plan } = file;
  const lines = [
    `replay ${path}`,
    `  ${file.scenario} seed ${file.seed}${variant} · ${file.finding} · recorded by faultline ${file.faultlineVersion}`,
    `  plan: ${plan.faults.length} fault events, ${plan.script.length} script steps, ${Topology.of(plan).describe()}, ${formatUs(plan.durationUs)} + ${formatUs(plan.settleUs)} settle`,
  ];
  if (file.violation !== null) {
    lines.push(`  recorded: ${violationText(file.violation)}`);
  }
  if (file.finding === 'hang') {
    lines.push(
      '  this seed hung while fuzzing: the timeline below stops where it loops (Ctrl-C to quit)',
    );
  }
  return lines;
}

function violationText(violation: Violation): string {
  return `${violation.invariant} at ${formatUs(violation.timeUs)} (event ${violation.eventIndex}): ${violation.message}`;
}

function verdictLines(replayed: Replayed, untilEvent: number | undefined): string[] {
  const { file, result } = replayed;
  const lines = summarizeResult(result).map((line) => `  ${line}`);
  lines.unshift('result');
  if (untilEvent !== undefined && result.stats.events >= untilEvent) {
    lines.push(
      `stopped at event ${formatCount(result.stats.events)} (--until); the trace hash is not compared`,
    );
  } else if (file.traceHash === null) {
    lines.push('the file records no trace hash (the run never finished while fuzzing)');
  } else if (replayed.hashMatches) {
    lines.push(
      `trace hash ${result.traceHash} matches the recorded run (${formatCount(result.stats.events)} events): same run`,
    );
  } else {
    lines.push(
      `trace hash ${result.traceHash} differs from the recorded ${file.traceHash}: this code takes another path`,
    );
  }
  if (replayed.divergence !== undefined) {
    lines.push(`  ${replayed.divergence.message}`);
  }
  if (
    untilEvent !== undefined &&
    result.violation === undefined &&
    result.stats.events >= untilEvent
  ) {
    const recorded = replayed.file.violation;
    lines.push(
      recorded === null
        ? 'stopped before the end of the run'
        : `stopped before the recorded violation (event ${recorded.eventIndex})`,
    );
    return lines;
  }
  lines.push(verdictSentence(replayed));
  return lines;
}

function verdictSentence(replayed: Replayed): string {
  const expected = replayed.file.violation?.invariant;
  switch (replayed.verdict) {
    case 'reproduced':
      return `reproduced: ${expected} fails again`;
    case 'passes':
      return expected === undefined
        ? 'the run passes, as recorded'
        : `the run now passes (it used to fail ${expected})`;
    case 'fails-differently':
      return `the run fails ${replayed.result.violation?.invariant}, not the recorded ${expected ?? 'pass'}`;
  }
}

function replayJson(path: string, replayed: Replayed) {
  const { history: _history, ...result } = replayed.result;
  return {
    file: path,
    scenario: replayed.file.scenario,
    seed: replayed.file.seed,
    variant: replayed.file.variant,
    finding: replayed.file.finding,
    recorded: { traceHash: replayed.file.traceHash, violation: replayed.file.violation },
    verdict: replayed.verdict,
    hashMatches: replayed.hashMatches,
    divergence: replayed.divergence ?? null,
    result,
  };
}
