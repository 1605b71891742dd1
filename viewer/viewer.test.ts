import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../scenarios/index.ts';
import { runSeed } from '../sim/run.ts';
import { type TraceRecord, TraceRecorder } from '../sim/trace-log.ts';
import { buildModel } from './build.ts';
import { partitionSummary } from './model.ts';
import { renderHtml, scriptJson } from './render-html.ts';
import { renderTimeline } from './render-timeline.ts';
import { syntheticPlan, syntheticResult, syntheticTrace } from './synthetic.ts';

function pingpongViolation() {
  const trace = new TraceRecorder();
  const { plan, result } = runSeed('pingpong', 0, 'ack-before-fsync', { trace });
  return { records: trace.records, plan, result };
}

const count = (records: readonly TraceRecord[], kind: TraceRecord['kind']) =>
  records.filter((record) => record.kind === kind).length;

describe('buildModel', () => {
  it('has an arrow for every delivery and drop of the pingpong violation', () => {
    const run = pingpongViolation();
    const model = buildModel(run);
    expect(model.lanes.map((lane) => lane.name)).toEqual(['n1', 'n2', 'n3', 'c1', 'c2']);
    const kinds = (kind: string) => model.arrows.filter((arrow) => arrow.kind === kind).length;
    expect(kinds('deliver')).toBe(count(run.records, 'deliver'));
    expect(kinds('drop') + kinds('drop-at-send')).toBe(count(run.records, 'drop'));
    expect(model.messages.length).toBe(count(run.records, 'send'));
    for (const arrow of model.arrows) {
      expect(arrow.toUs).toBeGreaterThanOrEqual(arrow.fromUs);
    }
    expect(model.violation?.invariant).toBe('acked-pings-durable');
    expect(model.violation?.node).toBe(1);
    expect(model.steps[model.violation?.step ?? -1]?.kind).toBe('violation');
    expect(model.down).toEqual([
      expect.objectContaining({ node: 1, label: 'down', open: false, endUs: 265_846 }),
    ]);
    expect(model.operations.filter((op) => op.status === 'unknown').length).toBeGreaterThan(0);
  });

  it('pairs duplicates, drops at send, roles, pauses and partitions', () => {
    const run = syntheticTrace(3000);
    const model = buildModel(run);
    const duplicates = count(run.records, 'duplicate');
    expect(duplicates).toBeGreaterThan(0);
    expect(model.arrows.filter((arrow) => arrow.copy).length).toBe(duplicates);
    expect(model.arrows.some((arrow) => arrow.kind === 'drop-at-send')).toBe(true);
    expect(model.roles[0]).toMatchObject({ node: 0, role: 'leader', term: 1, colour: '#fde68a' });
    expect(model.roles.some((role) => role.role === 'candidate' && role.term !== null)).toBe(true);
    expect(model.paused.length).toBe(
      run.records.filter((r) => r.kind === 'fault' && r.type === 'pause').length,
    );
    expect(model.partitions).toHaveLength(1);
    expect(model.partitions[0]?.summary).toBe('{n1 n2 c1 c2} | {n3}');
    expect(model.partitions[0]?.endUs).toBeLessThanOrEqual(model.endUs);
  });

  it('describes one-way and partial partitions as the links they cut', () => {
    const plan = syntheticPlan(3, 0);
    expect(partitionSummary([[0, 1]], plan, 3).summary).toBe('cut n1→n2');
    expect(
      partitionSummary(
        [
          [0, 1],
          [1, 0],
          [1, 2],
        ],
        plan,
        3,
      ).summary,
    ).toBe('cut n1↮n2 n2→n3');
    expect(partitionSummary([], plan, 3).summary).toBe('no links cut');
  });

  it('keeps a violation that has no record of its own', () => {
    const model = buildModel({
      records: [],
      plan: syntheticPlan(2, 1),
      result: syntheticResult(500, 1, 3),
    });
    expect(model.violation).toMatchObject({ invariant: 'election-safety', atUs: 500, step: -1 });
  });
});

describe('renderTimeline', () => {
  it('prints lanes as columns, blanks a crashed node, and ends at the violation', () => {
    const run = pingpongViolation();
    const text = renderTimeline(run.records, run.plan, run.result);
    const lines = text.split('\n');
    expect(lines[0]).toBe('pingpong seed 0 variant ack-before-fsync · violation · 632 records');
    expect(lines[1]).toMatch(/time {2}n1 n2 n3 c1 c2$/);
    expect(lines.at(-1)).toContain('VIOLATION acked-pings-durable: n2 acknowledged ping 14');
    const crash = lines.find((line) => line.includes('n2 crash'));
    expect(crash).toMatch(/\| {2}X {2}\| {2}\| {2}\|/);
    // While n2 is down its column is blank.
    const whileDown = lines.find((line) => line.includes('#207 dropped (down)'));
    expect(whileDown).toMatch(/^ +241\.498 ms {2}\| {2}o {2}x {2}\| {2}\|/);
    expect(text).not.toContain('timer');
    expect(renderTimeline(run.records, run.plan, run.result, { all: true })).toContain('timer');
  });

  it('keeps only the last lines when asked, and says how many it left out', () => {
    const run = pingpongViolation();
    const text = renderTimeline(run.records, run.plan, run.result, { maxLines: 5 });
    const lines = text.split('\n');
    expect(lines).toHaveLength(2 + 1 + 5);
    expect(lines[2]).toMatch(/… {2}\d+ earlier lines omitted/);
  });

  it('says so when the run passed', () => {
    const trace = new TraceRecorder();
    const { plan, result } = runSeed('pingpong', 1, null, { trace });
    expect(result.outcome).toBe('pass');
    expect(renderTimeline(trace.records, plan, result).split('\n').at(-1)).toMatch(
      /end {2}pass: no invariant broken$/,
    );
  });
});

describe('renderHtml', () => {
  it('is one self-contained file: nothing loaded from anywhere', () => {
    const html = renderHtml(pingpongViolation());
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain('acked-pings-durable');
  });

  it('embeds data that cannot close its script element', () => {
    expect(scriptJson({ body: '</script><script>alert(1)</script>' })).not.toContain('</');
    const run = syntheticTrace(200);
    const html = renderHtml({ ...run, title: '<b>"x" & y</b>' });
    expect(html).toContain('&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});

describe('the CLI', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string }> {
    const { main } = await import('../cli/main.ts');
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      return { code: await main(argv), out: chunks.join('') };
    } finally {
      process.stdout.write = write;
    }
  }

  it('writes the diagram and prints the timeline for `run` and `replay`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-viewer-'));
    const seed = ['pingpong', '--seed', '0', '--variant', 'ack-before-fsync'];
    const run = await cli(['run', ...seed, '--html', join(dir, 'run.html'), '--timeline']);
    expect(run.code).toBe(1);
    expect(run.out).toContain('time  n1 n2 n3 c1 c2');
    expect(run.out).toContain(`space-time diagram: ${join(dir, 'run.html')}`);
    expect(readFileSync(join(dir, 'run.html'), 'utf8')).toContain('acked-pings-durable');
    const file = 'replays/pingpong-ack-before-fsync-seed0-violation.shrunk.msgpack';
    const replay = await cli(['replay', file, '--html', join(dir, 'replay.html'), '--timeline']);
    expect(replay.code).toBe(1);
    expect(replay.out).toContain('time  n1 n2 n3 c1');
    expect(readFileSync(join(dir, 'replay.html'), 'utf8')).toContain('id="faultline-data"');
  });
});
