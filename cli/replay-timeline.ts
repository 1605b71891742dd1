// The text timeline of a replayed run: node logs with virtual time, and the trace records a
// person needs to follow the story (faults, crashes, restarts, observations, client
// operations). `debug` adds every message send, delivery, drop, timer and fsync.
import { Topology } from '../sim/topology.ts';
import type { TraceKind, TraceRecord } from '../sim/trace-log.ts';
import type { Plan } from '../sim/types.ts';
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
  const node = nodeName(plan, record.node).padEnd(4);
  const peer =
    record.peer === undefined
      ? ''
      : ` ${record.kind === 'deliver' ? '←' : '→'} ${nodeName(plan, record.peer)}`;
  const type = record.type === undefined ? '' : ` ${record.type}`;
  const id = record.messageId === undefined ? '' : ` #${record.messageId}`;
  const detail = detailText(record.detail);
  return `${time}  ${node} ${record.kind.padEnd(9)}${type}${peer}${id}${detail ? `  ${detail}` : ''}`;
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
