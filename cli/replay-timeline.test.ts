// Goal: `faultline replay`'s timeline says what a partition cut in words (the groups it cut,
// then its sides), not as raw links, and keeps its node column as wide as the longest name.
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../sim/trace-log.ts';
import { SYNTHETIC_ARCHITECTURE, syntheticPlan, syntheticTrace } from '../viewer/synthetic.ts';
import { formatRecord, TimelinePrinter } from './replay-timeline.ts';

describe('the replay timeline', () => {
  it('names the groups a partition cut, and its sides', () => {
    const run = syntheticTrace(600, 1, SYNTHETIC_ARCHITECTURE);
    const lines: string[] = [];
    new TimelinePrinter(run.plan, 'info', (line) => lines.push(line)).flush(run.records);
    const partitions = lines.filter((line) => line.includes(' partition '));
    expect(partitions.map((line) => line.slice(line.indexOf('partition')))).toEqual([
      'partition  cut-groups g1 | ctrl: {g1n1 g1n2 g1n3} ↮ {ctrl1 ctrl2 ctrl3}\n',
      'partition  split-group g2: {g2n1} ↮ {g2n2 g2n3}\n',
      'partition  cut-groups g1 | db: {g1n1 g1n2 g1n3} ↮ {db}\n',
    ]);
    expect(partitions.every((line) => !line.includes('links'))).toBe(true);
  });

  it('pads the node column to the longest name', () => {
    const plan = syntheticPlan([
      { name: 'brokers', client: false, nodes: ['broker1', 'broker2'] },
      { name: 'clients', client: true, nodes: ['c1'] },
    ]);
    const record = (node: number): TraceRecord => ({ event: 1, timeUs: 0, kind: 'crash', node });
    expect(formatRecord(plan, record(0))).toMatch(/ {2}broker1 crash/);
    expect(formatRecord(plan, record(2))).toMatch(/ {2}c1 {6}crash/);
  });
});
