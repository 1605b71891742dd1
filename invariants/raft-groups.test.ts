// Goal: Raft invariants hold per group — facts of one group never count against another, a
// violation names its group, a group that never spoke is still judged at the end — and a
// whole run of three groups keeps them. Method: hand-fed observations over a two-group view,
// then real raft-multi seeds, correct and with a known bug.
import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import { runSeed } from '../sim/run.ts';
import type { ClusterView, NodeId, Observation, ObservationRecord } from '../sim/types.ts';
import { electionSafety, raftInvariantsPerGroup, raftLivenessInvariant } from './raft.ts';

function twoGroupView(): ClusterView {
  const members: Record<string, NodeId[]> = { g1: [0, 1, 2], g2: [3, 4, 5], c: [6] };
  return {
    servers: [0, 1, 2, 3, 4, 5],
    clients: [6],
    groups: [
      { name: 'g1', client: false, members: members['g1'] as NodeId[] },
      { name: 'g2', client: false, members: members['g2'] as NodeId[] },
      { name: 'c', client: true, members: members['c'] as NodeId[] },
    ],
    members: (group) => members[group] ?? [],
    groupOf: (node) => (node < 3 ? 'g1' : node < 6 ? 'g2' : 'c'),
    timeUs: 0,
    phase: 'settle',
    isUp: () => true,
    inspect: () => undefined,
    name: (node) => (node < 3 ? `g1n${node + 1}` : node < 6 ? `g2n${node - 2}` : 'c1'),
    history: [],
  };
}

let eventIndex = 0;
function record(node: NodeId, observation: Observation): ObservationRecord {
  return { node, timeUs: 1000 * ++eventIndex, eventIndex, observation };
}

describe('raft invariants per group', () => {
  it('lets two groups each have a leader of term 1, but not two leaders in one group', () => {
    const [safety] = raftInvariantsPerGroup(() => [electionSafety()]);
    const view = twoGroupView();
    const check = (node: NodeId, group: string) =>
      safety?.onObservation?.(record(node, { type: 'became-leader', term: 1, group }), view);
    expect(check(0, 'g1')).toBeUndefined();
    expect(check(3, 'g2')).toBeUndefined();
    expect(check(4, 'g2')).toMatch(
      /^in Raft group g2: g2n2 became leader of term 1 .* but g2n1 at .* already had/,
    );
  });

  it('ignores observations that name no Raft group', () => {
    const [safety] = raftInvariantsPerGroup(() => [electionSafety()]);
    const view = twoGroupView();
    for (const node of [0, 1]) {
      const verdict = safety?.onObservation?.(
        record(node, { type: 'became-leader', term: 1 }),
        view,
      );
      expect(verdict).toBeUndefined();
    }
  });

  it('judges at the end a server group that never reported anything', () => {
    const liveness = raftLivenessInvariant({ settleStartUs: 0 });
    const view = twoGroupView();
    liveness.onObservation?.(record(0, { type: 'became-leader', term: 1, group: 'g1' }), view);
    const verdict = liveness.atEnd?.(view, []);
    expect(verdict).toMatch(/^in Raft group g1: after the settle phase, .* there is no leader/);
  });
});

describe('raft-multi', () => {
  it('passes seeds with every Raft invariant held per group', () => {
    for (const seed of [0, 1]) {
      const { result } = runSeed('raft-multi', seed);
      expect(result.violation?.message, `seed ${seed}`).toBeUndefined();
      expect(result.outcome).toBe('pass');
    }
  }, 60_000);
});

describe('raft-colocated', () => {
  it('passes seeds of three groups hosted together, every Raft invariant held per group', () => {
    for (const seed of [0, 3]) {
      const { result } = runSeed('raft-colocated', seed);
      expect(result.violation?.message, `seed ${seed}`).toBeUndefined();
      expect(result.outcome).toBe('pass');
      // Every group committed its own clients' proposals: the groups really ran side by side.
      const acked = result.history.filter((op) => op.status === 'ok' && op.returnUs !== undefined);
      expect(new Set(acked.map((op) => op.stream))).toEqual(new Set(['g1', 'g2', 'g3']));
    }
  }, 60_000);
});
