// `import … from 'faultline/raft'`: the Raft component for systems built on it (a node
// program holds a RaftGroup, as systems/kv does), the ready-made server and client programs
// with their known-bug variants, the checkers' contract, and Raft's invariants.
export {
  freshReads,
  type RaftSafetyOptions,
  raftInvariantsPerGroup,
  raftLivenessInvariant,
  raftSafetyInvariants,
  raftSometimes,
} from '../invariants/raft.ts';
export * from '../systems/raft/contract.ts';
export {
  type ClientReply,
  type ClientRequest,
  DEFAULT_RAFT_OPTIONS,
  type MembershipRequest,
  RaftGroup,
  type RaftGroupConfig,
  type RaftNodeOptions,
  type RaftNodeView,
  type StateMachine,
} from '../systems/raft/group.ts';
export { RaftNode } from '../systems/raft/node.ts';
export {
  LEASE_VARIANTS,
  RAFT_VARIANTS,
  raftClient,
  raftGroups,
  raftServer,
} from '../systems/raft/program.ts';
