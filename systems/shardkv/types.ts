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
export type CtrlerVariant = 'rebalance-from-scratch';
export type GroupVariant =
  | 'serve-before-install'
  | 'dedup-not-migrated'
  | 'no-gc'
  | 'serve-after-handoff'
  | 'skip-config'
  | 'config-outside-log';
export type ShardkvVariant = CtrlerVariant | GroupVariant;

export const CTRLER_VARIANTS: Record<CtrlerVariant, string> = {
  'rebalance-from-scratch':
    'the controller deals the shards out round-robin on every Join and Leave: balanced, but shards move between groups that stay',
};

export const GROUP_VARIANTS: Record<GroupVariant, string> = {
  'serve-before-install':
    'a replica group answers for a shard as soon as the configuration gives it, before the shard’s data has arrived',
  'dedup-not-migrated':
    'a shard moves without its duplicate table: a write retried across the move is applied twice',
  'no-gc':
    'a group never deletes the shards it handed off (it tells the new owner it did): stored state grows with every migration',
  'serve-after-handoff':
    'the previous owner keeps answering for a shard it handed off, until the new owner has it deleted',
  'skip-config':
    'a replica group jumps to the newest configuration instead of taking each one in turn, pulling shards from owners several configurations back',
  'config-outside-log':
    'a replica group leader applies a new configuration to its own state at once instead of through its Raft log: its followers, a new leader and its own restart never saw it',
};

export const SHARDKV_VARIANTS: Record<ShardkvVariant, string> = {
  ...CTRLER_VARIANTS,
  ...GROUP_VARIANTS,
};

/** The shardkv bug a plan's variant names (`no-gc` or `shardkv:no-gc`), or none. */
export function shardkvVariant(variant: string | null): ShardkvVariant | null {
  const name = variantFor(variant, 'shardkv');
  return name !== null && name in SHARDKV_VARIANTS ? (name as ShardkvVariant) : null;
}

/** A Get to a replica group: served by ReadIndex once applied, if the group serves its shard. */
export interface ShardGetRequest {
  type: 'shard-get';
  id: string;
  key: string;
}

export interface ShardGetOk {
  type: 'shard-get-ok';
  id: string;
  value: string;
}

/** The group does not serve the key's shard (now): refresh the configuration and retry. */
export interface WrongGroup {
  type: 'wrong-group';
  id: string;
  /** The configuration the group is at. */
  num: number;
}

/** Migration: the new owner asks the previous owner for a shard of configuration `num`. */
export interface ShardPull {
  type: 'shard-pull';
  num: number;
  shard: number;
}

export interface ShardData {
  type: 'shard-data';
  num: number;
  shard: number;
  data: [string, string][];
  sessions: [number, number][];
}

/** The new owner installed the shard: the previous owner may delete its copy. */
export interface ShardDelete {
  type: 'shard-delete';
  num: number;
  shard: number;
}

export interface ShardDeleted {
  type: 'shard-deleted';
  num: number;
  shard: number;
}
