// One node of the core's test harness and its persistence on the kernel's disk, by the
// adapter's rules (systems/raft/group.ts): a Ready's snapshot goes to a temporary file that
// is fsynced and renamed into place, then its log records are appended as one checksummed
// batch and fsynced; only then may it be handed out. Recovery reads the files back through
// the codec, cuts a torn tail, and copes with a snapshot file that is ahead of the log.
import { assert, fail } from '../../sim/assert.ts';
import type { Disk } from '../../sim/disk.ts';
import type { NodeSlot } from '../../sim/simulation.ts';
import { readStable } from '../stable-read.ts';
import {
  decodeLog,
  decodeSnapshotFile,
  encodeBatch,
  encodeSnapshotFile,
  type LogRecord,
  readyRecords,
  replayLog,
} from './codec.ts';
import type { RaftCore } from './core.ts';
import type { ReadState, Ready, RestoredState } from './types.ts';

const LOG_FILE = 'raft.log';
const LOG_TEMP_FILE = 'raft.log.tmp';
const SNAPSHOT_FILE = 'raft.snapshot';
const SNAPSHOT_TEMP_FILE = 'raft.snapshot.tmp';

type Persisting =
  | { stage: 'snapshot'; syncId: number; ready: Ready }
  | { stage: 'log'; syncId: number; ready: Ready }
  | { stage: 'rewrite'; syncId: number };

/** What recovery found on the disk. */
export interface Recovered {
  readonly restored: RestoredState;
  readonly tornTail: boolean;
  readonly logBehindSnapshot: boolean;
}

export class TestNode {
  core!: RaftCore;
  /** The application: command text applied at each index (from snapshots and entries). */
  applied = new Map<number, string>();
  lastApplied = 0;
  readStates: ReadState[] = [];
  /** True time of this node's next tick (its clock's tick period, converted). */
  nextTickUs = 0;
  pausedUntilUs = 0;
  /** When the supervisor restarts a process that died on a failed fsync (-1: none due). */
  restartAtUs = -1;
  private persisting: Persisting | null = null;
  private nextBatch = 0;
  /** Set by recovery when the snapshot file is ahead of the log: rewrite the log first. */
  private rewritePending = false;

  constructor(
    readonly id: number,
    /** The kernel's record of a node: its disk, clock, random stream, up / paused / incarnation. */
    readonly slot: NodeSlot,
  ) {}

  get disk(): Disk {
    return this.slot.disk;
  }

  get up(): boolean {
    return this.slot.up;
  }

  /** A crash: whatever was being persisted is the disk's business now. */
  forgetPersisting(): void {
    this.persisting = null;
  }

  /**
   * Takes the core's next Ready and starts persisting it. Returns the Ready when nothing in
   * it needs the disk (hand it out now), true when an fsync is now in progress, false when
   * there is nothing to do or an earlier fsync is still in progress.
   */
  takeReady(): Ready | boolean {
    if (this.persisting !== null) {
      return false;
    }
    if (this.rewritePending) {
      this.rewriteLog();
      return true;
    }
    const ready = this.core.ready();
    if (ready === null) {
      return false;
    }
    if (ready.snapshotToPersist !== undefined) {
      this.disk.remove(SNAPSHOT_TEMP_FILE);
      this.disk.write(SNAPSHOT_TEMP_FILE, 0, encodeSnapshotFile(ready.snapshotToPersist));
      const syncId = this.disk.fsync(SNAPSHOT_TEMP_FILE);
      this.persisting = { stage: 'snapshot', syncId, ready };
      return true;
    }
    return this.persistLog(ready) || ready;
  }

  /** A successful fsync completed: returns the Ready that is now durable, if any. */
  synced(syncId: number): Ready | null {
    const persisting = this.persisting;
    assert(persisting !== null && persisting.syncId === syncId, 'an fsync nobody waits for');
    this.persisting = null;
    switch (persisting.stage) {
      case 'rewrite':
        this.disk.rename(LOG_TEMP_FILE, LOG_FILE);
        return null;
      case 'snapshot':
        this.disk.rename(SNAPSHOT_TEMP_FILE, SNAPSHOT_FILE);
        return this.persistLog(persisting.ready) ? null : persisting.ready;
      case 'log':
        return persisting.ready;
    }
  }

