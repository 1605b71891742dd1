// Goal: plans are data — derived from the seed, validated field by field, and unchanged by a
// msgpack round trip. Method: properties over seeds and over fast-check-generated plans.
import '../scenarios/index.ts';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { decodePlan, encodePlan, PlanError, planFor, validatePlan } from './plan.ts';
import { scenarioNamed } from './run.ts';
import { findScenario } from './scenario.ts';
import { Simulation } from './simulation.ts';
import { nodeNames } from './topology.ts';
import { CRASH_LOOP_WINDOW_US, FAULT_KINDS, type Plan } from './types.ts';

const pingpong = findScenario('pingpong')!;

describe('plans', () => {
  it('derives the same plan from the same seed, and round-trips it through msgpack', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), (seed) => {
        const plan = planFor(pingpong, seed);
        expect(planFor(pingpong, seed)).toEqual(plan);
        expect(decodePlan(encodePlan(plan))).toEqual(plan);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('turns on a different subset of fault kinds from seed to seed (swarm testing)', () => {
    const subsets = new Set<string>();
    let quiet = 0;
    for (let seed = 0; seed < 200; seed++) {
      const kinds = planFor(pingpong, seed).knobs.faultKinds;
      subsets.add(kinds.join(','));
      quiet += kinds.length <= 3 ? 1 : 0;
      for (const kind of kinds) {
        expect(pingpong.faults.eligible).toContain(kind);
      }
    }
    expect(subsets.size).toBeGreaterThan(100);
    expect(quiet).toBeGreaterThan(0);
  });

  it('orders fault events by time and keeps them within the fault phase', () => {
    for (let seed = 0; seed < 100; seed++) {
      const plan = planFor(pingpong, seed);
      const times = plan.faults.map((fault) => fault.atUs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(
        plan.faults
          .filter((fault) => fault.kind === 'crash')
          .every((fault) => fault.atUs < plan.durationUs),
      ).toBe(true);
    }
  });

  it('draws crash loops after some crash episodes: crash again soon after a restart, inside the fault phase', () => {
    const raft = scenarioNamed('raft');
    let loops = 0;
    let insideRecovery = 0;
    for (let seed = 0; seed < 60; seed++) {
      const plan = planFor(raft, seed);
      const lastRestart = new Map<number, number>();
      for (const fault of plan.faults) {
        if (fault.kind === 'restart') {
          lastRestart.set(fault.node, fault.atUs);
        } else if (fault.kind === 'crash') {
          expect(fault.atUs).toBeLessThan(plan.durationUs);
          const gapUs = fault.atUs - (lastRestart.get(fault.node) ?? Number.NEGATIVE_INFINITY);
          if (gapUs <= 100_000) {
            loops++;
            insideRecovery += gapUs < 1_000 ? 1 : 0;
          }
        }
      }
    }
    expect(loops).toBeGreaterThan(10);
    // Log-uniform from 10 µs: some land before recovery's first fsync can complete.
    expect(insideRecovery).toBeGreaterThan(0);
  });

  it('draws media faults onto a minority of each server group only (the media-fault atlas)', () => {
    const raft = findScenario('raft')!;
    let drawn = 0;
    for (let seed = 0; seed < 200; seed++) {
      const plan = planFor(raft, seed);
      const servers = plan.groups.find((group) => group.name === 'servers')!.nodes.length;
      const victims = new Set<number>();
      for (const fault of plan.faults) {
        if (fault.kind === 'bit-rot' || fault.kind === 'misdirected-write') {
          victims.add(fault.node);
          drawn++;
        }
      }
      expect(victims.size).toBeLessThanOrEqual(Math.floor((servers - 1) / 2));
      for (const node of victims) {
        expect(node).toBeLessThan(servers); // servers only, never clients
      }
      expect(decodePlan(encodePlan(plan))).toEqual(plan);
    }
    expect(drawn).toBeGreaterThan(100);
  });

  it('counts a crash soon after a restart as a crash loop', () => {
    const raft = scenarioNamed('raft');
    const seed = Array.from({ length: 40 }, (_, index) => index).find((candidate) =>
      planFor(raft, candidate).faults.some(
        (fault, index, faults) =>
          fault.kind === 'crash' &&
          faults
            .slice(0, index)
            .some(
              (before) =>
                before.kind === 'restart' &&
                before.node === fault.node &&
                fault.atUs - before.atUs <= CRASH_LOOP_WINDOW_US,
            ),
      ),
    );
    expect(seed).toBeDefined();
    const result = new Simulation(raft, planFor(raft, seed as number)).run();
    expect(result.faultsFired['crash-loop']).toBeGreaterThan(0);
  });

  it('replays old packets late when replayProbability says so; plans without the knob read it as 0', () => {
    const base = planFor(pingpong, 1);
    const older = structuredClone(base);
    delete older.knobs.replayProbability;
    expect(() => validatePlan(older)).not.toThrow();
    expect(() => validatePlan({ ...base, knobs: { ...base.knobs, replayProbability: 2 } })).toThrow(
      PlanError,
    );
    const noisy = {
      ...base,
      knobs: { ...base.knobs, duplicateProbability: 1, replayProbability: 1 },
    };
    const result = new Simulation(pingpong, noisy).run();
    expect(result.faultsFired.duplicate).toBeGreaterThan(0);
    expect(result.faultsFired.replay).toBe(result.faultsFired.duplicate);
    const quiet = new Simulation(pingpong, {
      ...noisy,
      knobs: { ...noisy.knobs, replayProbability: 0 },
    }).run();
    expect(quiet.faultsFired.replay).toBeUndefined();
    expect(new Simulation(pingpong, older).run().traceHash).toBe(
      new Simulation(pingpong, { ...base, knobs: { ...base.knobs, replayProbability: 0 } }).run()
        .traceHash,
    );
  });

  const arbitraryPlan = fc.record({
    seed: fc.nat(),
    nodes: fc.integer({ min: 1, max: 9 }),
    drop: fc.double({ min: 0, max: 1, noNaN: true }),
    kinds: fc.subarray([...FAULT_KINDS]),
    crashes: fc.array(fc.record({ atUs: fc.nat(1_000_000), node: fc.nat(8) }), { maxLength: 10 }),
  });

  it('round-trips any valid plan through msgpack unchanged (property)', () => {
    fc.assert(
      fc.property(arbitraryPlan, (generated) => {
        const base = planFor(pingpong, generated.seed);
        const plan: Plan = {
          ...base,
          groups: [{ name: 'servers', client: false, nodes: nodeNames('n', generated.nodes) }],
          knobs: { ...base.knobs, dropProbability: generated.drop, faultKinds: generated.kinds },
          faults: generated.crashes.map((crash) => ({
            atUs: crash.atUs,
            kind: 'crash' as const,
            node: crash.node % generated.nodes,
          })),
          script: [
            {
              atUs: 5,
              kind: 'inject',
              node: 0,
              message: { type: 'campaign', data: new Uint8Array([1, 2]) },
            },
          ],
        };
        expect(decodePlan(encodePlan(validatePlan(plan)))).toEqual(plan);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  const invalid: [string, (plan: Plan) => void][] = [
    ['plan.seed', (plan) => ((plan as { seed: unknown }).seed = -1)],
    ['plan.knobs.dropProbability', (plan) => (plan.knobs.dropProbability = 1.5)],
    ['plan.knobs.faultKinds[0]', (plan) => ((plan.knobs.faultKinds as string[]) = ['meteor'])],
    ['plan.faults[0].node', (plan) => (plan.faults = [{ atUs: 1, kind: 'crash', node: 99 }])],
    ['plan.faults[0].kind', (plan) => (plan.faults = [{ atUs: 1, kind: 'flood' } as never])],
    [
      'plan.faults[0].links[0]',
      (plan) =>
        (plan.faults = [{ atUs: 1, kind: 'partition', shape: 'isolate', links: [[0] as never] }]),
    ],
    ['plan.script[0].kind', (plan) => (plan.script = [{ atUs: 1, kind: 'explode' } as never])],
    ['plan.format', (plan) => ((plan as { format: unknown }).format = 99)],
    ['plan.groups[1].name', (plan) => (plan.groups[1]!.name = 'servers')],
    ['plan.groups[1].nodes[0]', (plan) => (plan.groups[1]!.nodes[0] = 'n1')],
    ['plan.groups[0].client', (plan) => ((plan.groups[0] as { client: unknown }).client = 1)],
    ['plan.groups', (plan) => (plan.groups = [])],
    [
      'plan.workload.opsPerClient',
      (plan) => ((plan.workload as Record<string, unknown>)['opsPerClient'] = [1]),
    ],
  ];
  for (const [field, spoil] of invalid) {
    it(`rejects a plan with a bad ${field}, naming the field`, () => {
      const plan = structuredClone(planFor(pingpong, 1));
      spoil(plan);
      expect(() => validatePlan(plan)).toThrow(PlanError);
      expect(() => validatePlan(plan)).toThrow(field);
    });
  }

  it('migrates a format-1 plan (servers and clients counted) to groups of named nodes', () => {
    const current = planFor(pingpong, 4);
    const { groups: _groups, ...rest } = current;
    const old = { ...rest, format: 1, nodes: 3, clients: 2 };
    const migrated = validatePlan(old);
    expect(migrated).toEqual(current);
    expect(decodePlan(encodePlan(migrated))).toEqual(current);
    expect(() => validatePlan({ ...old, nodes: 0 })).toThrow('plan.nodes');
  });
});
