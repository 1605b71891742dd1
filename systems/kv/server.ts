// A KV server: a node program that holds one Raft group replicating a KvStateMachine, and
// uses it only through the group's public surface. Writes are the group's own 'propose' path
// (the reply carries the apply result); a Get is turned into the group's ReadIndex read, and
// its 'read-ok' is held back (AppliedReads) until the state machine has applied up to the
// read index, then answered with the value. That wait is what makes the read linearizable: the read index
// alone says only that this node was still the leader, not that its state machine caught up.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import type { RaftGroup, RaftNodeOptions } from '../raft/group.ts';
import { AppliedReads } from './applied-reads.ts';
import type { KvServerInspect } from './contract.ts';
import { serviceRaftGroup } from './service-raft.ts';
import { KvStateMachine } from './state-machine.ts';
import { type KvGetOk, type KvGetRequest, type KvVariant, kvVariant } from './types.ts';

export class KvServer implements NodeProgram {
  readonly kv: KvStateMachine;
  readonly raft: RaftGroup;
  private readonly variant: KvVariant | null;
  /** Gets (their keys) between ReadIndex and apply. */
  private readonly reads: AppliedReads<string>;
  private kvView: KvServerInspect | undefined;

  constructor(
    private readonly ctx: NodeContext,
    raftOptions: Partial<RaftNodeOptions> = {},
  ) {
    const variant = kvVariant(ctx.variant);
    const kv = new KvStateMachine({
      dedup: variant !== 'no-dedup',
      sessionsInSnapshot: variant !== 'dedup-not-in-snapshot',
    });
    this.kv = kv;
    this.variant = variant;
    this.reads = new AppliedReads(
      () => this.raft,
      (client, id, key, index) => this.answerGet(client, id, key, index),
    );
    // A variant may name a Raft bug (kv-lease's lease bugs); KV's own are handled here.
    this.raft = serviceRaftGroup(ctx, kv, raftOptions, this.reads);
    kv.onDuplicate = (command) =>
      ctx.observe({ type: 'kv-duplicate-suppressed', client: command.client, seq: command.seq });
  }

  onStart(): void {
    this.raft.start();
  }

  onTimer(tag: string): void {
    this.raft.onTimer(tag);
  }

  onSynced(syncId: number, ok: boolean): void {
    this.raft.onSynced(syncId, ok);
  }

  onMessage(from: NodeId, message: SimMessage): void {
    // Not running: the node refused to start (damaged disk) and takes no part at all.
    if (!this.raft.running) {
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
    this.raft.onMessage(from, message);
  }

  private onGet(client: NodeId, request: KvGetRequest): void {
    if (this.variant === 'stale-follower-read') {
      // The bug: answer from whatever this replica has applied, leader or not.
      const index = this.raft.core.appliedIndex;
      this.answerGet(client, request.id, request.key, index);
      return;
    }
    this.reads.start(client, request.id, request.key);
  }

  /** The apply-before-commit bug: apply on append, acknowledge before any follower has it. */
  private proposeAndApplyAtOnce(client: NodeId, message: SimMessage): void {
    const core = this.raft.core;
    const before = core.lastIndex;
    this.raft.onMessage(client, message);
    const entry = core.entryAt(before + 1);
    if (core.role !== 'leader' || entry === undefined || entry.kind !== 'command') {
      return;
    }
    const result = this.kv.apply(entry);
    this.raft.sendReply(client, {
      type: 'propose-ok',
      id: message['id'] as string,
      index: entry.index,
      term: entry.term,
      result,
    });
  }

  private answerGet(client: NodeId, id: string, key: string, index: number): void {
    if (client < 0) {
      return; // injected by a script: nobody to answer
    }
    const answer: KvGetOk = { type: 'kv-get-ok', id, value: this.kv.get(key), index };
    this.ctx.send(client, answer as unknown as SimMessage, 48 + answer.value.length);
  }

  inspect(): KvServerInspect | undefined {
    const base = this.raft.inspect();
    if (base === undefined) {
      return undefined;
    }
    // The group's view is long-lived with getters reading the live core: extend it by
    // prototype (a spread would copy no getters), once per incarnation.
    const raft = this.raft;
    this.kvView ??= Object.create(base, {
      kv: { value: { data: this.kv.data, sessions: this.kv.sessions }, enumerable: true },
      raftStateBytes: { get: () => raft.logBytes, enumerable: true },
      snapshotBytes: { get: () => raft.snapshotBytes, enumerable: true },
    }) as KvServerInspect;
    return this.kvView;
  }
}
