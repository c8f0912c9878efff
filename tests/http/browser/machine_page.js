// Drives the machine page (web/machine.js) in Debian's Chromium through
// playwright-core, for tests/http/serve_e2e_test.cc:
//   node machine_page.js BASE_URL MACHINE OUT_DIR
// reads the overview's cards (OUT_DIR/overview.png) and filters them by
// name, opens BASE_URL#/machine/MACHINE, reads what the page drew (data-*
// attributes), writes OUT_DIR/machine_page.png, shows an alarm's snapshot,
// clicks the score chart at the oldest snapshot's time, switches to the 1 h
// range, acknowledges the first unacknowledged alarm as "e2e", drags across
// the middle of the score chart (zoom) and prints one JSON object on stdout.
// Exit 1 with the error on stderr if a step times out.
'use strict';
const { drive } = require('./chromium');
const path = require('path');

const [base, machine, outDir] = process.argv.slice(2);

drive('machine_page.js', { width: 1300, height: 1900 }, async (page, out) => {
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  // The overview first: card order, states and the "since" line.
  await page.goto(base);
  await page.waitForFunction((id) => {
    const c = document.querySelector('.card[data-machine="' + id + '"] .since');
    return c && c.textContent !== '';
  }, machine, { timeout: 15000 });
  out.overview = await page.evaluate(() => Array.from(document.querySelectorAll('#grid .card')).map((c) => ({
    id: c.dataset.machine, state: c.dataset.state, stale: c.dataset.stale,
    since: c.querySelector('.since').textContent })));
  await page.screenshot({ path: path.join(outDir, 'overview.png'), fullPage: true });
  // The text filter matches the registry name too.
  await page.fill('#search', 'PUMP');
  out.filtered = await page.evaluate(() => Array.from(document.querySelectorAll('#grid .card'))
    .filter((c) => !c.hidden).map((c) => c.dataset.machine));
  await page.fill('#search', '');

  await page.goto(base + '#/machine/' + encodeURIComponent(machine));
  await page.waitForFunction(() => {
    const p = document.getElementById('machine-page');
    const s = document.getElementById('mp-spectrum');
    return p && Number(p.dataset.loaded) >= 1 && s && s.dataset.bins;
  }, null, { timeout: 15000 });
  const read = () => page.evaluate(() => {
    const d = (id) => Object.assign({}, document.getElementById(id).dataset);
    return {
      page: d('machine-page'), score: d('mp-score'), features: d('mp-features'),
      alarms: d('mp-alarm-list'), card: d('mp-card'), spectrum: d('mp-spectrum'),
      envelope: d('mp-envelope'), marks: d('mp-marks'),
      alarm_items: Array.from(document.querySelectorAll('.mp-alarm')).map((li) => ({
        id: li.dataset.alarm, acked: li.dataset.acked,
        explanation: li.querySelector('.mp-explanation').textContent })),
      canvases: document.querySelectorAll('#machine-page canvas').length,
    };
  });
  out.first = await read();
  await page.screenshot({ path: path.join(outDir, 'machine_page.png'), fullPage: true });

  // An alarm's "spectrum of its peak" shows its alarm snapshot.
  const link = await page.$('.mp-alarm button.mp-show-spec');
  if (link) {
    out.alarm_snapshot = {
      alarm: await link.evaluate((b) => b.closest('.mp-alarm').dataset.alarm),
      snapshot: await link.getAttribute('data-snapshot'),
    };
    await link.click();
    await page.waitForFunction((id) => document.getElementById('mp-envelope').dataset.snapshot === id,
                                out.alarm_snapshot.snapshot, { timeout: 15000 });
    out.alarm_snapshot.shown = await page.getAttribute('#mp-spectrum', 'data-snapshot');
  }

  // A click on the score chart shows the snapshot nearest in time: the
  // oldest one's position.
  const snaps = await page.evaluate(async (id) =>
    (await fetch('api/snapshots?machine=' + encodeURIComponent(id))).json(), machine);
  const box = await page.locator('#mp-score .u-over').boundingBox();
  const from = Number(out.first.page.from), to = Number(out.first.page.to);
  const oldest = snaps[0];
  await page.mouse.click(box.x + (oldest.t - from) / (to - from) * box.width, box.y + box.height / 2);
  await page.waitForFunction((id) => document.getElementById('mp-spectrum').dataset.snapshot === id,
                              String(oldest.id), { timeout: 15000 });
  out.clicked_snapshot = { wanted: oldest.id, shown: await page.getAttribute('#mp-spectrum', 'data-snapshot') };

  const loaded = Number(out.first.page.loaded);
  await page.click('#mp-ranges button[data-range="1h"]');
  await page.waitForFunction((n) => Number(document.getElementById('machine-page').dataset.loaded) > n,
                              loaded, { timeout: 15000 });
  out.hour = await read();
  out.hour_requests = requests.filter((u) => u.includes('/api/series') && u.includes('metric=score&'));

  const target = out.first.alarm_items.find((a) => a.acked === 'false');
  if (target) {
    await page.fill('#mp-ack-by', 'e2e');
    await page.click('li[data-alarm="' + target.id + '"] button.mp-ack');
    await page.waitForSelector('li[data-alarm="' + target.id + '"][data-acked="true"]', { timeout: 15000 });
    out.acked = target.id;
    out.acked_text = await page.textContent('li[data-alarm="' + target.id + '"] .mp-acked');
  }
  // Dragging across the middle half of the score chart zooms into it.
  const over = await page.locator('#mp-score .u-over').boundingBox();
  const y = over.y + over.height / 2;
  const before = Number(out.hour.page.loaded);
  await page.mouse.move(over.x + over.width * 0.25, y);
  await page.mouse.down();
  await page.mouse.move(over.x + over.width * 0.5, y, { steps: 5 });
  await page.mouse.move(over.x + over.width * 0.75, y, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction((n) => Number(document.getElementById('machine-page').dataset.loaded) > n,
                              before, { timeout: 15000 });
  out.zoom = await read();
});
