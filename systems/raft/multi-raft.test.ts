// Goal: Raft is a component — one node can host several Raft groups that share its disk,
// timers and network but never each other's state. Method: three nodes each hosting groups
// `a` and `b`, proposals for both, a crash with torn writes mid-run; both groups must commit
// on every node, keep separate files, and hold every Raft invariant per group. A proposal that
// names no group is taken by none (it would land in whichever group looked first).
import { describe, expect, it } from 'vitest';

import { raftSafetyInvariants } from '../../invariants/raft.ts';
import { Simulation } from '../../sim/simulation.ts';
import { testPlan, testScenario } from '../../sim/testing.ts';
import type { ScriptStep } from '../../sim/types.ts';
import { encodeCommand, type RaftHost, type RaftInspect } from './contract.ts';
import type { RaftNodeView } from './group.ts';
import { CommandLog } from './log-machine.ts';
import { MultiRaftNode } from './multi-node.ts';

const GROUPS = ['a', 'b'] as const;
const MS = 1000;

function proposals(): ScriptStep[] {
  const steps: ScriptStep[] = [];
  for (let round = 0; round < 20; round++) {
    for (const group of GROUPS) {
      const id = `${group}-${round}`;
      for (const node of [0, 1, 2]) {
        steps.push({
          atUs: 400 * MS + round * 100 * MS,
          kind: 'inject',
          node,
          message: { type: 'propose', group, id, data: encodeCommand(id) },
        });
      }
    }
  }
  for (const node of [0, 1, 2]) {
    const id = 'stray-0';
    steps.push({
      atUs: 900 * MS,
      kind: 'inject',
      node,
      message: { type: 'propose', id, data: encodeCommand(id) },
    });
  }
  return steps;
}

describe('several Raft groups on one node', () => {
  it('elects, commits and recovers each group on its own, in files of its own', () => {
    const scenario = testScenario(
      (ctx) =>
        new MultiRaftNode(ctx, {
          groups: GROUPS,
          peersGroup: ctx.group,
          stateMachine: () => new CommandLog(),
        }),
      {
        nodes: 3,
        durationUs: 3_000_000,
        settleUs: 2_000_000,
        invariants: () => raftSafetyInvariants({ groups: GROUPS }),
      },
    );
    const plan = testPlan(scenario, {
      knobs: { ...testPlan(scenario).knobs, tornWriteProbability: 1, faultKinds: ['crash'] },
      faults: [
        { atUs: 1200 * MS, kind: 'crash', node: 1 },
        { atUs: 1700 * MS, kind: 'restart', node: 1 },
      ],
      script: proposals(),
    });
    const simulation = new Simulation(scenario, plan);
    const result = simulation.run();
    expect(result.violation?.message).toBeUndefined();
    expect(result.outcome).toBe('pass');
    expect(result.stats.crashes).toBe(1);
    for (const node of [0, 1, 2]) {
      const host = simulation.view.inspect(node) as RaftHost;
      for (const group of GROUPS) {
        const state = host.raftGroup(group) as RaftInspect & RaftNodeView;
        expect(state.group).toBe(group);
        const commands = (state.stateMachine as CommandLog).commands;
        // Every command applied is the group's own, and the group got most of them through.
        expect(commands.every((command) => command.startsWith(`${group}-`))).toBe(true);
        expect(commands.length).toBeGreaterThan(10);
        expect(simulation.nodes[node]?.disk.exists(`${group}/raft.log`)).toBe(true);
      }
      expect(simulation.nodes[node]?.disk.exists('raft.log')).toBe(false);
    }
  });
});
