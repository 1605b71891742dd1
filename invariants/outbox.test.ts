// The outbox invariants on hand-built runs: a topic (one broker leading partition k0), the
// services' and consumers' observations, and a plan with a crash. Each invariant fires on
// the state it forbids, names the transaction, the event and the crash, and stays quiet on
// what the design allows (duplicates in the topic, absorbed duplicates at a consumer).
import { describe, expect, it } from 'vitest';

import { programOf, testPlan, testScenario } from '../sim/testing.ts';
import type { ClusterView, Invariant, ObservationRecord, Plan } from '../sim/types.ts';
import type { BrokerInspect, PartitionReplicaInspect } from '../systems/kafka/contract.ts';
import {
  encodeEvent,
  encodeOutboxRow,
  OUTBOX_TABLE,
  type OutboxEvent,
} from '../systems/outbox/events.ts';
import type { WalTx, WalWrite } from '../systems/outbox/wal.ts';
import { outboxInvariants } from './outbox.ts';

const placed: OutboxEvent = { eventId: 1, aggregateId: 3, type: 'OrderPlaced', amount: 10 };
const updated: OutboxEvent = { eventId: 2, aggregateId: 3, type: 'OrderUpdated', amount: 20 };
const other: OutboxEvent = { eventId: 3, aggregateId: 6, type: 'OrderPlaced', amount: 5 };

// Nodes: 0 broker1, 1 svc1, 2 relay, 3 pay1, 4 ship1 (one partition, so every aggregate is k0).
const GROUPS: Record<string, number[]> = {
  brokers: [0],
  services: [1],
  relay: [2],
  payments: [3],
  shipping: [4],
  db: [],
};
const NAMES = ['broker1', 'svc1', 'relay', 'pay1', 'ship1'];

interface MediaState {
  /** Media faults and stored damage on broker1's disk. */
  readonly damage: number;
  /** The CDC relay's saved position, if it is inspected. */
  readonly relaySaved?: { lsn: number; index: number };
  /** Offsets broker1's damaged copy cannot show (their checksum fails). */
  readonly unreadable?: readonly number[];
  /** A second broker (node 5, disk intact) following k0 in the same epoch with the topic. */
  readonly intactFollower?: boolean;
  /** The order database (node 6) is up and its durable log holds these transactions. */
  readonly durableLog?: readonly WalTx[];
}

function view(topic: readonly OutboxEvent[], media?: MediaState): ClusterView {
  const values = topic.map(encodeEvent);
  const partition: PartitionReplicaInspect = {
    key: 'k0',
    role: 'leader',
    leaderEpoch: 1,
    logStartOffset: 0,
    logEndOffset: values.length,
    highWatermark: values.length,
    isr: [0],
    valueAt: (offset: number) => (media?.unreadable?.includes(offset) ? undefined : values[offset]),
  };
  const broker: BrokerInspect = { role: 'broker', partitions: new Map([['k0', partition]]) };
  const follower: BrokerInspect = {
    role: 'broker',
    partitions: new Map([
      ['k0', { ...partition, role: 'follower', isr: [], valueAt: (offset) => values[offset] }],
    ]),
  };
  const relay =
    media?.relaySaved === undefined
      ? undefined
      : { role: 'cdc-relay', saved: media.relaySaved, endLsn: media.relaySaved.lsn };
  const db =
    media?.durableLog === undefined
      ? undefined
      : { role: 'db', refused: null, durableTxs: media.durableLog };
  return {
    members: (group: string) =>
      group === 'brokers' && media?.intactFollower === true
        ? [0, 5]
        : group === 'db' && db !== undefined
          ? [6]
          : (GROUPS[group] ?? []),
    inspect: (node: number) =>
      node === 0
        ? broker
        : node === 2
          ? relay
          : node === 5 && media?.intactFollower === true
            ? follower
            : node === 6
              ? db
              : undefined,
    name: (node: number) => NAMES[node] as string,
    mediaFaults: (node: number) => (node === 0 ? (media?.damage ?? 0) : 0),
    storedDamage: (node: number) => (node === 0 ? (media?.damage ?? 0) : 0),
  } as unknown as ClusterView;
}

