// The brokers' god's-eye invariants on hand-built views and observations: each one fires on
// the state it forbids and stays quiet on the states the protocol allows.
import { describe, expect, it } from 'vitest';

import type { ClusterView, ObservationRecord } from '../sim/types.ts';
import type { BrokerInspect, PartitionReplicaInspect } from '../systems/kafka/contract.ts';
import {
  brokerDamageOnlyOnMediaFault,
  highWatermarkWithinIsr,
  leaderEpochsNeverDecrease,
  offlineAfterMediaFaults,
  oneLeaderPerEpoch,
} from './kafka-brokers.ts';

function replica(
  fields: Partial<PartitionReplicaInspect> & { values: number[] },
): PartitionReplicaInspect {
  const { values, ...rest } = fields;
  return {
    key: 'k0',
    role: 'follower',
    leaderEpoch: 1,
    logStartOffset: 0,
    logEndOffset: values.length,
    highWatermark: 0,
    isr: [],
    valueAt: (offset: number) => values[offset],
    ...rest,
  };
}

function view(brokers: (PartitionReplicaInspect | undefined)[]): ClusterView {
  const inspect = (node: number): BrokerInspect | undefined => {
    const partition = brokers[node];
    return partition === undefined
      ? undefined
      : { role: 'broker', partitions: new Map([['k0', partition]]) };
  };
  return {
    isUp: (node: number) => brokers[node] !== undefined,
    inspect,
    name: (node: number) => `broker${node + 1}`,
  } as unknown as ClusterView;
}

function record(node: number, observation: Record<string, unknown>, timeUs = 0): ObservationRecord {
  return {
    node,
    timeUs,
    eventIndex: 0,
    observation: observation as ObservationRecord['observation'],
  };
}

