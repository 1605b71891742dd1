// What a node's recovery may and may not conclude. A node that finds its durable state damaged
// must refuse to take part (never apply it), but a crash alone — with torn unsynced tails and
// failed fsyncs, which every node must survive — never damages what was synced: refusing to
// start after one is a durability bug (a checksum misread, a torn tail taken for corruption),
// which liveness notices only once a majority refuses, and then without saying why.
//
// And a node that does start must start from exactly what its disk holds: at every restart,
// the state its Raft group recovered (term, vote, commit, snapshot, log, the state machine
// restored from the snapshot) must equal this file's own decoding of the durable images of
// its files, which the disk model keeps apart from anything the node read. A recovery that
// drops, reorders or invents state is caught at the restart that did it, not seconds later
// when (and if) the loss shows in a client's history.

import { digestValue } from '../sim/trace.ts';
import type { ClusterView, Invariant, NodeId, ObservationRecord } from '../sim/types.ts';
import { decodeLog, decodeSnapshotFile, type LogRecord } from '../systems/raft/codec.ts';
import type { RaftRecovered, RecoveredEntry } from '../systems/raft/contract.ts';
import type { Entry } from '../systems/raft/types.ts';
import { entryDigest, formatTime, raftObservation, serverState } from './raft-common.ts';

export function refusesOnlyOnMediaFault(): Invariant {
  return {
    name: 'refuses-only-on-media-fault',
    observes: ['corruption-detected'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type !== 'corruption-detected') {
        return undefined;
      }
      if (view.mediaFaults === undefined || view.mediaFaults(record.node) > 0) {
        return undefined;
      }
      return `${view.name(record.node)} refused to start at ${formatTime(record.timeUs)} (${observation.reason}, at byte ${observation.offset}), yet no media fault ever hit its disk: crashes, torn unsynced tails and failed fsyncs leave synced data intact, so recovery misread its own files`;
    },
  };
}

/** The state a Raft group's durable files determine, decoded here, apart from its recovery. */
export interface DurableRaftImage {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly snapshotVoters: readonly NodeId[];
  /** digestValue() of the snapshot file's data; undefined without a snapshot file. */
  readonly snapshotDataDigest: number | undefined;
  readonly entries: readonly RecoveredEntry[];
  /** The snapshot file's data, and the entries themselves, for replaying the state machine. */
  readonly snapshotData: Uint8Array | undefined;
  readonly logEntries: readonly Entry[];
}

/**
 * Decodes a Raft group's durable log and snapshot images. The byte framing and checksums are
 * the codec's (the format is the system's); how the records add up to a state is written out
 * here from the format's rules, independently of the adapter's replay and recovery, so that a
 * mistake there is not repeated here. Returns a sentence when the images cannot be a state a
 * correct node starts from (damaged synced data: it must refuse instead).
 */
