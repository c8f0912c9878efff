// machine-health dashboard: loads the JSON API (docs/api.md), follows
// the live stream (web/live.js: new windows and state changes) and draws
// machine cards and SVG charts; #/machine/ID opens the machine page
// (web/machine.js, uPlot charts). While the stream is down it polls.
'use strict';

(function () {
  const MACHINES_EVERY_MS = 1000;
  const SERIES_EVERY_MS = 2000;
  const ALARMS_EVERY_MS = 10000;
  const INLINE_CHARTS_MAX = 6;   // up to this many machines: charts in every card
  const SERIES_POINTS = 600;
  const SERIES_SPAN_MS = 600e3;  // the API's default span of a series
  // With the live stream up, the API is only read now and then (machines
  // added or removed, registry changes).
  const LIVE_RELOAD_MS = 30000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // A machine whose latest window is this much older than the fleet's newest
  // one (event time, so a replayed plant is not stale) is marked stale.
  const STALE_MS = 60e3;
  const STATE_RANK = { anomalous: 0, normal: 1, learning: 2 };

  const state = {
    machines: [],          // last /api/machines answer
    filter: 'all',
    search: '',            // text filter on id, name, location
    lastAlarm: new Map(),  // id -> newest alarm {open, start_ms, end_ms}
    newestMs: 0,           // newest updated_ms of the fleet
    selected: null,        // machine id shown in the detail panel (compact mode)
    cards: new Map(),      // id -> card element
    series: new Map(),     // "id|metric" -> {t, v}
    overviewStale: false,  // the grid was not drawn while a machine page was shown
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    return Number(v).toFixed(digits === undefined ? 3 : digits);
  }

  function pad(n, w) { return String(n).padStart(w || 2, '0'); }

  function clock(ms) {
    const d = new Date(ms);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
  }

  function byNaturalId(a, b) {
    return a.id.localeCompare(b.id, undefined, { numeric: true, sensitivity: 'base' });
  }

  // "3 min", "2 h 5 min", "4 d" for a span in ms.
  function span(ms) {
    const min = Math.floor(ms / 60e3);
    if (min < 1) return Math.max(0, Math.floor(ms / 1e3)) + ' s';
    if (min < 60) return min + ' min';
    const h = Math.floor(min / 60);
    if (h < 48) return h + ' h' + (min % 60 ? ' ' + (min % 60) + ' min' : '');
    return Math.floor(h / 24) + ' d';
  }

  // Since when the machine is in its state, as far as its alarms tell: the
  // start of its open alarm, or the end of its last one (event time, up to
  // its latest window). '' when it never alarmed or is learning.
  function sinceText(m) {
    const a = state.lastAlarm.get(m.id);
    if (!a || m.state === 'learning') return '';
    if (a.open) return 'in alarm for ' + span(m.updated_ms - a.start_ms);
    return 'last alarm ended ' + span(m.updated_ms - a.end_ms) + ' ago';
  }

  function isStale(m) { return state.newestMs - m.updated_ms > STALE_MS; }

  // Worst first: anomalous, then normal, then learning, stale ones before
  // fresh ones of their state; within a state the smallest margin of the
  // score above its threshold first; then by id.
  function worstFirst(a, b) {
    const ra = STATE_RANK[a.state] !== undefined ? STATE_RANK[a.state] : 3;
    const rb = STATE_RANK[b.state] !== undefined ? STATE_RANK[b.state] : 3;
    if (ra !== rb) return ra - rb;
    const sa = isStale(a), sb = isStale(b);
    if (sa !== sb) return sa ? -1 : 1;
    const margin = (m) => (m.score === null || !isFinite(m.score) ? Infinity : m.score - (m.threshold || 0));
    const d = margin(a) - margin(b);
    if (d !== 0 && isFinite(d)) return d;
    return byNaturalId(a, b);
  }

  async function getJson(url) {
    const res = await fetch(url, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body && body.error ? body.error : 'HTTP ' + res.status);
    return body;
  }

  function setConnection(ok, text) {
    $('conn').dataset.ok = ok ? 'true' : 'false';
    $('conn-text').textContent = text;
  }

  // ---- charts --------------------------------------------------------------

  // Draws a line chart of {t, v} into `host` (an element). Options:
  //   threshold: number, draws a dashed line and shades the region below it;
  //   zeroBased: y axis starts at 0; unit: label suffix; cls: line class.
  function drawChart(host, data, opt) {
    const width = Math.max(200, Math.floor(host.clientWidth || 300));
    const height = opt.height || 120;
    const m = { l: 46, r: 8, t: 8, b: 18 };
    const root = svg('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height,
                              class: 'chart', role: 'img', 'aria-label': opt.label });
    const pts = [];
    if (data) {
      for (let i = 0; i < data.t.length; i++) {
        if (data.v[i] !== null && isFinite(data.v[i])) pts.push([data.t[i], data.v[i]]);
      }
    }
    if (!data || data.t.length === 0) {
      const msg = svg('text', { x: width / 2, y: height / 2, class: 'chart-msg', 'text-anchor': 'middle' });
      msg.textContent = data ? 'no data' : 'loading…';
      root.appendChild(msg);
      host.replaceChildren(root);
      return;
    }
    const t0 = data.t[0];
    const t1 = Math.max(data.t[data.t.length - 1], t0 + 1);
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
    const thr = opt.threshold;
    const hasThr = thr !== null && thr !== undefined && isFinite(thr);
    if (hasThr) { lo = Math.min(lo, thr); hi = Math.max(hi, thr); }
    if (opt.zeroBased) lo = Math.min(0, lo);
    if (!isFinite(lo)) { lo = hasThr ? thr - 0.1 : 0; hi = hasThr ? thr + 0.1 : 1; }
    if (hi - lo < 1e-9) { hi += 0.05; lo -= opt.zeroBased ? 0 : 0.05; }
    const span = hi - lo;
    hi += span * 0.08;
    if (!opt.zeroBased) lo -= span * 0.08;
    const x = (t) => m.l + (t - t0) / (t1 - t0) * (width - m.l - m.r);
    const y = (v) => m.t + (hi - v) / (hi - lo) * (height - m.t - m.b);

    if (hasThr) {
      const yt = y(thr);
      root.appendChild(svg('rect', { x: m.l, y: yt, width: width - m.l - m.r,
                                     height: Math.max(0, height - m.b - yt), class: 'anomaly-zone' }));
    }
    // Frame and labels.
    root.appendChild(svg('line', { x1: m.l, y1: height - m.b, x2: width - m.r, y2: height - m.b, class: 'axis' }));
    const labels = [[hi, 'start'], [lo, 'start']];
    for (const [v] of labels) {
      const tx = svg('text', { x: m.l - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' });
      tx.textContent = fmt(v, Math.abs(hi - lo) < 0.5 ? 3 : 2);
      root.appendChild(tx);
    }
    const left = svg('text', { x: m.l, y: height - 4, class: 'tick' });
    left.textContent = clock(t0);
    const right = svg('text', { x: width - m.r, y: height - 4, 'text-anchor': 'end', class: 'tick' });
    right.textContent = clock(t1);
    root.appendChild(left);
    root.appendChild(right);
    if (hasThr) {
      root.appendChild(svg('line', { x1: m.l, y1: y(thr), x2: width - m.r, y2: y(thr), class: 'threshold' }));
      const tl = svg('text', { x: width - m.r - 2, y: y(thr) - 3, 'text-anchor': 'end', class: 'tick thr-label' });
      tl.textContent = 'threshold ' + fmt(thr, 3);
      root.appendChild(tl);
    }
    // The line, broken where values are missing (e.g. while learning).
    let d = '';
    let pen = false;
    for (let i = 0; i < data.t.length; i++) {
      const v = data.v[i];
      if (v === null || !isFinite(v)) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + x(data.t[i]).toFixed(1) + ' ' + y(v).toFixed(1);
      pen = true;
    }
    if (opt.zeroBased && pts.length > 1) {
      const area = d + 'L' + x(pts[pts.length - 1][0]).toFixed(1) + ' ' + y(lo) + 'L' +
                   x(pts[0][0]).toFixed(1) + ' ' + y(lo) + 'Z';
      if (pts.length === data.t.length) root.appendChild(svg('path', { d: area, class: 'area ' + opt.cls }));
    }
    root.appendChild(svg('path', { d: d, class: 'line ' + opt.cls }));
    if (hasThr) {
      for (const p of pts) {
        if (p[1] < thr) root.appendChild(svg('circle', { cx: x(p[0]), cy: y(p[1]), r: 1.8, class: 'below' }));
      }
    }
    if (pts.length === 0) {
      const msg = svg('text', { x: (m.l + width) / 2, y: m.t + 14, class: 'chart-msg', 'text-anchor': 'middle' });
      msg.textContent = 'learning: no score yet';
      root.appendChild(msg);
    }
    host.replaceChildren(root);
  }

  function chartBlock(title) {
    const box = el('div', 'chart-box');
    box.appendChild(el('div', 'chart-title', title));
    const host = el('div', 'chart-host');
    box.appendChild(host);
    return { box, host };
  }

  // ---- cards ---------------------------------------------------------------

  function buildCard(m) {
    const card = el('article', 'card');
    card.dataset.machine = m.id;
    card.tabIndex = 0;
    const head = el('div', 'card-head');
    head.appendChild(el('h2', 'machine-id', m.id));
    head.appendChild(el('span', 'badge'));
    const open = el('a', 'open-page', 'details →');
    open.href = '#/machine/' + encodeURIComponent(m.id);
    open.addEventListener('click', (e) => e.stopPropagation());
    head.appendChild(open);
    card.appendChild(head);
    const stats = el('div', 'stats');
    stats.innerHTML =
      '<div><span class="k">score</span><span class="v score"></span></div>' +
      '<div><span class="k">threshold</span><span class="v threshold"></span></div>' +
      '<div><span class="k">windows</span><span class="v windows"></span></div>' +
      '<div class="iso" hidden><span class="k">ISO 20816</span><span class="v iso-zone"></span></div>';
    card.appendChild(stats);
    const meter = el('div', 'meter');
    meter.appendChild(el('div', 'meter-fill'));
    meter.appendChild(el('div', 'meter-thr'));
    card.appendChild(meter);
    card.appendChild(el('div', 'updated'));
    card.appendChild(el('div', 'since'));
    const charts = el('div', 'card-charts');
    card.appendChild(charts);
    card.addEventListener('click', () => select(m.id));
    card.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(m.id); });
    return card;
  }

  // The meter: the state score on a scale from -0.3 to +0.3 around the
  // threshold; the fill is red when below.
  function updateMeter(card, m) {
    const fill = card.querySelector('.meter-fill');
    const thr = isFinite(m.threshold) && m.threshold !== null ? m.threshold : 0;
    if (m.score === null || !isFinite(m.score)) {
      fill.style.width = '0%';
      return;
    }
    const frac = Math.max(0, Math.min(1, (m.score - thr + 0.3) / 0.6));
    fill.style.width = (frac * 100).toFixed(1) + '%';
    fill.dataset.below = m.score < thr ? 'true' : 'false';
  }

  function updateCard(card, m, inline) {
    card.dataset.state = m.state;
    const stale = isStale(m);
    card.dataset.stale = String(stale);
    card.querySelector('.badge').textContent = stale ? m.state + ' · stale' : m.state;
    card.querySelector('.score').textContent = fmt(m.score);
    card.querySelector('.threshold').textContent = fmt(m.threshold);
    card.querySelector('.windows').textContent = m.windows.toLocaleString('en');
    // The zone of the latest window where the machine has velocity features.
    const iso = card.querySelector('.iso');
    iso.hidden = !m.iso;
    card.dataset.isoZone = m.iso ? m.iso.zone : '';
    if (m.iso) {
      const zone = card.querySelector('.iso-zone');
      zone.textContent = m.iso.zone + ' · ' + fmt(m.iso.velocity_mm_s, 2) + ' mm/s';
      zone.dataset.zone = m.iso.zone;
      iso.title = m.iso.feature + ', group ' + m.iso.group + ', ' + m.iso.foundation;
    }
    card.querySelector('.updated').textContent = inline
      ? 'updated ' + m.updated.replace('T', ' ').replace('Z', ' UTC')
      : m.updated.slice(11, 19);
    const since = sinceText(m);
    card.querySelector('.since').textContent = since;
    card.querySelector('.since').hidden = since === '';
    card.title = m.id + ': ' + m.state + ', score ' + fmt(m.score) + ', threshold ' +
                 fmt(m.threshold) + ', updated ' + m.updated;
    updateMeter(card, m);
    card.classList.toggle('selected', !inline && state.selected === m.id);
    const charts = card.querySelector('.card-charts');
    if (inline && !charts.firstChild) {
      const s = chartBlock('anomaly score');
      const r = chartBlock('RMS (g)');
      s.host.dataset.metric = 'score';
      r.host.dataset.metric = 'rms';
      charts.append(s.box, r.box);
    } else if (!inline && charts.firstChild) {
      charts.replaceChildren();
    }
  }

  function visible(m) {
    if (state.filter !== 'all' && m.state !== state.filter) return false;
    if (!state.search) return true;
    const r = m.registry || {};
    return [m.id, r.name, r.location].some((s) => s && s.toLowerCase().includes(state.search));
  }

  function renderMachines() {
    // Behind a machine page the (hidden) grid is drawn when it is shown again.
    if (/^#\/machine\//.test(location.hash)) {
      state.overviewStale = true;
      return;
    }
    state.overviewStale = false;
    const list = state.machines;
    const inline = list.length <= INLINE_CHARTS_MAX;
    document.body.classList.toggle('compact', !inline);
    $('empty').hidden = list.length > 0;
    const counts = { all: list.length, normal: 0, anomalous: 0, learning: 0 };
    for (const m of list) if (m.state in counts) counts[m.state]++;
    for (const k in counts) $('count-' + k).textContent = counts[k];

    const grid = $('grid');
    const seen = new Set();
    let prev = null;
    for (const m of list) {
      seen.add(m.id);
      let card = state.cards.get(m.id);
      if (!card) { card = buildCard(m); state.cards.set(m.id, card); }
      updateCard(card, m, inline);
      card.hidden = !visible(m);
      // Keep DOM order equal to the sorted order without re-adding every node.
      const want = prev ? prev.nextSibling : grid.firstChild;
      if (want !== card) grid.insertBefore(card, want);
      prev = card;
    }
    for (const [id, card] of state.cards) {
      if (!seen.has(id)) { card.remove(); state.cards.delete(id); }
    }
    renderDetail(inline);
  }

  function renderDetail(inline) {
    const panel = $('detail');
    const m = state.machines.find((x) => x.id === state.selected);
    if (inline || !m) {
      panel.hidden = true;
      panel.replaceChildren();
      panel.dataset.machine = '';
      return;
    }
    if (panel.dataset.machine !== m.id) {
      panel.dataset.machine = m.id;
      panel.replaceChildren();
      const head = el('div', 'detail-head');
      head.appendChild(el('h2', 'machine-id', m.id));
      head.appendChild(el('span', 'badge'));
      head.appendChild(el('span', 'detail-stats'));
      const open = el('a', 'open-page', 'machine page →');
      open.href = '#/machine/' + encodeURIComponent(m.id);
      head.appendChild(open);
      const close = el('button', 'close', 'close');
      close.type = 'button';
      close.addEventListener('click', () => select(null));
      head.appendChild(close);
      panel.appendChild(head);
      const charts = el('div', 'detail-charts');
      const s = chartBlock('anomaly score (last 10 min)');
      const r = chartBlock('RMS (g)');
      s.host.dataset.metric = 'score';
      r.host.dataset.metric = 'rms';
      s.host.dataset.height = '180';
      r.host.dataset.height = '180';
      charts.append(s.box, r.box);
      panel.appendChild(charts);
    }
    panel.dataset.state = m.state;
    panel.querySelector('.badge').textContent = m.state;
    panel.querySelector('.detail-stats').textContent =
      'score ' + fmt(m.score) + ' · threshold ' + fmt(m.threshold) + ' · ' +
      m.windows.toLocaleString('en') + ' windows · updated ' + m.updated.replace('T', ' ').replace('Z', ' UTC');
    panel.hidden = false;
  }

  function select(id) {
    if (state.machines.length <= INLINE_CHARTS_MAX) {
      location.hash = '#/machine/' + encodeURIComponent(id);
      return;
    }
    state.selected = state.selected === id ? null : id;
    history.replaceState(null, '', state.selected ? '#' + encodeURIComponent(state.selected) : '#');
    renderMachines();
    drawAllCharts();
    pollSeries();
    if (state.selected) $('detail').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  // Chart hosts currently on screen: [{host, id, metric}].
  function chartHosts() {
    const out = [];
    const inline = state.machines.length <= INLINE_CHARTS_MAX;
    if (inline) {
      for (const [id, card] of state.cards) {
        if (card.hidden) continue;
        for (const h of card.querySelectorAll('.chart-host')) out.push({ host: h, id, metric: h.dataset.metric });
      }
    } else if (state.selected && !$('detail').hidden) {
      for (const h of $('detail').querySelectorAll('.chart-host')) {
        out.push({ host: h, id: state.selected, metric: h.dataset.metric });
      }
    }
    return out;
  }

  function drawAllCharts() {
    for (const { host, id, metric } of chartHosts()) {
      const m = state.machines.find((x) => x.id === id);
      const data = state.series.get(id + '|' + metric);
      drawChart(host, data, {
        threshold: metric === 'score' && m ? m.threshold : null,
        zeroBased: metric === 'rms',
        cls: metric,
        height: Number(host.dataset.height || 96),
        label: metric + ' of ' + id,
      });
    }
  }

  // ---- live ----------------------------------------------------------------

  let renderTimer = null;
  function scheduleRender() {
    if (renderTimer !== null) return;
    renderTimer = setTimeout(() => {
      renderTimer = null;
      state.machines.sort(worstFirst);
      if (window.MachinePage.isOpen()) window.MachinePage.update(state.machines);
      renderMachines();
      if (!window.MachinePage.isOpen()) drawAllCharts();
    }, 100);
  }

  // A new window: the card's state, score and window count, and a point
  // appended to its sparklines (trimmed to their span).
  function onLiveWindow(d) {
    const m = state.machines.find((x) => x.id === d.machine);
    if (!m) {  // a new machine: its card comes with the API's answer
      pollMachines();
      return;
    }
    if (d.t <= m.updated_ms) return;
    m.state = d.state;
    m.score = d.state_score;
    if (d.threshold !== null) m.threshold = d.threshold;
    m.updated_ms = d.t;
    m.updated = d.time;
    m.windows += 1;
    state.newestMs = Math.max(state.newestMs, d.t);
    for (const [metric, v] of [['score', d.score], ['rms', d.rms]]) {
      const s = state.series.get(d.machine + '|' + metric);
      if (!s || (s.t.length && s.t[s.t.length - 1] >= d.t)) continue;
      s.t.push(d.t);
      s.v.push(v);
      let drop = 0;
      while (drop < s.t.length && s.t[drop] < d.t - SERIES_SPAN_MS) drop++;
      if (drop) { s.t.splice(0, drop); s.v.splice(0, drop); }
    }
    liveEvents++;
    document.body.dataset.liveEvents = String(liveEvents);
    scheduleRender();
  }

  function onLiveState(d) {
    const m = state.machines.find((x) => x.id === d.machine);
    if (m) m.state = d.to;
    if (d.alarm_id) pollAlarms();  // "in alarm for", "last alarm ended"
    scheduleRender();
  }

  let liveEvents = 0;
  let lastLoad = 0;
  function liveUp() { return window.Live.isConnected() && Date.now() - lastLoad < LIVE_RELOAD_MS; }

  window.Live.on('window', onLiveWindow);
  window.Live.on('state', onLiveState);
  window.Live.on('up', () => setConnection(true, 'live'));
  window.Live.on('down', () => setConnection(false, 'live stream lost, reconnecting…'));
  window.Live.on('reset', () => { pollAlarms(); pollMachines(); pollSeries(true); });

  // ---- polling -------------------------------------------------------------

  async function pollMachines() {
    try {
      const list = await getJson('api/machines');
      lastLoad = Date.now();
      state.newestMs = list.reduce((x, m) => Math.max(x, m.updated_ms || 0), 0);
      list.sort(worstFirst);
      state.machines = list;
      setConnection(true, window.Live.isConnected() ? 'live'
                                                     : 'polling · ' + new Date().toLocaleTimeString());
      if (window.MachinePage.isOpen()) window.MachinePage.update(list);
      renderMachines();
    } catch (e) {
      setConnection(false, 'disconnected: ' + e.message);
    }
  }

  // The newest alarm of each machine, for "since" (every ALARMS_EVERY_MS).
  async function pollAlarms() {
    try {
      const list = await getJson('api/alarms?limit=10000');
      const last = new Map();
      for (const a of list) {  // newest first
        if (!last.has(a.machine)) {
          last.set(a.machine, { open: a.open, start_ms: Date.parse(a.start),
                                end_ms: a.end ? Date.parse(a.end) : null });
        }
      }
      state.lastAlarm = last;
    } catch (e) {
      // keep the previous answer
    }
  }

  let seriesBusy = false;
  // Every SERIES_EVERY_MS while the live stream is down; `now` forces it.
  async function pollSeries(now) {
    if (seriesBusy || window.MachinePage.isOpen()) return;
    if (now !== true && liveUp() && state.series.size > 0 && chartHosts().every(
      ({ id, metric }) => state.series.has(id + '|' + metric))) return;
    seriesBusy = true;
    try {
      const wanted = chartHosts();
      await Promise.all(wanted.map(async ({ id, metric }) => {
        const url = 'api/series?machine=' + encodeURIComponent(id) + '&metric=' + metric +
                    '&max=' + SERIES_POINTS;
        try {
          state.series.set(id + '|' + metric, await getJson(url));
        } catch (e) {
          state.series.set(id + '|' + metric, { t: [], v: [] });
        }
      }));
      drawAllCharts();
    } finally {
      seriesBusy = false;
    }
  }

  function initFilters() {
    $('search').addEventListener('input', () => {
      state.search = $('search').value.trim().toLowerCase();
      renderMachines();
      pollSeries();
    });
    for (const b of $('filters').querySelectorAll('button')) {
      b.addEventListener('click', () => {
        state.filter = b.dataset.filter;
        for (const o of $('filters').querySelectorAll('button')) o.classList.toggle('active', o === b);
        renderMachines();
        pollSeries();
      });
    }
  }

  // #/machine/ID: the machine page; anything else: the overview.
  function route() {
    const m = /^#\/machine\/(.+)$/.exec(location.hash);
    $('overview').hidden = m !== null;
    $('filters').hidden = m !== null;
    if (m) {
      window.MachinePage.open(decodeURIComponent(m[1]), state.machines);
    } else {
      window.MachinePage.close();
      if (state.overviewStale) renderMachines();
      drawAllCharts();
      pollSeries();
    }
  }

  async function start() {
    initFilters();
    // A machine to open can be given in the URL: http://host:port/#m17
    // (its panel in the compact overview) or #/machine/m17 (its page).
    if (location.hash.length > 1 && !location.hash.startsWith('#/')) {
      state.selected = decodeURIComponent(location.hash.slice(1));
    }
    // Both at once: the machine page opens as soon as the list is in; the
    // overview is drawn again if the alarms ("since") come in after it.
    let listed = false;
    const alarmsIn = pollAlarms().then(() => { if (listed) renderMachines(); });
    await pollMachines();
    listed = true;
    setInterval(pollAlarms, ALARMS_EVERY_MS);
    window.addEventListener('hashchange', route);
    route();
    await alarmsIn;
    await pollSeries();
    setInterval(() => { if (!liveUp()) pollMachines(); }, MACHINES_EVERY_MS);
    setInterval(pollSeries, SERIES_EVERY_MS);
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawAllCharts, 150);
    });
  }

  start();
})();
