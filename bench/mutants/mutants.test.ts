import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  isDone,
  type MutantRecord,
  mergeRecords,
  parseRecords,
  RECORD_FORMAT,
  scoreOf,
  summaryMarkdown,
} from './results.ts';
import {
  drawSample,
  type ListedMutant,
  MUTATED_SYSTEMS,
  mutantKey,
  mutateRange,
  shardOf,
} from './sample.ts';

const RAFT = MUTATED_SYSTEMS[0]!;

function listed(count: number): ListedMutant[] {
  return Array.from({ length: count }, (_, index) => ({
    file: `systems/raft/file${index % 3}.ts`,
    start: { line: index, column: index % 7 },
    end: { line: index, column: (index % 7) + 5 },
    mutator: index % 2 === 0 ? 'EqualityOperator' : 'BlockStatement',
    replacement: `r${index}`,
  }));
}

function record(overrides: Partial<MutantRecord>): MutantRecord {
  return {
    format: RECORD_FORMAT,
    id: 'a',
    key: 'k',
    system: 'raft',
    scenario: 'raft',
    location: 'systems/raft/core.ts:1:0-1:5',
    mutator: 'EqualityOperator',
    replacement: 'a < b',
    status: 'survived',
    seeds: 2000,
    seedsRun: 2000,
    seedsToKill: null,
    failingSeed: null,
    invariant: null,
    message: null,
    elapsedMs: 1,
    sourceHash: 'h',
    commit: 'c',
    ...overrides,
  };
}

describe('drawSample', () => {
  it('draws the same mutants whatever order they were listed in, and distinct ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 80 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        (total, count, seed) => {
          const all = listed(total);
          const shuffled = [...all].reverse();
          const first = drawSample(all, RAFT, count, seed);
          const second = drawSample(shuffled, RAFT, count, seed);
          expect(second).toEqual(first);
          expect(first).toHaveLength(Math.min(count, total));
          expect(new Set(first.map((mutant) => mutant.id)).size).toBe(first.length);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('draws different samples for different seeds, each a subset in source order', () => {
    const all = listed(200);
    const one = drawSample(all, RAFT, 20, 'one').map((mutant) => mutant.key);
    const two = drawSample(all, RAFT, 20, 'two').map((mutant) => mutant.key);
    expect(one).not.toEqual(two);
    const keys = new Set(all.map(mutantKey));
    expect(one.every((key) => keys.has(key))).toBe(true);
    const again = drawSample(all, RAFT, 20, 'one');
    const positions = again.map((mutant) => all.findIndex((m) => mutantKey(m) === mutant.key));
    expect(positions).toEqual(
      [...positions].sort((a, b) => all[a]!.file.localeCompare(all[b]!.file) || a - b),
    );
  });

  it('prints Stryker ranges with 1-based lines and 0-based columns', () => {
    const mutant = listed(5)[4]!;
    expect(mutateRange(mutant)).toBe('systems/raft/file1.ts:5:4-5:9');
  });
});

describe('shardOf', () => {
  it('splits a sample into disjoint shards that cover it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 7 }), (size, n) => {
        const sample = Array.from({ length: size }, (_, index) => index);
        const shards = Array.from({ length: n }, (_, index) =>
          shardOf(sample, { index, count: n }),
        );
        expect(shards.flat().sort((a, b) => a - b)).toEqual(sample);
        for (const shard of shards) {
          expect(shard.length).toBeLessThanOrEqual(Math.ceil(size / n));
        }
      }),
    );
  });
});

describe('results', () => {
  it('skips a torn last line and lines of another format', () => {
    const good = JSON.stringify(record({ id: 'x' }));
    const text = `${good}\n${JSON.stringify({ ...record({ id: 'y' }), format: 99 })}\n${good.slice(0, 20)}`;
    expect(parseRecords(text).map((r) => r.id)).toEqual(['x']);
  });

  it('keeps one verdict per mutant: judged over error, the larger campaign, then the later', () => {
    const merged = mergeRecords(
      [
        record({ id: 'a', status: 'error' }),
        record({ id: 'a', status: 'survived', seeds: 200 }),
        record({ id: 'a', status: 'error', seeds: 5000 }),
        record({ id: 'b', status: 'survived', seeds: 2000 }),
        record({ id: 'b', status: 'killed', seeds: 2000, seedsToKill: 4 }),
        record({ id: 'c', status: 'killed', sourceHash: 'other' }),
      ],
      'h',
    );
    expect(merged.stale).toBe(1);
    expect(merged.verdicts.map((v) => [v.id, v.status, v.seeds])).toEqual([
      ['a', 'survived', 200],
      ['b', 'killed', 2000],
    ]);
  });

  it('counts a kill as done at any size, a survivor only at the seeds asked for', () => {
    expect(isDone(record({ status: 'killed', seeds: 10 }), 2000)).toBe(true);
    expect(isDone(record({ status: 'survived', seeds: 200 }), 2000)).toBe(false);
    expect(isDone(record({ status: 'survived', seeds: 2000 }), 2000)).toBe(true);
    expect(isDone(record({ status: 'error' }), 1)).toBe(false);
    expect(isDone(undefined, 1)).toBe(false);
  });

  it('scores kills and timeouts over judged mutants less equivalent survivors', () => {
    const verdicts = [
      record({ id: 'k1', status: 'killed', seedsToKill: 3 }),
      record({ id: 'k2', status: 'killed', seedsToKill: 10 }),
      record({ id: 'k3', status: 'killed', seedsToKill: 1, system: 'kv' }),
      record({ id: 't', status: 'timeout' }),
      record({ id: 's1', status: 'survived' }),
      record({ id: 's2', status: 'survived', sometimesNeverReached: ['kv-write-acknowledged'] }),
      record({ id: 'e', status: 'error' }),
    ];
    const raft = scoreOf(verdicts, 'raft');
    expect(raft).toMatchObject({ tested: 6, killed: 2, timeout: 1, survived: 2, errors: 1 });
    expect(raft.scorePercent).toBe(60);
    expect(raft.medianSeedsToKill).toBe(6.5);
    const classified = scoreOf(verdicts, 'all', { s1: { class: 'equivalent' } });
    expect(classified.equivalent).toBe(1);
    expect(classified.scorePercent).toBe(80); // 4 of 5
    expect(classified.medianSeedsToKill).toBe(3);
    expect(scoreOf([], 'raft').scorePercent).toBeNull();
    const markdown = summaryMarkdown(verdicts, 10, {
      s1: { class: 'equivalent', note: 'log text' },
    });
    expect(markdown).toContain('7 of 10 sampled mutants judged.');
    expect(markdown).toContain('| s1 |');
    expect(markdown).toContain('equivalent: log text');
    expect(markdown).toContain('| s2 |');
    expect(markdown).toContain('| kv-write-acknowledged |');
    expect(markdown).not.toContain('| k1 |');
  });
});