  /** Appends the Ready's records as one batch and starts its fsync; false if none. */
  private persistLog(ready: Ready): boolean {
    const records = readyRecords(ready);
    if (records.length === 0) {
      return false;
    }
    const startsFile = this.disk.size(LOG_FILE) === 0;
    this.disk.append(LOG_FILE, encodeBatch(this.nextBatch++, records, startsFile));
    this.persisting = { stage: 'log', syncId: this.disk.fsync(LOG_FILE), ready };
    return true;
  }

  /** The log as one batch holding what the snapshot does not cover, renamed into place. */
  private rewriteLog(): void {
    this.rewritePending = false;
    const core = this.core;
    const snapshot = core.snapshotMeta;
    const hardState = core.hardState();
    const records: LogRecord[] = [
      { type: 'snapshot-meta', meta: snapshot },
      ...core
        .entries(snapshot.lastIncludedIndex + 1, core.persistedIndex)
        .map((entry) => ({ type: 'entry' as const, entry })),
      {
        type: 'hard-state',
        hardState: { ...hardState, commit: Math.min(hardState.commit, core.persistedIndex) },
      },
    ];
    this.disk.remove(LOG_TEMP_FILE);
    this.disk.write(LOG_TEMP_FILE, 0, encodeBatch(0, records, true));
    this.nextBatch = 1;
    this.persisting = { stage: 'rewrite', syncId: this.disk.fsync(LOG_TEMP_FILE) };
  }

  /** Reads the node's state back from its disk, as the adapter does on every start. */
  recover(): Recovered {
    const disk = this.disk;
    disk.remove(SNAPSHOT_TEMP_FILE);
    disk.remove(LOG_TEMP_FILE);
    this.persisting = null;
    const decoded = decodeLog(readStable(disk, LOG_FILE));
    if (decoded.status.kind === 'corrupt') {
      fail(`node ${this.id}: durable log corrupt: ${decoded.status.reason}`);
    }
    const tornTail = decoded.status.kind === 'torn-tail';
    if (decoded.status.kind === 'torn-tail') {
      disk.truncate(LOG_FILE, decoded.status.truncateAt);
    }
    this.nextBatch = decoded.nextBatch;
    this.rewritePending = false;
    const replayed = replayLog(decoded.records);
    if (!disk.exists(SNAPSHOT_FILE)) {
      return { restored: replayed, tornTail, logBehindSnapshot: false };
    }
    const snapshot = decodeSnapshotFile(readStable(disk, SNAPSHOT_FILE));
    assert(snapshot.ok, `node ${this.id}: durable snapshot file damaged`);
    const meta = snapshot.snapshot.meta;
    let entries = replayed.entries;
    const logBehindSnapshot = meta.lastIncludedIndex > replayed.snapshotMeta.lastIncludedIndex;
    if (logBehindSnapshot) {
      // Renamed into place, but the log batch recording it was lost: keep the log's suffix
      // only if it matches the snapshot, and rewrite the log before appending to it.
      const last = entries.find((entry) => entry.index === meta.lastIncludedIndex);
      const kept = last?.term === meta.lastIncludedTerm;
      entries = kept ? entries.filter((entry) => entry.index > meta.lastIncludedIndex) : [];
      this.rewritePending = true;
    }
    const data = snapshot.snapshot.data;
    const restored = { ...replayed, entries, snapshotMeta: meta, snapshotData: data };
    return { restored, tornTail, logBehindSnapshot };
  }

  /** Replaces the (crashed) node's files with a log holding `restored`, made durable. */
  writeLog(restored: RestoredState): void {
    assert(!this.up, 'files are replaced only while the node is down');
    assert(restored.snapshotMeta.lastIncludedIndex === 0, 'writeLog writes no snapshot file');
    const disk = this.disk;
    disk.remove(LOG_FILE);
    disk.remove(SNAPSHOT_FILE);
    const records: LogRecord[] = [
      ...restored.entries.map((entry) => ({ type: 'entry' as const, entry })),
      { type: 'hard-state', hardState: restored.hardState },
    ];
    disk.write(LOG_FILE, 0, encodeBatch(0, records, true));
    const scheduler = disk.scheduler;
    disk.scheduler = { scheduleSync: () => {} }; // written before the node runs: durable
    assert(disk.completeSync(disk.fsync(LOG_FILE)), 'a prepared log must be durable');
    disk.scheduler = scheduler;
  }
}
