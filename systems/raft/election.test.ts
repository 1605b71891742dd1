import { describe, expect, it } from 'vitest';
import { Cluster } from './testkit.ts';

describe('leader election', () => {
  it('elects exactly one leader per term, and terms agree', () => {
    for (let seed = 0; seed < 20; seed++) {
      const c = new Cluster({ size: 5, seed });
      const leader = c.electLeader();
      c.runUntil(() => c.ids.every((id) => c.core(id).leader === leader), 100);
      const terms = new Set(c.ids.map((id) => c.core(id).term));
      expect(terms.size).toBe(1);
      expect(c.ids.filter((id) => c.core(id).role === 'leader')).toEqual([leader]);
      expect(c.violations).toEqual([]);
    }
  });

  it('re-elects after the leader is cut off, and does not elect without a quorum', () => {
    const c = new Cluster({ size: 3, seed: 7 });
    const first = c.electLeader();
    const firstTerm = c.core(first).term;
    c.isolate(first);
    // runUntil throws when no other leader is elected in time.
    c.runUntil(() => c.leader() !== first && c.leader() !== null);
    const newLeader = c.leader() as number;
    expect(c.core(newLeader).term).toBeGreaterThan(firstTerm);
    // Cut everyone off from everyone: nobody may lead.
    c.partition([1], [2], [3]);
    for (let i = 0; i < 100; i++) {
      c.round();
    }
    expect(c.ids.filter((id) => c.core(id).role === 'leader')).toEqual([]);
    c.heal();
    c.electLeader();
    expect(c.violations).toEqual([]);
  });

  it('randomizes election timeouts within [electionTicks, 2 * electionTicks)', () => {
    const draws: number[] = [];
    const c = new Cluster({ size: 1, seed: 3 });
    const core = c.core(1);
    // A single node campaigns on its own after its randomized timeout.
    let ticks = 0;
    while (core.role !== 'leader' && ticks < 100) {
      core.tick();
      ticks++;
    }
    draws.push(ticks);
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThan(20);
  });
});

describe('pre-vote', () => {
  function isolatedFollowerRejoins(preVote: boolean): {
    before: number;
    after: number;
    leaderKept: boolean;
  } {
    const c = new Cluster({ size: 3, seed: 11, config: { preVote } });
    const leader = c.electLeader();
    c.commitCommand('a');
    const follower = c.ids.find((id) => id !== leader) as number;
    const before = c.core(leader).term;
    c.isolate(follower);
    for (let i = 0; i < 100; i++) {
      c.round();
    }
    c.heal();
    for (let i = 0; i < 50; i++) {
      c.round();
    }
    c.commitCommand('b');
    expect(c.violations).toEqual([]);
    return { before, after: c.core(c.leader() as number).term, leaderKept: c.leader() === leader };
  }

  it('keeps a partitioned node from disrupting the cluster when it heals', () => {
    const { before, after, leaderKept } = isolatedFollowerRejoins(true);
    expect(after).toBe(before);
    expect(leaderKept).toBe(true);
  });

  it('without pre-vote the rejoining node bumps the term (the test can tell)', () => {
    const { before, after } = isolatedFollowerRejoins(false);
    expect(after).toBeGreaterThan(before);
  });

  it('an isolated pre-candidate never raises its own term', () => {
    const c = new Cluster({ size: 3, seed: 5 });
    const leader = c.electLeader();
    const follower = c.ids.find((id) => id !== leader) as number;
    const term = c.core(follower).term;
    c.isolate(follower);
    for (let i = 0; i < 200; i++) {
      c.round();
    }
    expect(c.core(follower).term).toBe(term);
    expect(c.events.some((e) => e.node === follower && e.event.type === 'campaign-started')).toBe(
      true,
    );
  });
});

describe('check-quorum', () => {
  function minorityLeader(checkQuorum: boolean) {
    const c = new Cluster({ size: 5, seed: 21, config: { checkQuorum } });
    const leader = c.electLeader();
    c.isolate(leader);
    for (let i = 0; i < 40; i++) {
      c.round();
    }
    return { c, leader };
  }

  it('steps down a leader that cannot hear from a majority', () => {
    const { c, leader } = minorityLeader(true);
    expect(c.core(leader).role).not.toBe('leader');
    const stepDown = c.events.find((e) => e.node === leader && e.event.type === 'stepped-down');
    expect(stepDown?.event).toMatchObject({ reason: 'check-quorum' });
    expect(c.violations).toEqual([]);
  });

  it('without check-quorum the cut-off leader keeps believing it leads', () => {
    const { c, leader } = minorityLeader(false);
    expect(c.core(leader).role).toBe('leader');
  });

  it('followers with a live leader ignore disruptive vote requests (leader lease)', () => {
    const c = new Cluster({ size: 3, seed: 4, config: { preVote: false } });
    const leader = c.electLeader();
    c.commitCommand('a');
    const follower = c.ids.find((id) => id !== leader) as number;
    const other = c.ids.find((id) => id !== leader && id !== follower) as number;
    const term = c.core(other).term;
    // The follower's timer fires although the leader is alive: the other follower ignores it.
    c.core(follower).campaign();
    c.flush();
    c.filter = (m) => m.to !== leader && m.from !== leader;
    c.deliverAll();
    expect(c.core(other).term).toBe(term);
    expect(c.core(other).vote).not.toBe(follower);
  });
});

describe('what the adapter needs for the fsync bug variants', () => {
  it('marks granted votes and acks as needing durability, and can hand them out early', async () => {
    const { messageNeedsDurability } = await import('./types.ts');
    const c = new Cluster({ size: 3, seed: 61, config: { preVote: false } });
    c.core(1).campaign();
    c.flush();
    const request = c.pending().find((m) => m.type === 'vote' && m.to === 2);
    expect(request).toBeDefined();
    c.clearInflight();
    c.core(2).step(request as NonNullable<typeof request>);
    const early = c.core(2).takeMessagesEarly((m) => messageNeedsDurability(m) === 'vote');
    expect(early).toMatchObject([{ type: 'vote-response', granted: true, to: 1 }]);
    const ready = c.core(2).ready();
    expect(ready?.hardState).toMatchObject({ vote: 1 });
    expect(ready?.messages).toEqual([]);
  });

  it('forget-vote-on-restart drops the restored vote', () => {
    const c = new Cluster({ size: 3, seed: 62, bugs: ['forget-vote-on-restart'] });
    const leader = c.electLeader();
    const voter = c.ids.find((id) => id !== leader && c.core(id).vote === leader) as number;
    c.crash(voter);
    c.restart(voter);
    expect(c.core(voter).vote).toBeNull();
    const healthy = new Cluster({ size: 3, seed: 62 });
    const l2 = healthy.electLeader();
    const v2 = healthy.ids.find((id) => id !== l2 && healthy.core(id).vote === l2) as number;
    healthy.crash(v2);
    healthy.restart(v2);
    expect(healthy.core(v2).vote).toBe(l2);
  });
});
