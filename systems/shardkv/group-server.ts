// A replica group server: a node program holding one Raft group that replicates a
// GroupStateMachine, and a controller clerk. Its leader polls the controller for the next
// configuration and proposes it; pulls the shards that configuration gives it from their
// previous owners and proposes their installation; and tells each previous owner to delete
// what it handed off, proposing the confirmation once it has. Every one of those changes goes
// through the group's log (see group-state-machine.ts); the leader only decides when to ask.
// Clients' writes are the group's own 'propose' path; Gets are ReadIndex reads answered after
// apply, if the group then serves the key's shard.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import { AppliedReads, serviceRaftGroup } from '../kv/index.ts';
import type { RaftGroup, RaftNodeOptions } from '../raft/group.ts';
import { keyToShard, type ShardConfig, serversOf } from './config.ts';
import type { ShardGroupInspect } from './contract.ts';
import { CtrlerClerk } from './ctrler-clerk.ts';
import {
  encodeGroupCommand,
  type GroupBugs,
  type GroupCommand,
  GroupStateMachine,
} from './group-state-machine.ts';
import {
  type ShardData,
  type ShardDelete,
  type ShardDeleted,
  type ShardGetOk,
  type ShardGetRequest,
  type ShardPull,
  shardkvVariant,
  type WrongGroup,
} from './types.ts';

const POLL_TAG = 'shardkv:poll';
export const POLL_US = 100_000;
/** A leader re-proposes a migration step it proposed this long ago without effect. */
const REPROPOSE_US = 500_000;
const PROPOSED_MAX = 256;

export interface GroupServerOptions {
  raft: Partial<RaftNodeOptions>;
  ctrlerGroup: string;
  /** This node's gid, from its topology group (`g2` → 2). */
  gidOf: (ctx: NodeContext) => number;
}

export class GroupServer implements NodeProgram {
  readonly state: GroupStateMachine;
  readonly raft: RaftGroup;
  private readonly clerk: CtrlerClerk;
  private readonly reads: AppliedReads<string>;
  /** Migration steps this leader proposed: key → when (monotonic µs). */
  private readonly proposed = new Map<string, number>();
  private nextProposal = 0;
  private readonly skipConfig: boolean;
  private readonly configOutsideLog: boolean;
  private view: ShardGroupInspect | undefined;

  constructor(
    private readonly ctx: NodeContext,
    options: GroupServerOptions,
  ) {
    const variant = shardkvVariant(ctx.variant);
    const bugs: GroupBugs = {
      serveBeforeInstall: variant === 'serve-before-install',
      dedupNotMigrated: variant === 'dedup-not-migrated',
      noGc: variant === 'no-gc',
      serveAfterHandoff: variant === 'serve-after-handoff',
      skipConfig: variant === 'skip-config',
    };
    this.skipConfig = bugs.skipConfig;
    this.configOutsideLog = variant === 'config-outside-log';
    const gid = options.gidOf(ctx);
    this.state = new GroupStateMachine(gid, bugs);
    this.clerk = new CtrlerClerk(ctx, ctx.members(options.ctrlerGroup));
    this.reads = new AppliedReads(
      () => this.raft,
      (client, id, key) => this.answerGet(client, id, key),
    );
    this.raft = serviceRaftGroup(ctx, this.state, options.raft, this.reads);
    this.state.events = {
      configApplied: (from, to) => ctx.observe({ type: 'shardkv-config-applied', gid, from, to }),
      served: (shard, num) => this.observeServed(shard, num),
      installed: (shard, num, keys) =>
        ctx.observe({ type: 'shardkv-shard-installed', gid, shard, num, keys }),
      deleted: (shard, num) => ctx.observe({ type: 'shardkv-shard-deleted', gid, shard, num }),
      duplicate: (client, seq) => ctx.observe({ type: 'kv-duplicate-suppressed', client, seq }),
    };
  }

  private observeServed(shard: number, num: number): void {
    // While another shard is still on its way here: a received shard served early.
    const partial = this.state.shardsIn('pulling').length > 0;
    this.ctx.observe({ type: 'shardkv-served', gid: this.state.gid, shard, num, partial });
  }

  onStart(): void {
    this.raft.start();
    this.ctx.setTimer(POLL_US, POLL_TAG);
  }

  onSynced(syncId: number, ok: boolean): void {
    this.raft.onSynced(syncId, ok);
  }

  onTimer(tag: string, timerId: number): void {
    if (this.raft.onTimer(tag) || this.clerk.onTimer(tag, timerId)) {
      return;
    }
    if (tag === POLL_TAG) {
      this.ctx.setTimer(POLL_US, POLL_TAG);
      if (this.raft.running && this.raft.core.role === 'leader') {
        this.poll();
      }
    }
  }

  /** The leader's round: the next configuration, pulls, and deletions to ask for. */
  private poll(): void {
    const state = this.state;
    if (state.stable && !this.clerk.busy) {
      // The skip-config bug asks for the newest configuration, not the next one.
      const num = this.skipConfig ? -1 : state.config.num + 1;
      this.clerk.query(num, (config) => this.onConfig(config));
    }
    for (const shard of state.shardsIn('pulling')) {
      const pull: ShardPull = { type: 'shard-pull', num: state.config.num, shard };
      this.sendToPreviousOwner(shard, pull as unknown as SimMessage);
    }
    for (const shard of state.shardsIn('confirming')) {
      const ask: ShardDelete = { type: 'shard-delete', num: state.config.num, shard };
      this.sendToPreviousOwner(shard, ask as unknown as SimMessage);
    }
  }

