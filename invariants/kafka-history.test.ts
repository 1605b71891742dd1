// The Kafka history checker on hand-built histories: each anomaly found where it is, with its
// partition, offsets and values; nothing found in a clean history; poll checks reset across an
// assignment change; the EDN export reads back as Jepsen's shape.
import { describe, expect, it } from 'vitest';

import type { ClusterView, HistoryOperation, ObservationRecord } from '../sim/types.ts';
import type { KafkaInput, KafkaPair } from '../systems/kafka/contract.ts';
import { OFFSETS_KEY } from '../systems/kafka/messages.ts';
import {
  analyzeKafkaHistory,
  KAFKA_ANOMALIES,
  type KafkaAnomalyType,
  type KafkaDeletion,
  kafkaDeletions,
  kafkaHistoryEdn,
  kafkaHistoryInvariants,
} from './kafka-history.ts';
import { type EdnMap, Keyword, readEdn } from './linearizability/edn.ts';

/** Builds a history: each call appends one operation at the next time step. */
class History {
  readonly ops: HistoryOperation[] = [];
  private timeUs = 0;

  private push(
    client: number,
    input: KafkaInput,
    status: 'ok' | 'fail' | undefined,
    output: unknown,
  ): HistoryOperation {
    this.timeUs += 10;
    const callUs = this.timeUs;
    const op: HistoryOperation = { id: this.ops.length, client, input, callUs };
    if (status !== undefined) {
      op.status = status;
      op.returnUs = this.timeUs += 5;
      op.output = output;
    }
    this.ops.push(op);
    return op;
  }

  send(client: number, key: string, value: number, offset: number): this {
    this.push(client, { f: 'send', key, value }, 'ok', { offset });
    return this;
  }

  failedSend(client: number, key: string, value: number): this {
    this.push(client, { f: 'send', key, value }, 'fail', { error: 'not-enough-replicas' });
    return this;
  }

  openSend(client: number, key: string, value: number): this {
    this.push(client, { f: 'send', key, value }, undefined, undefined);
    return this;
  }

  poll(client: number, msgs: Record<string, KafkaPair[]>, assignment = 0): this {
    this.push(client, { f: 'poll' }, 'ok', { msgs, assignment });
    return this;
  }

  assign(client: number, keys: string[]): this {
    this.push(client, { f: 'assign', keys }, 'ok', null);
    return this;
  }

  subscribe(client: number, keys: string[]): this {
    this.push(client, { f: 'subscribe', keys }, 'ok', null);
    return this;
  }
}

function types(history: History): KafkaAnomalyType[] {
  return analyzeKafkaHistory(history.ops).anomalies.map((anomaly) => anomaly.type);
}

function only(history: History, type: KafkaAnomalyType) {
  const found = analyzeKafkaHistory(history.ops).anomalies.filter((a) => a.type === type);
  expect(found).toHaveLength(1);
  return found[0] as NonNullable<(typeof found)[number]>;
}

/** Three values sent to a, all polled in order by one consumer, and b likewise. */
function clean(): History {
  return new History()
    .send(1, 'a', 10, 0)
    .send(1, 'a', 11, 1)
    .send(2, 'b', 20, 0)
    .poll(3, { a: [[0, 10]] })
    .send(1, 'a', 12, 2)
    .poll(3, {
      a: [
        [1, 11],
        [2, 12],
      ],
      b: [[0, 20]],
    });
}

