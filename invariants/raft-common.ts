// Shared vocabulary of the Raft invariants: the observation contract the node adapter emits,
// the god's-eye RaftInspect it implements, entry digests, and the committed-entries tracker
// that several invariants read. See invariants/raft.ts for the invariants themselves.
import { fail } from '../sim/assert.ts';
import { digestValue } from '../sim/trace.ts';
import type { ClusterView, NodeId, ObservationRecord } from '../sim/types.ts';
import type { EntryKind, RaftEvent, Role } from '../systems/raft/types.ts';

// ---- the contract with the adapter ----------------------------------------------------------

/** What `view.inspect(server)` returns for a running server. */
export interface RaftInspect {
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly voters: readonly NodeId[];
  /** The term at index; snapshotTerm at snapshotIndex; undefined when compacted or beyond. */
  termAt(index: number): number | undefined;
  /** entryDigest() of the entry at index; undefined when compacted away or beyond the end. */
  digestAt(index: number): number | undefined;
  /** index → digest of every entry this incarnation's state machine applied (not the snapshot). */
  readonly appliedDigests: ReadonlyMap<number, number>;
}

/** What `view.inspect(client)` may return. */
export interface RaftClientInspect {
  readonly role: 'client';
}

/** The observations the adapter adds to the core's RaftEvents. */
export type RaftAdapterObservation =
  | {
      readonly type: 'restarted';
      readonly term: number;
      readonly vote: NodeId | null;
      readonly commit: number;
      readonly lastIndex: number;
      readonly snapshotIndex: number;
      readonly snapshotTerm: number;
    }
  | { readonly type: 'torn-tail-recovered'; readonly truncateAt: number }
  | { readonly type: 'corruption-detected'; readonly offset: number }
  | {
      readonly type: 'applied';
      readonly index: number;
      readonly term: number;
      readonly kind: EntryKind;
      readonly digest: number;
    }
  | { readonly type: 'snapshot-applied'; readonly index: number; readonly term: number }
  /** A granted vote response left the node (sent on the wire, durable or not). */
  | { readonly type: 'vote-sent'; readonly term: number; readonly to: NodeId }
  /** A leader started a read (ReadIndex or lease); readId is unique per incarnation. */
  | { readonly type: 'read-requested'; readonly readId: number }
  /** ...and answered it: the state machine will serve it at index or later. */
  | { readonly type: 'read-served'; readonly readId: number; readonly index: number }
  | {
      readonly type: 'proposal-acked';
      readonly id: string;
      readonly index: number;
      readonly term: number;
    };

export type RaftObservation = RaftEvent | RaftAdapterObservation;

/** The observation in a record, read through the contract (the adapter is trusted to keep it). */
export function raftObservation(record: ObservationRecord): RaftObservation {
  return record.observation as unknown as RaftObservation;
}

// ---- digests --------------------------------------------------------------------------------

/** The digest of a command's data: what `applied.digest` and `digestAt` carry for commands. */
export function commandDigest(data: Uint8Array): number {
  return digestValue(data);
}

/**
 * The digest of any entry. Commands digest to commandDigest(data); no-ops and config entries
 * are salted with their kind, so an empty command never looks like a no-op.
 */
export function entryDigest(kind: EntryKind, data: Uint8Array): number {
  return kind === 'command' ? commandDigest(data) : digestValue([kind, data]);
}

const utf8 = new TextEncoder();

/** The data of the command a client proposes with `id`: its UTF-8 bytes. */
export function encodeCommand(id: string): Uint8Array {
  return utf8.encode(id);
}

/** The digest the entry of command `id` carries once applied. */
export function commandIdDigest(id: string): number {
  return commandDigest(encodeCommand(id));
}

// ---- reading the view -----------------------------------------------------------------------

/** The server's inspect view, or undefined when it is down (or is a client). */
export function serverState(view: ClusterView, node: NodeId): RaftInspect | undefined {
  if (node < 0 || view.clients.includes(node)) {
    return undefined;
  }
  const state = view.inspect(node) as RaftInspect | RaftClientInspect | undefined;
  if (state === undefined || state.role === 'client') {
    return undefined;
  }
  return state;
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
    const source = { node: record.node, timeUs: record.timeUs };
    const end = Math.min(index, this.collectedTo + COLLECT_PER_OBSERVATION_MAX);
    for (let at = this.collectedTo + 1; at <= end; at++) {
      const entryTerm = state.termAt(at) ?? (at === index ? term : undefined);
      if (entryTerm !== undefined) {
        this.entries.set(at, { ...source, term: entryTerm, digest: state.digestAt(at) });
      }
      this.collectedTo = at;
    }
    this.freshTo = this.collectedTo;
  }
}
