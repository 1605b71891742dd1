// Every Raft invariant holds per Raft group. A run may host several groups (a shard
// controller and replica groups, three independent clusters, multi-Raft nodes); each group
// gets its own fresh instances of the invariants, fed only that group's observations, over a
// view narrowed to that group: inspect() reads the group's state on each node, history holds
// the operations its clients tagged with the group's stream. A violation names its group when
// the run has more than one.
import type {
  ClusterView,
  HistoryOperation,
  Invariant,
  NodeId,
  ObservationRecord,
  Undecided,
  Verdict,
} from '../sim/types.ts';
import { raftGroupOf, raftState } from '../systems/raft/contract.ts';

export interface PerGroupOptions {
  /**
   * The Raft groups of the run, so that a group that never reported anything is still judged
   * at the end. Default: the topology's server groups (each of which hosts one Raft group, as
   * RaftNode and KvServer do); name them when groups are hosted otherwise (multi-Raft).
   */
  groups?: readonly string[];
  /**
   * The clients that work a group (default: every client): liveness expects new commands only
   * where a group has clients.
   */
  clientsOf?: (view: ClusterView, group: string) => readonly NodeId[];
}

interface GroupInstance {
  readonly invariants: Invariant[];
  readonly view: ClusterView;
  /** The group's records, in order, as they were routed (what its atEnd checks read). */
  readonly records: ObservationRecord[];
}

/** Runs `make()`'s invariants once per Raft group; `make` must return the same list each time. */
export function raftInvariantsPerGroup(
  make: () => Invariant[],
  options: PerGroupOptions = {},
): Invariant[] {
  const template = make();
  const instances = new Map<string, GroupInstance>();
  const routed: {
    record: ObservationRecord | undefined;
    group: string | undefined;
    instance: GroupInstance | undefined;
  } = { record: undefined, group: undefined, instance: undefined };
  // Records routed so far, Raft or not: when it equals the run's count at the end, every
  // record went through routing and each instance's own list is complete.
  let routedCount = 0;
  // Named groups, the topology's server groups or the groups seen: more than one, and a
  // violation must say whose it is.
  const several = (view: ClusterView) =>
    Math.max(options.groups?.length ?? 0, serverGroups(view).length, instances.size) > 1;

  const instanceFor = (group: string, view: ClusterView): GroupInstance => {
    let instance = instances.get(group);
    if (instance === undefined) {
      instance = { invariants: make(), view: narrowed(view, group, options), records: [] };
      instances.set(group, instance);
    }
    return instance;
  };
  const named = (group: string, verdict: Verdict, view: ClusterView): Verdict =>
    verdict === undefined || !several(view) ? verdict : `in Raft group ${group}: ${verdict}`;

  // The first observing wrapper takes every record, so that each is routed to its group's list
  // (what atEnd reads); it calls its own check only for the types that check observes. The
  // others take only their checks' types from the kernel (Invariant.observes).
  const router = template.findIndex((invariant) => invariant.onObservation !== undefined);
  return template.map((first, position) => {
    const invariant: Invariant =
      first.observes === undefined || position === router
        ? { name: first.name }
        : { name: first.name, observes: first.observes };
    const wants = position === router && first.observes !== undefined ? first.observes : undefined;
    if (first.onObservation !== undefined) {
      invariant.onObservation = (record, view) => {
        // Every wrapped invariant sees the same record in turn: look its group up once.
        if (record !== routed.record) {
          const group = raftGroupOf(record);
          routed.record = record;
          routed.group = group;
          routed.instance = group === undefined ? undefined : instanceFor(group, view);
          routed.instance?.records.push(record);
          routedCount++;
        }
        const { group, instance } = routed;
        if (group === undefined || instance === undefined) {
          return undefined; // not a Raft observation
        }
        if (wants !== undefined && !wants.includes(record.observation.type)) {
          return undefined;
        }
        const verdict = (instance.invariants[position] as Invariant).onObservation?.(
          record,
          instance.view,
        );
        return verdict === undefined ? undefined : named(group, verdict, view);
      };
    }
    if (first.atEnd !== undefined) {
      invariant.atEnd = (view, observations) => {
        for (const group of options.groups ?? serverGroups(view)) {
          instanceFor(group, view);
        }
        const byGroup =
          routedCount === observations.length ? undefined : observationsByGroup(observations);
        for (const [group, instance] of instances) {
          const check = instance.invariants[position] as Invariant;
          const records = byGroup === undefined ? instance.records : (byGroup.get(group) ?? []);
          const verdict = check.atEnd?.(instance.view, records);
          if (typeof verdict === 'object') {
            const undecided = named(group, verdict.undecided, view) as string;
            return { undecided } satisfies Undecided;
          }
          if (verdict !== undefined) {
            return named(group, verdict, view);
          }
        }
        return undefined;
      };
    }
    return invariant;
  });
}

function serverGroups(view: ClusterView): string[] {
  return view.groups
    .filter((group) => !group.client && group.members.length > 0)
    .map((group) => group.name);
}

function observationsByGroup(
  observations: readonly ObservationRecord[],
): Map<string, ObservationRecord[]> {
  const byGroup = new Map<string, ObservationRecord[]>();
  for (const record of observations) {
    const group = raftGroupOf(record);
    if (group === undefined) {
      continue;
    }
    let list = byGroup.get(group);
    if (list === undefined) {
      list = [];
      byGroup.set(group, list);
    }
    list.push(record);
  }
  return byGroup;
}

/**
 * The view one group's invariants read: each node's state of that group only (nodes that do
 * not host it look down), the nodes that may host it as servers, and the history its clients
 * tagged with the group's stream.
 */
function narrowed(view: ClusterView, group: string, options: PerGroupOptions): ClusterView {
  const isTopologyGroup = view.groups.some((candidate) => candidate.name === group);
  const servers = isTopologyGroup ? view.members(group) : view.servers;
  let history: HistoryOperation[] | undefined;
  let historyFrom = -1;
  return {
    get servers() {
      return servers;
    },
    get clients() {
      return options.clientsOf?.(view, group) ?? view.clients;
    },
    get groups() {
      return view.groups;
    },
    members: (name) => view.members(name),
    groupOf: (node) => view.groupOf(node),
    get timeUs() {
      return view.timeUs;
    },
    get phase() {
      return view.phase;
    },
    isUp: (node) => view.isUp(node),
    inspect: (node) => raftState(view, node, group),
    name: (node) => view.name(node),
    get history() {
      // Read at the end (and rarely before): filter once per length of the full history.
      if (history === undefined || historyFrom !== view.history.length) {
        history = view.history.filter((operation) => operation.stream === group);
        historyFrom = view.history.length;
      }
      return history;
    },
    get messagesSent() {
      return view.messagesSent;
    },
    get bytesSent() {
      return view.bytesSent;
    },
    ...(view.fileSize === undefined ? {} : { fileSize: view.fileSize }),
    ...(view.mediaFaults === undefined ? {} : { mediaFaults: view.mediaFaults }),
    ...(view.storedDamage === undefined ? {} : { storedDamage: view.storedDamage }),
    ...(view.durableFile === undefined ? {} : { durableFile: view.durableFile }),
  };
}
