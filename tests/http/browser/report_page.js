// Opens a self-contained HTML report (report/report.h: `report --html`,
// `train --report`, `evaluate --report`) in Debian's Chromium with the
// network off, for tests/app/report_browser_test.cc:
//   node report_page.js REPORT.html OUT_DIR
// Prints one JSON object: every request the page made (`requests`: URLs
// other than the report's own file), console errors (`console_errors`),
// page errors (`errors`), per section its id and its stats as shown
// (`stats`: key -> {text, value: data-value or null}), and per figure its
// id, kind, the drawn size of its <svg> (width, height in CSS pixels) and
// its drawn series (name, data-points, the path's drawn length > 0) and the
// sum of its bars' data-count (`counted`);
// writes OUT_DIR/<report name>.png.
'use strict';
const { drive } = require('./chromium');
const path = require('path');
const url = require('url');

const [file, outDir] = process.argv.slice(2);
const own = url.pathToFileURL(path.resolve(file)).href;

drive('report_page.js', { width: 1200, height: 900 }, async (page, out) => {
  out.requests = [];
  out.console_errors = [];
  page.on('request', (r) => { if (r.url() !== own) out.requests.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
  await page.context().setOffline(true);
  await page.goto(own, { waitUntil: 'load' });
  out.sections = await page.evaluate(() => Array.from(document.querySelectorAll('section')).map((s) => {
    const stats = {};
    for (const tr of s.querySelectorAll('tr[data-key]')) {
      const td = tr.querySelector('td');
      stats[tr.dataset.key] = { text: td ? td.textContent : null,
                                value: td && td.dataset.value !== undefined ? td.dataset.value : null };
    }
    const figures = Array.from(s.querySelectorAll('figure')).map((f) => {
      const svg = f.querySelector('svg');
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      return {
        id: f.id, kind: f.dataset.kind, width: box.width, height: box.height,
        series: Array.from(f.querySelectorAll('path.series')).map((p) => ({
          name: p.dataset.series, points: Number(p.dataset.points),
          drawn: p.getTotalLength() > 0 })),
        counted: Array.from(f.querySelectorAll('[data-count]'))
          .reduce((n, b) => n + Number(b.dataset.count), 0),
      };
    });
    return { id: s.id, stats, figures };
  }));
  await page.screenshot({ path: path.join(outDir, path.basename(file, '.html') + '.png'), fullPage: true });
});
