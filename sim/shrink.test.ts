// Shrinking: with synthetic predicates (fast, exact expectations) and with a planted
// ack-before-fsync failure of pingpong that must shrink to its one essential fault.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Topology } from './topology.ts';

import '../scenarios/index.ts';
import { planFor, quietKnobs, validatePlan } from './plan.ts';
import { runPlan, scenarioNamed } from './run.ts';
import { scenarioShrinkHooks, shrinkPlan, workloadList } from './shrink.ts';
import type { FaultEvent, Plan } from './types.ts';

const BUDGET = { timeMs: 30_000, attemptsMax: 20_000 };

// The planted-crash test below needs a seed whose network and disk streams let the crash
// alone lose an acknowledged ping (most do; 3 did before the seed derivation was hashed, 0
// does now); the synthetic-predicate tests do not care which seed it is.
const PLANTED_SEED = 0;

function basePlan(faults: FaultEvent[]): Plan {
  const plan = planFor(scenarioNamed('pingpong'), PLANTED_SEED, 'ack-before-fsync');
  return { ...plan, faults, knobs: { ...quietKnobs(), dropProbability: 0.2 } };
}

/** Distinct, valid fault events: a pause per index (node and time vary). */
function noiseFaults(count: number): FaultEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    atUs: 1000 + index * 1000,
    kind: 'pause' as const,
    node: index % 3,
    durationUs: 100 + index,
  }));
}

