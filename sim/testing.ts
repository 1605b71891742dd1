// Helpers for tests that build small ad-hoc scenarios and plans without registering them.
import { quietKnobs } from './plan.ts';
import { planGroups, type Scenario, serversAndClients } from './scenario.ts';
import { type RunOptions, Simulation } from './simulation.ts';
import {
  type NodeContext,
  type NodeProgram,
  PLAN_FORMAT,
  type Plan,
  type RunResult,
} from './types.ts';

/** Overrides for a test scenario; `nodes` and `clients` size its servers and clients groups. */
export type TestScenarioOverrides = Partial<Scenario> & { nodes?: number; clients?: number };

/** A scenario whose servers (n1…) and clients (c1…) all run `program`. */
export function testScenario(
  program: (context: NodeContext) => NodeProgram,
  overrides: TestScenarioOverrides = {},
): Scenario {
  const { nodes = 3, clients = 0, ...rest } = overrides;
  return {
    name: 'test',
    description: 'an ad-hoc test scenario',
    system: 'test',
    groups: serversAndClients(nodes, clients, program, program),
    durationUs: 1_000_000,
    settleUs: 0,
    faults: { eligible: [], swarm: false },
    workload: {},
    variants: {},
    invariants: () => [],
    ...rest,
  };
}

export function testPlan(scenario: Scenario, overrides: Partial<Plan> = {}): Plan {
  return {
    format: PLAN_FORMAT,
    scenario: scenario.name,
    variant: null,
    seed: 1,
    groups: planGroups(scenario),
    durationUs: scenario.durationUs,
    settleUs: scenario.settleUs,
    knobs: { ...quietKnobs(), latencyJitterMeanUs: 0 },
    faults: [],
    script: [],
    workload: { ...scenario.workload },
    ...overrides,
  };
}

export function runTest(scenario: Scenario, plan: Plan, options: RunOptions = {}): RunResult {
  return new Simulation(scenario, plan, options).run();
}

/** A program assembled from optional handlers, for tests. */
export function programOf(handlers: Partial<NodeProgram>): NodeProgram {
  return {
    onStart: handlers.onStart ?? (() => {}),
    onMessage: handlers.onMessage ?? (() => {}),
    onTimer: handlers.onTimer ?? (() => {}),
    ...(handlers.onSynced ? { onSynced: handlers.onSynced } : {}),
    ...(handlers.inspect ? { inspect: handlers.inspect } : {}),
  };
}
