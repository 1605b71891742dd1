// Turns a run's flat trace into what a space-time diagram draws: lanes, message arrows,
// node states over time, partitions, client operations, the violation. Pure data, so the
// HTML page, the text timeline and the tests all read the same picture.
import { Topology } from '../sim/topology.ts';
import type { TraceRecord } from '../sim/trace-log.ts';
import type { Link, Plan } from '../sim/types.ts';

/**
 * Observation types that set a node's role, per system. Add a system's own here: the lane
 * is coloured by role from that moment until the next role observation or a crash.
 */
export const ROLE_OBSERVATIONS: Record<string, string> = {
  'became-leader': 'leader',
  'became-candidate': 'candidate',
  'became-pre-candidate': 'pre-candidate',
  'became-follower': 'follower',
  'stepped-down': 'follower',
};

/** Lane colours per role (light, so arrows stay readable on top). */
export const ROLE_COLOURS: Record<string, string> = {
  leader: '#fde68a',
  candidate: '#c7d2fe',
  'pre-candidate': '#e0e7ff',
  follower: '#e0f2fe',
};

/** Observation types that are disk events, with the label the diagram shows. */
export const DISK_OBSERVATIONS: Record<string, string> = {
  'torn-tail-recovered': 'torn tail recovered',
  'corruption-detected': 'corruption detected',
  'fsync-failed': 'fsync failed',
  'checksum-mismatch': 'checksum mismatch',
};

export interface Lane {
  id: number;
  name: string;
  kind: 'server' | 'client';
  /** The topology group the node belongs to. */
  group: string;
}

export interface MessageInfo {
  id: number;
  /** -1 for a message the harness injected (a script step). */
  from: number;
  to: number;
  type: string;
  sendUs: number;
  sizeBytes: number;
  body: unknown;
  duplicated: boolean;
}

export type ArrowKind = 'deliver' | 'drop' | 'drop-at-send' | 'in-flight';

/** One drawn segment: a message copy from its send to its fate. */
export interface Arrow {
  /** Index into `messages`. */
  message: number;
  kind: ArrowKind;
  fromUs: number;
  toUs: number;
  /** The second copy of a duplicated message. */
  copy: boolean;
  reason?: string;
}

export interface Span {
  node: number;
  startUs: number;
  endUs: number;
  /** True when the run ended before the span did. */
  open: boolean;
  label: string;
}

export interface RoleSpan extends Span {
  role: string;
  term: number | null;
  colour: string;
}

export interface Mark {
  node: number;
  atUs: number;
  kind: 'crash' | 'restart' | 'fsync' | 'fsync-failed' | 'disk' | 'observe' | 'timer' | 'fault';
  label: string;
  detail?: unknown;
}

export interface PartitionBand {
  startUs: number;
  endUs: number;
  shape: string;
  links: Link[];
  /** Groups cut from each other both ways, when the partition is that simple. */
  groups: number[][] | null;
  /** A readable list of what is cut. */
  summary: string;
}

export interface Operation {
  id: number;
  client: number;
  callUs: number;
  returnUs: number;
  status: 'ok' | 'fail' | 'unknown';
  input: unknown;
  output: unknown;
}

export interface Step {
  atUs: number;
  node: number;
  kind: string;
  text: string;
  /** The arrow this step belongs to, if any. */
  arrow?: number;
}

export interface ViolationInfo {
  invariant: string;
  message: string;
  atUs: number;
  node: number | null;
  eventIndex: number;
  /** Index into `steps` of the violation record, or -1 when the trace has none. */
  step: number;
}

export interface ViewModel {
  title: string;
  outcome: string;
  startUs: number;
  endUs: number;
  lanes: Lane[];
  messages: MessageInfo[];
  arrows: Arrow[];
  down: Span[];
  paused: Span[];
  roles: RoleSpan[];
  marks: Mark[];
  partitions: PartitionBand[];
  operations: Operation[];
  steps: Step[];
  violation: ViolationInfo | null;
  truncated: boolean;
}

export function laneName(plan: Pick<Plan, 'groups'>, node: number): string {
  if (node < 0) {
    return node === -1 ? 'harness' : `node${node}`;
  }
  return Topology.of(plan).name(node);
}

/** One lane per node, in id order: each group's members side by side. */
export function lanesOf(plan: Pick<Plan, 'groups'>): Lane[] {
  const topology = Topology.of(plan);
  const lanes: Lane[] = [];
  for (let id = 0; id < topology.size; id++) {
    const membership = topology.membership(id);
    lanes.push({
      id,
      name: topology.name(id),
      kind: membership.client ? 'client' : 'server',
      group: membership.group,
    });
  }
  return lanes;
}

export function formatMs(timeUs: number): string {
  return `${(timeUs / 1000).toFixed(3)} ms`;
}

