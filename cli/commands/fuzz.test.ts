// The fuzz, merge and list commands end to end, through the real CLI in a child process:
// exit codes, JSON summaries, replay files that survive kill -9, the summary after Ctrl-C,
// hang and worker-crash findings, partition shape counts equal to what the plans hold, and
// shards that merge back into the whole range.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import '../../scenarios/index.ts';
import type { FuzzSummary } from '../../sim/fuzz/summary.ts';
import { drawableShapes, planFor } from '../../sim/plan.ts';
import { REPLAY_EXTENSION, readReplay } from '../../sim/replay-file.ts';
import { firstFailingSeed, scenarioNamed } from '../../sim/run.ts';
import { Topology } from '../../sim/topology.ts';
import { runCli, startCli, waitFor } from '../spawn-cli.ts';

const FIXTURES = { FAULTLINE_SCENARIO_MODULES: 'sim/fuzz/fixtures/misbehaving-scenario.ts' };

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'faultline-fuzz-'));
}

function lastJson(text: string): FuzzSummary {
  const line = text.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as FuzzSummary;
}

/**
 * Partitions per shape, and seeds with one, counted from the plans of seeds [0, seeds): every
 * partition of the fault phase is applied once when no run stops early (pingpong passes).
 */
function plannedShapes(seeds: number): {
  fired: Record<string, number>;
  seeds: Record<string, number>;
  seedsWithPartition: number;
} {
  const scenario = scenarioNamed('pingpong');
  const fired: Record<string, number> = {};
  const seeded: Record<string, number> = {};
  let seedsWithPartition = 0;
  for (const shape of drawableShapes(new Topology(planFor(scenario, 0).groups))) {
    fired[shape] = 0;
    seeded[shape] = 0;
  }
  for (let seed = 0; seed < seeds; seed++) {
    const plan = planFor(scenario, seed);
    const shapes = new Set<string>();
    for (const fault of plan.faults) {
      if (fault.kind === 'partition' && fault.atUs < plan.durationUs) {
        fired[fault.shape] = (fired[fault.shape] ?? 0) + 1;
        shapes.add(fault.shape);
      }
    }
    for (const shape of shapes) {
      seeded[shape] = (seeded[shape] ?? 0) + 1;
    }
    seedsWithPartition += shapes.size > 0 ? 1 : 0;
  }
  return { fired, seeds: seeded, seedsWithPartition };
}