let eventIndex = 0;
function record(
  node: number,
  observation: Record<string, unknown>,
  timeUs = 1_000,
): ObservationRecord {
  eventIndex++;
  return { node, timeUs, eventIndex, observation: observation as ObservationRecord['observation'] };
}

const committed = (txId: string, lsn: number, events: OutboxEvent[], timeUs = 1_000) =>
  record(
    1,
    { type: 'outbox-tx-committed', service: 'svc1', txId, lsn, events, mode: 'outbox' },
    timeUs,
  );
const aborted = (txId: string, events: OutboxEvent[]) =>
  record(1, {
    type: 'outbox-tx-aborted',
    service: 'svc1',
    txId,
    reason: 'the credit check failed',
    events,
  });
const applied = (consumer: string, event: OutboxEvent, offset: number, ledger: number[]) =>
  record(consumer === 'pay1' ? 3 : 4, {
    type: 'outbox-effect-applied',
    consumer,
    eventId: event.eventId,
    aggregateId: event.aggregateId,
    key: 'k0',
    offset,
    ledger,
  });

function plan(): Plan {
  const scenario = testScenario(() => programOf({}), { nodes: 5 });
  return testPlan(scenario, {
    groups: NAMES.map((name) => ({ name, client: false, nodes: [name] })),
    faults: [{ atUs: 1_500, kind: 'crash', node: 2 }],
  });
}

function check(
  name: string,
  topic: readonly OutboxEvent[],
  observations: ObservationRecord[],
  media?: MediaState,
  relay: 'cdc' | 'polling' = 'cdc',
): string | undefined {
  const invariants = outboxInvariants(plan(), { relay });
  const invariant = invariants.find((one) => one.name === name) as Invariant;
  const clusterView = view(topic, media);
  for (const observation of observations) {
    const online = invariant.onObservation?.(observation, clusterView);
    if (online !== undefined) {
      return online;
    }
  }
  const verdict = invariant.atEnd?.(clusterView, observations);
  return typeof verdict === 'string' ? verdict : undefined;
}

const delivered = (events: OutboxEvent[]) =>
  events.flatMap((event, at) => [
    applied('pay1', event, at, [event.eventId]),
    applied('ship1', event, at, [event.eventId]),
  ]);

