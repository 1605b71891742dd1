// Goal: lease reads are answered at once only while the lease holds, fall back to ReadIndex
// otherwise, and the voters a lease counts on refuse votes long enough — also after a restart,
// and however the servers' clocks drift within the bound the lease assumes.
// Method: the core in the test harness on the kernel's clocks: each node's lease runs on its
// monotonic clock (a tick period per round, faster or slower where a test sets drift), pauses
// let time pass with nobody ticking; messages are built by hand where a test needs one exact
// message.
import { describe, expect, it } from 'vitest';

import { leaseDurationUs } from './group.ts';
import { Cluster, TICK_US } from './testkit.ts';
import type { LeaseBug, Message, RaftConfig } from './types.ts';

const ELECTION_TICKS = 10;
const DRIFT_PPM_MAX = 10_000;
const DURATION_US = leaseDurationUs(TICK_US, ELECTION_TICKS, DRIFT_PPM_MAX);

/** A 3-node cluster with lease reads, each timed on its node's monotonic clock. */
function leaseCluster(seed: number, bugs: LeaseBug[] = []) {
  const c = new Cluster({
    size: 3,
    seed,
    bugs,
    leaseDurationUs: DURATION_US,
    config: { electionTicks: ELECTION_TICKS },
  });
  return { c };
}

function leaseReads(c: Cluster): number {
  return c.events.filter(({ event }) => event.type === 'lease-read').length;
}

describe('lease duration', () => {
  it('is electionTicks - 1 tick periods shrunk by the drift bound on both clocks', () => {
    expect(leaseDurationUs(10_000, 10, 0)).toBe(90_000);
    // 9 × 10 ms × 0.99 / 1.01 = 88.2178 ms
    expect(leaseDurationUs(10_000, 10, 10_000)).toBe(88_217);
    expect(() => leaseDurationUs(10_000, 1, 0)).toThrow(/electionTicks/);
    expect(() => leaseDurationUs(10_000, 10, 1_000_000)).toThrow(/drift/);
  });

  it('needs check-quorum, whose vote refusal is the followers’ half of the lease', () => {
    const lease: RaftConfig['lease'] = { durationUs: 1, clockUs: () => 0 };
    expect(() => new Cluster({ size: 3, seed: 1, config: { lease, checkQuorum: false } })).toThrow(
      /checkQuorum/,
    );
  });
});

describe('lease reads', () => {
  it('answer at once, with no heartbeat round, while a quorum acknowledged a recent heartbeat', () => {
    const { c } = leaseCluster(51);
    const leader = c.electLeader();
    c.commitCommand('x');
    c.round();
    c.round(); // a heartbeat round trip since the commit
    const commit = c.core(leader).commitIndex;
    const sent = c.messagesSent;
    expect(c.core(leader).readIndex(7)).toEqual({ ok: true });
    c.flush();
    expect(c.node(leader).readStates).toEqual([{ requestId: 7, ok: true, index: commit }]);
    expect(c.pending().filter((m) => m.type === 'heartbeat')).toEqual([]);
    expect(c.messagesSent).toBe(sent);
    expect(leaseReads(c)).toBe(1);
    c.core(leader).readIndex(8);
    c.flush();
    expect(c.node(leader).readStates.map((r) => r.requestId)).toEqual([7, 8]);
    expect(leaseReads(c)).toBe(1); // reported once per leadership
  });

  it('fall back to a ReadIndex round once the lease has run out', () => {
    const { c } = leaseCluster(52);
    const leader = c.electLeader();
    c.commitCommand('x');
    c.round();
    c.isolate(leader);
    // Everyone pauses past the lease: the clocks run on, nobody ticks, nobody is elected.
    for (const id of c.ids) {
      c.pause(id, DURATION_US);
    }
    while (c.ids.some((id) => c.node(id).slot.paused)) {
      c.tickAll();
    }
    expect(c.core(leader).role).toBe('leader');
    c.core(leader).readIndex(9);
    c.flush();
    expect(c.node(leader).readStates).toEqual([]);
    c.heal();
    c.runUntil(() => c.node(leader).readStates.length > 0, 20);
    expect(c.node(leader).readStates).toEqual([
      { requestId: 9, ok: true, index: c.core(leader).commitIndex },
    ]);
    expect(leaseReads(c)).toBe(0);
  });

  it('count only acknowledged heartbeats: a leader cut off from its followers serves none', () => {
    const { c } = leaseCluster(53);
    const leader = c.electLeader();
    c.commitCommand('x');
    c.isolate(leader);
    const reads: number[] = [];
    for (let i = 0; i < ELECTION_TICKS && c.core(leader).role === 'leader'; i++) {
      c.core(leader).readIndex(100 + i);
      c.round();
      reads.push(
        ...c
          .node(leader)
          .readStates.filter((r) => r.ok)
          .map((r) => r.requestId),
      );
    }
    // Heartbeats still go out, unanswered: the lease ends DURATION_US after the last answered one.
    expect(reads.length).toBeGreaterThan(0); // at first the lease still held
    const lastServedRound = Math.max(...reads.map((id) => id - 100));
    expect(lastServedRound).toBeLessThan(Math.ceil(DURATION_US / TICK_US));
  });
});

