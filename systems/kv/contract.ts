// The KV service's contract with its checkers: what a KV server's inspect() shows. It is a
// node hosting one Raft group (raftGroup() reads that group's state) plus the replicated data.
import type { ClusterView, NodeId, ObservationRecord } from '../../sim/types.ts';
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

/**
 * What a KV client observes when an operation completes: an operation the service acknowledged
 * through the log, or a Get's answer (its length only: the history holds the value).
 */
export type KvClientObservation =
  | {
      readonly type: 'kv-acked';
      readonly f: 'get' | 'put' | 'append';
      readonly key: string;
      /** Null for a Get served through the log. */
      readonly value: string | null;
      readonly index: number;
      readonly term: number;
    }
  | {
      readonly type: 'kv-read';
      readonly key: string;
      readonly valueChars: number;
      readonly index: number;
    };

/** The record's observation when it is a KV client's, else undefined. */
export function kvClientObservation(record: ObservationRecord): KvClientObservation | undefined {
  const type = record.observation.type;
  return type === 'kv-acked' || type === 'kv-read'
    ? (record.observation as unknown as KvClientObservation)
    : undefined;
}

/** Shared key `index`: every client may Put and Get it (own keys only take Appends). */
export function sharedKey(index: number): string {
  return `s${index}`;
}

export function isSharedKey(key: string): boolean {
  return /^s\d+$/.test(key);
}
