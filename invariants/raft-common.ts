// Shared vocabulary of the Raft invariants: the observation contract the node adapter emits,
// the god's-eye RaftInspect it implements, entry digests, and the committed-entries tracker
// that several invariants read. See invariants/raft.ts for the invariants themselves.
import { fail } from '../sim/assert.ts';
import type { ClusterView, NodeId, ObservationRecord } from '../sim/types.ts';
import { type RaftInspect, raftObservation, raftState } from '../systems/raft/contract.ts';

// ---- the contract with the Raft system (systems/raft/contract.ts) -----------------------------

export {
  commandDigest,
  commandIdDigest,
  encodeCommand,
  entryDigest,
  type RaftAdapterObservation,
  type RaftClientInspect,
  type RaftInspect,
  type RaftObservation,
  raftObservation,
} from '../systems/raft/contract.ts';

// ---- reading the view -----------------------------------------------------------------------

/**
 * The state of the node's Raft group, or undefined when it is down, refused to start, is a
 * client, or hosts no Raft group. Under raftInvariantsPerGroup the view is narrowed to one
 * group, so this is that group's state.
 */
export function serverState(view: ClusterView, node: NodeId): RaftInspect | undefined {
  return raftState(view, node);
}

export function formatTime(timeUs: number): string {
  return `${(timeUs / 1000).toFixed(3)} ms`;
}

export function formatDigest(digest: number | undefined): string {
  return digest === undefined ? 'unknown' : `0x${(digest >>> 0).toString(16).padStart(8, '0')}`;
}

/** Where a fact came from, for messages: "n2 at 12.345 ms". */
export interface Source {
  readonly node: NodeId;
  readonly timeUs: number;
}

export function at(view: ClusterView, source: Source): string {
  return `${view.name(source.node)} at ${formatTime(source.timeUs)}`;
}

/** A per-node number that starts at `initial` (node ids are small integers). */
export class PerNode {
  private readonly values: number[] = [];
  constructor(private readonly initial: number) {}
  get(node: NodeId): number {
    return this.values[node] ?? this.initial;
  }
  set(node: NodeId, value: number): void {
    if (!(node >= 0 && Number.isSafeInteger(node))) {
      fail(`node id ${node} must be a small integer`);
    }
    this.values[node] = value;
  }
  lowerTo(node: NodeId, value: number): void {
    this.set(node, Math.min(this.get(node), value));
  }
}

// ---- committed entries ----------------------------------------------------------------------

export interface CommittedEntry extends Source {
  readonly term: number;
  /** Undefined when the entry was already compacted on the node that reported it. */
  readonly digest: number | undefined;
}

/** Most entries collected per observation; the rest follow on later ones. */
const COLLECT_PER_OBSERVATION_MAX = 1024;

/**
 * What the cluster has committed: index → (term, digest), read from the committing node's log
 * when its `committed` observation arrives. Each index is collected once, from the first node
 * that reported it committed; later reports are compared against it by the invariants.
 * Shared by several invariants: update() is idempotent per record, whichever calls it first.
 */
export class CommittedEntries {
  readonly entries = new Map<number, CommittedEntry>();
  /** Every index at or below this was collected (or was compacted everywhere we looked). */
  collectedTo = 0;
  /** The indexes collected by the latest update (empty when freshFrom > freshTo). */
  freshFrom = 1;
  freshTo = 0;
  /** Highest index any node reported committed. */
  highest = 0;
  /**
   * term → highest index known committed by the end of that term. A leader's own commit is
   * exact (leaderTerm); a follower's is bounded by its current term, which is an upper bound
   * of the term in which the leader committed it.
   */
  private readonly highestByTerm = new Map<number, number>();
  private lastRecord: ObservationRecord | undefined;

  update(record: ObservationRecord, view: ClusterView): void {
    if (record === this.lastRecord) {
      return;
    }
    this.lastRecord = record;
    this.freshFrom = this.collectedTo + 1;
    this.freshTo = this.collectedTo;
    const observation = raftObservation(record);
    if (observation.type !== 'committed') {
      return;
    }
    const state = serverState(view, record.node);
    if (state === undefined) {
      fail(`${view.name(record.node)} reported a commit but is not a server`);
    }
    const commitTerm = observation.leaderTerm ?? state.term;
    const known = this.highestByTerm.get(commitTerm) ?? 0;
    this.highestByTerm.set(commitTerm, Math.max(known, observation.index));
    this.highest = Math.max(this.highest, observation.index);
    this.collect(record, state, observation.index, observation.term);
  }

  /** Highest index committed in a term before `term`: a leader of `term` must hold it all. */
  committedBefore(term: number): number {
    let highest = 0;
    for (const [commitTerm, index] of this.highestByTerm) {
      if (commitTerm < term && index > highest) {
        highest = index;
      }
    }
    return Math.min(highest, this.collectedTo);
  }

  private collect(record: ObservationRecord, state: RaftInspect, index: number, term: number) {
    const end = Math.min(index, this.collectedTo + COLLECT_PER_OBSERVATION_MAX);
    for (let at = this.collectedTo + 1; at <= end; at++) {
      const entryTerm = state.termAt(at) ?? (at === index ? term : undefined);
      if (entryTerm !== undefined) {
        // One literal per entry, not a spread of a shared source: this runs for every entry.
        this.entries.set(at, {
          node: record.node,
          timeUs: record.timeUs,
          term: entryTerm,
          digest: state.digestAt(at),
        });
      }
      this.collectedTo = at;
    }
    this.freshTo = this.collectedTo;
  }
}
