// The groups of a KV scenario: a group of KvServers and a group of KvClients.
import { type GroupSpec, serversAndClients } from '../../sim/scenario.ts';
import type { RaftNodeOptions } from '../raft/group.ts';
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

/** `servers` KV servers (n1…) and `clients` KV clients (c1…). */
export function kvGroups(
  servers: number,
  clients: number,
  options: KvProgramOptions = {},
): GroupSpec[] {
  const raft = raftOptionsFor(options);
  return serversAndClients(
    servers,
    clients,
    (context) => new KvServer(context, raft),
    (context) => new KvClient(context),
  );
}
