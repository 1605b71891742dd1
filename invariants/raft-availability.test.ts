import { describe, expect, it } from 'vitest';

import '../scenarios/raft.ts';
import { planFor } from '../sim/plan.ts';
import { scenarioNamed } from '../sim/run.ts';
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