describe('the outbox invariants', () => {
  it('committed events must be in the topic and take effect at both consumers', () => {
    const tx = committed('t1', 7, [placed, updated]);
    expect(
      check('outbox-committed-delivered', [placed, updated], [tx, ...delivered([placed, updated])]),
    ).toBeUndefined();
    expect(check('outbox-committed-delivered', [placed], [tx, ...delivered([placed])])).toMatch(
      /tx t1 of svc1 \(committed at 0\.001 s, LSN 7\): event 2 \(OrderUpdated of order 3, amount 20\) was never published; .*relay at 0\.002 s/,
    );
    expect(
      check(
        'outbox-committed-delivered',
        [placed, updated],
        [tx, applied('pay1', placed, 0, [1]), applied('pay1', updated, 1, [1, 2])],
      ),
    ).toMatch(/event 1 .* never took effect at ship1/);
  });

  it('an aborted transaction reaches no one', () => {
    const observations = [aborted('t2', [other]), applied('pay1', other, 0, [3])];
    expect(check('outbox-aborted-never-delivered', [], observations)).toMatch(
      /tx t2 of svc1 \(aborted .*: the credit check failed\): event 3 .* took effect at pay1/,
    );
    expect(check('outbox-aborted-never-delivered', [other], [aborted('t2', [other])])).toMatch(
      /was published to k0@0, though its transaction never committed/,
    );
  });

  it('every record is an event some transaction wrote, unchanged', () => {
    const tx = committed('t1', 7, [placed]);
    expect(check('outbox-payload-matches', [placed, placed], [tx])).toBeUndefined(); // a duplicate is fine
    expect(check('outbox-payload-matches', [{ ...placed, amount: 11 }], [tx])).toMatch(
      /wrote event 1 .* amount 10.*, but k0@0 carries event 1 .* amount 11/,
    );
    expect(check('outbox-payload-matches', [other], [tx])).toMatch(/which no transaction wrote/);
  });

  it("one order's events keep commit order in the topic and at each consumer", () => {
    const txs = [committed('t1', 7, [placed]), committed('t2', 8, [updated])];
    expect(
      check('outbox-per-aggregate-order', [placed, updated, placed, updated], txs),
    ).toBeUndefined();
    expect(check('outbox-per-aggregate-order', [updated, placed], txs)).toMatch(
      /order 3: partition k0 has event 2 .* of tx t2 .* before event 1 .* of tx t1/,
    );
    expect(
      check(
        'outbox-per-aggregate-order',
        [placed, updated],
        [...txs, applied('ship1', updated, 1, [2]), applied('ship1', placed, 0, [2, 1])],
      ),
    ).toMatch(/ship1's effects has event 2/);
  });

  it('no consumer applies an event twice', () => {
    expect(
      check(
        'outbox-effect-once',
        [],
        [applied('pay1', placed, 0, [1]), applied('pay1', updated, 1, [1, 2])],
      ),
    ).toBeUndefined();
    expect(check('outbox-effect-once', [], [applied('pay1', placed, 5, [1, 1])])).toMatch(
      /pay1 applied event 1 \(order 3\) 2 times/,
    );
  });

  describe('a partition left offline by a media fault', () => {
    // k0 (aggregates 0, 3, 6 of the three partitions k0–k2) lost its last in-sync copy to a
    // media fault: the controllers' newest state has no leader and an empty ISR. Order 4's
    // events go to k1, which is healthy.
    const elsewhere: OutboxEvent = { eventId: 4, aggregateId: 4, type: 'OrderPlaced', amount: 7 };
    const damaged = record(0, {
      type: 'kafka-corruption-detected',
      key: 'k0',
      file: 'k0/00000000000000000000.log',
      offset: 0,
      reason: 'checksum mismatch',
    });
    const offline = record(9, {
      type: 'kafka-partition-state',
      key: 'k0',
      leader: -1,
      leaderEpoch: 3,
      partitionEpoch: 5,
      isr: [],
    });
    const acknowledged = (event: OutboxEvent, timeUs: number) =>
      record(
        2,
        {
          type: 'outbox-published',
          publisher: 'relay',
          eventId: event.eventId,
          key: 'k0',
          offset: 0,
        },
        timeUs,
      );
    const resumed = (after: { lsn: number; index: number } | null, timeUs: number) =>
      record(2, { type: 'outbox-relay-resumed', relay: 'relay', incarnation: 2, after }, timeUs);
    const txs = [committed('t0', 5, [elsewhere]), committed('t1', 7, [placed])];

    it('excuses the offline partition from delivery, and only when a media fault made it so', () => {
      const observations = [...txs, damaged, offline];
      expect(check('outbox-committed-delivered', [], observations, { damage: 1 })).toMatch(
        /event 4 .* was never published/,
      ); // k1's event is not excused
      expect(
        check(
          'outbox-committed-delivered',
          [elsewhere],
          [...observations, ...delivered([elsewhere])],
          {
            damage: 1,
          },
        ),
      ).toBeUndefined();
      // No media fault on that disk: the damage report excuses nothing.
      expect(
        check(
          'outbox-committed-delivered',
          [elsewhere],
          [...observations, ...delivered([elsewhere])],
          {
            damage: 0,
          },
        ),
      ).toMatch(/event 1 .* was never published/);
    });

    it('lets a polling publisher stuck on a scan hold back what the topic lacks', () => {
      // The CDC relay must get order 4's event (LSN 5) out before the stuck one (LSN 7); the
      // poller may have it in the scan it waits on for ever.
      const observations = [...txs, damaged, offline];
      expect(check('outbox-committed-delivered', [], observations, { damage: 1 })).toMatch(
        /event 4 .* was never published/,
      );
      expect(
        check('outbox-committed-delivered', [], observations, { damage: 1 }, 'polling'),
      ).toBeUndefined();
      // What is in the topic must still take effect at both consumers.
      expect(
        check(
          'outbox-committed-delivered',
          [elsewhere],
          [...observations, applied('pay1', elsewhere, 0, [4])],
          { damage: 1 },
          'polling',
        ),
      ).toMatch(/event 4 .* never took effect at ship1/);
    });

    it("reads a record the leader's damaged copy cannot show from an intact replica", () => {
      const observations = [committed('t1', 7, [placed, updated]), ...delivered([placed, updated])];
      const topic = [placed, updated];
      const seen = (media: MediaState) =>
        check('outbox-committed-delivered', topic, observations, media);
      expect(seen({ damage: 1, unreadable: [1], intactFollower: true })).toBeUndefined();
      expect(seen({ damage: 1, unreadable: [1] })).toMatch(/event 2 .* was never published/);
      // An undamaged disk is read as it is: no other copy stands in for it.
      expect(seen({ damage: 0, unreadable: [1], intactFollower: true })).toMatch(
        /event 2 .* was never published/,
      );
    });

    it('lets the CDC relay stop before the first offline event it has no acknowledgement for', () => {
      const caughtUp = (observations: ObservationRecord[], saved: number) =>
        check('outbox-relay-caught-up', [], observations, {
          damage: 1,
          relaySaved: { lsn: saved, index: 0 },
        });
      const stuck = [...txs, damaged, offline];
      expect(caughtUp(stuck, 5)).toBeUndefined();
      expect(caughtUp(stuck, 4)).toMatch(
        /saved position \(LSN 4\) is behind LSN 5 .* offline by a media fault \(LSN 7\)/,
      );
      // Acknowledged before the relay's last restart, from a position before it: it publishes
      // the event again, and that copy is never acknowledged.
      expect(
        caughtUp([...stuck, acknowledged(placed, 1_000), resumed({ lsn: 4, index: 0 }, 2_000)], 5),
      ).toBeUndefined();
      // Acknowledged since: nothing holds it back.
      expect(
        caughtUp([...stuck, resumed({ lsn: 4, index: 0 }, 2_000), acknowledged(placed, 3_000)], 5),
      ).toMatch(/behind the last committed transaction with events \(LSN 7\)/);
      // Without the offline partition, the whole log is owed.
      expect(caughtUp([...txs], 5)).toMatch(
        /behind the last committed transaction with events \(LSN 7\)/,
      );
    });

    it("places an event by its write in the change feed, not by its place among its transaction's events", () => {
      // Order 3's two events at LSN 5 (k0, offline) and order 4's at LSN 7 (k1). The relay
      // restarted from LSN 5 write 1: the first event is saved past, the second is owed.
      const outboxWrite = (event: OutboxEvent): WalWrite => ({
        table: OUTBOX_TABLE,
        key: `svc1:${event.eventId}`,
        value: encodeOutboxRow({ ...event, txId: 't1' }),
      });
      const orderWrite: WalWrite = { table: 'orders', key: '3', value: { amount: 30 } };
      const observations = [
        committed('t1', 5, [placed, updated]),
        committed('t2', 7, [elsewhere]),
        damaged,
        offline,
        resumed({ lsn: 5, index: 1 }, 2_000),
        acknowledged(elsewhere, 3_000),
      ];
      const caughtUp = (writes: WalWrite[]) =>
        check('outbox-relay-caught-up', [], observations, {
          damage: 1,
          relaySaved: { lsn: 5, index: 1 },
          durableLog: [
            { lsn: 5, txId: 't1', writes },
            { lsn: 7, txId: 't2', writes: [outboxWrite(elsewhere)] },
          ],
        });
      // Event 2 is the second event but the fourth write (outbox-cdc seed 4989): still owed,
      // so the relay may stop at it.
      expect(
        caughtUp([orderWrite, outboxWrite(placed), orderWrite, outboxWrite(updated)]),
      ).toBeUndefined();
      // Written second, it lies before the resume point: nothing holds the relay back.
      expect(caughtUp([outboxWrite(placed), outboxWrite(updated), orderWrite])).toMatch(
        /saved position \(LSN 5\) is behind the last committed transaction with events \(LSN 7\)/,
      );
    });
  });
});
