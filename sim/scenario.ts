// A scenario is declared, not coded imperatively: a system, a cluster shape, a workload, a
// fault profile, invariants and `sometimes` assertions. `planFor` turns it and a seed into a
// plan; the simulator runs the plan.
import type { ShapeSpec } from './shape.ts';
import { NODES_MAX, nodeNames } from './topology.ts';
import {
  type ClusterView,
  FAULT_KINDS,
  type FaultKind,
  type Invariant,
  type ObservationRecord,
  type Plan,
  type PlanGroup,
  type ProgramFactory,
  type Verdict,
  type WorkloadValue,
} from './types.ts';

/** One kind of node in a scenario: a name, a size and the program its nodes run. */
export interface GroupSpec {
  name: string;
  size: number;
  /** Node names are `${prefix}1`, `${prefix}2`, … (default: the group name). */
  prefix?: string;
  /** A one-node group's node is named by its prefix alone (`db`, `relay`). */
  alone?: boolean;
  /** Client groups drive the workload and record history; faults never pick them as victims. */
  client?: boolean;
  program: ProgramFactory;
}

/** The classic shape: one group of servers (`n1`…) and one of clients (`c1`…). */
export function serversAndClients(
  servers: number,
  clients: number,
  server: ProgramFactory,
  client: ProgramFactory,
): GroupSpec[] {
  return [
    { name: 'servers', size: servers, prefix: 'n', program: server },
    { name: 'clients', size: clients, prefix: 'c', client: true, program: client },
  ];
}

export interface FaultProfile {
  /** The fault kinds a seed may turn on. */
  eligible: FaultKind[];
  /** Swarm testing: each seed turns on a random subset of `eligible` (else all of them). */
  swarm: boolean;
  /** Upper bound on discrete fault episodes per kind per seed. */
  episodesMax?: number;
  /** Server groups a node fault of that kind never picks (a crash-free database, say). */
  excludeGroups?: Partial<Record<FaultKind, readonly string[]>>;
}

export interface Budgets {
  eventsMax: number;
  wallMsMax: number;
}

export interface Scenario {
  name: string;
  description: string;
  system: string;
  /** The topology, in id order: each group's nodes run the group's program. */
  groups: GroupSpec[];
  /** The fault phase's length when the seed's shape does not draw it. */
  durationUs: number;
  settleUs: number;
  /** What the swarm draws per seed besides faults (absent: every seed has this shape). */
  shape?: ShapeSpec;
  faults: FaultProfile;
  workload: Record<string, WorkloadValue>;
  /**
   * Workload parameters that are sizes, with the lowest value `shrink` may try (0: none).
   * Parameters not named here are never changed by the shrinker.
   */
  shrinkableWorkload?: Readonly<Record<string, number>>;
  /**
   * Workload parameters that hold a JSON list of steps (an administrator's script of Joins,
   * Leaves and Moves): `shrink` drops steps from them as it drops steps from the plan's script.
   */
  shrinkableWorkloadLists?: readonly string[];
  /** Known-bug variants: name → the one realistic mistake it makes. */
  variants: Record<string, string>;
  /** Fresh invariant instances for one run. */
  invariants(plan: Plan): Invariant[];
  /** Conditions some seeds must reach: name → predicate over observations. */
  sometimes?: Record<string, (record: ObservationRecord) => boolean>;
  /** Named mid-run checks that script steps call. */
  checks?: Record<string, (view: ClusterView) => Verdict>;
  /** Replaces or edits the swarm-derived plan (scripted scenarios). */
  plan?(seed: number, base: Plan): Plan;
  budgets?: Partial<Budgets>;
}

/**
 * A scenario that cannot be registered (a name used twice, an unknown fault kind, a missing
 * or ill-typed field): the author's to fix, so the CLI prints the sentence and exits 2.
 */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

// One registry per process. The package's entry points, the CLI and the fuzz worker bundle
// all reach it through this one module, so a user's scenario file that imports `faultline`
// registers where `faultline list` and the workers look.
const registry = new Map<string, Scenario>();
/** Where each scenario was registered from, for the "registered twice" sentence. */
const sources = new Map<string, string>();
let loadingSource: string | undefined;

/** Names the file whose import registers the next scenarios (the CLI's module loader). */
export function setScenarioSource(source: string | undefined): void {
  loadingSource = source;
}

