import { describe, expect, it } from 'vitest';

import '../scenarios/raft.ts';
import { planFor, quietKnobs } from '../sim/plan.ts';
import { firstFailingSeed, runSeed, scenarioNamed } from '../sim/run.ts';
import type { ClusterView, HistoryOperation, Plan } from '../sim/types.ts';
import { DEFAULT_RAFT_OPTIONS } from '../systems/raft/group.ts';
import { syntheticPlan } from '../viewer/synthetic.ts';
import { answersWhileMajorityReachable, stepDownBoundUs } from './raft-availability.ts';

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
    const found = firstFailingSeed('raft', 'leader-never-steps-down', 100); // seed 30 here
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

describe('answers-while-majority-reachable', () => {
  // servers n1–n3 (ids 0–2), client c1 (id 3)
  const base = (faults: Plan['faults'], knobs: Partial<Plan['knobs']> = {}): Plan => ({
    ...syntheticPlan(3, 1),
    durationUs: 10_000_000,
    knobs: { ...quietKnobs(), ...knobs },
    faults,
  });
  const op = (callUs: number, returnUs?: number): HistoryOperation => ({
    id: 1,
    client: 3,
    input: { f: 'get', key: 'k' },
    callUs,
    ...(returnUs === undefined ? {} : { returnUs, status: 'ok' as const }),
  });
  const judge = (plan: Plan, history: HistoryOperation[]) => {
    const invariant = answersWhileMajorityReachable(plan, {
      group: 'servers',
      boundUs: 1_000_000,
      giveUpUs: 2_000_000,
    });
    const view = { history, name: (node: number) => ['n1', 'n2', 'n3', 'c1'][node] ?? '?' };
    return invariant.atEnd?.(view as unknown as ClusterView, []);
  };
  const crashN1 = { atUs: 100_000, kind: 'crash' as const, node: 0 };

  it('flags an operation left waiting while the client and a majority are up and connected', () => {
    expect(judge(base([crashN1]), [op(50_000)])).toMatch(
      /^c1's operation .* called at 50\.000 ms, was never answered, though from 100\.000 ms on c1 and a majority of servers \(n2, n3\) were up, unpaused and connected for 1000\.000 ms/,
    );
    expect(judge(base([crashN1]), [op(50_000, 1_300_000)])).toMatch(/answered only at 1300/);
  });

  it('passes an answer within the bound of the moment a majority became reachable', () => {
    expect(judge(base([crashN1]), [op(50_000, 1_050_000)])).toBeUndefined();
  });

  it('does not judge windows a fault of the majority or of the client lands in', () => {
    const crashN2 = { atUs: 600_000, kind: 'crash' as const, node: 1 };
    expect(judge(base([crashN1, crashN2]), [op(50_000)])).toBeUndefined();
    const isolate = {
      atUs: 100_000,
      kind: 'partition' as const,
      shape: 'isolate-node' as const,
      links: [
        [3, 0],
        [0, 3],
        [3, 1],
        [1, 3],
        [3, 2],
        [2, 3],
      ] as [number, number][],
    };
    expect(judge(base([isolate]), [op(50_000)])).toBeUndefined();
  });

  it('does not judge a bridge: a leader outside the majority may keep its quorum', () => {
    // {n2 c1} ↮ {n3}, n1 bridging: the client reaches n1 and n2, n3 hears n1 — and a leader n3
    // with n1's acknowledgements keeps a quorum that the client cannot reach.
    const bridge = {
      atUs: 100_000,
      kind: 'partition' as const,
      shape: 'bridge' as const,
      links: [
        [1, 2],
        [2, 1],
        [3, 2],
        [2, 3],
      ] as [number, number][],
    };
    expect(judge(base([bridge]), [op(50_000)])).toBeUndefined();
  });

  it('does not judge seeds with random loss, nor after the client would give up', () => {
    expect(judge(base([crashN1], { dropProbability: 0.1 }), [op(50_000)])).toBeUndefined();
    expect(judge(base([crashN1], { buggifyProbability: 0.1 }), [op(50_000)])).toBeUndefined();
    // From 100 ms the bound ends at 1.1 s, past 0.9 × the 2 s give-up of an op called at 0.
    const late = { ...crashN1, atUs: 900_000 };
    expect(judge(base([late]), [op(0)])).toBeUndefined();
  });
});
