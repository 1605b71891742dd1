// Argument checks shared by commands: each bad value gets one sentence (exit 2).
import '../scenarios/index.ts';

import { checkVariant, scenarioNamed, UnknownScenarioError } from '../sim/run.ts';
import type { Scenario } from '../sim/scenario.ts';
import { UsageError } from './errors.ts';

export function scenarioArgument(name: unknown, variant?: unknown): Scenario {
  if (typeof name !== 'string' || name.length === 0) {
    throw new UsageError('name a scenario; `faultline list` shows them');
  }
  try {
    const scenario = scenarioNamed(name);
    checkVariant(scenario, typeof variant === 'string' ? variant : null);
    return scenario;
  } catch (error) {
    if (error instanceof UnknownScenarioError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

export function seedArgument(value: unknown, what = '--seed'): number {
  const seed = typeof value === 'string' ? Number(value) : value;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return seed;
}

export function countArgument(value: unknown, what: string, min = 1): number {
  const count = typeof value === 'string' ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < min) {
    throw new UsageError(
      `${what} must be an integer of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return count;
}
