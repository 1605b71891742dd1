// The KV service's vocabulary: commands replicated through the Raft log, the messages between
// KV clients and servers, and the known-bug variants.
import { variantFor } from '../../sim/scenario.ts';
import type { NodeId } from '../../sim/types.ts';

/** A write replicated through the log. (client, seq) identifies it for duplicate detection. */
export interface KvCommand {
  op: 'put' | 'append';
  key: string;
  value: string;
  client: number;
  seq: number;
}

/** What applying a command returned: `duplicate` when the session table suppressed it. */
export interface KvApplyResult {
  duplicate: boolean;
}

/** A Get: served after ReadIndex confirms leadership and the state machine catches up. */
export interface KvGetRequest {
  type: 'kv-get';
  id: string;
  key: string;
}

export interface KvGetOk {
  type: 'kv-get-ok';
  id: string;
  value: string;
  /** The index the read was served at (the read index, or the local applied index). */
  index: number;
}

export type KvVariant =
  | 'stale-follower-read'
  | 'no-dedup'
  | 'dedup-not-in-snapshot'
  | 'apply-before-commit'
  | 'client-retries-same-server';

export const KV_VARIANTS: Record<KvVariant, string> = {
  'stale-follower-read':
    'every server answers Get from its local state, without ReadIndex: followers and deposed leaders serve stale values',
  'no-dedup': 'the state machine applies every command it is given: a retried Append lands twice',
  'dedup-not-in-snapshot':
    'the duplicate table is left out of the snapshot: a replica restored from one re-applies a retried Append',
  'apply-before-commit':
    'the leader applies a write to its state machine and acknowledges it as soon as it is appended to its own log',
  'client-retries-same-server':
    'after a timeout the client retries the server it last tried, switching only when a server refuses or names a leader: a crashed or cut-off leader holds it until it gives up',
};

/** The KV bug a plan's variant names (`no-dedup` or `kv:no-dedup`), or none. */
export function kvVariant(variant: string | null): KvVariant | null {
  const name = variantFor(variant, 'kv');
  return name !== null && name in KV_VARIANTS ? (name as KvVariant) : null;
}

export type { NodeId };
