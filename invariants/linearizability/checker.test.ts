import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { checkOperations } from './checker.ts';
import type { HistoryInput, HistoryOperation, HistoryOutput, Value } from './history.ts';
import { kvModel, registerModel } from './models.ts';
import { parseHistory } from './parse.ts';
import { type Model, type Operation, UNKNOWN } from './types.ts';

function op(
  clientId: number,
  input: HistoryInput,
  output: HistoryOutput | typeof UNKNOWN,
  callTime: number,
  returnTime: number,
): HistoryOperation {
  return { clientId, input, output, callTime, returnTime };
}
const ok = (value?: Value): HistoryOutput => ({ type: 'ok', value: value ?? null });
const write = (v: Value): HistoryInput => ({ f: 'write', value: v });
const read: HistoryInput = { f: 'read' };
const cas = (from: Value, to: Value): HistoryInput => ({ f: 'cas', value: [from, to] });

// A user-defined model, as a user would write one: an integer register starting at 0.
const intRegister: Model<number, { put?: number }, number> = {
  name: 'int-register',
  init: () => 0,
  step: (state, input, output) =>
    input.put === undefined
      ? { ok: output === UNKNOWN || output === state, state }
      : { ok: true, state: input.put },
};

describe('checkOperations on small histories', () => {
  it('accepts a read that overlaps a write and sees either value (a user-defined model)', () => {
    const history: Operation<{ put?: number }, number>[] = [
      { clientId: 0, input: { put: 100 }, output: 0, callTime: 0, returnTime: 100 },
      { clientId: 1, input: {}, output: 100, callTime: 25, returnTime: 75 },
      { clientId: 2, input: {}, output: 0, callTime: 30, returnTime: 60 },
    ];
    expect(checkOperations(intRegister, history).verdict).toBe('linearizable');
  });

  it('rejects a read of the old value that starts after a read of the new one returned', () => {
    const history: Operation<{ put?: number }, number>[] = [
      { clientId: 0, input: { put: 200 }, output: 0, callTime: 0, returnTime: 100 },
      { clientId: 1, input: {}, output: 200, callTime: 10, returnTime: 30 },
      { clientId: 2, input: {}, output: 0, callTime: 40, returnTime: 90 },
    ];
    expect(checkOperations(intRegister, history).verdict).toBe('not-linearizable');
  });

  it('treats intervals as closed: touching at one instant counts as concurrent', () => {
    const touching = [op(0, write(1), ok(), 0, 10), op(1, read, ok(null), 10, 20)];
    expect(checkOperations(registerModel, touching).verdict).toBe('linearizable');
    const after = [op(0, write(1), ok(), 0, 10), op(1, read, ok(null), 11, 20)];
    expect(checkOperations(registerModel, after).verdict).toBe('not-linearizable');
  });

  it('lets an operation with an unknown outcome take effect later, or never, but not undo itself', () => {
    const later = [
      op(0, write(1), UNKNOWN, 0, 1),
      op(1, read, ok(null), 5, 6),
      op(1, read, ok(1), 10, 11),
    ];
    expect(checkOperations(registerModel, later).verdict).toBe('linearizable');
    const never = [op(0, write(1), UNKNOWN, 0, 1), op(1, read, ok(null), 50, 60)];
    expect(checkOperations(registerModel, never).verdict).toBe('linearizable');
    const undone = [
      op(0, write(1), UNKNOWN, 0, 1),
      op(1, read, ok(1), 5, 6),
      op(1, read, ok(null), 10, 11),
    ];
    expect(checkOperations(registerModel, undone).verdict).toBe('not-linearizable');
    const beforeCall = [op(1, read, ok(1), 0, 4), op(0, write(1), UNKNOWN, 5, 6)];
    expect(checkOperations(registerModel, beforeCall).verdict).toBe('not-linearizable');
  });

  it('reads a failed CAS as a CAS that returned false', () => {
    const lost = [op(0, write(1), ok(), 0, 1), op(0, cas(3, 2), { type: 'fail' }, 2, 3)];
    expect(checkOperations(registerModel, lost).verdict).toBe('linearizable');
    const impossible = [op(0, write(1), ok(), 0, 1), op(0, cas(1, 2), { type: 'fail' }, 2, 3)];
    expect(checkOperations(registerModel, impossible).verdict).toBe('not-linearizable');
    const won = [
      op(0, write(1), ok(), 0, 1),
      op(0, cas(1, 2), ok(), 2, 3),
      op(0, read, ok(2), 4, 5),
    ];
    expect(checkOperations(registerModel, won).verdict).toBe('linearizable');
  });

  it('starts the register absent: a first read of nil is fine, of 0 is not', () => {
    expect(checkOperations(registerModel, [op(0, read, ok(null), 0, 1)]).verdict).toBe(
      'linearizable',
    );
    expect(checkOperations(registerModel, [op(0, read, ok(0), 0, 1)]).verdict).toBe(
      'not-linearizable',
    );
  });

  it('checks an empty history as linearizable', () => {
    expect(checkOperations(registerModel, []).verdict).toBe('linearizable');
  });
});

