// A scenario is declared, not coded imperatively: a system, a cluster shape, a workload, a
// fault profile, invariants and `sometimes` assertions. `planFor` turns it and a seed into a
// plan; the simulator runs the plan.
import type {
  ClusterView,
  FaultKind,
  Invariant,
  NodeContext,
  NodeProgram,
  ObservationRecord,
  Plan,
  Verdict,
  WorkloadValue,
} from './types.ts';

export interface FaultProfile {
  /** The fault kinds a seed may turn on. */
  eligible: FaultKind[];
  /** Swarm testing: each seed turns on a random subset of `eligible` (else all of them). */
  swarm: boolean;
  /** Upper bound on discrete fault episodes per kind per seed. */
  episodesMax?: number;
}

export interface Budgets {
  eventsMax: number;
  wallMsMax: number;
}

export interface Scenario {
  name: string;
  description: string;
  system: string;
  nodes: number;
  clients: number;
  durationUs: number;
  settleUs: number;
  faults: FaultProfile;
  workload: Record<string, WorkloadValue>;
  /**
   * Workload parameters that are sizes, with the lowest value `shrink` may try (0: none).
   * Parameters not named here are never changed by the shrinker.
   */
  shrinkableWorkload?: Readonly<Record<string, number>>;
  /** Known-bug variants: name → the one realistic mistake it makes. */
  variants: Record<string, string>;
  /** Builds the program for node `context.id` (servers first, then clients). */
  program(context: NodeContext): NodeProgram;
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

const registry = new Map<string, Scenario>();

export function registerScenario(scenario: Scenario): void {
  if (registry.has(scenario.name)) {
    throw new Error(`scenario ${scenario.name} is registered twice`);
  }
  registry.set(scenario.name, scenario);
}

export function findScenario(name: string): Scenario | undefined {
  return registry.get(name);
}

export function allScenarios(): Scenario[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
