import { describe, expect, it } from 'vitest';

import '../scenarios/raft.ts';
import { planFor } from '../sim/plan.ts';
import { firstFailingSeed, runSeed, scenarioNamed } from '../sim/run.ts';
import { DEFAULT_RAFT_OPTIONS } from '../systems/raft/group.ts';
import { stepDownBoundUs } from './raft-availability.ts';

describe('leader-steps-down-without-quorum', () => {
  it('bounds step-down by 4 election timeouts, stretched by buggify lost ticks', () => {
    const plan = planFor(scenarioNamed('raft'), 13, null);
    const quiet = { ...plan, knobs: { ...plan.knobs, buggifyProbability: 0 } };
    // 4 × 100 ms, +0.4 % for clock rates, + one tick.
    expect(stepDownBoundUs(quiet, DEFAULT_RAFT_OPTIONS)).toBe(411_600);
    const lossy = { ...plan, knobs: { ...plan.knobs, buggifyProbability: 0.25 } };
    expect(stepDownBoundUs(lossy, DEFAULT_RAFT_OPTIONS)).toBe(545_467);
  });
});

describe('leader-steps-down-without-quorum in the raft swarm', () => {
  it('catches a leader that never steps down', () => {
    const found = firstFailingSeed('raft', 'leader-never-steps-down', 40);
    expect(found?.violation.invariant).toBe('leader-steps-down-without-quorum');
  });

  it('judges each stretch by the voters of its time, not a later configuration', () => {
    // raft seed 144: a bridge partition leaves leader n4 a quorum of its 5 voters, until a
    // removal (voters n1–n4) takes it away at 2.755 s; n4 steps down 35 ms later. Judged with
    // the new voters over the whole partition, it was a false alarm.
    const { result } = runSeed('raft', 144, null);
    expect(result.violation).toBeUndefined();
  });
});
