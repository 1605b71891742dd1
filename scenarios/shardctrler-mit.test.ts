// The correct shard controller passes every MIT shardctrler port over a few seeds, with every
// script step done and every check judged; the ports catch a controller that rebalances from
// scratch; and a script check that is wrong about the configuration fails the run.
import { describe, expect, it } from 'vitest';

import './shardctrler-mit.ts';
import { runPlan, runSeed } from '../sim/run.ts';
import type { RunResult } from '../sim/types.ts';
import { type AdminStep, adminScriptKey, CTRL_STREAM } from '../systems/shardkv/admin.ts';

function outcome(result: RunResult): string {
  return result.violation === undefined
    ? result.outcome
    : `${result.outcome}: ${result.violation.invariant}: ${result.violation.message}`;
}

const PORTS = ['shardctrler-basic', 'shardctrler-multi', 'shardctrler-minimal-again'];

describe('the MIT shardctrler ports', () => {
  it.each(PORTS)('%s passes over three seeds with every checked Query answered', (name) => {
    for (const seed of [0, 1, 2]) {
      const { plan, result } = runSeed(name, seed);
      expect(outcome(result), `${name} seed ${seed}`).toBe('pass');
      const steps = Object.entries(plan.workload)
        .filter(([key]) => key.startsWith('admin.'))
        .flatMap(([, text]) => JSON.parse(text as string) as AdminStep[]);
      const done = result.history.filter(
        (op) => op.stream === CTRL_STREAM && op.returnUs !== undefined,
      );
      expect(done).toHaveLength(steps.length);
      expect(done.filter((op) => (op.input as AdminStep).check !== undefined).length).toBe(
        steps.filter((step) => step.check !== undefined).length,
      );
    }
  });

  it('shardctrler-basic queried history with each server down in turn', () => {
    const { result } = runSeed('shardctrler-basic', 0);
    expect(result.stats.crashes).toBe(3);
    const historical = result.history.filter(
      (op) => (op.input as AdminStep).check?.sameAs !== undefined,
    );
    expect(historical).toHaveLength(18);
  });

  it.each(PORTS)('%s catches the rebalance-from-scratch controller', (name) => {
    const { result } = runSeed(name, 0, 'rebalance-from-scratch');
    expect(result.outcome).toBe('violation');
    expect(result.violation?.invariant).toMatch(/^shardctrler-/);
  });

  it('fails a run whose script expects the wrong groups (the checks can fail)', () => {
    const { plan } = runSeed('shardctrler-minimal-again', 0);
    const key = adminScriptKey(0);
    const steps = JSON.parse(plan.workload[key] as string) as AdminStep[];
    const query = steps.find((step) => step.label === 'c1') as AdminStep;
    query.check = { groups: [1, 2, 9] };
    const result = runPlan({
      ...plan,
      workload: { ...plan.workload, [key]: JSON.stringify(steps) },
    });
    expect(result.violation?.invariant).toBe('shardctrler-checks');
    expect(result.violation?.message).toMatch(/expected \[1,2,9\]/);
  });
});