describe('explanations', () => {
  it('name the key, the longest prefix and the operation that could not be placed', () => {
    const history = [
      op(0, { f: 'put', key: 'a', value: 'x' }, ok(), 0, 1),
      op(1, { f: 'put', key: 'b', value: 'one' }, ok(), 0, 2),
      op(1, { f: 'append', key: 'b', value: 'two' }, ok(), 3, 4),
      op(2, { f: 'get', key: 'b' }, ok('one'), 5, 6),
      op(0, { f: 'get', key: 'a' }, ok('x'), 7, 8),
    ];
    const result = checkOperations(kvModel, history);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict !== 'not-linearizable') return;
    const { explanation } = result;
    expect(explanation.partition).toBe('key "b"');
    expect(explanation.blockedOperation).toBe(3);
    expect(explanation.longestPrefix).toEqual([1, 2]);
    expect(explanation.stateAfterPrefix).toBe('"onetwo"');
    expect(explanation.message).toContain('in key "b"');
    expect(explanation.message).toContain(
      'get("b") -> "one" by client 2 (called at t=5, returned at t=6)',
    );
    expect(explanation.message).toContain('orders 2 of 3 operations');
  });

  it('use file lines when the history came from a file', () => {
    const text = [
      '{:process 0, :type :invoke, :f :write, :value 1}',
      '{:process 0, :type :ok, :f :write, :value 1}',
      '{:process 1, :type :invoke, :f :read, :value nil}',
      '{:process 1, :type :ok, :f :read, :value 2}',
    ].join('\n');
    const result = checkOperations(registerModel, parseHistory(text));
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict !== 'not-linearizable') return;
    expect(result.explanation.message).toContain('read() -> 2 by client 1 (lines 3–4)');
    expect(result.explanation.message).toContain('leaves the state at 1');
  });
});

const DATA = new URL('../../../shared/histories/porcupine/', import.meta.url);
const hard = parseHistory(readFileSync(new URL('jepsen/etcd_002.log', DATA), 'utf8'));

/**
 * Waves of `width` concurrent writes, each wave finished before the next, then a read of a
 * value nobody wrote: the search must rule out every order of every wave (15,188 steps for
 * 20 waves of 6).
 */
function waves(count: number, width: number): HistoryOperation[] {
  const history: HistoryOperation[] = [];
  for (let w = 0; w < count; w++) {
    for (let c = 0; c < width; c++) {
      history.push(op(c, write((c + w) % 4), ok(), w * 100 + c, w * 100 + 90 + c));
    }
  }
  history.push(op(99, read, ok(99), count * 100 + 50, count * 100 + 60));
  return history;
}

