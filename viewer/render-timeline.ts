// The terminal's space-time diagram: one line per notable record, a column per lane (a
// blank column while the node is down), and a sentence saying what happened.
import type { TraceRecord } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { defaultTitle } from './build.ts';
import { describe, formatMs, lanesOf } from './model.ts';

export interface TimelineOptions {
  /** Include timers and successful fsyncs, which are many and rarely the story. */
  all?: boolean;
  /** Keep only the last this-many lines (those nearest the end or the violation). */
  maxLines?: number;
}

const GLYPHS: Record<TraceRecord['kind'], string> = {
  send: '>',
  deliver: '<',
  drop: 'x',
  duplicate: '2',
  timer: 't',
  fsync: 'f',
  fault: '!',
  crash: 'X',
  restart: 'R',
  resume: 'r',
  settle: '=',
  observe: '*',
  invoke: '[',
  complete: ']',
  log: '-',
  violation: '#',
};

const TIME_WIDTH = 12;

export function isNotable(record: TraceRecord, all = false): boolean {
  if (all) {
    return true;
  }
  if (record.kind === 'timer') {
    return false;
  }
  return !(record.kind === 'fsync' && (record.detail as { ok?: boolean } | null)?.ok !== false);
}

export function renderTimeline(
  records: readonly TraceRecord[],
  plan: Plan,
  result: RunResult,
  options: TimelineOptions = {},
): string {
  const lanes = lanesOf(plan);
  const down = new Set<number>();
  const lines: string[] = [];
  for (const record of records) {
    if (record.kind === 'crash') {
      down.add(record.node);
    }
    if (isNotable(record, options.all)) {
      lines.push(line(record, plan, lanes.length, down));
    }
    if (record.kind === 'restart' || record.kind === 'settle') {
      record.kind === 'settle' ? down.clear() : down.delete(record.node);
    }
  }
  const kept = trim(lines, options.maxLines);
  const recorded = records.some((record) => record.kind === 'violation');
  const end = recorded ? [] : footer(result);
  return [...header(plan, result, records.length, lanes), ...kept, ...end].join('\n');
}

function header(
  plan: Plan,
  result: RunResult,
  count: number,
  lanes: ReturnType<typeof lanesOf>,
): string[] {
  const columns = lanes
    .map((lane) => lane.name.padEnd(3))
    .join('')
    .trimEnd();
  return [
    `${defaultTitle(plan)} · ${result.outcome} · ${count.toLocaleString('en-US')} records`,
    `${'time'.padStart(TIME_WIDTH)}  ${columns}`,
  ];
}

function line(record: TraceRecord, plan: Plan, laneCount: number, down: Set<number>): string {
  const cells: string[] = [];
  for (let lane = 0; lane < laneCount; lane++) {
    cells.push(cell(record, lane, down));
  }
  return `${formatMs(record.timeUs).padStart(TIME_WIDTH)}  ${cells.join('')} ${describe(record, plan)}`;
}

function cell(record: TraceRecord, lane: number, down: Set<number>): string {
  if (record.node === lane) {
    return GLYPHS[record.kind].padEnd(3);
  }
  if (record.peer === lane) {
    return 'o  ';
  }
  return down.has(lane) ? '   ' : '|  ';
}

function trim(lines: string[], maxLines: number | undefined): string[] {
  if (maxLines === undefined || lines.length <= maxLines) {
    return lines;
  }
  const omitted = lines.length - maxLines;
  return [
    `${'…'.padStart(TIME_WIDTH)}  ${omitted.toLocaleString('en-US')} earlier lines omitted`,
    ...lines.slice(omitted),
  ];
}

function footer(result: RunResult): string[] {
  const violation = result.violation;
  if (violation === undefined) {
    return [`${'end'.padStart(TIME_WIDTH)}  ${result.outcome}: no invariant broken`];
  }
  return [
    `${'VIOLATION'.padStart(TIME_WIDTH)}  ${violation.invariant} at ${formatMs(violation.timeUs)} (event ${violation.eventIndex}): ${violation.message}`,
  ];
}
