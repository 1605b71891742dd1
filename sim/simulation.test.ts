// Goal: the kernel's faults do exactly what they say. Method: small ad-hoc scenarios whose
// nodes record what they see, with hand-written plans.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { partitionLinks } from './plan.ts';
import { Random } from './random.ts';
import { programOf, runTest, testPlan, testScenario } from './testing.ts';
import {
  type FaultEvent,
  type Link,
  type NodeContext,
  type NodeId,
  PARTITION_SHAPES,
} from './types.ts';

const MS = 1000;

/** Every node sends a numbered message to every other node every millisecond. */
function chatter(received: Map<string, number[]>) {
  return (ctx: NodeContext) =>
    programOf({
      onStart: () => ctx.setTimer(MS, 'tick'),
      onTimer: () => {
        for (const peer of ctx.servers) {
          if (peer !== ctx.id) {
            ctx.send(peer, { type: 'hello', at: ctx.now() });
          }
        }
        ctx.setTimer(MS, 'tick');
      },
      onMessage: (from: NodeId, message) => {
        const key = `${from}->${ctx.id}`;
        const list = received.get(key) ?? [];
        list.push(message['at'] as number);
        received.set(key, list);
      },
    });
}

function sentBetween(list: number[] | undefined, fromUs: number, toUs: number): number {
  return (list ?? []).filter((at) => at >= fromUs && at < toUs).length;
}

describe('network', () => {
  it('blocks exactly the links a partition cuts, one way only, and heal restores them', () => {
    const received = new Map<string, number[]>();
    const scenario = testScenario(chatter(received), { nodes: 3, durationUs: 300 * MS });
    const faults: FaultEvent[] = [
      { atUs: 100 * MS, kind: 'partition', shape: 'one-way', links: [[0, 1]] },
      { atUs: 200 * MS, kind: 'heal' },
    ];
    runTest(scenario, testPlan(scenario, { faults }));
    // Sent well inside the partition (minus latency slack): nothing crosses 0->1.
    expect(sentBetween(received.get('0->1'), 101 * MS, 199 * MS)).toBe(0);
    // The reverse direction and the other links are untouched.
    expect(sentBetween(received.get('1->0'), 101 * MS, 199 * MS)).toBeGreaterThan(90);
    expect(sentBetween(received.get('0->2'), 101 * MS, 199 * MS)).toBeGreaterThan(90);
    // After the heal, 0->1 flows again.
    expect(sentBetween(received.get('0->1'), 201 * MS, 299 * MS)).toBeGreaterThan(90);
  });

  it('builds partitions whose cut links match their shape (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.nat(1000),
        fc.constantFrom(...PARTITION_SHAPES),
        (nodes, seed, shape) => {
          const servers = Array.from({ length: nodes }, (_, index) => index);
          const links = partitionLinks(shape, servers, servers, Random.fromSeed(seed));
          const cut = new Set(links.map(([from, to]) => `${from}-${to}`));
          for (const [from, to] of links) {
            expect(from).not.toBe(to);
          }
          if (shape === 'one-way') {
            // Some link is cut in one direction only.
            expect(links.some(([from, to]) => !cut.has(`${to}-${from}`))).toBe(true);
          } else {
            // Every other shape is symmetric.
            expect(links.every(([from, to]) => cut.has(`${to}-${from}`))).toBe(true);
          }
          if (shape === 'isolate') {
            expect(links.length).toBe(2 * (nodes - 1));
          }
          if (shape !== 'ring' || nodes > 3) {
            expect(links.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('drops and duplicates messages with the configured probabilities', () => {
    const received = new Map<string, number[]>();
    const scenario = testScenario(chatter(received), { nodes: 2, durationUs: 1000 * MS });
    const plan = testPlan(scenario);
    plan.knobs.dropProbability = 0.2;
    plan.knobs.duplicateProbability = 0.1;
    const result = runTest(scenario, plan);
    const ratioDropped = result.stats.messagesDropped / result.stats.messagesSent;
    const ratioDuplicated = result.stats.messagesDuplicated / result.stats.messagesSent;
    expect(ratioDropped).toBeGreaterThan(0.15);
    expect(ratioDropped).toBeLessThan(0.25);
    expect(ratioDuplicated).toBeGreaterThan(0.05);
    expect(ratioDuplicated).toBeLessThan(0.13);
  });
});

describe('crashes', () => {
  it('never fires the timers or delivers the messages of a crashed incarnation', () => {
    const events: string[] = [];
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => {
            events.push(`start ${ctx.id} at ${ctx.now()}`);
            if (ctx.id === 0) {
              ctx.send(1, { type: 'late' });
            }
            if (ctx.id === 1) {
              ctx.setTimer(50 * MS, 'old-timer');
            }
          },
          onTimer: (tag) => events.push(`timer ${ctx.id} ${tag} at ${ctx.now()}`),
          onMessage: (from, message) => events.push(`message ${from}->${ctx.id} ${message.type}`),
        }),
      { nodes: 2, durationUs: 200 * MS },
    );
    const plan = testPlan(scenario, {
      faults: [
        { atUs: 0, kind: 'crash', node: 1 },
        { atUs: 10 * MS, kind: 'restart', node: 1 },
      ],
    });
    plan.knobs.latencyMinUs = 5 * MS; // the message is in flight when node 1 crashes
    runTest(scenario, plan);
    // The first incarnation's timer (set at boot, before the crash) never fires; the
    // second incarnation's does. The message in flight to the old incarnation is gone.
    expect(events.filter((line) => line.startsWith('timer'))).toEqual([
      'timer 1 old-timer at 60000',
    ]);
    expect(events.filter((line) => line.startsWith('message'))).toEqual([]);
  });

  it('holds a paused node’s events and delivers them when it resumes', () => {
    const seen: number[] = [];
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => ctx.setTimer(10 * MS, 'tick'),
          onTimer: () => {
            seen.push(ctx.now());
            ctx.setTimer(10 * MS, 'tick');
          },
        }),
      { nodes: 1, durationUs: 100 * MS },
    );
    runTest(
      scenario,
      testPlan(scenario, {
        faults: [{ atUs: 15 * MS, kind: 'pause', node: 0, durationUs: 40 * MS }],
      }),
    );
    expect(seen.slice(0, 3)).toEqual([10 * MS, 55 * MS, 65 * MS]);
  });
});

