// The Knossos models on hand-built Knossos-format histories (each valid case has a twin that
// must fail), and properties: a sequential execution of a reference implementation, with
// every interval widened, is linearizable; the same history with one impossible completion
// planted after it is not, and that completion is what is blamed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { checkOperations } from './checker.ts';
import type { HistoryOperation, Value } from './history.ts';
import { readHistory } from './parse.ts';
import { type ModelName, modelFor } from './registry.ts';

function verdict(name: ModelName, edn: string, initial?: Value | ReadonlyMap<string, Value>) {
  const { operations, semantics } = readHistory(edn);
  expect(semantics).toBe('jepsen');
  const model = modelFor(name, { semantics, ...(initial === undefined ? {} : { initial }) });
  return checkOperations(model, operations);
}

/** `[p type f value]` rows as Knossos's op maps, one per line. */
function edn(...rows: [number, string, string, string][]): string {
  return rows
    .map(([p, type, f, v]) => `{:process ${p}, :type :${type}, :f :${f}, :value ${v}}`)
    .join('\n');
}

describe('mutex', () => {
  it('accepts overlapping acquires when a release can come between them', () => {
    const h = edn(
      [0, 'invoke', 'acquire', 'nil'],
      [0, 'ok', 'acquire', 'nil'],
      [1, 'invoke', 'acquire', 'nil'],
      [0, 'invoke', 'release', 'nil'],
      [0, 'ok', 'release', 'nil'],
      [1, 'ok', 'acquire', 'nil'],
    );
    expect(verdict('mutex', h).verdict).toBe('linearizable');
  });

  it('rejects two holders at once, and a release of a free lock', () => {
    const twice = edn(
      [0, 'invoke', 'acquire', 'nil'],
      [0, 'ok', 'acquire', 'nil'],
      [1, 'invoke', 'acquire', 'nil'],
      [1, 'ok', 'acquire', 'nil'],
    );
    const result = verdict('mutex', twice);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict === 'not-linearizable') {
      expect(result.explanation.blockedOperation).toBe(1);
      expect(result.explanation.stateAfterPrefix).toBe('held');
    }
    expect(
      verdict('mutex', edn([0, 'invoke', 'release', 'nil'], [0, 'ok', 'release', 'nil'])).verdict,
    ).toBe('not-linearizable');
  });

  it('lets a crashed acquire (:info) have happened or not; a failed one did not happen', () => {
    const crashed = [
      [0, 'invoke', 'acquire', 'nil'],
      [0, 'info', 'acquire', 'nil'],
      [1, 'invoke', 'acquire', 'nil'],
      [1, 'ok', 'acquire', 'nil'],
    ] as [number, string, string, string][];
    expect(verdict('mutex', edn(...crashed)).verdict).toBe('linearizable');
    const failed = edn(
      [0, 'invoke', 'acquire', 'nil'],
      [0, 'fail', 'acquire', 'nil'],
      [1, 'invoke', 'release', 'nil'],
      [1, 'ok', 'release', 'nil'],
    );
    expect(verdict('mutex', failed).verdict).toBe('not-linearizable');
  });
});

describe('set', () => {
  it('accepts a read that sees a concurrent add or not, and compares sets whatever the order', () => {
    const h = edn(
      [0, 'invoke', 'add', '1'],
      [0, 'ok', 'add', '1'],
      [0, 'invoke', 'add', '2'],
      [1, 'invoke', 'read', 'nil'],
      [1, 'ok', 'read', '#{1}'],
      [1, 'invoke', 'read', 'nil'],
      [0, 'ok', 'add', '2'],
      [1, 'ok', 'read', '#{2 1}'],
    );
    expect(verdict('set', h).verdict).toBe('linearizable');
  });

  it('rejects a read that loses an element already added', () => {
    const h = edn(
      [0, 'invoke', 'add', '1'],
      [0, 'ok', 'add', '1'],
      [1, 'invoke', 'read', 'nil'],
      [1, 'ok', 'read', '#{1}'],
      [1, 'invoke', 'read', 'nil'],
      [1, 'ok', 'read', '#{}'],
    );
    const result = verdict('set', h);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict === 'not-linearizable') {
      expect(result.explanation.stateAfterPrefix).toBe('#{1}');
      expect(result.explanation.message).toContain('read() -> [] by client 1 (lines 5–6)');
    }
  });
});