describe('the brokers invariants', () => {
  it('one leader per partition epoch, and no later epoch in a new leader log', () => {
    const invariant = oneLeaderPerEpoch();
    const became = (node: number, leaderEpoch: number, latestLogEpoch = 0, session = 7) =>
      invariant.onObservation?.(
        record(node, {
          type: 'kafka-became-leader',
          key: 'k0',
          leaderEpoch,
          logEndOffset: 0,
          latestLogEpoch,
          session,
          fencesRestarts: true,
        }),
        view([]),
      );
    expect(became(0, 1)).toBeUndefined();
    expect(became(0, 1)).toBeUndefined(); // the same broker again, the same session
    expect(became(1, 2, 1)).toBeUndefined();
    expect(became(2, 2)).toMatch(
      /broker2 became leader in epoch 2 .* broker3 became leader in the same epoch/,
    );
    expect(became(2, 3, 4)).toMatch(/epoch 3 with records of epoch 4/);
    expect(became(0, 1, 0, 8)).toMatch(
      /broker1 became leader in epoch 1 at .* restarted, and led epoch 1 again/,
    );
  });

  it('lets a restarted broker resume its epoch in the protocol without leader epochs', () => {
    const invariant = oneLeaderPerEpoch();
    const became = (session: number) =>
      invariant.onObservation?.(
        record(0, {
          type: 'kafka-became-leader',
          key: 'k0',
          leaderEpoch: 0,
          logEndOffset: 0,
          latestLogEpoch: -1,
          session,
          fencesRestarts: false,
        }),
        view([]),
      );
    expect(became(7)).toBeUndefined();
    expect(became(8)).toBeUndefined();
  });

  it('leader epochs never decrease: across the controllers, and within a broker session', () => {
    const invariant = leaderEpochsNeverDecrease();
    const check = (node: number, observation: Record<string, unknown>) =>
      invariant.onObservation?.(record(node, observation), view([]));
    const state = (node: number, partitionEpoch: number, leaderEpoch: number, leader = 0) =>
      check(node, {
        type: 'kafka-partition-state',
        key: 'k0',
        leader,
        leaderEpoch,
        partitionEpoch,
        isr: [leader, 1],
      });
    expect(state(0, 0, 0)).toBeUndefined();
    expect(state(0, 1, 0)).toBeUndefined(); // an ISR change keeps the leader epoch
    expect(state(0, 3, 2, 1)).toBeUndefined(); // epoch 2 seen first, epoch 1 not yet
    expect(state(1, 0, 0)).toBeUndefined(); // another controller, the same decisions
    expect(state(1, 3, 2, 1)).toBeUndefined();
    expect(state(2, 3, 1, 1)).toMatch(
      /partition epoch 3: broker3 applied leader 1 in epoch 1 .* another controller applied leader 1 in epoch 2/,
    );
    expect(state(2, 2, 3, 1)).toMatch(
      /leader epoch 3 at partition epoch 2 .* later partition epoch 3 has the older leader epoch 2/,
    );
    expect(state(2, 4, 1, 1)).toMatch(
      /leader epoch 2 at partition epoch 3, then the older leader epoch 1 at partition epoch 4/,
    );
    expect(
      check(1, {
        type: 'kafka-partition-state',
        key: 'k0',
        leader: 0,
        leaderEpoch: 0,
        partitionEpoch: 1,
        isr: [0],
      }),
    ).toMatch(
      /with ISR \[0\], where another controller applied leader 0 in epoch 0 with ISR \[0, 1\]/,
    );
    const became = (node: number, leaderEpoch: number, session: number) =>
      check(node, {
        type: 'kafka-became-leader',
        key: 'k0',
        leaderEpoch,
        logEndOffset: 0,
        latestLogEpoch: -1,
        session,
        fencesRestarts: true,
      });
    expect(became(0, 3, 7)).toBeUndefined();
    expect(became(0, 3, 7)).toBeUndefined(); // the same leadership told again
    expect(became(0, 2, 8)).toBeUndefined(); // a new session starts over
    expect(became(1, 1, 7)).toBeUndefined(); // another broker
    expect(became(0, 2, 7)).toMatch(
      /broker1 led epoch 3 and then, in the same session, became leader in the older epoch 2/,
    );
  });

  it('HW must lie within every running ISR member that has not moved on', () => {
    const invariant = highWatermarkWithinIsr();
    const hw = { type: 'kafka-hw', key: 'k0', highWatermark: 3, isr: 3 };
    const leader = replica({
      role: 'leader',
      isr: [0, 1, 2],
      highWatermark: 3,
      values: [1, 2, 3, 4],
    });
    const check = (followers: (PartitionReplicaInspect | undefined)[]) =>
      invariant.onObservation?.(record(0, hw), view([leader, ...followers]));
    expect(
      check([replica({ values: [1, 2, 3] }), replica({ values: [1, 2, 3, 4] })]),
    ).toBeUndefined();
    expect(check([replica({ values: [1, 2] }), replica({ values: [1, 2, 3] })])).toMatch(
      /advanced its high watermark to 3, but ISR member broker2 holds the log only to 2/,
    );
    expect(check([replica({ values: [1, 2, 9] }), replica({ values: [1, 2, 3] })])).toMatch(
      /offset 2 holds 3 there and 9 on ISR member broker2/,
    );
    // Stored records differ legitimately on a disk a media fault changed, until the broker
    // reads them back and its checksum stops it; a corrupted read alone changes nothing stored.
    const damaged = (storedDamage: number[], mediaFaults: number[]) =>
      invariant.onObservation?.(record(0, hw), {
        ...view([leader, replica({ values: [1, 2, 9] }), replica({ values: [1, 2, 3] })]),
        storedDamage: (node: number) => storedDamage[node] ?? 0,
        mediaFaults: (node: number) => mediaFaults[node] ?? 0,
      } as ClusterView);
    expect(damaged([0, 1, 0], [0, 1, 0])).toBeUndefined();
    expect(damaged([0, 0, 0], [0, 3, 0])).toMatch(/offset 2 holds 3 there and 9/);
    expect(
      invariant.onObservation?.(record(0, hw), {
        ...view([leader, replica({ values: [1, 2] }), replica({ values: [1, 2, 3] })]),
        storedDamage: () => 1,
      } as ClusterView),
    ).toMatch(/holds the log only to 2/); // held log ends are compared regardless
    // A member the controllers readmitted in this epoch counts, though the leader has not
    // heard (the answer was lost, or the controllers have moved on from this leader).
    const short = [
      replica({ values: [1, 2, 3] }),
      replica({ values: [1, 2, 3] }),
      replica({ values: [1] }),
    ];
    const readmitted = highWatermarkWithinIsr();
    const partitionState = (leaderEpoch: number, partitionEpoch: number, isr: number[]) =>
      readmitted.onObservation?.(
        record(9, { type: 'kafka-partition-state', key: 'k0', leaderEpoch, partitionEpoch, isr }),
        view([]),
      );
    partitionState(1, 5, [0, 1, 2, 3]);
    partitionState(1, 4, [0, 1, 2]); // an older decision, observed late: ignored
    partitionState(2, 6, [0]); // another epoch's: not this leader's
    expect(readmitted.onObservation?.(record(0, hw), view([leader, ...short]))).toMatch(
      /ISR member broker4 holds the log only to 1/,
    );
    expect(invariant.onObservation?.(record(0, hw), view([leader, ...short]))).toBeUndefined();
    // A member that is down, or that follows a newer leader, is not held to it.
    expect(check([undefined, replica({ values: [1, 2, 3] })])).toBeUndefined();
    expect(
      check([replica({ values: [1], leaderEpoch: 2 }), replica({ values: [1, 2, 3] })]),
    ).toBeUndefined();
  });
  /** Brokers 0–2 up; `media[node]` media faults hit each one's disk. */
  const mediaView = (media: number[]) =>
    ({
      isUp: () => true,
      name: (node: number) => `broker${node + 1}`,
      mediaFaults: (node: number) => media[node] ?? 0,
    }) as unknown as ClusterView;
  const refusal = (node: number, key = 'k0') =>
    record(node, {
      type: 'kafka-corruption-detected',
      key,
      file: `${key}/00000000000000000000.log`,
      offset: 3,
      reason: 'checksum mismatch at byte 40',
    });
  const state = (key: string, partitionEpoch: number, leader: number, isr: number[]) =>
    record(3, { type: 'kafka-partition-state', key, leaderEpoch: 1, partitionEpoch, leader, isr });

  it('a broker finds damaged durable records only when a media fault hit its disk', () => {
    const invariant = brokerDamageOnlyOnMediaFault();
    expect(invariant.onObservation?.(refusal(0), mediaView([1, 0, 0]))).toBeUndefined();
    expect(invariant.onObservation?.(refusal(1), mediaView([1, 0, 0]))).toMatch(
      /broker2 found partition k0's durable records damaged .*checksum mismatch.*no media fault ever hit its disk/,
    );
  });

  it('stands liveness down only for partitions whose last ISR member reported damage', () => {
    const view = mediaView([2, 0, 0]);
    // k0: no leader, ISR emptied by broker1's damage report; k1: no leader, but an ISR member
    // is left (waiting for it to come back is liveness's business); k2: damaged, then led
    // again by another broker (the newest state counts); k3: offline, nobody reported damage.
    const observations = [
      refusal(0, 'k0'),
      refusal(0, 'k1'),
      refusal(0, 'k2'),
      state('k0', 4, -1, []),
      state('k1', 2, -1, [1]),
      state('k2', 3, -1, []),
      state('k2', 5, 2, [2]),
      state('k3', 2, -1, []),
    ];
    expect([...offlineAfterMediaFaults(view, observations)]).toEqual(['k0']);
    // No excuse without a media fault behind the report, nor without a report.
    expect(offlineAfterMediaFaults(mediaView([0, 0, 0]), observations).size).toBe(0);
    expect(offlineAfterMediaFaults(view, observations.slice(3)).size).toBe(0);
  });
});
