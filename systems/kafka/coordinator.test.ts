// The group coordinator on its own, with a hand-driven host: a generation's assignment is
// handed out only once its record is durable; members of one generation own disjoint keys
// covering all; commits need the current member, generation and a fresh sequence (the
// stale-generation variant skips the first two); a coordinator that loads the offsets
// partition starts past its generations and answers only durable offsets; a silent member is
// dropped after its session.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { NodeId, Observation } from '../../sim/types.ts';
import {
  type CoordinatorHost,
  compactOffsetsRecords,
  GroupCoordinator,
  offsetsRecordKey,
} from './coordinator.ts';
import { DEFAULT_KAFKA_CONFIG, type GroupReply, type GroupRequest } from './messages.ts';

/** A request without its id (the helper numbers them). */
type Body = GroupRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const CONFIG = { ...DEFAULT_KAFKA_CONFIG, consumerGroups: true };

class Host implements CoordinatorHost {
  nowUs = 0;
  readonly log: string[] = [];
  readonly replies: { client: NodeId; reply: GroupReply }[] = [];
  readonly observations: Observation[] = [];
  refuse = false;

  now(): number {
    return this.nowUs;
  }

  append(payloads: string[]): number | undefined {
    if (this.refuse) {
      return undefined;
    }
    this.log.push(...payloads);
    return this.log.length;
  }

  reply(client: NodeId, reply: GroupReply): void {
    this.replies.push({ client, reply });
  }

  observe(observation: Observation): void {
    this.observations.push(observation);
  }

  /** The last reply to a request id. */
  answer(id: string): GroupReply | undefined {
    return this.replies.filter((entry) => entry.reply.id === id).at(-1)?.reply;
  }
}

function setup(acceptStale = false) {
  const host = new Host();
  const coordinator = new GroupCoordinator(host, CONFIG, acceptStale);
  coordinator.activate(1, [], 0);
  let requests = 0;
  const ask = (client: NodeId, request: Body) => {
    const id = `r${++requests}`;
    coordinator.onRequest(client, { ...request, id } as GroupRequest);
    return id;
  };
  const join = (client: NodeId, instance: string, memberId: string | null = null) =>
    ask(client, { type: 'join-group', group: 'g', instance, memberId });
  const durable = () => coordinator.onHighWatermark(host.log.length);
  return { host, coordinator, ask, join, durable };
}

function joined(reply: GroupReply | undefined) {
  expect(reply?.type).toBe('join-group-ok');
  return reply as Extract<GroupReply, { type: 'join-group-ok' }>;
}