describe('queues', () => {
  const h = edn(
    [0, 'invoke', 'enqueue', '1'],
    [0, 'ok', 'enqueue', '1'],
    [0, 'invoke', 'enqueue', '2'],
    [0, 'ok', 'enqueue', '2'],
    [1, 'invoke', 'dequeue', 'nil'],
    [1, 'ok', 'dequeue', '2'],
  );

  it('an unordered queue may hand out any element; a FIFO queue only the oldest', () => {
    expect(verdict('unordered-queue', h).verdict).toBe('linearizable');
    const fifo = verdict('fifo-queue', h);
    expect(fifo.verdict).toBe('not-linearizable');
    if (fifo.verdict === 'not-linearizable') {
      expect(fifo.explanation.stateAfterPrefix).toBe('[1 2]');
    }
  });

  it('neither hands out an element twice or one never enqueued', () => {
    const twice = `${h}\n${edn([2, 'invoke', 'dequeue', 'nil'], [2, 'ok', 'dequeue', '2'])}`;
    expect(verdict('unordered-queue', twice).verdict).toBe('not-linearizable');
    const never = edn([0, 'invoke', 'dequeue', 'nil'], [0, 'ok', 'dequeue', '7']);
    expect(verdict('unordered-queue', never).verdict).toBe('not-linearizable');
    expect(verdict('fifo-queue', never).verdict).toBe('not-linearizable');
  });

  it('a FIFO queue accepts concurrent enqueues dequeued in either order', () => {
    const concurrent = edn(
      [0, 'invoke', 'enqueue', '1'],
      [1, 'invoke', 'enqueue', '2'],
      [0, 'ok', 'enqueue', '1'],
      [1, 'ok', 'enqueue', '2'],
      [2, 'invoke', 'dequeue', 'nil'],
      [2, 'ok', 'dequeue', '2'],
      [2, 'invoke', 'dequeue', 'nil'],
      [2, 'ok', 'dequeue', '1'],
    );
    expect(verdict('fifo-queue', concurrent).verdict).toBe('linearizable');
  });
});

describe('multi-register', () => {
  const initial = new Map([
    [':x', 0],
    [':y', 0],
  ]);

  it('accepts a transaction that reads its own keys consistently, and nil reads of anything', () => {
    const h = [
      '{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}',
      '{:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}',
      '{:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}',
      '{:process 1, :type :ok, :f :txn, :value [[:read :x 1] [:read :y 1]]}',
      '{:process 1, :type :invoke, :f :txn, :value [[:read :x nil]]}',
      '{:process 1, :type :ok, :f :txn, :value [[:read :x nil]]}',
    ].join('\n');
    expect(verdict('multi-register', h, initial).verdict).toBe('linearizable');
  });

  it('rejects a torn read: half of an atomic write', () => {
    const h = [
      '{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}',
      '{:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}',
      '{:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}',
      '{:process 1, :type :ok, :f :txn, :value [[:read :x 1] [:read :y 0]]}',
    ].join('\n');
    const result = verdict('multi-register', h, initial);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict === 'not-linearizable') {
      expect(result.explanation.message).toContain('txn[read :x 1, read :y 0]');
    }
  });

  it('checks keys no transaction connects as separate parts, and names the part', () => {
    const h = [
      '{:process 0, :type :invoke, :f :txn, :value [[:write :x 1]]}',
      '{:process 0, :type :ok, :f :txn, :value [[:write :x 1]]}',
      '{:process 1, :type :invoke, :f :txn, :value [[:write :y 2] [:write :z 2]]}',
      '{:process 1, :type :ok, :f :txn, :value [[:write :y 2] [:write :z 2]]}',
      '{:process 2, :type :invoke, :f :txn, :value [[:read :z nil]]}',
      '{:process 2, :type :ok, :f :txn, :value [[:read :z 0]]}',
    ].join('\n');
    const result = verdict('multi-register', h, initial);
    expect(result.partitions).toBe(2);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict === 'not-linearizable') {
      expect(result.explanation.partition).toBe('keys :y, :z');
    }
  });
});

// ------------------------------------------------------------------ properties

