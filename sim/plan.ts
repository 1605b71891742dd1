// Plans: everything random about a run that a person may want to edit, derived from the seed
// by `planFor`. Swarm testing: each seed turns on a random subset of the scenario's fault
// kinds at random intensities, so some seeds are quiet and some are storms.
import { decode, encode } from '@msgpack/msgpack';

import { assert } from './assert.ts';
import { Random } from './random.ts';
import { planGroups, type Scenario } from './scenario.ts';
import { drawShape, logUniform, pinProblem, type ShapePins } from './shape.ts';
import { NODES_MAX, nodeNames, Topology } from './topology.ts';
import {
  CLASSIC_PARTITION_SHAPES,
  FAULT_KINDS,
  type FaultEvent,
  type FaultKind,
  type Knobs,
  type Link,
  MEDIA_FAULT_KINDS,
  type NodeId,
  OPTIONAL_PROBABILITY_KNOBS,
  PARTITION_SHAPES,
  type PartitionShape,
  PLAN_FORMAT,
  type Plan,
  type PlanGroup,
  PROBABILITY_KNOBS,
} from './types.ts';

const MS = 1000;

/** The largest clock-rate error a clock-drift fault sets, in parts per million (±0.2 %). */
export const CLOCK_DRIFT_PPM_MAX = 2000;

export function quietKnobs(): Knobs {
  return {
    faultKinds: [],
    dropProbability: 0,
    duplicateProbability: 0,
    latencyMinUs: 500,
    latencyJitterMeanUs: 500,
    latencyTailProbability: 0,
    latencyTailMultiplier: 1,
    fsyncLatencyMinUs: 200,
    fsyncLatencyMaxUs: 2 * MS,
    tornWriteProbability: 0,
    readCorruptionProbability: 0,
    buggifyProbability: 0,
  };
}

/**
 * The plan of one seed. A scenario with a `shape` draws the seed's shape first (from its own
 * stream, so the fault draws of fixed-shape scenarios are what they always were); `pins`
 * fix some of it (`--set`), and must have been checked with `pinProblem`.
 */
export function planFor(
  scenario: Scenario,
  seed: number,
  variant: string | null = null,
  pins: ShapePins = {},
): Plan {
  assert(Number.isSafeInteger(seed) && seed >= 0, 'a seed is a non-negative integer');
  assert(pinProblem(scenario.shape, pins) === undefined, 'pins fit the scenario shape');
  const random = Random.fromSeed(seed).fork('plan');
  const kinds = chooseKinds(scenario, random.fork('kinds'));
  const shape =
    scenario.shape === undefined
      ? undefined
      : drawShape(scenario.shape, random.fork('shape'), pins);
  const groups = planGroups(scenario, shape?.groupSizes);
  const durationUs = shape?.durationUs ?? scenario.durationUs;
  const base: Plan = {
    format: PLAN_FORMAT,
    scenario: scenario.name,
    variant,
    seed,
    groups,
    durationUs,
    settleUs: scenario.settleUs,
    knobs: chooseKnobs(kinds, random.fork('knobs')),
    faults: chooseFaults(scenario, new Topology(groups), durationUs, kinds, random.fork('faults')),
    script: [],
    workload: { ...scenario.workload, ...shape?.workload },
  };
  const plan = scenario.plan ? scenario.plan(seed, base) : base;
  plan.faults.sort((a, b) => a.atUs - b.atUs);
  plan.script.sort((a, b) => a.atUs - b.atUs);
  return validatePlan(plan);
}

function chooseKinds(scenario: Scenario, random: Random): FaultKind[] {
  const kinds: FaultKind[] = [];
  // Draw for every kind in a fixed order so that adding a kind to a scenario does not
  // reshuffle the choices for the others.
  for (const kind of FAULT_KINDS) {
    const on = random.chance(0.5);
    if (scenario.faults.eligible.includes(kind) && (on || !scenario.faults.swarm)) {
      kinds.push(kind);
    }
  }
  return kinds;
}