describe('the group coordinator', () => {
  it('rebalances when a member joins, and assigns disjoint keys only once the generation is durable', () => {
    const { host, ask, join, durable } = setup();
    const a = joined(host.answer(join(1, 'c1.0')));
    expect(a.generation).toBe(1);
    durable();
    const b1 = join(2, 'c2.0');
    expect(host.answer(b1)).toBeUndefined(); // waits for a to rejoin
    const a2 = joined(host.answer(join(1, 'c1.0', a.memberId)));
    const b = joined(host.answer(b1));
    expect(a2.generation).toBe(2);
    expect(b.generation).toBe(2);
    const syncA = ask(1, {
      type: 'sync-group',
      group: 'g',
      memberId: a.memberId,
      generation: 2,
    });
    const syncB = ask(2, {
      type: 'sync-group',
      group: 'g',
      memberId: b.memberId,
      generation: 2,
    });
    expect(host.answer(syncA)).toBeUndefined(); // not durable yet
    durable();
    const keysA = (host.answer(syncA) as Extract<GroupReply, { type: 'sync-group-ok' }>).keys;
    const keysB = (host.answer(syncB) as Extract<GroupReply, { type: 'sync-group-ok' }>).keys;
    expect([...keysA, ...keysB].sort()).toEqual([...CONFIG.keys]);
    expect(keysA.filter((key) => keysB.includes(key))).toEqual([]);
    expect(keysA.length).toBeGreaterThan(0);
    expect(keysB.length).toBeGreaterThan(0);
  });

  it('fences commits of a stale generation, an unknown member and an old sequence', () => {
    const { host, ask, join, durable } = setup();
    const a = joined(host.answer(join(1, 'c1.0')));
    durable();
    const commit = (generation: number, sequence: number, memberId = a.memberId) =>
      ask(1, {
        type: 'offset-commit',
        group: 'g',
        memberId,
        generation,
        sequence,
        offsets: { k0: 5 + sequence },
      });
    const ok = commit(1, 1);
    expect(host.answer(ok)).toBeUndefined(); // answered once durable
    durable();
    expect(host.answer(ok)?.type).toBe('offset-commit-ok');
    expect(host.answer(commit(0, 2))).toMatchObject({ error: 'illegal-generation' });
    expect(host.answer(commit(1, 1))).toMatchObject({ error: 'stale-sequence' });
    expect(host.answer(commit(1, 3, 'nobody'))).toMatchObject({ error: 'unknown-member' });
    expect(host.observations.filter((o) => o.type === 'kafka-offset-committed')).toHaveLength(1);
  });

  it('with the stale-generation bug, a stale commit is appended and counts', () => {
    const { host, ask, join, durable } = setup(true);
    const a = joined(host.answer(join(1, 'c1.0')));
    durable();
    const stale = ask(1, {
      type: 'offset-commit',
      group: 'g',
      memberId: a.memberId,
      generation: 0,
      sequence: 1,
      offsets: { k0: 3 },
    });
    durable();
    expect(host.answer(stale)?.type).toBe('offset-commit-ok');
    expect(host.observations.find((o) => o.type === 'kafka-offset-committed')).toMatchObject({
      key: 'k0',
      offset: 3,
      generation: 0,
    });
  });

  it('a coordinator loading the log starts past its generations and answers durable offsets only', () => {
    const host = new Host();
    const coordinator = new GroupCoordinator(host, CONFIG, false);
    const records = [
      { t: 'group', g: 'g', gen: 5, a: { x: ['k0', 'k1', 'k2'] } },
      { t: 'offset', g: 'g', k: 'k0', o: 7, gen: 5, m: 'x' },
      { t: 'offset', g: 'g', k: 'k1', o: 9, gen: 5, m: 'x' }, // above the HW
    ].map((record, offset) => ({ offset, text: JSON.stringify(record) }));
    coordinator.activate(2, records, 2);
    coordinator.onRequest(1, { type: 'offset-fetch', id: 'f', group: 'g', keys: ['k0', 'k1'] });
    expect(host.answer('f')).toMatchObject({ offsets: { k0: 7 } });
    expect((host.answer('f') as { offsets: object }).offsets).not.toHaveProperty('k1');
    coordinator.onRequest(1, {
      type: 'join-group',
      id: 'j',
      group: 'g',
      instance: 'c1.0',
      memberId: null,
    });
    expect(joined(host.answer('j')).generation).toBe(6);
    // The old generation's member is unknown here: it must rejoin.
    coordinator.onRequest(1, {
      type: 'group-heartbeat',
      id: 'h',
      group: 'g',
      memberId: 'x',
      generation: 5,
    });
    expect(host.answer('h')).toMatchObject({ error: 'unknown-member' });
    coordinator.onHighWatermark(3);
    coordinator.onRequest(1, { type: 'offset-fetch', id: 'f2', group: 'g', keys: ['k1'] });
    expect(host.answer('f2')).toMatchObject({ offsets: { k1: 9 } });
  });

  it('drops a member silent for its session and rebalances without it', () => {
    const { host, coordinator, ask, join, durable } = setup();
    const a = joined(host.answer(join(1, 'c1.0')));
    durable();
    const b1 = join(2, 'c2.0');
    joined(host.answer(join(1, 'c1.0', a.memberId)));
    const b = joined(host.answer(b1));
    durable();
    host.nowUs = CONFIG.groupSessionTimeoutUs / 2;
    ask(1, {
      type: 'group-heartbeat',
      group: 'g',
      memberId: a.memberId,
      generation: b.generation,
    });
    host.nowUs = CONFIG.groupSessionTimeoutUs + 1;
    coordinator.tick(); // b has been silent for a session; a has not
    expect(host.observations).toContainEqual({
      type: 'kafka-member-expired',
      group: 'g',
      member: b.memberId,
    });
    const hb = ask(1, {
      type: 'group-heartbeat',
      group: 'g',
      memberId: a.memberId,
      generation: b.generation,
    });
    expect(host.answer(hb)).toMatchObject({ error: 'rebalance-in-progress' });
    const again = joined(host.answer(join(1, 'c1.0', a.memberId)));
    expect(again.generation).toBe(b.generation + 1);
  });

  it('losing the leadership answers waiting joins and forgets the groups', () => {
    const { host, coordinator, join, durable } = setup();
    joined(host.answer(join(1, 'c1.0')));
    durable();
    const waiting = join(2, 'c2.0');
    coordinator.deactivate();
    expect(host.answer(waiting)).toMatchObject({ error: 'not-coordinator' });
    coordinator.onRequest(3, { type: 'offset-fetch', id: 'f', group: 'g', keys: ['k0'] });
    expect(host.answer('f')).toMatchObject({ error: 'not-coordinator' });
  });
});

