// The sharded KV service's invariants (issue 14), besides Raft's for every group and the
// controller's (invariants/shardctrler.ts):
//   1. the client history is linearizable (the KV checker, partitioned by key);
//   2. every acknowledged Append appears exactly once, in its client's order, in the final
//      value held by the group that owns the key's shard at the end;
//   3. under any one configuration at most one group serves a shard (god's-eye, over what
//      every replica applied and answered);
//   4. every replica applies configurations one at a time, in order, none skipped;
//   5. stored state is bounded once migrations finish: no replica keeps data for a shard it
//      does not own (handed-off shards were deleted);
//   6. liveness after the settle phase: every group reached the controller's newest
//      configuration and finished migrating, and client operations complete again.
import type { ClusterView, Invariant, NodeId, ObservationRecord, Verdict } from '../sim/types.ts';
import { keyToShard, NSHARDS } from '../systems/shardkv/config.ts';
import { type ShardGroupInspect, shardGroupState } from '../systems/shardkv/contract.ts';
import { appendsOf, checkKeyValue, type KvLinearizableOptions, kvLinearizable } from './kv.ts';

interface Served {
  gid: number;
  shard: number;
  num: number;
}

/** 3: one group per shard per configuration. */
export function shardkvOneGroupPerShard(): Invariant {
  const owner = new Map<number, { gid: number; node: NodeId; timeUs: number }>();
  return {
    name: 'shardkv-one-group-per-shard',
    onObservation(record, view) {
      if (record.observation.type !== 'shardkv-served') {
        return undefined;
      }
      const { gid, shard, num } = record.observation as unknown as Served;
      const key = num * NSHARDS + shard;
      const first = owner.get(key);
      if (first === undefined) {
        owner.set(key, { gid, node: record.node, timeUs: record.timeUs });
        return undefined;
      }
      return first.gid === gid
        ? undefined
        : `groups ${first.gid} (${view.name(first.node)} at ${ms(first.timeUs)}) and ${gid} (${view.name(record.node)}) both served shard ${shard} under configuration ${num}: two groups answered for one shard`;
    },
  };
}

/** 4: configurations applied one at a time, in order. */
export function shardkvConfigsInOrder(): Invariant {
  return {
    name: 'shardkv-configs-in-order',
    onObservation(record, view) {
      const observation = record.observation;
      if (observation.type !== 'shardkv-config-applied') {
        return undefined;
      }
      const from = observation['from'] as number;
      const to = observation['to'] as number;
      return to === from + 1
        ? undefined
        : `${view.name(record.node)} (group ${String(observation['gid'])}) went from configuration ${from} to ${to}: configurations must be applied one at a time, none skipped`;
    },
  };
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}

function groupReplicas(view: ClusterView): { node: NodeId; state: ShardGroupInspect }[] {
  const replicas: { node: NodeId; state: ShardGroupInspect }[] = [];
  for (const node of view.servers) {
    const state = shardGroupState(view, node);
    if (state !== undefined) {
      replicas.push({ node, state });
    }
  }
  return replicas;
}

/** The replica that holds shard `shard` for its owner at the end: the most applied of them. */
function finalHolder(
  replicas: readonly { node: NodeId; state: ShardGroupInspect }[],
  shard: number,
): { node: NodeId; state: ShardGroupInspect } | undefined {
  const newest = Math.max(0, ...replicas.map(({ state }) => state.shardGroup.config.num));
  let best: { node: NodeId; state: ShardGroupInspect } | undefined;
  for (const replica of replicas) {
    const group = replica.state.shardGroup;
    if (group.config.num !== newest || group.config.shards[shard] !== group.gid) {
      continue;
    }
    const status = group.shards[shard]?.status;
    if (status !== 'serving' && status !== 'confirming') {
      continue;
    }
    if (best === undefined || replica.state.appliedIndex > best.state.appliedIndex) {
      best = replica;
    }
  }
  return best;
}

