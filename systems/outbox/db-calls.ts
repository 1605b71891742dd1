// Callbacks over the database client's step API: each call names what to do with its
// completion, so a program can write a transaction as a chain of steps. The program still
// hands every message and timer to `onMessage` / `onTimer`.
import type { Message, NodeContext, NodeId } from '../../sim/types.ts';
import { DbClient, type DbClientOptions, type DbCompletion } from './db-client.ts';
import { type DbReplyBody, isDbError } from './db-protocol.ts';

export type Then = (completion: DbCompletion) => void;

/** The completion's error code ('timeout' included), or undefined when it succeeded. */
export function errorOf(completion: DbCompletion): string | undefined {
  const reply = completion.reply;
  return 'error' in reply ? reply.error : undefined;
}

/** The reply body when it is the op's success, else undefined. */
export function okReply<Op extends DbReplyBody['op']>(
  completion: DbCompletion,
  op: Op,
): Extract<DbReplyBody, { op: Op }> | undefined {
  const reply = completion.reply;
  if ('error' in reply || isDbError(reply as DbReplyBody) || reply.op !== op) {
    return undefined;
  }
  return reply as Extract<DbReplyBody, { op: Op }>;
}

export class DbCalls {
  readonly client: DbClient;
  private readonly waiting = new Map<string, Then>();

  constructor(ctx: NodeContext, options: DbClientOptions) {
    this.client = new DbClient(ctx, options);
  }

  /** Runs `then` when the request `reqId` completes. */
  on(reqId: string, then: Then): void {
    this.waiting.set(reqId, then);
  }

  onMessage(from: NodeId, message: Message): boolean {
    if (message.type !== 'db-reply') {
      return false;
    }
    const completion = this.client.onMessage(from, message);
    if (completion !== null) {
      this.deliver(completion);
    }
    return true;
  }

  onTimer(tag: string, timerId: number): boolean {
    if (!this.client.ownsTimer(tag)) {
      return false;
    }
    const completion = this.client.onTimer(tag, timerId);
    if (completion !== null) {
      this.deliver(completion);
    }
    return true;
  }

  private deliver(completion: DbCompletion): void {
    const then = this.waiting.get(completion.reqId);
    this.waiting.delete(completion.reqId);
    then?.(completion);
  }
}
