// Consumer groups end to end, a few seeds each (pinned on the code of this commit): the churn
// scenario passes with every acknowledged send consumed by the group, across rebalances (on
// seeds that draw no retention; scenarios/kafka-retention.test.ts has the others);
// committing before processing loses messages and the history checker says lost-write; the
// coordinator accepting stale-generation commits is caught by the committed-offsets
// invariant.
import { describe, expect, it } from 'vitest';

import './kafka.ts';
import { analyzeKafkaHistory } from '../invariants/kafka-history.ts';
import { planFor } from '../sim/plan.ts';
import { firstFailingSeed, runSeed, scenarioNamed } from '../sim/run.ts';

/** The first `count` seeds whose plans draw no retention: there every acknowledged send is polled. */
/** Seeds that delete nothing: no retention, and no media fault that may take a partition offline. */
function seedsKeepingEverything(scenario: string, count: number): number[] {
  const seeds: number[] = [];
  for (let seed = 0; seeds.length < count && seed < 100; seed++) {
    const plan = planFor(scenarioNamed(scenario), seed);
    const media = plan.faults.some(
      (fault) => fault.kind === 'bit-rot' || fault.kind === 'misdirected-write',
    );
    if (plan.workload['retentionBytes'] === undefined && !media) {
      seeds.push(seed);
    }
  }
  return seeds;
}

describe('Kafka consumer groups', () => {
  it('a churning group consumes every acknowledged send, over several generations', () => {
    const seeds = seedsKeepingEverything('kafka-group-churn', 2);
    expect(seeds).toHaveLength(2);
    for (const seed of seeds) {
      const { result } = runSeed('kafka-group-churn', seed);
      expect(result.violation?.message, `seed ${seed}`).toBeUndefined();
      const analysis = analyzeKafkaHistory(result.history);
      expect(analysis.acknowledged).toBeGreaterThan(10);
      expect(analysis.polledAcknowledged).toBe(analysis.acknowledged);
      expect(result.sometimes).toContain('a consumer group rebalanced past its first generation');
      expect(result.sometimes).toContain('a committed offset became durable');
    }
  }, 60_000);

  it('auto-committing before processing loses messages on a crash: lost-write', () => {
    const found = firstFailingSeed('kafka-autocommit-crash', null, 6);
    expect(found?.violation.invariant).toBe('lost-write');
    expect(found?.violation.message).toMatch(/acknowledged to p\d .* was never polled/);
  }, 60_000);

  it('a coordinator accepting stale-generation commits moves committed offsets back', () => {
    const found = firstFailingSeed('kafka-group-churn', 'stale-generation-commit-accepted', 12);
    expect(found?.violation.invariant).toBe('kafka-committed-offsets-monotonic');
    expect(found?.violation.message).toMatch(/the committed offset went back from \d+/);
  }, 60_000);
});
