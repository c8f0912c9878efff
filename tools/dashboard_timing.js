// Times the dashboard's machine page in Debian's Chromium (through the shared
// launcher tests/http/browser/chromium.js and its playwright-core; run
// tools/install-deps.sh test first):
//   node tools/dashboard_timing.js BASE_URL MACHINE [RANGE] [RUNS]
// RANGE is a range button (15m, 1h, 24h, 7d, 30d; default 24h). Per run:
// ms from navigation to the first full load of the page (data-loaded = 1,
// 15 min), then from the RANGE click to its load (the charts drawn with the
// range's data); prints one line per run and the medians on stderr, and the
// launcher's JSON line on stdout ({"open_ms":[..],"range_ms":[..],
// "median_open_ms","median_range_ms","points","errors":[]}).
// tools/bench.sh --dashboard runs it against a store with a day of one
// machine at 10 windows/s (bench/http_bench.cc).
'use strict';
const path = require('path');
const { drive } = require(path.join(__dirname, '../tests/http/browser/chromium.js'));

const [base, machine, range = '24h', runs = '5'] = process.argv.slice(2);
if (!base || !machine) {
  process.stderr.write('usage: node tools/dashboard_timing.js BASE_URL MACHINE [RANGE] [RUNS]\n');
  process.exit(2);
}

drive('dashboard_timing.js', { width: 1300, height: 1900 }, async (page, out) => {
  const loaded = (n) => page.waitForFunction((k) => {
    const p = document.getElementById('machine-page');
    return p && Number(p.dataset.loaded) >= k;
  }, n, { timeout: 60000 });
  out.open_ms = [];
  out.range_ms = [];
  for (let i = 0; i < Number(runs); i++) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(base + '#/machine/' + encodeURIComponent(machine));
    await loaded(1);
    const t1 = Date.now();
    await page.click('#mp-ranges button[data-range="' + range + '"]');
    await loaded(2);
    const t2 = Date.now();
    out.points = Number(await page.getAttribute('#mp-score', 'data-points'));
    out.open_ms.push(t1 - t0);
    out.range_ms.push(t2 - t1);
    process.stderr.write('run ' + (i + 1) + ': open ' + (t1 - t0) + ' ms, ' + range + ' ' +
                         (t2 - t1) + ' ms (' + out.points + ' score points drawn)\n');
  }
  const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
  out.median_open_ms = median(out.open_ms);
  out.median_range_ms = median(out.range_ms);
  process.stderr.write('median: open ' + out.median_open_ms + ' ms, ' + range + ' ' +
                       out.median_range_ms + ' ms\n');
});