describe('faultline fuzz', () => {
  it('exits 0 when every seed passes and prints a JSON summary with coverage', async () => {
    const out = scratch();
    const run = await runCli([
      'fuzz',
      'pingpong',
      '--seeds',
      '60',
      '--workers',
      '2',
      '--json',
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    const summary = lastJson(run.stdout);
    expect(summary).toMatchObject({ seeds: 60, passed: 60, failed: 0, replays: [] });
    expect(summary.seedsPerSec).toBeGreaterThan(0);
    expect(summary.eventsPerSec).toBeGreaterThan(0);
    expect(Object.keys(summary.coverage.faultsFired)).toContain('crash');
    expect(summary.coverage.sometimes).toHaveProperty(['a ping was retried']);
    const planned = plannedShapes(60);
    expect(summary.coverage.partitionShapes).toEqual(planned.fired);
    expect(summary.coverage.partitionShapeSeeds).toEqual(planned.seeds);
    expect(Object.values(planned.fired).reduce((sum, count) => sum + count, 0)).toBe(
      summary.coverage.faultsFired['partition'],
    );
    // Format 2: seeds per fault kind, every invariant, no violation, throughput up to the end.
    expect(summary.formatVersion).toBe(2);
    expect(summary.coverage.faultSeeds?.['partition']).toBe(planned.seedsWithPartition);
    for (const [kind, seeds] of Object.entries(summary.coverage.faultSeeds ?? {})) {
      expect(seeds).toBeLessThanOrEqual(Math.min(60, summary.coverage.faultsFired[kind] ?? 0));
    }
    expect(summary.invariants).toEqual(['acked-pings-durable', 'records-intact', 'clients-finish']);
    expect(summary.violations).toEqual({});
    expect(summary.throughput?.at(-1)?.seeds).toBe(60);
    expect(summary.runs?.[0]).toMatchObject({ seeds: 60, workers: 2, shard: null });
    // One server group and its clients: the group-aware shapes between groups cannot occur.
    expect(summary.coverage.partitionShapes).not.toHaveProperty(['split-group']);
    expect(summary.coverage.partitionShapes).not.toHaveProperty(['cut-groups']);
    expect(summary.determinism.mismatches).toBe(0);
    expect(readdirSync(out)).toEqual([]);
  });

  it('prints the partition shapes fired and flags a drawable shape that never fired', async () => {
    const run = await runCli([
      'fuzz',
      'pingpong',
      '--seeds',
      '4',
      '--workers',
      '1',
      '--out',
      scratch(),
    ]);
    expect(run.code).toBe(0);
    const planned = plannedShapes(4);
    const fired = Object.entries(planned.fired)
      .map(([shape, count]) => `${shape} ${count} (${planned.seeds[shape]})`)
      .join(', ');
    expect(run.stdout).toContain(`  partition shapes fired (seeds): ${fired}\n`);
    const never = Object.keys(planned.fired).filter((shape) => planned.fired[shape] === 0);
    expect(never.length).toBeGreaterThan(0);
    expect(run.stdout).toContain(
      `  ⚠ partition shapes drawable but never fired: ${never.join(', ')}\n`,
    );
  });

  it('exits 1 on findings, prints a replay command for each, and writes valid replay files', async () => {
    const out = scratch();
    const run = await runCli([
      'fuzz',
      'pingpong',
      '--variant',
      'ack-before-fsync',
      '--seeds',
      '40',
      '--workers',
      '2',
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    const commands = run.stdout
      .split('\n')
      .filter((line) => line.includes('npx faultline replay '));
    expect(commands.length).toBeGreaterThan(0);
    const first = firstFailingSeed('pingpong', 'ack-before-fsync', 40);
    expect(run.stdout).toContain(`seed ${first?.seed} violation acked-pings-durable`);
    const files = readdirSync(out);
    expect(files).toHaveLength(commands.length);
    for (const name of files) {
      const file = readReplay(join(out, name));
      expect(file.expected).toEqual({ outcome: 'fails', invariant: 'acked-pings-durable' });
    }
  });

  it('exits 2 with one sentence for bad usage', async () => {
    const cases = [
      ['fuzz', 'no-such-scenario'],
      ['fuzz', 'pingpong', '--shard', '3/2'],
      ['fuzz', 'pingpong', '--workers', '0'],
      ['fuzz', 'pingpong', '--variant', 'nope'],
      ['fuzz', 'pingpong', '--time', 'soon'],
    ];
    const runs = await Promise.all(cases.map((args) => runCli(args)));
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^faultline: /);
    }
  });

  it('on SIGINT stops handing out work, prints the summary and exits 130', async () => {
    const out = scratch();
    const run = startCli([
      'fuzz',
      'pingpong',
      '--seeds',
      '1000000',
      '--workers',
      '2',
      '--out',
      out,
      '--progress-every',
      '0.2s',
    ]);
    expect(await waitFor(() => run.stderr().includes('failed'), 20_000)).toBe(true);
    run.child.kill('SIGINT');
    const code = await run.done;
    expect(code).toBe(130);
    expect(run.stdout()).toMatch(
      /pingpong: [\d,]+ seeds, [\d,]+ passed, 0 failed .* stopped: interrupted/,
    );
  });

  it('leaves only complete replay files when killed with SIGKILL mid-run', async () => {
    const out = scratch();
    const run = startCli([
      'fuzz',
      'pingpong',
      '--variant',
      'ack-before-fsync',
      '--seeds',
      '1000000',
      '--workers',
      '2',
      '--out',
      out,
    ]);
    const replayCount = () =>
      readdirSync(out).filter((name) => name.endsWith(REPLAY_EXTENSION)).length;
    expect(await waitFor(() => replayCount() >= 8, 30_000)).toBe(true);
    run.child.kill('SIGKILL');
    expect(await run.done).toBe('SIGKILL');
    const names = readdirSync(out);
    const replays = names.filter((name) => name.endsWith(REPLAY_EXTENSION));
    expect(replays.length).toBeGreaterThanOrEqual(8);
    for (const name of replays) {
      expect(readReplay(join(out, name)).finding).toBe('violation');
    }
    // A temp file caught mid-write is hidden and never looks like a replay.
    for (const name of names.filter((name) => !name.endsWith(REPLAY_EXTENSION))) {
      expect(name).toMatch(/^\..*\.tmp$/);
    }
  });

  it('reports a seed stuck in an endless handler as a hang, and a dead worker as a crash', async () => {
    const out = scratch();
    const run = await runCli(
      [
        'fuzz',
        'test-misbehave',
        '--seeds',
        '30',
        '--workers',
        '2',
        '--hang-timeout',
        '1s',
        '--json',
        '--out',
        out,
      ],
      FIXTURES,
    );
    expect(run.code).toBe(1);
    const summary = lastJson(run.stdout);
    const findings = summary.findings.map((finding) => `${finding.kind}:${finding.seed}`);
    expect(findings).toEqual(['hang:5', 'crash:12', 'hang:25']);
    expect(summary.seeds).toBe(30);
    expect(summary.passed).toBe(27);
    expect(readReplay(join(out, 'test-misbehave-main-seed5-hang.msgpack')).expected).toEqual({
      outcome: 'fails',
      invariant: 'hang',
    });
  });

  it('re-runs sampled seeds and reports a different trace hash as nondeterminism', async () => {
    const out = scratch();
    const args = ['fuzz', 'test-leaky', '--seeds', '6', '--workers', '1', '--json', '--out', out];
    const run = await runCli([...args, '--determinism-sample', '1'], FIXTURES);
    expect(run.code).toBe(1);
    const summary = lastJson(run.stdout);
    expect(summary.determinism).toMatchObject({ sampled: 6, mismatches: 6 });
    expect(summary.findings.map((finding) => finding.kind)).toEqual(
      Array(6).fill('nondeterminism'),
    );
    const file = readReplay(join(out, 'test-leaky-main-seed0-nondeterminism.msgpack'));
    expect(file.expected).toEqual({ outcome: 'passes' });
    // With no seeds sampled the same campaign cannot see it, and says so by its count.
    const unsampled = await runCli([...args, '--determinism-sample', '0'], FIXTURES);
    expect(unsampled.code).toBe(0);
    expect(lastJson(unsampled.stdout).determinism).toMatchObject({ sampled: 0, mismatches: 0 });
  });

  it('splits a range into shards that merge back into the whole', async () => {
    const out = scratch();
    const shards = await Promise.all(
      [0, 1, 2].map((index) =>
        runCli([
          'fuzz',
          'pingpong',
          '--variant',
          'ack-before-fsync',
          '--seeds',
          '45',
          '--shard',
          `${index}/3`,
          '--workers',
          '1',
          '--json',
          '--out',
          out,
        ]),
      ),
    );
    const paths = shards.map((shard, index) => {
      const path = join(out, `shard-${index}.json`);
      writeFileSync(path, shard.stdout);
      return path;
    });
    const seeds = shards.map((shard) => lastJson(shard.stdout).seeds);
    expect(seeds).toEqual([15, 15, 15]);
    const failing = shards.flatMap((shard) =>
      lastJson(shard.stdout).findings.map((finding) => finding.seed),
    );
    for (const [index, shard] of shards.entries()) {
      for (const finding of lastJson(shard.stdout).findings) {
        expect(finding.seed % 3).toBe(index);
      }
    }
    const merged = await runCli(['merge', ...paths, '--json']);
    expect(merged.code).toBe(failing.length > 0 ? 1 : 0);
    const summary = lastJson(merged.stdout);
    expect(summary.seeds).toBe(45);
    expect(summary.failed).toBe(failing.length);
    expect(summary.shardsMissing).toEqual([]);
    // Runs stop at their violation, so here the shape counts are the shards' own, added up.
    const parts = shards.map((shard) => lastJson(shard.stdout).coverage);
    for (const shape of Object.keys(summary.coverage.partitionShapes ?? {})) {
      const sum = (
        pick: (coverage: FuzzSummary['coverage']) => Record<string, number> | undefined,
      ) => parts.reduce((total, coverage) => total + (pick(coverage)?.[shape] ?? 0), 0);
      expect(summary.coverage.partitionShapes?.[shape]).toBe(sum((c) => c.partitionShapes));
      expect(summary.coverage.partitionShapeSeeds?.[shape]).toBe(sum((c) => c.partitionShapeSeeds));
    }
    expect(
      Object.values(summary.coverage.partitionShapes ?? {}).reduce((a, b) => a + b, 0),
    ).toBeGreaterThan(0);
    const bad = await runCli(['merge', paths[0] as string, paths[0] as string]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/appears twice/);
  });
});

describe('--require-sometimes', () => {
  it('fails a clean campaign that never reached a sometimes assertion, judged over all shards at merge', async () => {
    // pingpong seed 5 has no fsync failure and seed 6 has one; neither recovers a torn tail.
    const out = scratch();
    const shard = (index: number, extra: string[] = []) =>
      runCli([
        'fuzz',
        'pingpong',
        '--from',
        '5',
        '--seeds',
        '2',
        '--shard',
        `${index}/2`,
        '--workers',
        '1',
        '--json',
        '--out',
        out,
        ...extra,
      ]);
    const [plain, strict, other] = await Promise.all([
      shard(0),
      shard(0, ['--require-sometimes']),
      shard(1),
    ]);
    expect(plain.code).toBe(0); // only a warning without the flag
    expect(lastJson(plain.stdout).coverage.sometimesNeverReached).toEqual([
      'a torn log tail was recovered',
      'an fsync failed',
    ]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(
      '✗ sometimes-never-reached: in 1 seed no run reached "a torn log tail was recovered", "an fsync failed"',
    );
    expect(lastJson(strict.stdout).failed).toBe(0); // not a finding: no seed failed
    const paths = [plain, other].map((run, index) => {
      const path = join(out, `shard-${index}.json`);
      writeFileSync(path, run.stdout);
      return path;
    });
    const merged = await runCli(['merge', ...paths, '--require-sometimes']);
    expect(merged.code).toBe(1);
    expect(merged.stdout).toContain(
      '✗ sometimes-never-reached: in 2 seeds no run reached "a torn log tail was recovered"\n',
    );
    expect((await runCli(['merge', ...paths])).code).toBe(0);
  });
});

describe('faultline list', () => {
  it('lists scenarios with parameters and variants, and keeps test fixtures out', async () => {
    const run = await runCli(['list']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('pingpong — ');
    expect(run.stdout).toContain('--variant ack-before-fsync');
    expect(run.stdout).toContain('topology servers 3 (n1–n3), clients 2 (c1–c2, client)');
    expect(run.stdout).not.toContain('test-misbehave');
  });
});
