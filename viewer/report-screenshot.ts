// Screenshots a page (a campaign report, a diagram) with Debian's Chromium through
// playwright-core, as the README's images are made:
//   npx tsx viewer/report-screenshot.ts report.html docs/report.png [heightPx] [script]
// Without a height the whole page is taken; with one, its top that many pixels tall. A script
// runs in the page first (a diagram's view: 'faultline.zoom(0.05); faultline.pan(-0.3)').
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH_PX = 1400;

const [page, out, height, script] = process.argv.slice(2);
if (page === undefined || out === undefined) {
  process.stderr.write(
    'usage: npx tsx viewer/report-screenshot.ts <page.html> <out.png> [heightPx] [script]\n',
  );
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`${CHROMIUM} is missing: bash .ci/browser-setup.sh installs it\n`);
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--headless', '--disable-gpu'],
});
try {
  const tab = await browser.newPage({ viewport: { width: WIDTH_PX, height: 900 } });
  await tab.goto(`file://${resolve(page)}`);
  // A diagram page says when its first frame is drawn; a report does not set the attribute.
  if ((await tab.locator('body[data-ready]').count()) > 0) {
    await tab.waitForSelector('body[data-ready="true"]');
  }
  // Diagrams in frames draw once their script has run.
  for (const element of await tab.locator('iframe').elementHandles()) {
    const frame = await element.contentFrame();
    await frame?.waitForSelector('body[data-ready="true"]');
  }
  if (script !== undefined) {
    await tab.evaluate(script);
  }
  await tab.waitForTimeout(300); // the frames' canvases paint on the next animation frame
  const heightPx = height === undefined ? undefined : Number(height);
  await tab.screenshot(
    heightPx === undefined
      ? { path: out, fullPage: true }
      : { path: out, fullPage: true, clip: { x: 0, y: 0, width: WIDTH_PX, height: heightPx } },
  );
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
}