export function registerScenario(scenario: Scenario): void {
  checkScenarioFields(scenario);
  const source = loadingSource ?? "faultline's built-in scenarios";
  const earlier = sources.get(scenario.name);
  if (registry.has(scenario.name)) {
    const where =
      earlier === source ? `twice by ${source}` : `by ${earlier} and again by ${source}`;
    throw new ScenarioError(
      `scenario ${scenario.name} is registered ${where}: scenario names must be unique`,
    );
  }
  checkGroups(scenario);
  checkShape(scenario);
  registry.set(scenario.name, scenario);
  sources.set(scenario.name, source);
}

/**
 * The fields a scenario must have, with their types: a scenario written in plain JavaScript,
 * or cast past the compiler, gets a sentence naming the field instead of a TypeError mid-run.
 */
function checkScenarioFields(scenario: Scenario): void {
  const value = scenario as unknown as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null) {
    throw new ScenarioError(`registerScenario was given ${String(value)}, not a scenario object`);
  }
  const name = value['name'];
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(name)) {
    throw new ScenarioError(
      `a scenario's name must be a string of letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(name) ?? String(name)}`,
    );
  }
  const fail = (what: string): never => {
    throw new ScenarioError(`scenario ${name}: ${what}`);
  };
  for (const field of ['description', 'system'] as const) {
    if (typeof value[field] !== 'string') {
      fail(`${field} must be a string`);
    }
  }
  for (const field of ['durationUs', 'settleUs'] as const) {
    const us = value[field];
    if (typeof us !== 'number' || !Number.isSafeInteger(us) || us < 0) {
      fail(`${field} must be a non-negative integer (microseconds), got ${String(us)}`);
    }
  }
  if (!Array.isArray(value['groups']) || value['groups'].length === 0) {
    fail('groups must be a non-empty array of { name, size, program }');
  }
  for (const [index, group] of (value['groups'] as Partial<GroupSpec>[]).entries()) {
    if (typeof group?.name !== 'string' || group.name.length === 0) {
      fail(`groups[${index}] needs a name`);
    }
    if (typeof group?.size !== 'number' || !Number.isSafeInteger(group.size) || group.size < 0) {
      fail(
        `group ${group?.name} needs a size (a non-negative integer), got ${String(group?.size)}`,
      );
    }
    if (typeof group?.program !== 'function') {
      fail(`group ${group?.name} needs a program (a function from a node context to a program)`);
    }
  }
  checkFaultProfile(value['faults'] as Partial<FaultProfile> | undefined, fail);
  for (const field of ['workload', 'variants'] as const) {
    if (typeof value[field] !== 'object' || value[field] === null) {
      fail(`${field} must be an object (use {} for none)`);
    }
  }
  if (typeof value['invariants'] !== 'function') {
    fail('invariants must be a function from the plan to fresh invariant instances');
  }
  for (const field of ['sometimes', 'checks'] as const) {
    const table = value[field];
    if (table === undefined) {
      continue;
    }
    if (typeof table !== 'object' || table === null) {
      fail(`${field} must be an object of named functions`);
    }
    for (const [key, check] of Object.entries(table as object)) {
      if (typeof check !== 'function') {
        fail(`${field}.${key} must be a function`);
      }
    }
  }
  if (value['plan'] !== undefined && typeof value['plan'] !== 'function') {
    fail('plan must be a function (seed, base plan) → plan');
  }
}

function checkFaultProfile(
  faults: Partial<FaultProfile> | undefined,
  fail: (what: string) => never,
): void {
  if (typeof faults !== 'object' || faults === null || !Array.isArray(faults.eligible)) {
    fail('faults must be { eligible: [fault kinds…], swarm: true | false } (eligible may be [])');
  }
  const known = (kind: unknown) => FAULT_KINDS.includes(kind as FaultKind);
  const named = [...(faults?.eligible ?? []), ...Object.keys(faults?.excludeGroups ?? {})];
  const unknown = named.find((kind) => !known(kind));
  if (unknown !== undefined) {
    fail(`there is no fault kind ${JSON.stringify(unknown)} (known: ${FAULT_KINDS.join(', ')})`);
  }
  if (typeof faults?.swarm !== 'boolean') {
    fail('faults.swarm must be true or false');
  }
}

