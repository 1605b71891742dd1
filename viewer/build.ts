// Builds the ViewModel from a trace in one pass: each record either opens something
// (a message, a down span, a partition, an operation) or closes what it belongs to.
import type { TraceRecord } from '../sim/trace-log.ts';
import type { Plan, RunResult, Violation } from '../sim/types.ts';
import {
  type Arrow,
  DISK_OBSERVATIONS,
  describe,
  type Lane,
  laneGroupsOf,
  lanesOf,
  type Mark,
  type MessageInfo,
  type Operation,
  type PartitionBand,
  partitionCut,
  partitionOf,
  ROLE_COLOURS,
  ROLE_OBSERVATIONS,
  type RoleSpan,
  type Span,
  type Step,
  type ViewModel,
  type ViolationInfo,
} from './model.ts';

export interface BuildInput {
  records: readonly TraceRecord[];
  plan: Plan;
  result: RunResult;
  title?: string;
  truncated?: boolean;
}

interface PendingMessage {
  index: number;
  sendEvent: number;
  /** Arrows of copies not yet delivered or dropped (two once duplicated). */
  open: number[];
  settled: number;
}

const UNKNOWN_FALLBACK_COLOUR = '#e5e7eb';

class Builder {
  readonly lanes: Lane[];
  readonly messages: MessageInfo[] = [];
  readonly arrows: Arrow[] = [];
  readonly down: Span[] = [];
  readonly paused: Span[] = [];
  readonly roles: RoleSpan[] = [];
  readonly marks: Mark[] = [];
  readonly partitions: PartitionBand[] = [];
  readonly operations: Operation[] = [];
  readonly steps: Step[] = [];
  violation: ViolationInfo | null = null;

  private readonly byId = new Map<number, PendingMessage>();
  private readonly openDown = new Map<number, Span>();
  private readonly openPause = new Map<number, Span>();
  private readonly openRole = new Map<number, RoleSpan>();
  private readonly openOps = new Map<number, Operation>();
  private openPartition: PartitionBand | null = null;

  constructor(
    private readonly plan: Plan,
    private readonly endUs: number,
  ) {
    this.lanes = lanesOf(plan);
  }

  add(record: TraceRecord): void {
    const step: Step = {
      atUs: record.timeUs,
      node: record.node,
      kind: record.kind,
      text: describe(record, this.plan),
    };
    const arrow = this.apply(record);
    if (arrow !== undefined) {
      step.arrow = arrow;
    }
    if (record.messageId !== undefined) {
      step.id = record.messageId;
    }
    this.steps.push(step);
  }

  /** Returns the index of the arrow the record belongs to, if any. */
  private apply(record: TraceRecord): number | undefined {
    switch (record.kind) {
      case 'send':
        return this.send(record);
      case 'deliver':
        return this.settle(record, 'deliver');
      case 'drop':
        return this.settle(record, 'drop');
      case 'duplicate':
        return this.duplicate(record);
      case 'crash':
        this.crash(record);
        return undefined;
      case 'restart':
        this.restart(record);
        return undefined;
      case 'resume':
        this.closeSpan(this.openPause, record.node, record.timeUs);
        return undefined;
      case 'fault':
        this.fault(record);
        return undefined;
      case 'settle':
        this.closePartition(record.timeUs);
        return undefined;
      case 'observe':
        this.observe(record);
        return undefined;
      case 'invoke':
      case 'complete':
        this.operation(record);
        return undefined;
      case 'timer':
        this.mark(record, 'timer', `timer ${String(record.detail)}`);
        return undefined;
      case 'fsync': {
        const ok = (record.detail as { ok?: boolean } | undefined)?.ok !== false;
        this.mark(record, ok ? 'fsync' : 'fsync-failed', ok ? 'fsync' : 'fsync FAILED');
        return undefined;
      }
      case 'violation':
        this.violation = this.violationOf(record);
        return undefined;
      case 'log':
        return undefined;
    }
  }

  private send(record: TraceRecord): number {
    const detail = record.detail as { sizeBytes?: number; body?: unknown } | undefined;
    const id = record.messageId ?? -1;
    const index = this.messages.length;
    this.messages.push({
      id,
      from: record.node,
      to: record.peer ?? -1,
      type: record.type ?? '?',
      sendUs: record.timeUs,
      sizeBytes: detail?.sizeBytes ?? 0,
      body: detail?.body ?? null,
      duplicated: false,
    });
    const arrow = this.arrows.push(this.arrowFor(index, 'in-flight', this.endUs)) - 1;
    this.byId.set(id, { index, sendEvent: record.event, open: [arrow], settled: 0 });
    return arrow;
  }

