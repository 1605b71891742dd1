// Argument checks shared by commands: each bad value gets one sentence (exit 2).
import '../scenarios/index.ts';

import { checkPins, checkVariant, scenarioNamed, UnknownScenarioError } from '../sim/run.ts';
import type { Scenario } from '../sim/scenario.ts';
import { parsePins, type ShapePins, shapeParameters } from '../sim/shape.ts';
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

/** `--set name=value …`: shape parameters the seed would otherwise draw. */
export function pinsArgument(value: unknown, scenario: Scenario): ShapePins {
  const items = value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
  const pins = parsePins(items.flatMap((item) => item.split(',').filter((part) => part !== '')));
  if (typeof pins === 'string') {
    throw new UsageError(pins);
  }
  try {
    checkPins(scenario, pins);
  } catch (error) {
    if (error instanceof UnknownScenarioError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
  return pins;
}

/** The `--set` option, as fuzz, run and check-determinism declare it. */
export const SET_OPTION = {
  type: 'string',
  array: true,
  describe:
    'pin a drawn shape parameter, name=value (durationUs=2000000 servers=5 clients=1 thinkUs=5000; `faultline list` shows what a scenario draws)',
} as const;

/** "durationUs, servers, …" or null for a fixed-shape scenario (for `list` and help). */
export function drawnParameters(scenario: Scenario): string | null {
  return scenario.shape === undefined ? null : shapeParameters(scenario.shape).join(', ');
}
