// The messages of the sharded KV service: controller queries, client operations on replica
// groups, and shard migration between groups.
import { variantFor } from '../../sim/scenario.ts';
import type { NodeId } from '../../sim/types.ts';
import type { ShardConfig } from './config.ts';

/** Query(num) to a controller server; answered by ReadIndex from its applied state. */
export interface CtrlQuery {
  type: 'ctrl-query';
  id: string;
  num: number;
}

export interface CtrlConfigReply {
  type: 'ctrl-config';
  id: string;
  config: ShardConfig;
}

export type { NodeId };

/** Known bugs of the controller (the replica groups' come with them). */
export type CtrlerVariant = 'rebalance-from-scratch' | 'query-local';
export type ShardkvVariant = CtrlerVariant;

export const CTRLER_VARIANTS: Record<CtrlerVariant, string> = {
  'rebalance-from-scratch':
    'the controller deals the shards out round-robin on every Join and Leave: balanced, but shards move between groups that stay',
  'query-local':
    'every controller server answers Query from its own applied state, without ReadIndex: a follower or deposed leader returns an old configuration',
};

export const SHARDKV_VARIANTS: Record<ShardkvVariant, string> = { ...CTRLER_VARIANTS };

/** The shardkv bug a plan's variant names (`query-local` or `shardkv:query-local`), or none. */
export function shardkvVariant(variant: string | null): ShardkvVariant | null {
  const name = variantFor(variant, 'shardkv');
  return name !== null && name in SHARDKV_VARIANTS ? (name as ShardkvVariant) : null;
}
