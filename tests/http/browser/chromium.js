// What the page drivers here share: Debian's Chromium, headless, driven
// through playwright-core with a throw-away profile, and how a driver ends.
//   drive(script, viewport, body): opens a page of `viewport` size, runs
//   `await body(page, out)` (page errors are collected in out.errors), closes
//   the browser, prints `out` as one JSON line on stdout; on an error (a step
//   that timed out) prints it on stderr naming `script` and exits 1.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

async function run(viewport, body) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = { errors: [] };
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => out.errors.push(String(e)));
    await body(page, out);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

function drive(script, viewport, body) {
  run(viewport, body).catch((e) => {
    process.stderr.write(script + ': ' + (e && e.stack ? e.stack : e) + '\n');
    process.exit(1);
  });
}

module.exports = { drive };