describe('compaction of the offsets partition', () => {
  type LogRecord = { offset: number; text: string };
  /** A random stretch of the partition: commits and generations of two groups, in log order. */
  const logArbitrary = fc
    .array(
      fc.oneof(
        fc.record({
          t: fc.constant('offset' as const),
          g: fc.constantFrom('g1', 'g2'),
          k: fc.constantFrom('k0', 'k1', 'k2'),
          o: fc.integer({ min: 0, max: 500 }),
          m: fc.constantFrom('m1', 'm2'),
        }),
        fc.record({ t: fc.constant('group' as const), g: fc.constantFrom('g1', 'g2') }),
        fc.constant({ t: 'junk' as const }),
      ),
      { maxLength: 80 },
    )
    .chain((items) =>
      fc
        .array(fc.integer({ min: 1, max: 3 }), { minLength: items.length, maxLength: items.length })
        .map((steps) => {
          const generations: { [group: string]: number } = { g1: 0, g2: 0 };
          let offset = 0;
          return items.map((item, at): LogRecord => {
            offset += steps[at] as number; // offsets with gaps, as an earlier compaction leaves
            if (item.t === 'group') {
              generations[item.g] = (generations[item.g] as number) + 1;
              return {
                offset,
                text: JSON.stringify({ t: 'group', g: item.g, gen: generations[item.g], a: {} }),
              };
            }
            if (item.t === 'junk') {
              return { offset, text: '' };
            }
            const gen = generations[item.g] as number;
            return { offset, text: JSON.stringify({ ...item, gen }) };
          });
        }),
    );

  /** What a coordinator that loaded `records` answers: committed offsets and its next generation. */
  function loaded(records: readonly LogRecord[]) {
    const host = new Host();
    const coordinator = new GroupCoordinator(host, CONFIG, false);
    const end = (records[records.length - 1]?.offset ?? 0) + 1;
    coordinator.activate(1, records, end);
    const state: unknown[] = [];
    for (const group of ['g1', 'g2']) {
      coordinator.onRequest(9, {
        type: 'offset-fetch',
        id: `f-${group}`,
        group,
        keys: ['k0', 'k1', 'k2'],
      });
      state.push(host.answer(`f-${group}`));
      coordinator.onRequest(9, {
        type: 'join-group',
        id: `j-${group}`,
        group,
        instance: 'c9.0',
        memberId: null,
      });
      const join = host.answer(`j-${group}`);
      state.push(join?.type === 'join-group-ok' ? join.generation : join?.type);
    }
    const committed = host.observations
      .filter((observation) => observation.type === 'kafka-offset-committed')
      .map((observation) => `${observation['group']}/${observation['key']}`);
    return { state, committedKeys: [...new Set(committed)].sort() };
  }

  it('a coordinator loading the compacted log has the state it has loading the whole log', () => {
    fc.assert(
      fc.property(logArbitrary, (records) => {
        const compacted = compactOffsetsRecords(records);
        expect(compacted.length).toBeLessThanOrEqual(records.length);
        expect(loaded(compacted)).toEqual(loaded(records));
        // Compacting again changes nothing; and offsets stay where they were.
        expect(compactOffsetsRecords(compacted)).toEqual(compacted);
        expect(compacted.every((record) => records.includes(record))).toBe(true);
        // Exactly the newest record of each key stays (and every record without a key).
        const keys = new Set(records.map((record) => offsetsRecordKey(record.text)));
        for (const key of keys) {
          const ofKey = (list: readonly LogRecord[]) =>
            list.filter((record) => offsetsRecordKey(record.text) === key);
          expect(ofKey(compacted)).toEqual(
            key === undefined ? ofKey(records) : ofKey(records).slice(-1),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