/** 2: MIT's exact-values check, on the final owner of each key's shard. */
export function shardkvAppendsExactlyOnce(): Invariant {
  return {
    name: 'shardkv-appends-exactly-once',
    atEnd(view) {
      const appends = appendsOf(view.history);
      if (appends.size === 0) {
        return undefined;
      }
      const replicas = groupReplicas(view);
      const keys = [...new Set([...appends.values()].map((record) => record.key))].sort();
      for (const key of keys) {
        const shard = keyToShard(key);
        const holder = finalHolder(replicas, shard);
        if (holder === undefined) {
          return `no up replica serves shard ${shard} (key ${JSON.stringify(key)}) under the newest configuration at the end`;
        }
        const group = holder.state.shardGroup;
        const where = `${view.name(holder.node)} (group ${group.gid}, configuration ${group.config.num})`;
        const value = group.shards[shard]?.data.get(key) ?? '';
        const verdict = checkKeyValue(where, key, value, appends);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      return undefined;
    },
  };
}

/** 5: once migrations finish, nobody keeps data for a shard it does not own. */
export function shardkvStateBounded(): Invariant {
  return {
    name: 'shardkv-stored-state-bounded',
    atEnd(view) {
      for (const { node, state } of groupReplicas(view)) {
        const group = state.shardGroup;
        if (!group.stable) {
          continue; // judged by shardkv-migrations-finish
        }
        for (let shard = 0; shard < NSHARDS; shard++) {
          const held = group.shards[shard];
          if (held !== undefined && held.status === 'absent' && held.data.size > 0) {
            return `${view.name(node)} (group ${group.gid}, configuration ${group.config.num}) still holds ${held.data.size} keys of shard ${shard}, which it does not own, after migrations finished: a handed-off shard was never deleted`;
          }
        }
      }
      return undefined;
    },
  };
}

/**
 * 6: after the settle phase, every group finished every configuration the controller made by
 * `madeByUs` (one made in the last moments of a run may still be migrating).
 */
export function shardkvMigrationsFinish(madeByUs: number): Invariant {
  return {
    name: 'shardkv-migrations-finish',
    atEnd(view, observations): Verdict {
      let target = 0;
      for (const record of observations) {
        if (record.observation.type === 'ctrl-config-made' && record.timeUs <= madeByUs) {
          target = Math.max(target, record.observation['num'] as number);
        }
      }
      const byGroup = new Map<number, ShardGroupInspect[]>();
      for (const { state } of groupReplicas(view)) {
        const list = byGroup.get(state.shardGroup.gid) ?? [];
        list.push(state);
        byGroup.set(state.shardGroup.gid, list);
      }
      for (const [gid, states] of [...byGroup].sort(([a], [b]) => a - b)) {
        // Past the target, or at it with every shard in place (configurations go in order).
        const done = states.some(
          ({ shardGroup }) =>
            shardGroup.config.num > target ||
            (shardGroup.config.num === target && shardGroup.stable),
        );
        if (!done) {
          const best = Math.max(...states.map((state) => state.shardGroup.config.num));
          return `after the settle phase no replica of group ${gid} has finished configuration ${target}, made by ${ms(madeByUs)} (the furthest is at ${best}${states.some((state) => !state.shardGroup.stable) ? ', still migrating' : ''}): reconfiguration stopped making progress`;
        }
      }
      return undefined;
    },
  };
}

/** The service's invariants; configurations made by `settledByUs` must finish migrating. */
export function shardkvInvariants(
  settledByUs: number,
  options: KvLinearizableOptions = {},
): Invariant[] {
  return [
    kvLinearizable(options),
    shardkvAppendsExactlyOnce(),
    shardkvOneGroupPerShard(),
    shardkvConfigsInOrder(),
    shardkvStateBounded(),
    shardkvMigrationsFinish(settledByUs),
  ];
}

export const shardkvSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> = {
  'a shard moved while clients wrote to it': (record) =>
    record.observation.type === 'shardkv-shard-installed' &&
    (record.observation['keys'] as number) > 0,
  'a group served a received shard before its migration finished': (record) =>
    record.observation.type === 'shardkv-served' && record.observation['partial'] === true,
  'a handed-off shard was deleted': (record) => record.observation.type === 'shardkv-shard-deleted',
  'a client was told wrong-group and recovered': (record) =>
    record.observation.type === 'shardkv-recovered-from-wrong-group',
};

export interface ShardkvPersistedBounds {
  /** MIT: each server's persisted Raft state ≤ 8 × maxraftstate. */
  raftStateBytesMax?: number;
  /**
   * Challenge1Delete: the snapshots of every replica group server, summed — the persisted
   * state machines, which hold every shard a server keeps. (The log files are left out: a
   * log keeps compacted entries until its next rewrite, which waits for it to double.)
   */
  totalSnapshotBytesMax?: number;
}

/**
 * Persisted state bounds, at the end (as MIT's checklogs: an install entry carries a whole
 * shard, so a log may pass the bound for a moment until the next snapshot compacts it).
 */
export function shardkvPersistedBounded(bounds: ShardkvPersistedBounds): Invariant {
  return {
    name: 'shardkv-persisted-state-bounded',
    atEnd(view) {
      let total = 0;
      const held: string[] = [];
      for (const { node, state } of groupReplicas(view)) {
        const max = bounds.raftStateBytesMax;
        if (max !== undefined && state.raftStateBytes > max) {
          return `${view.name(node)} holds ${state.raftStateBytes} bytes of persisted Raft state at the end, more than the bound of ${max}: the log is not being compacted`;
        }
        total += state.snapshotBytes;
        held.push(`${view.name(node)} ${state.snapshotBytes}`);
      }
      const max = bounds.totalSnapshotBytesMax;
      return max !== undefined && total > max
        ? `the replica groups' servers hold ${total} bytes of snapshots together (${held.join(', ')}), more than the bound of ${max}: shards handed off were not deleted`
        : undefined;
    },
  };
}
