import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import '../scenarios/index.ts';
import { runSeed } from '../sim/run.ts';
import { TraceRecorder } from '../sim/trace-log.ts';
import { buildModel } from './build.ts';
import type { ViewModel } from './model.ts';
import { decodePageData, encodePageData, splitAtId } from './page-data.ts';
import { renderHtml } from './render-html.ts';
import { SYNTHETIC_ARCHITECTURE, syntheticTrace } from './synthetic.ts';

function traced(scenario: string, seed: number, variant: string | null) {
  const trace = new TraceRecorder();
  const { plan, result } = runSeed(scenario, seed, variant, { trace });
  return { records: trace.records, plan, result };
}

/** Everything the page reads back must be what the model holds, field by field. */
function expectRoundTrip(model: ViewModel): void {
  const decoded = decodePageData(encodePageData(model), (bytes) => gunzipSync(bytes));
  const { messages, arrows, marks, steps, ...small } = model;
  const { messages: dm, arrows: da, marks: dk, ...decodedSmall } = decoded.model;
  expect(decodedSmall).toEqual(JSON.parse(JSON.stringify(small)));
  expect(dm).toEqual(messages.map(({ body: _body, ...rest }) => rest));
  messages.forEach((message, index) => {
    const body = message.body === null ? null : JSON.stringify(message.body);
    expect(decoded.messageBody(index)).toBe(body);
  });
  expect(da).toEqual(arrows);
  expect(dk).toEqual(marks.map(({ detail: _detail, ...rest }) => rest));
  marks.forEach((mark, index) => {
    const detail = mark.detail === undefined ? null : JSON.stringify(mark.detail);
    expect(decoded.markDetail(index)).toBe(detail);
  });
  expect(decoded.steps.count).toBe(steps.length);
  steps.forEach((step, index) => {
    expect(decoded.steps.text(index)).toBe(step.text);
    expect(decoded.steps.kind(index)).toBe(step.kind);
    expect(decoded.steps.atUs[index]).toBe(step.atUs);
    expect(decoded.steps.node[index]).toBe(step.node);
    expect(decoded.steps.arrow[index]).toBe(step.arrow ?? -1);
  });
}

describe('the page data', () => {
  it('decodes to the model it encoded: a real run with a violation', () => {
    const run = traced('pingpong', 6, 'ack-before-fsync');
    expect(run.result.violation?.invariant).toBe('acked-pings-durable');
    expectRoundTrip(buildModel(run));
  });

  it('decodes to the model it encoded: every record kind, groups and partitions', () => {
    expectRoundTrip(buildModel(syntheticTrace(3000, 7, SYNTHETIC_ARCHITECTURE)));
  });

  it('keeps times exact past 32 bits and negative nodes (the harness)', () => {
    const model = buildModel(syntheticTrace(300));
    const far = 2 ** 40 + 17;
    model.endUs = far;
    const last = model.arrows.at(-1);
    if (last !== undefined) last.toUs = far;
    model.marks.push({
      node: -1,
      atUs: far,
      kind: 'fault',
      label: 'fault: clock',
      detail: { x: 1 },
    });
    (model.steps[0] as ViewModel['steps'][number]).node = -1;
    expectRoundTrip(model);
  });

  it('decodes an empty run', () => {
    const { plan, result } = syntheticTrace(10);
    expectRoundTrip(buildModel({ records: [], plan, result }));
  });

  it('refuses a time that is not an integer, with the reason', () => {
    const model = buildModel(syntheticTrace(50));
    (model.steps[1] as ViewModel['steps'][number]).atUs = 1.5;
    expect(() => encodePageData(model)).toThrow(/1\.5 is not a safe integer/);
  });

  it('splits a step text at the id it names, as a whole token only', () => {
    expect(splitAtId('n1 → n2 append #17 delivered', 17)).toEqual([
      'n1 → n2 append #',
      ' delivered',
    ]);
    expect(splitAtId('c1 invokes op 1 {"f":"put"}', 1)).toEqual(['c1 invokes op ', ' {"f":"put"}']);
    expect(splitAtId('g1n1 → g1n2 vote #12', 1)).toBeNull();
    expect(splitAtId('n1 → n2 vote #120', 12)).toBeNull();
  });
});

describe('the page', () => {
  it('embeds the data as base64 only, which cannot close its script element', () => {
    const run = traced('pingpong', 6, 'ack-before-fsync');
    expect(run.result.violation?.invariant).toBe('acked-pings-durable');
    const html = renderHtml(run);
    const base64 = html.match(/<script[^>]*id="faultline-data"[^>]*>([^<]*)<\/script>/)?.[1] ?? '';
    expect(base64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const decoded = decodePageData(Buffer.from(base64, 'base64'), (bytes) => gunzipSync(bytes));
    expect(decoded.steps.count).toBe(run.records.length);
    expect(decoded.model.events).toBe(run.result.stats.events);
    expect(decoded.model.violation?.invariant).toBe(run.result.violation?.invariant);
  });
});

describe("the page's header", () => {
  it('counts events as the CLI does (stats.events), not trace records', () => {
    const run = traced('raft-figure8', 0, 'commit-previous-term');
    expect(run.records.length).not.toBe(run.result.stats.events);
    const html = renderHtml(run);
    const stats = html.match(/<span class="stats">([^<]*)<\/span>/)?.[1] ?? '';
    expect(stats).toContain(`${run.result.stats.events.toLocaleString('en-US')} events`);
  });

  it('stays far below the old JSON size for a busy run', () => {
    const run = syntheticTrace(20_000);
    const html = renderHtml(run);
    const json = JSON.stringify(buildModel(run)).length;
    expect(html.length).toBeLessThan(json / 5);
  });
});