describe('the Kafka history checker', () => {
  it('finds nothing in a clean history, unseen included', () => {
    const analysis = analyzeKafkaHistory(clean().ops);
    expect(analysis.anomalies).toEqual([]);
    expect(analysis.acknowledged).toBe(4);
    expect(analysis.polledAcknowledged).toBe(4);
  });

  it('polling {a:[[1,2]]} twice in assignment 0 is a nonmonotonic poll at offsets [1, 1]', () => {
    const history = new History().poll(1, { a: [[1, 2]] }).poll(1, { a: [[1, 2]] });
    const anomaly = only(history, 'nonmonotonic-poll');
    expect(anomaly.key).toBe('a');
    expect(anomaly.offsets).toEqual([1, 1]);
    expect(anomaly.values).toEqual([2, 2]);
    expect(anomaly.ops).toEqual([0, 1]);
    expect(types(history)).toEqual(['nonmonotonic-poll']);
  });

  it('the same two polls across an assignment change are allowed', () => {
    expect(types(new History().poll(1, { a: [[1, 2]] }, 0).poll(1, { a: [[1, 2]] }, 1))).toEqual(
      [],
    );
    // A manual assign between them resets too, and so does a different consumer.
    expect(
      types(
        new History()
          .poll(1, { a: [[1, 2]] })
          .assign(1, ['a'])
          .poll(1, { a: [[1, 2]] }),
      ),
    ).toEqual([]);
    expect(types(new History().poll(1, { a: [[1, 2]] }).poll(2, { a: [[1, 2]] }))).toEqual([]);
  });

  it('a group member may rewind or jump across generations and resubscriptions, not within one', () => {
    // Generation 3 reads a up to 2; the rebalance hands it back in generation 5 from the
    // committed offset 1 (a rewind), then generation 7 jumps (another member read 3–4).
    const across = new History()
      .subscribe(1, ['a'])
      .poll(
        1,
        {
          a: [
            [1, 11],
            [2, 12],
          ],
        },
        3,
      )
      .poll(1, { a: [[1, 11]] }, 5)
      .poll(1, { a: [[5, 15]] }, 7)
      .poll(
        2,
        {
          a: [
            [3, 13],
            [4, 14],
          ],
        },
        6,
      );
    expect(types(across)).toEqual([]);
    // A crashed process's successor on the same node subscribes afresh: a reset too.
    const restarted = new History()
      .poll(
        1,
        {
          a: [
            [1, 11],
            [2, 12],
          ],
        },
        3,
      )
      .subscribe(1, ['a'])
      .poll(1, { a: [[1, 11]] }, 3);
    expect(types(restarted)).toEqual([]);
    const within = new History()
      .poll(1, { a: [[1, 11]] }, 4)
      .poll(1, { a: [[3, 13]] }, 4)
      .poll(2, { a: [[2, 12]] }, 2);
    expect(only(within, 'poll-skip').offsets).toEqual([1, 3]);
  });

  it('a poll that goes back inside one assignment is nonmonotonic; one that resumes is not', () => {
    const back = new History()
      .poll(1, {
        a: [
          [0, 10],
          [1, 11],
          [2, 12],
        ],
      })
      .poll(1, { a: [[1, 11]] });
    expect(only(back, 'nonmonotonic-poll').offsets).toEqual([2, 1]);
    const resumes = new History()
      .poll(1, {
        a: [
          [0, 10],
          [1, 11],
        ],
      })
      .poll(1, { a: [[2, 12]] });
    expect(types(resumes)).toEqual([]);
  });

  it('a skip between polls names the skipped offsets; gaps nobody saw are not skips', () => {
    const history = new History()
      .send(9, 'a', 11, 1)
      .poll(1, { a: [[0, 10]] })
      .poll(1, { a: [[2, 12]] });
    const skip = only(history, 'poll-skip');
    expect(skip.offsets).toEqual([0, 2]);
    expect(skip.message).toContain('skipping offsets 1');
    // Offset 1 held nothing anyone saw (a sparse log): 0 then 2 is contiguous.
    expect(types(new History().poll(1, { a: [[0, 10]] }).poll(1, { a: [[2, 12]] }))).toEqual([]);
    // The skip is not judged across a rebalance (the lost write still is).
    const rebalanced = new History()
      .send(9, 'a', 11, 1)
      .poll(1, { a: [[0, 10]] }, 4)
      .poll(1, { a: [[2, 12]] }, 5);
    expect(types(rebalanced)).toEqual(['lost-write', 'unseen']);
  });

  it('finds skips and reversals inside one poll', () => {
    const history = new History().send(9, 'a', 11, 1).poll(1, {
      a: [
        [0, 10],
        [2, 12],
        [1, 11],
      ],
    });
    const found = analyzeKafkaHistory(history.ops).anomalies;
    expect(found.map((a) => [a.type, a.offsets])).toEqual([
      ['int-poll-skip', [0, 2]],
      ['int-nonmonotonic-poll', [2, 1]],
    ]);
  });

  it('a lost write is an acknowledged offset below the highest read that no poll saw', () => {
    const history = new History()
      .send(1, 'a', 10, 0)
      .send(1, 'a', 11, 1)
      .send(1, 'a', 12, 2)
      .send(1, 'a', 13, 3)
      .poll(2, { a: [[0, 10]] }, 0)
      .poll(2, { a: [[2, 12]] }, 1);
    const lost = only(history, 'lost-write');
    expect(lost.key).toBe('a');
    expect(lost.offsets).toEqual([1, 2]);
    expect(lost.values).toEqual([11, 12]);
    // 13 at offset 3 is above everything read: unseen, not lost.
    expect(only(history, 'unseen').values).toEqual([11, 13]);
  });

  it('an acknowledged write truncated away and its offset reused is lost and inconsistent', () => {
    // acks=1: 11 was acknowledged at offset 1, the leader died, the new leader gave offset 1
    // to 21; a consumer read the new log.
    const history = new History()
      .send(1, 'a', 10, 0)
      .send(1, 'a', 11, 1)
      .send(2, 'a', 21, 1)
      .send(2, 'a', 22, 2)
      .poll(3, {
        a: [
          [0, 10],
          [1, 21],
          [2, 22],
        ],
      });
    expect(types(history)).toEqual(['lost-write', 'inconsistent-offsets', 'unseen']);
    const inconsistent = only(history, 'inconsistent-offsets');
    expect(inconsistent.offsets).toEqual([1]);
    expect(inconsistent.values).toEqual([11, 21]);
    expect(only(history, 'lost-write').values).toEqual([11, 22]);
  });

  it('a value at two offsets is a duplicate (and not a lost write)', () => {
    const history = new History()
      .send(1, 'a', 10, 0)
      .send(1, 'a', 11, 1)
      .poll(2, {
        a: [
          [0, 10],
          [1, 11],
          [2, 10],
        ],
      });
    const duplicate = only(history, 'duplicate');
    expect(duplicate.values).toEqual([10]);
    expect(duplicate.offsets).toEqual([0, 2]);
    expect(types(history)).toEqual(['duplicate']);
  });

  it('a poll of a definitely failed send is G1a; of an unknown one is not', () => {
    const failed = new History().failedSend(1, 'a', 10).poll(2, { a: [[0, 10]] });
    const g1a = only(failed, 'G1a');
    expect(g1a.offsets).toEqual([0]);
    expect(g1a.values).toEqual([10]);
    expect(types(new History().openSend(1, 'a', 10).poll(2, { a: [[0, 10]] }))).toEqual([]);
  });

  it("a producer's acknowledged offsets going backwards is nonmonotonic-send", () => {
    const history = new History()
      .send(1, 'a', 10, 0)
      .send(1, 'a', 11, 3)
      .send(2, 'a', 20, 1)
      .send(1, 'a', 12, 2)
      .poll(3, {
        a: [
          [0, 10],
          [1, 20],
          [2, 12],
          [3, 11],
        ],
      });
    const anomaly = only(history, 'nonmonotonic-send');
    expect(anomaly.offsets).toEqual([3, 2]);
    expect(anomaly.values).toEqual([11, 12]);
    // Interleaved producers are each monotonic: fine.
    expect(types(clean())).toEqual([]);
  });

  describe('with retention', () => {
    /** Five sends to a, acknowledged at 0–4; a consumer that only ever read 3 and 4. */
    const lateReader = () =>
      new History()
        .send(1, 'a', 10, 0)
        .send(1, 'a', 11, 1)
        .send(1, 'a', 12, 2)
        .send(1, 'a', 13, 3)
        .send(1, 'a', 14, 4)
        .poll(2, {
          a: [
            [3, 13],
            [4, 14],
          ],
        });
    const kinds = (history: History, deletions: KafkaDeletion[]) =>
      analyzeKafkaHistory(history.ops, { deletions }).anomalies.map((anomaly) => anomaly.type);
    const lastAck = (history: History) => history.ops[4]?.returnUs as number;

    it('excuses exactly the acknowledged records deleted below the log start and the HW', () => {
      const history = lateReader();
      expect(kinds(history, [])).toEqual(['lost-write', 'lost-write', 'lost-write', 'unseen']);
      const at = lastAck(history) + 1;
      const all = analyzeKafkaHistory(history.ops, {
        deletions: [{ key: 'a', timeUs: at, deletedBelow: 3 }],
      });
      expect(all.anomalies).toEqual([]);
      expect(all.deletedUnpolled).toBe(3);
      // Not the later records: a start of 2 leaves offset 2 lost.
      const two = analyzeKafkaHistory(history.ops, {
        deletions: [{ key: 'a', timeUs: at, deletedBelow: 2 }],
      }).anomalies;
      expect(two.map((anomaly) => [anomaly.type, anomaly.offsets[0]])).toEqual([
        ['lost-write', 2],
        ['unseen', 2],
      ]);
      // Another partition's deletion excuses nothing here.
      expect(kinds(history, [{ key: 'b', timeUs: at, deletedBelow: 3 }])).toContain('lost-write');
    });

    it('never excuses a record acknowledged after the deletion', () => {
      const history = lateReader();
      const beforeAcks = (history.ops[0]?.callUs as number) - 1;
      expect(kinds(history, [{ key: 'a', timeUs: beforeAcks, deletedBelow: 3 }])).toEqual([
        'lost-write',
        'lost-write',
        'lost-write',
        'unseen',
      ]);
      // Deleted between the acknowledgements of offsets 1 and 2: 0 and 1 are excused, 2 is not.
      const between = (history.ops[1]?.returnUs as number) + 1;
      const found = analyzeKafkaHistory(history.ops, {
        deletions: [{ key: 'a', timeUs: between, deletedBelow: 3 }],
      }).anomalies;
      expect(found.map((anomaly) => [anomaly.type, anomaly.offsets[0]])).toEqual([
        ['lost-write', 2],
        ['unseen', 2],
      ]);
    });

    it("is bounded by the replica's high watermark, not only its log start", () => {
      const history = lateReader();
      const at = lastAck(history) + 1;
      // The deletion reported a log start of 3 with a high watermark of 1: only 0 is excused.
      const found = analyzeKafkaHistory(history.ops, {
        deletions: [{ key: 'a', timeUs: at, deletedBelow: Math.min(3, 1) }],
      }).anomalies;
      expect(
        found.filter((anomaly) => anomaly.type === 'lost-write').map((a) => a.offsets[0]),
      ).toEqual([1, 2]);
      expect(
        kafkaDeletions([
          {
            node: 1,
            timeUs: at,
            eventIndex: 0,
            observation: {
              type: 'kafka-log-start-advanced',
              key: 'a',
              reason: 'retention',
              logStartOffset: 3,
              highWatermark: 1,
            },
          },
          { node: 1, timeUs: at, eventIndex: 1, observation: { type: 'kafka-hw', key: 'a' } },
          // A follower restarting at its leader's start deletes nothing retention did not.
          {
            node: 2,
            timeUs: at,
            eventIndex: 2,
            observation: {
              type: 'kafka-log-start-advanced',
              key: 'a',
              reason: 'truncate-fully',
              logStartOffset: 4,
              highWatermark: 4,
            },
          },
        ]),
      ).toEqual([{ key: 'a', timeUs: at, deletedBelow: 1 }]);
    });

    it('a skip over deleted offsets in one assignment is no poll-skip; over held ones it is', () => {
      const history = new History()
        .send(1, 'a', 10, 0)
        .send(1, 'a', 11, 1)
        .poll(2, { a: [[0, 10]] })
        .send(1, 'a', 12, 2)
        .send(1, 'a', 13, 3)
        .send(1, 'a', 14, 4)
        .poll(2, { a: [[4, 14]] });
      expect(kinds(history, [])).toEqual([
        'lost-write',
        'lost-write',
        'lost-write',
        'poll-skip',
        'unseen',
      ]);
      const lastPoll = history.ops[6] as HistoryOperation;
      const before = (lastPoll.callUs as number) - 1;
      expect(kinds(history, [{ key: 'a', timeUs: before, deletedBelow: 4 }])).toEqual([]);
      // Deleted only after the poll that skipped: still a skip (and the records still lost).
      const after = (lastPoll.returnUs as number) + 1;
      expect(kinds(history, [{ key: 'a', timeUs: after, deletedBelow: 4 }])).toEqual(['poll-skip']);
      // Deleted below 3: offset 3 was skipped while still held.
      expect(kinds(history, [{ key: 'a', timeUs: before, deletedBelow: 3 }])).toEqual([
        'lost-write',
        'poll-skip',
        'unseen',
      ]);
    });
  });

  it('gives one invariant per anomaly, unseen only when asked, each with a sentence', () => {
    const names = kafkaHistoryInvariants().map((invariant) => invariant.name);
    expect(names).toEqual(KAFKA_ANOMALIES.filter((type) => type !== 'unseen'));
    const all = kafkaHistoryInvariants({ unseen: true });
    expect(all.map((invariant) => invariant.name)).toContain('unseen');
    const history = new History()
      .send(1, 'a', 10, 0)
      .send(1, 'a', 11, 1)
      .send(1, 'a', 12, 2)
      .poll(2, {
        a: [
          [0, 10],
          [2, 12],
        ],
      });
    const view = {
      history: history.ops,
      name: (node: number) => `c${node}`,
    } as unknown as ClusterView;
    const verdicts = Object.fromEntries(
      all.map((invariant) => [invariant.name, invariant.atEnd?.(view, [])]),
    );
    expect(verdicts['lost-write']).toBe(
      'partition a: value 11, acknowledged to c1 (op 1) at offset 1, was never polled, though offset 2 (value 12) was',
    );
    expect(verdicts['int-poll-skip']).toContain('skipping offsets 1');
    expect(verdicts['duplicate']).toBeUndefined();
    expect(verdicts['unseen']).toContain('11 at offset 1');
  });
});

