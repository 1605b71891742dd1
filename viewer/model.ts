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

/** A topology group as the diagram draws it: a labelled block of lanes, in topology order. */
export interface LaneGroup {
  name: string;
  client: boolean;
  /** Lane ids, in id order. */
  lanes: number[];
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

/** What a partition cut, in words and in node sets. */
export interface PartitionCut {
  /**
   * Node sets cut from each other both ways, when the partition is that simple: either every
   * node is in one set, or (two sets) a node in neither hears both.
   */
  sides: number[][] | null;
  /** The topology groups the partition cut: those the fault names, else read off its links. */
  cutGroups: string[] | null;
  /** The shape and the groups it cut: "split-group g2", "cut-groups g1 | ctrl", "ring". */
  headline: string;
  /** A readable list of what is cut: the sides, else the cut pairs. */
  summary: string;
}

export interface PartitionBand extends PartitionCut {
  startUs: number;
  endUs: number;
  shape: string;
  links: Link[];
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
  /** The message or operation id its record carries (the page data shares texts around it). */
  id?: number;
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
  /** The topology's non-empty groups, in order: the diagram draws a labelled block per group. */
  groups: LaneGroup[];
  messages: MessageInfo[];
  arrows: Arrow[];
  down: Span[];
  paused: Span[];
  roles: RoleSpan[];
  marks: Mark[];
  partitions: PartitionBand[];
  operations: Operation[];
  steps: Step[];
  /** The run's event count as the CLI prints it (stats.events); steps are trace records. */
  events: number;
  violation: ViolationInfo | null;
  truncated: boolean;
  /**
   * Where the page opens: zoomed onto the violation when the run has one (absent or
   * 'violation'; a 65k-event run drawn whole says little), or on the whole run ('whole').
   */
  openAt?: 'violation' | 'whole';
}

/** What the viewer reads of a plan: its topology, and its faults when the trace cut one short. */
export type ViewedPlan = Pick<Plan, 'groups'> & Partial<Pick<Plan, 'faults'>>;

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

/** The plan's non-empty groups with their lanes, in topology order. */
export function laneGroupsOf(plan: Pick<Plan, 'groups'>): LaneGroup[] {
  return Topology.of(plan)
    .groups.filter((group) => group.members.length > 0)
    .map((group) => ({ name: group.name, client: group.client, lanes: [...group.members] }));
}

/** "servers: n1–n3 · clients: c1–c2": the topology in one line, as the text timeline heads it. */
export function topologyLine(plan: Pick<Plan, 'groups'>): string {
  const topology = Topology.of(plan);
  return laneGroupsOf(plan)
    .map((group) => {
      const first = topology.name(group.lanes[0] as number);
      const last = topology.name(group.lanes[group.lanes.length - 1] as number);
      return `${group.name}: ${group.lanes.length === 1 ? first : `${first}–${last}`}`;
    })
    .join(' · ');
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
export function describe(record: TraceRecord, plan: ViewedPlan): string {
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

function describeFault(record: TraceRecord, plan: ViewedPlan): string {
  const fault = record.detail as Record<string, unknown> | undefined;
  if (fault === undefined || fault === null) {
    return '';
  }
  if (record.type === 'partition') {
    const cut = partitionCut(partitionOf(record, plan), plan);
    return `${cut.headline}: ${cut.summary}`;
  }
  if (record.type === 'pause') {
    return `for ${formatMs(Number(fault['durationUs']))}`;
  }
  const { atUs: _at, kind: _kind, node: _node, ...rest } = fault;
  return Object.keys(rest).length > 0 ? brief(rest) : '';
}

/** A partition fault as the viewer reads it. */
export interface PartitionFault {
  shape: string;
  links: Link[];
  /** The groups the fault says it cut (group-aware shapes). */
  groups?: string[];
  /** False when neither the trace nor the plan kept the links (a cut-short trace detail). */
  recorded?: boolean;
}

/**
 * The partition a `fault` record fired: its recorded detail, or, when the trace cut a long
 * detail short (a big topology's links), the plan's own partition at that time.
 */
export function partitionOf(
  record: Pick<TraceRecord, 'detail' | 'timeUs'>,
  plan: Partial<Pick<Plan, 'faults'>>,
): PartitionFault {
  const detail = record.detail as Record<string, unknown> | null | undefined;
  if (detail !== null && typeof detail === 'object' && Array.isArray(detail['links'])) {
    const groups = detail['groups'];
    return {
      shape: String(detail['shape']),
      links: detail['links'] as Link[],
      ...(Array.isArray(groups) ? { groups: groups.map(String) } : {}),
    };
  }
  const planned = (plan.faults ?? []).find(
    (fault) => fault.kind === 'partition' && fault.atUs === record.timeUs,
  );
  if (planned?.kind === 'partition') {
    return {
      shape: planned.shape,
      links: planned.links,
      ...(planned.groups === undefined ? {} : { groups: planned.groups }),
    };
  }
  return { shape: 'partition', links: [], recorded: false };
}

/**
 * What a partition cut: its sides and pairs (`partitionSummary`), and the topology groups it
 * cut. Those the fault names come first ("split-group g2", "cut-groups g1 | ctrl"); else,
 * read off the links, sides that are whole groups ("groups g1 | g2+clients") or links that
 * all lie inside one group ("ring within servers"); else the shape alone.
 */
export function partitionCut(
  fault: PartitionFault,
  plan: Pick<Plan, 'groups'>,
  laneCount: number | null = null,
): PartitionCut {
  if (fault.recorded === false) {
    return { sides: null, cutGroups: null, headline: fault.shape, summary: 'links not recorded' };
  }
  const topology = Topology.of(plan);
  const known = (nodes: readonly number[]) =>
    nodes.every((node) => Number.isInteger(node) && node >= 0 && node < topology.size);
  const named = (fault.groups ?? []).filter((group) => group.length > 0);
  if (named.length > 0) {
    // The sides in the order the fault names their groups: "cut-groups g1 | ctrl" reads
    // "{g1n1 g1n2 g1n3} ↮ {ctrl1 ctrl2 ctrl3}".
    const rank = (side: readonly number[]) => {
      const first = side[0] as number;
      const at = known([first]) ? named.indexOf(topology.groupOf(first)) : -1;
      return at === -1 ? named.length : at;
    };
    const order = (sides: number[][]) => [...sides].sort((a, b) => rank(a) - rank(b));
    const { sides, summary } = partitionSummary(fault.links, plan, laneCount, order);
    return { sides, cutGroups: named, headline: `${fault.shape} ${named.join(' | ')}`, summary };
  }
  const { sides, summary } = partitionSummary(fault.links, plan, laneCount);
  if (sides?.every(known)) {
    const whole = sides.map((side) => wholeGroups(side, topology));
    if (whole.every((names) => names !== null)) {
      const headline = `${fault.shape} ${whole.map((names) => names.join('+')).join(' | ')}`;
      return { sides, cutGroups: whole.flat(), headline, summary };
    }
  }
  const ends = [...new Set(fault.links.flat())];
  if (ends.length > 0 && known(ends)) {
    const group = topology.groupOf(ends[0] as number);
    if (ends.every((node) => topology.groupOf(node) === group)) {
      return { sides, cutGroups: [group], headline: `${fault.shape} within ${group}`, summary };
    }
  }
  return { sides, cutGroups: null, headline: fault.shape, summary };
}

/** The groups a set of nodes is made of, when it is made of whole groups only. */
function wholeGroups(side: readonly number[], topology: Topology): string[] | null {
  const inSide = new Set(side);
  const names: string[] = [];
  for (const node of side) {
    const group = topology.groupOf(node);
    if (names.includes(group)) {
      continue;
    }
    if (!topology.members(group).every((member) => inSide.has(member))) {
      return null;
    }
    names.push(group);
  }
  return names;
}

/** Past this many nodes a side names its whole groups (`[g2]`) rather than their members. */
const SIDE_NODES_MAX = 6;

/**
 * Describes a set of cut links: as sides when they split the nodes cleanly (every link
 * between sides cut both ways, none within), or cut two sets from each other both ways while
 * everyone else hears both; else as the list of cut pairs.
 */
export function partitionSummary(
  links: readonly Link[],
  plan: Pick<Plan, 'groups'>,
  laneCount: number | null,
  order: (sides: number[][]) => number[][] = (sides) => sides,
): { sides: number[][] | null; summary: string } {
  if (links.length === 0) {
    return { sides: null, summary: 'no links cut' };
  }
  const topology = Topology.of(plan);
  const cut = new Set(links.map(([from, to]) => `${from}>${to}`));
  const ids = new Set<number>();
  for (const [from, to] of links) {
    ids.add(from);
    ids.add(to);
  }
  const count = laneCount ?? Math.max(topology.size, Math.max(...ids) + 1);
  const name = (node: number) => laneName(plan, node);
  const found = cleanGroups(cut, count);
  if (found !== null) {
    const clean = order(found);
    return { sides: clean, summary: clean.map((side) => sideText(side, topology)).join(' | ') };
  }
  const bipartite = bipartiteSides(links, cut);
  const sides = bipartite === null ? null : order(bipartite);
  if (sides !== null && (sides[0] as number[]).length * (sides[1] as number[]).length > 1) {
    return { sides, summary: sides.map((side) => sideText(side, topology)).join(' ↮ ') };
  }
  const pairs: string[] = [];
  for (const [from, to] of links) {
    const both = cut.has(`${to}>${from}`);
    if (both && from > to) {
      continue;
    }
    pairs.push(both ? `${name(from)}↮${name(to)}` : `${name(from)}→${name(to)}`);
  }
  return { sides, summary: `cut ${pairs.join(' ')}` };
}

/** `{n1 n2}`; a long side names its whole groups of two or more: `{g1n2 [g2] [clients]}`. */
function sideText(side: readonly number[], topology: Topology): string {
  const names: string[] = [];
  const inSide = new Set(side);
  const named = new Set<string>();
  for (const node of side) {
    const group =
      side.length > SIDE_NODES_MAX && node < topology.size ? topology.groupOf(node) : null;
    if (group !== null) {
      const members = topology.members(group);
      if (members.length >= 2 && members.every((member) => inSide.has(member))) {
        if (!named.has(group)) {
          named.add(group);
          names.push(`[${group}]`);
        }
        continue;
      }
    }
    names.push(topology.name(node));
  }
  return `{${names.join(' ')}}`;
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

/**
 * Two sets cut from each other both ways and nothing else cut (split-group, cut-groups):
 * every node of one set cut from every node of the other. Null for anything else.
 */
function bipartiteSides(links: readonly Link[], cut: Set<string>): number[][] | null {
  const neighbours = new Map<number, Set<number>>();
  for (const [from, to] of links) {
    if (from === to || !cut.has(`${to}>${from}`)) {
      return null;
    }
    let set = neighbours.get(from);
    if (set === undefined) {
      set = new Set();
      neighbours.set(from, set);
    }
    set.add(to);
  }
  const first = (links[0] as Link)[0];
  const sideB = neighbours.get(first) as Set<number>;
  const sideA = [...neighbours.keys()].filter((node) => !sideB.has(node));
  const exactly = (node: number, other: readonly number[] | Set<number>) => {
    const set = neighbours.get(node) as Set<number>;
    const others = [...other];
    return set.size === others.length && others.every((peer) => set.has(peer));
  };
  if (
    !sideA.every((node) => exactly(node, sideB)) ||
    ![...sideB].every((node) => exactly(node, sideA))
  ) {
    return null;
  }
  const sides = [sideA.sort((a, b) => a - b), [...sideB].sort((a, b) => a - b)];
  return sides.sort((a, b) => (a[0] as number) - (b[0] as number));
}
