// Public surface of the KV service on Raft, and the components systems/shardkv builds on.
export { AppliedReads } from './applied-reads.ts';
export { KvClient } from './client.ts';
export { type KvServerInspect, kvServerState } from './contract.ts';
export {
  type KvClientInspect,
  type KvOperation,
  OperationLoop,
  type OperationLoopHolder,
  type OperationLoopOptions,
} from './operation-loop.ts';
export { type KvProgramOptions, kvGroups, raftOptionsFor } from './program.ts';
export { KvServer } from './server.ts';
export { serviceRaftGroup } from './service-raft.ts';
export { appliedBefore, recordApplied } from './sessions.ts';
export {
  applyWrite,
  decodeCommand,
  encodeCommand,
  isKvCommand,
  KvStateMachine,
} from './state-machine.ts';
export * from './types.ts';
export * from './workload.ts';
