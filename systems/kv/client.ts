// A KV client (MIT's Clerk): one operation at a time, for the whole run. It sends to the
// server it believes leads, follows leader hints, and on a timeout or a refusal retries
// elsewhere with the same sequence number, so the servers' session table can recognise the
// retry. Each operation is recorded in the history; one it gives up on stays open (its
// outcome is unknown: it may have taken effect, or may yet).
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import type { ClientReply } from '../raft/group.ts';
import { encodeCommand } from './state-machine.ts';
import { type KvGetOk, kvVariant } from './types.ts';
import {
  cycleOf,
  type KvOp,
  type KvWorkload,
  kvWorkload,
  nextOp,
  type ScriptedOp,
  scriptFor,
} from './workload.ts';

/** A short pause before retrying after a refusal, so a stale hint cannot spin. */
const REFUSED_RETRY_US = 2_000;

interface Current {
  seq: number;
  id: string;
  op: KvOp;
  operationId: number;
  startedUs: number;
  attemptTimer: number;
}

export class KvClient implements NodeProgram {
  private readonly workload: KvWorkload;
  private readonly script: ScriptedOp[] | undefined;
  private readonly cycle: KvOp[] | undefined;
  private seq = 0;
  private current: Current | null = null;
  private target: NodeId;
  private done = 0;
  /** The client-retries-same-server bug: a silent server is tried again and again. */
  private readonly sticky: boolean;

  constructor(private readonly ctx: NodeContext) {
    this.workload = kvWorkload(ctx.workload);
    this.script = scriptFor(ctx.workload, ctx.members(ctx.group).indexOf(ctx.id));
    this.cycle = cycleOf(ctx.workload);
    this.target = ctx.servers[ctx.id % ctx.servers.length] as NodeId;
    this.sticky = kvVariant(ctx.variant) === 'client-retries-same-server';
  }

  onStart(): void {
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.script !== undefined) {
      const step = this.script[this.seq];
      if (step !== undefined) {
        this.ctx.setTimer(Math.max(1, step.atUs - this.ctx.now()), 'next');
      }
      return;
    }
    if (this.seq >= this.workload.opsMax) {
      return;
    }
    this.ctx.setTimer(1 + this.ctx.random.int(Math.max(1, this.workload.thinkUsMax)), 'next');
  }

  private start(): void {
    const seq = this.seq + 1;
    const op =
      this.script?.[seq - 1]?.op ??
      this.cycle?.[(seq - 1) % this.cycle.length] ??
      nextOp(this.ctx.random, this.workload, this.ctx.id, this.ctx.clients, seq);
    this.seq = seq;
    const input = op.f === 'get' ? { f: op.f, key: op.key, value: null } : { ...op };
    this.current = {
      seq,
      id: `${this.ctx.name}-${seq}`,
      op,
      operationId: this.ctx.history.invoke(input),
      startedUs: this.ctx.now(),
      attemptTimer: -1,
    };
    this.attempt();
  }

  private attempt(): void {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.attemptTimer);
    const { op, id } = current;
    if (op.f === 'get') {
      this.ctx.send(this.target, { type: 'kv-get', id, key: op.key }, 32 + op.key.length);
    } else {
      const data = encodeCommand({
        op: op.f,
        key: op.key,
        value: op.value,
        client: this.ctx.id,
        seq: current.seq,
      });
      this.ctx.send(this.target, { type: 'propose', id, data }, 32 + data.length);
    }
    current.attemptTimer = this.ctx.setTimer(this.workload.attemptTimeoutUs, 'attempt');
  }

  onMessage(from: NodeId, message: Message): void {
    const current = this.current;
    const reply = message as unknown as ClientReply | KvGetOk;
    if (current === null || reply.id !== current.id) {
      return; // late, duplicated, or for an operation given up on
    }
    switch (reply.type) {
      case 'propose-ok':
        this.target = from;
        this.finish(null);
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
        this.finish(reply.value);
        return;
      case 'not-leader':
        this.target = reply.leaderHint ?? this.nextServer();
        this.retrySoon(current);
        return;
      case 'request-failed':
        this.target = this.nextServer();
        this.retrySoon(current);
        return;
      default:
        return;
    }
  }

  private retrySoon(current: Current): void {
    this.ctx.cancelTimer(current.attemptTimer);
    current.attemptTimer = this.ctx.setTimer(REFUSED_RETRY_US, 'retry');
  }

  private finish(output: string | null): void {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.attemptTimer);
    this.ctx.history.complete(current.operationId, 'ok', output);
    this.current = null;
    this.done++;
    this.scheduleNext();
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
    if (tag === 'next') {
      if (this.current === null) {
        this.start();
      }
      return;
    }
    const current = this.current;
    if (current === null || timerId !== current.attemptTimer) {
      return;
    }
    if (tag === 'retry') {
      this.attempt(); // to the hinted or next server, chosen when the refusal arrived
      return;
    }
    const giveUp = this.workload.giveUpUs;
    if (giveUp > 0 && this.ctx.now() - current.startedUs >= giveUp && this.script === undefined) {
      // Leave the operation open: it may still take effect. Move on with a new sequence number.
      this.ctx.observe({ type: 'kv-gave-up', f: current.op.f, key: current.op.key });
      this.current = null;
      this.target = this.afterSilence();
      this.scheduleNext();
      return;
    }
    this.target = this.afterSilence();
    this.attempt();
  }

  inspect(): { role: 'client'; seq: number; done: number; pending: KvOp | null } {
    return { role: 'client', seq: this.seq, done: this.done, pending: this.current?.op ?? null };
  }
}