export function decodeDurableRaft(
  logImage: Uint8Array | undefined,
  snapshotImage: Uint8Array | undefined,
): DurableRaftImage | string {
  const decoded = decodeLog(logImage ?? new Uint8Array(0));
  if (decoded.status.kind === 'corrupt') {
    return `its synced log is damaged at byte ${decoded.status.offset} (${decoded.status.reason})`;
  }
  // A torn tail is the unsynced last batch a crash left partly written: not durable state.
  let term = 0;
  let vote: NodeId | null = null;
  let commit = 0;
  let logSnapshotIndex = 0;
  let logSnapshotTerm = 0;
  let logVoters: readonly NodeId[] = [];
  // index → entry, for indices above the snapshot; records rewrite suffixes.
  const entries = new Map<number, RecoveredEntry>();
  const full = new Map<number, Entry>();
  let lastIndex = 0;
  const dropFrom = (from: number) => {
    for (let index = from; index <= lastIndex; index++) {
      entries.delete(index);
      full.delete(index);
    }
    lastIndex = Math.min(lastIndex, from - 1);
  };
  for (const record of decoded.records as readonly LogRecord[]) {
    switch (record.type) {
      case 'hard-state':
        ({ term, vote, commit } = record.hardState);
        break;
      case 'snapshot-meta': {
        const meta = record.meta;
        for (let index = logSnapshotIndex + 1; index <= meta.lastIncludedIndex; index++) {
          entries.delete(index);
          full.delete(index);
        }
        logSnapshotIndex = meta.lastIncludedIndex;
        logSnapshotTerm = meta.lastIncludedTerm;
        logVoters = meta.voters;
        lastIndex = Math.max(lastIndex, logSnapshotIndex);
        break;
      }
      case 'truncate':
        dropFrom(record.from);
        break;
      case 'entry': {
        const { index, term: entryTerm, kind, data } = record.entry;
        if (index > lastIndex + 1) {
          return `its synced log holds entry ${index} right after entry ${lastIndex}: a gap`;
        }
        dropFrom(index);
        entries.set(index, { index, term: entryTerm, digest: entryDigest(kind, data) });
        full.set(index, record.entry);
        lastIndex = index;
        break;
      }
    }
  }
  let snapshotIndex = logSnapshotIndex;
  let snapshotTerm = logSnapshotTerm;
  let snapshotVoters = logVoters;
  let snapshotDataDigest: number | undefined;
  let snapshotData: Uint8Array | undefined;
  if (snapshotImage !== undefined) {
    const snapshot = decodeSnapshotFile(snapshotImage);
    if (!snapshot.ok) {
      return `its synced snapshot file is damaged (${snapshot.reason})`;
    }
    const meta = snapshot.snapshot.meta;
    snapshotData = snapshot.snapshot.data;
    snapshotDataDigest = digestValue(snapshotData);
    if (meta.lastIncludedIndex > logSnapshotIndex) {
      // The snapshot file was renamed into place and the log batch recording it was lost: the
      // log's entries after it are the node's only if the log agrees with the snapshot at its
      // last index (Log Matching); otherwise they belong to a history the snapshot replaced.
      const boundary = entries.get(meta.lastIncludedIndex);
      const suffixKept = boundary !== undefined && boundary.term === meta.lastIncludedTerm;
      for (const index of [...entries.keys()]) {
        if (index <= meta.lastIncludedIndex || !suffixKept) {
          entries.delete(index);
          full.delete(index);
        }
      }
      lastIndex = suffixKept ? Math.max(lastIndex, meta.lastIncludedIndex) : meta.lastIncludedIndex;
    }
    snapshotIndex = Math.max(meta.lastIncludedIndex, logSnapshotIndex);
    if (meta.lastIncludedIndex >= logSnapshotIndex) {
      snapshotTerm = meta.lastIncludedTerm;
      snapshotVoters = meta.voters;
    }
  } else if (logSnapshotIndex > 0) {
    return `its synced log records a snapshot at index ${logSnapshotIndex}, but there is no snapshot file`;
  }
  const list = [...entries.values()].sort((a, b) => a.index - b.index);
  const last = list.at(-1)?.index ?? snapshotIndex;
  return {
    term,
    vote,
    // The commit index is a hint: never below the snapshot, never beyond the log.
    commit: Math.min(Math.max(commit, snapshotIndex), last),
    snapshotIndex,
    snapshotTerm,
    snapshotVoters,
    snapshotDataDigest,
    entries: list,
    snapshotData,
    logEntries: [...full.values()].sort((a, b) => a.index - b.index),
  };
}

/** The first difference between what a node recovered and what its disk holds, or undefined. */
export function recoveryDifference(
  recovered: RaftRecovered,
  durable: DurableRaftImage,
  name: (node: NodeId) => string = (node) => `node ${node}`,
): string | undefined {
  const scalar = (what: string, got: number, want: number) =>
    got === want ? undefined : `${what} ${got} where its disk holds ${want}`;
  const voteName = (vote: NodeId | null) =>
    vote === null ? 'no vote' : `a vote for ${name(vote)}`;
  const first =
    scalar('term', recovered.term, durable.term) ??
    (recovered.vote === durable.vote
      ? undefined
      : `${voteName(recovered.vote)} where its disk holds ${voteName(durable.vote)}`) ??
    scalar('snapshot index', recovered.snapshotIndex, durable.snapshotIndex) ??
    scalar('snapshot term', recovered.snapshotTerm, durable.snapshotTerm);
  if (first !== undefined) {
    return first;
  }
  if (durable.snapshotIndex > 0) {
    if (recovered.snapshotVoters.join(',') !== durable.snapshotVoters.join(',')) {
      return `snapshot voters [${recovered.snapshotVoters.join(', ')}] where its disk holds [${durable.snapshotVoters.join(', ')}]`;
    }
    if (recovered.snapshotDataDigest !== durable.snapshotDataDigest) {
      return `snapshot data that differs from its snapshot file's`;
    }
    if (recovered.stateMachineDigest !== durable.snapshotDataDigest) {
      return `a state machine that does not encode back to its snapshot file's data (restored wrongly)`;
    }
  }
  const got = recovered.entries;
  const want = durable.entries;
  const count = Math.max(got.length, want.length);
  for (let position = 0; position < count; position++) {
    const mine = got[position];
    const disk = want[position];
    if (mine === undefined || disk === undefined) {
      const lastGot = got.at(-1)?.index ?? recovered.snapshotIndex;
      const lastWant = want.at(-1)?.index ?? durable.snapshotIndex;
      return `a log ending at index ${lastGot} where its disk holds entries through ${lastWant}`;
    }
    if (mine.index !== disk.index || mine.term !== disk.term || mine.digest !== disk.digest) {
      return `entry ${mine.index} of term ${mine.term} where its disk holds entry ${disk.index} of term ${disk.term}${mine.digest === disk.digest ? '' : ' with other content'}`;
    }
  }
  return scalar('commit index', recovered.commit, durable.commit);
}

/**
 * At every (re)start of a Raft group: what it recovered equals the decoding of its files'
 * durable images. Needs a view that reads durable images (the simulator's does).
 */
