// Program factories for the sharded KV scenarios: controller servers, administrators,
// replica group servers and clients.
import { assert } from '../../sim/assert.ts';
import type { NodeId, ProgramFactory } from '../../sim/types.ts';
import type { RaftNodeOptions } from '../raft/group.ts';
import { type AdminOptions, CtrlerAdmin } from './admin.ts';
import { ShardClient } from './client.ts';
import { CtrlerServer } from './ctrler-server.ts';
import { GroupServer } from './group-server.ts';

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

/** Replica group `gid` is the topology group `g<gid>` (nodes g1n1…). */
export function groupName(gid: number): string {
  return `g${gid}`;
}

export function gidOfGroup(name: string): number {
  const gid = Number(name.slice(1));
  assert(
    name.startsWith('g') && Number.isSafeInteger(gid) && gid > 0,
    `${name} is no replica group`,
  );
  return gid;
}

export function groupServer(raft: Partial<RaftNodeOptions> = {}): ProgramFactory {
  return (context) =>
    new GroupServer(context, {
      raft,
      ctrlerGroup: CTRLER_GROUP,
      gidOf: (ctx) => gidOfGroup(ctx.group),
    });
}

export function shardClient(): ProgramFactory {
  return (context) => new ShardClient(context, CTRLER_GROUP);
}

/** The workload key of prober `index`'s script (JSON of ScriptedOp[]). */
export function probeScriptKey(index: number): string {
  return `probe.${index}`;
}

/** A client that runs only its probe script (no script: it does nothing). */
export function shardProber(): ProgramFactory {
  return (context) => new ShardClient(context, CTRLER_GROUP, probeScriptKey);
}

/** An administrator whose Joins name the servers of the replica groups of the topology. */
export function shardAdmin(): ProgramFactory {
  return ctrlerAdmin({ serversOf: (ctx, gid) => ctx.members(groupName(gid)) });
}
