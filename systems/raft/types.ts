// The data that crosses the boundary of the Raft core: entries, persistent state, messages,
// configuration, the Ready batch, and the events the adapter forwards to the simulator.
// Everything here is plain data, so it can be copied, encoded and compared.

export type NodeId = number;

export type EntryKind = 'command' | 'config' | 'noop';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  /** For 'config' entries: the full new voter set, see encodeVoters(). Empty for 'noop'. */
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  /** The voter configuration in effect at lastIncludedIndex. */
  readonly voters: readonly NodeId[];
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/**
 * One realistic mistake each. The first four are implemented inside the core; the last three
 * are implemented by the node adapter (the core only hands it what it needs:
 * messageNeedsDurability() tells which messages must wait for fsync), except
 * 'forget-vote-on-restart', which the core applies when it is restored. 'torn-tail-refused' and
 * 'recover-drops-last-entry' are in the adapter's recovery.
 */
export type RaftBug =
  | 'commit-previous-term'
  | 'accept-stale-term'
  | 'no-truncate-on-conflict'
  | 'snapshot-off-by-one'
  | 'vote-without-fsync'
  | 'ack-before-fsync'
  | 'forget-vote-on-restart'
  | 'torn-tail-refused'
  | 'recover-drops-last-entry'
  | 'leader-never-steps-down'
  | LeaseBug;

/**
 * Mistakes of lease reads (only with `lease` configured): 'lease-renewed-on-send' and
 * 'lease-vote-after-restart' are in the core, 'lease-on-ticks' and 'lease-ignores-drift' in
 * the adapter, which gives the core its clock and its lease's length.
 */
export type LeaseBug =
  | 'lease-renewed-on-send'
  | 'lease-vote-after-restart'
  | 'lease-on-ticks'
  | 'lease-ignores-drift';

export const RAFT_BUGS: readonly RaftBug[] = [
  'commit-previous-term',
  'accept-stale-term',
  'no-truncate-on-conflict',
  'snapshot-off-by-one',
  'vote-without-fsync',
  'ack-before-fsync',
  'forget-vote-on-restart',
  'torn-tail-refused',
  'recover-drops-last-entry',
  'leader-never-steps-down',
  'lease-renewed-on-send',
  'lease-vote-after-restart',
  'lease-on-ticks',
  'lease-ignores-drift',
];

/**
 * Leader lease reads: a leader answers a read at once, without a round of heartbeats, while a
 * quorum acknowledged a heartbeat it sent less than `durationUs` ago. Safe only if that is
 * shorter than the time any voter of that quorum refuses votes after hearing the heartbeat
 * (electionTicks - 1 of its ticks), however the servers' clock rates differ: the adapter
 * derives it from a stated drift bound (see leaseDurationUs in node.ts).
 */
export interface LeaseConfig {
  readonly durationUs: number;
  /** The leader's monotonic clock, µs: one that keeps running while the process is paused. */
  readonly clockUs: () => number;
}

export interface RaftConfig {
  readonly id: NodeId;
  /**
   * The bootstrap configuration, used only when the restored state holds no configuration
   * (no snapshot voters and no config entry). Includes self for founding members; a node that
   * will be added later starts with [] and learns its configuration from the leader.
   */
  readonly voters: readonly NodeId[];
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesPerAppend: number;
  readonly maxInflightAppends: number;
  readonly maxSnapshotChunkBytes: number;
  readonly bugs: ReadonlySet<RaftBug>;
  /** The node's own seeded stream: an integer in [0, maxExclusive). */
  readonly randomInt: (maxExclusive: number) => number;
  /**
   * A fault point (FoundationDB's buggify) inside the protocol: true now and then on seeds that
   * enable it, to take a legal but rarely taken path. Absent: never.
   */
  readonly buggify?: (label: string) => boolean;
  /** Serve reads under a leader lease where it holds (needs checkQuorum); else ReadIndex only. */
  readonly lease?: LeaseConfig;
}

