// The database node's contract with its checkers: the typed inspect view and observations.
// Invariants read the node only through these (never its private fields), and may decode its
// durable WAL on their own with `durableWal`, from the disk's durable images.
import type { ClusterView, NodeId, ObservationRecord } from '../../sim/types.ts';
import type { DbValue } from './db-protocol.ts';
import {
  isWalRefusal,
  recoverWalFiles,
  type WalRecovered,
  type WalRefusal,
  type WalTx,
  walFileName,
} from './wal.ts';

/** Where the database node keeps its WAL files. */
export const WAL_DIR = 'wal/';

export interface DbRecoveredView {
  /** The LSN of the last transaction recovered (0: none). */
  readonly endLsn: number;
  readonly files: readonly string[];
  /** The torn tail recovery left behind (the next writes went to a new file), if any. */
  readonly cut: WalRecovered['cut'];
}

export interface DbInspect {
  readonly role: 'db';
  /** Set when recovery found damaged durable data: the node serves nothing. */
  readonly refused: WalRefusal | null;
  /** Recovery at this incarnation's start (null when it refused). */
  readonly recovered: DbRecoveredView | null;
  /**
   * Every committed transaction this incarnation knows to be durable, in LSN order (index i
   * holds LSN i + 1): the recovered ones, then each whose fsync completed since.
   */
  readonly durableTxs: readonly WalTx[];
  /** The LSN of the last durable transaction: what the change feed serves up to. */
  readonly durableEndLsn: number;
  /** The LSN of the last transaction committed (validated), durable or not. */
  readonly appliedEndLsn: number;
  /** Open transactions, and commits applied but waiting for their fsync. */
  readonly openTxs: number;
  readonly committingTxs: number;
  /** The visible (durable) tables and their live rows in key order. */
  tableNames(): string[];
  rows(table: string): [string, DbValue][];
}

/** The committed transaction was acknowledged to a client as committed at `lsn`. */
export type DbCommitAcked = {
  readonly type: 'db-commit-acked';
  readonly txId: string;
  readonly lsn: number;
  /** Did the node know it durable when it answered? (false only in ack-before-fsync) */
  readonly durable: boolean;
};

export type DbTxAborted = {
  readonly type: 'db-tx-aborted';
  readonly txId: string;
  /** conflict: answered to a commit; rolled-back: the client asked; idle: reaped. */
  readonly reason: 'conflict' | 'rolled-back' | 'idle';
};

export type DbRecoveredObservation = {
  readonly type: 'db-recovered';
  readonly endLsn: number;
  readonly txs: number;
  /** Bytes of a torn tail left behind (0: none). */
  readonly cutBytes: number;
};

export type DbRefused = {
  readonly type: 'db-refused';
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
};

export type DbFsyncFailed = {
  readonly type: 'db-fsync-failed';
  /** Commits applied but not durable, lost with the process. */
  readonly undurable: number;
};

export type DbObservation =
  | DbCommitAcked
  | DbTxAborted
  | DbRecoveredObservation
  | DbRefused
  | DbFsyncFailed;

const DB_OBSERVATION_TYPES = new Set<string>([
  'db-commit-acked',
  'db-tx-aborted',
  'db-recovered',
  'db-refused',
  'db-fsync-failed',
]);

/** The record's observation when it is one of the database node's, else undefined. */
export function dbObservation(record: ObservationRecord): DbObservation | undefined {
  return DB_OBSERVATION_TYPES.has(record.observation.type)
    ? (record.observation as unknown as DbObservation)
    : undefined;
}

/** The database node's view, or undefined when it is down (or not a database node). */
export function dbInspect(view: ClusterView, node: NodeId): DbInspect | undefined {
  const inspected = view.inspect(node) as Partial<DbInspect> | undefined;
  return inspected?.role === 'db' ? (inspected as DbInspect) : undefined;
}

/** Generations are consecutive (each new file is the last one's + 1), so this finds them all. */
const WAL_FILES_SCANNED_MAX = 1000;

/** The durable images of the node's WAL files, by name, in generation order. */
export function durableWalImages(
  view: ClusterView,
  node: NodeId,
): Map<string, Uint8Array> | undefined {
  const durableFile = view.durableFile;
  if (durableFile === undefined) {
    return undefined;
  }
  const images = new Map<string, Uint8Array>();
  for (let generation = 1; generation <= WAL_FILES_SCANNED_MAX; generation++) {
    const name = walFileName(WAL_DIR, generation);
    const image = durableFile.call(view, node, name);
    if (image === undefined) {
      break;
    }
    images.set(name, image);
  }
  return images;
}

function decodeImages(images: ReadonlyMap<string, Uint8Array>): WalRecovered | WalRefusal {
  return recoverWalFiles(WAL_DIR, [...images.keys()], (name) => images.get(name) as Uint8Array);
}

/**
 * The node's WAL as its durable images decode now (what a power loss now would leave), apart
 * from anything the node read; undefined when the simulator gives no durable images.
 */
export function durableWal(view: ClusterView, node: NodeId): WalRecovered | WalRefusal | undefined {
  const images = durableWalImages(view, node);
  return images === undefined ? undefined : decodeImages(images);
}

/**
 * durableWal for a checker that asks often (at every ack, every feed batch): decodes again
 * only when some durable image changed since the last call. One per node per run.
 */
export class DurableWalReader {
  private images: Map<string, Uint8Array> | null = null;
  private decoded: WalRecovered | WalRefusal | undefined;

  constructor(private readonly node: NodeId) {}

  read(view: ClusterView): WalRecovered | WalRefusal | undefined {
    const images = durableWalImages(view, this.node);
    if (images === undefined) {
      return undefined;
    }
    if (this.images !== null && sameImages(this.images, images)) {
      return this.decoded;
    }
    this.images = images;
    this.decoded = decodeImages(images);
    return this.decoded;
  }
}

function sameImages(
  a: ReadonlyMap<string, Uint8Array>,
  b: ReadonlyMap<string, Uint8Array>,
): boolean {
  if (a.size !== b.size) {
    return false;
  }
  for (const [name, image] of a) {
    const other = b.get(name);
    if (other === undefined || Buffer.compare(image, other) !== 0) {
      return false;
    }
  }
  return true;
}

export { isWalRefusal };
