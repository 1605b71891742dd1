// A controller clerk (MIT's shardctrler.Clerk) as a component a node program holds: one
// request at a time, sent to the server it believes leads, following leader hints, and on a
// timeout or a refusal retried at the next server with the same sequence number, so the
// controller's session table applies a retried Join once. Replica groups and shard clients
// hold one to Query; administrators to Join, Leave and Move as well. The holder passes it the
// messages and timers it does not recognise as its own (onMessage/onTimer say if they were).
import { assert } from '../../sim/assert.ts';
import type { NodeContext, NodeId, Message as SimMessage } from '../../sim/types.ts';
import type { ClientReply } from '../raft/group.ts';
import type { ShardConfig } from './config.ts';
import {
  type CtrlerApplyResult,
  type CtrlerOp,
  encodeCtrlerCommand,
} from './ctrler-state-machine.ts';
import type { CtrlConfigReply, CtrlQuery } from './types.ts';

const ATTEMPT_TAG = 'ctrl-clerk:attempt';
const RETRY_TAG = 'ctrl-clerk:retry';

export interface CtrlerClerkOptions {
  attemptTimeoutUs: number;
  /** Pause after a refusal before retrying, so a stale hint cannot spin. */
  refusedRetryUs: number;
}

const DEFAULT_OPTIONS: CtrlerClerkOptions = { attemptTimeoutUs: 100_000, refusedRetryUs: 5_000 };

type Pending =
  | { kind: 'command'; id: string; data: Uint8Array; done: (result: CtrlerApplyResult) => void }
  | { kind: 'query'; id: string; num: number; done: (config: ShardConfig) => void };

export class CtrlerClerk {
  private readonly options: CtrlerClerkOptions;
  private pending: Pending | null = null;
  private timer = -1;
  private target: NodeId;
  private requests = 0;
  private seq = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly servers: readonly NodeId[],
    options: Partial<CtrlerClerkOptions> = {},
  ) {
    assert(servers.length > 0, 'a controller clerk needs controller servers');
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.target = servers[ctx.id % servers.length] as NodeId;
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  /** Join, Leave or Move; `done` runs once the controller applied it (or found it a duplicate). */
  command(op: CtrlerOp, done: (result: CtrlerApplyResult) => void): void {
    assert(this.pending === null, 'a controller clerk does one request at a time');
    this.seq++;
    const data = encodeCtrlerCommand({ ...op, client: this.ctx.id, seq: this.seq });
    this.pending = { kind: 'command', id: this.nextId(), data, done };
    this.attempt();
  }

  /** Query(num); -1 asks for the newest configuration. */
  query(num: number, done: (config: ShardConfig) => void): void {
    assert(this.pending === null, 'a controller clerk does one request at a time');
    this.pending = { kind: 'query', id: this.nextId(), num, done };
    this.attempt();
  }

  /** Drops the request under way (its callback never runs). */
  cancel(): void {
    this.pending = null;
    this.ctx.cancelTimer(this.timer);
  }

  private nextId(): string {
    this.requests++;
    return `${this.ctx.name}-ctrl-${this.requests}`;
  }

  private attempt(): void {
    const pending = this.pending;
    if (pending === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    if (pending.kind === 'command') {
      const message = { type: 'propose', id: pending.id, data: pending.data };
      this.ctx.send(this.target, message, 32 + pending.data.length);
    } else {
      const message: CtrlQuery = { type: 'ctrl-query', id: pending.id, num: pending.num };
      this.ctx.send(this.target, message as unknown as SimMessage, 32);
    }
    this.timer = this.ctx.setTimer(this.options.attemptTimeoutUs, ATTEMPT_TAG);
  }

  /** True when the message was a controller server's answer to this clerk. */
  onMessage(from: NodeId, message: SimMessage): boolean {
    if (!this.servers.includes(from)) {
      return false;
    }
    const pending = this.pending;
    const reply = message as unknown as ClientReply | CtrlConfigReply;
    if (pending === null || reply.id !== pending.id) {
      return true; // late or duplicated: ours, but nothing to do
    }
    switch (reply.type) {
      case 'propose-ok':
        if (pending.kind === 'command') {
          this.finish(() => pending.done(reply.result as CtrlerApplyResult));
        }
        return true;
      case 'ctrl-config':
        if (pending.kind === 'query') {
          this.finish(() => pending.done(reply.config));
        }
        return true;
      case 'not-leader':
        this.target = reply.leaderHint ?? this.nextServer();
        this.retrySoon();
        return true;
      case 'request-failed':
        this.target = this.nextServer();
        this.retrySoon();
        return true;
      default:
        return true;
    }
  }

  /** True when the timer was this clerk's. */
  onTimer(tag: string, timerId: number): boolean {
    if (tag !== ATTEMPT_TAG && tag !== RETRY_TAG) {
      return false;
    }
    if (timerId !== this.timer || this.pending === null) {
      return true;
    }
    if (tag === ATTEMPT_TAG) {
      this.target = this.nextServer();
    }
    this.attempt();
    return true;
  }

  private finish(callback: () => void): void {
    this.ctx.cancelTimer(this.timer);
    this.pending = null;
    callback();
  }

  private retrySoon(): void {
    this.ctx.cancelTimer(this.timer);
    this.timer = this.ctx.setTimer(this.options.refusedRetryUs, RETRY_TAG);
  }

  private nextServer(): NodeId {
    const at = this.servers.indexOf(this.target);
    return this.servers[(at + 1) % this.servers.length] as NodeId;
  }
}
