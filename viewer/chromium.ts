// One way for the browser tests to get Chromium and open a page in it: Debian's Chromium
// driven by playwright-core (`npx playwright install` cannot download here), every network
// request refused and recorded, console errors collected, and the page's readiness awaited,
// so no test asserts on a page that has not drawn yet.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const SETUP_TIMEOUT_MS = 600_000;

/**
 * Null when Chromium is there (installed by .ci/browser-setup.sh if it was not), else why
 * not, for the test file to print loudly as it skips.
 */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) {
    return null;
  }
  const setup = spawnSync('bash', ['.ci/browser-setup.sh'], {
    encoding: 'utf8',
    timeout: SETUP_TIMEOUT_MS,
  });
  if (existsSync(CHROMIUM)) {
    return null;
  }
  return `${CHROMIUM} is missing and .ci/browser-setup.sh could not install it: ${(setup.stderr || setup.stdout || String(setup.error)).trim().slice(-400)}`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** Every request that was not for the file itself or a data: URL (all refused). */
  requests: string[];
  /** Wall time from `goto` to the ready signal, as this process saw it. */
  wallMs: number;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** The selector that says the page has drawn its first frame; null: a page with no such signal. */
  ready?: string | null;
}

/** Opens a file in a fresh context, offline, and waits until the page says it is ready. */
export async function openOffline(
  browser: Browser,
  file: string,
  { viewport = { width: 1400, height: 800 }, ready = 'body[data-ready="true"]' }: OpenOptions = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    // about: is a frame's own document (a report's inline diagrams), never the network.
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:')) {
      return route.continue();
    }
    requests.push(url);
    return route.abort();
  });
  const started = Date.now();
  await page.goto(`file://${file}`);
  if (ready !== null) {
    await page.waitForSelector(ready);
  }
  return { page, errors, requests, wallMs: Date.now() - started };
}
