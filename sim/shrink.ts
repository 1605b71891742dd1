// Shrinking a failing plan: pure over plans, so it is testable with a synthetic predicate.
// Each pass proposes smaller plans; an edit is kept only when `stillFails` says the candidate
// still fails the same way. Passes repeat until a whole round changes nothing or the budget
// ends. The first passes are a plain ddmin over the fault list and the script (halves, then
// smaller chunks, then singles), so the result is never larger than ddmin alone would give.
import { assert } from './assert.ts';
import { validatePlan } from './plan.ts';
import type { Scenario } from './scenario.ts';
import { Topology } from './topology.ts';
import {
  type FaultEvent,
  type NodeId,
  OPTIONAL_PROBABILITY_KNOBS,
  type Plan,
  PROBABILITY_KNOBS,
} from './types.ts';

export interface ShrinkBudget {
  /** Stop proposing candidates after this much wall time. */
  timeMs: number;
  /** And after this many candidate runs. */
  attemptsMax: number;
  /** The wall clock (injectable for tests). */
  nowMs?: () => number;
}

export interface ShrinkHooks {
  /**
   * Workload parameters that are sizes (operations per client, keys), each with the lowest
   * value worth trying. Others (timeouts, think times, mixes) are left alone: a lower timeout
   * is a different run, not a smaller one.
   */
  workloadFloors?: Readonly<Record<string, number>>;
  /** Workload parameters holding a JSON list of steps, which shrink thins as it does the script. */
  workloadLists?: readonly string[];
  /**
   * Sizes a group may take (the scenario's drawn shape): a group is tried at each smaller
   * size, smallest first, by dropping its last nodes.
   */
  groupSizes?: Readonly<Record<string, readonly number[]>>;
  /** Called with each smaller failing plan as it is found, so an interrupted shrink keeps it. */
  onSmaller?: (plan: Plan) => void;
}

export interface ShrinkResult {
  plan: Plan;
  attempts: number;
  accepted: number;
  rounds: number;
  /** True when the budget ran out before a fixpoint. */
  exhausted: boolean;
}

const ROUNDS_MAX = 50;

class Budget {
  attempts = 0;
  accepted = 0;
  private readonly startMs: number;
  private readonly nowMs: () => number;

  constructor(private readonly limits: ShrinkBudget) {
    this.nowMs = limits.nowMs ?? (() => performance.now());
    this.startMs = this.nowMs();
  }

  spent(): boolean {
    return (
      this.attempts >= this.limits.attemptsMax || this.nowMs() - this.startMs >= this.limits.timeMs
    );
  }
}

/** One shrinking session: the current smallest failing plan and the predicate. */
class Shrinker {
  constructor(
    public plan: Plan,
    private readonly stillFails: (plan: Plan) => boolean,
    readonly budget: Budget,
    readonly hooks: ShrinkHooks,
  ) {}

  /** Tries a candidate; keeps it when it is a valid plan that still fails. */
  try(candidate: Plan): boolean {
    if (this.budget.spent()) {
      return false;
    }
    try {
      validatePlan(candidate);
    } catch {
      return false; // an edit that breaks the plan's shape is simply not a candidate
    }
    this.budget.attempts++;
    if (!this.stillFails(candidate)) {
      return false;
    }
    this.budget.accepted++;
    this.plan = candidate;
    this.hooks.onSmaller?.(candidate);
    return true;
  }
}

export function shrinkPlan(
  plan: Plan,
  stillFails: (plan: Plan) => boolean,
  limits: ShrinkBudget,
  hooks: ShrinkHooks = {},
): ShrinkResult {
  assert(limits.attemptsMax >= 0, 'a shrink budget has a non-negative attempt limit');
  const shrinker = new Shrinker(clonePlan(plan), stillFails, new Budget(limits), hooks);
  let rounds = 0;
  for (; rounds < ROUNDS_MAX && !shrinker.budget.spent(); rounds++) {
    const before = shrinker.budget.accepted;
    ddminList(shrinker, (p) => p.faults, withFaults);
    ddminList(shrinker, (p) => p.script, withScript);
    for (const key of shrinker.hooks.workloadLists ?? []) {
      ddminList(
        shrinker,
        (p) => workloadList(p, key),
        (p, items) => ({
          ...clonePlan(p),
          workload: { ...p.workload, [key]: JSON.stringify(items) },
        }),
      );
    }
    shrinkGroupSizes(shrinker);
    shrinkClients(shrinker);
    shrinkWorkload(shrinker);
    shrinkProbabilities(shrinker);
    shrinkDuration(shrinker);
    if (shrinker.budget.accepted === before) {
      rounds++;
      break;
    }
  }
  return {
    plan: shrinker.plan,
    attempts: shrinker.budget.attempts,
    accepted: shrinker.budget.accepted,
    rounds,
    exhausted: shrinker.budget.spent(),
  };
}

