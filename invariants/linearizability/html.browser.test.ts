// `check-history --html` in a real browser (Debian's Chromium via playwright-core, as the
// viewer's tests): the page draws every operation, numbers the longest linearizable prefix
// exactly as the checker found it, marks the operation that cannot be placed, and loads with
// no console error and no network request.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CHROMIUM, launchChromium, openOffline } from '../../viewer/chromium.ts';
import { checkOperations } from './checker.ts';
import { historyPage, renderHistoryHtml } from './html.ts';
import { kvModel, registerModel } from './models.ts';
import { parseHistory } from './parse.ts';

const ARTIFACTS = resolve('test-artifacts');
const DATA = new URL('../../../shared/histories/porcupine/', import.meta.url);

interface HistoryApi {
  verdict: string;
  bars(): number;
  prefix(): number[];
  blocked(): string | null;
  rows(): number;
  tooltipAt(index: number): string | null;
}

declare global {
  interface Window {
    faultlineHistory: HistoryApi;
  }
}

function write(name: string, file: string, model: typeof registerModel | typeof kvModel) {
  const operations = parseHistory(readFileSync(new URL(file, DATA), 'utf8'));
  const result = checkOperations(model as typeof registerModel, operations);
  const path = join(ARTIFACTS, name);
  writeFileSync(
    path,
    renderHistoryHtml(historyPage(file, model as typeof registerModel, operations, result)),
  );
  return { path, operations, result };
}

describe.skipIf(!existsSync(CHROMIUM))('check-history --html in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const open = (path: string) => openOffline(browser, path);

  const api = <T>(page: Page, body: (history: HistoryApi) => T) =>
    page.evaluate(`(${body.toString()})(window.faultlineHistory)`) as Promise<T>;

  it('marks the longest linearizable prefix and the operation that cannot be placed', async () => {
    const { path, operations, result } = write(
      'history-etcd_000.html',
      'jepsen/etcd_000.log',
      registerModel,
    );
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict !== 'not-linearizable') return;
    const { page, errors, requests } = await open(path);
    expect(await api(page, (h) => h.verdict)).toBe('not-linearizable');
    expect(await api(page, (h) => h.bars())).toBe(operations.length);
    const prefix = await api(page, (h) => h.prefix());
    expect(prefix).toEqual(result.explanation.longestPrefix.map((_, i) => i + 1));
    const blocked = await api(page, (h) => h.blocked());
    expect(blocked).toContain('read() -> 2 by client 11 (lines 85–86)');
    const clients = new Set(operations.map((op) => op.clientId));
    expect(await api(page, (h) => h.rows())).toBe(clients.size);
    // The tooltip of the last prefix step gives the state the explanation names.
    const last = result.explanation.longestPrefix.at(-1)!;
    const tip = await page.evaluate(`window.faultlineHistory.tooltipAt(${last})`);
    expect(tip).toContain(`state after: ${result.explanation.stateAfterPrefix}`);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'history-etcd_000.png') });
    await page.close();
  });

  it('draws a linearizable partitioned history with nothing marked', async () => {
    const { path, operations } = write('history-c01-ok.html', 'kv/c01-ok.txt', kvModel);
    const { page, errors } = await open(path);
    expect(await api(page, (h) => h.verdict)).toBe('linearizable');
    expect(await api(page, (h) => h.bars())).toBe(operations.length);
    expect(await api(page, (h) => h.prefix())).toEqual([]);
    expect(await api(page, (h) => h.blocked())).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });
});
