// InstallSnapshot in chunks: a leader whose log no longer holds what a follower needs sends
// its snapshot maxSnapshotChunkBytes at a time, one chunk in flight, resuming from the offset
// the follower reports; the follower assembles the chunks in order and installs the whole.
// A restart on either side, a newer snapshot or a lost chunk restarts or resumes the transfer.
import { assert } from '../../sim/assert.ts';
import type { Raft } from './raft.ts';
import type { Progress } from './tracker.ts';
import type { Snapshot, SnapshotMessage, SnapshotMeta, SnapshotResponse } from './types.ts';

/** A follower's transfer in progress. */
export interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
}

// ---- the leader's side ------------------------------------------------------------------------

/** Sends the chunk at the follower's offset (of the current snapshot: a newer one starts over). */
export function sendSnapshotChunk(r: Raft, to: number, pr: Progress): void {
  const meta = r.log.snapshotMeta();
  if (pr.snapshotIndex !== meta.lastIncludedIndex) {
    pr.becomeSnapshot(meta.lastIncludedIndex); // compacted again since: start over
  }
  const data = r.snapshotData;
  assert(meta.lastIncludedIndex > 0, 'a snapshot transfer needs a snapshot');
  const offset = Math.min(pr.snapshotOffset, data.length);
  const end = Math.min(data.length, offset + r.config.maxSnapshotChunkBytes);
  pr.snapshotSentOffset = offset;
  r.send({
    type: 'snapshot',
    to,
    meta,
    totalBytes: data.length,
    offset,
    data: data.subarray(offset, end),
    done: end === data.length,
  });
}

/**
 * The follower answered a chunk: send the next one, or, once it installed the snapshot,
 * return true so the leader goes back to appending (from probe state).
 */
export function onSnapshotResponse(r: Raft, pr: Progress, m: SnapshotResponse): boolean {
  if (pr.state !== 'snapshot' || m.index !== pr.snapshotIndex) {
    return false;
  }
  if (!m.done) {
    // Act only on the answer to the latest chunk sent. Answering every response
    // (duplicates and answers to resent chunks included) multiplied the chunks in flight
    // each round trip: raft seed 55 sent 150,000 snapshot chunks in 9 s. The answer may
    // also rewind (the follower restarted and lost the partial transfer).
    if (m.chunkOffset !== pr.snapshotSentOffset) {
      return false;
    }
    pr.snapshotOffset = m.nextOffset;
    sendSnapshotChunk(r, m.from, pr);
    return false;
  }
  pr.maybeUpdate(m.index);
  pr.becomeProbe();
  return true;
}

// ---- the follower's side ----------------------------------------------------------------------

export function handleSnapshot(r: Raft, m: SnapshotMessage, replyTerm: number): void {
  const index = m.meta.lastIncludedIndex;
  const reply = (nextOffset: number, done: boolean) =>
    r.send(
      { type: 'snapshot-response', to: m.from, index, nextOffset, done, chunkOffset: m.offset },
      replyTerm,
    );
  if (index <= r.commit) {
    r.incoming = null;
    reply(m.totalBytes, true);
    return;
  }
  const incoming = acceptChunk(r, m);
  if (incoming === null) {
    const current = r.incoming;
    reply(
      current !== null && current.meta.lastIncludedIndex === index ? current.received : 0,
      false,
    );
    return;
  }
  if (!m.done) {
    reply(incoming.received, false);
    return;
  }
  assert(incoming.received === incoming.totalBytes, 'snapshot transfer ended short');
  r.incoming = null;
  installSnapshot(r, { meta: m.meta, data: concat(incoming.chunks, incoming.totalBytes) });
  reply(incoming.received, true);
}

/** Takes a chunk if it is the next one expected; returns the transfer, or null. */
function acceptChunk(r: Raft, m: SnapshotMessage): IncomingSnapshot | null {
  if (m.offset === 0) {
    r.incoming = { meta: m.meta, totalBytes: m.totalBytes, chunks: [], received: 0 };
  }
  const incoming = r.incoming;
  if (
    incoming === null ||
    incoming.meta.lastIncludedIndex !== m.meta.lastIncludedIndex ||
    incoming.meta.lastIncludedTerm !== m.meta.lastIncludedTerm ||
    incoming.received !== m.offset
  ) {
    return null;
  }
  assert(
    incoming.received + m.data.length <= incoming.totalBytes,
    'snapshot chunk overruns its total',
  );
  incoming.chunks.push(m.data);
  incoming.received += m.data.length;
  return incoming;
}

function installSnapshot(r: Raft, snapshot: Snapshot): void {
  const { meta } = snapshot;
  if (r.log.matchTerm(meta.lastIncludedIndex, meta.lastIncludedTerm)) {
    r.log.compactTo(meta.lastIncludedIndex, meta.voters); // keep the matching suffix
  } else {
    r.log.resetTo(meta);
    r.events.push({ type: 'log-truncated', from: meta.lastIncludedIndex + 1 });
  }
  r.snapshotData = snapshot.data;
  r.snapshotToPersist = snapshot;
  r.snapshotToApply = snapshot;
  r.events.push({
    type: 'snapshot-installed',
    index: meta.lastIncludedIndex,
    term: meta.lastIncludedTerm,
  });
  r.commitTo(meta.lastIncludedIndex, null);
  r.refreshConfig();
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
