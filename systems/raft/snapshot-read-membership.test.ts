import { describe, expect, it } from 'vitest';
import { Cluster } from './testkit.ts';
import type { RaftBug } from './types.ts';

describe('snapshots and InstallSnapshot', () => {
  function laggingFollower(bugs: RaftBug[]) {
    const c = new Cluster({
      size: 3,
      seed: 31,
      bugs,
      snapshotEvery: 5,
      config: { maxSnapshotChunkBytes: 16 },
    });
    const leader = c.electLeader();
    c.commitCommand('first');
    const victim = c.ids.find((id) => id !== leader) as number;
    c.isolate(victim);
    for (let i = 0; i < 30; i++) {
      c.commitCommand(`cmd-${i}`, 2);
    }
    expect(c.core(leader).firstIndex).toBeGreaterThan(c.core(victim).lastIndex + 1);
    let chunks = 0;
    c.filter = (m) => {
      chunks += m.type === 'snapshot' && m.to === victim ? 1 : 0;
      return true;
    };
    c.heal();
    c.commitCommand('after-heal');
    for (let i = 0; i < 10; i++) {
      c.round();
    }
    return { c, victim, leader, chunks };
  }

  it('compacts the log and brings a lagging follower up to date with a chunked snapshot', () => {
    const { c, victim, leader, chunks } = laggingFollower([]);
    expect(c.events.some((e) => e.node === victim && e.event.type === 'snapshot-installed')).toBe(
      true,
    );
    expect(chunks).toBeGreaterThan(3);
    expect(c.node(victim).lastApplied).toBe(c.node(leader).lastApplied);
    expect(c.node(victim).applied).toEqual(c.node(leader).applied);
    expect(c.violations).toEqual([]);
  });

  it('snapshot-off-by-one loses the entry just past the snapshot on the follower', () => {
    const { c, victim, leader } = laggingFollower(['snapshot-off-by-one']);
    expect(c.events.some((e) => e.node === victim && e.event.type === 'snapshot-installed')).toBe(
      true,
    );
    expect(c.node(victim).applied).not.toEqual(c.node(leader).applied);
    expect(c.violations.join('\n')).toMatch(new RegExp(`node ${victim} applied \\d+ after \\d+`));
  });

  it('restarts from snapshot plus log tail and keeps committing', () => {
    const c = new Cluster({ size: 3, seed: 32, snapshotEvery: 4 });
    c.electLeader();
    for (let i = 0; i < 12; i++) {
      c.commitCommand(`a${i}`);
    }
    const before = c.ids.map((id) => c.core(id).snapshotMeta.lastIncludedIndex);
    expect(Math.min(...before)).toBeGreaterThan(0);
    for (const id of c.ids) {
      c.crash(id);
    }
    for (const id of c.ids) {
      c.restart(id);
    }
    c.commitCommand('after-restart');
    for (const id of c.ids) {
      expect(c.core(id).snapshotMeta.lastIncludedIndex).toBeGreaterThan(0);
    }
    expect(c.violations).toEqual([]);
  });
});

describe('ReadIndex', () => {
  it('answers only after a heartbeat round reaches a majority', () => {
    const c = new Cluster({ size: 3, seed: 41 });
    const leader = c.electLeader();
    c.commitCommand('x');
    const commit = c.core(leader).commitIndex;
    c.isolate(leader);
    expect(c.core(leader).readIndex(7)).toEqual({ ok: true });
    for (let i = 0; i < 3; i++) {
      c.round();
    }
    expect(c.node(leader).readStates).toEqual([]);
    c.heal();
    c.runUntil(() => c.node(leader).readStates.length > 0, 20);
    expect(c.node(leader).readStates).toEqual([{ requestId: 7, ok: true, index: commit }]);
  });

  it('fails pending reads when the leader steps down', () => {
    const c = new Cluster({ size: 3, seed: 42 });
    const leader = c.electLeader();
    c.commitCommand('x');
    c.isolate(leader);
    c.core(leader).readIndex(9);
    c.runUntil(() => c.core(leader).role !== 'leader', 50);
    c.flush();
    expect(c.node(leader).readStates).toEqual([{ requestId: 9, ok: false }]);
  });

  it('waits until the new leader has committed an entry of its own term', () => {
    const c = new Cluster({ size: 3, seed: 43 });
    const core = electByHand(c, 1);
    expect(core.commitIndex).toBeLessThan(core.lastIndex); // the no-op is not committed yet
    expect(core.readIndex(1)).toEqual({ ok: true });
    c.flush();
    expect(c.node(1).readStates).toEqual([]);
    c.runUntil(() => c.node(1).readStates.length > 0, 20);
    expect(c.node(1).readStates).toEqual([{ requestId: 1, ok: true, index: core.lastIndex }]);
    expect(core.termAt(core.commitIndex)).toBe(core.term);
  });

  it('a follower refuses with a leader hint', () => {
    const c = new Cluster({ size: 3, seed: 44 });
    const leader = c.electLeader();
    c.runUntil(() => c.ids.every((id) => c.core(id).leader === leader));
    const follower = c.ids.find((id) => id !== leader) as number;
    expect(c.core(follower).readIndex(1)).toEqual({
      ok: false,
      reason: 'not-leader',
      leaderHint: leader,
    });
  });
});

