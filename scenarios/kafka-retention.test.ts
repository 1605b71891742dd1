// Retention end to end: the kafka swarm with retention on passes (what retention deleted
// before anyone read it is excused, and nothing else); a group that resets to the latest
// offset when its committed offset was deleted (auto.offset.reset=latest) is caught by the
// history checker, while the same plans with the earliest reset pass — so the excuse covers
// exactly the deleted records, not the ones a consumer skipped.
import { describe, expect, it } from 'vitest';

import './kafka.ts';
import { analyzeKafkaHistory } from '../invariants/kafka-history.ts';
import { planFor } from '../sim/plan.ts';
import { firstFailingSeed, runPlan, scenarioNamed } from '../sim/run.ts';

const SEEDS_MAX = 40;

describe('retention in the Kafka-like log', () => {
  it('the kafka swarm passes with retention deleting segments', () => {
    const scenario = scenarioNamed('kafka');
    let deleting = 0;
    for (let seed = 0; seed < SEEDS_MAX && deleting < 2; seed++) {
      const plan = planFor(scenario, seed);
      if (plan.workload['retentionBytes'] === undefined) {
        continue;
      }
      const result = runPlan(plan);
      expect(result.violation?.message, `kafka seed ${seed}`).toBeUndefined();
      if (result.sometimes.includes('retention deleted a segment')) {
        deleting++;
        const analysis = analyzeKafkaHistory(result.history);
        expect(analysis.acknowledged).toBeGreaterThan(20);
      }
    }
    expect(deleting).toBe(2);
  }, 120_000);

  it('half the swarm seeds draw retention, the rest keep everything', () => {
    const scenario = scenarioNamed('kafka');
    const drawn = Array.from(
      { length: 200 },
      (_, seed) => planFor(scenario, seed).workload['retentionBytes'],
    );
    const on = drawn.filter((bytes) => bytes !== undefined) as number[];
    expect(on.length).toBeGreaterThan(70);
    expect(on.length).toBeLessThan(130);
    expect(Math.min(...on)).toBe(3 * 200);
    expect(Math.max(...on)).toBe(10 * 200);
  });

  // The loss needs a consumer reset past records retention deleted while they were unread: 3
  // of seeds 0–79 (43, 49, 59; 4 before the brokers checkpointed their high watermarks).
  it('catches auto.offset.reset=latest, and passes the same plans reset to the earliest', () => {
    const found = firstFailingSeed('kafka-reset-latest', null, 2 * SEEDS_MAX);
    expect(found).toBeDefined();
    expect(['lost-write', 'unseen', 'poll-skip']).toContain(found?.violation.invariant);
    const plan = planFor(scenarioNamed('kafka-reset-latest'), found?.seed as number);
    const earliest = runPlan({ ...plan, workload: { ...plan.workload, offsetReset: 'earliest' } });
    expect(earliest.violation?.message).toBeUndefined();
    expect(earliest.sometimes).toContain('a consumer moved past records retention deleted');
  }, 120_000);
});
