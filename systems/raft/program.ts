// Builds the program for each node of a Raft scenario: servers replicate a command log,
// clients propose commands.
import type { NodeContext, NodeProgram } from '../../sim/types.ts';
import { RaftClient, type RaftClientOptions } from './client.ts';
import { CommandLog } from './log-machine.ts';
import { bugsForVariant, RaftNode, type RaftNodeOptions } from './node.ts';
import type { RaftBug } from './types.ts';

// A Record over RaftBug: the compiler keeps every bug described.
export const RAFT_VARIANTS: Record<RaftBug, string> = {
  'commit-previous-term':
    'a leader commits an entry of an earlier term by counting replicas (Figure 8)',
  'vote-without-fsync': 'a node sends its vote before the vote is durable',
  'forget-vote-on-restart': 'a restarted node forgets whom it voted for in its current term',
  'ack-before-fsync': 'a follower acknowledges appended entries before they are durable',
  'accept-stale-term': 'a node accepts appends and grants votes from a lower term',
  'no-truncate-on-conflict': 'a follower keeps the old suffix after a conflicting entry',
  'snapshot-off-by-one': 'installing a snapshot skips the entry just after it',
};

export function raftProgram(
  serverOptions: Partial<RaftNodeOptions> = {},
  clientOptions: Partial<RaftClientOptions> = {},
): (context: NodeContext) => NodeProgram {
  return (context) =>
    context.id < context.servers.length
      ? new RaftNode(context, new CommandLog(), {
          ...serverOptions,
          bugs: bugsForVariant(context.variant),
        })
      : new RaftClient(context, clientOptions);
}
