import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { FuzzSummary } from '../../sim/fuzz/summary.ts';
import { type FuzzOutcome, requiredSometimes, verdictOf } from './fuzz-test-runner.ts';
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
  type Campaign,
  campaignName,
  campaignsOf,
  chooseCampaigns,
  codeAt,
  drawSample,
  type ListedMutant,
  listMutants,
  MUTATED_SYSTEMS,
  mutantKey,
  mutateRange,
  pairedSample,
  sampleFor,
  shardOf,
  VARIANT_SEEDS_MAX,
  variantSeedsFor,
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
        // A kill stands against a later, larger campaign that did not find it.
        record({ id: 'd', status: 'killed', seeds: 200, seedsToKill: 9 }),
        record({ id: 'd', status: 'survived', seeds: 2000 }),
      ],
      'h',
    );
    expect(merged.stale).toBe(1);
    expect(merged.verdicts.map((v) => [v.id, v.status, v.seeds])).toEqual([
      ['a', 'survived', 200],
      ['b', 'killed', 2000],
      ['d', 'killed', 200],
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

describe('verdictOf on a variant campaign', () => {
  const mutant = drawSample(listed(1), RAFT, 1, 's')[0]!;
  const campaign = { scenario: 'raft', seeds: 80, variant: 'commit-previous-term' };
  const context = { seeds: 200, sourceHash: 'h', commit: 'c', campaign };
  const summary = (seeds: number, findings: number) =>
    ({
      faultline: 'fuzz-summary',
      from: 0,
      seeds,
      failed: findings,
      findings: Array.from({ length: findings }, () => ({
        seed: seeds - 1,
        invariant: 'commit-rule',
        message: 'x',
      })),
      coverage: { sometimesNeverReached: [] },
    }) as unknown as FuzzSummary;
  const outcome = (exitCode: number | null, s: FuzzSummary | null) =>
    ({
      exitCode,
      summary: s,
      timedOut: false,
      stderrTail: 'boom',
      elapsedMs: 5,
    }) satisfies FuzzOutcome;

  it('survives while the variant is still found, and is killed when it is not', () => {
    expect(verdictOf(mutant, outcome(1, summary(7, 1)), context).status).toBe('survived');
    expect(verdictOf(mutant, outcome(0, summary(80, 0)), context)).toMatchObject({
      status: 'killed',
      scenario: 'raft',
      invariant: 'variant-not-found',
      seedsToKill: 80,
      message: expect.stringMatching(
        /^raft --variant commit-previous-term passed all 80 seeds: the known bug commit-previous-term is no longer found/,
      ),
    });
  });

  it('judges a mutant that cannot load as any campaign does, and a short pass as an error', () => {
    expect(verdictOf(mutant, outcome(3, null), context)).toMatchObject({
      status: 'killed',
      invariant: 'exit 3',
    });
    expect(verdictOf(mutant, outcome(0, summary(12, 0)), context).status).toBe('error');
  });
});

describe('verdictOf', () => {
  const mutant = drawSample(listed(1), RAFT, 1, 's')[0]!;
  const context = { seeds: 2000, sourceHash: 'h', commit: 'c' };
  const summary = (findings: { seed: number; invariant: string }[]): FuzzSummary =>
    ({
      faultline: 'fuzz-summary',
      from: 0,
      seeds: findings.length === 0 ? 2000 : 7,
      failed: findings.length,
      findings: findings.map((f) => ({ ...f, message: `${f.invariant} failed` })),
      coverage: { sometimesNeverReached: ['a client gave up'] },
    }) as unknown as FuzzSummary;
  const outcome = (exitCode: number | null, s: FuzzSummary | null, timedOut = false) =>
    ({ exitCode, summary: s, timedOut, stderrTail: 'boom', elapsedMs: 5 }) satisfies FuzzOutcome;

  it('names the lowest failing seed and its invariant', () => {
    const found = summary([
      { seed: 6, invariant: 'election-safety' },
      { seed: 4, invariant: 'log-matching' },
    ]);
    const verdict = verdictOf(mutant, outcome(1, found), context);
    expect(verdict).toMatchObject({
      status: 'killed',
      failingSeed: 4,
      seedsToKill: 5,
      invariant: 'log-matching',
      location: mutateRange(mutant),
    });
  });

  it('tells survivors, load failures, timeouts and interruptions apart', () => {
    const passed = verdictOf(mutant, outcome(0, summary([])), context);
    expect(passed).toMatchObject({ status: 'survived', seedsRun: 2000 });
    expect(passed.sometimesNeverReached).toEqual(['a client gave up']);
    expect(verdictOf(mutant, outcome(3, null), context)).toMatchObject({
      status: 'killed',
      invariant: 'exit 3',
    });
    expect(verdictOf(mutant, outcome(1, null), context).status).toBe('killed');
    expect(verdictOf(mutant, outcome(null, null, true), context).status).toBe('timeout');
    for (const interrupted of [130, 2, null]) {
      expect(verdictOf(mutant, outcome(interrupted, null), context).status).toBe('error');
    }
    expect(verdictOf(mutant, outcome(0, null), context).status).toBe('error');
  });

  it('kills a passing campaign that lost a sometimes the baseline reaches, and only such', () => {
    const required = {
      ...context,
      requiredSometimes: ['a client gave up', 'a leader was deposed'],
    };
    expect(verdictOf(mutant, outcome(0, summary([])), required)).toMatchObject({
      status: 'killed',
      invariant: 'sometimes-never-reached',
      seedsToKill: 2000,
      failingSeed: null,
      message: 'no run of 2000 seeds reached "a client gave up", which the unmutated swarm reaches',
    });
    const rare = { ...context, requiredSometimes: ['a leader was deposed'] };
    expect(verdictOf(mutant, outcome(0, summary([])), rare).status).toBe('survived');
  });

  it('judges a follow-up campaign by its own scenario and seed count', () => {
    const followUp = { scenario: 'raft-colocated', seeds: 500 };
    const partial = { ...summary([]), seeds: 500 } as FuzzSummary;
    const required = { ...context, campaign: followUp, requiredSometimes: ['a client gave up'] };
    // 500 seeds is the whole follow-up campaign, though the swarm's is 2000.
    expect(verdictOf(mutant, outcome(0, partial), required)).toMatchObject({
      status: 'killed',
      scenario: 'raft-colocated',
      seedsToKill: 500,
    });
    const found = summary([{ seed: 3, invariant: 'liveness-after-settle' }]);
    expect(verdictOf(mutant, outcome(1, found), { ...context, campaign: followUp })).toMatchObject({
      status: 'killed',
      scenario: 'raft-colocated',
      invariant: 'liveness-after-settle',
    });
  });
});

describe('campaignsOf', () => {
  it("runs each system's swarm at the full count first, then its follow-ups at their shares", () => {
    for (const system of MUTATED_SYSTEMS) {
      const campaigns = campaignsOf(system.name, 200);
      expect(campaigns[0]).toEqual({ scenario: system.scenario, seeds: 200 });
      const followUps = system.followUps.length;
      expect(campaigns.slice(1, 1 + followUps).map((campaign) => campaign.scenario)).toEqual(
        system.followUps.map((followUp) => followUp.scenario),
      );
      // Then every variant campaign, at the cap the baseline narrows.
      expect(campaigns.slice(1 + followUps)).toEqual(
        system.variants.map((variant) => ({ ...variant, seeds: VARIANT_SEEDS_MAX })),
      );
      for (const [index, followUp] of system.followUps.entries()) {
        expect(campaigns[index + 1]?.seeds).toBe(Math.round((200 * followUp.seedsPercent) / 100));
      }
      expect(campaignsOf(system.name, 1).every((campaign) => campaign.seeds >= 1)).toBe(true);
    }
    // A campaign belongs to one system: the baseline keys its estimates by campaign name.
    const campaigns = MUTATED_SYSTEMS.flatMap((system) => campaignsOf(system.name, 10));
    expect(new Set(campaigns.map(campaignName)).size).toBe(campaigns.length);
    expect(campaignName({ scenario: 'kv', variant: 'no-dedup' })).toBe('kv --variant no-dedup');
  });

  it('chooses the swarm, its follow-ups, its variant campaigns or named ones, in order', () => {
    const all = campaignsOf('raft', 200);
    const names = (campaigns: readonly Campaign[]) => campaigns.map(campaignName);
    expect(chooseCampaigns(all, {})).toEqual(all);
    expect(chooseCampaigns(all, { followUpsOnly: true })).toEqual(all.slice(1));
    const variants = chooseCampaigns(all, { variantsOnly: true });
    expect(variants.length).toBeGreaterThan(0);
    expect(variants.every((campaign) => campaign.variant !== undefined)).toBe(true);
    // Named campaigns keep the system's order, whatever order they are named in.
    const picked = chooseCampaigns(all, {
      followUpsOnly: true,
      names: ['raft-3b-backup', 'raft-prevote-rejoin', 'raft'],
    });
    expect(names(picked)).toEqual(['raft-prevote-rejoin', 'raft-3b-backup']);
    expect(picked.map((campaign) => campaign.seeds)).toEqual([2, 2]);
    expect(
      names(chooseCampaigns(all, { names: ['raft', 'raft --variant vote-without-fsync'] })),
    ).toEqual(['raft', 'raft --variant vote-without-fsync']);
  });

  it("lets a mutant's variant campaign run 4× the baseline's seeds to fail, 50 more at least", () => {
    expect(variantSeedsFor(1)).toBe(51);
    expect(variantSeedsFor(20)).toBe(80);
    expect(variantSeedsFor(70)).toBe(280);
    expect(variantSeedsFor(300)).toBe(VARIANT_SEEDS_MAX);
  });
});

describe('requiredSometimes', () => {
  it('keeps what a campaign of the given size expects to reach at least the minimum times', () => {
    const baseline = {
      seeds: 200,
      coverage: { sometimes: { often: 150, torn: 2, some: 10, never: 0 } },
    } as unknown as FuzzSummary;
    expect(requiredSometimes(baseline, 200, 10)).toEqual(['often', 'some']);
    // 2 in 200 seeds is 20 expected in 2000.
    expect(requiredSometimes(baseline, 2000, 10)).toEqual(['often', 'some', 'torn']);
  });
});

describe('listMutants', () => {
  it('lists what Stryker places, and a range of one mutant selects it again', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'faultline-mutants-'));
    const source = [
      'export function quorum(votes: number, voters: number): boolean {',
      '  return votes * 2 > voters;',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'quorum.ts'), source);
    const all = await listMutants(dir, ['quorum.ts']);
    expect(all.map((m) => m.replacement)).toContain('votes * 2 >= voters');
    const { Instrumenter } = await import('@stryker-mutator/instrumenter');
    const quiet = () => undefined;
    const logger = { isDebugEnabled: () => false, debug: quiet, info: quiet, warn: quiet };
    for (const mutant of all) {
      const result = await new Instrumenter(logger as never).instrument(
        [
          {
            name: 'quorum.ts',
            content: source,
            mutate: [{ start: mutant.start, end: mutant.end }],
          },
        ],
        { plugins: null, excludedMutations: [], ignorers: [] },
      );
      const keys = result.mutants.map((m) =>
        mutantKey({
          file: m.fileName,
          start: m.location.start,
          end: m.location.end,
          mutator: m.mutatorName,
          replacement: m.replacement,
        }),
      );
      expect(keys).toContain(mutantKey(mutant));
    }
  });
});

