// Goal: the topology is the one place that says who is who — names, groups, members — and
// fault selection draws from it: victims are servers of groups not excluded, and the
// group-aware partition shapes cut what their names say. Method: properties over seeds of a
// three-group scenario, checked against the links each shape may cut.
import { describe, expect, it } from 'vitest';

import { planFor } from './plan.ts';
import { checkGroups, planGroups, type Scenario } from './scenario.ts';
import { programOf, runTest, testPlan, testScenario } from './testing.ts';
import { nodeNames, Topology } from './topology.ts';
import { FAULT_KINDS, type NodeId } from './types.ts';

const idle = () => programOf({});

function threeGroups(overrides: Partial<Scenario> = {}): Scenario {
  return testScenario(idle, {
    name: 'three-groups',
    groups: [
      { name: 'ctrl', size: 3, program: idle },
      { name: 'g1', size: 3, prefix: 'g1n', program: idle },
      { name: 'db', size: 1, alone: true, program: idle },
      { name: 'clients', size: 2, prefix: 'c', client: true, program: idle },
    ],
    durationUs: 5_000_000,
    faults: { eligible: [...FAULT_KINDS], swarm: false, episodesMax: 12 },
    ...overrides,
  });
}

describe('topology', () => {
  it('numbers nodes through the groups in order and names them by group', () => {
    const topology = new Topology(planGroups(threeGroups()));
    expect(topology.names).toEqual([
      'ctrl1',
      'ctrl2',
      'ctrl3',
      'g1n1',
      'g1n2',
      'g1n3',
      'db',
      'c1',
      'c2',
    ]);
    expect(topology.members('g1')).toEqual([3, 4, 5]);
    expect(topology.groupOf(6)).toBe('db');
    expect(topology.servers).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(topology.clients).toEqual([7, 8]);
    expect(topology.describe()).toBe(
      'ctrl 3 (ctrl1–ctrl3), g1 3 (g1n1–g1n3), db 1 (db), clients 2 (c1–c2, client)',
    );
    expect(() => topology.members('g9')).toThrow(/no group named g9 .*ctrl, g1, db, clients/);
  });

  it('refuses a scenario with two groups of one name or two nodes of one name', () => {
    expect(() =>
      checkGroups({
        name: 'x',
        groups: [
          { name: 'a', size: 1, program: idle },
          { name: 'a', size: 1, program: idle },
        ],
      }),
    ).toThrow('declares group a twice');
    expect(() =>
      checkGroups({
        name: 'x',
        groups: [
          { name: 'a', size: 2, prefix: 'n', program: idle },
          { name: 'b', size: 1, prefix: 'n1', alone: true, program: idle },
        ],
      }),
    ).toThrow('names two nodes n1');
  });

  it('gives each node its group and any group’s members through its context', () => {
    const seen: string[] = [];
    const spy = (label: string) => (ctx: Parameters<Scenario['groups'][0]['program']>[0]) =>
      programOf({
        onStart: () => {
          seen.push(`${ctx.name}:${ctx.group}:${ctx.members('g1').join(',')}:${label}`);
        },
      });
    const scenario = testScenario(idle, {
      groups: [
        { name: 'g1', size: 2, prefix: 'g1n', program: spy('raft') },
        { name: 'db', size: 1, alone: true, program: spy('db') },
      ],
    });
    runTest(scenario, testPlan(scenario));
    expect(seen).toEqual(['g1n1:g1:0,1:raft', 'g1n2:g1:0,1:raft', 'db:db:0,1:db']);
  });

  it('tags history operations with their stream', () => {
    const scenario = testScenario(idle, {
      groups: [
        {
          name: 'clients',
          size: 1,
          prefix: 'c',
          client: true,
          program: (ctx) =>
            programOf({
              onStart: () => {
                ctx.history.invoke({ f: 'put' }, { stream: 'kv' });
                ctx.history.invoke({ f: 'send' }, { stream: 'log' });
                ctx.history.invoke({ f: 'plain' });
              },
            }),
        },
      ],
    });
    const { history } = runTest(scenario, testPlan(scenario));
    expect(history.map((operation) => operation.stream)).toEqual(['kv', 'log', undefined]);
  });
});

