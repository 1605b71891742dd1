// A space-time diagram's size and how long Chromium takes to open it, for BENCHMARKS.md:
//   npx tsx bench/viewer-load.ts page.html [more.html ...] [--loads 5]
// Each page is loaded `--loads` times in a fresh context; printed per page: its size, and per
// load the time from navigation start to the page's ready signal (performance.now() when it
// sets data-ready, which pages since the compact page data do after their first frame; older
// pages set it at the end of their script, also after drawing), then the median. One JSON
// line per page.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromiumMissing, launchChromium, openOffline } from '../viewer/chromium.ts';

const LOADS_DEFAULT = 5;
const LOADS_MAX = 50;

const args = process.argv.slice(2);
const loadsAt = args.indexOf('--loads');
const loads = loadsAt === -1 ? LOADS_DEFAULT : Number(args[loadsAt + 1]);
const files = args.filter((_, index) => index !== loadsAt && index !== loadsAt + 1);
if (files.length === 0 || !Number.isInteger(loads) || loads < 1 || loads > LOADS_MAX) {
  process.stderr.write(
    `usage: npx tsx bench/viewer-load.ts <page.html>... [--loads 1–${LOADS_MAX}]\n`,
  );
  process.exit(2);
}
const missing = chromiumMissing();
if (missing !== null) {
  process.stderr.write(`${missing}\n`);
  process.exit(2);
}

const browser = await launchChromium();
try {
  for (const file of files) {
    const path = resolve(file);
    const readyMs: number[] = [];
    for (let load = 0; load < loads; load++) {
      const { page } = await openOffline(browser, path, { ready: 'body[data-ready]' });
      // The ready time the page recorded, else (an older page) performance.now() right after.
      const recorded = Number(await page.evaluate('document.body.dataset.readyMs ?? NaN'));
      readyMs.push(
        Number.isFinite(recorded)
          ? recorded
          : Math.round(Number(await page.evaluate('performance.now()'))),
      );
      await page.context().close();
    }
    const sorted = [...readyMs].sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({
        file,
        bytes: statSync(path).size,
        mb: Number((statSync(path).size / 1e6).toFixed(2)),
        firstFrameMs: readyMs,
        medianMs: sorted[sorted.length >> 1],
      })}\n`,
    );
  }
} finally {
  await browser.close();
}
