// The viewer in a real browser: Debian's Chromium driven by playwright-core. Skips only when
// Chromium is absent and .ci/browser-setup.sh cannot install it, and says so loudly.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../scenarios/index.ts';
import { runSeed } from '../sim/run.ts';
import { type TraceRecord, TraceRecorder } from '../sim/trace-log.ts';
import { chromiumMissing, launchChromium, type OpenedPage, openOffline } from './chromium.ts';
import { renderHtml } from './render-html.ts';
import { SYNTHETIC_ARCHITECTURE, syntheticTrace } from './synthetic.ts';

const ARTIFACTS = resolve('test-artifacts');

const missing = chromiumMissing();
if (missing !== null) {
  console.warn(`\n!!! SKIPPING the viewer's browser tests: ${missing}\n`);
}

// The page's test API, as far as these tests use it.
interface FaultlineApi {
  model: { lanes: number; arrows: number; messages: number; steps: number; events: number };
  lanes(): string[];
  groups(): { name: string; label: string; lanes: string[]; top: number; bottom: number }[];
  partitionLabels(): { label: string; shown: string; cutGroups: string[] }[];
  hoverAt(px: number, py: number): string | null;
  arrowsDrawn(): {
    total: number;
    deliver: number;
    drop: number;
    inFlight: number;
    copies: number;
    density: boolean;
  };
  visibleRange(): { startUs: number; endUs: number };
  arrowPoint(index: number): { x: number; y: number } | null;
  drawnArrowIndexes(): number[];
  violationMarker(): { x: number; y: number; visible: boolean; atUs: number } | null;
  currentStep(): { index: number; kind: string; text: string } | null;
  zoom(factor: number): void;
  fit(): void;
  lastDrawMs(): number;
}

const api = <T>(page: Page, body: (faultline: FaultlineApi) => T) =>
  page.evaluate(`(${body.toString()})(window.faultline)`) as Promise<T>;

declare global {
  interface Window {
    faultline: FaultlineApi;
  }
}

const count = (records: readonly TraceRecord[], kind: TraceRecord['kind']) =>
  records.filter((record) => record.kind === kind).length;

