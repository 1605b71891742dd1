// The text timeline of a replayed run: node logs with virtual time, and the trace records a
// person needs to follow the story (faults, crashes, restarts, observations, client
// operations). `debug` adds every message send, delivery, drop, timer and fsync. A partition
// says which groups it cut and what it cut, as the diagram's band does, not its raw links.
import { Topology } from '../sim/topology.ts';
import type { TraceKind, TraceRecord } from '../sim/trace-log.ts';
import type { Plan } from '../sim/types.ts';
import { partitionCut, partitionOf } from '../viewer/model.ts';
import { formatUs } from './format.ts';

export type LogLevel = 'info' | 'debug';

const INFO_KINDS: ReadonlySet<TraceKind> = new Set<TraceKind>([
  'fault',
  'crash',
  'restart',
  'resume',
  'settle',
  'observe',
  'invoke',
  'complete',
  'log',
  'violation',
]);
const DETAIL_CHARS_MAX = 140;
const NODE_WIDTH_MIN = 4;

/** The node column is as wide as the plan's longest name (`broker1`, `g2-clients1`). */
const nodeWidths = new WeakMap<Plan['groups'], number>();

function nodeWidth(plan: Plan): number {
  let width = nodeWidths.get(plan.groups);
  if (width === undefined) {
    width = Math.max(NODE_WIDTH_MIN, ...Topology.of(plan).names.map((name) => name.length));
    nodeWidths.set(plan.groups, width);
  }
  return width;
}

export function nodeName(plan: Plan, node: number): string {
  if (node < 0) {
    return 'sim';
  }
  return Topology.of(plan).name(node);
}

function detailText(detail: unknown): string {
  if (detail === undefined || detail === null || detail === '') {
    return '';
  }
  const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
  return text.length > DETAIL_CHARS_MAX ? `${text.slice(0, DETAIL_CHARS_MAX - 1)}…` : text;
}

export function formatRecord(plan: Plan, record: TraceRecord): string {
  const time = formatUs(record.timeUs).padStart(12);
  const node = nodeName(plan, record.node).padEnd(nodeWidth(plan));
  const peer =
    record.peer === undefined
      ? ''
      : ` ${record.kind === 'deliver' ? '←' : '→'} ${nodeName(plan, record.peer)}`;
  const type = record.type === undefined ? '' : ` ${record.type}`;
  const id = record.messageId === undefined ? '' : ` #${record.messageId}`;
  const detail =
    record.kind === 'fault' && record.type === 'partition'
      ? partitionText(plan, record)
      : detailText(record.detail);
  return `${time}  ${node} ${record.kind.padEnd(9)}${type}${peer}${id}${detail ? `  ${detail}` : ''}`;
}

/** "split-group g2: {g2n1} ↮ {g2n2 g2n3}": the groups cut, then the sides or the pairs. */
export function partitionText(plan: Plan, record: TraceRecord): string {
  const cut = partitionCut(partitionOf(record, plan), plan);
  return detailText(`${cut.headline}: ${cut.summary}`);
}

/** Prints records as they accumulate, so a long replay starts printing at once. */
export class TimelinePrinter {
  private printed = 0;

  constructor(
    private readonly plan: Plan,
    private readonly level: LogLevel,
    private readonly write: (line: string) => void,
  ) {}

  flush(records: readonly TraceRecord[]): void {
    for (; this.printed < records.length; this.printed++) {
      const record = records[this.printed] as TraceRecord;
      if (this.level === 'debug' || INFO_KINDS.has(record.kind)) {
        this.write(`${formatRecord(this.plan, record)}\n`);
      }
    }
  }
}