describe('clocks', () => {
  it('shows each node its own skewed clock: jumps and drift', () => {
    const readings = new Map<number, number[]>();
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => ctx.setTimer(100 * MS, 'read'),
          onTimer: () => {
            readings.set(ctx.id, [...(readings.get(ctx.id) ?? []), ctx.now()]);
            ctx.setTimer(100 * MS, 'read');
          },
        }),
      { nodes: 3, durationUs: 1050 * MS },
    );
    const faults: FaultEvent[] = [
      { atUs: 0, kind: 'clock-jump', node: 1, deltaUs: 5000 * MS },
      { atUs: 0, kind: 'clock-drift', node: 2, driftPpm: 100_000 },
    ];
    runTest(scenario, testPlan(scenario, { faults }));
    const first = (node: number) => (readings.get(node) as number[])[0] as number;
    expect(first(0)).toBe(100 * MS);
    expect(first(1)).toBe(5100 * MS);
    // Drift: node 3's clock runs 10 % fast, so its 100 ms timers fire every ~91 ms of true
    // time (the first was set before the drift began: 11 times in 1.05 s against 10) while its own clock reads whole 100 ms steps.
    expect((readings.get(0) as number[]).length).toBe(10);
    expect((readings.get(2) as number[]).length).toBe(11);
    // That first timer fired at 100 ms of true time, when node 3's clock read 110 ms.
    expect(first(2)).toBe(110 * MS);
  });

  it('gives each node a monotonic clock that drifts with it, ignores jumps and runs through pauses', () => {
    const readings = new Map<number, Array<{ wall: number; monotonic: number }>>();
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => ctx.setTimer(100 * MS, 'read'),
          onTimer: () => {
            const list = readings.get(ctx.id) ?? [];
            list.push({ wall: ctx.now(), monotonic: ctx.monotonic() });
            readings.set(ctx.id, list);
            ctx.setTimer(100 * MS, 'read');
          },
        }),
      { nodes: 3, durationUs: 1050 * MS },
    );
    const faults: FaultEvent[] = [
      { atUs: 150 * MS, kind: 'clock-jump', node: 0, deltaUs: -5000 * MS },
      { atUs: 250 * MS, kind: 'clock-drift', node: 1, driftPpm: 100_000 },
      { atUs: 50 * MS, kind: 'pause', node: 2, durationUs: 500 * MS },
    ];
    runTest(scenario, testPlan(scenario, { faults }));
    const node = (id: number) => readings.get(id) as Array<{ wall: number; monotonic: number }>;
    // The jump moved node 1's wall clock back 5 s; its monotonic clock went on at 100 ms steps.
    expect(node(0).map((r) => r.monotonic)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i + 1) * 100 * MS),
    );
    expect(node(0)[1]?.wall).toBe(200 * MS - 5000 * MS);
    // Drift moves both clocks at the node's rate: the timers set after it began (at 250 ms)
    // read 100 ms steps on the monotonic clock, and the wall clock keeps the same pace.
    const drifting = node(1).map((r) => r.monotonic);
    expect(drifting[2]).toBe(305 * MS); // set at 200 ms, half of it drifting
    expect(drifting.length).toBe(11);
    for (let i = 3; i < drifting.length; i++) {
      // A timer's true delay is rounded up to whole µs, so a step may read 1 µs long.
      const stepUs = (drifting[i] as number) - (drifting[i - 1] as number);
      expect(Math.abs(stepUs - 100 * MS)).toBeLessThanOrEqual(1);
    }
    // The wall clock drifted with it: it stays exactly as far from the monotonic clock.
    const gaps = node(1).map((r) => r.wall - r.monotonic);
    expect(new Set(gaps).size).toBe(1);
    // Paused from 50 to 550 ms: its first timer (due at 100 ms) fires when the pause ends,
    // and the monotonic clock shows the half second that went by.
    expect(node(2)[0]?.monotonic).toBe(550 * MS);
  });
});

