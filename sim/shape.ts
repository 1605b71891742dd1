// The seed's shape: besides its faults, a swarm scenario may let each seed draw how long the
// fault phase lasts, how big its groups are and how hard its clients push, as TigerBeetle's
// swarm draws cluster size and rates. Short seeds find most bugs for a fraction of the CPU;
// long ones find those that need a long history; a mix of both finds both. Everything drawn
// lands in the plan as plain data (durationUs, the groups' node lists, workload values), so
// replay reproduces it, shrink lowers it, and a person can read and edit it.
import { assert } from './assert.ts';
import type { Random } from './random.ts';
import type { Plan, WorkloadValue } from './types.ts';

/** An integer range drawn log-uniformly: as many seeds between 1 and 2 s as between 4 and 8 s. */
export interface LogRange {
  min: number;
  max: number;
}

/** What a scenario lets the swarm draw per seed. Parameters left out keep the scenario's value. */
export interface ShapeSpec {
  /** The fault phase's length, µs. */
  durationUs?: LogRange;
  /** A group's size, one of these, uniformly (e.g. `servers: [3, 5]`). */
  groupSizes?: Readonly<Record<string, readonly number[]>>;
  /** Numeric workload parameters (e.g. a client's think time), log-uniform integers. */
  workload?: Readonly<Record<string, LogRange>>;
}

/** Values a person fixed (`--set durationUs=2000000 servers=5`): drawn values give way to them. */
export type ShapePins = Readonly<Record<string, number>>;

/** One seed's drawn shape. */
export interface DrawnShape {
  durationUs?: number;
  groupSizes: Record<string, number>;
  workload: Record<string, number>;
}

/** The parameters a spec draws, in the order the draws are made: the names `--set` accepts. */
export function shapeParameters(spec: ShapeSpec): string[] {
  return [
    ...(spec.durationUs === undefined ? [] : ['durationUs']),
    ...Object.keys(spec.groupSizes ?? {}),
    ...Object.keys(spec.workload ?? {}),
  ];
}

/**
 * Why these pins do not fit the spec (an unknown name, a value out of its range), or
 * undefined. One sentence, for the command line.
 */
export function pinProblem(spec: ShapeSpec | undefined, pins: ShapePins): string | undefined {
  const known = spec === undefined ? [] : shapeParameters(spec);
  for (const [name, value] of Object.entries(pins)) {
    if (!known.includes(name)) {
      return known.length === 0
        ? `this scenario has a fixed shape, so there is nothing to set (${name} was given)`
        : `${name} is not drawn by this scenario; it draws ${known.join(', ')}`;
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      return `${name} must be a non-negative integer, not ${value}`;
    }
    const sizes = spec?.groupSizes?.[name];
    if (sizes !== undefined && value < 1) {
      return `${name} is a group size and must be at least 1, not ${value}`;
    }
    if (name === 'durationUs' && value < 1) {
      return 'durationUs must be at least 1';
    }
  }
  return undefined;
}

/**
 * Draws every parameter of the spec, in a fixed order, whether pinned or not: pinning one
 * parameter never changes what the others draw.
 */
export function drawShape(spec: ShapeSpec, random: Random, pins: ShapePins = {}): DrawnShape {
  const shape: DrawnShape = { groupSizes: {}, workload: {} };
  if (spec.durationUs !== undefined) {
    const drawn = logUniform(random, spec.durationUs);
    shape.durationUs = pins['durationUs'] ?? drawn;
  }
  for (const [group, sizes] of Object.entries(spec.groupSizes ?? {})) {
    assert(sizes.length > 0, 'a drawn group size has at least one choice');
    const drawn = random.pick(sizes);
    shape.groupSizes[group] = pins[group] ?? drawn;
  }
  for (const [name, range] of Object.entries(spec.workload ?? {})) {
    const drawn = logUniform(random, range);
    shape.workload[name] = pins[name] ?? drawn;
  }
  return shape;
}

/** An integer in [min, max] whose logarithm is uniform. */
export function logUniform(random: Random, range: LogRange): number {
  assert(Number.isSafeInteger(range.min) && Number.isSafeInteger(range.max), 'integer ranges');
  assert(range.min >= 1 && range.min <= range.max, 'a log range is 1 <= min <= max');
  const low = Math.log(range.min);
  const value = Math.round(Math.exp(low + random.next() * (Math.log(range.max) - low)));
  const clamped = Math.min(range.max, Math.max(range.min, value));
  assert(clamped >= range.min && clamped <= range.max, 'a log-uniform draw lies in its range');
  return clamped;
}

/**
 * A plan's shape as numbers, read back from the plan itself (so a shrunk or edited plan
 * reports what it really is): the fault phase, the size of every group the spec draws and
 * every workload value it draws. Undefined for a scenario with a fixed shape.
 */
export function planShape(
  spec: ShapeSpec | undefined,
  plan: Pick<Plan, 'durationUs' | 'groups' | 'workload'>,
): Record<string, number> | undefined {
  if (spec === undefined) {
    return undefined;
  }
  const shape: Record<string, number> = {};
  if (spec.durationUs !== undefined) {
    shape['durationUs'] = plan.durationUs;
  }
  for (const group of Object.keys(spec.groupSizes ?? {})) {
    shape[group] = plan.groups.find((planned) => planned.name === group)?.nodes.length ?? 0;
  }
  for (const name of Object.keys(spec.workload ?? {})) {
    const value: WorkloadValue | undefined = plan.workload[name];
    if (typeof value === 'number') {
      shape[name] = value;
    }
  }
  return shape;
}

/** Parses `name=value` pins from the command line; a problem is one sentence. */
export function parsePins(items: readonly string[]): ShapePins | string {
  const pins: Record<string, number> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0) {
      return `--set takes name=value (for example durationUs=2000000), not "${item}"`;
    }
    const name = item.slice(0, equals);
    const text = item.slice(equals + 1).replaceAll('_', '');
    const value = Number(text);
    if (text === '' || !Number.isSafeInteger(value)) {
      return `--set ${name} needs an integer value, not "${item.slice(equals + 1)}"`;
    }
    pins[name] = value;
  }
  return pins;
}