function chooseKnobs(kinds: FaultKind[], random: Random): Knobs {
  const on = (kind: FaultKind) => kinds.includes(kind);
  const knobs = quietKnobs();
  knobs.faultKinds = kinds;
  knobs.latencyMinUs = random.between(100, 2 * MS);
  knobs.latencyJitterMeanUs = random.between(0, 3 * MS);
  knobs.fsyncLatencyMinUs = random.between(50, MS);
  knobs.fsyncLatencyMaxUs = knobs.fsyncLatencyMinUs + random.between(0, 5 * MS);
  knobs.dropProbability = on('drop') ? roundProbability(random.next() * 0.3) : 0;
  knobs.duplicateProbability = on('duplicate') ? roundProbability(random.next() * 0.3) : 0;
  if (on('latency-tail')) {
    knobs.latencyTailProbability = roundProbability(random.next() * 0.1);
    knobs.latencyTailMultiplier = random.between(5, 100);
  }
  knobs.tornWriteProbability = on('torn-write') ? roundProbability(0.5 + random.next() * 0.5) : 0;
  knobs.readCorruptionProbability = on('read-corruption')
    ? roundProbability(random.next() * 0.01)
    : 0;
  knobs.buggifyProbability = on('buggify') ? roundProbability(0.05 + random.next() * 0.25) : 0;
  // From a stream of its own: the draws above stay what they were before packet replay.
  const replay = random.fork('replay');
  knobs.replayProbability =
    on('duplicate') && replay.chance(0.5) ? roundProbability(replay.next() * 0.05) : 0;
  return knobs;
}