  private arrowFor(message: number, kind: Arrow['kind'], toUs: number, copy = false): Arrow {
    const info = this.messages[message] as MessageInfo;
    return { message, kind, fromUs: info.sendUs, toUs, copy };
  }

  /** A delivery or drop: fills the send's in-flight arrow, or adds one for a second copy. */
  private settle(record: TraceRecord, fate: 'deliver' | 'drop'): number {
    const pending = this.pendingFor(record, fate);
    const info = this.messages[pending.index] as MessageInfo;
    const reason = fate === 'drop' ? String(record.detail) : undefined;
    const atSend =
      fate === 'drop' &&
      record.event === pending.sendEvent &&
      record.timeUs === info.sendUs &&
      pending.settled === 0;
    const kind = fate === 'deliver' ? 'deliver' : atSend ? 'drop-at-send' : 'drop';
    const arrow = this.arrowFor(pending.index, kind, record.timeUs, pending.settled > 0);
    if (reason !== undefined) {
      arrow.reason = reason;
    }
    pending.settled++;
    const open = pending.open.shift();
    if (open !== undefined) {
      this.arrows[open] = arrow;
      return open;
    }
    return this.arrows.push(arrow) - 1;
  }

  /** Messages the harness injected have no send record: they get one here. */
  private pendingFor(record: TraceRecord, fate: 'deliver' | 'drop'): PendingMessage {
    const id = record.messageId ?? -1;
    const known = id > 0 ? this.byId.get(id) : undefined;
    if (known !== undefined) {
      return known;
    }
    const from = fate === 'deliver' ? (record.peer ?? -1) : record.node;
    const to = fate === 'deliver' ? record.node : (record.peer ?? -1);
    const index = this.messages.length;
    this.messages.push({
      id,
      from,
      to,
      type: record.type ?? '?',
      sendUs: record.timeUs,
      sizeBytes: 0,
      body: null,
      duplicated: false,
    });
    return { index, sendEvent: record.event, open: [], settled: 0 };
  }

  private duplicate(record: TraceRecord): number | undefined {
    const pending = this.byId.get(record.messageId ?? -1);
    if (pending === undefined) {
      return undefined;
    }
    (this.messages[pending.index] as MessageInfo).duplicated = true;
    const arrow = this.arrows.push(this.arrowFor(pending.index, 'in-flight', this.endUs, true)) - 1;
    pending.open.push(arrow);
    return arrow;
  }

  private mark(record: TraceRecord, kind: Mark['kind'], label: string, detail?: unknown): void {
    const mark: Mark = { node: record.node, atUs: record.timeUs, kind, label };
    if (detail !== undefined) {
      mark.detail = detail;
    }
    this.marks.push(mark);
  }

  private crash(record: TraceRecord): void {
    this.mark(record, 'crash', `crash${record.detail ? ` (${String(record.detail)})` : ''}`);
    this.closeSpan(this.openPause, record.node, record.timeUs);
    this.closeSpan(this.openRole, record.node, record.timeUs);
    this.openSpan(this.openDown, this.down, record.node, record.timeUs, 'down');
  }

  private restart(record: TraceRecord): void {
    this.mark(record, 'restart', 'restart');
    this.closeSpan(this.openDown, record.node, record.timeUs);
  }

  private openSpan(
    open: Map<number, Span>,
    into: Span[],
    node: number,
    atUs: number,
    label: string,
  ) {
    this.closeSpan(open, node, atUs);
    const span: Span = { node, startUs: atUs, endUs: this.endUs, open: true, label };
    open.set(node, span);
    into.push(span);
  }

  private closeSpan(open: Map<number, Span>, node: number, atUs: number): void {
    const span = open.get(node);
    if (span !== undefined) {
      span.endUs = atUs;
      span.open = false;
      open.delete(node);
    }
  }

  private fault(record: TraceRecord): void {
    const fault = (record.detail ?? {}) as Record<string, unknown>;
    switch (record.type) {
      case 'partition':
        this.partition(record);
        return;
      case 'heal':
        this.closePartition(record.timeUs);
        return;
      case 'pause':
        this.openSpan(this.openPause, this.paused, record.node, record.timeUs, 'paused');
        return;
      case 'crash':
      case 'restart':
        return; // drawn from the crash and restart records themselves
      default:
        this.mark(record, 'fault', `fault: ${record.type}`, fault);
    }
  }