describe('read-only operations', () => {
  it('are linearized as soon as they can be, so concurrent reads do not multiply the search', () => {
    // Waves of write(1) and write(2) with 8 concurrent reads, half of 1 and half of 2, then
    // a read nobody wrote: 135,842 steps when reads branch like writes, 6,288 when they do not.
    const history: HistoryOperation[] = [];
    for (let w = 0; w < 20; w++) {
      history.push(op(0, write(1), ok(), w * 100, w * 100 + 40));
      history.push(op(1, write(2), ok(), w * 100 + 1, w * 100 + 41));
      for (let c = 2; c < 10; c++) {
        history.push(op(c, read, ok(1 + (c % 2)), w * 100 + 2 + c, w * 100 + 90));
      }
    }
    history.push(op(19, read, ok(99), 5000, 5001));
    const result = checkOperations(registerModel, history);
    expect(result.verdict).toBe('not-linearizable');
    const branching = checkOperations({ ...registerModel, readOnly: undefined }, history);
    expect(branching.verdict).toBe('not-linearizable');
    expect(result.steps * 10).toBeLessThan(branching.steps);
  });

  it('does not include a write of the current value: it may have to take effect later', () => {
    // The register holds 1; write(1) by client 0 must come after write(2), for the read of 1.
    const history = [
      op(3, write(1), ok(), 0, 1),
      op(0, write(1), ok(), 2, 20),
      op(1, write(2), ok(), 3, 5),
      op(2, read, ok(1), 10, 12),
    ];
    expect(checkOperations(registerModel, history).verdict).toBe('linearizable');
    expect(registerModel.readOnly?.(write(1), ok())).toBe(false);
    expect(registerModel.readOnly?.(cas(1, 1), ok())).toBe(true);
  });
});

describe('operations that never returned', () => {
  it('do not multiply the search by 2^k: a configuration that used more of them is subsumed', () => {
    // 14 crashed writes, each of which may or may not have happened, then reads that pin the
    // value to 1 and one impossible read: the search has to exhaust everything before it.
    const history: HistoryOperation[] = [];
    for (let i = 0; i < 14; i++) {
      history.push(op(i, write(i % 3), UNKNOWN, i, i + 1));
    }
    for (let i = 0; i < 20; i++) {
      history.push(op(20 + (i % 3), read, ok(i % 2 === 0 ? 1 : 2), 100 + 10 * i, 105 + 10 * i));
    }
    history.push(op(30, read, ok(7), 1000, 1001));
    const result = checkOperations(registerModel, history);
    expect(result.verdict).toBe('not-linearizable');
    // Without subsumption and twins the 2^14 subsets of crashed writes each get their own
    // entries (1.8M steps; with subsumption alone, 213k).
    expect(result.steps).toBeLessThan(2_000);
  });
});

describe('budgets', () => {
  it('gives unknown, never a guess, when the step budget runs out', () => {
    const result = checkOperations(registerModel, hard, { maxSteps: 1000 });
    expect(result).toMatchObject({ verdict: 'unknown', steps: 1000 });
    expect(checkOperations(registerModel, hard).verdict).toBe('linearizable');
  });

  it('gives unknown when the clock passes the timeout', () => {
    let nowMs = 0;
    const clock = () => {
      nowMs += 1000;
      return nowMs;
    };
    const result = checkOperations(registerModel, waves(60, 6), { timeoutMs: 500, nowMs: clock });
    expect(result.verdict).toBe('unknown');
    expect(result.steps).toBeLessThan(100_000);
  });

  it('never gives up when the memo is full: it forgets and searches on, to the same verdict', () => {
    const history = waves(20, 6);
    const roomy = checkOperations(registerModel, history);
    expect(roomy).toMatchObject({ verdict: 'not-linearizable', memoForgotten: 0 });
    const tight = checkOperations(registerModel, history, { maxMemoBytes: 120_000 });
    expect(tight.verdict).toBe('not-linearizable');
    expect(tight.memoForgotten).toBeGreaterThan(0);
    // Forgetting costs repeated work (here 4x; on other histories it can be far worse).
    expect(tight.steps).toBeGreaterThan(roomy.steps);
  });

  it('stops at the first illegal part without finishing a slow one', () => {
    const bad = [op(9, write(1), ok(), 0, 1), op(9, read, ok(2), 2, 3)];
    const twoParts: Model<Value, HistoryInput, HistoryOutput> = {
      ...registerModel,
      partition: (operations) => [
        { label: 'slow', operations: operations.filter((o) => o.clientId !== 9) },
        { label: 'bad', operations: operations.filter((o) => o.clientId === 9) },
      ],
    };
    // The slow part alone takes about 150k steps to refute.
    const slow = waves(200, 6);
    expect(checkOperations(registerModel, slow).steps).toBeGreaterThan(100_000);
    const result = checkOperations(twoParts, [...slow, ...bad]);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.steps).toBeLessThan(100_000);
    if (result.verdict === 'not-linearizable') {
      expect(result.explanation.partition).toBe('bad');
      expect(result.explanation.blockedOperation).toBe(slow.length + 1);
    }
  });
});