/** A short one-line rendering of a message body or detail. */
export function brief(value: unknown, max = 80): string {
  if (value === undefined || value === null || value === '') {
    return '';
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Drops the redundant `type` field from a summarised message or observation. */
function withoutType(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value;
  }
  const { type: _type, ...rest } = value as Record<string, unknown>;
  return Object.keys(rest).length === 0 ? null : rest;
}

/** One sentence per record, shared by the step panel and the text timeline. */
export function describe(record: TraceRecord, plan: Pick<Plan, 'groups'>): string {
  const name = laneName(plan, record.node);
  const peer = record.peer === undefined ? '' : laneName(plan, record.peer);
  switch (record.kind) {
    case 'send': {
      const detail = record.detail as { sizeBytes?: number; body?: unknown } | undefined;
      return `${name} → ${peer} ${record.type} #${record.messageId} ${brief(withoutType(detail?.body), 60)}`.trimEnd();
    }
    case 'deliver':
      return `${peer} → ${name} ${record.type} #${record.messageId} delivered`;
    case 'drop':
      return `${name} → ${peer} #${record.messageId} dropped (${String(record.detail)})`;
    case 'duplicate':
      return `${name} → ${peer} #${record.messageId} duplicated`;
    case 'timer':
      return `${name} timer ${String(record.detail)}`;
    case 'fsync': {
      const detail = record.detail as { syncId?: number; ok?: boolean } | undefined;
      return `${name} fsync ${detail?.syncId ?? ''} ${detail?.ok === false ? 'FAILED' : 'ok'}`;
    }
    case 'fault':
      return `fault ${record.type}${record.node >= 0 ? ` ${name}` : ''} ${describeFault(record, plan)}`.trimEnd();
    case 'crash':
    case 'restart':
    case 'resume':
      return `${name} ${record.kind}${record.detail ? ` (${String(record.detail)})` : ''}`;
    case 'settle':
      return 'settle: faults stop, the network heals, crashed nodes restart';
    case 'observe':
      return `${name} observes ${record.type} ${brief(withoutType(record.detail), 60)}`.trimEnd();
    case 'invoke':
      return `${name} invokes op ${record.messageId} ${brief(record.detail, 60)}`.trimEnd();
    case 'complete':
      return `${name} op ${record.messageId} returns ${record.type} ${brief(record.detail, 60)}`.trimEnd();
    case 'log':
      return `${name} log: ${record.type} ${brief(record.detail, 60)}`.trimEnd();
    case 'violation': {
      const violation = record.detail as { invariant?: string; message?: string } | undefined;
      return `VIOLATION ${violation?.invariant}: ${violation?.message}`;
    }
  }
}

function describeFault(record: TraceRecord, plan: Pick<Plan, 'groups'>): string {
  const fault = record.detail as Record<string, unknown> | undefined;
  if (fault === undefined || fault === null) {
    return '';
  }
  if (record.type === 'partition') {
    const links = (fault['links'] ?? []) as Link[];
    return `${String(fault['shape'])}: ${partitionSummary(links, plan, null).summary}`;
  }
  if (record.type === 'pause') {
    return `for ${formatMs(Number(fault['durationUs']))}`;
  }
  const { atUs: _at, kind: _kind, node: _node, ...rest } = fault;
  return Object.keys(rest).length > 0 ? brief(rest) : '';
}

/**
 * Describes a set of cut links: as groups when they split the nodes cleanly (every link
 * between groups cut both ways, none within), else as the list of cut pairs.
 */
export function partitionSummary(
  links: readonly Link[],
  plan: Pick<Plan, 'groups'>,
  laneCount: number | null,
): { groups: number[][] | null; summary: string } {
  if (links.length === 0) {
    return { groups: null, summary: 'no links cut' };
  }
  const cut = new Set(links.map(([from, to]) => `${from}>${to}`));
  const ids = new Set<number>();
  for (const [from, to] of links) {
    ids.add(from);
    ids.add(to);
  }
  const count = laneCount ?? Math.max(...ids) + 1;
  const groups = cleanGroups(cut, count);
  const name = (node: number) => laneName(plan, node);
  if (groups !== null) {
    return { groups, summary: groups.map((group) => `{${group.map(name).join(' ')}}`).join(' | ') };
  }
  const pairs: string[] = [];
  for (const [from, to] of links) {
    const both = cut.has(`${to}>${from}`);
    if (both && from > to) {
      continue;
    }
    pairs.push(both ? `${name(from)}↮${name(to)}` : `${name(from)}→${name(to)}`);
  }
  return { groups: null, summary: `cut ${pairs.join(' ')}` };
}

function cleanGroups(cut: Set<string>, count: number): number[][] | null {
  const group = new Array<number>(count).fill(-1);
  const groups: number[][] = [];
  for (let node = 0; node < count; node++) {
    if (group[node] !== -1) {
      continue;
    }
    const members = [node];
    group[node] = groups.length;
    for (let other = node + 1; other < count; other++) {
      if (group[other] === -1 && !cut.has(`${node}>${other}`) && !cut.has(`${other}>${node}`)) {
        group[other] = groups.length;
        members.push(other);
      }
    }
    groups.push(members);
  }
  if (groups.length < 2) {
    return null;
  }
  for (let a = 0; a < count; a++) {
    for (let b = 0; b < count; b++) {
      const between = a !== b && group[a] !== group[b];
      if (between !== cut.has(`${a}>${b}`)) {
        return null;
      }
    }
  }
  return groups;
}
