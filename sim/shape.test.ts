// The seed's shape: drawn within what the scenario declares, reproduced by the plan, pinned
// by `--set` without disturbing the other draws, lowered by shrink.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import { planFor } from './plan.ts';
import { Random } from './random.ts';
import { runPlan, runSeed, scenarioNamed } from './run.ts';
import type { Scenario } from './scenario.ts';
import {
  drawShape,
  logUniform,
  parsePins,
  pinProblem,
  planShape,
  type ShapeSpec,
} from './shape.ts';
import { shrinkPlan } from './shrink.ts';
import { FAULT_KINDS, type Plan } from './types.ts';

const SPEC: ShapeSpec = {
  durationUs: { min: 500_000, max: 15_000_000 },
  groupSizes: { servers: [3, 5], clients: [1, 2, 3, 4] },
  workload: { thinkUs: { min: 1_000, max: 20_000 } },
};

describe('drawShape', () => {
  it('draws every parameter inside its range, for any seed', () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const shape = drawShape(SPEC, Random.fromSeed(seed));
        expect(shape.durationUs).toBeGreaterThanOrEqual(500_000);
        expect(shape.durationUs).toBeLessThanOrEqual(15_000_000);
        expect([3, 5]).toContain(shape.groupSizes['servers']);
        expect([1, 2, 3, 4]).toContain(shape.groupSizes['clients']);
        expect(shape.workload['thinkUs']).toBeGreaterThanOrEqual(1_000);
        expect(shape.workload['thinkUs']).toBeLessThanOrEqual(20_000);
      }),
      { numRuns: 300 },
    );
  });

  it('is log-uniform: as many draws in each factor-of-two band', () => {
    const random = Random.fromSeed('log');
    const bands = [0, 0, 0, 0];
    for (let draw = 0; draw < 8000; draw++) {
      const value = logUniform(random, { min: 1000, max: 16_000 });
      const band = Math.min(3, Math.floor(Math.log2(value / 1000)));
      bands[band] = (bands[band] ?? 0) + 1;
    }
    for (const band of bands) {
      expect(band).toBeGreaterThan(1700);
      expect(band).toBeLessThan(2300);
    }
  });

  it('keeps long seeds in the mix: a tenth of raft seeds have 10 s of faults or more', () => {
    const raft = scenarioNamed('raft');
    const long = Array.from({ length: 1000 }, (_, seed) => planFor(raft, seed)).filter(
      (plan) => plan.durationUs >= 10_000_000,
    );
    expect(long.length).toBeGreaterThan(70);
    expect(long.length).toBeLessThan(200);
  });

  it('pinning one parameter leaves the others as drawn', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 30_000_000 }), (seed, durationUs) => {
        const free = drawShape(SPEC, Random.fromSeed(seed));
        const pinned = drawShape(SPEC, Random.fromSeed(seed), { durationUs });
        expect(pinned.durationUs).toBe(durationUs);
        expect(pinned.groupSizes).toEqual(free.groupSizes);
        expect(pinned.workload).toEqual(free.workload);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a plan carries its shape', () => {
  const raft = scenarioNamed('raft');

  it('the drawn sizes, duration and think time are in the plan; faults pick drawn servers', () => {
    for (let seed = 0; seed < 200; seed++) {
      const plan = planFor(raft, seed);
      const shape = planShape(raft.shape, plan) as Record<string, number>;
      const servers = plan.groups.find((group) => group.name === 'servers')?.nodes ?? [];
      expect(servers.length).toBe(shape['servers']);
      expect(plan.workload['thinkUs']).toBe(shape['thinkUs']);
      for (const fault of plan.faults) {
        if ('node' in fault) {
          expect(fault.node).toBeLessThan(servers.length);
        }
      }
      for (const step of plan.script) {
        expect(step.atUs).toBeLessThan(plan.durationUs);
      }
    }
  });

  it('the run reports the shape it ran, read back from the plan', () => {
    const { plan, result } = runSeed('raft', 4);
    expect(result.shape).toEqual(planShape(raft.shape, plan));
    expect(runSeed('pingpong', 4).result.shape).toBeUndefined();
  });

  it('pinned to the fixed shape it had, a raft seed draws exactly the plan it always did', () => {
    const fixed: Scenario = { ...raft, shape: undefined } as unknown as Scenario;
    delete (fixed as { shape?: ShapeSpec }).shape;
    const pins = { durationUs: raft.durationUs, servers: 5, clients: 3, thinkUs: 5000 };
    for (let seed = 0; seed < 50; seed++) {
      const pinned = planFor(raft, seed, null, pins);
      const classic = planFor(fixed, seed);
      expect({ ...pinned, workload: {} }).toEqual({ ...classic, workload: {} });
    }
  });
});

