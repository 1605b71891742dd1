// A sharded KV client (MIT's shardkv Clerk): one operation at a time. It routes each key by
// the newest configuration it knows (the key's shard → the group → that group's servers),
// tries the group's servers in turn following leader hints, and when the group says
// wrong-group, or none of its servers answered, asks the controller for the newest
// configuration and tries again — always with the same sequence number, so the shard's
// duplicate table (which moves with the shard) recognises a retry. The workload is the KV
// service's, and so is the operation loop that records its history (systems/kv's
// OperationLoop: this client only routes each attempt and reads the replies).
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import {
  type KvClientInspect,
  type KvOperation,
  kvWorkload,
  OperationLoop,
  type ScriptedOp,
  scriptFor,
} from '../kv/index.ts';
import type { ClientReply } from '../raft/group.ts';
import { INITIAL_CONFIG, keyToShard, NO_GROUP, type ShardConfig, serversOf } from './config.ts';
import { CtrlerClerk } from './ctrler-clerk.ts';
import { encodeGroupCommand, type OpResult } from './group-state-machine.ts';
import type { ShardGetOk, ShardGetRequest, WrongGroup } from './types.ts';

const REFUSED_RETRY_US = 2_000;
/** Wait before asking the controller again when the configuration has no group for the key. */
const NO_GROUP_RETRY_US = 50_000;

export class ShardClient implements NodeProgram {
  private readonly operations: OperationLoop;
  private readonly clerk: CtrlerClerk;
  private config: ShardConfig = INITIAL_CONFIG;
  /** gid → the server that last answered (its leader, most likely). */
  private readonly leaders = new Map<number, NodeId>();
  /** Servers of the group tried since the configuration was last refreshed (this operation). */
  private tried = 0;
  /** This operation was refused as wrong-group at least once. */
  private wrongGroup = false;

  constructor(
    private readonly ctx: NodeContext,
    ctrlerGroup: string,
    /** The workload key of this client's script, if it has one (default: the KV one). */
    scriptKeyOf?: (index: number) => string,
  ) {
    const index = ctx.members(ctx.group).indexOf(ctx.id);
    const text = scriptKeyOf === undefined ? undefined : ctx.workload[scriptKeyOf(index)];
    const script =
      scriptKeyOf === undefined
        ? scriptFor(ctx.workload, index)
        : typeof text === 'string'
          ? (JSON.parse(text) as ScriptedOp[])
          : [];
    this.operations = new OperationLoop(
      ctx,
      { workload: kvWorkload(ctx.workload), script, cycle: undefined },
      {
        send: (operation) => this.send(operation),
        onSilence: (operation) => this.onSilence(operation),
        onGiveUp: () => this.clerk.cancel(),
        onBegin: () => {
          this.tried = 0;
          this.wrongGroup = false;
        },
        onComplete: (operation) => {
          if (this.wrongGroup) {
            this.ctx.observe({ type: 'shardkv-recovered-from-wrong-group', key: operation.op.key });
          }
        },
      },
    );
    this.clerk = new CtrlerClerk(ctx, ctx.members(ctrlerGroup));
  }

  onStart(): void {
    this.operations.start();
  }

  /**
   * Sends the operation to the group the configuration names, or refreshes it first. Not
   * while a refresh is under way (its answer retries the operation).
   */
  private send(operation: KvOperation): boolean {
    if (this.clerk.busy) {
      return false;
    }
    const gid = this.config.shards[keyToShard(operation.op.key)] as number;
    const servers = serversOf(this.config, gid);
    if (gid === NO_GROUP || servers.length === 0 || this.tried >= servers.length) {
      this.refreshConfig();
      return false;
    }
    const target = this.leaders.get(gid) ?? (servers[0] as NodeId);
    const { op, id } = operation;
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
        seq: operation.seq,
      });
      this.ctx.send(target, { type: 'propose', id, data }, 32 + data.length);
    }
    return true;
  }

  private refreshConfig(): void {
    this.operations.cancelTimer();
    if (this.clerk.busy) {
      return; // a refresh is under way: its answer retries the operation
    }
    this.clerk.query(-1, (config) => {
      const changed = config.num !== this.config.num;
      if (config.num >= this.config.num) {
        this.config = config;
      }
      if (this.operations.current !== null) {
        this.tried = 0;
        if (changed) {
          this.operations.attempt();
        } else {
          // Nothing newer yet (a migration under way, or no group for the key): wait a little.
          this.operations.retryAfter(NO_GROUP_RETRY_US);
        }
      }
    });
  }

  /** The next server of the key's group after a timeout or a refusal without a hint. */
  private rotate(gid: number, from: NodeId): void {
    const servers = serversOf(this.config, gid);
    const at = servers.indexOf(from);
    this.leaders.set(gid, servers[(at + 1) % servers.length] as NodeId);
    if (this.operations.current !== null) {
      this.tried++;
    }
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (this.clerk.onMessage(from, message)) {
      return;
    }
    const current = this.operations.current;
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
        this.operations.finish(null);
        return;
      }
      case 'shard-get-ok':
        this.leaders.set(gid, from);
        this.operations.finish(reply.value);
        return;
      case 'wrong-group':
        this.onWrongGroup(current);
        return;
      case 'not-leader':
        if (reply.leaderHint !== null && serversOf(this.config, gid).includes(reply.leaderHint)) {
          this.leaders.set(gid, reply.leaderHint);
          this.tried++;
        } else {
          this.rotate(gid, from);
        }
        this.retrySoon();
        return;
      case 'request-failed':
        this.rotate(gid, from);
        this.retrySoon();
        return;
      default:
        return;
    }
  }

  private onWrongGroup(current: KvOperation): void {
    if (!this.wrongGroup) {
      this.wrongGroup = true;
      this.ctx.observe({ type: 'shardkv-wrong-group', key: current.op.key });
    }
    this.refreshConfig();
  }

  private retrySoon(): void {
    this.operations.cancelTimer();
    this.operations.retryAfter(REFUSED_RETRY_US);
  }

  /** An attempt went unanswered: the next server of the key's group. */
  private onSilence(operation: KvOperation): void {
    const gid = this.config.shards[keyToShard(operation.op.key)] as number;
    const servers = serversOf(this.config, gid);
    if (servers.length > 0) {
      this.rotate(gid, this.leaders.get(gid) ?? (servers[0] as NodeId));
    }
  }

  onTimer(tag: string, timerId: number): void {
    if (this.clerk.onTimer(tag, timerId)) {
      return;
    }
    this.operations.onTimer(tag, timerId);
  }

  inspect(): KvClientInspect {
    return this.operations.inspect();
  }
}
