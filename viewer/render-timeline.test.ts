// Goal: `--timeline` of a whole swarm seed opens on the story — a window around the
// violation — and narrows to the nodes, groups and message types a reader asks for.
import { describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import { UsageError } from '../cli/errors.ts';
import { firstFailingSeed, runSeed } from '../sim/run.ts';
import { Topology } from '../sim/topology.ts';
import { TraceRecorder } from '../sim/trace-log.ts';
import { timelineOptions } from './output.ts';
import { renderTimeline } from './render-timeline.ts';

const HEADER_LINES = 4;

function traced(scenario: string, seed: number, variant: string | null) {
  const trace = new TraceRecorder();
  const { plan, result } = runSeed(scenario, seed, variant, { trace });
  return { records: trace.records, plan, result };
}

const body = (text: string) => text.split('\n').slice(HEADER_LINES);

/** The first pingpong seed the planted ack-before-fsync bug fails (which seed moves with the derivation). */
function violating() {
  const found = firstFailingSeed('pingpong', 'ack-before-fsync', 50);
  if (found === undefined) {
    throw new Error('pingpong ack-before-fsync failed none of seeds 0-49');
  }
  return traced('pingpong', found.seed, 'ack-before-fsync');
}

describe('the timeline window', () => {
  const run = violating();
  const full = body(renderTimeline(run.records, run.plan, run.result));
  const violationAt = full.findIndex((line) => line.includes('VIOLATION'));

  it('keeps `around` lines either side of the violation and counts what it left out', () => {
    expect(violationAt).toBeGreaterThan(20); // the window below must cut something before it
    const lines = body(renderTimeline(run.records, run.plan, run.result, { around: 10 }));
    const at = lines.findIndex((line) => line.includes('VIOLATION'));
    expect(lines[0]).toMatch(
      new RegExp(
        `… {2}${(violationAt - 10).toLocaleString('en-US')} earlier lines omitted \\(--all prints every line\\)$`,
      ),
    );
    expect(at).toBe(11);
    expect(lines.slice(1, at + 1)).toEqual(full.slice(violationAt - 10, violationAt + 1));
    const after = full.length - violationAt - 1;
    expect(lines.length).toBe(1 + 10 + 1 + Math.min(10, after) + (after > 10 ? 1 : 0));
  });

  it('prints every line when the window holds the whole run', () => {
    const around = full.length;
    expect(body(renderTimeline(run.records, run.plan, run.result, { around }))).toEqual(full);
  });

  it('keeps the end of a passing run', () => {
    const passing = traced('pingpong', 1, null);
    expect(passing.result.outcome).toBe('pass');
    const all = body(renderTimeline(passing.records, passing.plan, passing.result));
    const lines = body(
      renderTimeline(passing.records, passing.plan, passing.result, { around: 5 }),
    );
    expect(lines[0]).toMatch(
      new RegExp(`… {2}${(all.length - 1 - 10).toLocaleString('en-US')} earlier lines omitted`),
    );
    expect(lines.slice(1)).toEqual(all.slice(-11)); // 10 lines, then the verdict line
  });
});

describe('timeline filters', () => {
  const run = violating();
  const topology = Topology.of(run.plan);
  const n2 = topology.names.indexOf('n2');
  const render = (options: Parameters<typeof renderTimeline>[3]) =>
    body(renderTimeline(run.records, run.plan, run.result, options));

  it('keeps only the records of the nodes asked for, and always the violation', () => {
    const lines = render({ nodes: new Set([n2]) });
    const records = render({}).filter((line) => !line.includes('VIOLATION'));
    const kept = lines.filter((line) => !line.includes('VIOLATION'));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(records.length);
    // Every kept line marks n2's column as the subject or the peer.
    const column = renderTimeline(run.records, run.plan, run.result).split('\n')[3]?.indexOf('n2');
    expect(column).toBeGreaterThan(0);
    for (const line of kept) {
      expect(['X', '>', '<', 'x', '2', 'o', 'R', 'r', '*', '-', '!', 'f', '[', ']']).toContain(
        line[column as number],
      );
      expect(line[column as number]).not.toBe('|');
    }
    expect(lines.some((line) => line.includes('VIOLATION'))).toBe(true);
  });

  it('keeps only the message types or record kinds asked for, timers included if named', () => {
    const crashes = render({ types: new Set(['crash']) });
    expect(crashes.filter((line) => !line.includes('VIOLATION'))).toEqual(
      render({}).filter((line) => line.includes(' crash')),
    );
    const timers = render({ types: new Set(['timer']) });
    expect(timers.length).toBeGreaterThan(1);
    expect(
      timers.filter((line) => !line.includes('VIOLATION')).every((line) => /timer/.test(line)),
    ).toBe(true);
  });
});

describe('timeline options from the command line', () => {
  const { plan } = violating();
  const fails = (args: Record<string, unknown>) => () => timelineOptions(args, plan);

  it('defaults to 200 lines around the violation, --all to every line', () => {
    expect(timelineOptions({ timeline: true }, plan)).toEqual({ around: 200 });
    expect(timelineOptions({ timeline: true, all: true }, plan)).toEqual({});
    expect(timelineOptions({ timeline: true, around: '50' }, plan)).toEqual({ around: 50 });
  });

  it('turns node and group names into node sets, comma- or space-separated', () => {
    const topology = Topology.of(plan);
    const id = (name: string) => topology.names.indexOf(name);
    expect(timelineOptions({ timeline: true, node: ['n1,n3'] }, plan).nodes).toEqual(
      new Set([id('n1'), id('n3')]),
    );
    expect(timelineOptions({ timeline: true, group: ['clients'] }, plan).nodes).toEqual(
      new Set([id('c1'), id('c2')]),
    );
    expect(timelineOptions({ timeline: true, type: ['Ping', 'crash'] }, plan).types).toEqual(
      new Set(['Ping', 'crash']),
    );
  });

  it('says in one sentence what is wrong', () => {
    expect(fails({ timeline: true, node: ['n9'] })).toThrow(
      new UsageError('--node n9: this run has no such node (its nodes: n1, n2, n3, c1, c2)'),
    );
    expect(fails({ timeline: true, group: ['brokers'] })).toThrow(
      new UsageError('--group brokers: this run has no such group (its groups: servers, clients)'),
    );
    expect(fails({ timeline: true, around: '0' })).toThrow(/--around takes a positive whole/);
    expect(fails({ timeline: true, around: '1e3' })).toThrow(/not "1e3"/);
    expect(fails({ timeline: true, around: '5', all: true })).toThrow(/give one of them/);
    expect(fails({ node: ['n1'] })).toThrow(
      new UsageError('--node shapes the text timeline: add --timeline'),
    );
  });
});
