// replay, shrink and check-determinism through the real CLI: exit codes, the timeline, the
// divergence report for a tampered file, and clear errors for files that are not replays.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import '../../scenarios/index.ts';
import { encodeReplay, readReplay, replayFromRun, writeReplay } from '../../sim/replay-file.ts';
import { firstFailingSeed, runSeed, scenarioNamed } from '../../sim/run.ts';
import { runCli, startCli, waitFor } from '../spawn-cli.ts';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'faultline-replay-cli-'));
}

function recorded(seed: number, variant: string | null): string {
  const { plan, result } = runSeed('pingpong', seed, variant);
  const finding = result.outcome === 'pass' ? 'pass' : 'violation';
  const file = replayFromRun({ scenario: scenarioNamed('pingpong'), plan, result, finding });
  const path = join(scratch(), `seed${seed}.msgpack`);
  writeReplay(path, file);
  return path;
}

// Some seed of pingpong's ack-before-fsync variant that fails (about one in four does).
function failingSeed(): { seed: number; crashed: string } {
  const found = firstFailingSeed('pingpong', 'ack-before-fsync', 50);
  expect(found?.violation.invariant).toBe('acked-pings-durable');
  // The server that lost the acknowledged ping is the one that crashed and restarted.
  return { seed: found?.seed ?? 0, crashed: `n${(found?.violation.node ?? 0) + 1}` };
}

// The kept kafka-min-isr-1 regression replay, whichever seed it was found at.
function keptMinIsr1Replay(): string {
  const directory = join(import.meta.dirname, '../../replays');
  const name = readdirSync(directory).find((file) =>
    /^kafka-min-isr-1-seed\d+\.shrunk\.msgpack$/.test(file),
  );
  expect(name).toBeDefined();
  return join(directory, name ?? '');
}

