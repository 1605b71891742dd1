// A Raft workload client: proposes unique commands one at a time for the whole run, follows
// leader hints, and gives up on a command after a timeout (its outcome then stays unknown in
// the history) before proposing the next one. A command's bytes are encodeCommand(id): the
// contract acked-never-lost checks applied entries against. With a `readPercent` in the
// plan's workload, that share of its operations are linearizable reads instead (ReadIndex,
// or a lease where the servers hold one), which fresh-reads judges where they are served;
// without one it draws nothing for it, so plans recorded before reads existed run as they did.

import { assert } from '../../sim/assert.ts';
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import { encodeCommand } from './contract.ts';
import type { ClientReply } from './group.ts';

export interface RaftClientOptions {
  requestTimeoutUs: number;
  thinkUs: number;
  /**
   * The Raft group it proposes to: a topology group whose members host it. Its history is
   * tagged with the group's stream and its observations with the group.
   */
  group: string;
  /**
   * The Raft group it works when its servers host several (a multi-Raft node): its requests
   * name it, and its history and observations carry it instead of `group`. Unset: the
   * servers host one group, the topology group's, and requests name none.
   */
  raftGroup?: string;
}

const DEFAULTS: RaftClientOptions = {
  requestTimeoutUs: 300_000,
  thinkUs: 5_000,
  group: 'servers',
};

export class RaftClient implements NodeProgram {
  private sequence = 0;
  private operationId = -1;
  /** The operation under way (its id is commandId): a proposal or a read. */
  private operationKind: 'propose' | 'read' = 'propose';
  /** Percent of operations that are reads (0: proposals only). */
  private readonly readPercent: number;
  private commandId = '';
  /** encodeCommand(commandId), encoded once per command: resends and retries reuse it. */
  private commandData: Uint8Array = new Uint8Array(0);
  private target: NodeId;
  private timer = -1;
  private resendPending = false;
  private readonly options: RaftClientOptions;
  private readonly servers: readonly NodeId[];
  /** The Raft group its history and observations name. */
  private readonly stream: string;
  /** Added to every request: the group it is for, on a multi-Raft node. */
  private readonly requestTag: { readonly group?: string };

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<RaftClientOptions> = {},
  ) {
    // A plan's `thinkUs` (a swarm scenario draws it per seed) wins over the option.
    const thinkUs = ctx.workload['thinkUs'];
    this.options = {
      ...DEFAULTS,
      ...options,
      ...(typeof thinkUs === 'number' ? { thinkUs } : {}),
    };
    const readPercent = ctx.workload['readPercent'];
    this.readPercent = typeof readPercent === 'number' ? readPercent : 0;
    assert(this.readPercent >= 0 && this.readPercent <= 100, 'readPercent is a percentage');
    this.servers = ctx.members(this.options.group);
    const raftGroup = this.options.raftGroup;
    this.stream = raftGroup ?? this.options.group;
    this.requestTag = raftGroup === undefined ? {} : { group: raftGroup };
    this.target = this.servers[ctx.id % this.servers.length] as NodeId;
  }

  onStart(): void {
    this.ctx.setTimer(this.options.thinkUs, 'next');
  }

  /** Starts the next operation: a read with probability readPercent, else a proposal. */
  private next(): void {
    const read = this.readPercent > 0 && this.ctx.random.chance(this.readPercent / 100);
    this.sequence++;
    if (read) {
      this.operationKind = 'read';
      this.commandId = `${this.ctx.name}-r${this.sequence}`;
    } else {
      this.operationKind = 'propose';
      this.commandId = `${this.ctx.name}-${this.sequence}`;
      this.commandData = encodeCommand(this.commandId);
    }
    this.operationId = this.ctx.history.invoke(
      { f: this.operationKind, id: this.commandId },
      { stream: this.stream },
    );
    this.sendCurrent();
    this.timer = this.ctx.setTimer(this.options.requestTimeoutUs, 'timeout');
  }

  private sendCurrent(): void {
    if (this.operationKind === 'read') {
      this.ctx.send(
        this.target,
        { type: 'read', id: this.commandId, ...this.requestTag },
        32 + this.commandId.length,
      );
      return;
    }
    this.ctx.send(
      this.target,
      { type: 'propose', id: this.commandId, data: this.commandData, ...this.requestTag },
      32 + this.commandId.length,
    );
  }

  onMessage(from: NodeId, message: Message): void {
    const reply = message as unknown as ClientReply;
    if (reply.id !== this.commandId || this.operationId < 0) {
      return; // late or duplicated
    }
    switch (reply.type) {
      case 'read-ok':
        if (this.operationKind !== 'read') {
          return;
        }
        this.completed(from, 'read-answered', { index: reply.index });
        return;
      case 'propose-ok':
        if (this.operationKind !== 'propose') {
          return;
        }
        this.completed(from, 'proposal-acked', { index: reply.index, term: reply.term });
        return;
      case 'not-leader':
        // Retrying the same command (or read) elsewhere is safe: it has not entered any log. One
        // resend at a time: answering every (duplicated) refusal multiplied the requests.
        if (this.resendPending || from !== this.target) {
          return;
        }
        this.target = reply.leaderHint ?? this.ctx.random.pick(this.servers);
        this.resendPending = true;
        this.ctx.setTimer(this.options.thinkUs, 'resend');
        return;
      default:
        return; // request-failed: the timeout moves on
    }
  }

  /**
   * The operation under way succeeded (answered by `from`): into the history and observed
   * with `output`, then the next one after the think time, to the server that answered.
   */
  private completed(
    from: NodeId,
    type: 'proposal-acked' | 'read-answered',
    output: { index: number; term?: number },
  ): void {
    this.ctx.cancelTimer(this.timer);
    this.ctx.history.complete(this.operationId, 'ok', output);
    this.ctx.observe({ type, group: this.stream, id: this.commandId, ...output });
    this.operationId = -1;
    this.target = from;
    this.ctx.setTimer(this.options.thinkUs, 'next');
  }

  onTimer(tag: string): void {
    if (tag === 'next' && this.operationId < 0) {
      this.next();
    } else if (tag === 'resend') {
      this.resendPending = false;
      if (this.operationId >= 0) {
        this.sendCurrent();
      }
    } else if (tag === 'timeout' && this.operationId >= 0) {
      // The command may or may not have committed: leave it open, try another server.
      this.operationId = -1;
      this.target = this.ctx.random.pick(this.servers);
      this.ctx.setTimer(this.options.thinkUs, 'next');
    }
  }

  inspect(): { role: 'client'; operations: number } {
    return { role: 'client', operations: this.sequence };
  }
}
