// A KV clerk's operation loop (MIT's Clerk), as a component a client node program holds: one
// operation at a time, for the whole run. It draws the next operation (a script's, a cycle's,
// or the workload's), records its invocation in the history, and keeps it under one timer: an
// attempt unanswered within attemptTimeoutUs is tried again, with the same sequence number so
// the servers' session table recognises the retry, until the holder finishes it (recorded
// complete) or it runs past giveUpUs (left open in the history: its outcome is unknown, it
// may have taken effect or may yet). Where an attempt goes and what a reply means is the
// holder's: KvClient sends to one service, systems/shardkv's client routes by shard.
import type { NodeContext } from '../../sim/types.ts';
import { type KvOp, type KvWorkload, nextOp, type ScriptedOp } from './workload.ts';

const NEXT_TAG = 'next';
const ATTEMPT_TAG = 'attempt';
const RETRY_TAG = 'retry';

export interface KvOperation {
  readonly seq: number;
  /** The request id every attempt of it carries. */
  readonly id: string;
  readonly op: KvOp;
  /** Its invocation in the history. */
  readonly operationId: number;
  readonly startedUs: number;
}

export interface OperationLoopOptions {
  workload: KvWorkload;
  /** Operations at virtual times, in place of the workload's (never given up on). */
  script: ScriptedOp[] | undefined;
  /** Operations every client repeats, in place of the workload's random ones. */
  cycle: KvOp[] | undefined;
}

export interface OperationLoopHolder {
  /** Sends one attempt; false when it sent none (it waits for something else, which retries). */
  send(operation: KvOperation): boolean;
  /** An attempt went unanswered in time: choose where the next one goes (it follows at once). */
  onSilence(operation: KvOperation): void;
  /** The operation was given up on: drop what it waits for, and choose where the next goes. */
  onGiveUp(operation: KvOperation): void;
  /** A new operation, before its first attempt. */
  onBegin?(operation: KvOperation): void;
  /** The operation was recorded complete, before the next is scheduled. */
  onComplete?(operation: KvOperation): void;
}

/** What a client node's inspect() shows: how far its loop got, and what it waits on. */
export interface KvClientInspect {
  role: 'client';
  seq: number;
  done: number;
  pending: KvOp | null;
}

export class OperationLoop {
  private seq = 0;
  private done = 0;
  private operation: KvOperation | null = null;
  /** The operation's attempt or retry timer: only this one moves it on. */
  private timer = -1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: OperationLoopOptions,
    private readonly holder: OperationLoopHolder,
  ) {}

  /** The operation under way, or null between operations. */
  get current(): KvOperation | null {
    return this.operation;
  }

  /** The holder's onStart: schedules the first operation. */
  start(): void {
    this.scheduleNext();
  }

  private scheduleNext(): void {
    const { script, workload } = this.options;
    if (script !== undefined) {
      const step = script[this.seq];
      if (step !== undefined) {
        this.ctx.setTimer(Math.max(1, step.atUs - this.ctx.now()), NEXT_TAG);
      }
      return;
    }
    if (this.seq >= workload.opsMax) {
      return;
    }
    this.ctx.setTimer(1 + this.ctx.random.int(Math.max(1, workload.thinkUsMax)), NEXT_TAG);
  }

  private begin(): void {
    const { script, cycle, workload } = this.options;
    const seq = this.seq + 1;
    const op =
      script?.[seq - 1]?.op ??
      cycle?.[(seq - 1) % cycle.length] ??
      nextOp(this.ctx.random, workload, this.ctx.id, this.ctx.clients, seq);
    this.seq = seq;
    const input = op.f === 'get' ? { f: op.f, key: op.key, value: null } : { ...op };
    const operation: KvOperation = {
      seq,
      id: `${this.ctx.name}-${seq}`,
      op,
      operationId: this.ctx.history.invoke(input),
      startedUs: this.ctx.now(),
    };
    this.operation = operation;
    this.timer = -1;
    this.holder.onBegin?.(operation);
    this.attempt();
  }

  /** Sends the operation under way (again), under a fresh attempt timer. */
  attempt(): void {
    const operation = this.operation;
    if (operation === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    if (this.holder.send(operation)) {
      this.timer = this.ctx.setTimer(this.options.workload.attemptTimeoutUs, ATTEMPT_TAG);
    }
  }

  /** Cancels the operation's pending attempt or retry timer. */
  cancelTimer(): void {
    if (this.operation !== null) {
      this.ctx.cancelTimer(this.timer);
    }
  }

  /**
   * Attempts the operation again after `delayUs` (after a refusal, so a stale hint cannot
   * spin). The timer it had is not cancelled here: cancel it first if it may be pending.
   */
  retryAfter(delayUs: number): void {
    if (this.operation !== null) {
      this.timer = this.ctx.setTimer(delayUs, RETRY_TAG);
    }
  }

  /** Records the operation under way complete with `output`, and schedules the next. */
  finish(output: string | null): void {
    const operation = this.operation;
    if (operation === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    this.ctx.history.complete(operation.operationId, 'ok', output);
    this.holder.onComplete?.(operation);
    this.operation = null;
    this.done++;
    this.scheduleNext();
  }

  /** The holder's onTimer, for the timers the holder does not recognise as its own. */
  onTimer(tag: string, timerId: number): void {
    if (tag === NEXT_TAG) {
      if (this.operation === null) {
        this.begin();
      }
      return;
    }
    const operation = this.operation;
    if (operation === null || timerId !== this.timer) {
      return;
    }
    if (tag === RETRY_TAG) {
      this.attempt();
      return;
    }
    const giveUp = this.options.workload.giveUpUs;
    if (
      giveUp > 0 &&
      this.ctx.now() - operation.startedUs >= giveUp &&
      this.options.script === undefined
    ) {
      // Leave the operation open: it may still take effect. Move on with a new sequence number.
      this.ctx.observe({ type: 'kv-gave-up', f: operation.op.f, key: operation.op.key });
      this.holder.onGiveUp(operation);
      this.operation = null;
      this.scheduleNext();
      return;
    }
    this.holder.onSilence(operation);
    this.attempt();
  }

  inspect(): KvClientInspect {
    return { role: 'client', seq: this.seq, done: this.done, pending: this.operation?.op ?? null };
  }
}