interface Reference {
  name: ModelName;
  /** One random operation applied to the reference state: [f, value as completed]. */
  step(rand: number, value: number): [string, Value] | undefined;
  /** A completion no execution of the reference could give now. */
  impossible(): [string, Value];
}

function mutexReference(): Reference {
  let held = false;
  return {
    name: 'mutex',
    step() {
      held = !held;
      return [held ? 'acquire' : 'release', null];
    },
    impossible: () => [held ? 'acquire' : 'release', null],
  };
}

function setReference(): Reference {
  const items = new Set<number>();
  return {
    name: 'set',
    step(rand, value) {
      if (rand < 0.6) {
        items.add(value);
        return ['add', value];
      }
      return ['read', [...items]];
    },
    impossible: () => ['read', [...items, 999]],
  };
}

function queueReference(fifo: boolean): Reference {
  const items: number[] = [];
  return {
    name: fifo ? 'fifo-queue' : 'unordered-queue',
    step(rand, value) {
      if (rand < 0.55 || items.length === 0) {
        items.push(value);
        return ['enqueue', value];
      }
      const at = fifo ? 0 : Math.floor(rand * 1000) % items.length;
      const [out] = items.splice(at, 1);
      return ['dequeue', out!];
    },
    impossible: () => ['dequeue', 999],
  };
}

function multiRegisterReference(): Reference {
  const values = new Map<string, number>();
  const keys = [':x', ':y', ':z'];
  return {
    name: 'multi-register',
    step(rand, value) {
      const key = keys[Math.floor(rand * 3)]!;
      const other = keys[(Math.floor(rand * 3) + 1) % 3]!;
      if (rand * 10 - Math.floor(rand * 10) < 0.5) {
        values.set(key, value);
        return [
          'txn',
          [
            [':write', key, value],
            [':read', other, values.get(other) ?? null],
          ],
        ];
      }
      return [
        'txn',
        [
          [':read', key, values.get(key) ?? null],
          [':read', other, values.get(other) ?? null],
        ],
      ];
    },
    impossible: () => ['txn', [[':read', ':x', 999]]],
  };
}

const planned = fc.array(
  fc.record({
    rand: fc.double({ min: 0, max: 0.999, noNaN: true }),
    value: fc.integer({ min: 0, max: 5 }),
    before: fc.integer({ min: 0, max: 30 }),
    after: fc.integer({ min: 0, max: 30 }),
  }),
  { maxLength: 30 },
);

/** Runs the plan through the reference at points 100 apart, widening each interval. */
type Plan = typeof planned extends fc.Arbitrary<infer T> ? T : never;

function sequential(reference: Reference, plan: Plan): HistoryOperation[] {
  const history: HistoryOperation[] = [];
  plan.forEach((p, i) => {
    const done = reference.step(p.rand, p.value);
    if (done === undefined) {
      return;
    }
    const [f, value] = done;
    const point = (i + 1) * 100;
    history.push({
      clientId: i % 5,
      input: { f, value },
      output: { type: 'ok', value },
      callTime: point - p.before * 3,
      returnTime: point + p.after * 3,
    });
  });
  return history;
}

describe('property: every Knossos model', () => {
  const references: [string, () => Reference][] = [
    ['mutex', mutexReference],
    ['set', setReference],
    ['unordered-queue', () => queueReference(false)],
    ['fifo-queue', () => queueReference(true)],
    ['multi-register', multiRegisterReference],
  ];
  for (const [name, make] of references) {
    it(`${name}: accepts sequential executions and blames a planted impossible completion`, () => {
      fc.assert(
        fc.property(planned, (plan) => {
          const reference = make();
          const history = sequential(reference, plan);
          const model = modelFor(reference.name, { semantics: 'jepsen' });
          expect(checkOperations(model, history).verdict).toBe('linearizable');
          const end = Math.max(0, ...history.map((o) => o.returnTime));
          const [f, value] = reference.impossible();
          history.push({
            clientId: 9,
            input: { f, value },
            output: { type: 'ok', value },
            callTime: end + 10,
            returnTime: end + 20,
          });
          const result = checkOperations(model, history);
          expect(result.verdict).toBe('not-linearizable');
          if (result.verdict === 'not-linearizable') {
            expect(result.explanation.blockedOperation).toBe(history.length - 1);
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});
