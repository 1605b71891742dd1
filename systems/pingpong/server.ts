// A pingpong server: accepts pings from clients, makes each durable in its write-ahead log
// (append, fsync) and only then answers with a pong. It also heartbeats its peers, so the
// network between servers carries traffic too. Known-bug variants: `ack-before-fsync`
// answers before the fsync completes; `no-checksum` trusts its log without checking it.
import { ProcessExit } from '../../sim/disk.ts';
import { variantFor } from '../../sim/scenario.ts';
import type { Message, NodeContext, NodeId, NodeProgram } from '../../sim/types.ts';
import { readStable } from '../stable-read.ts';
import { decodeLog, encodeRecord, type PingRecord } from './records.ts';

export const LOG_FILE = 'pings.log';
const HEARTBEAT_US = 20_000;
const BUGGIFY_PONG_DELAY_US = 15_000;

export interface Ping extends Message {
  type: 'ping';
  sequence: number;
  value: number;
}
export interface Pong extends Message {
  type: 'pong';
  sequence: number;
}
export interface Heartbeat extends Message {
  type: 'heartbeat' | 'heartbeat-ack';
  round: number;
}
export type PingpongMessage = Ping | Pong | Heartbeat;

export interface ServerView {
  role: 'server';
  /** Records this incarnation knows are on disk (recovered, or fsynced since). */
  durable: PingRecord[];
}

function key(client: number, sequence: number): string {
  return `${client}:${sequence}`;
}

export class PingpongServer implements NodeProgram {
  private readonly durable = new Map<string, PingRecord>();
  private readonly accepted = new Set<string>();
  /** Fsync id → the pings it makes durable. */
  private readonly syncing = new Map<number, PingRecord[]>();
  private heartbeatRound = 0;

  constructor(private readonly ctx: NodeContext) {}

  onStart(): void {
    this.recover();
    this.ctx.setTimer(HEARTBEAT_US, 'heartbeat');
  }

  private recover(): void {
    const { disk } = this.ctx;
    const bytes = readStable(disk, LOG_FILE);
    const { records, validBytes } = decodeLog(
      bytes,
      variantFor(this.ctx.variant, 'pingpong') !== 'no-checksum',
    );
    if (validBytes < bytes.length) {
      disk.truncate(LOG_FILE, validBytes);
      this.ctx.observe({ type: 'torn-tail-recovered', cutBytes: bytes.length - validBytes });
    }
    this.durable.clear();
    this.accepted.clear();
    for (const record of records) {
      this.durable.set(key(record.client, record.sequence), record);
      this.accepted.add(key(record.client, record.sequence));
    }
    this.ctx.log('recovered', { records: records.length });
    this.ctx.observe({ type: 'recovered', records });
  }

  onMessage(from: NodeId, message: Message): void {
    const typed = message as PingpongMessage;
    switch (typed.type) {
      case 'ping':
        this.onPing(from, typed);
        return;
      case 'heartbeat':
        this.ctx.send(from, { type: 'heartbeat-ack', round: typed.round } satisfies Heartbeat, 16);
        return;
      case 'heartbeat-ack':
      case 'pong':
        return;
    }
  }

  private onPing(from: NodeId, ping: Ping): void {
    const id = key(from, ping.sequence);
    if (this.durable.has(id)) {
      this.pong(from, ping.sequence);
      return;
    }
    if (this.accepted.has(id)) {
      return; // an fsync covering it is under way; the pong follows it
    }
    const record = { client: from, sequence: ping.sequence, value: ping.value };
    this.accepted.add(id);
    this.ctx.disk.append(LOG_FILE, encodeRecord(record));
    const syncId = this.ctx.disk.fsync(LOG_FILE);
    this.syncing.set(syncId, [record]);
    if (variantFor(this.ctx.variant, 'pingpong') === 'ack-before-fsync') {
      this.pong(from, ping.sequence);
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    const records = this.syncing.get(syncId) ?? [];
    this.syncing.delete(syncId);
    if (!ok) {
      // The writes may be gone from the page cache (as on Linux), and later ones may sit
      // on top of the hole: like PostgreSQL, give up and recover from what the disk holds.
      this.ctx.observe({ type: 'fsync-failed' });
      throw new ProcessExit('fsync failed');
    }
    for (const record of records) {
      this.durable.set(key(record.client, record.sequence), record);
      if (variantFor(this.ctx.variant, 'pingpong') !== 'ack-before-fsync') {
        this.pong(record.client, record.sequence);
      }
    }
  }

  private pong(client: NodeId, sequence: number): void {
    if (this.ctx.buggify('pingpong.delay-pong')) {
      // A slow reply path: the pong leaves later than it could, racing the client's retry.
      this.ctx.setTimer(BUGGIFY_PONG_DELAY_US, `pong:${client}:${sequence}`);
      return;
    }
    this.ctx.send(client, { type: 'pong', sequence } satisfies Pong, 16);
  }

  onTimer(tag: string): void {
    if (tag.startsWith('pong:')) {
      const [, client, sequence] = tag.split(':');
      this.ctx.send(
        Number(client),
        { type: 'pong', sequence: Number(sequence) } satisfies Pong,
        16,
      );
      return;
    }
    if (tag !== 'heartbeat') {
      return;
    }
    this.heartbeatRound++;
    for (const peer of this.ctx.servers) {
      if (peer !== this.ctx.id) {
        this.ctx.send(
          peer,
          { type: 'heartbeat', round: this.heartbeatRound } satisfies Heartbeat,
          16,
        );
      }
    }
    this.ctx.setTimer(HEARTBEAT_US, 'heartbeat');
  }

  inspect(): ServerView {
    return { role: 'server', durable: [...this.durable.values()] };
  }
}