describe('unseen with partitions left offline by media faults', () => {
  // Value 11 at a@1 is acknowledged and never polled; broker node 0 had a media fault.
  const history = new History()
    .send(1, 'a', 10, 0)
    .send(1, 'a', 11, 1)
    .poll(2, { a: [[0, 10]] });
  const observation = (node: number, body: Record<string, unknown>, eventIndex: number) => ({
    node,
    timeUs: 1_000 * eventIndex,
    eventIndex,
    observation: body as ObservationRecord['observation'],
  });
  const offline = (key: string) => [
    observation(
      0,
      {
        type: 'kafka-corruption-detected',
        key,
        file: `${key}/0.log`,
        offset: 0,
        reason: 'checksum mismatch',
      },
      1,
    ),
    observation(
      9,
      {
        type: 'kafka-partition-state',
        key,
        leaderEpoch: 2,
        partitionEpoch: 3,
        leader: -1,
        isr: [],
      },
      2,
    ),
  ];
  const unseen = (observations: ObservationRecord[]) => {
    const invariant = kafkaHistoryInvariants({ unseen: true }).find((one) => one.name === 'unseen');
    const view = {
      history: history.ops,
      name: (node: number) => `c${node}`,
      mediaFaults: (node: number) => (node === 0 ? 1 : 0),
    } as unknown as ClusterView;
    return invariant?.atEnd?.(view, observations);
  };

  it('stands down for the offline partition, and for every partition once the offsets partition is offline', () => {
    expect(unseen([])).toContain('11 at offset 1');
    expect(unseen(offline('b'))).toContain('11 at offset 1'); // another partition's trouble
    expect(unseen(offline('a'))).toBeUndefined();
    // The group's coordinator lives on the offsets partition: offline, nothing more is drained.
    expect(unseen(offline(OFFSETS_KEY))).toBeUndefined();
  });
});