/** A drawn shape names groups the scenario has, and its largest draw still fits a run. */
export function checkShape(scenario: Pick<Scenario, 'name' | 'groups' | 'shape'>): void {
  const shape = scenario.shape;
  if (shape === undefined) {
    return;
  }
  const largest: Record<string, number> = {};
  for (const [group, sizes] of Object.entries(shape.groupSizes ?? {})) {
    if (!scenario.groups.some((spec) => spec.name === group)) {
      throw new ScenarioError(
        `scenario ${scenario.name} draws the size of a group ${group} it lacks`,
      );
    }
    if (sizes.length === 0 || sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
      throw new ScenarioError(`scenario ${scenario.name} draws ${group}'s size from bad choices`);
    }
    largest[group] = Math.max(...sizes);
  }
  const ranges = [
    ...(shape.durationUs === undefined ? [] : [shape.durationUs]),
    ...Object.values(shape.workload ?? {}),
  ];
  if (ranges.some((range) => !(range.min >= 1 && range.min <= range.max))) {
    throw new ScenarioError(`scenario ${scenario.name} draws from a range without 1 <= min <= max`);
  }
  checkGroups({
    name: scenario.name,
    groups: scenario.groups.map((group) => ({ ...group, size: largest[group.name] ?? group.size })),
  });
}

/** The plan's topology as the scenario declares it, with any group sizes a seed drew. */
export function planGroups(
  scenario: Pick<Scenario, 'groups'>,
  sizes: Readonly<Record<string, number>> = {},
): PlanGroup[] {
  return scenario.groups.map((group) => ({
    name: group.name,
    client: group.client === true,
    nodes: nodeNames(
      group.prefix ?? group.name,
      sizes[group.name] ?? group.size,
      group.alone === true,
    ),
  }));
}

/** A scenario's groups have unique names and produce unique node names. */
export function checkGroups(scenario: Pick<Scenario, 'name' | 'groups'>): void {
  const groups = new Set<string>();
  const names = new Set<string>();
  let total = 0;
  for (const group of scenario.groups) {
    if (groups.has(group.name)) {
      throw new ScenarioError(`scenario ${scenario.name} declares group ${group.name} twice`);
    }
    groups.add(group.name);
    total += group.size;
  }
  for (const plan of planGroups(scenario)) {
    for (const name of plan.nodes) {
      if (names.has(name)) {
        throw new ScenarioError(`scenario ${scenario.name} names two nodes ${name}`);
      }
      names.add(name);
    }
  }
  if (total === 0 || total > NODES_MAX) {
    throw new ScenarioError(
      `scenario ${scenario.name} has ${total} nodes; a run has 1 to ${NODES_MAX}`,
    );
  }
}

/** Nodes in the scenario's server groups. */
export function serverCount(scenario: Pick<Scenario, 'groups'>): number {
  return scenario.groups.reduce((sum, group) => sum + (group.client ? 0 : group.size), 0);
}

/** Nodes in the scenario's client groups. */
export function clientCount(scenario: Pick<Scenario, 'groups'>): number {
  return scenario.groups.reduce((sum, group) => sum + (group.client ? group.size : 0), 0);
}

/**
 * Why a plan cannot run on its scenario's topology (it names a group the scenario does not
 * declare: an edited or foreign plan), or undefined when it can.
 */
export function topologyMismatch(
  scenario: Pick<Scenario, 'name' | 'groups'>,
  plan: Pick<Plan, 'groups'>,
): string | undefined {
  const declared = scenario.groups.map((group) => group.name);
  const unknown = plan.groups.find((group) => !declared.includes(group.name));
  return unknown === undefined
    ? undefined
    : `the plan has a group ${unknown.name}, which scenario ${scenario.name} does not declare (it has ${declared.join(', ')})`;
}

/** The program factory of a plan group, or undefined when the scenario has no such group. */
export function groupProgram(scenario: Scenario, group: string): ProgramFactory | undefined {
  return scenario.groups.find((spec) => spec.name === group)?.program;
}

/** Resolves a variant name: exact, or `raft:x` for a scenario listing `x`, or the reverse. */
export function resolveVariant(scenario: Scenario, name: string): string | undefined {
  if (name in scenario.variants) {
    return name;
  }
  const colon = name.indexOf(':');
  if (colon > 0 && name.slice(colon + 1) in scenario.variants) {
    return name.slice(colon + 1);
  }
  const prefixed = Object.keys(scenario.variants).filter((key) => key.endsWith(`:${name}`));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export function findScenario(name: string): Scenario | undefined {
  return registry.get(name);
}

export function allScenarios(): Scenario[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The bug a plan's variant switches on in one subsystem: `raft:x` names bug x of `raft`
 * (and nothing of any other part); a plain `x` is the single-system form, offered to every
 * part, each of which ignores a name it does not know.
 */
export function variantFor(variant: string | null, subsystem: string): string | null {
  if (variant === null) {
    return null;
  }
  const colon = variant.indexOf(':');
  if (colon < 0) {
    return variant;
  }
  return variant.slice(0, colon) === subsystem ? variant.slice(colon + 1) : null;
}
