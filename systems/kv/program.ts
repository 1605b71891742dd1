// Builds the program for each node of a KV scenario: servers 0..n-1 run KvServer, the rest
// run KvClient.
import type { NodeContext, NodeProgram } from '../../sim/types.ts';
import type { RaftNodeOptions } from '../raft/node.ts';
import { KvClient } from './client.ts';
import { KvServer } from './server.ts';

export interface KvProgramOptions {
  raft?: Partial<RaftNodeOptions>;
  /**
   * MIT's maxraftstate, in bytes of persisted Raft state: the log file is rewritten past it,
   * and snapshots are taken often enough for that to shed most of it. 0: no snapshots.
   */
  maxRaftStateBytes?: number;
}

/** Raft options that keep the persisted log near `maxRaftStateBytes`. */
export function raftOptionsFor(options: KvProgramOptions): Partial<RaftNodeOptions> {
  const max = options.maxRaftStateBytes ?? 0;
  const sizing: Partial<RaftNodeOptions> =
    max > 0
      ? {
          // A logged KV command costs about 100 bytes on disk with its batch and hard state.
          snapshotEveryEntries: Math.max(2, Math.floor(max / 400)),
          logRewriteBytes: max,
        }
      : { snapshotEveryEntries: 0 };
  return { ...sizing, ...options.raft };
}

export function kvProgram(options: KvProgramOptions = {}): (context: NodeContext) => NodeProgram {
  const raft = raftOptionsFor(options);
  return (context) =>
    context.id < context.servers.length ? new KvServer(context, raft) : new KvClient(context);
}
