// The KV service's contract with its checkers: what a KV server's inspect() shows. It is a
// node hosting one Raft group (raftGroup() reads that group's state) plus the replicated data.
import type { ClusterView, NodeId } from '../../sim/types.ts';
import type { RaftHost } from '../raft/contract.ts';
import type { RaftNodeView } from '../raft/group.ts';

export interface KvServerInspect extends RaftNodeView, RaftHost {
  readonly kv: { data: ReadonlyMap<string, string>; sessions: ReadonlyMap<number, number> };
  /** Bytes of persisted Raft state (the log file), as MIT's persister.RaftStateSize. */
  readonly raftStateBytes: number;
  readonly snapshotBytes: number;
}

/** A running KV server's view, or undefined when the node is down, refused, or not a KV server. */
export function kvServerState(view: ClusterView, node: NodeId): KvServerInspect | undefined {
  const inspected = view.inspect(node) as Partial<KvServerInspect> | undefined;
  return inspected?.kv === undefined ? undefined : (inspected as KvServerInspect);
}
