// The Raft group of a service node on Raft (KvServer; in systems/shardkv the controller's
// servers and the replica groups' servers), built one way: the members of the node's own
// topology group, at the root of its disk, with the Raft bugs its variant names, and with
// the group's replies to the reads the service started (AppliedReads) held until the state
// machine has applied them; every other reply goes to its client as it is.
import type { NodeContext } from '../../sim/types.ts';
import {
  bugsForVariant,
  planRaftOptions,
  RaftGroup,
  type RaftNodeOptions,
  type StateMachine,
} from '../raft/group.ts';
import type { AppliedReads } from './applied-reads.ts';

export function serviceRaftGroup<T>(
  ctx: NodeContext,
  stateMachine: StateMachine,
  raftOptions: Partial<RaftNodeOptions>,
  reads: AppliedReads<T>,
): RaftGroup {
  const raft: RaftGroup = new RaftGroup(ctx, {
    id: ctx.group,
    peers: ctx.members(ctx.group),
    filePrefix: '',
    stateMachine,
    options: {
      ...raftOptions,
      ...planRaftOptions(ctx.workload),
      bugs: bugsForVariant(ctx.variant),
    },
    onReply: (client, reply) => {
      if (!reads.onReply(client, reply)) {
        raft.sendReply(client, reply);
      }
    },
    afterProcess: () => reads.serveCaughtUp(),
  });
  return raft;
}