describe('membership change (single server, one at a time)', () => {
  it('adds a new node that catches up and then counts in the quorum', () => {
    const c = new Cluster({ size: 3, seed: 51 });
    const leader = c.electLeader();
    c.commitCommand('before');
    c.addNode(4, []);
    const result = c.core(leader).proposeMembershipChange({ type: 'add', node: 4 });
    expect(result.ok).toBe(true);
    expect(c.core(leader).proposeMembershipChange({ type: 'add', node: 5 })).toMatchObject({
      ok: false,
      reason: 'change-in-progress',
    });
    c.commitCommand('after-add', 4);
    expect([...c.core(4).voters]).toEqual([1, 2, 3, 4]);
    // With 4 voters, two nodes down means no quorum.
    const [x, y] = c.ids.filter((id) => id !== leader && id !== 4) as [number, number];
    c.crash(x);
    c.crash(y);
    const stuck = c.core(leader).propose(new Uint8Array([1]));
    for (let i = 0; i < 5; i++) {
      c.round();
    }
    expect(c.core(leader).commitIndex).toBeLessThan(stuck.ok ? stuck.index : 0);
    expect(c.violations).toEqual([]);
  });

  it('removes the leader: it steps down once the change commits and the rest elect a new leader', () => {
    const c = new Cluster({ size: 3, seed: 52 });
    const leader = c.electLeader();
    c.commitCommand('before');
    const result = c.core(leader).proposeMembershipChange({ type: 'remove', node: leader });
    expect(result.ok).toBe(true);
    c.runUntil(() => c.core(leader).role !== 'leader', 50);
    expect(
      c.events.find((e) => e.node === leader && e.event.type === 'stepped-down')?.event,
    ).toMatchObject({
      reason: 'removed',
    });
    const rest = c.ids.filter((id) => id !== leader);
    c.runUntil(() => rest.some((id) => c.core(id).role === 'leader'));
    const newLeader = rest.find((id) => c.core(id).role === 'leader') as number;
    expect([...c.core(newLeader).voters]).toEqual(rest);
    // The removed node stays up: it must never lead again, however long it waits.
    const eventsBefore = c.events.length;
    c.commitCommand('after-remove', 2);
    for (let i = 0; i < 40; i++) {
      c.round();
    }
    expect(
      c.events
        .slice(eventsBefore)
        .filter((e) => e.node === leader && e.event.type === 'became-leader'),
    ).toEqual([]);
    expect(c.core(leader).role).not.toBe('leader');
    expect(c.violations).toEqual([]);
  });

  it('refuses a change before the leader committed an entry of its term', () => {
    const c = new Cluster({ size: 3, seed: 53 });
    const core = electByHand(c, 1);
    expect(core.proposeMembershipChange({ type: 'remove', node: 1 })).toMatchObject({
      reason: 'no-commit-in-term',
    });
    c.runUntil(() => core.commitIndex === core.lastIndex);
    expect(core.proposeMembershipChange({ type: 'add', node: 1 })).toMatchObject({
      reason: 'already-member',
    });
    expect(core.proposeMembershipChange({ type: 'remove', node: 9 })).toMatchObject({
      reason: 'not-member',
    });
  });
});

/** Campaigns on `id` and delivers just enough for it to win; its no-op is not yet replicated. */
function electByHand(c: Cluster, id: number) {
  const core = c.core(id);
  core.campaign();
  c.flush();
  for (let i = 0; i < 6 && core.role !== 'leader'; i++) {
    c.deliverAll();
  }
  expect(core.role).toBe('leader');
  return core;
}