// ---- property tests ----

interface PlannedOp {
  kind: 'read' | 'write' | 'cas';
  a: number;
  b: number;
  before: number;
  after: number;
  timedOut: boolean;
  tookEffect: boolean;
}

const plannedOp = fc.record({
  kind: fc.constantFrom<'read' | 'write' | 'cas'>('read', 'write', 'cas'),
  a: fc.integer({ min: 0, max: 3 }),
  b: fc.integer({ min: 0, max: 3 }),
  before: fc.integer({ min: 0, max: 25 }),
  after: fc.integer({ min: 0, max: 25 }),
  timedOut: fc.integer({ min: 0, max: 6 }).map((x) => x === 0),
  tookEffect: fc.boolean(),
});

const SPACING = 10;

/**
 * Runs planned ops through a plain sequential register, at linearization points SPACING apart,
 * and widens each into an interval around its point: linearizable by construction.
 */
function sequentialRegisterHistory(plan: PlannedOp[]): {
  history: HistoryOperation[];
  final: Value;
} {
  let value: Value = null;
  const history = plan.map((p, i) => {
    const point = (i + 1) * 100;
    const input = p.kind === 'read' ? read : p.kind === 'write' ? write(p.a) : cas(p.a, p.b);
    const applies = !p.timedOut || p.tookEffect;
    let output: HistoryOutput;
    if (p.kind === 'read') {
      output = ok(value);
    } else if (p.kind === 'write') {
      if (applies) value = p.a;
      output = ok();
    } else {
      const matched = value === p.a;
      if (matched && applies) value = p.b;
      output = { type: matched ? 'ok' : 'fail', value: [p.a, p.b] };
    }
    return op(
      i % 5,
      input,
      p.timedOut ? UNKNOWN : output,
      point - p.before * SPACING,
      point + p.after * SPACING,
    );
  });
  return { history, final: value };
}

