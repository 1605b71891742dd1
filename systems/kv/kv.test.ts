// The correct KV service passes its swarm scenario and every MIT kvraft port over a few
// seeds; the speed port gives MIT's per-Append latency figure in virtual time.
import { describe, expect, it } from 'vitest';

import '../../scenarios/kv.ts';
import '../../scenarios/kv-mit.ts';
import { kvCheckerStats } from '../../invariants/kv.ts';
import { runSeed } from '../../sim/run.ts';
import { allScenarios } from '../../sim/scenario.ts';
import type { RunResult } from '../../sim/types.ts';

function outcome(result: RunResult): string {
  return result.violation === undefined
    ? result.outcome
    : `${result.outcome}: ${result.violation.invariant}: ${result.violation.message}`;
}

/** Fails on a Raft adapter limitation, not a KV bug: see the test at the bottom. */
const KNOWN_RAFT_FINDING = 'kv-mit-snapshot-recover-many-clients';

const mitPorts = allScenarios()
  .map((scenario) => scenario.name)
  .filter((name) => name.startsWith('kv-mit-') && name !== KNOWN_RAFT_FINDING);

describe('the correct KV service', () => {
  it('passes the kv swarm scenario, and the checker decides every history', () => {
    const before = { ...kvCheckerStats };
    for (const seed of [0, 1, 2]) {
      const { result } = runSeed('kv', seed);
      expect(outcome(result), `kv seed ${seed}`).toBe('pass');
      expect(result.history.length).toBeGreaterThan(500);
    }
    expect(kvCheckerStats.linearizable - before.linearizable).toBe(3);
    expect(kvCheckerStats.unknown - before.unknown).toBe(0);
  }, 60_000);

  it.each(mitPorts)(
    'passes %s over two seeds',
    (name) => {
      for (const seed of [0, 1]) {
        const { result } = runSeed(name, seed);
        expect(outcome(result), `${name} seed ${seed}`).toBe('pass');
      }
    },
    60_000,
  );

  it('keeps a minority from serving while partitioned (kv-mit-one-partition)', () => {
    const { result } = runSeed('kv-mit-one-partition', 0);
    expect(outcome(result)).toBe('pass');
    const minority = result.history.filter((op) => op.client === 6 || op.client === 7);
    // Called at 700 ms, cut off until 2000 ms: they complete only after the heal.
    expect(minority.every((op) => (op.returnUs ?? 0) > 2_000_000)).toBe(true);
  });

  it('appends in well under MIT’s 33 ms each (kv-mit-speed, virtual time)', () => {
    for (const name of ['kv-mit-speed', 'kv-mit-speed-snapshots']) {
      const { result } = runSeed(name, 0);
      expect(outcome(result)).toBe('pass');
      const done = result.history.filter((op) => op.returnUs !== undefined);
      expect(done).toHaveLength(1000);
      const last = Math.max(...done.map((op) => op.returnUs as number));
      const first = Math.min(...done.map((op) => op.callUs));
      const perAppendMs = (last - first) / 1000 / 1000;
      expect(perAppendMs).toBeLessThan(33);
    }
  }, 30_000);

  // The node adapter rewrites its log only when no Ready is waiting; a leader under 20
  // clients always has one, so its log file outgrows MIT's 8 × maxraftstate. Reported to the
  // Raft owner; when it is fixed this test flips and the scenario joins the list above.
  it('kv-mit-snapshot-recover-many-clients still shows the Raft log-rewrite starvation', () => {
    const { result } = runSeed(KNOWN_RAFT_FINDING, 0);
    expect(result.violation?.invariant).toBe('kv-persisted-state-bounded');
  });
});
