// One self-contained HTML file per run: styles, script and the run's data inline, and a
// Content-Security-Policy that forbids every network request, so it opens from disk anywhere.
import { readFileSync } from 'node:fs';
import type { TraceRecord } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { buildModel, defaultTitle } from './build.ts';
import { formatMs, type ViewModel } from './model.ts';
import { encodePageData } from './page-data.ts';

export interface RenderInput {
  records: readonly TraceRecord[];
  plan: Plan;
  result: RunResult;
  title?: string;
  /** The recorder dropped records past its cap: say so on the page. */
  truncated?: boolean;
  /** Open zoomed onto the violation (the default when there is one), or, false, on the whole run. */
  openAtViolation?: boolean;
}

// Read once, when first needed: the page's script and styles ship as files beside this one.
let assets: { script: string; styles: string } | null = null;

function pageAssets(): { script: string; styles: string } {
  if (assets === null) {
    const read = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
    // The decoder goes first: page.js calls it.
    assets = { script: `${read('page-decode.js')}\n${read('page.js')}`, styles: read('page.css') };
  }
  return assets;
}

const CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data:',
].join('; ');

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** JSON that is safe inside a <script> element: no `</script>` or `<!--` can appear. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

export function renderHtml(input: RenderInput): string {
  const title = input.title ?? defaultTitle(input.plan);
  const model = buildModel({ ...input, title });
  if (input.openAtViolation === false) {
    model.openAt = 'whole';
  }
  return pageHtml(model);
}

export function pageHtml(model: ViewModel): string {
  const { script, styles } = pageAssets();
  const title = escapeHtml(model.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faultline · ${title}</title>
<style>${styles}</style>
</head>
<body>
<header>
  <div class="title"><span class="brand">faultline</span><span>${title}</span><span class="outcome ${escapeHtml(model.outcome)}">${escapeHtml(model.outcome)}</span><span class="stats">${stats(model)}</span></div>
  ${violationBanner(model)}
  <div class="toolbar">
    <div class="group"><span class="label">time</span><button id="zoom-out" title="zoom out (-)">−</button><button id="zoom-in" title="zoom in (+)">+</button><button id="fit" title="whole run (0)">fit</button><span id="range"></span></div>
    <div class="group"><span class="label">step</span><button id="prev" title="previous event (p or ,)">◀ prev</button><button id="next" title="next event (n or .)">next ▶</button></div>
    ${model.violation ? '<div class="group"><button id="jump-violation" class="danger" title="jump to the violation (v)">jump to violation</button></div>' : ''}
    <div class="group" id="node-filter"><span class="label">nodes</span></div>
    <div class="group" id="type-filter"><span class="label">messages</span></div>
  </div>
</header>
<main><canvas id="diagram"></canvas><canvas id="overview"></canvas><div id="tooltip" hidden></div></main>
<footer>
  <div id="step">step through events with next ▶ (or n); hover an arrow for the message</div>
  <div class="legend">${LEGEND}</div>
  <div class="keys"><kbd>wheel</kbd> zoom · <kbd>drag</kbd> <kbd>←</kbd> <kbd>→</kbd> pan · <kbd>+</kbd> <kbd>-</kbd> <kbd>0</kbd> zoom · <kbd>n</kbd> <kbd>p</kbd> step · <kbd>v</kbd> violation</div>
</footer>
<script type="application/octet-stream" id="faultline-data" data-encoding="gzip+base64">${encodePageData(model).toString('base64')}</script>
<script>${script}</script>
</body>
</html>
`;
}

const LEGEND = [
  '<span>→ delivered</span>',
  '<span style="color:#dc2626">- - ✕ dropped</span>',
  '<span style="color:#9ca3af">· · → in flight at the end</span>',
  '<span>2× duplicated copy</span>',
  '<span style="color:#1d4ed8">▮ messages per pixel, zoomed out</span>',
  '<span style="color:#374151">▬ down</span>',
  '<span style="color:#b45309">▬ paused</span>',
  '<span style="color:#16a34a">▮ op ok</span>',
  '<span style="color:#dc2626">▮ op failed</span>',
  '<span style="color:#9ca3af">▮ op unknown</span>',
  '<span style="color:#64748b">| fsync</span>',
  '<span style="color:#7c3aed">■ disk event</span>',
  '<span style="color:#94a3b8">◆ observation</span>',
  '<span style="color:#64748b">▒ partition</span>',
].join('');

function stats(model: ViewModel): string {
  const parts = [
    `${model.lanes.length} lanes`,
    `${model.messages.length.toLocaleString('en-US')} messages`,
    // The CLI's count (stats.events), not the trace's records: one run, one number.
    `${model.events.toLocaleString('en-US')} events`,
    formatMs(model.endUs),
  ];
  if (model.truncated) {
    parts.push('trace truncated');
  }
  return escapeHtml(parts.join(' · '));
}

function violationBanner(model: ViewModel): string {
  const violation = model.violation;
  if (violation === null) {
    return '';
  }
  const where = violation.node === null ? '' : ` on ${model.lanes[violation.node]?.name ?? ''}`;
  return `<div id="violation-banner" title="jump to the violation"><b>✖ ${escapeHtml(violation.invariant)}</b> at ${formatMs(violation.atUs)}${escapeHtml(where)}: ${escapeHtml(violation.message)}</div>`;
}
