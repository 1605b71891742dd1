// A multi-Raft node, as TiKV or CockroachDB place their ranges: one server hosts several Raft
// groups, which share its disk (each in files of its own, under `<group>/`), its timers and its
// network endpoint, and crash together, but never share state. Every message, timer and fsync
// goes to the one group it belongs to: Raft traffic and client requests name their group, and
// a request that names none is dropped (with several groups there is no "the" group for it).

import { assert, fail } from '../../sim/assert.ts';
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import type { RaftHost } from './contract.ts';
import { RaftGroup, type RaftNodeOptions, type StateMachine } from './group.ts';

export interface MultiRaftNodeConfig {
  /** The Raft groups this node hosts, each with every member of `peersGroup` as its peers. */
  readonly groups: readonly string[];
  /** The topology group whose members host every Raft group. */
  readonly peersGroup: string;
  readonly stateMachine: (group: string) => StateMachine;
  readonly options?: Partial<RaftNodeOptions>;
}

export class MultiRaftNode implements NodeProgram {
  private readonly groups: readonly RaftGroup[];
  private readonly byId: ReadonlyMap<string, RaftGroup>;

  constructor(ctx: NodeContext, config: MultiRaftNodeConfig) {
    assert(config.groups.length > 0, 'a multi-Raft node hosts at least one group');
    assert(new Set(config.groups).size === config.groups.length, 'Raft group ids are unique');
    const peers = ctx.members(config.peersGroup);
    this.groups = config.groups.map(
      (id) =>
        new RaftGroup(ctx, {
          id,
          peers,
          filePrefix: `${id}/`,
          stateMachine: config.stateMachine(id),
          ...(config.options === undefined ? {} : { options: config.options }),
        }),
    );
    this.byId = new Map(this.groups.map((group) => [group.id, group]));
  }

  onStart(): void {
    for (const group of this.groups) {
      group.start();
    }
  }

  onMessage(from: NodeId, message: SimMessage): void {
    const id = message['group'];
    if (typeof id === 'string') {
      this.byId.get(id)?.onMessage(from, message);
    }
  }

  onTimer(tag: string): void {
    // Each group owns its own tag; a tag no group claims would be a timer nobody set.
    const claimed = this.groups.some((group) => group.onTimer(tag));
    if (!claimed) {
      fail(`timer ${tag} belongs to no Raft group of this node`);
    }
  }

  onSynced(syncId: number, ok: boolean): void {
    // A sync no group claims was started by a group and then forgotten (after a failed fsync
    // the group restarts from disk): nothing waits on it.
    this.groups.some((group) => group.onSynced(syncId, ok));
  }

  inspect(): RaftHost {
    return {
      raftGroup: (id?: string) => (id === undefined ? undefined : this.byId.get(id)?.inspect()),
    };
  }
}