/** The hooks a scenario's declarations give the shrinker (sizes, lists, drawn group sizes). */
export function scenarioShrinkHooks(
  scenario: Pick<Scenario, 'shrinkableWorkload' | 'shrinkableWorkloadLists' | 'shape'>,
): ShrinkHooks {
  return {
    workloadFloors: scenario.shrinkableWorkload ?? {},
    workloadLists: scenario.shrinkableWorkloadLists ?? [],
    groupSizes: scenario.shape?.groupSizes ?? {},
  };
}

/** The steps of a list-valued workload parameter; none when it is absent or not a JSON list. */
export function workloadList(plan: Plan, key: string): unknown[] {
  const text = plan.workload[key];
  if (typeof text !== 'string') {
    return [];
  }
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

export function clonePlan(plan: Plan): Plan {
  return structuredClone(plan);
}

function withFaults(plan: Plan, faults: Plan['faults']): Plan {
  return { ...clonePlan(plan), faults };
}

function withScript(plan: Plan, script: Plan['script']): Plan {
  return { ...clonePlan(plan), script };
}

/**
 * Delta debugging (Zeller's ddmin, complement-removal form): split the list into n chunks,
 * try dropping each chunk; on success keep the rest and coarsen, else refine until chunks
 * are single items.
 */
function ddminList<T>(
  shrinker: Shrinker,
  get: (plan: Plan) => T[],
  set: (plan: Plan, items: T[]) => Plan,
): void {
  let chunks = 2;
  // Each iteration either removes items or doubles `chunks`: bounded by 2·length·log(length).
  for (let step = 0; step < 100_000 && !shrinker.budget.spent(); step++) {
    const items = get(shrinker.plan);
    if (items.length === 0) {
      return;
    }
    const size = Math.ceil(items.length / Math.min(chunks, items.length));
    let removed = false;
    for (let start = 0; start < items.length && !removed; start += size) {
      const rest = [...items.slice(0, start), ...items.slice(start + size)];
      removed = shrinker.try(set(shrinker.plan, rest));
    }
    if (removed) {
      chunks = Math.max(chunks - 1, 2);
      continue;
    }
    if (size === 1) {
      return;
    }
    chunks = Math.min(chunks * 2, items.length);
  }
}

/**
 * Drops a client: the last node of a client group that no server follows, so that no
 * server's id shifts (script messages may name servers). Its faults, links and script steps
 * go with it; the nodes after it move down one id.
 */
function shrinkClients(shrinker: Shrinker): void {
  for (let step = 0; step < 256; step++) {
    const plan = shrinker.plan;
    const candidates = removableClients(plan);
    let removed = false;
    for (const { group, node } of candidates) {
      if (shrinker.try(withoutNode(plan, group, node))) {
        removed = true;
        break;
      }
    }
    if (!removed) {
      return;
    }
  }
}

/** Each group the shape sizes, at each smaller size it may take, smallest first. */
function shrinkGroupSizes(shrinker: Shrinker): void {
  for (const [name, sizes] of Object.entries(shrinker.hooks.groupSizes ?? {})) {
    const index = shrinker.plan.groups.findIndex((group) => group.name === name);
    const group = shrinker.plan.groups[index];
    if (group === undefined) {
      continue;
    }
    const current = group.nodes.length;
    const smaller = [...new Set(sizes)].filter((size) => size >= 1 && size < current);
    for (const size of smaller.sort((a, b) => a - b)) {
      if (shrinker.budget.spent() || shrinker.try(withGroupSize(shrinker.plan, index, size))) {
        break;
      }
    }
  }
}

/** The plan with group `index` cut to its first `size` nodes. */
function withGroupSize(plan: Plan, index: number, size: number): Plan {
  let smaller = plan;
  const topology = Topology.of(plan);
  const members = topology.members((plan.groups[index] as Plan['groups'][number]).name);
  for (let position = members.length - 1; position >= size; position--) {
    smaller = withoutNode(smaller, index, members[position] as NodeId);
  }
  return smaller;
}

/** The last node of each client group that comes after every server, last group first. */
function removableClients(plan: Plan): { group: number; node: NodeId }[] {
  const topology = Topology.of(plan);
  const lastServer = Math.max(-1, ...topology.servers);
  const found: { group: number; node: NodeId }[] = [];
  plan.groups.forEach((group, index) => {
    const members = topology.members(group.name);
    const last = members[members.length - 1];
    if (group.client && last !== undefined && last > lastServer) {
      found.push({ group: index, node: last });
    }
  });
  return found.reverse();
}

function withoutNode(plan: Plan, groupIndex: number, gone: NodeId): Plan {
  const shift = (node: NodeId) => (node > gone ? node - 1 : node);
  const faults: FaultEvent[] = [];
  for (const fault of plan.faults) {
    if ('node' in fault) {
      if (fault.node !== gone) {
        faults.push({ ...fault, node: shift(fault.node) });
      }
    } else if (fault.kind === 'partition') {
      const links = fault.links
        .filter(([a, b]) => a !== gone && b !== gone)
        .map(([a, b]): [NodeId, NodeId] => [shift(a), shift(b)]);
      faults.push({ ...fault, links });
    } else {
      faults.push(fault);
    }
  }
  // An injected message may name a node in a numeric `node` field (a membership change
  // does): a step naming the gone node goes with it, the others follow the id shift.
  const names = (step: Plan['script'][number], node: NodeId) =>
    step.kind === 'inject' && (step.node === node || step.message['node'] === node);
  const script = plan.script
    .filter((step) => !names(step, gone))
    .map((step) => {
      if (step.kind !== 'inject') {
        return step;
      }
      const named = step.message['node'];
      const message =
        typeof named === 'number' ? { ...step.message, node: shift(named) } : step.message;
      return { ...step, node: shift(step.node), message };
    });
  const groups = plan.groups.map((group, index) =>
    index === groupIndex ? { ...group, nodes: group.nodes.slice(0, -1) } : group,
  );
  return { ...clonePlan(plan), groups, faults, script };
}

/**
 * Finds the smallest value in [low, current] that still fails, by bisection. Assumes rough
 * monotonicity (fewer operations or less noise rarely makes a bug reappear); when that does
 * not hold we merely stop at a larger value.
 */
function bisectDown(
  shrinker: Shrinker,
  current: number,
  low: number,
  make: (value: number) => Plan,
  integer: boolean,
): void {
  let high = current;
  let floor = low;
  if (high <= floor) {
    return;
  }
  if (shrinker.try(make(floor))) {
    return;
  }
  for (let step = 0; step < 40 && !shrinker.budget.spent(); step++) {
    const middle = integer ? Math.floor((floor + high) / 2) : (floor + high) / 2;
    if (middle <= floor || middle >= high || (!integer && high - floor < 1e-4)) {
      return;
    }
    if (shrinker.try(make(middle))) {
      high = middle;
    } else {
      floor = middle;
    }
  }
}

/** Workload sizes (operations per client, keys, …) toward the floors the scenario declares. */
function shrinkWorkload(shrinker: Shrinker): void {
  const floors = shrinker.hooks.workloadFloors ?? {};
  for (const key of Object.keys(floors).sort()) {
    const value = shrinker.plan.workload[key];
    const floor = floors[key] ?? 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= floor) {
      continue;
    }
    bisectDown(
      shrinker,
      value,
      floor,
      (next) => ({
        ...clonePlan(shrinker.plan),
        workload: { ...shrinker.plan.workload, [key]: next },
      }),
      true,
    );
  }
}

