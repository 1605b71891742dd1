// A shard controller server: a node program holding one Raft group that replicates a
// CtrlerStateMachine. Join, Leave and Move are proposals through the group's own 'propose'
// path (duplicate-detected by the state machine); Query is a ReadIndex read answered once
// the state machine has applied through the read index, so a Query never returns a
// configuration older than one a Join had already made when the Query was sent.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { AppliedReads, serviceRaftGroup } from '../kv/index.ts';
import type { RaftGroup, RaftNodeOptions } from '../raft/group.ts';
import type { CtrlConfigMade, CtrlerServerInspect, CtrlerView } from './contract.ts';
import { CtrlerStateMachine, rebalanceFromScratch } from './ctrler-state-machine.ts';
import type { CtrlConfigReply, CtrlQuery } from './types.ts';
import { shardkvVariant } from './types.ts';

export class CtrlerServer implements NodeProgram {
  readonly state: CtrlerStateMachine;
  readonly raft: RaftGroup;
  private readonly queries: AppliedReads<number>;
  private view: CtrlerServerInspect | undefined;

  constructor(
    private readonly ctx: NodeContext,
    raftOptions: Partial<RaftNodeOptions> = {},
  ) {
    const variant = shardkvVariant(ctx.variant);
    this.state = new CtrlerStateMachine(
      variant === 'rebalance-from-scratch' ? rebalanceFromScratch : undefined,
    );
    this.queries = new AppliedReads(
      () => this.raft,
      (client, id, num) => this.answerQuery(client, id, num),
    );
    this.raft = serviceRaftGroup(ctx, this.state, raftOptions, this.queries);
    this.state.onConfig = (made, previous, op) => {
      const observation: CtrlConfigMade = {
        type: 'ctrl-config-made',
        num: made.num,
        op: op.op,
        before: previous.shards,
        after: made.shards,
        gids: made.groups.map(([gid]) => gid),
      };
      ctx.observe(observation);
    };
    this.state.onDuplicate = (command) =>
      ctx.observe({ type: 'ctrl-duplicate-suppressed', client: command.client, seq: command.seq });
  }

  onStart(): void {
    this.raft.start();
  }

  onTimer(tag: string): void {
    this.raft.onTimer(tag);
  }

  onSynced(syncId: number, ok: boolean): void {
    this.raft.onSynced(syncId, ok);
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (!this.raft.running) {
      return;
    }
    if (message.type === 'ctrl-query') {
      const query = message as unknown as CtrlQuery;
      this.queries.start(from, query.id, query.num);
      return;
    }
    this.raft.onMessage(from, message);
  }

  private answerQuery(client: NodeId, id: string, num: number): void {
    if (client < 0) {
      return;
    }
    const config = this.state.query(num);
    const reply: CtrlConfigReply = { type: 'ctrl-config', id, config };
    this.ctx.send(client, reply as unknown as SimMessage, 64 + 8 * config.shards.length);
  }

  inspect(): CtrlerServerInspect | undefined {
    const base = this.raft.inspect();
    if (base === undefined) {
      return undefined;
    }
    const state = this.state;
    const ctrler: CtrlerView = {
      get latest() {
        return state.latest;
      },
      get count() {
        return state.count;
      },
      query: (num) => state.query(num),
    };
    // Extended by prototype, as KvServer does: the group's view reads the live core.
    this.view ??= Object.create(base, {
      ctrler: { value: ctrler, enumerable: true },
    }) as CtrlerServerInspect;
    return this.view;
  }
}
