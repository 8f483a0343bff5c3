// How fast the analyst's measures page renders (issue 14: "a measures page ... renders in the
// browser in <= 1 s (playwright timing)"), on a real `ark serve` and Debian's Chromium:
//   node bench/api/measures_page.mjs ARK_BINARY ARK_DIR TOKENS_ENV PROJECT DEFINITION.yaml [RUNS]
// e.g. node bench/api/measures_page.mjs build/ark out/demo/ark out/demo/governance/tokens.env \
//        demo-planning definitions/diabetes_register.yaml 3
// Signs in as ana (TOKENS_ENV's ANA=), puts the definition in the editor (its `file:` codelists
// inlined, as the API requires), clicks "Run on the Ark" and measures in the page:
//   run:    click to the job's "succeeded" status (the study run on the whole Ark, through the job queue)
//   render: the "succeeded" status to every measure's table and chart in the page (fetching each
//           measure from the API, building the tables and SVG charts)
// Prints one line per run and the medians. Not a test: the machine is shared. Each run is a real
// run in the project: it is recorded, and on the Ark's ledger, as any other.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';

const require = createRequire(path.resolve('tests/api/package.json'));
const { chromium } = require('playwright-core');
const [bin, ark, tokensFile, project, defFile, runsArg] = process.argv.slice(2);
if (!defFile) {
  console.error('usage: node bench/api/measures_page.mjs ARK_BINARY ARK_DIR TOKENS_ENV PROJECT DEFINITION.yaml [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 3);
const token = /^ANA=(.*)$/m.exec(readFileSync(tokensFile, 'utf8'))?.[1]?.trim();
if (!token) throw new Error(tokensFile + ': no ANA= line');

// `name: {file: codelists/x.csv, system: S}` -> `name: {codes: [...], system: S}` (the CSV's code column).
const dir = path.dirname(defFile);
const definition = readFileSync(defFile, 'utf8').replace(/\{file: ([^,}]+), system: ([^}]+)\}/g, (_, f, sys) => {
  const lines = readFileSync(path.join(dir, f.trim()), 'utf8').trim().split('\n');
  const col = lines[0].split(',').indexOf('code');
  const codes = lines.slice(1).map((l) => JSON.stringify(l.split(',')[col]));
  return '{codes: [' + codes.join(', ') + '], system: ' + sys.trim() + '}';
});

const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const http = await freePort(), mllp = await freePort();
const serve = spawn(bin, ['serve', ark, '--http', '127.0.0.1:' + http, '--mllp', '127.0.0.1:' + mllp], { stdio: 'ignore' });
const base = 'http://127.0.0.1:' + http;
for (let i = 0; i < 300; i++) {
  try { if ((await fetch(base + '/healthz')).ok) break; } catch { /* starting */ }
  await new Promise((r) => setTimeout(r, 100));
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runMs = [], renderMs = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(base + '/#sign-in');
  await page.fill('#sign-in-user', 'ana');
  await page.fill('#sign-in-token', token);
  await page.click('#sign-in-submit');
  await page.waitForSelector('#who-name');
  await page.goto(base + '/#analyst');
  await page.waitForSelector('#editor-text');
  for (let k = 0; k < runs; k++) {
    await page.fill('#editor-text', definition);
    await page.selectOption('#editor-project', project);
    // In the page: the time of the click, of the "succeeded" status, and of the last measure shown.
    await page.evaluate(() => {
      window.benchT = { click: performance.now() };
      const status = document.getElementById('job-status'), box = document.getElementById('job-measures');
      new MutationObserver((_, obs) => {
        if (!window.benchT.done && /: succeeded/.test(status.textContent)) window.benchT.done = performance.now();
        if (window.benchT.done && box.querySelectorAll('section.measure svg.chart').length > 0) {
          window.benchT.shown = performance.now();
          window.benchT.tables = box.querySelectorAll('section.measure table').length;
          window.benchT.rows = box.querySelectorAll('section.measure tbody tr').length;
          obs.disconnect();
        }
      }).observe(document.getElementById('analyst'), { subtree: true, childList: true, characterData: true });
    });
    await page.click('#editor-run');
    await page.waitForFunction(() => window.benchT.shown || /: failed|: cancelled/.test(document.getElementById('job-status').textContent),
      null, { timeout: 600000 });
    const t = await page.evaluate(() => window.benchT);
    if (!t.shown) throw new Error('the job did not succeed: ' + await page.innerText('#job-status'));
    runMs.push(t.done - t.click);
    renderMs.push(t.shown - t.done);
    console.log(`run ${k + 1}: click to succeeded ${(t.done - t.click).toFixed(0)} ms; succeeded to ${t.tables} measures shown ` +
      `(${t.rows} table rows, charts) ${(t.shown - t.done).toFixed(0)} ms`);
  }
  const persons = JSON.parse(execFileSync(bin, ['stats', ark, '--json'], { encoding: 'utf8' })).persons;
  console.log(`median over ${runs}: run ${median(runMs).toFixed(0)} ms, measures page render ${median(renderMs).toFixed(0)} ms ` +
    `(${ark}: ${persons} persons)`);
} finally {
  await browser.close();
  serve.kill('SIGTERM');
}