describe('shrinkPlan with a synthetic predicate', () => {
  it('thins a list-valued workload parameter (an admin script) to the steps the failure needs', () => {
    const steps = Array.from({ length: 12 }, (_, index) => ({
      atUs: index * 1000,
      op: `op${index}`,
    }));
    const base = basePlan([]);
    const plan = {
      ...base,
      workload: {
        ...base.workload,
        'admin.0': JSON.stringify(steps),
        other: JSON.stringify(steps),
      },
    };
    const has = (candidate: Plan, key: string, op: string) =>
      workloadList(candidate, key).some((step) => (step as { op: string }).op === op);
    const fails = (candidate: Plan) =>
      has(candidate, 'admin.0', 'op2') && has(candidate, 'admin.0', 'op9');
    const result = shrinkPlan(plan, fails, BUDGET, { workloadLists: ['admin.0'] });
    expect(workloadList(result.plan, 'admin.0')).toEqual([steps[2], steps[9]]);
    // A list not named is never touched.
    expect(result.plan.workload['other']).toBe(plan.workload['other']);
    // Without the hook, the list stays whole.
    const untouched = shrinkPlan(plan, fails, BUDGET);
    expect(workloadList(untouched.plan, 'admin.0')).toHaveLength(12);
  });

  it("takes the shardkv admin script from the scenario's declarations", () => {
    expect(scenarioShrinkHooks(scenarioNamed('shardkv')).workloadLists).toEqual(['admin.0']);
    expect(workloadList({ ...basePlan([]), workload: { x: 'not json' } }, 'x')).toEqual([]);
  });

  it('keeps exactly the faults, operations and noise the failure needs', () => {
    const faults = noiseFaults(40);
    const needed = [faults[7], faults[31]] as FaultEvent[];
    const fails = (plan: Plan) =>
      needed.every((fault) =>
        plan.faults.some((other) => JSON.stringify(other) === JSON.stringify(fault)),
      ) &&
      (plan.workload['opsPerClient'] as number) >= 3 &&
      plan.knobs.dropProbability > 0.01;
    const result = shrinkPlan(basePlan(faults), fails, BUDGET, {
      workloadFloors: { opsPerClient: 0 },
    });
    expect(result.plan.faults).toEqual(needed);
    expect(result.plan.workload['opsPerClient']).toBe(3);
    expect(result.plan.knobs.dropProbability).toBeGreaterThan(0.01);
    expect(result.plan.knobs.dropProbability).toBeLessThan(0.02);
    expect(Topology.of(result.plan).clients).toEqual([]);
    expect(result.plan.durationUs).toBe(faults[31]!.atUs + 1);
    expect(result.exhausted).toBe(false);
  });

  // For a monotone predicate that set is the one smallest failing plan, so matching it
  // exactly says everything a comparison with plain ddmin could.
  it('fast-check: for a monotone "these faults together" bug, the result is exactly that set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.uniqueArray(fc.nat(29), { minLength: 1, maxLength: 4 }),
        (count, picks) => {
          const faults = noiseFaults(count);
          const needed = picks
            .filter((pick) => pick < count)
            .map((pick) => faults[pick] as FaultEvent);
          const key = (fault: FaultEvent) => JSON.stringify(fault);
          const fails = (plan: Plan) => {
            const present = new Set(plan.faults.map(key));
            return needed.every((fault) => present.has(key(fault)));
          };
          const plan = basePlan(faults);
          const result = shrinkPlan(plan, fails, BUDGET);
          expect(result.plan.faults.map(key).sort()).toEqual(needed.map(key).sort());
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it('lowers only the workload sizes the scenario names, never below their floors', () => {
    const plan: Plan = {
      ...basePlan([]),
      workload: { opsPerClient: 20, timeoutUs: 5000, keys: 9 },
    };
    const result = shrinkPlan(plan, () => true, BUDGET, {
      workloadFloors: { opsPerClient: 0, keys: 2 },
    });
    // Any value fails, so each named size reaches its floor; the timeout is not a size.
    expect(result.plan.workload).toEqual({ opsPerClient: 0, timeoutUs: 5000, keys: 2 });
    const untouched = shrinkPlan(plan, () => true, BUDGET);
    expect(untouched.plan.workload).toEqual(plan.workload);
  });

  it('hands out each smaller failing plan as it is kept, ending with the result', () => {
    const faults = noiseFaults(12);
    const kept: Plan[] = [];
    const result = shrinkPlan(
      basePlan(faults),
      (plan) => plan.faults.some((fault) => fault.atUs === faults[5]!.atUs),
      BUDGET,
      { onSmaller: (plan) => kept.push(plan) },
    );
    expect(kept.length).toBe(result.accepted);
    expect(kept.at(-1)).toBe(result.plan);
    const sizes = kept.map((plan) => plan.faults.length);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it('stops at its attempt budget', () => {
    const result = shrinkPlan(basePlan(noiseFaults(30)), () => false, {
      timeMs: 60_000,
      attemptsMax: 5,
    });
    expect(result.attempts).toBe(5);
    expect(result.exhausted).toBe(true);
    expect(result.plan.faults).toHaveLength(30);
  });

  it('never proposes an invalid plan', () => {
    const seen: Plan[] = [];
    shrinkPlan(
      basePlan(noiseFaults(10)),
      (plan) => {
        seen.push(plan);
        return plan.faults.length > 2;
      },
      BUDGET,
    );
    for (const plan of seen) {
      expect(() => validatePlan(plan)).not.toThrow();
    }
  });
});

describe('shrinkPlan removing clients from a topology with two client groups', () => {
  // Servers n1–n3 (ids 0–2), then client groups a (a1 a2: ids 3–4) and b (b1–b3: ids 5–7).
  const groups: Plan['groups'] = [
    { name: 'servers', client: false, nodes: ['n1', 'n2', 'n3'] },
    { name: 'a', client: true, nodes: ['a1', 'a2'] },
    { name: 'b', client: true, nodes: ['b1', 'b2', 'b3'] },
  ];
  const names = groups.flatMap((group) => group.nodes);

  /** A crash, a pause and an inject step naming each node, and a partition cutting them all. */
  function plan(): Plan {
    const faults: FaultEvent[] = names.flatMap((_, node): FaultEvent[] => [
      { atUs: 1000 + node, kind: 'crash', node },
      { atUs: 2000 + node, kind: 'pause', node, durationUs: 100 },
    ]);
    faults.push({
      atUs: 3000,
      kind: 'partition',
      shape: 'cut-groups',
      links: names.flatMap((_, node): [number, number][] => [
        [0, node],
        [node, 5],
      ]),
      groups: ['servers', 'b'],
    });
    return validatePlan({
      ...basePlan(faults),
      groups,
      script: names.map((name, node) => ({
        atUs: 4000 + node,
        kind: 'inject' as const,
        node,
        message: { type: 'mark', name },
      })),
    });
  }

  /** The plan with every node id replaced by its name, for comparing across removals. */
  function byName(candidate: Plan): unknown {
    const topology = Topology.of(candidate);
    return {
      faults: candidate.faults.map((fault) =>
        fault.kind === 'partition'
          ? { ...fault, links: fault.links.map((link) => link.map((node) => topology.name(node))) }
          : 'node' in fault
            ? { ...fault, node: topology.name(fault.node) }
            : fault,
      ),
      script: candidate.script.map((step) =>
        step.kind === 'inject' ? { ...step, node: topology.name(step.node) } : step,
      ),
    };
  }

  /** The original plan restricted to the nodes that remain, by name. */
  function expectedFor(remaining: Set<string>): unknown {
    const original = byName(plan()) as { faults: FaultEvent[]; script: Plan['script'] };
    const kept = (name: unknown) => remaining.has(name as string);
    return {
      faults: original.faults
        .filter((fault) => !('node' in fault) || kept(fault.node))
        .map((fault) =>
          fault.kind === 'partition'
            ? { ...fault, links: fault.links.filter((link) => link.every(kept)) }
            : fault,
        ),
      script: original.script.filter((step) => step.kind !== 'inject' || kept(step.node)),
    };
  }

  it('drops clients from either group with what names them, shifting later ids down', () => {
    const seen: Plan[] = [];
    // Fails while a1 and b2 exist and nothing else changed: so faults and steps may go only
    // with their node, and every id left must still name the node it named before.
    const fails = (candidate: Plan) => {
      seen.push(candidate);
      const remaining = new Set(Topology.of(candidate).names);
      return (
        remaining.has('a1') &&
        remaining.has('b2') &&
        JSON.stringify(byName(candidate)) === JSON.stringify(expectedFor(remaining))
      );
    };
    const result = shrinkPlan(plan(), fails, BUDGET);
    expect(result.plan.groups.map((group) => group.nodes)).toEqual([
      ['n1', 'n2', 'n3'],
      ['a1'],
      ['b1', 'b2'],
    ]);
    // a2 (id 4) and b3 (id 7) went with their faults, steps and links; b1 and b2 moved from
    // ids 5–6 to 4–5.
    const nodes = result.plan.faults.flatMap((fault) => ('node' in fault ? [fault.node] : []));
    expect(nodes).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    const crashTimes = result.plan.faults
      .filter((fault) => fault.kind === 'crash')
      .map((fault) => fault.atUs);
    expect(crashTimes).toEqual([1000, 1001, 1002, 1003, 1005, 1006]);
    const partition = result.plan.faults.find((fault) => fault.kind === 'partition');
    expect(partition?.links).toEqual([
      [0, 0],
      [0, 4],
      [0, 1],
      [1, 4],
      [0, 2],
      [2, 4],
      [0, 3],
      [3, 4],
      [0, 4],
      [4, 4],
      [0, 5],
      [5, 4],
    ]);
    expect(result.plan.script.map((step) => (step.kind === 'inject' ? step.node : -1))).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(
      result.plan.script.map((step) => (step.kind === 'inject' ? step.message['name'] : '')),
    ).toEqual(['n1', 'n2', 'n3', 'a1', 'b1', 'b2']);
    // No candidate ever moved a server: ids 0–2 are n1–n3 and their faults stay theirs.
    expect(seen.length).toBeGreaterThan(2);
    for (const candidate of seen) {
      const topology = Topology.of(candidate);
      expect(topology.servers).toEqual([0, 1, 2]);
      expect([0, 1, 2].map((node) => topology.name(node))).toEqual(['n1', 'n2', 'n3']);
      for (const fault of candidate.faults) {
        if (fault.kind === 'crash' && fault.atUs < 1003) {
          expect(fault.node).toBe(fault.atUs - 1000);
        }
      }
    }
  });
});

describe('shrinking a planted pingpong failure', () => {
  it('reduces a crash hidden among noise to the crash alone', () => {
    // ack-before-fsync with slow fsyncs: a crash of n2 at 50 ms loses a ping it answered.
    // The pauses, clock faults, partition and the restart are noise: settle restarts n2.
    const faults: FaultEvent[] = [
      { atUs: 10_000, kind: 'pause', node: 0, durationUs: 30_000 },
      { atUs: 20_000, kind: 'clock-jump', node: 2, deltaUs: 40_000 },
      { atUs: 50_000, kind: 'crash', node: 1 },
      {
        atUs: 60_000,
        kind: 'partition',
        shape: 'isolate',
        links: [
          [0, 2],
          [2, 0],
        ],
      },
      { atUs: 80_000, kind: 'restart', node: 1 },
      { atUs: 90_000, kind: 'heal' },
      { atUs: 500_000, kind: 'clock-drift', node: 0, driftPpm: 500 },
      { atUs: 700_000, kind: 'pause', node: 2, durationUs: 30_000 },
    ];
    const plan: Plan = {
      ...basePlan(faults),
      knobs: {
        ...quietKnobs(),
        fsyncLatencyMinUs: 20_000,
        fsyncLatencyMaxUs: 40_000,
        dropProbability: 0.05,
        duplicateProbability: 0.1,
      },
    };
    const before = runPlan(plan);
    expect(before.violation?.invariant).toBe('acked-pings-durable');
    expect(runPlan({ ...plan, variant: null }).outcome).toBe('pass');
    const fails = (candidate: Plan) =>
      runPlan(candidate).violation?.invariant === 'acked-pings-durable';
    const result = shrinkPlan(plan, fails, BUDGET, {
      workloadFloors: scenarioNamed('pingpong').shrinkableWorkload ?? {},
    });
    expect(result.plan.faults).toEqual([{ atUs: 50_000, kind: 'crash', node: 1 }]);
    const after = runPlan(result.plan);
    expect(after.violation?.invariant).toBe('acked-pings-durable');
    expect(after.stats.operations).toBeLessThan(before.stats.operations);
  });
});