describe('the EDN export', () => {
  it("writes invocations and completions in Jepsen's shape, in time order", () => {
    const history = new History()
      .send(1, 'a', 10, 0)
      .failedSend(1, 'a', 11)
      .openSend(1, 'b', 12)
      .poll(2, { a: [[0, 10]] }, 3);
    const text = kafkaHistoryEdn(history.ops);
    const forms = readEdn(text).map((form) => form.value as EdnMap);
    expect(forms).toHaveLength(8);
    const field = (form: EdnMap, name: string) => {
      const value = form.get(name);
      return value instanceof Keyword ? value.name : value;
    };
    expect(forms.map((form) => field(form, 'type'))).toEqual([
      'invoke',
      'ok',
      'invoke',
      'fail',
      'invoke',
      'invoke',
      'ok',
      'info',
    ]);
    expect(forms.map((form) => field(form, 'index'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const times = forms.map((form) => field(form, 'time') as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(field(forms[0] as EdnMap, 'time')).toBe(10_000);
    // [[:send "a" [0 10]]] and [[:poll {"a" [[0 10]]}]]
    const micro = (form: EdnMap): unknown[] => (form.get('value') as unknown[][])[0] ?? [];
    const sendOk = micro(forms[1] as EdnMap);
    expect((sendOk[0] as Keyword).name).toBe('send');
    expect(sendOk.slice(1)).toEqual(['a', [0, 10]]);
    const pollOk = micro(forms[6] as EdnMap);
    expect((pollOk[0] as Keyword).name).toBe('poll');
    expect((pollOk[1] as EdnMap).entries).toEqual([['a', [[0, 10]]]]);
    expect(field(forms[6] as EdnMap, 'assignment')).toBe(3);
    expect(field(forms[6] as EdnMap, 'process')).toBe(2);
    // The open send completes as :info with its invocation's value.
    expect(text.split('\n')[7]).toContain(':type :info, :f :send, :value [[:send "b" 12]]');
  });
});