/** Keeps probabilities short in plans people read and edit. */
function roundProbability(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function chooseFaults(
  scenario: Scenario,
  topology: Topology,
  durationUs: number,
  kinds: FaultKind[],
  random: Random,
): FaultEvent[] {
  const faults: FaultEvent[] = [];
  const episodesMax = scenario.faults.episodesMax ?? 6;
  const mediaVictims = mediaFaultAtlas(topology, random.fork('media-atlas'));
  for (const kind of kinds) {
    const stream = random.fork(kind);
    const excluded = scenario.faults.excludeGroups?.[kind] ?? [];
    const victims = topology.servers.filter(
      (node) =>
        !excluded.includes(topology.groupOf(node)) &&
        (!MEDIA_FAULT_KINDS.includes(kind) || mediaVictims.has(node)),
    );
    const episodes = stream.between(1, episodesMax);
    for (let episode = 0; episode < episodes; episode++) {
      const atUs = stream.between(0, durationUs - 1);
      const lengthUs = stream.between(10 * MS, Math.max(10 * MS, Math.floor(durationUs / 4)));
      addEpisode(faults, { kind, atUs, lengthUs, durationUs, topology, victims, random: stream });
    }
  }
  return faults;
}

/**
 * The servers this seed's media faults (bit rot, misdirected writes, latent sector errors) may
 * hit: a minority of each server group, ⌊(size − 1) / 2⌋ of its members, drawn once per seed
 * (TigerBeetle's simulator keeps such a "fault atlas"). A replicated system is asked to
 * tolerate damaged disks on a minority — detect the damage, refuse or repair, never apply it
 * — while the majority's copies keep every acknowledged write; with the faults free to hit
 * every disk, a seed can destroy every copy of an entry, which no design survives. From a
 * stream of its own, so the draws of every other kind stay what they were.
 */
function mediaFaultAtlas(topology: Topology, random: Random): Set<NodeId> {
  const victims = new Set<NodeId>();
  for (const group of topology.serverGroups()) {
    const shuffled = random.shuffle([...group.members]);
    for (const node of shuffled.slice(0, Math.floor((shuffled.length - 1) / 2))) {
      victims.add(node);
    }
  }
  return victims;
}

interface Episode {
  kind: FaultKind;
  atUs: number;
  lengthUs: number;
  /** The fault phase: crashes start inside it. */
  durationUs: number;
  topology: Topology;
  /** The nodes a node fault of this kind may pick: servers of the groups not excluded. */
  victims: NodeId[];
  random: Random;
}

function addEpisode(faults: FaultEvent[], episode: Episode): void {
  const { atUs, lengthUs, topology, victims, random } = episode;
  const endUs = atUs + lengthUs;
  if (episode.kind === 'partition') {
    const classic = random.pick(CLASSIC_PARTITION_SHAPES);
    const flaps = random.chance(0.2) ? random.between(2, 6) : 1;
    const stepUs = Math.max(1, Math.floor(lengthUs / (2 * flaps)));
    const servers = [...topology.servers];
    const everyone = Array.from({ length: topology.size }, (_, node) => node);
    const links = partitionLinks(classic, servers, everyone, random);
    // Group-aware shapes come from a stream of their own, so the draws above (and every
    // episode after) stay what they were before the topology knew groups.
    const aware = groupAwarePartition(classic, topology, random.fork(`shape@${atUs}`));
    for (let flap = 0; flap < flaps; flap++) {
      const startUs = atUs + 2 * flap * stepUs;
      faults.push({ atUs: startUs, kind: 'partition', shape: classic, links, ...aware });
      faults.push({ atUs: startUs + stepUs, kind: 'heal' });
    }
    return;
  }
  if (episode.kind === 'crash' || episode.kind === 'pause' || episode.kind === 'clock') {
    if (victims.length === 0) {
      return;
    }
  }
  switch (episode.kind) {
    case 'crash': {
      const node = random.pick(victims);
      faults.push({ atUs, kind: 'crash', node });
      faults.push({ atUs: endUs, kind: 'restart', node });
      addCrashLoop(faults, node, endUs, episode.durationUs, random.fork(`loop@${atUs}`));
      return;
    }
    case 'pause':
      faults.push({ atUs, kind: 'pause', node: random.pick(victims), durationUs: lengthUs });
      return;
    case 'clock': {
      const node = random.pick(victims);
      if (random.chance(0.5)) {
        const deltaUs = random.between(-1000 * MS, 1000 * MS);
        faults.push({ atUs, kind: 'clock-jump', node, deltaUs });
      } else {
        faults.push({
          atUs,
          kind: 'clock-drift',
          node,
          driftPpm: random.between(-CLOCK_DRIFT_PPM_MAX, CLOCK_DRIFT_PPM_MAX),
        });
      }
      return;
    }
    case 'latent-sector':
    case 'fsync-error':
    case 'bit-rot':
    case 'misdirected-write':
      if (victims.length > 0) {
        faults.push({ atUs, kind: episode.kind, node: random.pick(victims) });
      }
      return;
    default:
      // Knob-only kinds (drop, duplicate, latency-tail, torn-write, read-corruption,
      // buggify) have no timeline events.
      return;
  }
}

/** Crash episodes followed by a crash loop: recovery that is wrong only on the next crash. */
const CRASH_LOOP_PROBABILITY = 0.25;
const CRASH_LOOP_REPEATS_MAX = 3;

/**
 * Correlated crashes after a restart: the node crashes again after 10 µs to 100 ms (log-uniform,
 * so often inside recovery itself, before its first fsync completes), stays down 1–200 ms, and
 * so on up to three times, while the fault phase lasts. The draws come from a stream of their
 * own, so every other draw of the plan stays what it was before crash loops existed.
 */
function addCrashLoop(
  faults: FaultEvent[],
  node: NodeId,
  restartUs: number,
  durationUs: number,
  random: Random,
): void {
  if (!random.chance(CRASH_LOOP_PROBABILITY)) {
    return;
  }
  const repeats = random.between(1, CRASH_LOOP_REPEATS_MAX);
  let upUs = restartUs;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const crashUs = upUs + logUniform(random, { min: 10, max: 100 * MS });
    if (crashUs >= durationUs) {
      return; // crashes start inside the fault phase
    }
    upUs = crashUs + random.between(MS, 200 * MS);
    faults.push({ atUs: crashUs, kind: 'crash', node });
    faults.push({ atUs: upUs, kind: 'restart', node });
  }
}

