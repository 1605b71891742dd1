// The controller's and the replica groups' invariants on made-up histories, observations and
// final states, for the checks no known-bug variant reaches: a stale Query, replicas that
// disagree on a configuration, a group left behind after the settle phase.
import { describe, expect, it } from 'vitest';

import type { ClusterView, HistoryOperation, ObservationRecord } from '../sim/types.ts';
import { INITIAL_CONFIG, type ShardConfig } from '../systems/shardkv/config.ts';
import type { ShardGroupInspect } from '../systems/shardkv/contract.ts';
import { nextConfig } from '../systems/shardkv/ctrler-state-machine.ts';
import { GroupStateMachine } from '../systems/shardkv/group-state-machine.ts';
import { ctrlerFreshQueries, ctrlerReplicasAgree } from './shardctrler.ts';
import { shardkvMigrationsFinish, shardkvOneGroupPerShard } from './shardkv.ts';

function viewOf(history: HistoryOperation[], states: (ShardGroupInspect | undefined)[] = []) {
  const ids = states.map((_, node) => node);
  return {
    servers: ids,
    clients: [],
    groups: [],
    members: () => ids,
    groupOf: () => 'g1',
    timeUs: 0,
    phase: 'settle',
    isUp: (node: number) => states[node] !== undefined,
    inspect: (node: number) => states[node],
    name: (node: number) => `n${node + 1}`,
    history,
  } as unknown as ClusterView;
}

function record(node: number, timeUs: number, observation: Record<string, unknown>) {
  return { node, timeUs, eventIndex: 0, observation } as unknown as ObservationRecord;
}

const one = nextConfig(INITIAL_CONFIG, { op: 'join', groups: [[1, []]] });
const two = nextConfig(one, { op: 'join', groups: [[2, []]] });

function adminOp(id: number, op: unknown, callUs: number, returnUs: number, output: unknown) {
  return {
    id,
    client: 9,
    stream: 'ctrl',
    input: { atUs: callUs, op },
    callUs,
    returnUs,
    status: 'ok',
    output,
  } as HistoryOperation;
}

describe('shardctrler-fresh-queries', () => {
  it('fails a Query(-1) older than a Join acknowledged before it, passes a fresh one', () => {
    const join = adminOp(1, { f: 'join', gids: [2] }, 0, 10, { num: 2 });
    const stale = adminOp(2, { f: 'query', num: -1 }, 20, 30, one);
    const fresh = adminOp(3, { f: 'query', num: -1 }, 20, 30, two);
    const historical = adminOp(4, { f: 'query', num: 1 }, 20, 30, one);
    const check = ctrlerFreshQueries();
    expect(check.atEnd?.(viewOf([join, fresh, historical]), [])).toBeUndefined();
    expect(check.atEnd?.(viewOf([join, stale]), [])).toMatch(
      /returned configuration 1.*a stale Query/,
    );
  });
});

describe('shardctrler-replicas-agree', () => {
  it('fails two replicas that make different configurations under one number', () => {
    const made = (after: number[]) =>
      record(0, 0, { type: 'ctrl-config-made', num: 1, op: 'join', before: [], after, gids: [1] });
    const check = ctrlerReplicasAgree();
    const view = viewOf([]);
    expect(check.onObservation?.(made([1, 1]), view)).toBeUndefined();
    expect(check.onObservation?.(made([1, 1]), view)).toBeUndefined();
    expect(check.onObservation?.(made([1, 2]), view)).toMatch(/different configurations/);
  });
});

describe('shardkv-one-group-per-shard', () => {
  it('fails a second group serving a shard under the same configuration only', () => {
    const check = shardkvOneGroupPerShard();
    const view = viewOf([]);
    const served = (gid: number, num: number) =>
      record(gid, 0, { type: 'shardkv-served', gid, shard: 3, num, partial: false });
    expect(check.onObservation?.(served(1, 1), view)).toBeUndefined();
    expect(check.onObservation?.(served(2, 2), view)).toBeUndefined();
    expect(check.onObservation?.(served(1, 2), view)).toMatch(/both served shard 3/);
  });
});

describe('shardkv-migrations-finish', () => {
  function replica(gid: number, configs: ShardConfig[], pullingLeft = false): ShardGroupInspect {
    const machine = new GroupStateMachine(gid);
    for (const config of configs) {
      machine.applyCommand({ type: 'config', config });
    }
    if (!pullingLeft) {
      const num = machine.config.num;
      for (const shard of machine.shardsIn('pulling')) {
        machine.applyCommand({ type: 'install', num, shard, data: [], sessions: [] });
        machine.applyCommand({ type: 'confirmed', num, shard });
      }
      for (const shard of machine.shardsIn('handing-off')) {
        machine.applyCommand({ type: 'delete', num, shard });
      }
    }
    return { shardGroup: machine, appliedIndex: 0 } as unknown as ShardGroupInspect;
  }
  const madeTwo = record(0, 1_000, { type: 'ctrl-config-made', num: 2 });

  it('passes groups that finished every configuration made in time', () => {
    const check = shardkvMigrationsFinish(5_000);
    const view = viewOf([], [replica(1, [one, two]), replica(2, [one, two])]);
    expect(check.atEnd?.(view, [madeTwo])).toBeUndefined();
  });

  it('fails a group still pulling, or one that never took the configuration', () => {
    const check = shardkvMigrationsFinish(5_000);
    const pulling = viewOf([], [replica(1, [one, two]), replica(2, [one, two], true)]);
    expect(check.atEnd?.(pulling, [madeTwo])).toMatch(
      /group 2 has finished configuration 2.*still migrating/,
    );
    const behind = viewOf([], [replica(1, [one]), replica(2, [one, two])]);
    expect(check.atEnd?.(behind, [madeTwo])).toMatch(/no replica of group 1.*furthest is at 1/);
  });

  it('does not judge a configuration made after the cut-off', () => {
    const check = shardkvMigrationsFinish(500);
    const behind = viewOf([], [replica(1, [one]), replica(2, [one, two], true)]);
    const madeOne = record(0, 100, { type: 'ctrl-config-made', num: 1 });
    expect(check.atEnd?.(behind, [madeOne, madeTwo])).toBeUndefined();
  });
});
