// The leader's view of each follower: how much of the log matches, what to send next, and the
// flow-control state (etcd's Progress): probe (one append in flight until an answer), replicate
// (pipelined, at most maxInflight unacknowledged appends), snapshot (a chunked transfer).
import { assert } from '../../sim/assert.ts';
import type { NodeId } from './types.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append was sent and no answer (or heartbeat answer) came back yet. */
  probeSent = false;
  /** Last index of each unacknowledged append, oldest first (replicate state). */
  inflight: number[] = [];
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** With lease reads: the send time of the newest heartbeat it acknowledged (-1: none). */
  leaseAckUs = -1;
  /** Snapshot state: which snapshot is being sent and the next byte offset to send. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** Offset of the last chunk sent; -1 before the first. */
  snapshotSentOffset = -1;

  constructor(next: number) {
    this.next = next;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = 'probe';
    this.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.reset();
    this.snapshotIndex = snapshotIndex;
    this.snapshotOffset = 0;
    this.snapshotSentOffset = -1;
  }

  private reset(): void {
    this.probeSent = false;
    this.inflight = [];
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.snapshotSentOffset = -1;
  }

  /** A success for index arrived. Returns true if it was news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.freeUpTo(index);
    return updated;
  }

  freeUpTo(index: number): void {
    let count = 0;
    while (count < this.inflight.length && (this.inflight[count] ?? 0) <= index) {
      count++;
    }
    this.inflight.splice(0, count);
  }

  /**
   * A rejection of prevIndex `rejected` arrived, with the next index the leader should try.
   * Returns false if the rejection is stale (answers an append we no longer care about).
   */
  maybeDecrease(rejected: number, candidateNext: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) {
        return false;
      }
      this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
      return true;
    }
    if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
    assert(this.next >= 1, 'next index must stay positive');
    this.probeSent = false;
    return true;
  }

  isPaused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }

  /** Records that an append carrying entries up to lastIndex was sent. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }
}

/** The largest index that a majority of voters hold (match), or 0 with no voters. */
// Reused by quorumIndex: it runs on every acknowledgement a leader counts, and a fresh
// array plus a comparator sort each time showed in raft profiles.
const quorumScratch: number[] = [];

/** The highest value a majority of voters has reached (the median, counting from the top). */
export function quorumIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const count = voters.length;
  if (count === 0) {
    return 0;
  }
  // Only the first `count` slots are read, so the scratch array is never truncated (setting
  // an array's length is slow); insertion sort, descending: voter sets are a handful of nodes.
  const matches = quorumScratch;
  for (let index = 0; index < count; index++) {
    const value = matchOf(voters[index] as NodeId);
    let slot = index;
    while (slot > 0 && (matches[slot - 1] as number) < value) {
      matches[slot] = matches[slot - 1] as number;
      slot--;
    }
    matches[slot] = value;
  }
  return matches[Math.floor(count / 2)] ?? 0;
}

export function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}
