// The topology of a run: an ordered list of groups, each a kind of node with its own program
// (a Raft group, a shard controller, brokers, a database, a client group). Node ids run
// through the groups in order; a node's name says what it is (`g2n3`, `db`, `c4`). Everything
// that needs to know who is who — the simulator, fault selection, shrink, invariants, the
// viewer — reads it from here, never from id ranges.
import { assert, fail } from './assert.ts';
import type { GroupView, NodeId, Plan, PlanGroup } from './types.ts';

/** Most nodes in one run: the network keeps an n² link matrix. */
export const NODES_MAX = 320;

/** The group a node belongs to, with its position in it. */
export interface Membership {
  readonly group: string;
  readonly index: number;
  readonly client: boolean;
}

/** Node names of a group: `prefix1`, `prefix2`, …, or the prefix alone for a one-node group. */
export function nodeNames(prefix: string, size: number, alone = false): string[] {
  assert(Number.isSafeInteger(size) && size >= 0, 'a group size is a non-negative integer');
  if (alone && size === 1) {
    return [prefix];
  }
  return Array.from({ length: size }, (_, index) => `${prefix}${index + 1}`);
}

const built = new WeakMap<readonly PlanGroup[], Topology>();

export class Topology {
  readonly groups: readonly GroupView[];
  readonly names: readonly string[];
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
  private readonly byName = new Map<string, GroupView>();
  private readonly memberships: Membership[] = [];

  constructor(groups: readonly PlanGroup[]) {
    const names: string[] = [];
    const servers: NodeId[] = [];
    const clients: NodeId[] = [];
    const views: GroupView[] = [];
    for (const group of groups) {
      assert(!this.byName.has(group.name), `group ${group.name} is declared twice`);
      const members: NodeId[] = [];
      for (const [index, name] of group.nodes.entries()) {
        const id = names.length;
        names.push(name);
        members.push(id);
        (group.client ? clients : servers).push(id);
        this.memberships.push({ group: group.name, index, client: group.client });
      }
      const view: GroupView = { name: group.name, client: group.client, members };
      views.push(view);
      this.byName.set(group.name, view);
    }
    this.groups = views;
    this.names = names;
    this.servers = servers;
    this.clients = clients;
  }

  /** The plan's topology, built once per groups list (plans are not edited in place). */
  static of(plan: Pick<Plan, 'groups'>): Topology {
    let topology = built.get(plan.groups);
    if (topology === undefined) {
      topology = new Topology(plan.groups);
      built.set(plan.groups, topology);
    }
    return topology;
  }

  get size(): number {
    return this.names.length;
  }

  members(group: string): readonly NodeId[] {
    const found = this.byName.get(group);
    if (found === undefined) {
      fail(`no group named ${group} (the topology has ${this.describeGroups()})`);
    }
    return found.members;
  }

  has(group: string): boolean {
    return this.byName.has(group);
  }

  membership(node: NodeId): Membership {
    const found = this.memberships[node];
    if (found === undefined) {
      fail(`no node ${node} (the topology has ${this.size})`);
    }
    return found;
  }

  groupOf(node: NodeId): string {
    return this.membership(node).group;
  }

  isClient(node: NodeId): boolean {
    return this.membership(node).client;
  }

  name(node: NodeId): string {
    return this.names[node] ?? `node ${node}`;
  }

  /** The server groups, those that fault selection picks victims from. */
  serverGroups(): GroupView[] {
    return this.groups.filter((group) => !group.client && group.members.length > 0);
  }

  /** "servers 5 (n1–n5), clients 3 (c1–c3, client)": how `list`, replay and errors say it. */
  describe(): string {
    return this.groups
      .filter((group) => group.members.length > 0)
      .map((group) => {
        const first = this.name(group.members[0] as NodeId);
        const last = this.name(group.members[group.members.length - 1] as NodeId);
        const span = group.members.length === 1 ? first : `${first}–${last}`;
        return `${group.name} ${group.members.length} (${span}${group.client ? ', client' : ''})`;
      })
      .join(', ');
  }

  private describeGroups(): string {
    return this.groups.map((group) => group.name).join(', ') || 'no groups';
  }
}
