// The space-time diagram's in-page script: inlined into every HTML file faultline writes,
// after page-decode.js, which reads the run's compact data (page-data.ts). It draws only the
// visible time window on a canvas, past 3,000 arrows as per-lane density, so 100,000-event
// runs open in well under a second and stay responsive; it exposes `window.faultline` so
// browser tests can assert without guessing pixels.
(async () => {
  // The run's data: gzipped columns in base64 (page-data.ts), decoded by page-decode.js.
  const { model: M, steps: S, messageBody, markDetail } = await readPageData();
  performance.mark('faultline:decoded');

  // --- constants ---------------------------------------------------------------------------
  const GUTTER = 78;
  const AXIS = 26;
  const TOP = AXIS + 24; // the row under the axis holds partition labels
  const LANE_MIN = 46;
  const LANE_MAX = 120;
  const GROUP_GAP = 18; // a header row above each topology group's lanes, naming it
  // Above this many arrows in view, each lane draws its traffic as density (messages sent or
  // received per pixel column) instead of lines: 50,000 overlapping lines say nothing and
  // cost a frame each time; zoomed in below it, every arrow is drawn with its hover details.
  const DENSITY_ARROWS = 3000;
  const LINES_MAX = 4000; // arrows drawn as bare lines (no heads or labels) up to this many
  const OVERVIEW_H = 26;
  const CALLOUT_W = 560; // above this many arrows in view: no arrowheads or labels
  const PALETTE = [
    '#2563eb',
    '#059669',
    '#d97706',
    '#7c3aed',
    '#0891b2',
    '#db2777',
    '#65a30d',
    '#475569',
    '#0d9488',
    '#b45309',
  ];
  const RED = '#dc2626';
  const SIDE_TINTS = ['rgba(37,99,235,0.07)', 'rgba(217,119,6,0.09)', 'rgba(5,150,105,0.08)'];
  const CUT_TINT = 'rgba(234,88,12,0.2)';

  // --- elements ------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const canvas = $('diagram');
  const overview = $('overview');
  const tooltip = $('tooltip');
  const g = canvas.getContext('2d');
  const og = overview.getContext('2d');

  // --- state ---------------------------------------------------------------------------------
  const span = Math.max(M.endUs - M.startUs, 1);
  const view = { t0: M.startUs - span * 0.01, t1: M.endUs + span * 0.03 };
  const hiddenLanes = new Set();
  const hiddenTypes = new Set();
  const types = [...new Set(M.messages.map((m) => m.type))].sort();
  const typeColour = new Map(types.map((t, i) => [t, PALETTE[i % PALETTE.length]]));
  let width = 800;
  let height = 400;
  let laneH = 60;
  let bottom = 14; // room under the lanes for the violation's sentence
  let laneY = new Map(); // lane id → centre y, visible lanes only
  let groupRows = []; // visible groups: { group, top, bottom }, top to bottom
  let drawnGroups = []; // what the last draw labelled in the gutter, for tests
  let drawnBands = []; // the partition labels of the last draw, for tests
  let current = -1; // the step the user is on
  let hovered = null;
  let drawn = { arrows: [], deliver: 0, drop: 0, inFlight: 0, copies: 0, density: false };
  let hits = [];
  let lastDrawMs = 0;
  let frame = 0;

  // --- indexes: everything is looked up by time window ----------------------------------------

  /** Intervals sorted by start; the few long ones are kept apart and always checked. */
  function intervalIndex(items, startOf, endOf) {
    const lengths = items.map((it) => endOf(it) - startOf(it)).sort((a, b) => a - b);
    const long = lengths.length ? lengths[Math.floor(lengths.length * 0.98)] : 0;
    const shortOnes = [];
    const longOnes = [];
    items.forEach((it, i) => {
      (endOf(it) - startOf(it) > long ? longOnes : shortOnes).push(i);
    });
    shortOnes.sort((a, b) => startOf(items[a]) - startOf(items[b]));
    const starts = Float64Array.from(shortOnes, (i) => startOf(items[i]));
    return (t0, t1, visit) => {
      let i = lowerBound(starts, t0 - long);
      for (; i < starts.length && starts[i] <= t1; i++) {
        const it = items[shortOnes[i]];
        if (endOf(it) >= t0) visit(it, shortOnes[i]);
      }
      for (const j of longOnes) {
        const it = items[j];
        if (startOf(it) <= t1 && endOf(it) >= t0) visit(it, j);
      }
    };
  }

  function lowerBound(sorted, value) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function pointIndex(items, timeOf) {
    const order = items.map((_, i) => i).sort((a, b) => timeOf(items[a]) - timeOf(items[b]));
    const times = Float64Array.from(order, (i) => timeOf(items[i]));
    return (t0, t1, visit) => {
      for (let i = lowerBound(times, t0); i < times.length && times[i] <= t1; i++) {
        visit(items[order[i]], order[i]);
      }
    };
  }

  const arrowsIn = intervalIndex(
    M.arrows,
    (a) => a.fromUs,
    (a) => a.toUs,
  );
  const opsIn = intervalIndex(
    M.operations,
    (o) => o.callUs,
    (o) => o.returnUs,
  );
  const opRow = stackOperations();
  const marksIn = pointIndex(M.marks, (m) => m.atUs);
  const stepTimes = S.atUs;

  /** Overlapping operations of one client (after an unknown outcome) go on rows below. */
  function stackOperations() {
    const rows = new Int32Array(M.operations.length);
    const ends = new Map();
    const order = M.operations.map((_, i) => i);
    order.sort((a, b) => M.operations[a].callUs - M.operations[b].callUs);
    for (const i of order) {
      const op = M.operations[i];
      const taken = ends.get(op.client) ?? [];
      let row = taken.findIndex((end) => end <= op.callUs);
      if (row < 0) row = taken.push(0) - 1;
      taken[row] = op.returnUs;
      ends.set(op.client, taken);
      rows[i] = row;
    }
    return rows;
  }

  // --- coordinates ---------------------------------------------------------------------------
  const x = (t) => GUTTER + ((t - view.t0) / (view.t1 - view.t0)) * (width - GUTTER - 12);
  const tAt = (px) => view.t0 + ((px - GUTTER) / (width - GUTTER - 12)) * (view.t1 - view.t0);
  const laneName = (id) => (id < 0 ? 'harness' : (M.lanes[id]?.name ?? `node${id}`));
  // Lanes go group by group, in topology order; a lane no group claims goes last.
  const GROUPS = (M.groups ?? []).filter((group) => group.lanes.length > 0);
  const grouped = new Set(GROUPS.flatMap((group) => group.lanes));
  const loose = M.lanes.filter((l) => !grouped.has(l.id)).map((l) => l.id);
  if (loose.length) GROUPS.push({ name: '', client: false, lanes: loose });
  const ORDER = GROUPS.flatMap((group) => group.lanes.map((id) => M.lanes[id]));
  const visibleLanes = () => ORDER.filter((l) => !hiddenLanes.has(l.id));

  function ms(us) {
    return `${(us / 1000).toFixed(3)} ms`;
  }

  function layout() {
    const lanes = visibleLanes();
    const header = document.querySelector('header').offsetHeight;
    const footer = document.querySelector('footer').offsetHeight;
    width = Math.max(document.documentElement.clientWidth, 480);
    bottom = M.violation ? 30 + calloutLines().length * 15 : 14;
    const room = window.innerHeight - header - footer - OVERVIEW_H - 6;
    const shown = GROUPS.map((group) => ({
      group,
      lanes: group.lanes.filter((id) => !hiddenLanes.has(id)),
    })).filter((it) => it.lanes.length > 0);
    const gaps = shown.length * GROUP_GAP;
    laneH = Math.max(
      LANE_MIN,
      Math.min(LANE_MAX, (room - TOP - bottom - gaps) / Math.max(lanes.length, 1)),
    );
    laneY = new Map();
    groupRows = [];
    let y = TOP;
    for (const { group, lanes: ids } of shown) {
      const top = y;
      y += GROUP_GAP;
      for (const id of ids) {
        laneY.set(id, y + laneH / 2);
        y += laneH;
      }
      groupRows.push({ group, top, bottom: y });
    }
    height = Math.round(y + bottom);
    sizeCanvas(canvas, g, width, height);
    sizeCanvas(overview, og, width, OVERVIEW_H);
  }

  function sizeCanvas(el, ctx, w, h) {
    const dpr = window.devicePixelRatio || 1;
    el.width = Math.round(w * dpr);
    el.height = Math.round(h * dpr);
    el.style.width = `${w}px`;
    el.style.height = `${h}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // --- drawing -------------------------------------------------------------------------------
  function draw() {
    frame = 0;
    const started = performance.now();
    hits = [];
    drawn = { arrows: [], deliver: 0, drop: 0, inFlight: 0, copies: 0, density: false };
    g.clearRect(0, 0, width, height);
    g.save();
    g.beginPath();
    g.rect(GUTTER, 0, width - GUTTER, height);
    g.clip();
    drawLaneBackgrounds();
    drawPartitions();
    drawAxis();
    drawLaneStates();
    drawOperations();
    drawArrows();
    drawMarks();
    drawStepCursor();
    drawViolation();
    g.restore();
    drawGutter();
    drawOverview();
    updateRange();
    lastDrawMs = performance.now() - started;
  }

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function drawLaneBackgrounds() {
    for (const row of groupRows) {
      g.fillStyle = row.group.client ? '#f0fdfa' : '#f3f4f6';
      g.fillRect(GUTTER, row.top, width, GROUP_GAP);
      g.strokeStyle = '#d1d5db';
      g.beginPath();
      g.moveTo(GUTTER, row.top + 0.5);
      g.lineTo(width, row.top + 0.5);
      g.stroke();
    }
    for (const lane of visibleLanes()) {
      const y = laneY.get(lane.id);
      g.fillStyle = lane.kind === 'client' ? '#fafaf9' : '#ffffff';
      g.fillRect(GUTTER, y - laneH / 2, width, laneH);
      g.strokeStyle = '#eef0f3';
      g.beginPath();
      g.moveTo(GUTTER, y + laneH / 2 + 0.5);
      g.lineTo(width, y + laneH / 2 + 0.5);
      g.stroke();
    }
    for (const role of M.roles) {
      const y = laneY.get(role.node);
      if (y === undefined || role.endUs < view.t0 || role.startUs > view.t1) continue;
      const x0 = x(role.startUs);
      const x1 = x(role.endUs);
      g.fillStyle = role.colour;
      g.fillRect(x0, y - laneH / 2 + 3, x1 - x0, laneH - 6);
      if (x1 - x0 > 46) {
        g.fillStyle = '#57534e';
        g.font = '600 10px system-ui, sans-serif';
        g.fillText(role.label, Math.max(x0, GUTTER) + 4, y - laneH / 2 + 14);
      }
      hits.push({ kind: 'role', x0, x1, y0: y - laneH / 2, y1: y + laneH / 2, item: role, z: 0 });
    }
  }

  function drawPartitions() {
    drawnBands = [];
    for (const band of M.partitions) {
      if (band.endUs < view.t0 || band.startUs > view.t1) continue;
      const x0 = x(band.startUs);
      const x1 = Math.max(x(band.endUs), x0 + 2);
      // A partition that cut nothing (a ring of two) is shown, but not shaded.
      g.fillStyle = band.links.length ? 'rgba(148,163,184,0.16)' : 'rgba(148,163,184,0.04)';
      g.fillRect(x0, AXIS, x1 - x0, height - AXIS - bottom);
      if (band.sides) {
        band.sides.forEach((side, si) => {
          for (const id of side) {
            const y = laneY.get(id);
            if (y === undefined) continue;
            g.fillStyle = SIDE_TINTS[si % SIDE_TINTS.length];
            g.fillRect(x0, y - laneH / 2, x1 - x0, laneH);
          }
        });
      }
      // The header rows of the groups it cut: tinted, with scissors where the cut starts.
      for (const row of groupRows) {
        if (!band.cutGroups?.includes(row.group.name)) continue;
        g.fillStyle = CUT_TINT;
        g.fillRect(x0, row.top + 1, x1 - x0, GROUP_GAP - 1);
        const sx = Math.max(x0 + 3, GUTTER + 64); // right of the group's "3 servers"
        if (sx + 14 < x1) {
          g.fillStyle = '#9a3412';
          g.font = '600 11px system-ui, sans-serif';
          g.fillText('✂', sx, row.top + 13);
        }
      }
      g.strokeStyle = '#94a3b8';
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(x0 + 0.5, AXIS);
      g.lineTo(x0 + 0.5, height - bottom);
      g.moveTo(x1 - 0.5, AXIS);
      g.lineTo(x1 - 0.5, height - bottom);
      g.stroke();
      g.setLineDash([]);
      const label = `✂ ${band.headline}: ${band.summary}`;
      g.font = '600 11px system-ui, sans-serif';
      g.fillStyle = '#475569';
      const left = Math.max(x0, GUTTER) + 4;
      const shown = fitText(label, left, AXIS + 15, Math.min(x1, width) - left - 4);
      drawnBands.push({ label, shown, cutGroups: band.cutGroups ?? [] });
      hits.push({ kind: 'partition', x0, x1, y0: AXIS, y1: TOP, item: band, z: 1 });
    }
  }

  /** Draws as much of `text` as fits in `room` pixels, with an ellipsis; returns what it drew. */
  function fitText(text, px, py, room) {
    if (room < 14) return '';
    if (g.measureText(text).width <= room) {
      g.fillText(text, px, py);
      return text;
    }
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (g.measureText(`${text.slice(0, mid)}…`).width <= room) lo = mid;
      else hi = mid - 1;
    }
    if (lo === 0) return '';
    g.fillText(`${text.slice(0, lo)}…`, px, py);
    return `${text.slice(0, lo)}…`;
  }

  function drawAxis() {
    g.fillStyle = '#f9fafb';
    g.fillRect(GUTTER, 0, width, AXIS);
    const per = (view.t1 - view.t0) / (width - GUTTER);
    const step = niceStep(per * 110);
    const decimals = Math.max(0, Math.min(3, 3 - Math.floor(Math.log10(step))));
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'center';
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const px = Math.round(x(t)) + 0.5;
      g.strokeStyle = '#eceef1';
      g.beginPath();
      g.moveTo(px, AXIS);
      g.lineTo(px, height - bottom);
      g.stroke();
      g.strokeStyle = '#9ca3af';
      g.beginPath();
      g.moveTo(px, AXIS - 5);
      g.lineTo(px, AXIS);
      g.stroke();
      g.fillStyle = '#4b5563';
      g.fillText(`${(t / 1000).toFixed(decimals)} ms`, px, AXIS - 9);
    }
    g.textAlign = 'left';
    g.strokeStyle = '#d1d5db';
    g.beginPath();
    g.moveTo(GUTTER, AXIS + 0.5);
    g.lineTo(width, AXIS + 0.5);
    g.stroke();
  }

  function niceStep(raw) {
    const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
    for (const k of [1, 2, 5, 10]) if (k * power >= raw) return k * power;
    return 10 * power;
  }

  function drawLaneStates() {
    for (const lane of visibleLanes()) {
      const y = laneY.get(lane.id);
      g.strokeStyle = '#9ca3af';
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(GUTTER, y);
      g.lineTo(width, y);
      g.stroke();
      g.lineWidth = 1;
    }
    spanBars(M.down, '#374151', 'rgba(55,65,81,0.85)', 'down');
    spanBars(M.paused, '#b45309', 'rgba(245,158,11,0.55)', 'paused');
  }

  function spanBars(spans, edge, fill, label) {
    for (const s of spans) {
      const y = laneY.get(s.node);
      if (y === undefined || s.endUs < view.t0 || s.startUs > view.t1) continue;
      const x0 = x(s.startUs);
      const x1 = Math.max(x(s.endUs), x0 + 2);
      g.fillStyle = fill;
      g.fillRect(x0, y - 4, x1 - x0, 8);
      hatch(x0, y - 4, x1 - x0, 8, edge);
      if (x1 - x0 > 40) {
        g.fillStyle = edge;
        g.font = '600 10px system-ui, sans-serif';
        g.fillText(s.open ? `${label} (until the end)` : label, Math.max(x0, GUTTER) + 4, y + 16);
      }
      hits.push({ kind: 'span', x0, x1, y0: y - 7, y1: y + 7, item: s, z: 2 });
    }
  }

  function hatch(x0, y0, w, h, colour) {
    g.save();
    g.beginPath();
    g.rect(x0, y0, w, h);
    g.clip();
    g.strokeStyle = colour;
    g.globalAlpha = 0.5;
    g.beginPath();
    for (let px = Math.max(x0, GUTTER - h) - h; px < Math.min(x0 + w, width); px += 6) {
      g.moveTo(px, y0 + h);
      g.lineTo(px + h, y0);
    }
    g.stroke();
    g.restore();
  }

  function drawOperations() {
    const colours = { ok: '#16a34a', fail: RED, unknown: '#9ca3af' };
    const rows = Math.max(1, Math.floor((laneH / 2 - 12) / 11));
    opsIn(view.t0, view.t1, (op, i) => {
      const y = laneY.get(op.client);
      if (y === undefined) return;
      const x0 = x(op.callUs);
      const x1 = Math.max(x(op.returnUs), x0 + 3);
      const top = y - laneH / 2 + 6 + Math.min(opRow[i], rows - 1) * 11;
      g.fillStyle = colours[op.status];
      g.globalAlpha = op.status === 'unknown' ? 0.35 : 0.28;
      g.fillRect(x0, top, x1 - x0, 9);
      g.globalAlpha = 1;
      g.fillStyle = colours[op.status];
      g.fillRect(x0, top, 2, 9);
      if (op.status !== 'unknown') g.fillRect(x1 - 2, top, 2, 9);
      else hatch(x0, top, x1 - x0, 9, '#6b7280');
      if (x1 - x0 > 60) {
        g.fillStyle = '#1f2937';
        g.font = '10px system-ui, sans-serif';
        const tail = op.status === 'unknown' ? ' → ? (unknown)' : '';
        fitText(
          `${opLabel(op)}${tail}`,
          Math.max(x0, GUTTER) + 5,
          top + 8,
          x1 - Math.max(x0, GUTTER) - 8,
        );
      }
      hits.push({ kind: 'op', x0, x1, y0: top - 2, y1: top + 11, item: op, z: 3 });
    });
  }

  function opLabel(op) {
    const input = op.input;
    if (input && typeof input === 'object' && 'f' in input) {
      const rest = Object.entries(input)
        .filter(([k]) => k !== 'f')
        .map(([, v]) => (typeof v === 'object' ? JSON.stringify(v) : String(v)));
      return `${input.f} ${rest.join(' ')}`.trim();
    }
    return `op ${op.id}`;
  }

  function arrowEnds(a) {
    const m = M.messages[a.message];
    const y0 = m.from < 0 ? undefined : laneY.get(m.from);
    const y1 = laneY.get(m.to);
    if (y1 === undefined || (m.from >= 0 && y0 === undefined)) return null;
    const x0 = x(a.fromUs);
    if (m.from < 0) return { x0, y0: y1 - laneH / 2 + 4, x1: x0, y1: y1 - 5 };
    if (a.kind === 'drop-at-send') {
      const dir = Math.sign(y1 - y0) || 1;
      return { x0, y0, x1: x0 + 14, y1: y0 + dir * Math.min(laneH * 0.4, 22) };
    }
    return { x0, y0, x1: x(a.toUs), y1 };
  }

  let densityCells = null; // the last density draw: { cols, counts, drops, lanes } for hover

  function drawArrows() {
    densityCells = null;
    const inView = [];
    arrowsIn(view.t0, view.t1, (a, i) => {
      const m = M.messages[a.message];
      if (hiddenTypes.has(m.type)) return;
      if (m.to >= 0 && !laneY.has(m.to)) return;
      if (m.from >= 0 && !laneY.has(m.from)) return;
      inView.push(i);
    });
    if (inView.length > DENSITY_ARROWS) {
      drawDensity(inView);
      return;
    }
    const visible = [];
    for (const i of inView) {
      const a = M.arrows[i];
      const ends = arrowEnds(a);
      if (ends) visible.push([a, i, ends]);
    }
    const dense = visible.length > LINES_MAX;
    const batches = new Map();
    for (const item of visible) {
      const [a] = item;
      const style = arrowStyle(a);
      if (!batches.has(style.key)) batches.set(style.key, { style, items: [] });
      batches.get(style.key).items.push(item);
      countArrow(a, item[1]);
    }
    g.lineCap = 'round';
    for (const { style, items } of batches.values()) {
      strokeBatch(style, items, dense, visible.length);
    }
    g.globalAlpha = 1;
    g.setLineDash([]);
    if (!dense) for (const item of visible) decorateArrow(item);
  }

  /**
   * Each lane's traffic per pixel column: a send counts on the sender's lane at its time, a
   * delivery or drop on the receiver's at its own, so busy stretches and quiet ones (a node
   * cut off, down, paused) read at a glance; drops get a red row of their own.
   */
  function drawDensity(inView) {
    const cols = Math.max(1, Math.floor(width - GUTTER));
    const lanes = M.lanes.length;
    const counts = new Int32Array(lanes * cols);
    const drops = new Int32Array(lanes * cols);
    const col = (t) => Math.floor(x(t) - GUTTER);
    const add = (cells, lane, t) => {
      const c = col(t);
      if (lane >= 0 && lane < lanes && c >= 0 && c < cols) cells[lane * cols + c]++;
    };
    for (const i of inView) {
      const a = M.arrows[i];
      const m = M.messages[a.message];
      countArrow(a, i);
      if (!a.copy) add(counts, m.from, a.fromUs);
      if (a.kind === 'deliver') add(counts, m.to, a.toUs);
      else if (a.kind === 'drop' || a.kind === 'drop-at-send') add(drops, m.to, a.toUs);
    }
    let max = 1;
    for (const n of counts) if (n > max) max = n;
    const band = Math.min(laneH - 10, 26);
    g.fillStyle = '#1d4ed8';
    for (let lane = 0; lane < lanes; lane++) {
      const y = laneY.get(lane);
      if (y === undefined) continue;
      for (let c = 0; c < cols; c++) {
        const n = counts[lane * cols + c];
        if (n === 0) continue;
        g.globalAlpha = 0.12 + 0.78 * Math.sqrt(n / max);
        g.fillRect(GUTTER + c, y - band / 2, 1, band);
      }
      g.fillStyle = RED;
      for (let c = 0; c < cols; c++) {
        if (drops[lane * cols + c] === 0) continue;
        g.globalAlpha = 0.9;
        g.fillRect(GUTTER + c - 1, y + band / 2 + 1, 3, 4);
      }
      g.fillStyle = '#1d4ed8';
    }
    g.globalAlpha = 1;
    densityCells = { cols, counts, drops, lanes, max };
    drawn.density = true;
    for (let lane = 0; lane < lanes; lane++) {
      const y = laneY.get(lane);
      if (y === undefined) continue;
      hits.push({
        kind: 'density',
        x0: GUTTER,
        x1: width,
        y0: y - band / 2,
        y1: y + band / 2 + 5,
        item: { lane },
        z: -1,
      });
    }
  }

  /** What a density cell under the mouse holds, for its tooltip. */
  function densityTip(lane, px) {
    const c = Math.floor(px - GUTTER);
    const cells = densityCells;
    if (!cells || c < 0 || c >= cells.cols) return '';
    const n = cells.counts[lane * cells.cols + c];
    const d = cells.drops[lane * cells.cols + c];
    return tip(`${laneName(lane)}: ${n} message${n === 1 ? '' : 's'} sent or received`, [
      ['time', `${ms(tAt(px))} – ${ms(tAt(px + 1))}`],
      ['dropped', String(d)],
      ['busiest', `${cells.max} in one column`],
      ['detail', 'zoom in (wheel, +) for each arrow and its message'],
    ]);
  }

  function arrowStyle(a) {
    const colour = typeColour.get(M.messages[a.message].type) || '#475569';
    if (a.kind === 'drop' || a.kind === 'drop-at-send') {
      return { key: 'drop', colour: RED, dash: [5, 3], width: 1.3 };
    }
    if (a.kind === 'in-flight') return { key: 'flight', colour: '#b6bcc6', dash: [2, 4], width: 1 };
    if (a.copy) return { key: `copy${colour}`, colour, dash: [1, 3], width: 1.8 };
    return { key: colour, colour, dash: [], width: 1.4 };
  }

  function strokeBatch(style, items, dense, count) {
    g.strokeStyle = style.colour;
    g.fillStyle = style.colour;
    g.lineWidth = style.width;
    g.setLineDash(dense ? [] : style.dash);
    g.globalAlpha = dense ? Math.max(0.08, Math.min(0.5, 1500 / count)) : 0.9;
    g.beginPath();
    for (const [, , e] of items) {
      g.moveTo(e.x0, e.y0);
      g.lineTo(e.x1, e.y1);
    }
    g.stroke();
    g.lineWidth = 1;
  }

  function countArrow(a, i) {
    drawn.arrows.push(i);
    if (a.kind === 'deliver') drawn.deliver++;
    else if (a.kind === 'in-flight') drawn.inFlight++;
    else drawn.drop++;
    if (a.copy) drawn.copies++;
  }

  function decorateArrow([a, i, e]) {
    const m = M.messages[a.message];
    const colour = a.kind.startsWith('drop') ? RED : typeColour.get(m.type) || '#475569';
    if (a.kind === 'deliver') arrowHead(e, colour);
    else if (a.kind === 'in-flight') ring(e.x1, e.y1, '#9ca3af');
    else cross(e.x1, e.y1, RED);
    g.fillStyle = colour;
    g.beginPath();
    g.arc(e.x0, e.y0, 2, 0, Math.PI * 2);
    g.fill();
    if (a.copy) badge(e, '2×', colour);
    if (current >= 0 && S.arrow[current] === i) {
      g.strokeStyle = '#0ea5e9';
      g.lineWidth = 4;
      g.globalAlpha = 0.45;
      g.beginPath();
      g.moveTo(e.x0, e.y0);
      g.lineTo(e.x1, e.y1);
      g.stroke();
      g.globalAlpha = 1;
      g.lineWidth = 1;
    }
    hits.push({ kind: 'arrow', seg: e, item: a, index: i, z: 5 });
  }

  function arrowHead(e, colour) {
    const angle = Math.atan2(e.y1 - e.y0, e.x1 - e.x0);
    const size = 7;
    g.fillStyle = colour;
    g.beginPath();
    g.moveTo(e.x1, e.y1);
    g.lineTo(e.x1 - size * Math.cos(angle - 0.4), e.y1 - size * Math.sin(angle - 0.4));
    g.lineTo(e.x1 - size * Math.cos(angle + 0.4), e.y1 - size * Math.sin(angle + 0.4));
    g.closePath();
    g.fill();
  }

  function ring(px, py, colour) {
    g.strokeStyle = colour;
    g.beginPath();
    g.arc(px, py, 3, 0, Math.PI * 2);
    g.stroke();
  }

  function cross(px, py, colour) {
    g.strokeStyle = colour;
    g.lineWidth = 2.2;
    g.beginPath();
    g.moveTo(px - 4.5, py - 4.5);
    g.lineTo(px + 4.5, py + 4.5);
    g.moveTo(px + 4.5, py - 4.5);
    g.lineTo(px - 4.5, py + 4.5);
    g.stroke();
    g.lineWidth = 1;
  }

  function badge(e, text, colour) {
    const px = e.x0 + (e.x1 - e.x0) * 0.6;
    const py = e.y0 + (e.y1 - e.y0) * 0.6;
    g.font = '700 9px system-ui, sans-serif';
    const w = g.measureText(text).width + 6;
    g.fillStyle = '#fff';
    g.fillRect(px - w / 2, py - 6, w, 12);
    g.strokeStyle = colour;
    g.strokeRect(px - w / 2 + 0.5, py - 5.5, w - 1, 11);
    g.fillStyle = colour;
    g.fillText(text, px - w / 2 + 3, py + 3);
  }

  const MARK_STYLE = {
    crash: { colour: RED, glyph: 'cross', text: true, rank: 0 },
    restart: { colour: '#16a34a', glyph: 'play', text: true, rank: 1 },
    fsync: { colour: '#64748b', glyph: 'tick', text: false, rank: 9 },
    'fsync-failed': { colour: RED, glyph: 'disk', text: true, rank: 2 },
    disk: { colour: '#7c3aed', glyph: 'disk', text: true, rank: 3 },
    observe: { colour: '#94a3b8', glyph: 'dot', text: false, rank: 9 },
    timer: { colour: '#cbd5e1', glyph: 'ring', text: false, rank: 9 },
    fault: { colour: '#ea580c', glyph: 'bolt', text: true, rank: 4 },
  };

  function drawMarks() {
    const many = (view.t1 - view.t0) / span > 0.5 && M.marks.length > 3000;
    const labelled = [];
    marksIn(view.t0, view.t1, (mark, index) => {
      const y = laneY.get(mark.node);
      if (y === undefined) return;
      const style = MARK_STYLE[mark.kind];
      if (many && !style.text) return;
      const px = x(mark.atUs);
      glyph(style.glyph, px, y, style.colour);
      if (style.text) labelled.push([mark, px, y, style]);
      hits.push({
        kind: 'mark',
        x0: px - 5,
        x1: px + 5,
        y0: y - 9,
        y1: y + 9,
        item: mark,
        index,
        z: 4,
      });
    });
    // Crashes and restarts get their labels first; past a crowd, glyphs speak alone.
    if (labelled.length > 80) return;
    labelled.sort((a, b) => a[3].rank - b[3].rank || a[1] - b[1]);
    const rows = new Map(); // lane → labelled x-ranges in each of two rows
    for (const [mark, px, y, style] of labelled) label(rows, mark, px, y, style.colour);
  }

  /** Labels go in the first of two rows above the lane with room; else only on hover. */
  function label(rows, mark, px, y, colour) {
    if (!rows.has(mark.node)) rows.set(mark.node, [[], []]);
    const taken = rows.get(mark.node);
    const text = mark.label.length > 30 ? `${mark.label.slice(0, 29)}…` : mark.label;
    g.font = '600 10px system-ui, sans-serif';
    const w = g.measureText(text).width;
    const free = (ranges) => ranges.every(([a, b]) => px + 6 + w + 4 < a || px + 2 > b);
    const row = taken.findIndex(free);
    if (row < 0) return;
    taken[row].push([px + 2, px + 6 + w]);
    g.fillStyle = 'rgba(255,255,255,0.8)';
    g.fillRect(px + 5, y - 18 - row * 12, w + 2, 11);
    g.fillStyle = colour;
    g.fillText(text, px + 6, y - 9 - row * 12);
  }

  function glyph(kind, px, py, colour) {
    g.fillStyle = colour;
    g.strokeStyle = colour;
    g.beginPath();
    switch (kind) {
      case 'cross':
        g.lineWidth = 3;
        g.moveTo(px - 6, py - 6);
        g.lineTo(px + 6, py + 6);
        g.moveTo(px + 6, py - 6);
        g.lineTo(px - 6, py + 6);
        g.stroke();
        g.lineWidth = 1;
        return;
      case 'play':
        g.moveTo(px - 4, py - 6);
        g.lineTo(px + 6, py);
        g.lineTo(px - 4, py + 6);
        g.closePath();
        g.fill();
        return;
      case 'tick':
        g.fillRect(px - 0.75, py + 3, 1.5, 7);
        return;
      case 'disk':
        g.rect(px - 4, py + 3, 8, 8);
        g.fill();
        return;
      case 'dot':
        g.moveTo(px, py - 8);
        g.lineTo(px + 3, py - 5);
        g.lineTo(px, py - 2);
        g.lineTo(px - 3, py - 5);
        g.closePath();
        g.fill();
        return;
      case 'ring':
        g.arc(px, py, 2.5, 0, Math.PI * 2);
        g.stroke();
        return;
      case 'bolt':
        g.moveTo(px, py - 7);
        g.lineTo(px + 5, py + 2);
        g.lineTo(px - 5, py + 2);
        g.closePath();
        g.fill();
        return;
    }
  }

  function drawStepCursor() {
    if (current < 0) return;
    const px = x(S.atUs[current]);
    g.strokeStyle = '#0ea5e9';
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(px, AXIS);
    g.lineTo(px, height - bottom);
    g.stroke();
    const y = laneY.get(S.node[current]);
    if (y !== undefined) {
      g.beginPath();
      g.arc(px, y, 9, 0, Math.PI * 2);
      g.stroke();
    }
    g.lineWidth = 1;
  }

  function violationPoint() {
    const v = M.violation;
    if (!v) return null;
    const y = v.node !== null && laneY.has(v.node) ? laneY.get(v.node) : TOP + 10;
    return { x: x(v.atUs), y };
  }

  function drawViolation() {
    const v = M.violation;
    const p = violationPoint();
    if (!p || p.x < GUTTER - 10 || p.x > width + 10) return;
    g.strokeStyle = RED;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(p.x, AXIS);
    g.lineTo(p.x, height - bottom + 6);
    g.stroke();
    g.beginPath();
    g.arc(p.x, p.y, 8, 0, Math.PI * 2);
    g.fillStyle = '#fff';
    g.fill();
    g.stroke();
    cross(p.x, p.y, RED);
    g.lineWidth = 1;
    callout(p, `✖ ${v.invariant} at ${ms(v.atUs)}`);
    hits.push({
      kind: 'violation',
      x0: p.x - 9,
      x1: p.x + 9,
      y0: p.y - 9,
      y1: p.y + 9,
      item: v,
      z: 6,
    });
  }

  function calloutLines() {
    g.font = '12px system-ui, sans-serif';
    return wrap(M.violation.message, CALLOUT_W - 20);
  }

  /** The violation's sentence, in the strip under the lanes, hung from the red line. */
  function callout(p, title) {
    const lines = calloutLines();
    const h = 22 + lines.length * 15;
    const top = height - bottom + 6;
    const right = p.x + CALLOUT_W + 4 < width;
    const left = right
      ? Math.max(p.x - 12, GUTTER + 4)
      : Math.max(p.x - CALLOUT_W + 12, GUTTER + 4);
    g.fillStyle = '#fef2f2';
    g.strokeStyle = RED;
    g.lineWidth = 1;
    g.fillRect(left, top, CALLOUT_W, h);
    g.strokeRect(left + 0.5, top + 0.5, CALLOUT_W - 1, h - 1);
    g.fillStyle = RED;
    g.font = '700 12px system-ui, sans-serif';
    g.fillText(title, left + 10, top + 15);
    g.fillStyle = '#7f1d1d';
    g.font = '12px system-ui, sans-serif';
    lines.forEach((line, i) => {
      g.fillText(line, left + 10, top + 31 + i * 15);
    });
  }

  function wrap(text, room) {
    const lines = [];
    let line = '';
    for (const word of text.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (g.measureText(next).width > room && line) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    if (line) lines.push(line);
    return lines;
  }

  function drawGutter() {
    g.fillStyle = '#f9fafb';
    g.fillRect(0, 0, GUTTER, height);
    g.strokeStyle = '#d1d5db';
    g.beginPath();
    g.moveTo(GUTTER + 0.5, 0);
    g.lineTo(GUTTER + 0.5, height);
    g.stroke();
    drawnGroups = [];
    for (const row of groupRows) {
      const { group, top, bottom: end } = row;
      const colour = group.client ? '#0f766e' : '#374151';
      // A bracket down the left edge holds the group's lanes together under its name.
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(9, top + GROUP_GAP - 1);
      g.lineTo(5, top + GROUP_GAP - 1);
      g.lineTo(5, end - 3);
      g.lineTo(9, end - 3);
      g.stroke();
      g.lineWidth = 1;
      g.strokeStyle = '#d1d5db';
      g.beginPath();
      g.moveTo(0, top + 0.5);
      g.lineTo(GUTTER, top + 0.5);
      g.stroke();
      g.fillStyle = colour;
      g.font = '700 11px system-ui, sans-serif';
      const count = group.lanes.length;
      const kind = group.client ? 'client' : 'server';
      const shown = group.name ? fitText(group.name, 5, top + 13, GUTTER - 10) : '';
      g.fillStyle = '#6b7280';
      g.font = '10px system-ui, sans-serif';
      g.fillText(`${count} ${kind}${count === 1 ? '' : 's'}`, GUTTER + 6, top + 13);
      drawnGroups.push({
        name: group.name,
        label: shown,
        lanes: row.group.lanes.filter((id) => laneY.has(id)).map((id) => M.lanes[id].name),
        top,
        bottom: end,
      });
      hits.push({
        kind: 'group',
        x0: 0,
        x1: width,
        y0: top,
        y1: top + GROUP_GAP,
        item: { ...group, count, kind },
        z: 1,
      });
    }
    for (const lane of visibleLanes()) {
      const y = laneY.get(lane.id);
      g.fillStyle = lane.kind === 'client' ? '#0f766e' : '#1f2937';
      g.font = '700 14px system-ui, sans-serif';
      g.fillText(lane.name, 12, y + 1);
      g.fillStyle = '#9ca3af';
      g.font = '10px system-ui, sans-serif';
      g.fillText(lane.kind, 12, y + 14);
    }
  }

  // --- overview strip ------------------------------------------------------------------------
  let density = null;

  function drawOverview() {
    const w = width - GUTTER - 12;
    if (!density || density.length !== Math.max(1, Math.floor(w))) density = histogram(w);
    og.clearRect(0, 0, width, 26);
    og.fillStyle = '#f9fafb';
    og.fillRect(0, 0, width, 26);
    const max = Math.max(...density, 1);
    og.fillStyle = '#94a3b8';
    density.forEach((n, i) => {
      const h = n ? Math.max(1, (Math.sqrt(n) / Math.sqrt(max)) * 20) : 0;
      og.fillRect(GUTTER + i, 24 - h, 1, h);
    });
    const ox = (t) => GUTTER + ((t - M.startUs) / span) * w;
    if (M.violation) {
      og.fillStyle = RED;
      og.fillRect(ox(M.violation.atUs) - 1, 0, 2, 26);
    }
    og.strokeStyle = '#2563eb';
    og.fillStyle = 'rgba(37,99,235,0.12)';
    const vx0 = Math.max(GUTTER, ox(view.t0));
    const vx1 = Math.min(width - 12, ox(view.t1));
    og.fillRect(vx0, 1, Math.max(vx1 - vx0, 2), 24);
    og.strokeRect(vx0 + 0.5, 1.5, Math.max(vx1 - vx0, 2) - 1, 23);
    og.fillStyle = '#6b7280';
    og.font = '10px system-ui, sans-serif';
    og.fillText('overview', 10, 16);
  }

  function histogram(w) {
    const bins = new Array(Math.max(1, Math.floor(w))).fill(0);
    for (const t of stepTimes) {
      const i = Math.min(bins.length - 1, Math.floor(((t - M.startUs) / span) * bins.length));
      if (i >= 0) bins[i]++;
    }
    return bins;
  }

  // --- view changes --------------------------------------------------------------------------
  function setView(t0, t1) {
    const minWidth = 5;
    const maxWidth = span * 1.5;
    let w = Math.min(Math.max(t1 - t0, minWidth), maxWidth);
    let start = (t0 + t1) / 2 - w / 2;
    start = Math.max(M.startUs - span * 0.25, Math.min(start, M.endUs + span * 0.25 - w));
    if (w > maxWidth) w = maxWidth;
    view.t0 = start;
    view.t1 = start + w;
    requestDraw();
  }

  function zoom(factor, px) {
    const anchor = tAt(px ?? GUTTER + (width - GUTTER) / 2);
    setView(anchor - (anchor - view.t0) * factor, anchor + (view.t1 - anchor) * factor);
  }

  function pan(fraction) {
    const d = (view.t1 - view.t0) * fraction;
    setView(view.t0 + d, view.t1 + d);
  }

  function fitAll() {
    setView(M.startUs - span * 0.01, M.endUs + span * 0.03);
  }

  function centreOn(t) {
    if (t >= view.t0 + (view.t1 - view.t0) * 0.05 && t <= view.t1 - (view.t1 - view.t0) * 0.05) {
      return;
    }
    const w = view.t1 - view.t0;
    setView(t - w / 2, t + w / 2);
  }

  function jumpToViolation(select = true) {
    const v = M.violation;
    if (!v) return false;
    let context = v.step > 0 ? S.atUs[Math.max(0, v.step - 40)] : v.atUs - span * 0.1;
    // The story usually starts at the culprit's last crash: show it when it is not too far.
    const crash = lastCrashBefore(v.node, v.atUs);
    if (crash !== null && v.atUs - crash < span * 0.5) context = Math.min(context, crash);
    const before = Math.max((v.atUs - context) * 1.25, span * 0.002, 200);
    setView(v.atUs - before, v.atUs + before * 0.6);
    if (select && v.step >= 0) setStep(v.step, false);
    return true;
  }

  function lastCrashBefore(node, atUs) {
    let found = null;
    for (const mark of M.marks) {
      if (mark.kind === 'crash' && mark.node === node && mark.atUs < atUs) found = mark.atUs;
    }
    return found;
  }

  function stepVisible(index) {
    const node = S.node[index];
    return node < 0 || !hiddenLanes.has(node);
  }

  function setStep(index, follow = true) {
    if (index < 0 || index >= S.count) return;
    current = index;
    const text = `step ${index + 1}/${S.count} · ${ms(S.atUs[index])} · ${S.text(index)}`;
    $('step').textContent = text;
    if (follow) centreOn(S.atUs[index]);
    requestDraw();
  }

  function step(delta) {
    let i = current < 0 ? (delta > 0 ? firstStepInView() - 1 : firstStepInView()) : current;
    do i += delta;
    while (i >= 0 && i < S.count && !stepVisible(i));
    setStep(i);
  }

  function firstStepInView() {
    return Math.min(lowerBound(stepTimes, view.t0), S.count);
  }

  function updateRange() {
    $('range').textContent = `${ms(Math.max(view.t0, 0))} – ${ms(view.t1)}`;
  }

  // --- hover ---------------------------------------------------------------------------------
  function hitAt(px, py) {
    let best = null;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const h of hits) {
      let d;
      if (h.kind === 'arrow') d = segmentDistance(px, py, h.seg);
      else if (px >= h.x0 - 2 && px <= h.x1 + 2 && py >= h.y0 && py <= h.y1) d = 0;
      else continue;
      if (d > 6) continue;
      const score = d - h.z * 2;
      if (score < bestScore) {
        best = h;
        bestScore = score;
      }
    }
    return best;
  }

  function segmentDistance(px, py, e) {
    const dx = e.x1 - e.x0;
    const dy = e.y1 - e.y0;
    const len = dx * dx + dy * dy;
    const k = len ? Math.max(0, Math.min(1, ((px - e.x0) * dx + (py - e.y0) * dy) / len)) : 0;
    return Math.hypot(px - (e.x0 + k * dx), py - (e.y0 + k * dy));
  }

  function esc(text) {
    return String(text).replace(
      /[&<>"]/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
    );
  }

  function json(value) {
    return value === null || value === undefined
      ? '—'
      : `<code>${esc(JSON.stringify(value))}</code>`;
  }

  /** A value the page data keeps as its JSON text (message bodies, mark details). */
  function jsonText(text) {
    return text === null || text === undefined ? '—' : `<code>${esc(text)}</code>`;
  }

  function describeHit(h, px) {
    const item = h.item;
    switch (h.kind) {
      case 'density':
        return densityTip(item.lane, px);
      case 'arrow':
        return arrowTip(item);
      case 'op':
        return tip(`client operation ${item.id} on ${laneName(item.client)}`, [
          ['invoked', ms(item.callUs)],
          ['returned', item.status === 'unknown' ? 'never (outcome unknown)' : ms(item.returnUs)],
          ['status', item.status],
          ['input', json(item.input)],
          ['output', json(item.output)],
        ]);
      case 'mark':
        return tip(`${item.label} on ${laneName(item.node)}`, [
          ['at', ms(item.atUs)],
          ['detail', jsonText(markDetail(h.index))],
        ]);
      case 'span':
        return tip(`${laneName(item.node)} ${item.label}`, [
          ['from', ms(item.startUs)],
          ['until', item.open ? 'the end of the run' : ms(item.endUs)],
        ]);
      case 'role':
        return tip(`${laneName(item.node)}: ${item.label}`, [
          ['from', ms(item.startUs)],
          ['until', item.open ? 'the end of the run' : ms(item.endUs)],
        ]);
      case 'partition':
        return tip(`partition: ${item.headline}`, [
          ['from', ms(item.startUs)],
          ['until', ms(item.endUs)],
          ['groups', item.cutGroups ? esc(item.cutGroups.join(' | ')) : '—'],
          ['cut', esc(item.summary)],
          ['links', esc(item.links.map(([a, b]) => `${laneName(a)}→${laneName(b)}`).join(' '))],
        ]);
      case 'group': {
        const names = item.lanes.map(laneName);
        const span = names.length > 1 ? `${names[0]}–${names[names.length - 1]}` : names[0];
        return tip(`group ${item.name}`, [
          ['nodes', `${item.count} ${item.kind}${item.count === 1 ? '' : 's'}: ${esc(span)}`],
          ['cut now', esc(cutGroupsAt(item.name))],
        ]);
      }
      case 'violation':
        return tip(`violation: ${item.invariant}`, [
          ['at', `${ms(item.atUs)} (event ${item.eventIndex})`],
          ['node', item.node === null ? '—' : laneName(item.node)],
          ['what', esc(item.message)],
        ]);
    }
    return '';
  }

  /** The partitions in view that cut this group, by headline. */
  function cutGroupsAt(name) {
    const cuts = M.partitions.filter(
      (band) => band.cutGroups?.includes(name) && band.endUs >= view.t0 && band.startUs <= view.t1,
    );
    return cuts.length ? cuts.map((band) => band.headline).join('; ') : 'by no partition in view';
  }

  function arrowTip(a) {
    const m = M.messages[a.message];
    const rows = [['sent', m.from < 0 ? `${ms(m.sendUs)} (injected by the script)` : ms(m.sendUs)]];
    if (a.kind === 'deliver') rows.push(['delivered', `${ms(a.toUs)} (+${ms(a.toUs - a.fromUs)})`]);
    else if (a.kind === 'in-flight') rows.push(['delivered', 'not by the end of the run']);
    else rows.push(['dropped', `${ms(a.toUs)} (${esc(a.reason)})`]);
    if (m.duplicated) rows.push(['duplicated', a.copy ? 'yes: this is the second copy' : 'yes']);
    rows.push(['size', `${m.sizeBytes} bytes`]);
    rows.push(['body', jsonText(messageBody(a.message))]);
    return tip(`${esc(m.type)} #${m.id} ${laneName(m.from)} → ${laneName(m.to)}`, rows);
  }

  function tip(title, rows) {
    const body = rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
    return `<div class="tip-title">${esc(title)}</div><table>${body}</table>`;
  }

  function hover(px, py) {
    const h = hitAt(px, py);
    hovered = h;
    if (!h) {
      tooltip.hidden = true;
      return null;
    }
    tooltip.innerHTML = describeHit(h, px);
    tooltip.hidden = false;
    const left = px + 16 + tooltip.offsetWidth > width ? px - 16 - tooltip.offsetWidth : px + 16;
    tooltip.style.left = `${Math.max(4, left)}px`;
    tooltip.style.top = `${Math.max(4, py + 14)}px`;
    return tooltip.textContent;
  }

  // --- input ---------------------------------------------------------------------------------
  let drag = null;

  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    const rect = canvas.getBoundingClientRect();
    if (Math.abs(event.deltaX) > Math.abs(event.deltaY) || event.shiftKey) {
      pan((event.deltaX || event.deltaY) / (width - GUTTER));
      return;
    }
    zoom(Math.exp(event.deltaY * 0.0015), event.clientX - rect.left);
  });

  canvas.addEventListener('mousedown', (event) => {
    drag = { x: event.clientX, t0: view.t0, t1: view.t1 };
    canvas.classList.add('dragging');
  });

  window.addEventListener('mouseup', () => {
    drag = null;
    canvas.classList.remove('dragging');
  });

  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    if (drag) {
      const dt = ((event.clientX - drag.x) / (width - GUTTER - 12)) * (drag.t1 - drag.t0);
      setView(drag.t0 - dt, drag.t1 - dt);
      tooltip.hidden = true;
      return;
    }
    hover(event.clientX - rect.left, event.clientY - rect.top);
  });

  canvas.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
  });

  overview.addEventListener('mousedown', (event) => {
    const rect = overview.getBoundingClientRect();
    const t = M.startUs + ((event.clientX - rect.left - GUTTER) / (width - GUTTER - 12)) * span;
    const w = view.t1 - view.t0;
    setView(t - w / 2, t + w / 2);
  });

  const KEYS = {
    ArrowLeft: () => pan(-0.15),
    ArrowRight: () => pan(0.15),
    '+': () => zoom(0.7),
    '=': () => zoom(0.7),
    '-': () => zoom(1 / 0.7),
    0: fitAll,
    n: () => step(1),
    '.': () => step(1),
    p: () => step(-1),
    ',': () => step(-1),
    v: jumpToViolation,
  };

  window.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement || event.metaKey || event.ctrlKey) return;
    const action = KEYS[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  const BUTTONS = {
    'zoom-in': () => zoom(0.6),
    'zoom-out': () => zoom(1 / 0.6),
    fit: fitAll,
    prev: () => step(-1),
    next: () => step(1),
    'jump-violation': jumpToViolation,
  };
  for (const [id, action] of Object.entries(BUTTONS)) {
    $(id)?.addEventListener('click', () => action());
  }
  $('violation-banner')?.addEventListener('click', jumpToViolation);

  // --- filters -------------------------------------------------------------------------------
  function chip(container, text, colour, onChange) {
    const label = document.createElement('label');
    label.className = 'chip';
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.checked = true;
    input.addEventListener('change', () => onChange(input.checked));
    label.append(input);
    if (colour) {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour;
      label.append(swatch);
    }
    label.append(document.createTextNode(text));
    label.dataset.value = text;
    container.append(label);
  }

  for (const group of GROUPS) {
    if (GROUPS.length > 1 && group.name) {
      const name = document.createElement('span');
      name.className = 'chip-group';
      name.textContent = group.name;
      $('node-filter').append(name);
    }
    for (const id of group.lanes) {
      const lane = M.lanes[id];
      chip($('node-filter'), lane.name, null, (on) => {
        if (on) hiddenLanes.delete(lane.id);
        else hiddenLanes.add(lane.id);
        layout();
        draw();
      });
    }
  }
  for (const type of types) {
    chip($('type-filter'), type, typeColour.get(type), (on) => {
      if (on) hiddenTypes.delete(type);
      else hiddenTypes.add(type);
      draw();
    });
  }

  // --- start and test API --------------------------------------------------------------------
  window.addEventListener('resize', () => {
    density = null;
    layout();
    draw();
  });
  performance.mark('faultline:indexed');
  updateRange(); // the toolbar's height depends on it, and the lanes share what is left
  layout();
  // A run with a violation opens on it (the step panel stays free until the user steps).
  if (M.violation && M.openAt !== 'whole') jumpToViolation(false);
  draw();

  /** Page coordinates of a canvas point, for tests that move the real mouse. */
  function toPage(px, py) {
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + px + window.scrollX, y: rect.top + py + window.scrollY };
  }

  window.faultline = {
    model: {
      lanes: M.lanes.length,
      messages: M.messages.length,
      arrows: M.arrows.length,
      steps: S.count,
      events: M.events,
    },
    lanes: () => visibleLanes().map((l) => l.name),
    /** The group headers the last draw labelled: name, the text drawn, lanes, rows. */
    groups: () => drawnGroups.map((it) => ({ ...it, lanes: it.lanes.slice() })),
    /** The partition labels of the last draw: the full label and what fitted. */
    partitionLabels: () => drawnBands.map((it) => ({ ...it })),
    arrowsDrawn: () => ({
      total: drawn.arrows.length,
      deliver: drawn.deliver,
      drop: drawn.drop,
      inFlight: drawn.inFlight,
      copies: drawn.copies,
      density: drawn.density,
    }),
    visibleRange: () => ({ startUs: view.t0, endUs: view.t1 }),
    /** Midpoint of a drawn arrow in page coordinates, or null when not drawn. */
    arrowPoint: (index) => {
      const h = hits.find((it) => it.kind === 'arrow' && it.index === index);
      if (!h) return null;
      return toPage((h.seg.x0 + h.seg.x1) / 2, (h.seg.y0 + h.seg.y1) / 2);
    },
    drawnArrowIndexes: () => drawn.arrows.slice(),
    violationMarker: () => {
      const p = violationPoint();
      if (!p) return null;
      const visible = p.x >= GUTTER && p.x <= width && laneY.size > 0;
      return { ...toPage(p.x, p.y), visible, atUs: M.violation.atUs };
    },
    hoverAt: (px, py) => hover(px, py),
    tooltip: () => (tooltip.hidden ? null : tooltip.textContent),
    zoom: (factor) => {
      zoom(factor);
      draw();
    },
    pan: (fraction) => {
      pan(fraction);
      draw();
    },
    fit: () => {
      fitAll();
      draw();
    },
    jumpToViolation: () => {
      const ok = jumpToViolation();
      draw();
      return ok;
    },
    step: (delta) => {
      step(delta);
      draw();
      return current;
    },
    currentStep: () =>
      current < 0
        ? null
        : {
            index: current,
            atUs: S.atUs[current],
            node: S.node[current],
            kind: S.kind(current),
            text: S.text(current),
            arrow: S.arrow[current] < 0 ? undefined : S.arrow[current],
          },
    hovered: () => hovered?.kind ?? null,
    lastDrawMs: () => lastDrawMs,
    redraw: () => draw(),
  };
  // The first frame is drawn: what the browser test times from navigation start.
  performance.mark('faultline:first-frame');
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = 'true';
})().catch((error) => {
  const step = document.getElementById('step');
  if (step) step.textContent = `this page could not read its data: ${error.message}`;
  document.body.dataset.ready = 'error';
  throw error;
});

/** Gunzips and decodes the page's embedded data (base64 in #faultline-data). */
async function readPageData() {
  const text = document.getElementById('faultline-data').textContent.trim();
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  performance.mark('faultline:base64');
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const gunzipped = new Uint8Array(await new Response(stream).arrayBuffer());
  performance.mark('faultline:gunzip');
  return decodeFaultlineData(gunzipped);
}
