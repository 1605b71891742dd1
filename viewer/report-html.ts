// A campaign report as one self-contained HTML page: styles and charts inline, the shrunk
// cases' space-time diagrams inline (each the viewer's own page, in a sandboxed frame), the
// model embedded as JSON, and a Content-Security-Policy that forbids every network request.
import { escapeHtml, scriptJson } from './render-html.ts';
import { count, duration, faultChart, shapeChart, throughputChart } from './report-charts.ts';
import type { ReportModel, ViolationCase } from './report-model.ts';

const CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "script-src 'unsafe-inline'",
  'img-src data:',
  // The diagrams are srcdoc frames: they inherit this policy, and the viewer's script runs.
  "frame-src 'self' about: data:",
].join('; ');

/** Every section of the page, in order: the browser test checks each is present. */
export const REPORT_SECTIONS = [
  'analysis',
  'what-ran',
  'invariants',
  'violations',
  'faults',
  'sometimes',
  'shapes',
  'throughput',
] as const;

/** `diagrams[i]` is the viewer page of `model.cases[i]` when it is inlined. */
export function renderReport(
  model: ReportModel,
  diagrams: readonly (string | null)[] = [],
): string {
  const title = escapeHtml(model.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faultline report · ${title}</title>
<style>${STYLES}</style>
</head>
<body data-verdict="${model.verdict}">
<header>
  <div class="brand">faultline · campaign report</div>
  <h1>${title} <span class="verdict ${model.verdict}">${verdictWord(model)}</span></h1>
  <p class="headline">${escapeHtml(model.headline)}</p>
</header>
<main>
${analysis(model, diagrams)}
${whatRan(model)}
${invariants(model)}
${violations(model, diagrams)}
${faults(model)}
${sometimes(model)}
${shapes(model)}
${throughput(model)}
</main>
<footer>Written by faultline from a fuzz summary. Every seed replays exactly on the same code: the commands above rerun them. ${model.absent.length > 0 ? `This summary predates ${escapeHtml(model.absent.join(', '))}: those parts are left out rather than guessed.` : ''}</footer>
<script type="application/json" id="report-data">${scriptJson(model)}</script>
</body>
</html>
`;
}

function verdictWord(model: ReportModel): string {
  switch (model.verdict) {
    case 'violated':
      return 'violated';
    case 'held':
      return 'all held';
    case 'undecided':
      return 'held, some undecided';
    case 'other-findings':
      return 'findings';
  }
}

function section(id: string, heading: string, body: string): string {
  return `<section id="${id}" data-section="${id}"><h2>${escapeHtml(heading)}</h2>${body}</section>`;
}

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

/** The Jepsen-style account: the bug, what caught it, how soon, the shrunk timeline. */
function analysis(model: ReportModel, diagrams: readonly (string | null)[]): string {
  const parts: string[] = [];
  const seeds = count(model.totals.seeds);
  if (model.variant !== null) {
    parts.push(
      `<p class="bug"><b>The bug.</b> This campaign ran ${code(model.scenario.name)} with the known-bug variant ${code(model.variant.name)}${model.variant.bug === null ? '' : `: ${escapeHtml(model.variant.bug)}`}.</p>`,
    );
  } else {
    parts.push(
      `<p><b>The system.</b> ${code(model.scenario.name)}${model.scenario.description === null ? '' : `: ${escapeHtml(model.scenario.description.replace(/\.$/, ''))}`} — the code as written, no known bug switched on.</p>`,
    );
  }
  const violated = model.invariants.filter((verdict) => verdict.violated > 0);
  const first = model.firstFailure;
  if (violated.length > 0 && first !== null) {
    const caughtBy = violated
      .map(
        (verdict) =>
          `${code(verdict.name)} (${count(verdict.violated)} seed${verdict.violated === 1 ? '' : 's'})`,
      )
      .join(', ');
    parts.push(
      `<p class="caught"><b>What caught it.</b> ${caughtBy} — of ${seeds} seeds, ${count(model.totals.failed)} failed. The first failing seed is <b>${first.seed}</b> (${code(first.invariant)}): <b>${count(first.seedsToIt)}</b> seed${first.seedsToIt === 1 ? '' : 's'} into the range from ${model.seedRange.from}.</p>`,
    );
    const shown = model.cases[0];
    if (shown !== undefined) {
      parts.push(caseBlock(shown, diagrams[0] ?? null, 0, true));
    }
  } else if (model.variant !== null) {
    parts.push(
      `<p class="caught"><b>Not found.</b> No invariant failed in ${seeds} seeds: the bug was not exercised, or is not caught by these invariants. More seeds, or a scenario that reaches it, may find it.</p>`,
    );
  } else {
    parts.push(
      `<p class="caught"><b>Result.</b> ${escapeHtml(capitalized(model.headline))}. That is evidence, not proof: it says these seeds found nothing, within the fault coverage below.</p>`,
    );
  }
  return section('analysis', 'Analysis', parts.join(''));
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function whatRan(model: ReportModel): string {
  const range = model.seedRange;
  const exec = model.execution;
  const rows: [string, string][] = [
    [
      'scenario',
      `${code(model.scenario.name)}${model.scenario.description === null ? '' : ` — ${escapeHtml(model.scenario.description)}`}`,
    ],
  ];
  if (model.topology !== null) {
    rows.push([model.drawnTopology === null ? 'topology' : 'groups', escapeHtml(model.topology)]);
  }
  if (model.drawnTopology !== null) {
    rows.push(['drawn per seed', escapeHtml(model.drawnTopology)]);
  }
  rows.push([
    'variant',
    model.variant === null
      ? 'none (the correct system)'
      : `${code(model.variant.name)}${model.variant.bug === null ? '' : ` — ${escapeHtml(model.variant.bug)}`}`,
  ]);
  const last = range.from + range.seeds - 1;
  const requested =
    range.requested === null ? 'bounded by time' : `${count(range.requested)} requested`;
  rows.push([
    'seeds',
    `${count(range.seeds)} (${range.seeds > 0 ? `${range.from}–${last}` : 'none'}; ${requested}${range.stopReason === 'done' ? '' : `; stopped: ${escapeHtml(range.stopReason)}`})`,
  ]);
  if (range.pins !== null) {
    rows.push([
      'shape pinned',
      escapeHtml(
        Object.entries(range.pins)
          .map(([name, value]) => `${name}=${value}`)
          .join(' '),
      ),
    ]);
  }
  if (model.code !== null) {
    const commits = model.code.commits.map((commit) => code(commit.slice(0, 12))).join(', ');
    const warn =
      model.code.commits.length > 1 ? ' <span class="flag">⚠ shards ran different code</span>' : '';
    const dirty = model.code.dirty === true ? ' (with uncommitted changes)' : '';
    rows.push([
      'code version',
      `${commits}${dirty}${warn} · faultline ${escapeHtml(model.code.versions.join(', '))}`,
    ]);
  }
  if (exec.shards !== null) {
    const missing =
      exec.shards.missing.length === 0
        ? 'all present'
        : `<span class="flag">⚠ missing ${escapeHtml(exec.shards.missing.join(', '))}</span>`;
    rows.push([
      'merged shards',
      `${exec.shards.count === null ? '' : `${count(exec.shards.count)} shards, `}${missing}`,
    ]);
  }
  rows.push([
    'wall time',
    `<span>${duration(exec.elapsedMs * 1000)} on ${count(exec.workers)} worker${exec.workers === 1 ? '' : 's'} · ${count(exec.seedsPerSec)} seeds/s · ${count(Math.round(exec.eventsPerSec))} events/s · simulated time ×${count(Math.round(exec.acceleration))}</span>`,
  ]);
  rows.push([
    'work',
    `${count(model.totals.events)} events, ${duration(model.totals.virtualTimeUs)} of virtual time`,
  ]);
  rows.push([
    'determinism',
    `${count(model.determinism.sampled)} passing seeds run twice (${Math.round(model.determinism.rate * 1000) / 10}% sample): ${model.determinism.mismatches === 0 ? 'every trace hash equal' : `<span class="flag">⚠ ${model.determinism.mismatches} mismatched</span>`}`,
  ]);
  // Rows about the machines and the moment are marked volatile: a test strips them to compare
  // a merged campaign's page with one run's.
  const volatileRows = new Set(['merged shards', 'wall time']);
  const table = `<table class="facts">${rows.map(([k, v]) => `<tr${volatileRows.has(k) ? ' class="volatile"' : ''}><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
  return section('what-ran', 'What ran', table + machines(model));
}

function machines(model: ReportModel): string {
  const runs = model.execution.runs;
  if (runs.length === 0) {
    return '';
  }
  const rows = runs.map(
    (run) =>
      `<tr><td>${run.shard === null ? 'whole range' : `${run.shard.index}/${run.shard.count}`}</td><td>${escapeHtml(run.hostname)}</td><td>${escapeHtml(`${run.cpuModel}, ${run.cpus} cores, ${Math.round(run.memoryMb / 1024)} GB, ${run.platform}/${run.arch}, node ${run.node}`)}</td><td>${code((run.commit ?? 'no git').slice(0, 12))}${run.dirty === true ? '+' : ''}</td><td>${escapeHtml(run.startedAt)}</td><td class="num">${count(run.seeds)}</td><td class="num">${duration(run.elapsedMs * 1000)}</td><td class="num">${count(run.workers)}</td><td class="num">${count(run.seedsPerSec)}</td></tr>`,
  );
  return `<table class="machines volatile"><tr><th>shard</th><th>machine</th><th>hardware</th><th>commit</th><th>started</th><th>seeds</th><th>wall</th><th>workers</th><th>seeds/s</th></tr>${rows.join('')}</table>`;
}

function invariants(model: ReportModel): string {
  if (model.invariants.length === 0) {
    return section(
      'invariants',
      'Invariants',
      '<p>This summary does not name the invariants, and the scenario is not known here.</p>',
    );
  }
  const rows = model.invariants.map(
    (verdict) =>
      `<tr class="${verdict.verdict}" data-invariant="${escapeHtml(verdict.name)}"><td>${code(verdict.name)}</td><td class="verdict-cell">${verdict.verdict === 'violated' ? '✗ violated' : verdict.verdict === 'undecided' ? '? undecided on some' : '✓ held'}</td><td class="num">${count(verdict.held)}</td><td class="num">${count(verdict.violated)}</td><td class="num">${count(verdict.undecided)}</td></tr>`,
  );
  const other =
    model.otherFindings.length === 0
      ? ''
      : `<p class="flag">⚠ Seeds that could not be judged: ${model.otherFindings.map((finding) => `${escapeHtml(finding.kind)} (${count(finding.seeds)})`).join(', ')}.</p>`;
  return section(
    'invariants',
    'Invariants',
    `<table class="verdicts"><tr><th>invariant</th><th>verdict</th><th>held on</th><th>violated on</th><th>undecided on</th></tr>${rows.join('')}</table><p class="note">Held on: seeds that ran to their end with the check clearing them. A failing seed's run stops at its finding, so it counts as held for no invariant. Undecided: the end-of-run check ran out of budget (never a guess); those seeds count as passed but this check did not clear them.</p>${other}`,
  );
}

function caseBlock(item: ViolationCase, html: string | null, index: number, lead: boolean): string {
  const head = `<h3>${code(item.invariant)} · seed ${item.seed}</h3><p class="message">${escapeHtml(item.message)}</p><p>Reproduce: ${code(item.reproduce)}${item.replay === null ? '' : ` · campaign replay ${code(`npx faultline replay ${item.replay}`)}`}</p>`;
  if (item.problem !== undefined || item.shrunk === undefined) {
    return `<div class="case" data-case="${index}">${head}<p class="flag">⚠ ${escapeHtml(item.problem ?? 'no shrunk run')}</p></div>`;
  }
  const shrunk = item.shrunk;
  const rows = shrunk.rows
    .map((row) => {
      const show = (value: number) => (row.unit === 'us' ? duration(value) : count(value));
      return `<tr><th>${escapeHtml(row.what)}</th><td class="num">${show(row.before)}</td><td class="num">${show(row.after)}</td></tr>`;
    })
    .join('');
  const budget = shrunk.exhausted ? ' (budget spent: it may shrink further)' : '';
  const sizes = `<table class="sizes"><tr><th></th><th>as found</th><th>shrunk</th></tr>${rows}</table><p class="note">Shrunk in ${count(shrunk.accepted)} kept edits of ${count(shrunk.attempts)} tried${budget}; the shrunk run fails ${code(item.invariant)} at ${duration(shrunk.violationAtUs)} of virtual time: ${escapeHtml(shrunk.violationMessage)}</p><p>Shrunk replay: ${code(shrunk.replayCommand)} (trace hash ${code(shrunk.traceHash)})</p>`;
  let diagram = '';
  if (item.diagram !== undefined) {
    diagram =
      item.diagram.inline && html !== null
        ? `<iframe class="diagram" title="space-time diagram of seed ${item.seed}, shrunk" data-case="${index}" sandbox="allow-scripts" srcdoc="${escapeHtml(html)}"></iframe>`
        : `<p class="diagram-link">Space-time diagram (${count(item.diagram.events)} events, ${count(Math.round(item.diagram.bytes / 1024))} KB, too large to inline): <a href="${escapeHtml(item.diagram.file ?? '')}">${escapeHtml(item.diagram.file ?? '')}</a></p>`;
  }
  const intro = lead
    ? '<p><b>The shrunk timeline.</b> The first failing seed, made small while it still fails the same way; the diagram opens on the violation, marked in red (<kbd>0</kbd> shows the whole run, <kbd>v</kbd> comes back).</p>'
    : '';
  return `<div class="case" data-case="${index}">${intro}${head}${sizes}${diagram}</div>`;
}

function violations(model: ReportModel, diagrams: readonly (string | null)[]): string {
  if (model.findingsTotal === 0) {
    return section('violations', 'Violations', '<p>None: every seed passed.</p>');
  }
  // The first case leads the analysis; the others (one per further invariant) come here.
  const cases = model.cases
    .map((item, index) =>
      index === 0 ? '' : caseBlock(item, diagrams[index] ?? null, index, false),
    )
    .join('');
  const listed = model.findings
    .map(
      (finding) =>
        `<tr><td class="num">${finding.seed}</td><td>${escapeHtml(finding.kind)}</td><td>${code(finding.invariant)}</td><td class="num">${finding.kind === 'violation' ? duration(finding.timeUs) : ''}</td><td>${
          finding.shape === undefined
            ? ''
            : escapeHtml(
                Object.entries(finding.shape)
                  .map(
                    ([name, value]) => `${name} ${name.endsWith('Us') ? duration(value) : value}`,
                  )
                  .join(' · '),
              )
        }</td><td class="message">${escapeHtml(finding.message.length > 200 ? `${finding.message.slice(0, 199)}…` : finding.message)}</td><td>${code(finding.reproduce)}</td></tr>`,
    )
    .join('');
  const more =
    model.findingsTotal > model.findings.length
      ? `<p class="note">The first ${count(model.findings.length)} of ${count(model.findingsTotal)} failing seeds are listed.</p>`
      : '';
  const first =
    model.cases.length > 0 ? '<p class="note">The first case is shown under Analysis.</p>' : '';
  const rerun =
    model.cases.length > 0 &&
    model.code !== null &&
    model.casesCommit !== null &&
    !model.code.commits.includes(model.casesCommit)
      ? `<p class="flag">⚠ The cases were rerun and shrunk on commit ${code(model.casesCommit.slice(0, 12))}, not the code the campaign ran: a seed may fail differently there.</p>`
      : '';
  return section(
    'violations',
    'Violations',
    `${rerun}${first}${cases}<table class="findings"><tr><th>seed</th><th>kind</th><th>invariant</th><th>at</th><th>shape</th><th>message</th><th>reproduce</th></tr>${listed}</table>${more}`,
  );
}

function faults(model: ReportModel): string {
  const seeds = model.totals.seeds;
  const fired = model.faults.filter((bar) => bar.episodes > 0).length;
  const parts = [
    `<p>${fired} of ${model.faults.length} fault kinds fired. An episode is one fault applied (a partition, each flap of it, a crash, a dropped message…).</p>`,
    model.faults.length === 0
      ? '<p>No fault kinds are eligible in this scenario.</p>'
      : faultChart('faults', model.faults, seeds),
  ];
  if (model.faultsNeverFired.length > 0) {
    parts.push(
      `<p class="flag">⚠ eligible but never fired: ${escapeHtml(model.faultsNeverFired.join(', '))} — the campaign did not test what the scenario claims for these.</p>`,
    );
  }
  if (model.partitionShapes !== null && model.partitionShapes.length > 0) {
    parts.push(
      '<h3>Partition shapes</h3>',
      faultChart('partition-shapes', model.partitionShapes, seeds),
    );
    if (model.partitionShapesNeverFired.length > 0) {
      parts.push(
        `<p class="flag">⚠ drawable but never fired: ${escapeHtml(model.partitionShapesNeverFired.join(', '))}</p>`,
      );
    }
  }
  return section('faults', 'Fault coverage', parts.join(''));
}

function sometimes(model: ReportModel): string {
  if (model.sometimes.length === 0) {
    return section('sometimes', 'Sometimes assertions', '<p>The scenario declares none.</p>');
  }
  const rows = model.sometimes
    .map(
      (item) =>
        `<tr class="${item.seeds === 0 ? 'never' : 'reached'}"><td>${escapeHtml(item.name)}</td><td>${item.seeds === 0 ? '<span class="flag">⚠ never reached</span>' : '✓ reached'}</td><td class="num">${count(item.seeds)}</td></tr>`,
    )
    .join('');
  return section(
    'sometimes',
    'Sometimes assertions',
    `<p>Conditions some seeds must reach, so that a fault or a code path nobody exercised is noticed.</p><table class="sometimes"><tr><th>condition</th><th></th><th>seeds</th></tr>${rows}</table>`,
  );
}

function shapes(model: ReportModel): string {
  if (model.shapes === null) {
    return section(
      'shapes',
      'Seed shapes',
      `<p>${model.absent.includes('the distribution of drawn shapes') ? 'This summary predates shape histograms.' : 'Every seed of this scenario has the same shape (or the whole shape was pinned).'}</p>`,
    );
  }
  const failedAny = model.shapes.some((chart) => chart.bins.some((bin) => bin.failed > 0));
  return section(
    'shapes',
    'Seed shapes',
    `<p>Each seed draws its shape (the fault phase's length, group sizes, the workload's pace) as well as its faults. ${failedAny ? 'Red: where the failing seeds fell.' : ''}</p><div class="shapes">${model.shapes.map(shapeChart).join('')}</div>`,
  );
}

function throughput(model: ReportModel): string {
  const samples = model.execution.throughput;
  const body =
    samples === null || samples.length < 2
      ? '<p>This summary has no throughput samples.</p>'
      : throughputChart(samples);
  return section(
    'throughput',
    'Throughput over the campaign',
    `<div class="volatile">${body}</div>`,
  );
}

const STYLES = `
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--panel:#f9fafb;--red:#dc2626;--green:#15803d;--amber:#b45309;--accent:#2563eb;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:14px;color:var(--ink)}
*{box-sizing:border-box}body{margin:0;background:#fff}
header{padding:18px 28px 12px;border-bottom:1px solid var(--line);background:var(--panel)}
.brand{font-weight:700;letter-spacing:.03em;color:var(--muted);font-size:12px;text-transform:uppercase}
h1{margin:6px 0 4px;font-size:22px}h2{font-size:17px;margin:0 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
.headline{margin:0;color:var(--ink);font-size:15px}
.verdict{font-size:13px;padding:2px 8px;border-radius:10px;vertical-align:middle;margin-left:8px;color:#fff}
.verdict.violated{background:var(--red)}.verdict.held{background:var(--green)}.verdict.undecided,.verdict.other-findings{background:var(--amber)}
main{padding:8px 28px 24px;max-width:1320px}
section{margin:18px 0 26px}
table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:3px 10px 3px 0;vertical-align:top}
table.facts th{color:var(--muted);font-weight:500;width:140px}
table.verdicts td,table.verdicts th,table.findings td,table.findings th,table.machines td,table.machines th,table.sometimes td,table.sometimes th,table.sizes td,table.sizes th{border-bottom:1px solid var(--line);padding:4px 14px 4px 0}
tr.violated td{color:var(--red);font-weight:600}tr.held .verdict-cell{color:var(--green)}tr.undecided .verdict-cell{color:var(--amber)}
.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:#f3f4f6;padding:1px 4px;border-radius:3px}
.flag{color:var(--amber);font-weight:600}.red{color:var(--red)}
.note{color:var(--muted);font-size:12.5px}
.message{font-size:13px}
p.bug{font-size:15px}p.caught{font-size:15px}
.case{border-left:3px solid var(--red);padding:2px 0 4px 14px;margin:14px 0}
iframe.diagram{width:100%;height:560px;border:1px solid var(--line);border-radius:4px;margin-top:6px}
svg text{font-size:12px;fill:var(--ink)}svg text.flag{fill:var(--amber)}svg text.value{fill:var(--muted)}svg text.bin{font-size:10.5px;fill:var(--muted)}svg text.failed-count{fill:var(--red);font-size:11px}
figure{margin:8px 0}figcaption{color:var(--muted);font-size:12px}
.shapes{display:flex;flex-wrap:wrap;gap:12px 28px}
footer{padding:12px 28px 28px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
kbd{font-family:inherit;border:1px solid var(--line);border-radius:3px;padding:0 4px;background:var(--panel)}
`;