/** Fault probabilities toward zero, and the latency tail toward no tail. */
function shrinkProbabilities(shrinker: Shrinker): void {
  for (const key of [...PROBABILITY_KNOBS, ...OPTIONAL_PROBABILITY_KNOBS]) {
    const value = shrinker.plan.knobs[key] ?? 0;
    bisectDown(
      shrinker,
      value,
      0,
      (next) => {
        const plan = clonePlan(shrinker.plan);
        plan.knobs[key] = Math.round(next * 10_000) / 10_000;
        return plan;
      },
      false,
    );
  }
  bisectDown(
    shrinker,
    shrinker.plan.knobs.latencyTailMultiplier,
    1,
    (next) => {
      const plan = clonePlan(shrinker.plan);
      plan.knobs.latencyTailMultiplier = next;
      return plan;
    },
    true,
  );
}

/** A shorter fault phase: faults past the new end are dropped (they would never fire). */
function shrinkDuration(shrinker: Shrinker): void {
  const plan = shrinker.plan;
  const lastFaultUs = plan.faults.reduce((latest, fault) => Math.max(latest, fault.atUs), 0);
  const lastStepUs = plan.script.reduce((latest, step) => Math.max(latest, step.atUs), 0);
  const floorUs = Math.max(1, lastFaultUs + 1, lastStepUs + 1);
  bisectDown(
    shrinker,
    plan.durationUs,
    Math.min(floorUs, plan.durationUs),
    (next) => ({ ...clonePlan(shrinker.plan), durationUs: next }),
    true,
  );
}

/** Sizes people compare before and after shrinking. */
export interface PlanSize {
  faultEvents: number;
  scriptSteps: number;
  clients: number;
  durationUs: number;
}

export function planSize(plan: Plan): PlanSize {
  return {
    faultEvents: plan.faults.length,
    scriptSteps: plan.script.length,
    clients: Topology.of(plan).clients.length,
    durationUs: plan.durationUs,
  };
}
