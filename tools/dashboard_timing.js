// Times the dashboard's machine page in Debian's Chromium (playwright-core
// from tests/http/browser; run tools/install-deps.sh test first):
//   node tools/dashboard_timing.js BASE_URL MACHINE [RANGE] [RUNS]
// RANGE is a range button (15m, 1h, 24h, 7d, 30d; default 24h). Per run:
// ms from navigation to the first full load of the page (data-loaded = 1,
// 15 min), then from the RANGE click to its load; prints one line per run
// and the medians.
'use strict';
const path = require('path');
const { chromium } = require(path.join(__dirname, '../tests/http/browser/node_modules/playwright-core'));
const fs = require('fs');
const os = require('os');

async function main() {
  const [base, machine, range = '24h', runs = '5'] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-timing-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1300, height: 1900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const open = [], switched = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const loaded = (n) => page.waitForFunction((k) => {
      const p = document.getElementById('machine-page');
      return p && Number(p.dataset.loaded) >= k;
    }, n, { timeout: 60000 });
    for (let i = 0; i < Number(runs); i++) {
      await page.goto('about:blank');
      const t0 = Date.now();
      await page.goto(base + '#/machine/' + encodeURIComponent(machine));
      await loaded(1);
      const t1 = Date.now();
      await page.click('#mp-ranges button[data-range="' + range + '"]');
      await loaded(2);
      const t2 = Date.now();
      const points = await page.getAttribute('#mp-score', 'data-points');
      open.push(t1 - t0);
      switched.push(t2 - t1);
      console.log('run ' + (i + 1) + ': open ' + (t1 - t0) + ' ms, ' + range + ' ' + (t2 - t1) +
                  ' ms (' + points + ' score points drawn)');
    }
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log('median: open ' + median(open) + ' ms, ' + range + ' ' + median(switched) + ' ms');
}

main().catch((e) => { console.error(e); process.exit(1); });