export function recoveredEqualsDurable(): Invariant {
  // Per node: the durable image its current incarnation started from, until it has replayed.
  const startedFrom = new Map<NodeId, DurableRaftImage>();
  return {
    name: 'recovered-equals-durable',
    observes: ['recovery-replayed', 'restarted'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type === 'recovery-replayed') {
        return replayDifference(record.node, observation, startedFrom, view);
      }
      if (observation.type !== 'restarted' || view.durableFile === undefined) {
        return undefined;
      }
      startedFrom.delete(record.node);
      const recovered = serverState(view, record.node)?.recovered;
      if (recovered === undefined) {
        return undefined;
      }
      const durable = decodeDurableRaft(
        view.durableFile(record.node, recovered.logFile),
        view.durableFile(record.node, recovered.snapshotFile),
      );
      const who = `${view.name(record.node)} restarted at ${formatTime(record.timeUs)}`;
      if (typeof durable === 'string') {
        return excused(view, record.node)
          ? undefined
          : `${who} and took part, though ${durable} and no media fault hit it: synced data was damaged, or recovery should have refused`;
      }
      const difference = recoveryDifference(recovered, durable, (node) => view.name(node));
      if (difference !== undefined) {
        return `${who} with ${difference}: recovery must rebuild exactly the synced state (a lost vote or acknowledged entry breaks Raft's safety)`;
      }
      startedFrom.set(record.node, durable);
      return undefined;
    },
  };
}

/**
 * The node's state machine reached the commit index it recovered: it must be the durable
 * snapshot with the durable entries after it applied, replayed here on a fresh copy.
 */
function replayDifference(
  node: NodeId,
  replayed: { readonly index: number; readonly stateDigest: number },
  startedFrom: Map<NodeId, DurableRaftImage>,
  view: ClusterView,
): string | undefined {
  const durable = startedFrom.get(node);
  startedFrom.delete(node);
  const state = serverState(view, node);
  if (durable === undefined || state?.rebuildStateMachine === undefined) {
    return undefined;
  }
  const entries = durable.logEntries.filter((entry) => entry.index <= replayed.index);
  const expected = state.rebuildStateMachine(durable.snapshotData, entries);
  if (expected === undefined) {
    // A check that silently stops checking: the machine says it can be copied, and was not.
    return `${view.name(node)} replayed its log to index ${replayed.index} after restarting, but its state machine, which declares fresh(), made no fresh copy to replay its durable snapshot and entries into: the restart cannot be checked against its disk`;
  }
  if (expected === replayed.stateDigest) {
    return undefined;
  }
  return `${view.name(node)} replayed its log to index ${replayed.index} after restarting, and its state machine differs from the durable snapshot with the durable entries through ${replayed.index} applied: the restart replayed the wrong entries or restored the wrong state`;
}

/** A durable image a media fault damaged: the node could not have known better. */
function excused(view: ClusterView, node: NodeId): boolean {
  return (view.mediaFaults?.(node) ?? 0) > 0;
}

/**
 * The servers that refused to start after a media fault hit their disk and are still refusing
 * at the end (up, with no 'restarted' since their last refusal): a correct node that finds
 * its synced data damaged stays out (this Raft does not repair from peers).
 */
export function refusingAfterMediaFault(
  view: ClusterView,
  observations: readonly ObservationRecord[],
): NodeId[] {
  const refusing = new Set<NodeId>();
  for (const record of observations) {
    const type = record.observation.type;
    if (type === 'corruption-detected') {
      refusing.add(record.node);
    } else if (type === 'restarted') {
      refusing.delete(record.node);
    }
  }
  return [...refusing]
    .filter((node) => view.isUp(node) && excused(view, node))
    .sort((a, b) => a - b);
}

/**
 * Why liveness cannot be asked of the group at the end, if media faults are why: the servers
 * still refusing after a media fault leave some voter set a running server knows (or, with
 * none running, the group itself) without a majority that runs. Undefined when a majority
 * runs: then the cluster must make progress as if the refusing servers were down. Liveness
 * checks only — no safety check asks this.
 */
export function quorumLostToMediaFaults(
  view: ClusterView,
  observations: readonly ObservationRecord[],
): string | undefined {
  const refusing = refusingAfterMediaFault(view, observations);
  if (refusing.length === 0) {
    return undefined;
  }
  const voterSets: (readonly NodeId[])[] = [];
  for (const node of view.servers) {
    const voters = serverState(view, node)?.voters;
    if (voters !== undefined) {
      voterSets.push(voters);
    }
  }
  if (voterSets.length === 0) {
    voterSets.push(view.servers);
  }
  for (const voters of voterSets) {
    const running = voters.filter((voter) => !refusing.includes(voter)).length;
    if (running < Math.floor(voters.length / 2) + 1) {
      const names = refusing.map((node) => view.name(node)).join(', ');
      return `${names} refused to start after media faults hit their disks, leaving ${running} of the ${voters.length} voters [${voters.map((voter) => view.name(voter)).join(', ')}] running: no majority`;
    }
  }
  return undefined;
}
