// Small things a new user tripped over (issue 18), through the real CLI in a child process:
// help examples that paste whole, `list` naming the faults a script acts, a stopped fuzz
// summary that counts what ran and says which finding came first, and `replay <directory>`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import type { FuzzSummary } from '../sim/fuzz/summary.ts';
import { runCli } from './spawn-cli.ts';

describe('CLI friction', () => {
  it('prints each help example on one line, command and comment, however long', async () => {
    const run = await runCli(['fuzz', '--help']);
    expect(run.code).toBe(0);
    const long = 'faultline fuzz raft --seeds 1000000 --shard auto --json > summary.json';
    const line = run.stdout.split('\n').find((text) => text.includes(long));
    expect(line?.trim()).toBe(`${long}  # one pod of a Kubernetes Indexed Job`);
  });

  it('lists the fault kinds a scripted scenario acts, not "none"', async () => {
    const run = await runCli(['list']);
    expect(run.code).toBe(0);
    const block = (name: string) =>
      run.stdout.split('\n\n').find((lines) => lines.startsWith(`${name} — `));
    expect(block('raft-figure8')).toMatch(
      /\n {2}faults: none · scripted: partition, crash, restart\n/,
    );
    expect(block('kv-mit-many-partitions')).toMatch(/\n {2}faults: none · scripted: partition\n/);
    expect(block('kv-mit-basic')).toMatch(/\n {2}faults: none\n/);
  });

  it('--stop-on-first with two workers counts the seeds that ran and names the first', async () => {
    const out = mkdtempSync(join(tmpdir(), 'faultline-friction-'));
    const args = ['fuzz', 'raft-figure8', '--variant', 'commit-previous-term', '--seeds', '10'];
    const run = await runCli([
      ...args,
      '--workers',
      '2',
      '--stop-on-first',
      '--json',
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as FuzzSummary;
    expect(summary.stopReason).toBe('first-finding');
    // Every seed of this scripted plan fails, so each one that ran is a finding with events.
    expect(summary.events).toBeGreaterThan(0);
    expect(summary.coverage.faultsFired['crash'] ?? 0).toBeGreaterThan(0);
    const seeds = summary.findings.map((finding) => finding.seed);
    expect(seeds).toContain(summary.firstFindingSeed);
    expect(run.stderr.split('\n').find((line) => line.startsWith('✗'))).toMatch(
      new RegExp(`^✗ seed ${summary.firstFindingSeed} violation`),
    );
  });

  it('replay of a directory is one sentence naming its replay files, exit 2', async () => {
    const out = mkdtempSync(join(tmpdir(), 'faultline-friction-'));
    const empty = await runCli(['replay', out]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      `faultline: ${out} is a directory, and it holds no .msgpack replay files; name a replay file\n`,
    );
    for (const name of ['b.msgpack', 'a.msgpack', 'notes.txt', 'c.msgpack', 'd.msgpack']) {
      writeFileSync(join(out, name), '');
    }
    const run = await runCli(['replay', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/EISDIR/);
    expect(run.stderr).toBe(
      `faultline: ${out} is a directory; name one of its replay files: ${join(out, 'a.msgpack')}, ${join(out, 'b.msgpack')}, ${join(out, 'c.msgpack')}, and 1 more\n`,
    );
  });
  it('--timeline of a whole swarm seed prints a window, not every line', async () => {
    const run = await runCli(['run', 'raft', '--seed', '3', '--timeline']);
    expect(run.code).toBe(0); // seed 3 passes: a window over the end of the run
    const lines = run.stdout.split('\n');
    // 4 header lines, the omitted-lines marker, 400 lines, the verdict: never all 48,000.
    const omitted = lines.find((line) => /… {2}[\d,]+ earlier lines omitted/.test(line));
    expect(omitted).toContain('(--all prints every line)');
    expect(lines.length).toBeLessThan(420);
    const bad = await runCli(['run', 'raft', '--seed', '3', '--timeline', '--group', 'brokers']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'faultline: --group brokers: this run has no such group (its groups: servers, clients)\n',
    );
  });
  it('runs the same when started as `npx tsx cli/main.ts`, not silently exiting 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'list'], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^raft — /m);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'run', 'nope'], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(bad.status).toBe(2);
  });
});