describe('the voters a lease counts on', () => {
  /** A vote request for a higher term from an up-to-date candidate, as after an election timeout. */
  function voteRequest(c: Cluster, from: number, to: number): Message {
    const core = c.core(to);
    return {
      type: 'vote',
      from,
      to,
      term: core.term + 1,
      lastIndex: core.lastIndex + 10,
      lastTerm: core.term + 1,
    };
  }

  /** A leader with a lease, one of its voters just restarted, and a would-be candidate. */
  function restartedVoter(seed: number, bugs: LeaseBug[] = []) {
    const { c } = leaseCluster(seed, bugs);
    const leader = c.electLeader();
    c.commitCommand('x');
    const voter = c.ids.find((id) => id !== leader) as number;
    const candidate = c.ids.find((id) => id !== leader && id !== voter) as number;
    c.crash(voter);
    c.restart(voter);
    return { c, voter, candidate };
  }

  function grantsAfterRestart(bugs: LeaseBug[]): boolean {
    const { c, voter, candidate } = restartedVoter(54, bugs);
    c.core(voter).step(voteRequest(c, candidate, voter));
    const ready = c.core(voter).ready();
    const answer = ready?.messages.find((m) => m.type === 'vote-response');
    // A refusal in lease is silence (the request is ignored); a grant is an answer.
    return answer?.type === 'vote-response' && answer.granted;
  }

  it('refuse votes for an election timeout after a restart', () => {
    expect(grantsAfterRestart([])).toBe(false);
  });

  it('grant them at once with the lease-vote-after-restart bug', () => {
    expect(grantsAfterRestart(['lease-vote-after-restart'])).toBe(true);
  });

  it('keep refusing after a stray higher-term message makes them forget the leader', () => {
    const { c } = leaseCluster(57);
    const leader = c.electLeader();
    c.commitCommand('x');
    const voter = c.ids.find((id) => id !== leader) as number;
    const other = c.ids.find((id) => id !== leader && id !== voter) as number;
    const core = c.core(voter);
    const term = core.term + 1;
    // A late answer at a higher term moves the voter to that term with no known leader...
    core.step({ type: 'heartbeat-response', from: other, to: voter, term, readSeq: 0 });
    expect([core.term, core.leader]).toEqual([term, null]);
    // ...but the leader it followed may still count on it: no vote in that term yet.
    core.step({ type: 'vote', from: other, to: voter, term, lastIndex: 99, lastTerm: term });
    const answer = core.ready()?.messages.find((m) => m.type === 'vote-response');
    expect(answer).toMatchObject({ type: 'vote-response', term, granted: false });
  });

  it('vote at once in a fresh cluster: a server at term 0 never backed a lease', () => {
    const { c } = leaseCluster(58);
    c.core(1).campaign();
    c.flush();
    for (let round = 0; round < 4; round++) {
      c.deliverAll(); // pre-votes, their answers, votes, their answers: no tick needed
    }
    expect(c.core(1).role).toBe('leader');
  });

  it('grant votes again once an election timeout has passed without a leader', () => {
    const { c, voter, candidate } = restartedVoter(55);
    for (let i = 0; i < ELECTION_TICKS; i++) {
      c.core(voter).tick(); // alone: it hears from nobody
    }
    c.core(voter).step(voteRequest(c, candidate, voter));
    const answer = c
      .core(voter)
      .ready()
      ?.messages.find((m) => m.type === 'vote-response');
    expect(answer?.type === 'vote-response' && answer.granted).toBe(true);
  });

  it('keep electing leaders and committing under drops, duplicates, drift and partitions', () => {
    const { c } = leaseCluster(56);
    c.network.dropProbability = 0.1;
    c.network.duplicateProbability = 0.1;
    c.ids.forEach((id, position) => {
      c.drift(id, position % 2 === 0 ? DRIFT_PPM_MAX : -DRIFT_PPM_MAX);
    });
    for (let i = 0; i < 20; i++) {
      c.commitCommand(`cmd-${i}`, 2);
      if (i % 5 === 4) {
        c.isolate(c.electLeader());
        c.runUntil(() => c.leader() !== null, 200);
        c.heal();
      }
    }
    expect(c.violations).toEqual([]);
  });
});

