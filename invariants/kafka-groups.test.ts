// The consumer-group invariants on hand-built observations: a committed offset going back in
// the offsets partition's log order is caught (whatever order coordinators report records
// in), a record reported twice is not, one record with two contents is; two members owning
// one key in one generation are caught, the same key in two generations is not.
import { describe, expect, it } from 'vitest';

import type { ClusterView, Invariant, ObservationRecord } from '../sim/types.ts';
import { committedOffsetsMonotonic, oneOwnerPerGeneration } from './kafka-groups.ts';

const view = {} as ClusterView;

function feed(invariant: Invariant, observations: Record<string, unknown>[]) {
  const verdicts: (string | undefined)[] = [];
  observations.forEach((observation, at) => {
    const record: ObservationRecord = {
      node: 1,
      timeUs: at,
      eventIndex: at,
      observation: observation as ObservationRecord['observation'],
    };
    verdicts.push(invariant.onObservation?.(record, view) as string | undefined);
  });
  return verdicts;
}

const commit = (logOffset: number, offset: number, member = 'a', key = 'k0') => ({
  type: 'kafka-offset-committed',
  group: 'g',
  key,
  offset,
  generation: 1,
  member,
  logOffset,
});

const assignment = (generation: number, member: string, keys: string[]) => ({
  type: 'kafka-group-assignment',
  group: 'g',
  generation,
  member,
  consumer: member,
  keys,
});

describe('committed offsets never go back', () => {
  it('passes commits rising in log order, repeated by a second coordinator', () => {
    const verdicts = feed(committedOffsetsMonotonic(), [
      commit(0, 3),
      commit(2, 5),
      commit(1, 4, 'a', 'k1'),
      commit(0, 3), // a new coordinator passes the same records again
      commit(2, 5),
      commit(5, 5),
    ]);
    expect(verdicts.every((verdict) => verdict === undefined)).toBe(true);
  });

  it('catches a lower commit after a higher one, even when reported out of order', () => {
    const later = feed(committedOffsetsMonotonic(), [
      commit(0, 3),
      commit(4, 9),
      commit(6, 7, 'b'),
    ]);
    expect(later[2]).toMatch(/went back from 9 .*record 4.* to 7 \(by member b/);
    const earlier = feed(committedOffsetsMonotonic(), [commit(6, 7, 'b'), commit(4, 9)]);
    expect(earlier[1]).toMatch(/went back from 9 .* to 7/);
  });

  it('catches one record with two contents', () => {
    const verdicts = feed(committedOffsetsMonotonic(), [commit(3, 4), commit(3, 6, 'b')]);
    expect(verdicts[1]).toMatch(/record 3 committed/);
  });
});

describe('one owner per partition per generation', () => {
  it('allows one key moving between generations, catches two owners in one', () => {
    const fine = feed(oneOwnerPerGeneration(), [
      assignment(1, 'a', ['k0', 'k1']),
      assignment(2, 'b', ['k0']),
      assignment(2, 'a', ['k1']),
      assignment(2, 'a', ['k1']), // told again
    ]);
    expect(fine.every((verdict) => verdict === undefined)).toBe(true);
    const twice = feed(oneOwnerPerGeneration(), [
      assignment(3, 'a', ['k0', 'k2']),
      assignment(3, 'b', ['k1', 'k2']),
    ]);
    expect(twice[1]).toMatch(/generation 3: key k2 was assigned to member a .* and to member b/);
  });
});
