// Builds the program for each node of a Raft scenario: servers replicate a command log,
// clients propose commands.
import { type GroupSpec, serversAndClients } from '../../sim/scenario.ts';
import type { NodeContext, ProgramFactory } from '../../sim/types.ts';
import { RaftClient, type RaftClientOptions } from './client.ts';
import { bugsForVariant, planRaftOptions, type RaftNodeOptions } from './group.ts';
import { CommandLog } from './log-machine.ts';
import { MultiRaftNode } from './multi-node.ts';
import { RaftNode } from './node.ts';
import type { LeaseBug, RaftBug } from './types.ts';

// Records over the bug types: the compiler keeps every bug described. Lease bugs show only
// where reads are served under a lease (kv-lease, raft-lease-restart).
export const RAFT_VARIANTS: Record<Exclude<RaftBug, LeaseBug>, string> = {
  'commit-previous-term':
    'a leader commits an entry of an earlier term by counting replicas (Figure 8)',
  'vote-without-fsync': 'a node sends its vote before the vote is durable',
  'forget-vote-on-restart': 'a restarted node forgets whom it voted for in its current term',
  'ack-before-fsync': 'a follower acknowledges appended entries before they are durable',
  'accept-stale-term': 'a node accepts appends and grants votes from a lower term',
  'no-truncate-on-conflict': 'a follower keeps the old suffix after a conflicting entry',
  'snapshot-off-by-one': 'installing a snapshot skips the entry just after it',
  'torn-tail-refused':
    'recovery takes a torn unsynced tail for corruption and refuses to start after a plain crash',
  'recover-drops-last-entry':
    'recovery drops the newest log entry, taking it for a possibly torn write, though its batch checksummed whole',
  'leader-never-steps-down':
    'a leader counts its quorum every election timeout but never steps down when it is missing (check-quorum that does not act)',
};

export const LEASE_VARIANTS: Record<LeaseBug, string> = {
  'lease-renewed-on-send':
    'the leader renews its read lease whenever it sends heartbeats, not when a quorum acknowledges them',
  'lease-on-ticks':
    'the leader times its read lease by counting ticks, which stop while its process is paused',
  'lease-vote-after-restart':
    'a restarted server grants votes at once, though a leader may still count on its acknowledgement for a lease',
  'lease-ignores-drift':
    'the lease is not shortened for the clock drift it assumes, so at the drift bound it outlives the followers’ vote refusal',
};

/** A Raft server replicating a command log. */
export function raftServer(options: Partial<RaftNodeOptions> = {}): ProgramFactory {
  return (context) =>
    new RaftNode(context, new CommandLog(), {
      ...options,
      ...planServerOptions(context.workload),
      bugs: bugsForVariant(context.variant),
    });
}

/**
 * Server options a plan's workload may set (a scenario's shape may draw them; an edited plan
 * may change them): how often a server snapshots, `snapshotEveryEntries`, and `syncMarks`.
 * They win over the scenario's options.
 */
function planServerOptions(workload: NodeContext['workload']): Partial<RaftNodeOptions> {
  const every = workload['snapshotEveryEntries'];
  return {
    ...planRaftOptions(workload),
    ...(typeof every === 'number' ? { snapshotEveryEntries: every } : {}),
  };
}

/**
 * A multi-Raft server: it hosts every Raft group in `groups`, each a CommandLog, with the
 * members of its topology group as the peers of each.
 */
export function raftMultiServer(
  groups: readonly string[],
  options: Partial<RaftNodeOptions> = {},
): ProgramFactory {
  return (context) =>
    new MultiRaftNode(context, {
      groups,
      peersGroup: context.group,
      stateMachine: () => new CommandLog(),
      options: {
        ...options,
        ...planServerOptions(context.workload),
        bugs: bugsForVariant(context.variant),
      },
    });
}

export function raftClient(options: Partial<RaftClientOptions> = {}): ProgramFactory {
  return (context) => new RaftClient(context, options);
}

/** One Raft group of `servers` (n1…) and `clients` (c1…) proposing to it. */
export function raftGroups(
  servers: number,
  clients: number,
  serverOptions: Partial<RaftNodeOptions> = {},
  clientOptions: Partial<RaftClientOptions> = {},
): GroupSpec[] {
  return serversAndClients(servers, clients, raftServer(serverOptions), raftClient(clientOptions));
}
