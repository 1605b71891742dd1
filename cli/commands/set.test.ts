// `--set` pins a drawn shape on run, fuzz and check-determinism; a bad pin is one sentence and
// exit 2, before any seed runs.
import { describe, expect, it } from 'vitest';

import { runCli } from '../spawn-cli.ts';

describe('--set', () => {
  it('pins the shape a run reports, and fuzz workers run the pinned shape', async () => {
    const run = await runCli([
      'run',
      'raft',
      '--seed',
      '3',
      '--set',
      'servers=3',
      'clients=1',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { shape: Record<string, number> };
    expect(result.shape).toMatchObject({ servers: 3, clients: 1 });

    const fuzz = await runCli([
      'fuzz',
      'raft',
      '--seeds',
      '3',
      '--workers',
      '1',
      '--set',
      'durationUs=600000',
      '--json',
      '--out',
      'test-artifacts/set-fuzz',
    ]);
    expect(fuzz.code).toBe(0);
    const summary = JSON.parse(fuzz.stdout.trim().split('\n').pop() as string) as {
      pins: Record<string, number>;
      virtualTimeUs: number;
    };
    expect(summary.pins).toEqual({ durationUs: 600_000 });
    // Three seeds of 0.6 s faults + 5 s settle each.
    expect(summary.virtualTimeUs).toBe(3 * (600_000 + 5_000_000));
  });

  it('rejects what the scenario does not draw, and bad values, with one sentence (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['run', 'raft', '--seed', '1', '--set', 'nodes=3'],
        /nodes is not drawn by this scenario; it draws durationUs, servers/,
      ],
      [['run', 'raft', '--seed', '1', '--set', 'servers=three'], /needs an integer value/],
      [['fuzz', 'raft', '--seeds', '2', '--set', 'servers'], /--set takes name=value/],
      [['check-determinism', 'pingpong', '--seeds', '2', '--set', 'durationUs=5'], /fixed shape/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, index) => {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch((cases[index] as [string[], RegExp])[1]);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  });
});