type AwarePartition = { shape?: PartitionShape; links?: Link[]; groups?: string[] };

/**
 * Replaces a classic partition with a group-aware one on some episodes: isolate one server
 * from everyone (clients too); and where there are several groups, split one server group
 * into a majority and a minority, or cut one group off from another. Returns nothing to
 * keep the classic shape.
 */
function groupAwarePartition(
  classic: PartitionShape,
  topology: Topology,
  random: Random,
): AwarePartition {
  const serverGroups = topology.serverGroups();
  const several = topology.groups.filter((group) => group.members.length > 0).length > 2;
  if (!several) {
    // One server group (and its clients): isolation sometimes reaches the clients too.
    if (classic === 'isolate' && random.chance(0.5)) {
      const node = random.pick([...topology.servers]);
      return { shape: 'isolate-node', links: isolateNodeLinks(node, topology.size) };
    }
    return {};
  }
  if (random.chance(0.4)) {
    return {};
  }
  const choice = random.int(3);
  if (choice === 0) {
    const node = random.pick([...topology.servers]);
    return {
      shape: 'isolate-node',
      links: isolateNodeLinks(node, topology.size),
      groups: [topology.groupOf(node)],
    };
  }
  const splittable = serverGroups.filter((group) => group.members.length >= 2);
  if (choice === 1 && splittable.length > 0) {
    const group = random.pick(splittable);
    const shuffled = random.shuffle([...group.members]);
    const minority = Math.max(1, Math.floor((shuffled.length - 1) / 2));
    return {
      shape: 'split-group',
      links: cutBetween(shuffled.slice(0, minority), shuffled.slice(minority)),
      groups: [group.name],
    };
  }
  const first = random.pick(serverGroups);
  const others = topology.groups.filter(
    (group) => group.name !== first.name && group.members.length > 0,
  );
  const second = random.pick(others);
  return {
    shape: 'cut-groups',
    links: cutBetween([...first.members], [...second.members]),
    groups: [first.name, second.name],
  };
}

/**
 * The partition shapes a plan over this topology can draw (`addEpisode` and
 * `groupAwarePartition` above; keep the three in step): the classic ones always; isolate-node
 * when there are servers; split-group and cut-groups only with more than two non-empty
 * groups, split-group only when a server group has two members or more.
 */
export function drawableShapes(topology: Topology): PartitionShape[] {
  const shapes: PartitionShape[] = [...CLASSIC_PARTITION_SHAPES];
  if (topology.servers.length === 0) {
    return shapes;
  }
  shapes.push('isolate-node');
  const serverGroups = topology.serverGroups();
  const several = topology.groups.filter((group) => group.members.length > 0).length > 2;
  if (several) {
    if (serverGroups.some((group) => group.members.length >= 2)) {
      shapes.push('split-group');
    }
    shapes.push('cut-groups');
  }
  return shapes;
}

function isolateNodeLinks(node: NodeId, size: number): Link[] {
  const others = Array.from({ length: size }, (_, other) => other).filter((o) => o !== node);
  return cutBetween([node], others);
}

/** Every directed link between the two sides, both ways. */
export function cutBetween(sideA: readonly NodeId[], sideB: readonly NodeId[]): Link[] {
  const links: Link[] = [];
  for (const a of sideA) {
    for (const b of sideB) {
      links.push([a, b], [b, a]);
    }
  }
  return links;
}

