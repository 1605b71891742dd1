// The Raft node program: a node that hosts one Raft group, the group of its topology group
// (its peers are that group's members). Everything Raft does is in the RaftGroup component
// (group.ts); a node that hosts several groups, or Raft beside other work, holds RaftGroups
// itself the same way.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { RaftGroup, type RaftNodeOptions, type RaftNodeView, type StateMachine } from './group.ts';

export class RaftNode implements NodeProgram {
  readonly raft: RaftGroup;

  constructor(
    ctx: NodeContext,
    stateMachine: StateMachine,
    options: Partial<RaftNodeOptions> = {},
  ) {
    this.raft = new RaftGroup(ctx, {
      id: ctx.group,
      peers: ctx.members(ctx.group),
      filePrefix: '',
      stateMachine,
      options,
    });
  }

  onStart(): void {
    this.raft.start();
  }

  onMessage(from: NodeId, message: SimMessage): void {
    // Every request is this group's: the node hosts no other.
    this.raft.onMessage(from, message);
  }

  onTimer(tag: string): void {
    this.raft.onTimer(tag);
  }

  onSynced(syncId: number, ok: boolean): void {
    this.raft.onSynced(syncId, ok);
  }

  inspect(): RaftNodeView | undefined {
    return this.raft.inspect();
  }
}
