// Helpers for tests that build small ad-hoc scenarios and plans without registering them.
import { quietKnobs } from './plan.ts';
import type { Scenario } from './scenario.ts';
import { type RunOptions, Simulation } from './simulation.ts';
import {
  type NodeContext,
  type NodeProgram,
  PLAN_FORMAT,
  type Plan,
  type RunResult,
} from './types.ts';

export function testScenario(
  program: (context: NodeContext) => NodeProgram,
  overrides: Partial<Scenario> = {},
): Scenario {
  return {
    name: 'test',
    description: 'an ad-hoc test scenario',
    system: 'test',
    nodes: 3,
    clients: 0,
    durationUs: 1_000_000,
    settleUs: 0,
    faults: { eligible: [], swarm: false },
    workload: {},
    variants: {},
    program,
    invariants: () => [],
    ...overrides,
  };
}

export function testPlan(scenario: Scenario, overrides: Partial<Plan> = {}): Plan {
  return {
    format: PLAN_FORMAT,
    scenario: scenario.name,
    variant: null,
    seed: 1,
    nodes: scenario.nodes,
    clients: scenario.clients,
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
