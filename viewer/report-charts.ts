// The report's charts, drawn as inline SVG when the page is written: no script, no network,
// and the same bytes for the same model. Each chart carries data-chart, each bar class "bar",
// so a test can count what was drawn.
import type { ShapeBin, ThroughputSample } from '../sim/fuzz/histogram.ts';
import { escapeHtml } from './render-html.ts';
import type { FaultBar, ShapeChart } from './report-model.ts';

const BAR_COLOUR = '#2563eb';
const FAILED_COLOUR = '#dc2626';
const FLAG_COLOUR = '#b45309';
const AXIS_COLOUR = '#9ca3af';

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Virtual or wall time for people: 850 µs, 12.5 ms, 3.46 s. */
export function duration(us: number): string {
  if (us >= 1_000_000) {
    return `${trim(us / 1_000_000)} s`;
  }
  if (us >= 1000) {
    return `${trim(us / 1000)} ms`;
  }
  return `${count(us)} µs`;
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function percent(part: number, whole: number): string {
  if (whole <= 0) {
    return '0%';
  }
  const share = (100 * part) / whole;
  return share > 0 && share < 1 ? '<1%' : `${Math.round(share)}%`;
}

/**
 * One row per fault kind (or partition shape): a bar as long as the share of seeds it fired
 * in (or, for summaries without seed counts, as its episodes on a log scale against the most
 * frequent). A kind that never fired gets no bar and a flag.
 */
export function faultChart(name: string, bars: FaultBar[], seeds: number): string {
  const rowPx = 24;
  const labelPx = 150;
  const barPx = 420;
  const widthPx = labelPx + barPx + 260;
  const heightPx = rowPx * bars.length + 8;
  const episodesMax = Math.max(1, ...bars.map((bar) => bar.episodes));
  const rows = bars.map((bar, index) => {
    const y = 4 + index * rowPx;
    const label = `<text x="${labelPx - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(bar.kind)}</text>`;
    if (bar.episodes === 0) {
      return `${label}<text class="flag" x="${labelPx + 4}" y="${y + 16}" fill="${FLAG_COLOUR}">⚠ never fired</text>`;
    }
    const share =
      bar.seeds === null
        ? Math.log10(1 + bar.episodes) / Math.log10(1 + episodesMax)
        : bar.seeds / Math.max(1, seeds);
    const lengthPx = Math.max(2, Math.round(share * barPx));
    const text =
      bar.seeds === null
        ? `${count(bar.episodes)} episodes`
        : `${count(bar.episodes)} episodes · ${count(bar.seeds)} seeds (${percent(bar.seeds, seeds)})`;
    return `${label}<rect class="bar" data-kind="${escapeHtml(bar.kind)}" data-episodes="${bar.episodes}" data-seeds="${bar.seeds ?? ''}" x="${labelPx}" y="${y + 4}" width="${lengthPx}" height="${rowPx - 8}" fill="${BAR_COLOUR}"><title>${escapeHtml(`${bar.kind}: ${text}`)}</title></rect><text class="value" x="${labelPx + lengthPx + 6}" y="${y + 16}">${text}</text>`;
  });
  const scale =
    bars.some((bar) => bar.seeds === null) && bars.length > 0
      ? 'bar length: episodes, log scale'
      : 'bar length: share of seeds it fired in';
  return `<figure><svg data-chart="${escapeHtml(name)}" viewBox="0 0 ${widthPx} ${heightPx}" width="${widthPx}" height="${heightPx}" role="img" aria-label="${escapeHtml(name)}">${rows.join('')}<line x1="${labelPx}" y1="0" x2="${labelPx}" y2="${heightPx}" stroke="${AXIS_COLOUR}"/></svg><figcaption>${scale}</figcaption></figure>`;
}

function binLabel(bin: ShapeBin, unit: ShapeChart['unit']): string {
  const show = (value: number) => (unit === 'us' ? duration(value) : count(value));
  return bin.lo === bin.hi ? show(bin.lo) : `${show(bin.lo)}–${show(bin.hi)}`;
}

function tick(
  x: number,
  base: number,
  value: number,
  unit: ShapeChart['unit'],
  anchor: 'start' | 'middle' | 'end',
): string {
  const text = unit === 'us' ? duration(value) : count(value);
  return `<line x1="${x}" y1="${base}" x2="${x}" y2="${base + 4}" stroke="${AXIS_COLOUR}"/><text class="bin" x="${x}" y="${base + 16}" text-anchor="${anchor}">${escapeHtml(text)}</text>`;
}

/** Seeds per bin of one drawn parameter, failed seeds in red over them. */
export function shapeChart(chart: ShapeChart): string {
  const widthPx = 420;
  const heightPx = 170;
  const topPx = 18;
  const plotPx = 120;
  const leftPx = 8;
  const slotPx = (widthPx - 2 * leftPx) / Math.max(1, chart.bins.length);
  const seedsMax = Math.max(1, ...chart.bins.map((bin) => bin.seeds));
  const parts = chart.bins.map((bin, index) => {
    const x = leftPx + index * slotPx + 3;
    const w = Math.max(2, slotPx - 6);
    const h = Math.round((bin.seeds / seedsMax) * plotPx);
    const fh =
      bin.seeds === 0
        ? 0
        : Math.max(bin.failed > 0 ? 2 : 0, Math.round((bin.failed / seedsMax) * plotPx));
    const base = topPx + plotPx;
    const label = binLabel(bin, chart.unit);
    const tip = `${chart.name} ${label}: ${count(bin.seeds)} seeds, ${count(bin.failed)} failed`;
    const failed =
      bin.failed > 0
        ? `<rect class="failed" x="${x}" y="${base - fh}" width="${w}" height="${fh}" fill="${FAILED_COLOUR}"/><text class="failed-count" x="${x + w / 2}" y="${base - h - 4}" text-anchor="middle" fill="${FAILED_COLOUR}">${count(bin.failed)}✗</text>`
        : '';
    // A single value is labelled under its bar; a range by ticks at every other bin
    // boundary (every one would overlap) and at its end.
    const last = index === chart.bins.length - 1;
    const ticks =
      (index % 2 === 0 && !(last && index > 0)
        ? tick(leftPx + index * slotPx, base, bin.lo, chart.unit, index === 0 ? 'start' : 'middle')
        : '') + (last ? tick(leftPx + (index + 1) * slotPx, base, bin.hi, chart.unit, 'end') : '');
    const labelText =
      bin.lo === bin.hi
        ? `<text class="bin" x="${x + w / 2}" y="${base + 14}" text-anchor="middle">${escapeHtml(label)}</text>`
        : ticks;
    return `<rect class="bar" data-lo="${bin.lo}" data-hi="${bin.hi}" data-seeds="${bin.seeds}" data-failed="${bin.failed}" x="${x}" y="${base - h}" width="${w}" height="${h}" fill="${BAR_COLOUR}" opacity="0.55"><title>${escapeHtml(tip)}</title></rect>${failed}${labelText}`;
  });
  return `<figure class="shape"><svg data-chart="shape-${escapeHtml(chart.name)}" viewBox="0 0 ${widthPx} ${heightPx}" width="${widthPx}" height="${heightPx}" role="img" aria-label="${escapeHtml(chart.name)}">${parts.join('')}<line x1="${leftPx}" y1="${topPx + plotPx}" x2="${widthPx - leftPx}" y2="${topPx + plotPx}" stroke="${AXIS_COLOUR}"/></svg><figcaption><b>${escapeHtml(chart.name)}</b> · seeds per bin (tallest ${count(seedsMax)})${chart.bins.some((bin) => bin.failed > 0) ? ', <span class="red">failed</span>' : ''}</figcaption></figure>`;
}

/** Seeds done over wall time, and the rate between samples. */
export function throughputChart(samples: readonly ThroughputSample[]): string {
  const widthPx = 720;
  const heightPx = 200;
  const leftPx = 56;
  const rightPx = 56;
  const topPx = 12;
  const plotPx = 150;
  const last = samples.at(-1) ?? { elapsedMs: 0, seeds: 0 };
  const msMax = Math.max(1, last.elapsedMs);
  const seedsMax = Math.max(1, ...samples.map((sample) => sample.seeds));
  // The rate over windows of a 30th of the run: finer, it shows how seeds end in bursts.
  const windowMs = msMax / 30;
  const rates: { atMs: number; rate: number }[] = [];
  let from = samples[0] as ThroughputSample | undefined;
  for (const sample of samples) {
    if (from !== undefined && sample.elapsedMs - from.elapsedMs >= windowMs) {
      const rate = ((sample.seeds - from.seeds) * 1000) / (sample.elapsedMs - from.elapsedMs);
      rates.push({ atMs: (from.elapsedMs + sample.elapsedMs) / 2, rate });
      from = sample;
    }
  }
  const rateMax = Math.max(1e-9, ...rates.map((rate) => rate.rate));
  const x = (ms: number) => (leftPx + (ms / msMax) * (widthPx - leftPx - rightPx)).toFixed(1);
  const y = (share: number) => (topPx + plotPx - share * plotPx).toFixed(1);
  const done = samples.map((sample) => `${x(sample.elapsedMs)},${y(sample.seeds / seedsMax)}`);
  const rate = rates.map((point) => `${x(point.atMs)},${y(point.rate / rateMax)}`);
  const base = topPx + plotPx;
  return `<figure><svg data-chart="throughput" viewBox="0 0 ${widthPx} ${heightPx}" width="${widthPx}" height="${heightPx}" role="img" aria-label="throughput"><line x1="${leftPx}" y1="${base}" x2="${widthPx - rightPx}" y2="${base}" stroke="${AXIS_COLOUR}"/><line x1="${leftPx}" y1="${topPx}" x2="${leftPx}" y2="${base}" stroke="${AXIS_COLOUR}"/><polyline class="seeds" fill="none" stroke="${BAR_COLOUR}" stroke-width="2" points="${done.join(' ')}"/><polyline class="rate" fill="none" stroke="${FLAG_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3" points="${rate.join(' ')}"/><text x="${leftPx - 6}" y="${topPx + 10}" text-anchor="end" fill="${BAR_COLOUR}">${count(seedsMax)}</text><text x="${leftPx - 6}" y="${base}" text-anchor="end">0</text><text x="${widthPx - rightPx + 6}" y="${topPx + 10}" fill="${FLAG_COLOUR}">${trim(rateMax)}/s</text><text x="${widthPx - rightPx}" y="${base + 16}" text-anchor="end">${duration(msMax * 1000)}</text><text x="${leftPx}" y="${base + 16}">0 s</text></svg><figcaption><span style="color:${BAR_COLOUR}">— seeds done</span> · <span style="color:${FLAG_COLOUR}">- - seeds/s between samples</span> · over wall time</figcaption></figure>`;
}
