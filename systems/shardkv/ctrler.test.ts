// The shard controller's rebalancing and state machine, without the simulator: every Join and
// Leave gives a balanced assignment that moves the fewest shards any balanced one could, the
// result is a function of the previous assignment and the group set alone, and retried
// commands apply once, across a snapshot too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INITIAL_CONFIG,
  keyToShard,
  minimalMoves,
  movedShards,
  NO_GROUP,
  NSHARDS,
  rebalance,
  type ShardConfig,
  unbalanced,
} from './config.ts';
import {
  type CtrlerCommand,
  CtrlerStateMachine,
  decodeCtrlerCommand,
  encodeCtrlerCommand,
  nextConfig,
} from './ctrler-state-machine.ts';

const gidArb = fc.integer({ min: 1, max: 20 });
const opArb = fc.oneof(
  fc.record({
    op: fc.constant('join' as const),
    gids: fc.uniqueArray(gidArb, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    op: fc.constant('leave' as const),
    gids: fc.uniqueArray(gidArb, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    op: fc.constant('move' as const),
    shard: fc.integer({ min: 0, max: NSHARDS - 1 }),
    gid: gidArb,
  }),
);
type ArbOp = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function toCommand(op: ArbOp, seq: number): CtrlerCommand {
  switch (op.op) {
    case 'join':
      return { op: 'join', groups: op.gids.map((gid) => [gid, [gid * 10]]), client: 1, seq };
    case 'leave':
      return { op: 'leave', gids: op.gids, client: 1, seq };
    case 'move':
      return { op: 'move', shard: op.shard, gid: op.gid, client: 1, seq };
  }
}

describe('rebalance', () => {
  it('is balanced and minimal for any previous assignment and group set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: NSHARDS, maxLength: NSHARDS }),
        fc.uniqueArray(gidArb, { maxLength: 14 }),
        (shards, unsorted) => {
          const gids = [...unsorted].sort((a, b) => a - b);
          const after = rebalance(shards, gids);
          expect(unbalanced(after, gids)).toBeUndefined();
          expect(movedShards(shards, after)).toBe(minimalMoves(shards, gids));
          // Deterministic in the group set, whatever order it came in.
          expect(rebalance(shards, unsorted)).toEqual(after);
          expect(rebalance(shards, [...gids].reverse())).toEqual(after);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps every shard a surviving group owns on a leave, and moves only to joiners on a join', () => {
    const three = rebalance(INITIAL_CONFIG.shards, [1, 2, 3]);
    const four = rebalance(three, [1, 2, 3, 4]);
    for (let shard = 0; shard < NSHARDS; shard++) {
      if (four[shard] !== 4) {
        expect(four[shard]).toBe(three[shard]);
      }
    }
    expect(four.filter((gid) => gid === 4)).toHaveLength(2);
    const left = rebalance(four, [2, 3, 4]);
    for (let shard = 0; shard < NSHARDS; shard++) {
      if (four[shard] !== 1) {
        expect(left[shard]).toBe(four[shard]);
      }
    }
    expect(rebalance(left, [])).toEqual(Array(NSHARDS).fill(NO_GROUP));
  });

  it('catches an unbalanced or non-minimal assignment (the checks can fail)', () => {
    expect(unbalanced([1, 1, 1, 1, 1, 1, 1, 2, 2, 2], [1, 2])).toMatch(/from 3 to 7/);
    expect(unbalanced([1, 1, 1, 1, 1, 2, 2, 2, 2, 3], [1, 2])).toMatch(/group 3/);
    // A join of 3 to {1: 5, 2: 5} must move 3 shards; swapping two more is not minimal.
    const before = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
    expect(minimalMoves(before, [1, 2, 3])).toBe(3);
    expect(movedShards(before, [2, 1, 1, 1, 3, 1, 2, 2, 3, 3])).toBe(5);
  });

  it('spreads the workload keys over every shard', () => {
    const keys = [...Array.from({ length: 40 }, (_, i) => `k${i}`), 's0', 's1', 's2'];
    const shards = new Set(keys.map(keyToShard));
    expect(shards.size).toBe(NSHARDS);
  });
});

describe('the controller state machine', () => {
  it('numbers configurations, keeps them immutable and answers historical queries', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const machine = new CtrlerStateMachine();
        const seen: ShardConfig[] = [machine.latest];
        for (const [index, op] of ops.entries()) {
          const result = machine.applyCommand(toCommand(op, index + 1));
          expect(result).toEqual({ duplicate: false, num: index + 1 });
          seen.push(JSON.parse(JSON.stringify(machine.latest)) as ShardConfig);
          if (op.op !== 'move') {
            const gids = machine.latest.groups.map(([gid]) => gid);
            expect(unbalanced(machine.latest.shards, gids)).toBeUndefined();
          }
        }
        for (const config of seen) {
          expect(machine.query(config.num)).toEqual(config);
        }
        expect(machine.query(-1)).toEqual(seen[seen.length - 1]);
        expect(machine.query(seen.length + 5)).toEqual(seen[seen.length - 1]);
      }),
      { numRuns: 200 },
    );
  });

  it('applies a retried command once, also after a snapshot and restore', () => {
    const machine = new CtrlerStateMachine();
    const join: CtrlerCommand = { op: 'join', groups: [[1, [3, 4, 5]]], client: 7, seq: 1 };
    expect(machine.applyCommand(join)).toEqual({ duplicate: false, num: 1 });
    expect(machine.applyCommand(join)).toEqual({ duplicate: true, num: 1 });
    const restored = new CtrlerStateMachine();
    restored.restore(machine.snapshot());
    expect(restored.applyCommand(join)).toEqual({ duplicate: true, num: 1 });
    expect(restored.latest).toEqual(machine.latest);
    expect(restored.applyCommand({ op: 'leave', gids: [1], client: 7, seq: 2 }).num).toBe(2);
    expect(restored.latest.shards).toEqual(Array(NSHARDS).fill(NO_GROUP));
  });

  it('a Move sets exactly one shard and a Join of a known group replaces its servers', () => {
    const joined = nextConfig(INITIAL_CONFIG, {
      op: 'join',
      groups: [
        [1, [1]],
        [2, [2]],
      ],
    });
    const moved = nextConfig(joined, { op: 'move', shard: 0, gid: 2 });
    expect(moved.shards[0]).toBe(2);
    expect(movedShards(joined.shards, moved.shards)).toBe(joined.shards[0] === 2 ? 0 : 1);
    const rejoined = nextConfig(moved, { op: 'join', groups: [[2, [9]]] });
    expect(rejoined.groups).toEqual([
      [1, [1]],
      [2, [9]],
    ]);
  });

  it('round-trips commands and rejects malformed ones', () => {
    const move: CtrlerCommand = { op: 'move', shard: 3, gid: 2, client: 1, seq: 4 };
    expect(decodeCtrlerCommand(encodeCtrlerCommand(move))).toEqual(move);
    const bad = new TextEncoder().encode(JSON.stringify({ ...move, shard: NSHARDS }));
    expect(() => decodeCtrlerCommand(bad)).toThrow(/shard/);
  });
});