/** The directed links a partition of the given shape cuts. Clients join a random side. */
export function partitionLinks(
  shape: PartitionShape,
  servers: number[],
  everyone: number[],
  random: Random,
): Link[] {
  const shuffled = random.shuffle(servers);
  const groups = serverGroups(shape, shuffled, random);
  const clients = everyone.filter((node) => !servers.includes(node));
  for (const client of clients) {
    random.pick(groups).push(client);
  }
  if (shape === 'ring') {
    return ringLinks(shuffled);
  }
  const links: Link[] = [];
  const sideOf = new Map<number, number[]>();
  for (const [index, group] of groups.entries()) {
    for (const node of group) {
      sideOf.set(node, [...(sideOf.get(node) ?? []), index]);
    }
  }
  for (const from of everyone) {
    for (const to of everyone) {
      const fromSides = sideOf.get(from) ?? [];
      const toSides = sideOf.get(to) ?? [];
      const shareSide = fromSides.some((side) => toSides.includes(side));
      const oneWayAllowed = shape === 'one-way' && fromSides.includes(1) && toSides.includes(0);
      if (from !== to && !shareSide && !oneWayAllowed) {
        links.push([from, to]);
      }
    }
  }
  return links;
}

function serverGroups(shape: PartitionShape, shuffled: number[], random: Random): number[][] {
  const count = shuffled.length;
  switch (shape) {
    case 'isolate':
    case 'isolate-node':
      return [shuffled.slice(0, 1), shuffled.slice(1)];
    case 'majority-minority':
    case 'split-group':
    case 'one-way': {
      const minority = Math.max(1, Math.floor((count - 1) / 2));
      return [shuffled.slice(0, minority), shuffled.slice(minority)];
    }
    case 'bridge': {
      // Two halves that cannot talk, and one node that both halves can reach.
      const half = Math.floor((count - 1) / 2);
      const bridge = shuffled[count - 1] as number;
      return [
        [...shuffled.slice(0, half), bridge],
        [...shuffled.slice(half, count - 1), bridge],
      ];
    }
    case 'ring':
      return [shuffled.slice()];
    case 'groups':
    case 'cut-groups': {
      const groupCount = random.between(2, Math.max(2, Math.min(count, 4)));
      const groups: number[][] = Array.from({ length: groupCount }, () => []);
      shuffled.forEach((node, index) => {
        (groups[index % groupCount] as number[]).push(node);
      });
      return groups;
    }
  }
}

/** Each server hears only its two neighbours on a ring; clients keep all their links. */
function ringLinks(ring: number[]): Link[] {
  const links: Link[] = [];
  const count = ring.length;
  if (count <= 3) {
    return links;
  }
  for (let index = 0; index < count; index++) {
    for (let other = 0; other < count; other++) {
      const distance = Math.min(Math.abs(index - other), count - Math.abs(index - other));
      if (distance > 1) {
        links.push([ring[index] as number, ring[other] as number]);
      }
    }
  }
  return links;
}

// ---------------------------------------------------------------------------------------
// Validation and encoding

export class PlanError extends Error {
  override name = 'PlanError';
}

type Path = string;