  private partition(record: TraceRecord): void {
    this.closePartition(record.timeUs);
    const fault = partitionOf(record, this.plan);
    const band: PartitionBand = {
      startUs: record.timeUs,
      endUs: this.endUs,
      shape: fault.shape,
      links: fault.links,
      ...partitionCut(fault, this.plan, this.lanes.length),
    };
    this.openPartition = band;
    this.partitions.push(band);
  }

  private closePartition(atUs: number): void {
    if (this.openPartition !== null) {
      this.openPartition.endUs = atUs;
      this.openPartition = null;
    }
  }

  private observe(record: TraceRecord): void {
    const type = record.type ?? '';
    const role = ROLE_OBSERVATIONS[type];
    if (role !== undefined) {
      this.role(record, role);
      return;
    }
    const disk = DISK_OBSERVATIONS[type];
    this.mark(record, disk === undefined ? 'observe' : 'disk', disk ?? type, record.detail);
  }

  private role(record: TraceRecord, role: string): void {
    const detail = (record.detail ?? {}) as Record<string, unknown>;
    const term = typeof detail['term'] === 'number' ? detail['term'] : null;
    this.closeSpan(this.openRole, record.node, record.timeUs);
    const span: RoleSpan = {
      node: record.node,
      startUs: record.timeUs,
      endUs: this.endUs,
      open: true,
      label: term === null ? role : `${role} t${term}`,
      role,
      term,
      colour: ROLE_COLOURS[role] ?? UNKNOWN_FALLBACK_COLOUR,
    };
    this.openRole.set(record.node, span);
    this.roles.push(span);
  }

  private operation(record: TraceRecord): void {
    const id = record.messageId ?? -1;
    if (record.kind === 'invoke') {
      const operation: Operation = {
        id,
        client: record.node,
        callUs: record.timeUs,
        returnUs: this.endUs,
        status: 'unknown',
        input: record.detail ?? null,
        output: null,
      };
      this.openOps.set(id, operation);
      this.operations.push(operation);
      return;
    }
    const operation = this.openOps.get(id);
    if (operation !== undefined) {
      operation.returnUs = record.timeUs;
      operation.status = record.type === 'fail' ? 'fail' : 'ok';
      operation.output = record.detail ?? null;
      this.openOps.delete(id);
    }
  }

  private violationOf(record: TraceRecord): ViolationInfo {
    const violation = record.detail as Violation;
    return {
      invariant: violation.invariant,
      message: violation.message,
      atUs: record.timeUs,
      node: violation.node ?? null,
      eventIndex: violation.eventIndex,
      step: this.steps.length,
    };
  }
}

export function buildModel({ records, plan, result, title, truncated }: BuildInput): ViewModel {
  const lastUs = records.length > 0 ? (records[records.length - 1] as TraceRecord).timeUs : 0;
  const endUs = Math.max(lastUs, result.violation?.timeUs ?? 0, 1);
  const builder = new Builder(plan, endUs);
  for (const record of records) {
    builder.add(record);
  }
  let violation = builder.violation;
  if (violation === null && result.violation !== undefined) {
    // A violation judged at the end of the run has no record of its own in some traces.
    const { invariant, message, timeUs, node, eventIndex } = result.violation;
    violation = { invariant, message, atUs: timeUs, node: node ?? null, eventIndex, step: -1 };
  }
  return {
    title: title ?? defaultTitle(plan),
    outcome: result.outcome,
    startUs: 0,
    endUs,
    lanes: builder.lanes,
    groups: laneGroupsOf(plan),
    messages: builder.messages,
    arrows: builder.arrows,
    down: builder.down,
    paused: builder.paused,
    roles: builder.roles,
    marks: builder.marks,
    partitions: builder.partitions,
    operations: builder.operations,
    steps: builder.steps,
    events: result.stats.events,
    violation,
    truncated: truncated ?? false,
  };
}

export function defaultTitle(plan: Pick<Plan, 'scenario' | 'seed' | 'variant'>): string {
  const variant = plan.variant === null ? '' : ` variant ${plan.variant}`;
  return `${plan.scenario} seed ${plan.seed}${variant}`;
}
