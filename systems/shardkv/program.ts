// Program factories for the sharded KV scenarios: controller servers and administrators.
import type { NodeId, ProgramFactory } from '../../sim/types.ts';
import type { RaftNodeOptions } from '../raft/group.ts';
import { type AdminOptions, CtrlerAdmin } from './admin.ts';
import { CtrlerServer } from './ctrler-server.ts';

/** The controller's group name in every shardkv scenario. */
export const CTRLER_GROUP = 'ctrl';

export function ctrlerServer(raft: Partial<RaftNodeOptions> = {}): ProgramFactory {
  return (context) => new CtrlerServer(context, raft);
}

/** MIT's shardctrler tests join made-up servers: no replica group runs behind a gid. */
export const NO_SERVERS = (): readonly NodeId[] => [];

export function ctrlerAdmin(options: Partial<AdminOptions> = {}): ProgramFactory {
  const full: AdminOptions = {
    ctrlerGroup: options.ctrlerGroup ?? CTRLER_GROUP,
    serversOf: options.serversOf ?? NO_SERVERS,
  };
  return (context) => new CtrlerAdmin(context, full);
}