describe('fault selection over groups', () => {
  const SEEDS = 300;
  const scenario = threeGroups({
    faults: {
      eligible: [...FAULT_KINDS],
      swarm: false,
      episodesMax: 12,
      excludeGroups: { crash: ['db'] },
    },
  });

  it('picks node-fault victims among servers only, and never a group excluded for the kind', () => {
    const victims = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const plan = planFor(scenario, seed);
      const topology = Topology.of(plan);
      for (const fault of plan.faults) {
        if (!('node' in fault)) {
          continue;
        }
        expect(topology.isClient(fault.node)).toBe(false);
        if (fault.kind === 'crash' || fault.kind === 'restart') {
          expect(topology.groupOf(fault.node)).not.toBe('db');
        }
        victims.add(`${fault.kind}:${topology.groupOf(fault.node)}`);
      }
    }
    // Every server group is hit by some fault, and db by pauses though never by crashes.
    for (const group of ['ctrl', 'g1', 'db']) {
      expect(victims).toContain(`pause:${group}`);
    }
    expect(victims).toContain('crash:g1');
  });

  it('draws group-aware partitions whose links cut exactly what the shape says', () => {
    const shapes = new Map<string, number>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const plan = planFor(scenario, seed);
      const topology = Topology.of(plan);
      for (const fault of plan.faults) {
        if (fault.kind !== 'partition') {
          continue;
        }
        shapes.set(fault.shape, (shapes.get(fault.shape) ?? 0) + 1);
        const cut = new Set(fault.links.map(([from, to]) => `${from}>${to}`));
        const isCut = (a: NodeId, b: NodeId) => cut.has(`${a}>${b}`);
        if (fault.shape === 'split-group') {
          const [group] = fault.groups ?? [];
          const members = topology.members(group as string);
          for (const [from, to] of fault.links) {
            expect(members).toContain(from);
            expect(members).toContain(to);
          }
          // A strict minority is cut from the rest of its group.
          const cutOff = members.filter((node) => members.some((other) => isCut(node, other)));
          expect(cutOff.length).toBeGreaterThan(0);
        }
        if (fault.shape === 'cut-groups') {
          const [a, b] = fault.groups ?? [];
          const sideA = topology.members(a as string);
          const sideB = topology.members(b as string);
          expect(fault.links.length).toBe(2 * sideA.length * sideB.length);
          for (const x of sideA) {
            for (const y of sideB) {
              expect(isCut(x, y) && isCut(y, x)).toBe(true);
            }
          }
        }
        if (fault.shape === 'isolate-node') {
          const node = fault.links[0]![0];
          expect(topology.isClient(node)).toBe(false);
          expect(fault.links.length).toBe(2 * (topology.size - 1));
          for (let other = 0; other < topology.size; other++) {
            if (other !== node) {
              expect(isCut(node, other) && isCut(other, node)).toBe(true);
            }
          }
        }
      }
    }
    for (const shape of ['isolate-node', 'split-group', 'cut-groups', 'majority-minority']) {
      expect(shapes.get(shape) ?? 0, shape).toBeGreaterThan(10);
    }
  });
});

describe('node names', () => {
  it('names a lone node by its prefix and others by prefix and number', () => {
    expect(nodeNames('db', 1, true)).toEqual(['db']);
    expect(nodeNames('db', 2, true)).toEqual(['db1', 'db2']);
    expect(nodeNames('g2n', 3)).toEqual(['g2n1', 'g2n2', 'g2n3']);
  });
});

describe('variants per subsystem', () => {
  it('switches one part’s bug by its prefixed name and keeps plain names working', async () => {
    const { resolveVariant, variantFor } = await import('./scenario.ts');
    expect(variantFor('raft:commit-previous-term', 'raft')).toBe('commit-previous-term');
    expect(variantFor('raft:commit-previous-term', 'kv')).toBeNull();
    expect(variantFor('no-dedup', 'kv')).toBe('no-dedup');
    expect(variantFor(null, 'kv')).toBeNull();
    const scenario = testScenario(idle, { variants: { 'commit-previous-term': 'x' } });
    expect(resolveVariant(scenario, 'raft:commit-previous-term')).toBe('commit-previous-term');
    expect(resolveVariant(scenario, 'commit-previous-term')).toBe('commit-previous-term');
    expect(resolveVariant(scenario, 'raft:other')).toBeUndefined();
    const composite = testScenario(idle, {
      variants: { 'relay:save-position-first': 'x', 'raft:commit-previous-term': 'y' },
    });
    expect(resolveVariant(composite, 'save-position-first')).toBe('relay:save-position-first');
  });
});
