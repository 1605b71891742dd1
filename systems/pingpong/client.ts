// A pingpong client: sends `ops` pings one at a time, each to the next server in turn, and
// retries on timeout (a different server each time) until one answers with a pong.
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import { pingValue } from './records.ts';
import type { Ping, PingpongMessage } from './server.ts';

const RETRY_US = 40_000;

export interface ClientView {
  role: 'client';
  done: number;
  ops: number;
}

export class PingpongClient implements NodeProgram {
  private sequence = 0;
  private attempt = 0;
  private operationId = -1;
  private retryTimer = -1;
  private readonly ops: number;

  constructor(private readonly ctx: NodeContext) {
    this.ops = Number(ctx.workload['opsPerClient'] ?? 10);
  }

  onStart(): void {
    // Clients keep no disk state: a restarted client starts over with fresh sequences.
    this.sequence = 0;
    this.next();
  }

  private next(): void {
    if (this.sequence >= this.ops) {
      return;
    }
    this.sequence++;
    this.attempt = 0;
    this.operationId = this.ctx.history.invoke({ f: 'ping', sequence: this.sequence });
    this.sendPing();
  }

  private sendPing(): void {
    const servers = this.ctx.servers;
    const server = servers[(this.ctx.id + this.sequence + this.attempt) % servers.length] as NodeId;
    const ping: Ping = {
      type: 'ping',
      sequence: this.sequence,
      value: pingValue(this.ctx.id, this.sequence),
    };
    this.ctx.send(server, ping, 24);
    this.retryTimer = this.ctx.setTimer(RETRY_US, 'retry');
  }

  onMessage(_from: NodeId, message: Message): void {
    const typed = message as PingpongMessage;
    if (typed.type !== 'pong' || typed.sequence !== this.sequence || this.operationId < 0) {
      return; // a late or duplicated pong
    }
    this.ctx.cancelTimer(this.retryTimer);
    this.ctx.history.complete(this.operationId, 'ok', null);
    this.ctx.observe({
      type: 'acked',
      client: this.ctx.id,
      sequence: this.sequence,
      server: _from,
    });
    this.operationId = -1;
    this.next();
  }

  onTimer(tag: string): void {
    if (tag !== 'retry' || this.operationId < 0) {
      return;
    }
    this.attempt++;
    this.ctx.observe({ type: 'retried', sequence: this.sequence, attempt: this.attempt });
    this.sendPing();
  }

  inspect(): ClientView {
    return {
      role: 'client',
      done: this.operationId < 0 ? this.sequence : this.sequence - 1,
      ops: this.ops,
    };
  }
}