export interface RestoredState {
  readonly hardState: HardState;
  /** lastIncludedIndex 0 / term 0 when there has never been a snapshot. */
  readonly snapshotMeta: SnapshotMeta;
  readonly snapshotData?: Uint8Array;
  /** Persisted entries in index order; entries at or below the snapshot are skipped. */
  readonly entries: readonly Entry[];
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

// ---- messages -------------------------------------------------------------------------------

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendMessage extends Envelope {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends Envelope {
  readonly type: 'append-response';
  readonly success: boolean;
  /** On success the last index now known to match; on rejection the prevIndex rejected. */
  readonly index: number;
  /** On rejection: the term of the follower's entry at prevIndex (0 if it has none)... */
  readonly conflictTerm: number;
  /** ...and the first index the follower holds with that term (or its lastIndex + 1). */
  readonly conflictIndex: number;
}

export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** ReadIndex round this heartbeat confirms (0 for none). */
  readonly readSeq: number;
  /** With lease reads: the leader's monotonic clock when it made this heartbeat. */
  readonly leaseSentUs?: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeat-response';
  readonly readSeq: number;
  /** The leaseSentUs of the heartbeat answered: the leader's lease runs from there. */
  readonly leaseSentUs?: number;
}

export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'pre-vote';
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export interface VoteResponse extends Envelope {
  readonly type: 'vote-response' | 'pre-vote-response';
  readonly granted: boolean;
}

export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

export interface SnapshotResponse extends Envelope {
  readonly type: 'snapshot-response';
  /** The offset of the chunk this answers: the leader acts only on the answer to its latest send. */
  readonly chunkOffset: number;
  /** The lastIncludedIndex of the snapshot being transferred. */
  readonly index: number;
  /** The next byte offset the follower expects. */
  readonly nextOffset: number;
  /** True once the snapshot is installed (or already covered by the follower's commit). */
  readonly done: boolean;
}

export type Message =
  | AppendMessage
  | AppendResponse
  | HeartbeatMessage
  | HeartbeatResponse
  | VoteMessage
  | VoteResponse
  | SnapshotMessage
  | SnapshotResponse;

export type MessageType = Message['type'];

// ---- inputs' results ------------------------------------------------------------------------

export type NotLeader = {
  readonly ok: false;
  readonly reason: 'not-leader';
  readonly leaderHint: NodeId | null;
};

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | NotLeader;

export type MembershipChange = { readonly type: 'add' | 'remove'; readonly node: NodeId };

export type MembershipResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | NotLeader
  | {
      readonly ok: false;
      readonly reason:
        | 'change-in-progress'
        | 'no-commit-in-term'
        | 'already-member'
        | 'not-member'
        | 'last-voter';
      readonly leaderHint: NodeId | null;
    };

export type ReadIndexResult = { readonly ok: true } | NotLeader;

export type ReadState =
  | { readonly requestId: number; readonly ok: true; readonly index: number }
  /** The leader lost leadership before confirming the read: retry elsewhere. */
  | { readonly requestId: number; readonly ok: false };

// ---- events ---------------------------------------------------------------------------------

export type StepDownReason = 'higher-term' | 'check-quorum' | 'removed' | 'leader-seen';

export type RaftEvent =
  | { readonly type: 'campaign-started'; readonly term: number; readonly preVote: boolean }
  | { readonly type: 'became-leader'; readonly term: number }
  | { readonly type: 'stepped-down'; readonly term: number; readonly reason: StepDownReason }
  | { readonly type: 'vote-granted'; readonly term: number; readonly to: NodeId }
  /** Commit advanced to index; term is the term of the entry at index; leaderTerm set when a leader advanced it. */
  | {
      readonly type: 'committed';
      readonly index: number;
      readonly term: number;
      readonly leaderTerm: number | null;
    }
  | { readonly type: 'log-truncated'; readonly from: number }
  /** The first read this leader answered under its lease, without a heartbeat round. */
  | { readonly type: 'lease-read'; readonly term: number; readonly index: number }
  | { readonly type: 'snapshot-installed'; readonly index: number; readonly term: number }
  | {
      readonly type: 'membership-changed';
      readonly voters: readonly NodeId[];
      readonly index: number;
    };

// ---- the Ready batch ------------------------------------------------------------------------

/**
 * What the adapter must do, in this order: persist snapshotToPersist (if any; persisted
 * entries at or below its index may then be dropped), drop persisted entries with
 * index >= truncateFrom (if set), append entriesToAppend, persist hardState (if set), and fsync.
 * Only once all that is durable: send messages, apply snapshotToApply then committedEntries,
 * hand out readStates, forward events, and call advance().
 */
export interface Ready {
  readonly hardState: HardState | undefined;
  readonly truncateFrom: number | undefined;
  readonly entriesToAppend: readonly Entry[];
  readonly snapshotToPersist: Snapshot | undefined;
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly snapshotToApply: Snapshot | undefined;
  readonly events: readonly RaftEvent[];
}

/**
 * Messages that acknowledge state the receiver relies on (a granted vote, an append or snapshot
 * acknowledgement): sending one before the Ready is durable is the 'vote-without-fsync' /
 * 'ack-before-fsync' bug class.
 */
export function messageNeedsDurability(message: Message): 'vote' | 'ack' | null {
  switch (message.type) {
    case 'vote-response':
      return message.granted ? 'vote' : null;
    case 'append-response':
    case 'snapshot-response':
      return 'ack';
    default:
      return null;
  }
}
