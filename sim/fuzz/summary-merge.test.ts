// Merging real shard summaries (the committed raft 1M-seed campaign shards): the sums, the
// shards still missing, and the refusals that keep two different campaigns apart.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { summaryLines } from '../../cli/commands/fuzz.ts';
import { formatRate } from '../../cli/format.ts';
import { asSummary, type FuzzSummary, MergeError, mergeSummaries } from './summary.ts';

function shard(index: number): FuzzSummary {
  const path = fileURLToPath(
    new URL(`../../bench/results/raft-1m/shard-${index}-of-200.json`, import.meta.url),
  );
  return asSummary(JSON.parse(readFileSync(path, 'utf8')), path);
}

describe('mergeSummaries over committed shards', () => {
  it('adds up seeds and coverage and names the shards not yet run', () => {
    const shards = [0, 1, 2].map(shard);
    const merged = mergeSummaries(shards);
    expect(merged.seeds).toBe(shards.reduce((sum, one) => sum + one.seeds, 0));
    expect(merged.coverage.faultsFired['crash']).toBe(
      shards.reduce((sum, one) => sum + (one.coverage.faultsFired['crash'] ?? 0), 0),
    );
    expect(merged.shardsMissing?.length).toBe(197);
    expect(merged.shardsMissing?.slice(0, 2)).toEqual([3, 4]);
  });

  it('counts the worker time the shards cost, however they were run, and merges merges', () => {
    const shards = [0, 1, 2, 3].map(shard);
    const workerMs = shards.reduce((sum, one) => sum + one.elapsedMs * one.workers, 0);
    const merged = mergeSummaries(shards);
    expect(merged.workerMs).toBe(workerMs);
    expect(merged.mergedSummaries).toBe(4);
    // Side by side is what seedsPerSec assumes: the longest shard's time.
    const longest = Math.max(...shards.map((one) => one.elapsedMs));
    expect(merged.elapsedMs).toBe(longest);
    expect(workerMs).toBeGreaterThan(longest * 2); // run one after another, as these were
    const twice = mergeSummaries([
      mergeSummaries(shards.slice(0, 2)),
      mergeSummaries(shards.slice(2)),
    ]);
    expect(twice.workerMs).toBe(workerMs);
    expect(twice.mergedSummaries).toBe(4);
    const lines = summaryLines(merged);
    expect(lines[0]).toMatch(/in 4 summaries: .* of worker time \(the longest .*\)$/);
    const perWorker = Math.round((merged.seeds / (workerMs / 1000)) * 10) / 10;
    expect(lines[1]).toContain(`per worker: ${formatRate(perWorker)} seeds/s`);
    expect(lines[1]).toMatch(/seeds\/s in all only if the 4 ran side by side$/);
  });

  it('refuses to merge shards whose pinned shapes differ, in one sentence', () => {
    const pinned = { ...shard(1), pins: { servers: 5 } };
    expect(() => mergeSummaries([shard(0), pinned])).toThrow(MergeError);
    expect(() => mergeSummaries([shard(0), pinned])).toThrow(
      /different pinned shapes \(none and servers=5\)/,
    );
    // The same pins in another order are the same shape.
    const a = { ...shard(0), pins: { servers: 5, clients: 2 } };
    const b = { ...shard(1), pins: { clients: 2, servers: 5 } };
    expect(mergeSummaries([a, b]).seeds).toBe(a.seeds + b.seeds);
  });
});
