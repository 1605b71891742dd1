// Public surface of the Raft core, for the node adapter, scenarios and invariants.
export {
  crc32,
  type DecodedLog,
  type DecodedSnapshot,
  decodeLog,
  decodeSnapshotFile,
  encodeBatch,
  encodeSnapshotFile,
  type LogRecord,
  type LogStatus,
  type ReplayedLog,
  readyRecords,
  replayLog,
} from './codec.ts';
export { RaftCore } from './core.ts';
export { decodeVoters, encodeVoters } from './membership.ts';
export * from './types.ts';
