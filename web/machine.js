// machine-health dashboard: the machine page (#/machine/ID). Charts with
// uPlot (web/package.json, embedded as /vendor/uPlot.iife.min.js): anomaly
// score with threshold and alarm spans, chosen features, the alarm list with
// acknowledgement, the baseline's model card, and the amplitude and envelope
// spectra of a stored snapshot with shaft harmonics and bearing defect
// frequencies marked. API: docs/api.md.
'use strict';

window.MachinePage = (function () {
  const RANGES = [['15m', 15 * 60e3], ['1h', 3600e3], ['24h', 24 * 3600e3],
                  ['7d', 7 * 24 * 3600e3], ['30d', 30 * 24 * 3600e3]];
  const REFRESH_MS = 5000;
  const COLORS = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2'];
  // Bearing defect frequencies (registry's frequencies_hz) and their colours.
  const DEFECTS = [['ftf', 'FTF', '#7c3aed'], ['bpfo', 'BPFO', '#dc2626'],
                   ['bpfi', 'BPFI', '#ea580c'], ['bsf', 'BSF', '#0891b2']];

  let page = null;  // state of the open page, null when closed

  const $ = (id) => document.getElementById(id);
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    return Number(v).toFixed(digits === undefined ? 3 : digits);
  }
  function iso(ms) { return new Date(ms).toISOString().replace('T', ' ').replace('.000Z', 'Z'); }
  async function getJson(url, opt) {
    const res = await fetch(url, Object.assign({ cache: 'no-store' }, opt || {}));
    const body = await res.json();
    if (!res.ok) throw new Error(body && body.error ? body.error : 'HTTP ' + res.status);
    return body;
  }
  const q = encodeURIComponent;

  // The bearing-frequency marks of a machine from its registry config:
  // [{label, hz, color}]; shaft harmonics 1x..3x when the shaft speed is
  // known, BPFO/BPFI/BSF/FTF when the registry resolved them (fixed rpm and
  // a bearing; computed by features::ComputeBearingFrequencies on the server).
  function marksOf(machine) {
    const reg = machine && machine.registry;
    const out = [];
    if (!reg) return out;
    const fr = reg.shaft && reg.shaft.shaft_hz;
    if (fr > 0) for (let k = 1; k <= 3; k++) out.push({ label: k + '×', hz: k * fr, color: '#64748b' });
    const f = reg.bearing && reg.bearing.frequencies_hz;
    if (f) for (const [key, label, color] of DEFECTS) {
      if (f[key] > 0) out.push({ label, hz: f[key], color });
    }
    return out;
  }

  // ---- uPlot helpers --------------------------------------------------------

  function utcDate(ts) { return uPlot.tzDate(new Date(ts), 'Etc/UTC'); }

  function widthOf(host) { return Math.max(300, Math.floor(host.clientWidth || 600)); }

  // Plugin-less hooks: draws vertical bands (alarm spans) and a horizontal
  // threshold line on the score chart.
  function scoreHooks() {
    return {
      drawClear: [(u) => {
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.fillStyle = 'rgba(220, 38, 38, 0.13)';
        for (const a of page.alarms) {
          const x0 = u.valToPos(Math.max(a.start_ms, u.scales.x.min), 'x', true);
          const x1 = u.valToPos(Math.min(a.end_ms, u.scales.x.max), 'x', true);
          if (x1 > x0) ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
        }
        ctx.restore();
      }],
      draw: [(u) => {
        const ctx = u.ctx;
        // Stored snapshots as ticks along the bottom (alarm ones red); a
        // click near one shows its spectrum.
        ctx.save();
        const bottom = u.bbox.top + u.bbox.height;
        for (const s of page.snapshots) {
          if (s.t < u.scales.x.min || s.t > u.scales.x.max) continue;
          const x = u.valToPos(s.t, 'x', true);
          ctx.fillStyle = s.kind === 'alarm' ? '#dc2626' : '#64748b';
          ctx.fillRect(x - devicePixelRatio, bottom - 8 * devicePixelRatio, 2 * devicePixelRatio,
                       8 * devicePixelRatio);
        }
        ctx.restore();
        const thr = page.threshold;
        if (thr === null || !isFinite(thr)) return;
        const y = u.valToPos(thr, 'y', true);
        ctx.save();
        ctx.strokeStyle = '#dc2626';
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.restore();
      }],
      // Dragging selects a time span: it becomes the custom range and the
      // series are fetched again at the new resolution.
      setSelect: [(u) => {
        if (u.select.width < 3) return;
        const from = u.posToVal(u.select.left, 'x');
        const to = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        // Synced charts all report the selection: act on it once.
        const r = { from: Math.floor(from), to: Math.ceil(to) };
        if (page.range.from === r.from && page.range.to === r.to) return;
        setRange(r);
      }],
    };
  }

  // The score chart's y range: the data and the threshold, padded.
  function scoreRange(u, min, max) {
    const t = page.threshold;
    let lo = min, hi = max;
    if (t !== null && isFinite(t)) {
      lo = lo === null || !isFinite(lo) ? t : Math.min(lo, t);
      hi = hi === null || !isFinite(hi) ? t : Math.max(hi, t);
    }
    if (lo === null || !isFinite(lo)) return [0, 1];
    const pad = (hi - lo) * 0.08 || 0.05;
    return [lo - pad, hi + pad];
  }

  function timeChart(host, series, extraHooks, yRange) {
    const opts = {
      width: widthOf(host), height: 220, ms: 1, tzDate: utcDate,
      cursor: { sync: { key: 'mh-' + page.id }, drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
      series: [{}].concat(series),
      legend: { live: true },
      hooks: extraHooks || {},
    };
    if (!extraHooks) opts.hooks = { setSelect: scoreHooks().setSelect };
    return new uPlot(opts, [[]].concat(series.map(() => [])), host);
  }

  function specChart(host, nSeries, logY) {
    const series = [{ label: 'Hz', value: (u, v) => (v === null ? '–' : v.toFixed(1) + ' Hz') }];
    for (let i = 0; i < nSeries; i++) {
      series.push({ label: page.channels[i] || 'ch' + i, stroke: COLORS[i % COLORS.length],
                    width: 1, points: { show: false } });
    }
    const opts = {
      width: widthOf(host), height: 240,
      cursor: { drag: { x: true, y: false } },  // drag zooms the frequency axis; double-click resets
      scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
      axes: [{ label: 'Hz' }, {}],
      series,
      hooks: { draw: [(u) => drawMarks(u)] },
    };
    return new uPlot(opts, [[]].concat(series.slice(1).map(() => [])), host);
  }

  // Vertical marks at the shaft harmonics and defect frequencies.
  function drawMarks(u) {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.font = (10 * devicePixelRatio) + 'px sans-serif';
    for (const m of page.marks) {
      if (m.hz < u.scales.x.min || m.hz > u.scales.x.max) continue;
      const x = Math.round(u.valToPos(m.hz, 'x', true));
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillText(m.label, x + 2 * devicePixelRatio, top + 10 * devicePixelRatio);
    }
    ctx.restore();
  }

  // ---- layout ---------------------------------------------------------------

  function section(title, cls) {
    const s = el('section', 'mp-section ' + (cls || ''));
    s.appendChild(el('h3', 'mp-title', title));
    return s;
  }

  function build(root) {
    root.replaceChildren();
    const head = el('div', 'mp-head');
    const back = el('a', 'mp-back', '← all machines');
    back.href = '#';
    head.appendChild(back);
    head.appendChild(el('h2', 'machine-id', page.id));
    const badge = el('span', 'badge');
    badge.id = 'mp-badge';
    head.appendChild(badge);
    const info = el('span', 'mp-info');
    info.id = 'mp-info';
    head.appendChild(info);
    root.appendChild(head);

    const bar = el('div', 'mp-ranges');
    bar.id = 'mp-ranges';
    for (const [name, span] of RANGES) {
      const b = el('button', '', name);
      b.type = 'button';
      b.dataset.range = name;
      b.addEventListener('click', () => setRange({ name, span }));
      bar.appendChild(b);
    }
    const from = el('input');
    from.type = 'datetime-local';
    from.id = 'mp-from';
    from.step = 1;
    const to = el('input');
    to.type = 'datetime-local';
    to.id = 'mp-to';
    to.step = 1;
    const apply = el('button', '', 'apply');
    apply.type = 'button';
    apply.addEventListener('click', () => {
      const f = Date.parse(from.value + 'Z');
      const t = Date.parse(to.value + 'Z');
      if (isFinite(f) && isFinite(t) && f < t) setRange({ from: f, to: t });
    });
    bar.append(el('span', 'mp-k', 'custom (UTC)'), from, to, apply);
    root.appendChild(bar);

    const score = section('Anomaly score (threshold dashed, alarm spans shaded, snapshots ticked; ' +
                          'drag to zoom, click for the nearest snapshot\'s spectrum)');
    const scoreHost = el('div', 'mp-chart');
    scoreHost.id = 'mp-score';
    score.appendChild(scoreHost);
    root.appendChild(score);

    const feat = section('Features');
    const pick = el('select');
    pick.id = 'mp-metrics';
    pick.multiple = true;
    pick.size = 4;
    pick.addEventListener('change', () => {
      page.metrics = Array.from(pick.selectedOptions).map((o) => o.value).slice(0, 6);
      rebuildFeatureChart();
      loadSeries();
    });
    feat.appendChild(pick);
    const featHost = el('div', 'mp-chart');
    featHost.id = 'mp-features';
    feat.appendChild(featHost);
    root.appendChild(feat);

    const grid = el('div', 'mp-grid');
    const alarms = section('Alarms', 'mp-alarms');
    const by = el('input');
    by.id = 'mp-ack-by';
    by.placeholder = 'your name (for acknowledgements)';
    by.value = localStorage.getItem('mh-ack-by') || '';
    by.addEventListener('change', () => localStorage.setItem('mh-ack-by', by.value));
    alarms.appendChild(by);
    const list = el('ul', 'mp-alarm-list');
    list.id = 'mp-alarm-list';
    alarms.appendChild(list);
    grid.appendChild(alarms);
    const card = section('Baseline', 'mp-card');
    const cardBody = el('dl', 'mp-card-body');
    cardBody.id = 'mp-card';
    card.appendChild(cardBody);
    grid.appendChild(card);
    root.appendChild(grid);

    const spec = section('Spectrum of a snapshot', 'mp-spectra');
    const sbar = el('div', 'mp-snapbar');
    const snaps = el('select');
    snaps.id = 'mp-snapshots';
    snaps.addEventListener('change', () => {
      page.snapPinned = true;
      loadSnapshot(Number(snaps.value));
    });
    const logLabel = el('label', 'mp-log');
    const log = el('input');
    log.type = 'checkbox';
    log.id = 'mp-logy';
    log.addEventListener('change', () => { page.logY = log.checked; drawSpectra(); });
    logLabel.append(log, document.createTextNode(' log y'));
    sbar.append(snaps, logLabel);
    const marks = el('div', 'mp-marks');
    marks.id = 'mp-marks';
    spec.append(sbar, marks);
    const ampTitle = el('div', 'chart-title', 'amplitude spectrum');
    const ampHost = el('div', 'mp-chart');
    ampHost.id = 'mp-spectrum';
    const envTitle = el('div', 'chart-title', 'envelope spectrum');
    envTitle.id = 'mp-env-title';
    const envHost = el('div', 'mp-chart');
    envHost.id = 'mp-envelope';
    spec.append(ampTitle, ampHost, envTitle, envHost);
    root.appendChild(spec);

    page.scoreChart = timeChart(scoreHost, [
      { label: 'state score', stroke: '#94a3b8', width: 1, points: { show: false } },
      { label: 'score', stroke: '#2563eb', width: 1.5, points: { show: false } },
    ], scoreHooks(), scoreRange);
    clickToSnapshot(page.scoreChart);
  }

  // A click (not a drag) on the score chart shows the snapshot nearest in
  // time.
  function clickToSnapshot(u) {
    let downX = null;
    u.over.addEventListener('mousedown', (e) => { downX = e.clientX; });
    u.over.addEventListener('click', (e) => {
      if (downX === null || Math.abs(e.clientX - downX) > 3 || page.snapshots.length === 0) return;
      const t = u.posToVal(e.offsetX, 'x');
      let best = page.snapshots[0];
      for (const s of page.snapshots) if (Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
      page.snapPinned = true;
      $('mp-snapshots').value = String(best.id);
      loadSnapshot(best.id);
    });
  }

  function rebuildFeatureChart() {
    if (page.featChart) page.featChart.destroy();
    const host = $('mp-features');
    host.replaceChildren();
    page.featChart = timeChart(host, page.metrics.map((m, i) => ({
      label: m, stroke: COLORS[i % COLORS.length], width: 1.2, points: { show: false } })));
  }

  // ---- data -----------------------------------------------------------------

  // The [from, to) of the chosen range in epoch ms: relative ranges end at
  // the machine's latest window (event time, as the API's defaults).
  function rangeMs() {
    const r = page.range;
    if (r.from !== undefined) return [r.from, r.to];
    const to = page.latestMs + 1;
    return [to - r.span, to];
  }

  function setRange(r) {
    page.range = r;
    for (const b of $('mp-ranges').querySelectorAll('button[data-range]')) {
      b.classList.toggle('active', b.dataset.range === r.name);
    }
    const [f, t] = rangeMs();
    $('mp-from').value = new Date(f).toISOString().slice(0, 19);
    $('mp-to').value = new Date(t).toISOString().slice(0, 19);
    $('machine-page').dataset.from = String(f);
    $('machine-page').dataset.to = String(t);
    return loadAll();
  }

  // Several series on one time axis (the union of their window times).
  function align(answers) {
    const ts = new Set();
    for (const a of answers) for (const t of a.t) ts.add(t);
    const t = Array.from(ts).sort((a, b) => a - b);
    const index = new Map(t.map((x, i) => [x, i]));
    const cols = answers.map((a) => {
      const v = new Array(t.length).fill(null);
      for (let i = 0; i < a.t.length; i++) v[index.get(a.t[i])] = a.v[i];
      return v;
    });
    return [t].concat(cols);
  }

  function countPoints(data) {
    let n = 0;
    for (let s = 1; s < data.length; s++) for (const v of data[s]) if (v !== null) n++;
    return n;
  }

  async function fetchSeries(metric, from, to, max) {
    return getJson('api/series?machine=' + q(page.id) + '&metric=' + q(metric) + '&from=' + from +
                   '&to=' + to + '&max=' + max);
  }

  async function loadSeries() {
    const p = page;
    const [from, to] = rangeMs();
    const max = widthOf($('mp-score'));
    const [stateScore, score, ...feats] = await Promise.all(
      ['state_score', 'score'].concat(p.metrics).map((m) => fetchSeries(m, from, to, max)
        .catch(() => ({ t: [], v: [] }))));
    if (page !== p) return;
    const sd = align([stateScore, score]);
    p.scoreChart.setData(sd);
    p.scoreChart.setScale('x', { min: from, max: to });
    $('mp-score').dataset.max = String(max);
    describeScore();
    if (p.featChart && feats.length) {
      const fd = align(feats);
      p.featChart.setData(fd);
      p.featChart.setScale('x', { min: from, max: to });
      describeFeatures();
    }
  }

  // What the score chart draws, as data-* attributes (read by the tests).
  function describeScore() {
    const p = page;
    const sd = p.scoreChart.data;
    const host = $('mp-score');
    host.dataset.points = String(countPoints([sd[0], sd[2]]));
    const drawn = sd[2].filter((v) => v !== null);
    host.dataset.min = drawn.length ? String(drawn.reduce((a, b) => Math.min(a, b))) : '';
    host.dataset.maxValue = drawn.length ? String(drawn.reduce((a, b) => Math.max(a, b))) : '';
    host.dataset.threshold = String(p.threshold);
    host.dataset.alarmSpans = String(p.alarms.length);
  }

  function describeFeatures() {
    $('mp-features').dataset.points = String(countPoints(page.featChart.data));
    $('mp-features').dataset.metrics = page.metrics.join(',');
  }

  // Appends one window to a chart's data, dropping the points that left the
  // relative range [from, to).
  function appendPoint(u, t, values, from) {
    const old = u.data;
    let start = 0;
    while (start < old[0].length && old[0][start] < from) start++;
    const next = old.map((col, i) => col.slice(start).concat([i === 0 ? t : values[i - 1]]));
    u.setData(next);
  }

  // ---- live (web/live.js) ---------------------------------------------------

  // A new window of some machine: on this machine's page with a relative
  // range, its point is appended to the charts (no refetch).
  function onLiveWindow(d) {
    const p = page;
    if (!p || d.machine !== p.id) return;
    const relative = p.range.from === undefined;
    p.latestMs = Math.max(p.latestMs, d.t);
    if (d.threshold !== null) p.threshold = d.threshold;
    if (!relative) return;
    const sd = p.scoreChart.data;
    if (sd[0].length && d.t <= sd[0][sd[0].length - 1]) return;
    const [from, to] = rangeMs();
    appendPoint(p.scoreChart, d.t, [d.state_score, d.score], from);
    p.scoreChart.setScale('x', { min: from, max: to });
    if (p.featChart) {
      appendPoint(p.featChart, d.t, p.metrics.map((m) => (m === 'rms' ? d.rms : null)), from);
      p.featChart.setScale('x', { min: from, max: to });
      describeFeatures();
    }
    p.liveCount++;
    const root = $('machine-page');
    root.dataset.from = String(from);
    root.dataset.to = String(to);
    root.dataset.live = String(p.liveCount);
    describeScore();
  }

  // A state change of this machine: its alarm list (and spans) anew.
  async function onLiveState(d) {
    const p = page;
    if (!p || d.machine !== p.id) return;
    await loadAlarms();
    if (page !== p) return;
    p.scoreChart.redraw();
    describeScore();
  }

  window.Live.on('window', onLiveWindow);
  window.Live.on('state', onLiveState);
  // Events were missed (server restarted, or gone too long): fetch anew.
  window.Live.on('reset', () => { if (page) loadAll(); });

  async function loadAlarms() {
    const p = page;
    const [from, to] = rangeMs();
    let list = [];
    try {
      list = await getJson('api/alarms?machine=' + q(p.id) + '&from=' + from + '&to=' + to + '&limit=200');
    } catch (e) { list = []; }
    if (page !== p) return;
    p.alarms = list.map((a) => ({
      start_ms: Date.parse(a.start), end_ms: a.end ? Date.parse(a.end) : p.latestMs + 1 }));
    renderAlarms(list);
  }

  function renderAlarms(list) {
    const ul = $('mp-alarm-list');
    ul.dataset.count = String(list.length);
    ul.replaceChildren();
    if (list.length === 0) ul.appendChild(el('li', 'mp-none', 'no alarm in this range'));
    for (const a of list) {
      const li = el('li', 'mp-alarm');
      li.dataset.alarm = a.id;
      li.dataset.open = String(a.open);
      li.dataset.acked = String(a.acked);
      const top = el('div', 'mp-alarm-head');
      top.appendChild(el('span', 'mp-alarm-state ' + (a.open ? 'open' : 'closed'), a.open ? 'open' : 'closed'));
      top.appendChild(el('span', 'mp-alarm-time',
        a.start.replace('T', ' ') + (a.end ? ' → ' + a.end.slice(11) : ' → now')));
      top.appendChild(el('span', 'mp-alarm-peak', 'peak ' + fmt(a.peak_score)));
      li.appendChild(top);
      li.appendChild(el('div', 'mp-explanation', a.explanation_text || '(no explanation)'));
      if (a.acked) {
        li.appendChild(el('div', 'mp-acked', 'acknowledged by ' + a.acked_by + ' at ' + a.acked_at));
      } else {
        const b = el('button', 'mp-ack', 'acknowledge');
        b.type = 'button';
        b.addEventListener('click', () => ack(a.id, b));
        li.appendChild(b);
      }
      ul.appendChild(li);
    }
    addSpectrumLinks();
  }

  async function ack(id, button) {
    const by = ($('mp-ack-by').value || '').trim() || 'dashboard';
    button.disabled = true;
    try {
      await getJson('api/alarms/' + q(id) + '/ack', { method: 'POST', body: JSON.stringify({ by }) });
    } catch (e) {
      button.disabled = false;
      button.textContent = 'acknowledge (failed: ' + e.message + ')';
      return;
    }
    await loadAlarms();
  }

  async function loadCard() {
    const p = page;
    const dl = $('mp-card');
    let b = null;
    try { b = await getJson('api/baselines/' + q(p.id)); } catch (e) { b = { error: e.message }; }
    if (page !== p) return;
    dl.replaceChildren();
    const row = (k, v) => { dl.append(el('dt', '', k), el('dd', '', v)); };
    if (b.error) {
      row('baseline', b.error);
      dl.dataset.version = '';
      return;
    }
    dl.dataset.version = String(b.version);
    const c = b.card || {};
    row('version', b.version + (b.active ? ' (active)' : '') + ', ' + (b.origin || ''));
    row('created', b.created || '–');
    row('training window', (c.trained_from || '–') + ' → ' + (c.trained_to || '–'));
    row('rows', c.rows !== undefined ? String(c.rows) : '–');
    row('threshold', fmt(b.threshold, 4) + ' (' + (b.rule || '') + ')');
    const feats = el('details');
    feats.append(el('summary', '', (c.features || []).length + ' features'),
                 el('div', 'mp-k', (c.features || []).join(', ')));
    dl.append(el('dt', '', 'features'), el('dd', '').appendChild(feats).parentNode);
    if (b.model) row('model', b.model.trees + ' trees, max_samples ' + b.model.max_samples);
  }

  async function loadSnapshots() {
    const p = page;
    let list = [];
    try { list = await getJson('api/snapshots?machine=' + q(p.id) + '&limit=200'); } catch (e) { list = []; }
    if (page !== p) return;
    const sel = $('mp-snapshots');
    const had = sel.value;
    sel.replaceChildren();
    for (let i = list.length - 1; i >= 0; i--) {  // newest first
      const s = list[i];
      const o = el('option', '', iso(s.t) + ' · ' + s.kind + ' · score ' + fmt(s.score));
      o.value = String(s.id);
      sel.appendChild(o);
    }
    $('mp-spectrum').dataset.snapshots = String(list.length);
    if (list.length === 0) {
      sel.appendChild(el('option', '', 'no snapshot stored (run --snapshot-every)'));
      return;
    }
    p.snapshots = list;
    p.scoreChart.redraw();
    addSpectrumLinks();
    // The newest snapshot, unless one was chosen (and is still listed).
    const pinned = p.snapPinned && list.some((s) => String(s.id) === had);
    const keep = pinned ? Number(had) : list[list.length - 1].id;
    sel.value = String(keep);
    if (p.snapshot === null || p.snapshot.id !== keep) await loadSnapshot(keep);
  }

  // An alarm whose peak window was kept (an alarm snapshot) links to its
  // spectrum.
  function addSpectrumLinks() {
    for (const li of document.querySelectorAll('#mp-alarm-list .mp-alarm')) {
      const snap = page.snapshots.find((s) => s.alarm_id === li.dataset.alarm);
      if (!snap || li.querySelector('.mp-show-spec')) continue;
      const b = el('button', 'mp-show-spec', 'spectrum of its peak');
      b.type = 'button';
      b.dataset.snapshot = String(snap.id);
      b.addEventListener('click', () => {
        page.snapPinned = true;
        $('mp-snapshots').value = String(snap.id);
        loadSnapshot(snap.id);
        $('mp-spectrum').scrollIntoView({ block: 'center' });
      });
      li.appendChild(b);
    }
  }

  async function loadSnapshot(id) {
    const p = page;
    let s = null;
    try { s = await getJson('api/snapshots/' + id + '?view=spectrum'); } catch (e) { return; }
    if (page !== p) return;
    p.snapshot = s;
    p.channels = s.channels || [];
    drawSpectra();
  }

  // The frequency of the largest bin above `minHz` of channel 0.
  function peakHz(freq, amp, minHz) {
    let best = -1, at = null;
    for (let i = 0; i < freq.length; i++) {
      if (freq[i] >= minHz && amp[i] > best) { best = amp[i]; at = freq[i]; }
    }
    return at;
  }

  function drawSpectra() {
    const s = page.snapshot;
    if (!s) return;
    const clean = (a) => (page.logY ? a.map((v) => (v > 0 ? v : null)) : a);
    for (const [id, amps, key] of [['mp-spectrum', s.amplitude, 'spec'],
                                   ['mp-envelope', s.envelope.amplitude, 'env']]) {
      const host = $(id);
      if (page[key]) page[key].destroy();
      host.replaceChildren();
      page[key] = specChart(host, amps.length, page.logY);
      page[key].setData([s.freq_hz].concat(amps.map(clean)));
      // The envelope spectrum opens on the defect frequencies' region.
      const top = Math.max(0, ...page.marks.map((m) => m.hz));
      if (key === 'env' && top > 0) page[key].setScale('x', { min: 0, max: Math.max(500, 4 * top) });
      host.dataset.snapshot = String(s.id);
      host.dataset.bins = String(s.freq_hz.length);
      host.dataset.channels = String(amps.length);
      const peak = peakHz(s.freq_hz, amps[0] || [], key === 'env' ? 2 : 5);
      host.dataset.peakHz = peak === null ? '' : peak.toFixed(2);
    }
    const b = s.envelope.band_hz || [];
    $('mp-env-title').textContent = 'envelope spectrum (band ' + fmt(b[0], 0) + '–' + fmt(b[1], 0) + ' Hz)';
    const marks = $('mp-marks');
    marks.replaceChildren();
    marks.dataset.marks = page.marks.map((m) => m.label + ':' + m.hz.toFixed(2)).join(',');
    if (page.marks.length === 0) {
      marks.appendChild(el('span', 'mp-k', 'no shaft speed or bearing known for this machine ' +
        '(give rpm and bearing in the machines file)'));
    }
    for (const m of page.marks) {
      const chip = el('span', 'mp-mark', m.label + ' ' + m.hz.toFixed(1) + ' Hz');
      chip.style.borderColor = m.color;
      marks.appendChild(chip);
    }
  }

  // Every request of the page at once (one round trip, not two): the alarm
  // spans are drawn when both the alarms and the series are in.
  async function loadAll() {
    const p = page;
    await Promise.all([loadAlarms(), loadSeries(), loadCard(), loadSnapshots()]);
    if (page !== p) return;
    p.scoreChart.redraw();
    describeScore();
    $('machine-page').dataset.loaded = String(Number($('machine-page').dataset.loaded || 0) + 1);
  }

  // ---- entry points ---------------------------------------------------------

  // Opens the page of machine `id`; `machines` is the last /api/machines answer.
  function open(id, machines) {
    const root = $('machine-page');
    if (page && page.id === id) return;
    close();
    const m = machines.find((x) => x.id === id);
    page = {
      id, machine: m || null, threshold: m ? m.threshold : null,
      latestMs: m ? m.updated_ms : Date.now(), range: { name: '15m', span: RANGES[0][1] },
      alarms: [], snapshots: [], snapPinned: false, metrics: ['rms'], marks: marksOf(m), snapshot: null, channels: [],
      logY: false, scoreChart: null, featChart: null, spec: null, env: null, timer: null,
      liveCount: 0,
    };
    root.hidden = false;
    root.dataset.machine = id;
    root.dataset.loaded = '0';
    build(root);
    rebuildFeatureChart();
    update(machines);
    // The feature picker's names once the charts are in: the browser's six
    // connections (one is the live stream) go to the charts' requests first.
    setRange(page.range).then(() => getJson('api/metrics?machine=' + q(id))).then((r) => {
      const pick = $('mp-metrics');
      if (!pick || !page || page.id !== id) return;
      // The score and state score have their own chart.
      for (const name of r.metrics.filter((x) => x !== 'score' && x !== 'state_score')) {
        const o = el('option', '', name);
        o.value = name;
        o.selected = page.metrics.includes(name);
        pick.appendChild(o);
      }
    }).catch(() => {});
    // Relative ranges follow new windows (live events; polled while the
    // stream is down); a custom or zoomed range stays put.
    page.timer = setInterval(() => {
      if (page.range.from === undefined && !window.Live.isConnected()) loadAll();
    }, REFRESH_MS);
  }

  // New /api/machines answer while the page is open.
  function update(machines) {
    if (!page) return;
    const m = machines.find((x) => x.id === page.id);
    if (!m) return;
    page.machine = m;
    page.latestMs = Math.max(page.latestMs, m.updated_ms);
    page.threshold = m.threshold;
    $('mp-badge').textContent = m.state;
    $('machine-page').dataset.state = m.state;
    const reg = m.registry;
    const where = reg && reg.name && reg.name !== m.id ? reg.name + (reg.location ? ', ' + reg.location : '') : '';
    $('mp-info').textContent = (where ? where + ' · ' : '') + 'score ' + fmt(m.score) + ' · threshold ' +
      fmt(m.threshold) + ' · ' + m.windows.toLocaleString('en') + ' windows · latest ' + iso(m.updated_ms);
  }

  function close() {
    if (!page) return;
    clearInterval(page.timer);
    for (const c of [page.scoreChart, page.featChart, page.spec, page.env]) if (c) c.destroy();
    page = null;
    const root = $('machine-page');
    root.hidden = true;
    root.replaceChildren();
  }

  window.addEventListener('resize', () => {
    if (!page) return;
    for (const [c, id] of [[page.scoreChart, 'mp-score'], [page.featChart, 'mp-features'],
                           [page.spec, 'mp-spectrum'], [page.env, 'mp-envelope']]) {
      if (c) c.setSize({ width: widthOf($(id)), height: c.height });
    }
  });

  // The score chart's data as drawn ([times, state score, score]), for tests.
  function drawnScore() { return page && page.scoreChart ? page.scoreChart.data : null; }

  return { open, update, close, isOpen: () => page !== null, drawnScore };
})();