describe('determinism guard and budgets', () => {
  for (const [what, touch] of [
    ['Math.random', () => Math.random()],
    ['Date.now', () => Date.now()],
    ['setTimeout', () => setTimeout(() => {}, 1)],
    ['performance.now', () => performance.now()],
    ['process.hrtime', () => process.hrtime()],
  ] as const) {
    it(`stops a run that calls ${what}, naming it, and restores it afterwards`, () => {
      const scenario = testScenario(() => programOf({ onStart: () => void touch() }), { nodes: 1 });
      const result = runTest(scenario, testPlan(scenario));
      expect(result.outcome).toBe('error');
      expect(result.violation?.message).toContain(what);
      expect(() => touch()).not.toThrow();
    });
  }

  it('stops a runaway system at its event budget', () => {
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => ctx.setTimer(0, 'spin'),
          onTimer: () => ctx.setTimer(0, 'spin'), // never lets virtual time advance
        }),
      { nodes: 1, budgets: { eventsMax: 10_000 } },
    );
    const result = runTest(scenario, testPlan(scenario));
    expect(result.outcome).toBe('budget');
    expect(result.stats.events).toBe(10_000);
    expect(result.violation?.message).toContain('10000 events');
  });

  it('stops a slow system at its wall-clock budget', () => {
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => ctx.setTimer(1, 'work'),
          onTimer: () => {
            let sum = 0;
            for (let index = 0; index < 20_000; index++) {
              sum += index;
            }
            ctx.setTimer(sum > 0 ? 1 : 2, 'work');
          },
        }),
      { nodes: 1, durationUs: 1_000_000_000, budgets: { wallMsMax: 200 } },
    );
    const result = runTest(scenario, testPlan(scenario));
    expect(result.outcome).toBe('budget');
    expect(result.violation?.message).toContain('wall-clock');
  });

  it('reports a system exception as an error naming the node', () => {
    const scenario = testScenario(
      (ctx) =>
        programOf({
          onStart: () => {
            if (ctx.id === 1) {
              throw new TypeError('boom');
            }
          },
        }),
      { nodes: 2 },
    );
    const result = runTest(scenario, testPlan(scenario));
    expect(result.outcome).toBe('error');
    expect(result.violation?.message).toBe('n2 threw TypeError: boom');
  });
});

describe('end-of-run checks', () => {
  it('records an undecided check with its reason, as neither a pass of it nor a violation', () => {
    const scenario = testScenario(() => programOf({}), {
      invariants: () => [
        { name: 'undecidable', atEnd: () => ({ undecided: 'search budget exhausted' }) },
        { name: 'decided', atEnd: () => undefined },
      ],
    });
    const result = runTest(scenario, testPlan(scenario));
    expect(result.outcome).toBe('pass');
    expect(result.violation).toBeUndefined();
    expect(result.undecided).toEqual([
      { invariant: 'undecidable', reason: 'search budget exhausted' },
    ]);
  });
});

describe('settle phase', () => {
  it('heals, restarts and resumes everything when faults stop', () => {
    const phases: string[] = [];
    const scenario = testScenario(
      (ctx) => programOf({ onStart: () => phases.push(`${ctx.id}:${ctx.phase()}`) }),
      { nodes: 2, durationUs: 100 * MS, settleUs: 100 * MS },
    );
    const links: Link[] = [
      [0, 1],
      [1, 0],
    ];
    const result = runTest(
      scenario,
      testPlan(scenario, {
        faults: [
          { atUs: 10 * MS, kind: 'crash', node: 1 },
          { atUs: 20 * MS, kind: 'partition', shape: 'isolate', links },
        ],
      }),
    );
    expect(phases).toEqual(['0:faults', '1:faults', '1:settle']);
    expect(result.stats.restarts).toBe(1);
    expect(result.faultsFired.crash).toBe(1);
  });
});

describe('observations', () => {
  it('reach an invariant that names its types only for those types, and the others for all, in order', () => {
    const seen: string[] = [];
    const program = (ctx: NodeContext) =>
      programOf({
        onStart: () => {
          for (const type of ['a', 'b', 'a', 'c']) {
            ctx.observe({ type });
          }
        },
      });
    const scenario = testScenario(program, {
      nodes: 1,
      invariants: () => [
        {
          name: 'all',
          onObservation: (record) => void seen.push(`all:${record.observation.type}`),
        },
        {
          name: 'only-a',
          observes: ['a'],
          onObservation: (record) => void seen.push(`only-a:${record.observation.type}`),
        },
      ],
    });
    runTest(scenario, testPlan(scenario));
    expect(seen).toEqual(['all:a', 'only-a:a', 'all:b', 'all:a', 'only-a:a', 'all:c']);
  });
});
