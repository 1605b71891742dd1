import { describe, expect, it } from 'vitest';

import type { ClusterView, NodeId, ObservationRecord, Phase } from '../sim/types.ts';
import { leaderStaysWhileHealthy } from './raft-stability.ts';

interface FakeState {
  role: 'leader' | 'follower' | 'pre-candidate' | 'candidate';
  term: number;
  leader: NodeId | null;
  electionElapsedTicks: number;
  voters: NodeId[];
}

/** Three servers n1–n3 (ids 0–2): n1 leads term 3 and both followers heard it `elapsed` ago. */
function cluster(elapsed = 1) {
  const states: FakeState[] = [
    { role: 'leader', term: 3, leader: 0, electionElapsedTicks: 0, voters: [0, 1, 2] },
    { role: 'follower', term: 3, leader: 0, electionElapsedTicks: elapsed, voters: [0, 1, 2] },
    { role: 'follower', term: 3, leader: 0, electionElapsedTicks: elapsed, voters: [0, 1, 2] },
  ];
  let phase: Phase = 'settle';
  let timeUs = 6_000_000;
  const view = {
    get servers() {
      return [0, 1, 2];
    },
    get clients() {
      return [];
    },
    groups: [{ name: 'servers', members: [0, 1, 2], client: false }],
    members: () => [0, 1, 2],
    get phase() {
      return phase;
    },
    get timeUs() {
      return timeUs;
    },
    name: (node: NodeId) => `n${node + 1}`,
    inspect: (node: NodeId) => {
      const state = states[node];
      if (state === undefined) {
        return undefined;
      }
      // A host's view of its group is the group's own view (as LiveRaftView does).
      const inspected = { group: 'servers', ...state, raftGroup: () => inspected };
      return inspected;
    },
  } as unknown as ClusterView;
  const invariant = leaderStaysWhileHealthy({ electionTicks: 10 });
  const feed = (node: NodeId, observation: Record<string, unknown>) => {
    timeUs += 1_000;
    const record = {
      node,
      timeUs,
      eventIndex: 0,
      observation: { group: 'servers', ...observation },
    } as unknown as ObservationRecord;
    return invariant.onObservation?.(record, view);
  };
  return {
    states,
    feed,
    setPhase: (next: Phase) => {
      phase = next;
    },
  };
}

const commit = { type: 'committed', index: 9, term: 3, leaderTerm: 3 };
const election = { type: 'campaign-started', term: 4, preVote: false };

describe('leader-stays-while-healthy', () => {
  it('fails a voter that starts an election against a leader a majority follows', () => {
    const { feed } = cluster();
    expect(feed(0, commit)).toBeUndefined();
    // A pre-vote is allowed: it moves no term, and the followers refuse it.
    expect(feed(2, { type: 'campaign-started', term: 4, preVote: true })).toBeUndefined();
    expect(feed(2, election)).toMatch(
      /^n3, a voter, started an election for term 4 at .* n1 had led term 3 in the settle phase, followed by a majority/,
    );
  });

  it('fails a healthy leader that steps down, but not one that was removed', () => {
    const deposed = cluster();
    deposed.feed(0, commit);
    expect(deposed.feed(0, { type: 'stepped-down', term: 3, reason: 'higher-term' })).toMatch(
      /^n1 stepped down as leader of term 3 \(higher-term\)/,
    );
    const removed = cluster();
    removed.feed(0, commit);
    expect(removed.feed(0, { type: 'stepped-down', term: 3, reason: 'removed' })).toBeUndefined();
    // The next leader is watched afresh: the election after the removal is legitimate.
    expect(removed.feed(1, election)).toBeUndefined();
  });

  it('waits for a majority that heard the leader within half an election timeout', () => {
    // Followers 6 ticks out of contact may drop out of its lease before its next heartbeat
    // lands, and then grant a pre-vote: an election is legitimate, so nothing is judged.
    const stale = cluster(6);
    stale.feed(0, commit);
    expect(stale.feed(2, election)).toBeUndefined();
    // One such follower is fine: the leader and the other make the majority.
    const one = cluster(1);
    (one.states[2] as FakeState).electionElapsedTicks = 9;
    one.feed(0, commit);
    expect(one.feed(2, election)).toMatch(/started an election for term 4/);
  });

  it('judges nothing in the fault phase, a higher term, a non-voter or a leader gone', () => {
    const faults = cluster();
    faults.setPhase('faults');
    faults.feed(0, commit);
    expect(faults.feed(2, election)).toBeUndefined();

    const higher = cluster();
    (higher.states[2] as FakeState).term = 5; // its first message will depose n1
    higher.feed(0, commit);
    expect(higher.feed(1, { ...election, term: 6 })).toBeUndefined();

    const removedVoter = cluster();
    removedVoter.feed(0, commit);
    (removedVoter.states[0] as FakeState).voters = [0, 1];
    expect(removedVoter.feed(2, election)).toBeUndefined();

    // A follower that ran when n1 won dies (an armed fsync error): n1 may lose its quorum.
    const follower = cluster();
    follower.feed(0, commit);
    (follower.states as (FakeState | undefined)[])[2] = undefined;
    expect(
      follower.feed(0, { type: 'stepped-down', term: 3, reason: 'check-quorum' }),
    ).toBeUndefined();

    const died = cluster();
    died.feed(0, commit);
    (died.states[0] as FakeState).role = 'follower'; // its process died on an fsync error
    expect(died.feed(1, election)).toBeUndefined();
  });
});
