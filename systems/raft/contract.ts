// The contract between Raft and its checkers: what a node hosting Raft groups shows through
// inspect(), the observations a Raft group reports (each tagged with its group), and how
// entries are digested. It lives with the system so that systems never import invariants/;
// invariants read Raft only through the accessors below, which are the one place that casts.
import { digestValue } from '../../sim/trace.ts';
import type { ClusterView, NodeId, ObservationRecord } from '../../sim/types.ts';
import type { Entry, EntryKind, RaftEvent, Role } from './types.ts';

// ---- inspect --------------------------------------------------------------------------------

/** A running Raft group's state on one node, as invariants see it. */
export interface RaftInspect {
  /** The Raft group this is the state of. */
  readonly group: string;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  /**
   * Ticks since the election timer was last reset: a follower resets it on each message of its
   * leader, so a small count means it heard from `leader` just now.
   */
  readonly electionElapsedTicks: number;
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
  /** What this incarnation recovered from its disk at start. */
  readonly recovered: RaftRecovered;
  /**
   * digestValue() of the snapshot() of a fresh state machine, configured as this node's,
   * restored from `snapshot` (when given) and then fed `entries`: what a faithful replay of
   * those durable bytes yields. Present only when the state machine declares that it can
   * make a fresh copy; undefined from it means fresh() made none (a broken contract).
   */
  rebuildStateMachine?(
    snapshot: Uint8Array | undefined,
    entries: readonly Entry[],
  ): number | undefined;
  /**
   * The state of a Raft group this node hosts: `group` omitted means the node's only group.
   * Every RaftInspect answers for its own group, so a view narrowed to one group reads as a
   * node hosting just that group.
   */
  raftGroup(group?: string): RaftInspect | undefined;
}

/** One entry of a recovered log: its index, term and entryDigest(). */
export interface RecoveredEntry {
  readonly index: number;
  readonly term: number;
  readonly digest: number;
}

/**
 * What this incarnation of a Raft group rebuilt from its disk when it started, read from its
 * core and state machine right after recovery (before any tick, message or apply), and the
 * files it rebuilt it from. A recovery check compares it with its own decoding of those
 * files' durable images: whatever recovery did, the result must be what the disk holds.
 */
export interface RaftRecovered {
  /** The files on the node's disk: the log, and the snapshot file (which may not exist). */
  readonly logFile: string;
  readonly snapshotFile: string;
  readonly term: number;
  readonly vote: NodeId | null;
  /** The commit index the core started from. */
  readonly commit: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** The snapshot's voters; meaningful only when snapshotIndex > 0. */
  readonly snapshotVoters: readonly NodeId[];
  /** digestValue() of the snapshot data the core holds (0 bytes when there is none). */
  readonly snapshotDataDigest: number;
  /**
   * digestValue() of the state machine's snapshot() taken right after it was restored, when a
   * snapshot was: a state machine restored faithfully encodes back to the durable bytes.
   */
  readonly stateMachineDigest: number | undefined;
  /** The entries after the snapshot, in index order. */
  readonly entries: readonly RecoveredEntry[];
}

/** What inspect() of a node hosting one or more Raft groups (multi-Raft) provides. */
export interface RaftHost {
  raftGroup(group?: string): RaftInspect | undefined;
}

/** What a Raft client's inspect() returns. */
export interface RaftClientInspect {
  readonly role: 'client';
}

/**
 * The state of `group` on `node` (its only group when `group` is omitted), or undefined when
 * the node is down, refuses to start, is a client, or does not host that group.
 */
export function raftState(
  view: ClusterView,
  node: NodeId,
  group?: string,
): RaftInspect | undefined {
  if (node < 0) {
    return undefined;
  }
  const inspected = view.inspect(node) as Partial<RaftHost> | undefined;
  return inspected?.raftGroup?.(group);
}

// ---- observations ---------------------------------------------------------------------------

/** The observations a Raft group adds to its core's RaftEvents. */
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
  /**
   * This incarnation's state machine reached the commit index it recovered (by applying the
   * recovered log, not by installing a snapshot): stateDigest is digestValue() of its snapshot().
   */
  | { readonly type: 'recovery-replayed'; readonly index: number; readonly stateDigest: number }
  | { readonly type: 'corruption-detected'; readonly offset: number; readonly reason: string }
  | { readonly type: 'fsync-failed' }
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
  | { readonly type: 'log-rewritten'; readonly bytes: number; readonly snapshotIndex: number }
  /** A client's command was acknowledged (reported by the client). */
  | {
      readonly type: 'proposal-acked';
      readonly id: string;
      readonly index: number;
      readonly term: number;
    }
  /** A client's read was answered, to be served at index or later (reported by the client). */
  | { readonly type: 'read-answered'; readonly id: string; readonly index: number };

/** Every Raft observation names the Raft group it is about. */
export type RaftObservation = (RaftEvent | RaftAdapterObservation) & { readonly group: string };

/** The Raft group an observation is about, or undefined when it is not a Raft observation. */
export function raftGroupOf(record: ObservationRecord): string | undefined {
  const group = (record.observation as { group?: unknown }).group;
  return typeof group === 'string' ? group : undefined;
}

/**
 * The observation in a record, read through the contract. Raft groups and clients are trusted
 * to keep it (observations of other types pass through untouched and match no case).
 */
export function raftObservation(record: ObservationRecord): RaftObservation {
  return record.observation as unknown as RaftObservation;
}

// ---- digests and commands -------------------------------------------------------------------

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