describe.skipIf(missing !== null)('the space-time viewer in Chromium', () => {
  let browser: Browser;
  const trace = new TraceRecorder();
  // The first failing seed of the variant (0 before the seed derivation was hashed).
  const run = runSeed('pingpong', 6, 'ack-before-fsync', { trace });
  const pingpongFile = join(ARTIFACTS, 'pingpong-violation.html');
  const bigFile = join(ARTIFACTS, 'synthetic-100k.html');
  const groupsFile = join(ARTIFACTS, 'synthetic-groups.html');

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(pingpongFile, renderHtml({ records: trace.records, ...run }));
    writeFileSync(bigFile, renderHtml({ ...syntheticTrace(100_000), title: 'synthetic 100k' }));
    const groups = syntheticTrace(800, 1, SYNTHETIC_ARCHITECTURE);
    writeFileSync(groupsFile, renderHtml({ ...groups, title: 'synthetic groups' }));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a page once it has drawn; `whole` then shows the whole run (pages open on a violation). */
  async function open(file: string, whole = false): Promise<OpenedPage> {
    const opened = await openOffline(browser, file);
    if (whole) await api(opened.page, (f) => f.fit());
    return opened;
  }

  it('loads with no console error and no network request, one lane per node', async () => {
    const { page, errors, requests } = await open(pingpongFile);
    expect(await api(page, (f) => f.lanes())).toEqual(['n1', 'n2', 'n3', 'c1', 'c2']);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'pingpong-violation.png') });
    await page.close();
  });

  it('draws an arrow for every delivery and every drop of the run', async () => {
    const { page } = await open(pingpongFile, true);
    const drawn = await api(page, (f) => f.arrowsDrawn());
    expect(drawn.deliver).toBe(count(trace.records, 'deliver'));
    expect(drawn.drop).toBe(count(trace.records, 'drop'));
    const settled = count(trace.records, 'deliver') + count(trace.records, 'drop');
    const copies = count(trace.records, 'duplicate');
    expect(drawn.inFlight).toBe(count(trace.records, 'send') + copies - settled);
    expect(drawn.total).toBe(await api(page, (f) => f.model.arrows));
    await page.close();
  });

  it('marks the violation, and "jump to violation" brings it into view', async () => {
    const { page } = await open(pingpongFile);
    expect(await api(page, (f) => f.violationMarker()?.visible)).toBe(true);
    expect(await page.locator('#violation-banner').textContent()).toContain('acked-pings-durable');
    await page.keyboard.press('0');
    for (let i = 0; i < 6; i++) await page.locator('#zoom-in').click();
    // Zoomed in around the middle, the violation (at the very end) is out of view.
    expect(await api(page, (f) => f.violationMarker()?.visible)).toBe(false);
    await page.locator('#jump-violation').click();
    const marker = await api(page, (f) => f.violationMarker());
    expect(marker?.visible).toBe(true);
    const range = await api(page, (f) => f.visibleRange());
    expect(marker?.atUs).toBeGreaterThan(range.startUs);
    expect(marker?.atUs).toBeLessThan(range.endUs);
    expect(await api(page, (f) => f.currentStep()?.kind)).toBe('violation');
    expect(await page.locator('#step').textContent()).toContain('VIOLATION acked-pings-durable');
    await page.screenshot({ path: join(ARTIFACTS, 'pingpong-jump-to-violation.png') });
    await page.close();
  });

  it('shows a message in a tooltip when the mouse is over its arrow', async () => {
    const { page } = await open(pingpongFile);
    await page.locator('#jump-violation').click();
    const indexes = await api(page, (f) => f.drawnArrowIndexes());
    let shown = '';
    for (const index of indexes) {
      const point = await page.evaluate(`window.faultline.arrowPoint(${index})`);
      if (point === null) continue;
      const { x, y } = point as { x: number; y: number };
      await page.mouse.move(x, y);
      shown = (await page.locator('#tooltip').isVisible())
        ? // biome-ignore lint/performance/useDomNodeTextContent: the text as laid out, cells apart
          await page.locator('#tooltip').innerText()
        : '';
      if (/delivered\s+\d/.test(shown)) break;
    }
    expect(shown).toMatch(/#\d+ \w+ → \w+/);
    expect(shown).toMatch(/sent\s+\d+\.\d{3} ms/);
    expect(shown).toMatch(/delivered\s+\d+\.\d{3} ms \(\+\d+\.\d{3} ms\)/);
    expect(shown).toMatch(/size\s+\d+ bytes/);
    expect(shown).toMatch(/body\s+\{/);
    await page.close();
  });

  it('zooms with the buttons, the wheel and the keys; steps event by event; filters', async () => {
    const { page } = await open(pingpongFile, true);
    const width = async () => {
      const range = await api(page, (f) => f.visibleRange());
      return range.endUs - range.startUs;
    };
    const whole = await width();
    await page.locator('#zoom-in').click();
    const zoomed = await width();
    expect(zoomed).toBeLessThan(whole * 0.7);
    const box = await page.locator('#diagram').boundingBox();
    await page.mouse.move((box?.x ?? 0) + 700, (box?.y ?? 0) + 200);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction(
      `(() => { const r = window.faultline.visibleRange(); return r.endUs - r.startUs < ${zoomed * 0.9}; })()`,
    );
    await page.keyboard.press('-');
    expect(await width()).toBeGreaterThan(zoomed * 0.5);
    await page.keyboard.press('0');
    expect(await width()).toBeCloseTo(whole, 0);

    await page.locator('#next').click();
    await page.locator('#next').click();
    expect(await api(page, (f) => f.currentStep()?.index)).toBe(1);
    await page.keyboard.press('p');
    expect(await api(page, (f) => f.currentStep()?.index)).toBe(0);
    expect(await page.locator('#step').textContent()).toContain('step 1/');

    const all = (await api(page, (f) => f.arrowsDrawn())).total;
    await page.locator('#type-filter label[data-value="heartbeat"] input').uncheck();
    expect((await api(page, (f) => f.arrowsDrawn())).total).toBeLessThan(all);
    await page.locator('#node-filter label[data-value="n1"] input').uncheck();
    expect(await api(page, (f) => f.lanes())).toEqual(['n2', 'n3', 'c1', 'c2']);
    await page.close();
  });

  it('labels each topology group once, its lanes below it in group order', async () => {
    const { page, errors } = await open(groupsFile);
    const groups = await api(page, (f) => f.groups());
    expect(groups.map((group) => group.name)).toEqual(['ctrl', 'g1', 'g2', 'db', 'clients']);
    expect(groups.map((group) => group.label)).toEqual(groups.map((group) => group.name));
    expect(groups.map((group) => group.lanes)).toEqual([
      ['ctrl1', 'ctrl2', 'ctrl3'],
      ['g1n1', 'g1n2', 'g1n3'],
      ['g2n1', 'g2n2', 'g2n3'],
      ['db'],
      ['c1', 'c2', 'c3'],
    ]);
    expect(await api(page, (f) => f.lanes())).toEqual(groups.flatMap((group) => group.lanes));
    // Top to bottom, each group's block starts where the one above it ends.
    for (const [index, group] of groups.entries()) {
      expect(group.bottom).toBeGreaterThan(group.top);
      if (index > 0) expect(group.top).toBe(groups[index - 1]?.bottom);
    }
    // The filter lists the nodes under their group's name.
    expect(await page.locator('#node-filter .chip-group').allTextContents()).toEqual(
      groups.map((group) => group.name),
    );
    // Hiding every node of a group hides its header too.
    for (const name of ['g2n1', 'g2n2', 'g2n3']) {
      await page.locator(`#node-filter label[data-value="${name}"] input`).uncheck();
    }
    const left = await api(page, (f) => f.groups().map((group) => group.name));
    expect(left).toEqual(['ctrl', 'g1', 'db', 'clients']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('names the groups each partition band cut, on the band and on its groups', async () => {
    const { page, errors } = await open(groupsFile, true);
    await page.screenshot({ path: join(ARTIFACTS, 'synthetic-groups.png') });
    const bands = await api(page, (f) => f.partitionLabels());
    expect(bands.map((band) => band.label)).toEqual([
      '✂ cut-groups g1 | ctrl: {g1n1 g1n2 g1n3} ↮ {ctrl1 ctrl2 ctrl3}',
      '✂ split-group g2: {g2n1} ↮ {g2n2 g2n3}',
      '✂ cut-groups g1 | db: {g1n1 g1n2 g1n3} ↮ {db}',
    ]);
    // At least the headline is drawn, even where the band is too narrow for the rest.
    expect(bands[0]?.shown.startsWith('✂ cut-groups g1 | ctrl')).toBe(true);
    expect(bands[1]?.shown.startsWith('✂ split-group g2')).toBe(true);
    const g1 = (await api(page, (f) => f.groups())).find((group) => group.name === 'g1');
    const tip = await page.evaluate(`window.faultline.hoverAt(30, ${(g1?.top ?? 0) + 9})`);
    expect(tip).toContain('group g1');
    expect(tip).toContain('3 servers: g1n1–g1n3');
    expect(tip).toContain('cut-groups g1 | ctrl; cut-groups g1 | db');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps the classic servers-and-clients picture: two labelled groups', async () => {
    const { page } = await open(pingpongFile);
    const groups = await api(page, (f) => f.groups());
    expect(groups.map(({ name, label, lanes }) => ({ name, label, lanes }))).toEqual([
      { name: 'servers', label: 'servers', lanes: ['n1', 'n2', 'n3'] },
      { name: 'clients', label: 'clients', lanes: ['c1', 'c2'] },
    ]);
    await page.close();
  });

  it('renders and pans a 100,000-event trace', async () => {
    const { page, errors } = await open(bigFile, true);
    expect(await api(page, (f) => f.model.steps)).toBeGreaterThanOrEqual(100_000);
    const whole = await api(page, (f) => f.arrowsDrawn());
    // The whole run is too many arrows to draw one by one: it is drawn as density, all counted.
    expect(whole.total).toBe(await api(page, (f) => f.model.arrows));
    expect(whole.density).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'synthetic-100k.png') });
    await api(page, (f) => f.zoom(0.01));
    const before = await api(page, (f) => f.visibleRange());
    const zoomed = await api(page, (f) => f.arrowsDrawn());
    expect(zoomed.total).toBeGreaterThan(0);
    expect(zoomed.total).toBeLessThan(whole.total / 20);
    expect(zoomed.density).toBe(false);
    const box = await page.locator('#diagram').boundingBox();
    const y = (box?.y ?? 0) + 250;
    await page.mouse.move((box?.x ?? 0) + 900, y);
    await page.mouse.down();
    await page.mouse.move((box?.x ?? 0) + 300, y, { steps: 10 });
    await page.mouse.up();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    const after = await api(page, (f) => f.visibleRange());
    expect(after.startUs).toBeGreaterThan(before.startUs);
    expect(after.endUs - after.startUs).toBeCloseTo(before.endUs - before.startUs, 0);
    expect((await api(page, (f) => f.arrowsDrawn())).total).toBeGreaterThan(0);
    await page.locator('#jump-violation').click();
    expect(await api(page, (f) => f.violationMarker()?.visible)).toBe(true);
    console.log(
      `100k-event trace: last draw took ${(await api(page, (f) => f.lastDrawMs())).toFixed(1)} ms`,
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});

// A whole swarm seed, as `run raft --seed N --html` draws one: the issue's limits are a page
// of at most 5 MB that draws its first frame under 2 s after navigation starts.
const PAGE_BYTES_MAX = 5_000_000;
const FIRST_FRAME_MS_MAX = 2000;
const LOADS = 3; // the median of three loads: the machine is shared, one load can be unlucky

// A swarm raft seed of 55k–90k events that ends in a violation, so the page must also open on
// it. Violations end a run, and most come early; the forget-vote-on-restart variant with the
// fault phase pinned to its longest (15 s) breaks late: on this code the first such seed is 7
// (77,306 events). Found rather than pinned, so a change in seed derivation moves the seed,
// not the test.
const SWARM_EVENTS = { min: 55_000, max: 90_000 };
const SWARM_VARIANT = 'forget-vote-on-restart';
const SWARM_PINS = { durationUs: 15_000_000 };
const SWARM_SEEDS_MAX = 300;

function busySwarmSeed(): number {
  for (let seed = 0; seed < SWARM_SEEDS_MAX; seed++) {
    const { result } = runSeed('raft', seed, SWARM_VARIANT, {}, SWARM_PINS);
    const events = result.stats.events;
    if (
      result.violation !== undefined &&
      events >= SWARM_EVENTS.min &&
      events <= SWARM_EVENTS.max
    ) {
      return seed;
    }
  }
  throw new Error(
    `no raft ${SWARM_VARIANT} seed below ${SWARM_SEEDS_MAX} fails after ${SWARM_EVENTS.min}–${SWARM_EVENTS.max} events: pick another variant or pin for the viewer's size test`,
  );
}

describe.skipIf(missing !== null)('a whole swarm seed in the viewer', () => {
  let browser: Browser;
  const file = join(ARTIFACTS, 'raft-swarm-seed.html');
  let events = 0;
  let violationUs = 0;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const seed = busySwarmSeed();
    const trace = new TraceRecorder();
    const run = runSeed('raft', seed, SWARM_VARIANT, { trace }, SWARM_PINS);
    events = run.result.stats.events;
    violationUs = run.result.violation?.timeUs ?? -1;
    writeFileSync(file, renderHtml({ records: trace.records, ...run }));
    console.log(
      `raft seed ${seed} --variant ${SWARM_VARIANT} --set durationUs=${SWARM_PINS.durationUs}: ${events.toLocaleString('en-US')} events, ${trace.records.length.toLocaleString('en-US')} trace records, page ${(statSync(file).size / 1e6).toFixed(2)} MB`,
    );
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  it(`is at most ${PAGE_BYTES_MAX / 1e6} MB, one file that loads nothing`, async () => {
    expect(statSync(file).size).toBeLessThanOrEqual(PAGE_BYTES_MAX);
    const { page, errors, requests } = await openOffline(browser, file);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it(`draws its first frame under ${FIRST_FRAME_MS_MAX} ms after navigation starts`, async () => {
    const loads: { firstFrameMs: number; wallMs: number }[] = [];
    for (let load = 0; load < LOADS; load++) {
      const { page, wallMs } = await openOffline(browser, file);
      // performance.now() at the first frame: milliseconds since navigation started.
      const firstFrameMs = Number(await page.evaluate('document.body.dataset.readyMs'));
      loads.push({ firstFrameMs, wallMs });
      await page.context().close();
    }
    const median = loads.map((it) => it.firstFrameMs).sort((a, b) => a - b)[LOADS >> 1] ?? NaN;
    console.log(
      `first frame after ${loads.map((it) => `${it.firstFrameMs} ms (goto to ready ${it.wallMs} ms)`).join(', ')}; median ${median} ms`,
    );
    expect(median).toBeGreaterThan(0);
    expect(median).toBeLessThan(FIRST_FRAME_MS_MAX);
  }, 60_000);

  it("counts the run's events as the CLI does, and opens on the violation", async () => {
    const { page } = await openOffline(browser, file);
    const stats = await page.locator('.stats').textContent();
    expect(stats).toContain(`${events.toLocaleString('en-US')} events`);
    expect(await api(page, (f) => f.model.events)).toBe(events);
    const marker = await api(page, (f) => f.violationMarker());
    const range = await api(page, (f) => f.visibleRange());
    expect(marker?.visible).toBe(true);
    expect(marker?.atUs).toBe(violationUs);
    expect(violationUs).toBeGreaterThan(range.startUs);
    expect(violationUs).toBeLessThan(range.endUs);
    // Zoomed onto the violation, a slice of the run: arrows one by one, not density.
    expect(range.endUs - range.startUs).toBeLessThan(violationUs / 10);
    expect((await api(page, (f) => f.arrowsDrawn())).density).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'raft-swarm-seed.png') });
    // The whole run: every arrow counted, drawn as density.
    await api(page, (f) => f.fit());
    const whole = await api(page, (f) => f.arrowsDrawn());
    expect(whole.density).toBe(true);
    expect(whole.total).toBe(await api(page, (f) => f.model.arrows));
    // Hovering a lane's density says what it counts there.
    const servers = (await api(page, (f) => f.groups()))[0];
    let shown: string | null = null;
    for (let y = servers?.top ?? 0; y < (servers?.bottom ?? 0) && shown === null; y += 2) {
      const tip = (await page.evaluate(`window.faultline.hoverAt(700, ${y})`)) as string | null;
      if (tip?.includes('sent or received')) shown = tip;
    }
    expect(shown).toMatch(/^n\d+: \d+ messages? sent or received/);
    await page.screenshot({ path: join(ARTIFACTS, 'raft-swarm-seed-whole.png') });
    await page.close();
  });
});