describe('the lease under clock drift', () => {
  /**
   * The leader's clock runs slow and the followers' fast by driftPpm; just after a quorum
   * acknowledged its heartbeats the leader is cut off and asked for a read every round (cut
   * off, it can answer only under its lease), while a follower campaigns every round (its
   * timer firing as early as it could), so only the voters' refusal holds a successor back.
   * Returns how many reads it answered, and whether it answered one after a follower had
   * granted a vote in a later term.
   */
  function cutOffLeaderReads(driftPpm: number): { served: number; stale: boolean } {
    const { c } = leaseCluster(59);
    const leader = c.electLeader();
    c.commitCommand('x');
    c.round();
    const term = c.core(leader).term;
    for (const id of c.ids) {
      c.drift(id, id === leader ? -driftPpm : driftPpm);
    }
    const eager = c.ids.find((id) => id !== leader) as number;
    c.isolate(leader);
    let lastServedUs = -1;
    let firstVoteUs = Number.POSITIVE_INFINITY;
    let served = 0;
    for (let round = 0; round < 50 && c.core(leader).role === 'leader'; round++) {
      const before = c.node(leader).readStates.filter((r) => r.ok).length;
      c.core(leader).readIndex(round);
      c.flush();
      if (c.node(leader).readStates.filter((r) => r.ok).length > before) {
        served++;
        lastServedUs = c.nowUs;
      }
      c.core(eager).campaign();
      c.round();
      const voted = c.events.some((e) => e.event.type === 'vote-granted' && e.event.term > term);
      firstVoteUs = voted ? Math.min(firstVoteUs, c.nowUs) : firstVoteUs;
    }
    expect(firstVoteUs).toBeLessThan(Number.POSITIVE_INFINITY); // the others moved on
    return { served, stale: lastServedUs >= firstVoteUs };
  }

  it('within the bound it assumes, ends before any voter backs a successor', () => {
    const { served, stale } = cutOffLeaderReads(DRIFT_PPM_MAX);
    expect(served).toBeGreaterThan(0);
    expect(stale).toBe(false);
  });

  it('beyond it (±20 % against ±1 %), outlives the votes it counts on (the test can tell)', () => {
    expect(cutOffLeaderReads(200_000).stale).toBe(true);
  });
});
