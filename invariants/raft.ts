// Raft's invariants: the five safety properties of the Raft paper (Figure 3) and their
// supporting checks, online over the node adapter's observations; no acknowledged command is
// ever lost, and liveness after the settle phase, at the end; `sometimes` conditions.
// Phrasings: ../shared/reference/peer-suites.md §3. The observation contract and RaftInspect
// are in raft-common.ts; the adapter implements them and digests entries with entryDigest().
import type { Invariant } from '../sim/types.ts';
import { CommittedEntries } from './raft-common.ts';
import { type AckedNeverLostOptions, ackedNeverLost } from './raft-end.ts';
import { type PerGroupOptions, raftInvariantsPerGroup } from './raft-groups.ts';
import { freshReads } from './raft-reads.ts';
import { recoveredEqualsDurable, refusesOnlyOnMediaFault } from './raft-recovery.ts';
import {
  applyInOrder,
  commitRule,
  electionSafety,
  leaderAppendOnly,
  leaderCompleteness,
  logMatching,
  oneVotePerTerm,
  stateMachineSafety,
  termsMonotonic,
} from './raft-safety.ts';

export {
  CommittedEntries,
  type CommittedEntry,
  commandDigest,
  commandIdDigest,
  encodeCommand,
  entryDigest,
  type RaftAdapterObservation,
  type RaftClientInspect,
  type RaftInspect,
  type RaftObservation,
  serverState,
} from './raft-common.ts';
export {
  type AckedNeverLostOptions,
  ackedNeverLost,
  DEFAULT_COMMIT_WITHIN_US,
  type RaftLivenessOptions,
  raftClientReadSometimes,
  raftClientSometimes,
  raftLeaseSometimes,
  raftLivenessInvariant,
  raftMediaFaultSometimes,
  raftSometimes,
  raftVotersCatchUp,
} from './raft-end.ts';
export { type PerGroupOptions, raftInvariantsPerGroup } from './raft-groups.ts';
export { freshReads } from './raft-reads.ts';
export {
  decodeDurableRaft,
  recoveredEqualsDurable,
  refusesOnlyOnMediaFault,
} from './raft-recovery.ts';
export {
  applyInOrder,
  commitRule,
  electionSafety,
  leaderAppendOnly,
  leaderCompleteness,
  logMatching,
  oneVotePerTerm,
  stateMachineSafety,
  termsMonotonic,
} from './raft-safety.ts';

export interface RaftSafetyOptions extends AckedNeverLostOptions, PerGroupOptions {}

/**
 * Invariants 1–11 and the two recovery rules (refusal, recovered state), each holding per Raft group: fresh instances for every group of the run,
 * of which 4 and 5 share one committed-entries tracker.
 */
export function raftSafetyInvariants(options: RaftSafetyOptions = {}): Invariant[] {
  return raftInvariantsPerGroup(() => raftSafetyForOneGroup(options), options);
}

function raftSafetyForOneGroup(options: AckedNeverLostOptions): Invariant[] {
  const committed = new CommittedEntries();
  return [
    electionSafety(),
    leaderAppendOnly(),
    logMatching(),
    leaderCompleteness(committed),
    stateMachineSafety(committed),
    applyInOrder(),
    termsMonotonic(),
    oneVotePerTerm(),
    commitRule(),
    ackedNeverLost(options),
    freshReads(),
    refusesOnlyOnMediaFault(),
    recoveredEqualsDurable(),
  ];
}
