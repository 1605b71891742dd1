// A sharded KV client (MIT's shardkv Clerk): one operation at a time. It routes each key by
// the newest configuration it knows (the key's shard → the group → that group's servers),
// tries the group's servers in turn following leader hints, and when the group says
// wrong-group, or none of its servers answered, asks the controller for the newest
// configuration and tries again — always with the same sequence number, so the shard's
// duplicate table (which moves with the shard) recognises a retry. The workload is the KV
// service's (systems/kv/workload.ts), and so is the history it records.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import {
  type KvOp,
  type KvWorkload,
  kvWorkload,
  nextOp,
  type ScriptedOp,
  scriptFor,
} from '../kv/workload.ts';
import type { ClientReply } from '../raft/group.ts';
import { INITIAL_CONFIG, keyToShard, NO_GROUP, type ShardConfig, serversOf } from './config.ts';
import { CtrlerClerk } from './ctrler-clerk.ts';
import { encodeGroupCommand, type OpResult } from './group-state-machine.ts';
import type { ShardGetOk, ShardGetRequest, WrongGroup } from './types.ts';

const REFUSED_RETRY_US = 2_000;
/** Wait before asking the controller again when the configuration has no group for the key. */
const NO_GROUP_RETRY_US = 50_000;

interface Current {
  seq: number;
  id: string;
  op: KvOp;
  operationId: number;
  startedUs: number;
  timer: number;
  /** Servers of the group tried since the configuration was last refreshed. */
  tried: number;
  wrongGroup: boolean;
}

export class ShardClient implements NodeProgram {
  private readonly workload: KvWorkload;
  private readonly script: ScriptedOp[] | undefined;
  private readonly clerk: CtrlerClerk;
  private config: ShardConfig = INITIAL_CONFIG;
  /** gid → the server that last answered (its leader, most likely). */
  private readonly leaders = new Map<number, NodeId>();
  private seq = 0;
  private current: Current | null = null;
  private done = 0;

  constructor(
    private readonly ctx: NodeContext,
    ctrlerGroup: string,
    /** The workload key of this client's script, if it has one (default: the KV one). */
    scriptKeyOf?: (index: number) => string,
  ) {
    this.workload = kvWorkload(ctx.workload);
    const index = ctx.members(ctx.group).indexOf(ctx.id);
    const text = scriptKeyOf === undefined ? undefined : ctx.workload[scriptKeyOf(index)];
    this.script =
      scriptKeyOf === undefined
        ? scriptFor(ctx.workload, index)
        : typeof text === 'string'
          ? (JSON.parse(text) as ScriptedOp[])
          : [];
    this.clerk = new CtrlerClerk(ctx, ctx.members(ctrlerGroup));
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
      nextOp(this.ctx.random, this.workload, this.ctx.id, this.ctx.clients, seq);
    this.seq = seq;
    const input = op.f === 'get' ? { f: op.f, key: op.key, value: null } : { ...op };
    this.current = {
      seq,
      id: `${this.ctx.name}-${seq}`,
      op,
      operationId: this.ctx.history.invoke(input),
      startedUs: this.ctx.now(),
      timer: -1,
      tried: 0,
      wrongGroup: false,
    };
    this.attempt();
  }

  /** Sends the operation to the group the configuration names, or refreshes it first. */
  private attempt(): void {
    const current = this.current;
    if (current === null || this.clerk.busy) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    const gid = this.config.shards[keyToShard(current.op.key)] as number;
    const servers = serversOf(this.config, gid);
    if (gid === NO_GROUP || servers.length === 0 || current.tried >= servers.length) {
      this.refreshConfig();
      return;
    }
    const target = this.leaders.get(gid) ?? (servers[0] as NodeId);
    const { op, id } = current;
    if (op.f === 'get') {
      const request: ShardGetRequest = { type: 'shard-get', id, key: op.key };
      this.ctx.send(target, request as unknown as SimMessage, 32 + op.key.length);
    } else {
      const data = encodeGroupCommand({
        type: 'op',
        op: op.f,
        key: op.key,
        value: op.value,
        client: this.ctx.id,
        seq: current.seq,
      });
      this.ctx.send(target, { type: 'propose', id, data }, 32 + data.length);
    }
    current.timer = this.ctx.setTimer(this.workload.attemptTimeoutUs, 'attempt');
  }

