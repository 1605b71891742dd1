// A KV server: a RaftNode replicating a KvStateMachine, composed through the node's public
// surface only. Writes are the node's own 'propose' path (the reply carries the apply
// result); a Get is turned into the node's ReadIndex read, and its 'read-ok' is held back
// until the state machine has applied up to the read index, then answered with the value.
// That wait is what makes the read linearizable: the read index alone says only that this
// node was still the leader, not that its state machine has caught up.
import type { NodeContext, NodeId, Message as SimMessage } from '../../sim/types.ts';
import type { RaftCore } from '../raft/core.ts';
import {
  bugsForVariant,
  type ClientReply,
  LOG_FILE,
  RaftNode,
  type RaftNodeOptions,
  type RaftNodeView,
  SNAPSHOT_FILE,
} from '../raft/node.ts';
import { KvStateMachine } from './state-machine.ts';
import { type KvGetOk, type KvGetRequest, type KvVariant, kvVariant } from './types.ts';

/** Gets between ReadIndex and apply; beyond this the oldest is dropped and its client retries. */
const WAITING_READS_MAX = 1024;
const GET_KEYS_MAX = 4096;

interface WaitingRead {
  client: NodeId;
  id: string;
  key: string;
  index: number;
}

export interface KvServerView extends RaftNodeView {
  kv: { data: ReadonlyMap<string, string>; sessions: ReadonlyMap<number, number> };
  /** Bytes of persisted Raft state (the log file), as MIT's persister.RaftStateSize. */
  raftStateBytes: number;
  snapshotBytes: number;
}

export class KvServer extends RaftNode {
  readonly kv: KvStateMachine;
  private readonly variant: KvVariant | null;
  /** Request id → key, for Gets whose ReadIndex is under way. */
  private readonly getKeys = new Map<string, string>();
  private waiting: WaitingRead[] = [];
  private kvView: KvServerView | undefined;

  constructor(ctx: NodeContext, raftOptions: Partial<RaftNodeOptions> = {}) {
    const variant = kvVariant(ctx.variant);
    const kv = new KvStateMachine({
      dedup: variant !== 'no-dedup',
      sessionsInSnapshot: variant !== 'dedup-not-in-snapshot',
    });
    // A variant may name a Raft bug (kv-lease's lease bugs); KV's own are handled here.
    super(ctx, kv, { ...raftOptions, bugs: bugsForVariant(ctx.variant) });
    this.kv = kv;
    this.variant = variant;
    kv.onDuplicate = (command) =>
      ctx.observe({ type: 'kv-duplicate-suppressed', client: command.client, seq: command.seq });
  }

  /** Undefined when the node refused to start (damaged disk): it takes no part at all. */
  private get running(): RaftCore | undefined {
    return this.core as RaftCore | undefined;
  }

  override onMessage(from: NodeId, message: SimMessage): void {
    if (this.running === undefined) {
      return;
    }
    if (message.type === 'kv-get') {
      this.onGet(from, message as unknown as KvGetRequest);
      return;
    }
    if (message.type === 'propose' && this.variant === 'apply-before-commit') {
      this.proposeAndApplyAtOnce(from, message);
      return;
    }
    super.onMessage(from, message);
  }

  private onGet(client: NodeId, request: KvGetRequest): void {
    if (this.variant === 'stale-follower-read') {
      // The bug: answer from whatever this replica has applied, leader or not.
      this.answerGet({ client, id: request.id, key: request.key, index: this.core.appliedIndex });
      return;
    }
    if (this.getKeys.size >= GET_KEYS_MAX) {
      const oldest = this.getKeys.keys().next().value as string;
      this.getKeys.delete(oldest);
    }
    this.getKeys.set(request.id, request.key);
    super.onMessage(client, { type: 'read', id: request.id });
  }

  /** The apply-before-commit bug: apply on append, acknowledge before any follower has it. */
  private proposeAndApplyAtOnce(client: NodeId, message: SimMessage): void {
    const before = this.core.lastIndex;
    super.onMessage(client, message);
    const entry = this.core.entryAt(before + 1);
    if (this.core.role !== 'leader' || entry === undefined || entry.kind !== 'command') {
      return;
    }
    const result = this.kv.apply(entry);
    super.reply(client, {
      type: 'propose-ok',
      id: message['id'] as string,
      index: entry.index,
      term: entry.term,
      result,
    });
  }

  /** Intercepts the node's answers to the reads this server started for Gets. */
  override reply(client: NodeId, reply: ClientReply): void {
    const key = reply.type === 'propose-ok' ? undefined : this.getKeys.get(reply.id);
    if (key === undefined) {
      super.reply(client, reply);
      return;
    }
    this.getKeys.delete(reply.id);
    if (reply.type !== 'read-ok') {
      super.reply(client, reply); // not-leader, request-failed: the client retries elsewhere
      return;
    }
    if (this.waiting.length >= WAITING_READS_MAX) {
      this.waiting.shift();
    }
    this.waiting.push({ client, id: reply.id, key, index: reply.index });
  }

  /** After every Ready the applied index may have moved: serve the reads it caught up with. */
  override process(): void {
    super.process();
    if (this.waiting.length === 0) {
      return;
    }
    const applied = this.core.appliedIndex;
    const still: WaitingRead[] = [];
    for (const read of this.waiting) {
      if (read.index <= applied) {
        this.answerGet(read);
      } else {
        still.push(read);
      }
    }
    this.waiting = still;
  }

  private answerGet(read: WaitingRead): void {
    if (read.client < 0) {
      return; // injected by a script: nobody to answer
    }
    const answer: KvGetOk = {
      type: 'kv-get-ok',
      id: read.id,
      value: this.kv.get(read.key),
      index: read.index,
    };
    this.ctx.send(read.client, answer as unknown as SimMessage, 48 + answer.value.length);
  }

  override inspect(): KvServerView | undefined {
    const base = super.inspect();
    if (base === undefined) {
      return undefined;
    }
    // The node's view is long-lived with getters reading the live core: extend it by
    // prototype (a spread would copy no getters), once per incarnation.
    this.kvView ??= Object.create(base, {
      kv: { value: { data: this.kv.data, sessions: this.kv.sessions }, enumerable: true },
      raftStateBytes: { get: () => this.ctx.disk.size(LOG_FILE), enumerable: true },
      snapshotBytes: { get: () => this.ctx.disk.size(SNAPSHOT_FILE), enumerable: true },
    }) as KvServerView;
    return this.kvView;
  }
}
