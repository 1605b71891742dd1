// God's-eye invariants of the Kafka-like log's consumer groups (issue 15), read from the
// coordinator's and members' observations (systems/kafka/contract.ts):
//   - committed offsets never go backwards: for one group and key, the committed-offset
//     records of the offsets partition, in log order, never decrease (log order is the order
//     the coordinator accepted them; every coordinator that ever loads the partition agrees
//     on it below the high watermark, which is where the records are observed);
//   - one owner per partition per generation: no two members are told they own one key in
//     the same generation of a group.
import type { Invariant, ObservationRecord, Verdict } from '../sim/types.ts';
import { groupAssignment, offsetCommitted } from '../systems/kafka/contract.ts';

interface Committed {
  logOffset: number;
  offset: number;
  generation: number;
  member: string;
}

/** Lowest index whose logOffset is ≥ the given one. */
function lowerBound(list: readonly Committed[], logOffset: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((list[middle] as Committed).logOffset < logOffset) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

export function committedOffsetsMonotonic(): Invariant {
  /** group + key → the durable commit records seen, by log offset. */
  const seen = new Map<string, Committed[]>();
  const describe = (entry: Committed) =>
    `${entry.offset} (by member ${entry.member}, generation ${entry.generation}, record ${entry.logOffset})`;
  return {
    name: 'kafka-committed-offsets-monotonic',
    onObservation(record: ObservationRecord): Verdict {
      const observed = offsetCommitted(record.observation);
      if (observed === undefined) {
        return undefined;
      }
      const slot = `${observed.group}\u0000${observed.key}`;
      let list = seen.get(slot);
      if (list === undefined) {
        list = [];
        seen.set(slot, list);
      }
      const entry: Committed = {
        logOffset: observed.logOffset,
        offset: observed.offset,
        generation: observed.generation,
        member: observed.member,
      };
      const at = lowerBound(list, entry.logOffset);
      const same = list[at];
      if (same !== undefined && same.logOffset === entry.logOffset) {
        if (same.offset !== entry.offset || same.member !== entry.member) {
          return `group ${observed.group} key ${observed.key}: offsets-partition record ${entry.logOffset} committed ${describe(same)} on one coordinator and ${describe(entry)} on another`;
        }
        return undefined;
      }
      const before = list[at - 1];
      const after = list[at];
      list.splice(at, 0, entry);
      if (before !== undefined && before.offset > entry.offset) {
        return `group ${observed.group} key ${observed.key}: the committed offset went back from ${describe(before)} to ${describe(entry)}`;
      }
      if (after !== undefined && entry.offset > after.offset) {
        return `group ${observed.group} key ${observed.key}: the committed offset went back from ${describe(entry)} to ${describe(after)}`;
      }
      return undefined;
    },
  };
}

export function oneOwnerPerGeneration(): Invariant {
  /** group + generation + key → the member told it owns the key. */
  const owners = new Map<string, { member: string; consumer: string; timeUs: number }>();
  return {
    name: 'kafka-one-owner-per-generation',
    onObservation(record: ObservationRecord): Verdict {
      const observed = groupAssignment(record.observation);
      if (observed === undefined) {
        return undefined;
      }
      for (const key of observed.keys) {
        const slot = `${observed.group}\u0000${observed.generation}\u0000${key}`;
        const known = owners.get(slot);
        if (known === undefined) {
          owners.set(slot, {
            member: observed.member,
            consumer: observed.consumer,
            timeUs: record.timeUs,
          });
        } else if (known.member !== observed.member) {
          return `group ${observed.group} generation ${observed.generation}: key ${key} was assigned to member ${known.member} (${known.consumer}, at ${known.timeUs} µs) and to member ${observed.member} (${observed.consumer}, at ${record.timeUs} µs)`;
        }
      }
      return undefined;
    },
  };
}

export function kafkaGroupInvariants(): Invariant[] {
  return [committedOffsetsMonotonic(), oneOwnerPerGeneration()];
}
