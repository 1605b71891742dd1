// A replica group's state machine, without the simulator: configurations only one at a time
// and only from a stable state; a shard moving in is pulled, installed with its duplicate
// table, served, then confirmed; a shard moving out is frozen until deleted; a snapshot
// carries all of it.
import { describe, expect, it } from 'vitest';
import { INITIAL_CONFIG, keyToShard, NSHARDS, type ShardConfig } from './config.ts';
import { nextConfig } from './ctrler-state-machine.ts';
import { type GroupCommand, GroupStateMachine, NO_BUGS } from './group-state-machine.ts';

const one = nextConfig(INITIAL_CONFIG, { op: 'join', groups: [[1, [0]]] });
const two = nextConfig(one, { op: 'join', groups: [[2, [1]]] });
const movedToTwo = [...Array(NSHARDS).keys()].filter((shard) => two.shards[shard] === 2);
/** A key in a shard that moves from group 1 to group 2 in configuration 2. */
const movingKey = (() => {
  for (let i = 0; ; i++) {
    if (two.shards[keyToShard(`k${i}`)] === 2) {
      return `k${i}`;
    }
  }
})();

function write(key: string, value: string, client: number, seq: number): GroupCommand {
  return { type: 'op', op: 'append', key, value, client, seq };
}

function config(c: ShardConfig): GroupCommand {
  return { type: 'config', config: c };
}

describe('the replica group state machine', () => {
  it('takes configurations one at a time, in order, and only when no migration is under way', () => {
    const g1 = new GroupStateMachine(1);
    expect(g1.applyCommand(config(two))).toBe(false); // skips 1
    expect(g1.applyCommand(config(one))).toBe(true);
    expect(g1.shardsIn('serving')).toHaveLength(NSHARDS); // from group 0: nothing to pull
    expect(g1.applyCommand(config(one))).toBe(false); // again
    expect(g1.applyCommand(config(two))).toBe(true);
    expect(g1.shardsIn('handing-off')).toEqual(movedToTwo);
    const three = nextConfig(two, { op: 'leave', gids: [2] });
    expect(g1.applyCommand(config(three))).toBe(false); // still handing off
    for (const shard of movedToTwo) {
      expect(g1.applyCommand({ type: 'delete', num: 2, shard })).toBe(true);
    }
    expect(g1.stable).toBe(true);
    expect(g1.applyCommand(config(three))).toBe(true);
  });

  it('moves a shard with its data and duplicate table, and serves it once installed', () => {
    const g1 = new GroupStateMachine(1);
    const g2 = new GroupStateMachine(2);
    g1.applyCommand(config(one));
    g2.applyCommand(config(one));
    expect(g1.applyCommand(write(movingKey, 'a', 9, 1))).toEqual({ status: 'ok' });
    expect(g2.applyCommand(write(movingKey, 'a', 9, 1))).toEqual({ status: 'wrong-group' });
    g1.applyCommand(config(two));
    g2.applyCommand(config(two));
    const shard = keyToShard(movingKey);
    // Neither serves it now: g1 handed it off, g2 has not got it.
    expect(g1.applyCommand(write(movingKey, 'b', 9, 2))).toEqual({ status: 'wrong-group' });
    expect(g2.applyCommand(write(movingKey, 'b', 9, 2))).toEqual({ status: 'wrong-group' });
    expect(g2.handOff(2, shard)).toBe('gone');
    const copy = g1.handOff(2, shard);
    expect(typeof copy).toBe('object');
    if (typeof copy === 'string') {
      return;
    }
    const install: GroupCommand = {
      type: 'install',
      num: 2,
      shard,
      data: [...copy.data],
      sessions: [...copy.sessions],
    };
    expect(g2.applyCommand(install)).toBe(true);
    expect(g2.applyCommand(install)).toBe(false); // a duplicate install changes nothing
    expect(g2.serves(shard)).toBe(true);
    expect(g2.get(movingKey)).toBe('a');
    // The retried first append is recognised by the table that came along.
    expect(g2.applyCommand(write(movingKey, 'a', 9, 1))).toEqual({ status: 'duplicate' });
    expect(g2.applyCommand(write(movingKey, 'b', 9, 2))).toEqual({ status: 'ok' });
    expect(g1.deletedSince(2, shard)).toBe(false);
    g1.applyCommand({ type: 'delete', num: 2, shard });
    expect(g1.deletedSince(2, shard)).toBe(true);
    expect(g1.shard(shard).data.size).toBe(0);
    expect(g2.applyCommand({ type: 'confirmed', num: 2, shard })).toBe(true);
    expect(g2.shard(shard).status).toBe('serving');
  });

  it('the bugs change what they say (dedup-not-migrated, no-gc, serve-before-install)', () => {
    const shard = keyToShard(movingKey);
    const g2 = new GroupStateMachine(2, { ...NO_BUGS, dedupNotMigrated: true });
    g2.applyCommand(config(one));
    g2.applyCommand(config(two));
    g2.applyCommand({
      type: 'install',
      num: 2,
      shard,
      data: [[movingKey, 'a']],
      sessions: [[9, 1]],
    });
    expect(g2.applyCommand(write(movingKey, 'a', 9, 1))).toEqual({ status: 'ok' });
    const early = new GroupStateMachine(2, { ...NO_BUGS, serveBeforeInstall: true });
    early.applyCommand(config(one));
    early.applyCommand(config(two));
    expect(early.serves(shard)).toBe(true);
    const g1 = new GroupStateMachine(1, { ...NO_BUGS, noGc: true });
    g1.applyCommand(config(one));
    g1.applyCommand(write(movingKey, 'a', 9, 1));
    g1.applyCommand(config(two));
    g1.applyCommand({ type: 'delete', num: 2, shard });
    expect(g1.shard(shard).status).toBe('absent');
    expect(g1.shard(shard).data.size).toBe(1);
  });

  it('restores configuration, migration state, data and tables from a snapshot', () => {
    const g1 = new GroupStateMachine(1);
    g1.applyCommand(config(one));
    g1.applyCommand(write(movingKey, 'a', 9, 1));
    g1.applyCommand(config(two));
    const restored = new GroupStateMachine(1);
    restored.restore(g1.snapshot());
    expect(restored.config).toEqual(two);
    expect(restored.previous).toEqual(one);
    expect(restored.shardsIn('handing-off')).toEqual(movedToTwo);
    expect(restored.get(movingKey)).toBe('a');
    expect(restored.shard(keyToShard(movingKey)).sessions.get(9)).toBe(1);
  });
});