describe('faultline replay', () => {
  it("writes a Kafka run's history as Jepsen's history.edn", async () => {
    const edn = join(scratch(), 'history.edn');
    const run = await runCli(['replay', keptMinIsr1Replay(), '--json', '--history-edn', edn]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/wrote .*history\.edn \([\d,]+ history events\)/);
    const lines = readFileSync(edn, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(
      /^\{:type :invoke, :f :assign, :value \["k0" "k1" "k2"\], :process \d+, :time 0, :index 0\}$/,
    );
    expect(
      lines.some((line) =>
        /:type :ok, :f :send, :value \[\[:send "k\d" \[\d+ \d+\]\]\]/.test(line),
      ),
    ).toBe(true);
    expect(
      lines.some((line) =>
        /:type :ok, :f :poll, :value \[\[:poll \{"k\d" \[\[\d+ \d+\]/.test(line),
      ),
    ).toBe(true);
  });

  it('exits 1 when the violation reproduces, with a timeline and a verified hash', async () => {
    const { seed, crashed } = failingSeed();
    const run = await runCli(['replay', recorded(seed, 'ack-before-fsync')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/timeline\n/);
    expect(run.stdout).toMatch(new RegExp(`${crashed}\\s+crash`));
    expect(run.stdout).toMatch(/c\d\s+invoke/);
    expect(run.stdout).toContain('matches the recorded run');
    expect(run.stdout).toContain('reproduced: acked-pings-durable fails again');
  });

  it('exits 0 when the run passes, and prints JSON on request', async () => {
    const run = await runCli(['replay', recorded(1, null), '--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as { verdict: string; hashMatches: boolean };
    expect(json).toMatchObject({ verdict: 'passes', hashMatches: true });
  });

  it('says between which checkpoints a tampered run diverged', async () => {
    const path = recorded(1, null);
    const file = readReplay(path);
    const [first, second] = file.checkpoints as [[number, string], [number, string]];
    file.checkpoints[1] = [second[0], 'ffffffffffffffff'];
    writeFileSync(path, encodeReplay(file));
    const run = await runCli(['replay', path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`diverged between event ${first[0]} and event ${second[0]}`);
  });

  it('stops at --until and says so', async () => {
    const { seed } = failingSeed();
    const run = await runCli(['replay', recorded(seed, 'ack-before-fsync'), '--until', '50']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('stopped before the recorded violation');
  });

  it('exits 2 with one sentence for garbage, foreign and missing files', async () => {
    const directory = scratch();
    const png = join(directory, 'picture.png');
    writeFileSync(png, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const text = join(directory, 'notes.msgpack');
    writeFileSync(text, 'hello, this is not msgpack at all');
    const runs = await Promise.all(
      [png, text, join(directory, 'missing.msgpack')].map((path) => runCli(['replay', path])),
    );
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(runs[0]?.stderr).toMatch(/picture\.png is not a faultline replay file/);
  });

  it('exits 2 with one sentence for a plan whose topology its scenario lacks', async () => {
    const path = recorded(1, null);
    const file = readReplay(path);
    file.plan.groups[0] = {
      ...(file.plan.groups[0] as (typeof file.plan.groups)[0]),
      name: 'brokers',
    };
    writeFileSync(path, encodeReplay(file));
    const run = await runCli(['replay', path]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      'cannot be replayed here: the plan has a group brokers, which scenario pingpong does not declare (it has servers, clients)',
    );
  });
});

describe('faultline shrink', () => {
  it('shrinks a fuzz finding, prints sizes, and writes a replay that still fails', async () => {
    const out = join(scratch(), 'small.msgpack');
    const { seed } = failingSeed();
    const run = await runCli([
      'shrink',
      recorded(seed, 'ack-before-fsync'),
      '-o',
      out,
      '--time',
      '20s',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/fault events\s+\d+\s+\d+/);
    const before = readReplay(recorded(seed, 'ack-before-fsync'));
    const after = readReplay(out);
    expect(after.plan.faults.length).toBeLessThan(before.plan.faults.length);
    expect(after.expected).toEqual({ outcome: 'fails', invariant: 'acked-pings-durable' });
    const replay = await runCli(['replay', out]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('matches the recorded run');
  });

  it('keeps the smallest failing plan so far on disk when interrupted', async () => {
    // A kv finding: each candidate run takes a fraction of a second, so the shrink is slow.
    const { plan, result } = runSeed('kv', 0, 'no-dedup');
    expect(result.violation).toBeDefined();
    const input = join(scratch(), 'kv.msgpack');
    writeReplay(
      input,
      replayFromRun({ scenario: scenarioNamed('kv'), plan, result, finding: 'violation' }),
    );
    const out = join(scratch(), 'kv-small.msgpack');
    const run = startCli(['shrink', input, '-o', out, '--time', '5m']);
    expect(await waitFor(() => run.stderr().includes('now '), 60_000)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.done).toBe('SIGINT');
    const kept = readReplay(out);
    expect(kept.plan.faults.length).toBeLessThan(plan.faults.length);
    expect(kept.expected).toEqual({ outcome: 'fails', invariant: result.violation?.invariant });
    const replay = await runCli(['replay', out]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('matches the recorded run');
  });

  it('refuses a passing file with exit 2', async () => {
    const run = await runCli(['shrink', recorded(1, null)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nothing to shrink/);
  });
});

describe('faultline check-determinism', () => {
  it('exits 0 when every seed gives the same trace hash twice', async () => {
    const run = await runCli(['check-determinism', 'pingpong', '--seeds', '8']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('8 seeds run twice, all trace hashes equal');
  });

  it('exits 1 and names each seed whose two runs differ, and where they part', async () => {
    const run = await runCli(['check-determinism', 'test-leaky', '--seeds', '3'], {
      FAULTLINE_SCENARIO_MODULES: 'sim/fuzz/fixtures/misbehaving-scenario.ts',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ seed 0: trace hash \S+ then \S+; /);
    expect(run.stdout).toContain('test-leaky: 3 seeds run twice, 3 nondeterministic');
  });

  it('shows progress, and on Ctrl-C prints what it checked and exits 130', async () => {
    const run = startCli(['check-determinism', 'raft', '--seeds', '1000']);
    expect(
      await waitFor(() => /seeds 1\/1,000 · 0 nondeterministic/.test(run.stderr()), 60_000),
    ).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    expect(run.stdout()).toMatch(
      /raft: [\d,]+ seeds run twice, all trace hashes equal — stopped: interrupted after [\d,]+ of 1,000/,
    );
  });
});