describe('pins', () => {
  const raft = scenarioNamed('raft');

  it('parse name=value, with digit separators', () => {
    expect(parsePins(['durationUs=2_000_000', 'servers=3'])).toEqual({
      durationUs: 2_000_000,
      servers: 3,
    });
    expect(parsePins(['servers'])).toMatch(/name=value/);
    expect(parsePins(['servers=three'])).toMatch(/integer/);
  });

  it('must name what the scenario draws, with sensible values', () => {
    expect(pinProblem(raft.shape, { servers: 3 })).toBeUndefined();
    expect(pinProblem(raft.shape, { nodes: 3 })).toMatch(/draws durationUs, servers/);
    expect(pinProblem(raft.shape, { servers: 0 })).toMatch(/at least 1/);
    expect(pinProblem(undefined, { durationUs: 5 })).toMatch(/fixed shape/);
  });
});

describe('shrink lowers the shape', () => {
  it('cuts a group to a smaller size the shape allows, and faults on gone nodes go with them', () => {
    const raft = scenarioNamed('raft');
    const plan = planFor(raft, 11, null, { servers: 5, clients: 4 });
    expect(plan.groups.map((group) => group.nodes.length)).toEqual([5, 4]);
    expect(plan.faults.some((fault) => 'node' in fault && fault.node >= 3)).toBe(true);
    const nodeFaultsKept = plan.faults.filter((fault) => 'node' in fault && fault.node < 3);
    // A synthetic failure that needs at least two servers and one client, and (while all five
    // servers are there) every fault, so the faults are still there when the servers go.
    const cutToThree: Plan[] = [];
    const fails = (candidate: Plan) => {
      const servers = candidate.groups[0]?.nodes.length ?? 0;
      if (servers === 3) {
        cutToThree.push(candidate);
      }
      return (
        servers >= 2 &&
        (candidate.groups[1]?.nodes.length ?? 0) >= 1 &&
        (servers < 5 || candidate.faults.length === plan.faults.length)
      );
    };
    const shrunk = shrinkPlan(
      plan,
      fails,
      { timeMs: 20_000, attemptsMax: 2000 },
      { groupSizes: raft.shape?.groupSizes ?? {} },
    ).plan;
    expect(shrunk.groups.map((group) => group.nodes.length)).toEqual([3, 1]);
    // The first plan cut to three servers kept every fault of the three, and none of the rest.
    const first = cutToThree[0] as Plan;
    expect(first.faults.filter((fault) => 'node' in fault)).toEqual(nodeFaultsKept);
    for (const fault of first.faults) {
      if (fault.kind === 'partition') {
        const nodes = first.groups.reduce((sum, group) => sum + group.nodes.length, 0);
        expect(fault.links.flat().every((node) => node < nodes)).toBe(true);
      }
    }
  });

  it('a shrunk raft plan with fewer servers still runs (ids and membership steps follow)', () => {
    const raft = scenarioNamed('raft');
    let plan: Plan | undefined;
    for (let seed = 0; plan === undefined && seed < 100; seed++) {
      const candidate = planFor(raft, seed, null, { servers: 5 });
      if (candidate.script.length > 0 && candidate.knobs.faultKinds.length < FAULT_KINDS.length) {
        plan = candidate;
      }
    }
    expect(plan).toBeDefined();
    const injects = (candidate: Plan) => candidate.script.filter((step) => step.kind === 'inject');
    const cutToThree: Plan[] = [];
    const shrunk = shrinkPlan(
      plan as Plan,
      (candidate) => {
        const servers = candidate.groups[0]?.nodes.length ?? 0;
        if (servers === 3) {
          cutToThree.push(candidate);
        }
        // Keeps a membership step, so the run below has one to follow.
        return servers <= 3 && injects(candidate).length > 0;
      },
      { timeMs: 20_000, attemptsMax: 50 },
      { groupSizes: { servers: [3, 5] } },
    ).plan;
    expect(shrunk.groups[0]?.nodes).toEqual(['n1', 'n2', 'n3']);
    // Every plan cut to three servers names only those three in its steps.
    expect(cutToThree.some((candidate) => injects(candidate).length > 0)).toBe(true);
    for (const candidate of cutToThree) {
      for (const step of injects(candidate)) {
        if (step.kind === 'inject') {
          expect(step.node).toBeLessThan(3);
          expect(step.message['node']).toBeLessThan(3);
        }
      }
    }
    expect(injects(shrunk).length).toBeGreaterThan(0);
    expect(runPlan(shrunk).outcome).toBe('pass');
  });
});
