// The sharded KV service's contract with its checkers: what controller servers and replica
// group servers show through inspect(), and the observations they report. Invariants read
// the service only through these accessors.
import type { ClusterView, NodeId } from '../../sim/types.ts';
import type { RaftHost } from '../raft/contract.ts';
import type { RaftNodeView } from '../raft/group.ts';
import type { ShardConfig } from './config.ts';

export interface CtrlerView {
  readonly latest: ShardConfig;
  /** Configurations made so far, the initial one included. */
  readonly count: number;
  query(num: number): ShardConfig;
}

export interface CtrlerServerInspect extends RaftNodeView, RaftHost {
  readonly ctrler: CtrlerView;
}

/** A running controller server's view, or undefined (down, refused, or not a controller). */
export function ctrlerState(view: ClusterView, node: NodeId): CtrlerServerInspect | undefined {
  const inspected = view.inspect(node) as Partial<CtrlerServerInspect> | undefined;
  return inspected?.ctrler === undefined ? undefined : (inspected as CtrlerServerInspect);
}

/** What a controller replica reports for each configuration it makes. */
export type CtrlConfigMade = {
  readonly type: 'ctrl-config-made';
  readonly num: number;
  readonly op: 'join' | 'leave' | 'move';
  readonly before: readonly number[];
  readonly after: readonly number[];
  /** The gids of the new configuration, sorted. */
  readonly gids: readonly number[];
};

/** What a replica group's state machine shows (read-only to invariants). */
export interface ShardGroupView {
  readonly gid: number;
  readonly config: ShardConfig;
  readonly previous: ShardConfig;
  readonly shards: readonly {
    readonly status: 'absent' | 'pulling' | 'confirming' | 'serving' | 'handing-off';
    readonly data: ReadonlyMap<string, string>;
    readonly sessions: ReadonlyMap<number, number>;
  }[];
  readonly stable: boolean;
  readonly dataBytes: number;
  serves(shard: number): boolean;
}

export interface ShardGroupInspect extends RaftNodeView, RaftHost {
  readonly shardGroup: ShardGroupView;
  readonly raftStateBytes: number;
  readonly snapshotBytes: number;
}

/** A running replica group server's view, or undefined (down, refused, or not one). */
export function shardGroupState(view: ClusterView, node: NodeId): ShardGroupInspect | undefined {
  const inspected = view.inspect(node) as Partial<ShardGroupInspect> | undefined;
  return inspected?.shardGroup === undefined ? undefined : (inspected as ShardGroupInspect);
}
