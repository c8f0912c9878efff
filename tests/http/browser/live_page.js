// Drives the machine page (web/machine.js) in Debian's Chromium through
// playwright-core while the test writes windows into the store, for
// tests/http/serve_e2e_test.cc:
//   node live_page.js BASE_URL MACHINE OUT_DIR N
// opens BASE_URL#/machine/MACHINE, waits until the page has loaded and the
// live stream (web/live.js) is up, notes the score chart's data, creates
// OUT_DIR/ready (the test then writes N windows), waits until N live points
// were appended and the header counts them, writes OUT_DIR/live_page.png,
// goes back to the overview and reads the machine's card
// (OUT_DIR/overview_live.png), and prints one JSON object:
// the drawn data before and after, the page's load count before and after,
// whether the page was reloaded, and the page errors.
// Exit 1 with the error on stderr if a step times out.
'use strict';
const { drive } = require('./chromium');
const path = require('path');
const fs = require('fs');

const [base, machine, outDir, count] = process.argv.slice(2);
const n = Number(count);

drive('live_page.js', { width: 1300, height: 1400 }, async (page, out) => {
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
  const series = [];
  page.on('request', (r) => { if (r.url().includes('/api/series')) series.push(r.url()); });
  await page.goto(base + '#/machine/' + encodeURIComponent(machine));
  await page.waitForFunction(() => {
    const p = document.getElementById('machine-page');
    return p && Number(p.dataset.loaded) >= 1 && window.Live.isConnected();
  }, null, { timeout: 15000 });
  const read = () => page.evaluate(() => ({
    data: window.MachinePage.drawnScore(),
    loaded: document.getElementById('machine-page').dataset.loaded,
    live: document.getElementById('machine-page').dataset.live || '0',
    points: document.getElementById('mp-score').dataset.points,
    marker: window.__mhSamePage === true,
    // The header's window count, kept up to date by app.js from the stream.
    windows: Number((/([0-9,]+) windows/.exec(document.getElementById('mp-info').textContent) ||
                     ['', '-1'])[1].replace(/,/g, '')),
  }));
  await page.evaluate(() => { window.__mhSamePage = true; });
  out.before = await read();
  const navigationsBefore = navigations;
  const seriesBefore = series.length;
  fs.writeFileSync(path.join(outDir, 'ready'), '');
  await page.waitForFunction((k) =>
    Number(document.getElementById('machine-page').dataset.live || 0) >= k, n, { timeout: 20000 });
  await page.waitForFunction((k) => {
    const m = /([0-9,]+) windows/.exec(document.getElementById('mp-info').textContent);
    return m && Number(m[1].replace(/,/g, '')) >= k;
  }, out.before.windows + n, { timeout: 20000 });
  out.after = await read();
  out.navigations = navigations - navigationsBefore;
  out.series_requests = series.length - seriesBefore;
  await page.screenshot({ path: path.join(outDir, 'live_page.png'), fullPage: true });
  // Back on the overview (same page): the machine's card counts the new
  // windows and shows the latest score, from the stream alone.
  await page.evaluate(() => { location.hash = '#'; });
  const card = '.card[data-machine="' + machine + '"]';
  await page.waitForFunction(([sel, k]) => {
    const w = document.querySelector(sel + ' .windows');
    return w && Number(w.textContent.replace(/,/g, '')) >= k;
  }, [card, out.before.windows + n], { timeout: 20000 });
  out.card = await page.evaluate((sel) => ({
    windows: Number(document.querySelector(sel + ' .windows').textContent.replace(/,/g, '')),
    score: document.querySelector(sel + ' .score').textContent,
    state: document.querySelector(sel).dataset.state,
    marker: window.__mhSamePage === true,
    conn: document.getElementById('conn-text').textContent,
  }), card);
  await page.screenshot({ path: path.join(outDir, 'overview_live.png'), fullPage: true });
});
