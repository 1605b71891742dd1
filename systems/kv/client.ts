// A KV client (MIT's Clerk): one operation at a time, for the whole run (the OperationLoop
// draws, records, times out and gives up on them). It sends to the server it believes leads,
// follows leader hints, and on a timeout or a refusal retries elsewhere with the same
// sequence number, so the servers' session table can recognise the retry.
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import type { ClientReply } from '../raft/group.ts';
import { type KvClientInspect, type KvOperation, OperationLoop } from './operation-loop.ts';
import { encodeCommand } from './state-machine.ts';
import { type KvGetOk, kvVariant } from './types.ts';
import { cycleOf, kvWorkload, scriptFor } from './workload.ts';

/** A short pause before retrying after a refusal, so a stale hint cannot spin. */
const REFUSED_RETRY_US = 2_000;

export class KvClient implements NodeProgram {
  private readonly operations: OperationLoop;
  private target: NodeId;
  /** The client-retries-same-server bug: a silent server is tried again and again. */
  private readonly sticky: boolean;

  constructor(private readonly ctx: NodeContext) {
    this.operations = new OperationLoop(
      ctx,
      {
        workload: kvWorkload(ctx.workload),
        script: scriptFor(ctx.workload, ctx.members(ctx.group).indexOf(ctx.id)),
        cycle: cycleOf(ctx.workload),
      },
      {
        send: (operation) => this.send(operation),
        onSilence: () => {
          this.target = this.afterSilence();
        },
        onGiveUp: () => {
          this.target = this.afterSilence();
        },
      },
    );
    this.target = ctx.servers[ctx.id % ctx.servers.length] as NodeId;
    this.sticky = kvVariant(ctx.variant) === 'client-retries-same-server';
  }

  onStart(): void {
    this.operations.start();
  }

  private send(operation: KvOperation): boolean {
    const { op, id } = operation;
    if (op.f === 'get') {
      this.ctx.send(this.target, { type: 'kv-get', id, key: op.key }, 32 + op.key.length);
    } else {
      const data = encodeCommand({
        op: op.f,
        key: op.key,
        value: op.value,
        client: this.ctx.id,
        seq: operation.seq,
      });
      this.ctx.send(this.target, { type: 'propose', id, data }, 32 + data.length);
    }
    return true;
  }

  onMessage(from: NodeId, message: Message): void {
    const current = this.operations.current;
    const reply = message as unknown as ClientReply | KvGetOk;
    if (current === null || reply.id !== current.id) {
      return; // late, duplicated, or for an operation given up on
    }
    switch (reply.type) {
      case 'propose-ok':
        this.target = from;
        this.operations.finish(null);
        this.ctx.observe({
          type: 'kv-acked',
          f: current.op.f,
          key: current.op.key,
          value: current.op.f === 'get' ? null : current.op.value,
          index: reply.index,
          term: reply.term,
        });
        return;
      case 'kv-get-ok':
        this.target = from;
        this.operations.finish(reply.value);
        this.ctx.observe({
          type: 'kv-read',
          key: current.op.key,
          valueChars: reply.value.length,
          index: reply.index,
        });
        return;
      case 'not-leader':
        this.target = reply.leaderHint ?? this.nextServer();
        this.retrySoon();
        return;
      case 'request-failed':
        this.target = this.nextServer();
        this.retrySoon();
        return;
      default:
        return;
    }
  }

  /** After a refusal: to the hinted or next server, chosen when the refusal arrived. */
  private retrySoon(): void {
    this.operations.cancelTimer();
    this.operations.retryAfter(REFUSED_RETRY_US);
  }

  /** Where to go after a server did not answer in time: the next one (the bug: the same). */
  private afterSilence(): NodeId {
    return this.sticky ? this.target : this.nextServer();
  }

  private nextServer(): NodeId {
    const servers = this.ctx.servers;
    const at = servers.indexOf(this.target);
    return servers[(at + 1) % servers.length] as NodeId;
  }

  onTimer(tag: string, timerId: number): void {
    this.operations.onTimer(tag, timerId);
  }

  inspect(): KvClientInspect {
    return this.operations.inspect();
  }
}