function fail(path: Path, expected: string, value: unknown): never {
  throw new PlanError(`invalid plan: ${path} should be ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function record(value: unknown, path: Path): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, 'an object', value);
  }
  return value as Record<string, unknown>;
}

function integer(value: unknown, path: Path, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(path, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

function probability(value: unknown, path: Path): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    fail(path, 'a probability in [0, 1]', value);
  }
  return value;
}

function list(value: unknown, path: Path): unknown[] {
  if (!Array.isArray(value)) {
    fail(path, 'a list', value);
  }
  return value;
}

/**
 * A format-1 plan (before topologies) as format 2: its servers become the group `servers`
 * (n1…) and its clients the group `clients` (c1…), the shape every scenario had then.
 */
export function migratePlan(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return value;
  }
  const plan = value as Record<string, unknown>;
  if (plan['format'] !== 1) {
    return value;
  }
  const nodes = integer(plan['nodes'], 'plan.nodes', 1, NODES_MAX);
  const clients = integer(plan['clients'], 'plan.clients', 0, NODES_MAX);
  const { nodes: _nodes, clients: _clients, ...rest } = plan;
  const groups: PlanGroup[] = [
    { name: 'servers', client: false, nodes: nodeNames('n', nodes) },
    { name: 'clients', client: true, nodes: nodeNames('c', clients) },
  ];
  return { ...rest, format: PLAN_FORMAT, groups };
}

/**
 * Checks every field of a plan (migrating an older format first) and returns it; a bad
 * field raises a PlanError naming it.
 */
export function validatePlan(input: unknown): Plan {
  const value = migratePlan(input);
  const plan = record(value, 'plan');
  if (plan['format'] !== PLAN_FORMAT) {
    fail('plan.format', `${PLAN_FORMAT} (or 1, which is migrated)`, plan['format']);
  }
  if (typeof plan['scenario'] !== 'string' || plan['scenario'].length === 0) {
    fail('plan.scenario', 'a scenario name', plan['scenario']);
  }
  if (plan['variant'] !== null && typeof plan['variant'] !== 'string') {
    fail('plan.variant', 'a variant name or null', plan['variant']);
  }
  integer(plan['seed'], 'plan.seed');
  const total = validateGroups(plan['groups'], 'plan.groups');
  const durationUs = integer(plan['durationUs'], 'plan.durationUs', 1);
  integer(plan['settleUs'], 'plan.settleUs');
  validateKnobs(plan['knobs'], 'plan.knobs');
  list(plan['faults'], 'plan.faults').forEach((fault, index) => {
    validateFault(fault, `plan.faults[${index}]`, total, durationUs);
  });
  list(plan['script'], 'plan.script').forEach((step, index) => {
    validateStep(step, `plan.script[${index}]`, total);
  });
  const workload = record(plan['workload'], 'plan.workload');
  for (const [key, item] of Object.entries(workload)) {
    if (!['number', 'string', 'boolean'].includes(typeof item)) {
      fail(`plan.workload.${key}`, 'a number, string or boolean', item);
    }
  }
  return value as Plan;
}

/** Checks the topology; returns the number of nodes. */
function validateGroups(value: unknown, path: Path): number {
  const groupNames = new Set<string>();
  const nodeNames = new Set<string>();
  list(value, path).forEach((item, index) => {
    const group = record(item, `${path}[${index}]`);
    const name = group['name'];
    if (typeof name !== 'string' || name.length === 0 || groupNames.has(name)) {
      fail(`${path}[${index}].name`, 'a group name used once', name);
    }
    groupNames.add(name);
    if (typeof group['client'] !== 'boolean') {
      fail(`${path}[${index}].client`, 'true or false', group['client']);
    }
    list(group['nodes'], `${path}[${index}].nodes`).forEach((node, at) => {
      if (typeof node !== 'string' || node.length === 0 || nodeNames.has(node)) {
        fail(`${path}[${index}].nodes[${at}]`, 'a node name used once', node);
      }
      nodeNames.add(node);
    });
  });
  if (nodeNames.size === 0 || nodeNames.size > NODES_MAX) {
    fail(path, `groups of 1 to ${NODES_MAX} nodes in all`, nodeNames.size);
  }
  return nodeNames.size;
}

function validateKnobs(value: unknown, path: Path): void {
  const knobs = record(value, path);
  list(knobs['faultKinds'], `${path}.faultKinds`).forEach((kind, index) => {
    if (!FAULT_KINDS.includes(kind as FaultKind)) {
      fail(`${path}.faultKinds[${index}]`, `one of ${FAULT_KINDS.join(', ')}`, kind);
    }
  });
  for (const key of PROBABILITY_KNOBS) {
    probability(knobs[key], `${path}.${key}`);
  }
  for (const key of OPTIONAL_PROBABILITY_KNOBS) {
    if (knobs[key] !== undefined) {
      probability(knobs[key], `${path}.${key}`);
    }
  }
  integer(knobs['latencyMinUs'], `${path}.latencyMinUs`);
  integer(knobs['latencyJitterMeanUs'], `${path}.latencyJitterMeanUs`);
  integer(knobs['latencyTailMultiplier'], `${path}.latencyTailMultiplier`, 1, 10_000);
  const fsyncMin = integer(knobs['fsyncLatencyMinUs'], `${path}.fsyncLatencyMinUs`);
  integer(knobs['fsyncLatencyMaxUs'], `${path}.fsyncLatencyMaxUs`, fsyncMin);
}

const NODE_FAULTS = ['crash', 'restart', 'pause', 'clock-jump', 'clock-drift'];
const DISK_FAULTS = ['latent-sector', 'fsync-error', 'bit-rot', 'misdirected-write'];

function validateFault(value: unknown, path: Path, total: number, durationUs: number): void {
  const fault = record(value, path);
  integer(fault['atUs'], `${path}.atUs`, 0, durationUs * 100);
  const kind = fault['kind'];
  if (kind === 'heal') {
    return;
  }
  if (kind === 'partition') {
    if (!PARTITION_SHAPES.includes(fault['shape'] as PartitionShape)) {
      fail(`${path}.shape`, `one of ${PARTITION_SHAPES.join(', ')}`, fault['shape']);
    }
    if (fault['groups'] !== undefined) {
      list(fault['groups'], `${path}.groups`).forEach((group, index) => {
        if (typeof group !== 'string') {
          fail(`${path}.groups[${index}]`, 'a group name', group);
        }
      });
    }
    list(fault['links'], `${path}.links`).forEach((link, index) => {
      const pair = list(link, `${path}.links[${index}]`);
      if (pair.length !== 2) {
        fail(`${path}.links[${index}]`, 'a [from, to] pair', link);
      }
      integer(pair[0], `${path}.links[${index}][0]`, 0, total - 1);
      integer(pair[1], `${path}.links[${index}][1]`, 0, total - 1);
    });
    return;
  }
  if (typeof kind !== 'string' || ![...NODE_FAULTS, ...DISK_FAULTS].includes(kind)) {
    fail(`${path}.kind`, 'a fault kind', kind);
  }
  integer(fault['node'], `${path}.node`, 0, total - 1);
  if (kind === 'pause') {
    integer(fault['durationUs'], `${path}.durationUs`, 1);
  }
  if (kind === 'clock-jump') {
    integer(fault['deltaUs'], `${path}.deltaUs`, -3_600_000_000, 3_600_000_000);
  }
  if (kind === 'clock-drift') {
    integer(fault['driftPpm'], `${path}.driftPpm`, -100_000, 100_000);
  }
}

function validateStep(value: unknown, path: Path, total: number): void {
  const step = record(value, path);
  integer(step['atUs'], `${path}.atUs`);
  if (step['kind'] === 'inject') {
    integer(step['node'], `${path}.node`, 0, total - 1);
    const message = record(step['message'], `${path}.message`);
    if (typeof message['type'] !== 'string') {
      fail(`${path}.message.type`, 'a message type', message['type']);
    }
    return;
  }
  if (step['kind'] === 'check') {
    if (typeof step['check'] !== 'string') {
      fail(`${path}.check`, 'a check name', step['check']);
    }
    return;
  }
  fail(`${path}.kind`, '"inject" or "check"', step['kind']);
}

export function encodePlan(plan: Plan): Uint8Array {
  return encode(plan, { ignoreUndefined: true });
}

export function decodePlan(bytes: Uint8Array): Plan {
  return validatePlan(decode(bytes));
}
