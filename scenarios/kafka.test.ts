// The Kafka-like log end to end, a few seeds each: the correct configuration passes with
// acknowledged sends all polled; an expected-loss configuration and a known-bug variant are
// caught by the client-history checker with the anomaly that fits them.
import { describe, expect, it } from 'vitest';

import './kafka.ts';
import { analyzeKafkaHistory } from '../invariants/kafka-history.ts';
import { runSeed } from '../sim/run.ts';

describe('the Kafka-like log', () => {
  it('passes the kafka swarm, with sends acknowledged and every one polled', () => {
    for (const seed of [0, 1]) {
      const { result } = runSeed('kafka', seed);
      expect(result.violation?.message, `kafka seed ${seed}`).toBeUndefined();
      const analysis = analyzeKafkaHistory(result.history);
      expect(analysis.acknowledged).toBeGreaterThan(20);
      expect(analysis.polledAcknowledged).toBe(analysis.acknowledged);
    }
  }, 60_000);

  it('loses acknowledged writes with acks=1 and with min.insync.replicas=1, and says so', () => {
    const acks1 = runSeed('kafka-acks1-leader-crash', 1).result;
    expect(acks1.violation?.invariant).toBe('lost-write');
    const minIsr1 = runSeed('kafka-min-isr-1', 6).result;
    expect(minIsr1.violation?.invariant).toBe('lost-write');
    expect(minIsr1.violation?.message).toMatch(
      /acknowledged to p\d .* at offset \d+, was never polled/,
    );
  }, 60_000);

  it('duplicates a retried send when a new leader forgets the producers', () => {
    const { result } = runSeed('kafka', 3, 'no-producer-dedup-after-failover');
    expect(result.violation?.invariant).toBe('duplicate');
  }, 60_000);
});
