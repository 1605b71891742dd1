// The correct sharded KV service passes every MIT shardkv port; the ports' own checks can
// fail: the known bugs that break what a port is about are caught by it.
import { describe, expect, it } from 'vitest';

import './shardkv-mit.ts';
import { shardkvPersistedBounded } from '../invariants/shardkv.ts';
import { runSeed } from '../sim/run.ts';
import { allScenarios, findScenario } from '../sim/scenario.ts';
import { Simulation } from '../sim/simulation.ts';
import type { RunResult } from '../sim/types.ts';

function outcome(result: RunResult): string {
  return result.violation === undefined
    ? result.outcome
    : `${result.outcome}: ${result.violation.invariant}: ${result.violation.message}`;
}

const PORTS = allScenarios()
  .map((scenario) => scenario.name)
  .filter((name) => name.startsWith('shardkv-mit-'));

describe('the MIT shardkv ports', () => {
  it('are all there', () => {
    expect(PORTS).toHaveLength(13);
  });

  // One seed each in npm test (they take 0.5–4 s); `faultline fuzz <port>` runs more.
  it.each(PORTS)('%s passes', (name) => {
    const { result } = runSeed(name, 0);
    expect(outcome(result)).toBe('pass');
    expect(result.history.filter((op) => op.returnUs !== undefined).length).toBeGreaterThan(20);
  });

  it.each([
    ['shardkv-mit-challenge2-unaffected', 'serve-before-install', 'unaffected shards served'],
    ['shardkv-mit-challenge2-partial', 'serve-before-install', 'shards from group 3 served'],
  ])('%s catches %s with its mid-run check', (name, variant, check) => {
    const { result } = runSeed(name, 0, variant);
    expect(result.violation?.invariant).toBe(`check:${check}`);
  });

  it('shardkv-mit-challenge1-delete bounds the total state: no-gc exceeds it', () => {
    const scenario = findScenario('shardkv-mit-challenge1-delete');
    expect(scenario).toBeDefined();
    if (scenario === undefined) {
      return;
    }
    const { plan } = runSeed(scenario.name, 0, 'no-gc');
    const onlyTheBound = {
      ...scenario,
      invariants: () => [shardkvPersistedBounded({ totalSnapshotBytesMax: 117_000 })],
    };
    const result = new Simulation(onlyTheBound, plan).run();
    expect(result.violation?.message).toMatch(/bytes of snapshots together/);
  });
});