  private refreshConfig(): void {
    const current = this.current;
    if (current !== null) {
      this.ctx.cancelTimer(current.timer);
    }
    if (this.clerk.busy) {
      return; // a refresh is under way: its answer retries the operation
    }
    this.clerk.query(-1, (config) => {
      const changed = config.num !== this.config.num;
      if (config.num >= this.config.num) {
        this.config = config;
      }
      if (this.current !== null) {
        this.current.tried = 0;
        if (changed) {
          this.attempt();
        } else {
          // Nothing newer yet (a migration under way, or no group for the key): wait a little.
          this.current.timer = this.ctx.setTimer(NO_GROUP_RETRY_US, 'retry');
        }
      }
    });
  }

  /** The next server of the key's group after a timeout or a refusal without a hint. */
  private rotate(gid: number, from: NodeId): void {
    const servers = serversOf(this.config, gid);
    const at = servers.indexOf(from);
    this.leaders.set(gid, servers[(at + 1) % servers.length] as NodeId);
    if (this.current !== null) {
      this.current.tried++;
    }
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (this.clerk.onMessage(from, message)) {
      return;
    }
    const current = this.current;
    const reply = message as unknown as ClientReply | ShardGetOk | WrongGroup;
    if (current === null || reply.id !== current.id) {
      return; // late, duplicated, or for an operation given up on
    }
    const gid = this.config.shards[keyToShard(current.op.key)] as number;
    switch (reply.type) {
      case 'propose-ok': {
        const result = reply.result as OpResult;
        if (result.status === 'wrong-group') {
          this.onWrongGroup(current);
          return;
        }
        this.leaders.set(gid, from);
        this.finish(null);
        return;
      }
      case 'shard-get-ok':
        this.leaders.set(gid, from);
        this.finish(reply.value);
        return;
      case 'wrong-group':
        this.onWrongGroup(current);
        return;
      case 'not-leader':
        if (reply.leaderHint !== null && serversOf(this.config, gid).includes(reply.leaderHint)) {
          this.leaders.set(gid, reply.leaderHint);
          current.tried++;
        } else {
          this.rotate(gid, from);
        }
        this.retrySoon(current);
        return;
      case 'request-failed':
        this.rotate(gid, from);
        this.retrySoon(current);
        return;
      default:
        return;
    }
  }

  private onWrongGroup(current: Current): void {
    if (!current.wrongGroup) {
      current.wrongGroup = true;
      this.ctx.observe({ type: 'shardkv-wrong-group', key: current.op.key });
    }
    this.refreshConfig();
  }

  private retrySoon(current: Current): void {
    this.ctx.cancelTimer(current.timer);
    current.timer = this.ctx.setTimer(REFUSED_RETRY_US, 'retry');
  }

  private finish(output: string | null): void {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    this.ctx.history.complete(current.operationId, 'ok', output);
    if (current.wrongGroup) {
      this.ctx.observe({ type: 'shardkv-recovered-from-wrong-group', key: current.op.key });
    }
    this.current = null;
    this.done++;
    this.scheduleNext();
  }

  onTimer(tag: string, timerId: number): void {
    if (this.clerk.onTimer(tag, timerId)) {
      return;
    }
    if (tag === 'next') {
      if (this.current === null) {
        this.start();
      }
      return;
    }
    const current = this.current;
    if (current === null || timerId !== current.timer) {
      return;
    }
    if (tag === 'retry') {
      this.attempt();
      return;
    }
    const giveUp = this.workload.giveUpUs;
    if (giveUp > 0 && this.ctx.now() - current.startedUs >= giveUp && this.script === undefined) {
      // Leave the operation open: it may still take effect. Move on with a new sequence number.
      this.ctx.observe({ type: 'kv-gave-up', f: current.op.f, key: current.op.key });
      this.clerk.cancel();
      this.current = null;
      this.scheduleNext();
      return;
    }
    const gid = this.config.shards[keyToShard(current.op.key)] as number;
    const servers = serversOf(this.config, gid);
    if (servers.length > 0) {
      this.rotate(gid, this.leaders.get(gid) ?? (servers[0] as NodeId));
    }
    this.attempt();
  }

  inspect(): { role: 'client'; seq: number; done: number; pending: KvOp | null } {
    return { role: 'client', seq: this.seq, done: this.done, pending: this.current?.op ?? null };
  }
}
