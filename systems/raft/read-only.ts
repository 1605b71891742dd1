// Linearizable reads without writing to the log, as etcd's read_only.go: ReadIndex (the
// leader records its commit index, confirms with a heartbeat round that a quorum still
// follows it, then answers at that index) and, where configured, the leader lease (answer at
// once while a quorum acknowledged a recent heartbeat, since those voters refuse to elect
// anyone else for an election timeout after they heard it).
import type { Raft } from './raft.ts';
import { majority, quorumIndex } from './tracker.ts';
import type { NodeId } from './types.ts';

interface PendingRead {
  readonly requestId: number;
  readonly index: number;
  /** The heartbeat round that confirms it: answers carrying this seq or later count. */
  readonly seq: number;
  readonly acks: Set<NodeId>;
}

/** A leader's reads in progress. */
export class ReadOnly {
  /** Reads waiting for a quorum of answers to their heartbeat round, oldest first. */
  pending: PendingRead[] = [];
  /** Reads that arrived before this term's first commit (the leader's commit may be stale). */
  waiting: number[] = [];
  seq = 0;
  /** Whether this leadership has answered a read under its lease yet (reported once). */
  leaseReadReported = false;
  /** When the last heartbeats went out (only the 'lease-renewed-on-send' bug reads it). */
  heartbeatSentUs = -1;

  /** A new leadership starts with no reads. */
  reset(): void {
    this.pending = [];
    this.waiting = [];
    this.leaseReadReported = false;
  }
}

/**
 * Starts a heartbeat round for these reads at the current commit index. Returns true when
 * reads are still pending, so the caller must broadcast the round's heartbeat.
 */
export function issueReads(r: Raft, requestIds: readonly number[]): boolean {
  const reads = r.reads;
  reads.seq++;
  for (const requestId of requestIds) {
    const acks = new Set<NodeId>(r.currentVoters.includes(r.id) ? [r.id] : []);
    reads.pending.push({ requestId, index: r.commit, seq: reads.seq, acks });
  }
  releaseReads(r);
  return reads.pending.length > 0;
}

/** A heartbeat answer for round `seq` confirms every read of that round or earlier. */
export function ackReads(r: Raft, from: NodeId, seq: number): void {
  if (!r.currentVoters.includes(from)) {
    return;
  }
  for (const read of r.reads.pending) {
    if (read.seq <= seq) {
      read.acks.add(from);
    }
  }
  releaseReads(r);
}

function releaseReads(r: Raft): void {
  const reads = r.reads;
  const needed = majority(r.currentVoters.length);
  let released = 0;
  for (const read of reads.pending) {
    let acks = 0;
    for (const id of read.acks) {
      acks += r.currentVoters.includes(id) ? 1 : 0;
    }
    if (acks < needed) {
      break;
    }
    r.readStates.push({ requestId: read.requestId, ok: true, index: read.index });
    released++;
  }
  reads.pending.splice(0, released);
}

/** Leadership is lost: every read in progress fails, to be retried elsewhere. */
export function failReads(r: Raft): void {
  const reads = r.reads;
  for (const read of reads.pending) {
    r.readStates.push({ requestId: read.requestId, ok: false });
  }
  for (const requestId of reads.waiting) {
    r.readStates.push({ requestId, ok: false });
  }
  reads.pending = [];
  reads.waiting = [];
}

// ---- the lease --------------------------------------------------------------------------------

/**
 * The lease runs from the send time of the newest heartbeat a quorum has acknowledged (our
 * own vote counts as now). Every voter of that quorum refuses votes for an election timeout
 * after it heard the heartbeat, so no other leader can be elected before the lease ends.
 */
export function leaseHeld(r: Raft): boolean {
  const lease = r.config.lease;
  if (lease === undefined) {
    return false;
  }
  const nowUs = lease.clockUs();
  if (r.hasBug('lease-renewed-on-send')) {
    const sentUs = r.reads.heartbeatSentUs;
    return sentUs >= 0 && nowUs - sentUs < lease.durationUs;
  }
  const startUs = quorumIndex(r.currentVoters, (id) =>
    id === r.id ? nowUs : (r.progress.get(id)?.leaseAckUs ?? -1),
  );
  return startUs >= 0 && nowUs - startUs < lease.durationUs;
}

export function reportLeaseRead(r: Raft): void {
  if (!r.reads.leaseReadReported) {
    r.reads.leaseReadReported = true;
    r.events.push({ type: 'lease-read', term: r.currentTerm, index: r.commit });
  }
}