describe('property: sequential executions with real-time overlap', () => {
  it('are always linearizable (register)', () => {
    fc.assert(
      fc.property(fc.array(plannedOp, { maxLength: 40 }), (plan) => {
        const { history } = sequentialRegisterHistory(plan);
        expect(checkOperations(registerModel, history).verdict).toBe('linearizable');
      }),
      { numRuns: 200 },
    );
  });

  const kvOp = fc.record({
    f: fc.constantFrom('get', 'put', 'append'),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.constantFrom('x', 'y', 'zz'),
    before: fc.integer({ min: 0, max: 30 }),
    after: fc.integer({ min: 0, max: 30 }),
  });
  type KvPlan = typeof kvOp extends fc.Arbitrary<infer T> ? T : never;

  /** Runs the plan through a plain Map, then widens each op around its point in time. */
  function sequentialKvHistory(plan: KvPlan[]): {
    history: HistoryOperation[];
    store: Map<string, string>;
  } {
    const store = new Map<string, string>();
    const history = plan.map((p, i) => {
      const current = store.get(p.key) ?? '';
      if (p.f === 'put') store.set(p.key, p.value);
      if (p.f === 'append') store.set(p.key, current + p.value);
      const input: HistoryInput =
        p.f === 'get' ? { f: 'get', key: p.key } : { f: p.f, key: p.key, value: p.value };
      const point = (i + 1) * 100;
      const output = ok(p.f === 'get' ? current : null);
      return op(i % 7, input, output, point - p.before * SPACING, point + p.after * SPACING);
    });
    return { history, store };
  }

  it('are always linearizable (kv, partitioned by key)', () => {
    fc.assert(
      fc.property(fc.array(kvOp, { maxLength: 60 }), (plan) => {
        const { history } = sequentialKvHistory(plan);
        expect(checkOperations(kvModel, history).verdict).toBe('linearizable');
      }),
      { numRuns: 200 },
    );
  });

  it('with a planted stale read on one key are not linearizable, and that key is named', () => {
    fc.assert(
      fc.property(
        fc.array(kvOp, { maxLength: 60 }),
        fc.constantFrom('a', 'b', 'c'),
        (plan, key) => {
          const { history, store } = sequentialKvHistory(plan);
          const end = Math.max(0, ...history.map((o) => o.returnTime));
          history.push(op(0, { f: 'put', key, value: 'fresh' }, ok(), end + 10, end + 20));
          history.push(op(1, { f: 'get', key }, ok(store.get(key) ?? ''), end + 30, end + 40));
          const result = checkOperations(kvModel, history);
          expect(result.verdict).toBe('not-linearizable');
          if (result.verdict === 'not-linearizable') {
            expect(result.explanation.partition).toBe(`key "${key}"`);
            expect(result.explanation.blockedOperation).toBe(history.length - 1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a planted stale read are not linearizable, and the stale read is what is blamed', () => {
    const completedOp = plannedOp.map((p) => ({ ...p, timedOut: false }));
    fc.assert(
      fc.property(fc.array(completedOp, { maxLength: 40 }), (plan) => {
        const { history, final } = sequentialRegisterHistory(plan);
        const end = Math.max(0, ...history.map((o) => o.returnTime));
        history.push(op(0, write(100), ok(), end + 10, end + 20));
        history.push(op(1, read, ok(final), end + 30, end + 40));
        const result = checkOperations(registerModel, history);
        expect(result.verdict).toBe('not-linearizable');
        if (result.verdict === 'not-linearizable') {
          expect(result.explanation.blockedOperation).toBe(history.length - 1);
          expect(result.explanation.longestPrefix).toHaveLength(history.length - 1);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** All orders of the operations that respect real time, tried one by one. Tiny histories only. */
function bruteForceLinearizable(history: HistoryOperation[]): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const returnOf = (o: HistoryOperation) => (o.output === UNKNOWN ? Infinity : o.returnTime);
  const search = (state: Value, placed: number): boolean => {
    if (placed === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const candidate = history[i]!;
      // Every op that returned before this one was called must already be placed.
      const blocked = history.some(
        (o, j) => !used[j] && j !== i && returnOf(o) < candidate.callTime,
      );
      if (blocked) continue;
      const step = registerModel.step(state, candidate.input, candidate.output);
      if (!step.ok) continue;
      used[i] = true;
      const found = search(step.state, placed + 1);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(null, 0);
}

describe('property: agrees with brute force on tiny random histories', () => {
  it('gives the same verdict as trying every order', () => {
    const verdicts = { yes: 0, no: 0 };
    const randomOp = fc.record({
      kind: fc.constantFrom('read', 'write', 'cas'),
      a: fc.constantFrom<Value>(null, 0, 1, 2),
      b: fc.integer({ min: 0, max: 2 }),
      won: fc.boolean(),
      call: fc.integer({ min: 0, max: 20 }),
      length: fc.integer({ min: 0, max: 10 }),
      timedOut: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    });
    fc.assert(
      fc.property(fc.array(randomOp, { maxLength: 7 }), (plan) => {
        const history = plan.map((p, i) => {
          const input =
            p.kind === 'read' ? read : p.kind === 'write' ? write(p.b) : cas(p.a ?? 0, p.b);
          const output: HistoryOutput =
            p.kind === 'read' ? ok(p.a) : p.kind === 'cas' && !p.won ? { type: 'fail' } : ok();
          return op(i, input, p.timedOut ? UNKNOWN : output, p.call, p.call + p.length);
        });
        const expected = bruteForceLinearizable(history);
        verdicts[expected ? 'yes' : 'no']++;
        const actual = checkOperations(registerModel, history).verdict;
        expect(actual).toBe(expected ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 1000 },
    );
    // The property is only worth something if both verdicts were exercised.
    expect(verdicts.yes).toBeGreaterThan(100);
    expect(verdicts.no).toBeGreaterThan(100);
  });
});
