// The terminal's space-time diagram: one line per notable record, a column per lane (a
// blank column while the node is down), and a sentence saying what happened. The header
// names the topology, and a row over the columns labels each group's first column.
import type { TraceRecord } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { defaultTitle } from './build.ts';
import {
  describe,
  formatMs,
  type Lane,
  laneGroupsOf,
  lanesOf,
  partitionCut,
  partitionOf,
  topologyLine,
} from './model.ts';

export interface TimelineOptions {
  /** Include timers and successful fsyncs, which are many and rarely the story. */
  all?: boolean;
  /** Keep only the last this-many lines (those nearest the end or the violation). */
  maxLines?: number;
  /**
   * Keep this many lines either side of the violation (a passing run: the last 2·around
   * lines), so a swarm seed's 160,000-line timeline opens on the story. Counted after the
   * filters below.
   */
  around?: number;
  /** Keep only records of these nodes (as sender, receiver or subject). */
  nodes?: ReadonlySet<number>;
  /** Keep only records whose message type or record kind is one of these. */
  types?: ReadonlySet<string>;
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
/** The narrowest column: a glyph and two spaces. */
const COLUMN_MIN = 3;

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
  const width = columnWidth(lanes);
  const down = new Set<number>();
  const lines: string[] = [];
  let violationLine = -1;
  for (const record of records) {
    if (record.kind === 'crash') {
      down.add(record.node);
    }
    if (record.kind === 'violation') {
      violationLine = lines.length;
      lines.push(line(record, plan, lanes.length, width, down));
    } else if (
      // Asking for a type by name shows it even where it is not notable (timers, fsyncs).
      (isNotable(record, options.all) || options.types !== undefined) &&
      passesFilters(record, options)
    ) {
      lines.push(line(record, plan, lanes.length, width, down));
    }
    if (record.kind === 'restart' || record.kind === 'settle') {
      record.kind === 'settle' ? down.clear() : down.delete(record.node);
    }
  }
  const windowed =
    options.around === undefined ? lines : window(lines, violationLine, options.around);
  const kept = trim(windowed, options.maxLines);
  const recorded = records.some((record) => record.kind === 'violation');
  const end = recorded ? [] : footer(result);
  return [...header(plan, result, records.length, lanes, width), ...kept, ...end].join('\n');
}

/** Wide enough for the longest node name and a space. */
function columnWidth(lanes: readonly Lane[]): number {
  return Math.max(COLUMN_MIN, ...lanes.map((lane) => lane.name.length + 1));
}

function header(
  plan: Plan,
  result: RunResult,
  count: number,
  lanes: readonly Lane[],
  width: number,
): string[] {
  const columns = lanes
    .map((lane) => lane.name.padEnd(width))
    .join('')
    .trimEnd();
  return [
    `${defaultTitle(plan)} · ${result.outcome} · ${count.toLocaleString('en-US')} records`,
    `${'topology'.padStart(TIME_WIDTH)}  ${topologyLine(plan)}`,
    `${'groups'.padStart(TIME_WIDTH)}  ${groupRow(plan, width)}`,
    `${'time'.padStart(TIME_WIDTH)}  ${columns}`,
  ];
}

/**
 * Each group's name over its first column, cut short with an ellipsis where it would run
 * into the next group's (the topology line above has every name in full).
 */
function groupRow(plan: Plan, width: number): string {
  let row = '';
  const groups = laneGroupsOf(plan);
  for (const [index, group] of groups.entries()) {
    const start = (group.lanes[0] as number) * width;
    const last = index === groups.length - 1;
    const room = group.lanes.length * width - 1;
    const fits = last || group.name.length <= room;
    row = `${row.padEnd(start)}${fits ? group.name : `${group.name.slice(0, room - 1)}…`}`;
  }
  return row;
}

function line(
  record: TraceRecord,
  plan: Plan,
  laneCount: number,
  width: number,
  down: Set<number>,
): string {
  const cells: string[] = [];
  const sides = partitionSides(record, plan, laneCount);
  for (let lane = 0; lane < laneCount; lane++) {
    const side = sides?.get(lane);
    cells.push(side === undefined ? cell(record, lane, width, down) : side.padEnd(width));
  }
  return `${formatMs(record.timeUs).padStart(TIME_WIDTH)}  ${cells.join('')} ${describe(record, plan)}`;
}

/** On a partition's line, each node of a side shows its side's letter: a, b, c… */
function partitionSides(
  record: TraceRecord,
  plan: Plan,
  laneCount: number,
): Map<number, string> | null {
  if (record.kind !== 'fault' || record.type !== 'partition') {
    return null;
  }
  const { sides } = partitionCut(partitionOf(record, plan), plan, laneCount);
  const letters = new Map<number, string>();
  for (const [index, side] of (sides ?? []).entries()) {
    for (const node of side) {
      letters.set(node, String.fromCharCode(97 + (index % 26)));
    }
  }
  return letters;
}

function cell(record: TraceRecord, lane: number, width: number, down: Set<number>): string {
  if (record.node === lane) {
    return GLYPHS[record.kind].padEnd(width);
  }
  if (record.peer === lane) {
    return 'o'.padEnd(width);
  }
  return (down.has(lane) ? '' : '|').padEnd(width);
}

/** The violation is never filtered out: it is what the reader came for. */
function passesFilters(record: TraceRecord, options: TimelineOptions): boolean {
  const { nodes, types } = options;
  if (
    nodes !== undefined &&
    !nodes.has(record.node) &&
    (record.peer === undefined || !nodes.has(record.peer))
  ) {
    return false;
  }
  return (
    types === undefined ||
    types.has(record.kind) ||
    (record.type !== undefined && types.has(record.type))
  );
}

/** `around` lines either side of the violation line, or the last 2·around without one. */
function window(lines: string[], violationLine: number, around: number): string[] {
  const first = violationLine < 0 ? lines.length - 2 * around : violationLine - around;
  const start = Math.max(0, first);
  const end = violationLine < 0 ? lines.length : Math.min(lines.length, violationLine + around + 1);
  const before = start === 0 ? [] : [omitted(start, 'earlier', '--all prints every line')];
  const afterCount = lines.length - end;
  const after = afterCount === 0 ? [] : [omitted(afterCount, 'later', '--all prints every line')];
  return [...before, ...lines.slice(start, end), ...after];
}

function omitted(count: number, which: 'earlier' | 'later', hint?: string): string {
  const tail = hint === undefined ? '' : ` (${hint})`;
  return `${'…'.padStart(TIME_WIDTH)}  ${count.toLocaleString('en-US')} ${which} lines omitted${tail}`;
}

function trim(lines: string[], maxLines: number | undefined): string[] {
  if (maxLines === undefined || lines.length <= maxLines) {
    return lines;
  }
  const cut = lines.length - maxLines;
  return [omitted(cut, 'earlier'), ...lines.slice(cut)];
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