  private sendToPreviousOwner(shard: number, message: SimMessage): void {
    const previous = this.state.previous;
    for (const server of serversOf(previous, previous.shards[shard] as number)) {
      this.ctx.send(server, message, 32);
    }
  }

  private onConfig(config: ShardConfig): void {
    const current = this.state.config.num;
    const wanted = this.skipConfig ? config.num > current : config.num === current + 1;
    if (!wanted || !this.state.stable) {
      return;
    }
    if (this.configOutsideLog) {
      // The bug: the leader takes the configuration into its own state machine at once;
      // its followers never see it, and a new leader or a restart forgets it.
      if (this.raft.core.role === 'leader') {
        this.state.applyCommand({ type: 'config', config });
      }
      return;
    }
    this.propose({ type: 'config', config }, `config:${config.num}`);
  }

  /** Proposes a step of its own through the log, not again while the last try may still land. */
  private propose(command: GroupCommand, key: string): void {
    if (!this.raft.running || this.raft.core.role !== 'leader') {
      return;
    }
    const now = this.ctx.monotonic();
    const last = this.proposed.get(key);
    if (last !== undefined && now - last < REPROPOSE_US) {
      return;
    }
    if (this.proposed.size >= PROPOSED_MAX) {
      this.proposed.delete(this.proposed.keys().next().value as string);
    }
    this.proposed.delete(key);
    this.proposed.set(key, now);
    this.nextProposal++;
    const data = encodeGroupCommand(command);
    // From the harness id: nobody to answer; the effect is read back from the state.
    this.raft.onMessage(-1, {
      type: 'propose',
      id: `${this.ctx.name}-own-${this.nextProposal}`,
      data,
    });
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (!this.raft.running) {
      return;
    }
    if (this.clerk.onMessage(from, message)) {
      return;
    }
    switch (message.type) {
      case 'shard-get': {
        const request = message as unknown as ShardGetRequest;
        this.reads.start(from, request.id, request.key);
        return;
      }
      case 'shard-pull':
        this.onPull(from, message as unknown as ShardPull);
        return;
      case 'shard-data':
        this.onData(message as unknown as ShardData);
        return;
      case 'shard-delete':
        this.onDelete(from, message as unknown as ShardDelete);
        return;
      case 'shard-deleted':
        this.onDeleted(message as unknown as ShardDeleted);
        return;
      default:
        this.raft.onMessage(from, message);
    }
  }

  /** Any replica that applied configuration `num` holds the shard's final copy: answer. */
  private onPull(from: NodeId, pull: ShardPull): void {
    const shard = this.state.handOff(pull.num, pull.shard);
    if (typeof shard === 'string') {
      return; // not there yet (the puller retries), or the request is stale
    }
    const reply: ShardData = {
      type: 'shard-data',
      num: pull.num,
      shard: pull.shard,
      data: [...shard.data.entries()],
      sessions: [...shard.sessions.entries()],
    };
    let bytes = 48;
    for (const [key, value] of reply.data) {
      bytes += key.length + value.length + 8;
    }
    this.ctx.send(from, reply as unknown as SimMessage, bytes + 16 * reply.sessions.length);
  }

  private onData(data: ShardData): void {
    const state = this.state;
    if (data.num === state.config.num && state.shard(data.shard).status === 'pulling') {
      this.propose(
        {
          type: 'install',
          num: data.num,
          shard: data.shard,
          data: data.data,
          sessions: data.sessions,
        },
        `install:${data.num}:${data.shard}`,
      );
    }
  }

  private onDelete(from: NodeId, ask: ShardDelete): void {
    if (this.state.deletedSince(ask.num, ask.shard)) {
      const done: ShardDeleted = { type: 'shard-deleted', num: ask.num, shard: ask.shard };
      this.ctx.send(from, done as unknown as SimMessage, 32);
      return;
    }
    if (this.state.config.num === ask.num) {
      this.propose(
        { type: 'delete', num: ask.num, shard: ask.shard },
        `delete:${ask.num}:${ask.shard}`,
      );
    }
  }

  private onDeleted(done: ShardDeleted): void {
    const state = this.state;
    if (done.num === state.config.num && state.shard(done.shard).status === 'confirming') {
      this.propose(
        { type: 'confirmed', num: done.num, shard: done.shard },
        `confirmed:${done.num}:${done.shard}`,
      );
    }
  }

  private answerGet(client: NodeId, id: string, key: string): void {
    if (client < 0) {
      return;
    }
    const shard = keyToShard(key);
    if (!this.state.serves(shard)) {
      const reply: WrongGroup = { type: 'wrong-group', id, num: this.state.config.num };
      this.ctx.send(client, reply as unknown as SimMessage, 32);
      return;
    }
    this.observeServed(shard, this.state.config.num);
    const value = this.state.get(key);
    const reply: ShardGetOk = { type: 'shard-get-ok', id, value };
    this.ctx.send(client, reply as unknown as SimMessage, 48 + value.length);
  }

  inspect(): ShardGroupInspect | undefined {
    const base = this.raft.inspect();
    if (base === undefined) {
      return undefined;
    }
    const state = this.state;
    const raft = this.raft;
    // Extended by prototype, as KvServer does: the group's view reads the live core.
    this.view ??= Object.create(base, {
      shardGroup: { value: state, enumerable: true },
      raftStateBytes: { get: () => raft.logBytes, enumerable: true },
      snapshotBytes: { get: () => raft.snapshotBytes, enumerable: true },
    }) as ShardGroupInspect;
    return this.view;
  }
}
