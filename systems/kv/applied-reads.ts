// Reads answered from a Raft group's applied state, linearizably: the holder asks the group
// for a ReadIndex read and, once the group says `read-ok` at index i, waits until its state
// machine has applied through i before answering (the read index alone says only that this
// node still led, not that its state machine caught up). A component a service on Raft holds:
// KvServer's Gets, and in systems/shardkv the controller's Query and the replica groups' Get.
import type { NodeId } from '../../sim/types.ts';
import type { ClientReply, RaftGroup } from '../raft/group.ts';

/** Reads between ReadIndex and apply; beyond this the oldest is dropped and its client retries. */
const WAITING_MAX = 1024;
const STARTED_MAX = 4096;

interface Waiting<T> {
  client: NodeId;
  id: string;
  request: T;
  index: number;
}

export class AppliedReads<T> {
  /** Request id → request, for reads whose ReadIndex is under way. */
  private readonly started = new Map<string, T>();
  private waiting: Waiting<T>[] = [];

  constructor(
    private readonly raft: () => RaftGroup,
    /** Answers a read whose index the state machine has applied. */
    private readonly serve: (client: NodeId, id: string, request: T, index: number) => void,
  ) {}

  /** Starts a read for `client`'s request `id`. */
  start(client: NodeId, id: string, request: T): void {
    if (this.started.size >= STARTED_MAX) {
      this.started.delete(this.started.keys().next().value as string);
    }
    this.started.set(id, request);
    this.raft().onMessage(client, { type: 'read', id });
  }

  /**
   * Takes the group's reply if it answers one of these reads (true), holding a `read-ok`
   * until the state machine catches up; any other reply to such a read goes to the client.
   */
  onReply(client: NodeId, reply: ClientReply): boolean {
    if (reply.type === 'propose-ok') {
      return false;
    }
    const request = this.started.get(reply.id);
    if (request === undefined) {
      return false;
    }
    this.started.delete(reply.id);
    if (reply.type !== 'read-ok') {
      this.raft().sendReply(client, reply); // not-leader, request-failed: the client retries
      return true;
    }
    if (this.waiting.length >= WAITING_MAX) {
      this.waiting.shift();
    }
    this.waiting.push({ client, id: reply.id, request, index: reply.index });
    return true;
  }

  /** After every round of Readies: serve what the state machine has caught up with. */
  serveCaughtUp(): void {
    if (this.waiting.length === 0) {
      return;
    }
    const applied = this.raft().core.appliedIndex;
    const still: Waiting<T>[] = [];
    for (const read of this.waiting) {
      if (read.index <= applied) {
        this.serve(read.client, read.id, read.request, read.index);
      } else {
        still.push(read);
      }
    }
    this.waiting = still;
  }
}
