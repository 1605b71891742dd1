// Reads see every committed write: a read a leader answers (by ReadIndex or under a lease)
// must be served at an index at least as high as every entry committed anywhere before the
// read was requested. Stronger than what a client can notice (a client sees a stale read only
// when a later operation contradicts it), so it catches a stale read the moment it happens.
import type { Invariant } from '../sim/types.ts';
import { formatTime, raftObservation, type Source } from './raft-common.ts';

/** Reads requested but not yet answered, per node; beyond this the oldest are forgotten. */
const OPEN_READS_MAX = 4096;

/** The highest index committed anywhere so far, and who reported it first. */
type HighestCommit = Source & { readonly index: number };

interface OpenRead {
  readonly requestedUs: number;
  /** The highest commit when the read was requested (undefined: nothing committed yet). */
  readonly committed: HighestCommit | undefined;
}

export function freshReads(): Invariant {
  let highest: HighestCommit | undefined;
  // Keyed by node, then by the adapter's read id (which restarts with each incarnation).
  const open = new Map<number, Map<number, OpenRead>>();
  const readsOf = (node: number): Map<number, OpenRead> => {
    let reads = open.get(node);
    if (reads === undefined) {
      reads = new Map();
      open.set(node, reads);
    }
    return reads;
  };
  return {
    name: 'fresh-reads',
    observes: ['committed', 'restarted', 'read-requested', 'read-served'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      switch (observation.type) {
        case 'committed':
          if (observation.index > (highest?.index ?? 0)) {
            highest = { node: record.node, timeUs: record.timeUs, index: observation.index };
          }
          return undefined;
        case 'restarted':
          open.delete(record.node);
          return undefined;
        case 'read-requested': {
          const reads = readsOf(record.node);
          if (reads.size >= OPEN_READS_MAX) {
            reads.delete(reads.keys().next().value as number);
          }
          reads.set(observation.readId, { requestedUs: record.timeUs, committed: highest });
          return undefined;
        }
        case 'read-served': {
          const reads = readsOf(record.node);
          const read = reads.get(observation.readId);
          reads.delete(observation.readId);
          const missed = read?.committed;
          if (read === undefined || missed === undefined || observation.index >= missed.index) {
            return undefined;
          }
          return `${view.name(record.node)} answered a read at index ${observation.index} at ${formatTime(record.timeUs)}, but index ${missed.index} had been committed (${view.name(missed.node)} at ${formatTime(missed.timeUs)}) before the read was requested at ${formatTime(read.requestedUs)}: a stale read, from a leader that no longer leads (did it trust a lease that had run out, or skip confirming leadership?)`;
        }
        default:
          return undefined;
      }
    },
  };
}
