// One seed, one run: the entry point the CLI, the fuzzer, replay and tests share.

import { assert } from './assert.ts';
import { planFor } from './plan.ts';
import { findScenario, resolveVariant, type Scenario, topologyMismatch } from './scenario.ts';
import { pinProblem, type ShapePins } from './shape.ts';
import { type RunOptions, Simulation } from './simulation.ts';
import type { Plan, RunResult, Violation } from './types.ts';

export class UnknownScenarioError extends Error {
  override name = 'UnknownScenarioError';
}

export function scenarioNamed(name: string): Scenario {
  const scenario = findScenario(name);
  if (scenario === undefined) {
    throw new UnknownScenarioError(
      `there is no scenario named ${JSON.stringify(name)}; \`faultline list\` shows them`,
    );
  }
  return scenario;
}

export function checkVariant(scenario: Scenario, variant: string | null): void {
  if (variant !== null && resolveVariant(scenario, variant) === undefined) {
    const known = Object.keys(scenario.variants).join(', ') || 'none';
    throw new UnknownScenarioError(
      `scenario ${scenario.name} has no variant ${JSON.stringify(variant)} (known: ${known})`,
    );
  }
}

/** A plan's groups must all be groups of its scenario (an edited or foreign plan may not be). */
export function checkTopology(scenario: Scenario, plan: Plan): void {
  const mismatch = topologyMismatch(scenario, plan);
  if (mismatch !== undefined) {
    throw new UnknownScenarioError(mismatch);
  }
}

export function runPlan(plan: Plan, options: RunOptions = {}): RunResult {
  const scenario = scenarioNamed(plan.scenario);
  checkVariant(scenario, plan.variant);
  checkTopology(scenario, plan);
  return new Simulation(scenario, plan, options).run();
}

/** Pinned shape parameters must be ones the scenario draws (`--set`). */
export function checkPins(scenario: Scenario, pins: ShapePins): void {
  const problem = pinProblem(scenario.shape, pins);
  if (problem !== undefined) {
    throw new UnknownScenarioError(`scenario ${scenario.name}: ${problem}`);
  }
}

export function runSeed(
  scenarioName: string,
  seed: number,
  variant: string | null = null,
  options: RunOptions = {},
  pins: ShapePins = {},
): { plan: Plan; result: RunResult } {
  const scenario = scenarioNamed(scenarioName);
  checkVariant(scenario, variant);
  checkPins(scenario, pins);
  const plan = planFor(scenario, seed, variant, pins);
  return { plan, result: new Simulation(scenario, plan, options).run() };
}

/**
 * The first of `count` seeds from `from` whose run fails (a violation, an exception's
 * included), run one by one as fuzz hands them out; undefined when every one passes.
 */
export function firstFailingSeed(
  scenarioName: string,
  variant: string | null,
  count: number,
  from = 0,
): { seed: number; violation: Violation } | undefined {
  assert(Number.isSafeInteger(count) && count >= 0, 'firstFailingSeed needs a seed count');
  for (let seed = from; seed < from + count; seed++) {
    const { violation } = runSeed(scenarioName, seed, variant).result;
    if (violation !== undefined) {
      return { seed, violation };
    }
  }
  return undefined;
}