describe('pairedSample', () => {
  it('finds the older sample again after an edit moved its lines, and drops what is gone', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const project = (raft: string, kv: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'faultline-paired-'));
      mkdirSync(join(dir, 'systems', 'raft'), { recursive: true });
      mkdirSync(join(dir, 'systems', 'kv'), { recursive: true });
      writeFileSync(join(dir, 'systems', 'raft', 'quorum.ts'), raft);
      writeFileSync(join(dir, 'systems', 'kv', 'keys.ts'), kv);
      return dir;
    };
    const quorum =
      'export function quorum(votes: number, voters: number): boolean {\n  return votes * 2 > voters;\n}\n';
    const keys =
      "export function key(i: number): string {\n  return i > 0 ? 's' + i : 'none';\n}\n";
    const older = project(quorum, keys);
    // Two lines added above quorum(); the kv file loses its 'none' branch.
    const newer = project(
      `// why\n// and why\n${quorum}`,
      "export function key(i: number): string {\n  return 's' + i;\n}\n",
    );
    const before = await sampleFor(older, 's', 1000);
    const paired = await pairedSample(newer, older, 's', 1000);
    const raftBefore = before.mutants.filter((mutant) => mutant.system === 'raft');
    const raftAfter = paired.mutants.filter((mutant) => mutant.system === 'raft');
    expect(raftAfter.map((mutant) => mutant.pairedWith)).toEqual(
      raftBefore.map((mutant) => mutant.id),
    );
    for (const [index, mutant] of raftAfter.entries()) {
      const was = raftBefore[index] as (typeof raftBefore)[number];
      expect([mutant.start.line, mutant.mutator, mutant.replacement]).toEqual([
        was.start.line + 2,
        was.mutator,
        was.replacement,
      ]);
      expect(mutant.id).not.toBe(was.id); // its key holds the line
    }
    // The 's' literal's mutant survives the edit; those of the removed branch do not.
    const kvGone = paired.unpaired.filter((mutant) => mutant.system === 'kv');
    expect(kvGone.length).toBeGreaterThan(0);
    expect(kvGone.every((mutant) => codeAt(older, mutant).length > 0)).toBe(true);
    expect(
      paired.mutants.some((mutant) => mutant.system === 'kv' && mutant.replacement === '""'),
    ).toBe(true);
  });
});
