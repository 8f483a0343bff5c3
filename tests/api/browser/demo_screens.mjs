// Screenshots of every view of the web app on the demo's Ark, for a person to look at beside the
// report (`make demo` runs it; README, "The web app"). Starts `ark serve` on the Ark, signs in
// through the page as each demo user, opens every view that user's menu offers and writes
//   OUT/<user>-<view>.png and OUT/index.html (the pictures with their captions).
//   node demo_screens.mjs ARK_BINARY ARK_DIR TOKENS_ENV OUT_DIR
// TOKENS_ENV: NAME=token lines (the demo's governance/tokens.env); the user name is NAME in
// lower case. Exits non-zero, naming what failed, when the server or a view cannot be shown.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { chromium } from 'playwright-core';

const [bin, ark, tokensFile, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node demo_screens.mjs ARK_BINARY ARK_DIR TOKENS_ENV OUT_DIR');
  process.exit(2);
}
const tokens = Object.fromEntries(readFileSync(tokensFile, 'utf8').split('\n')
  .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')).toLowerCase(), l.slice(l.indexOf('=') + 1).trim()]));

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function startServe() {
  const http = await freePort(), mllp = await freePort();
  const child = spawn(bin, ['serve', ark, '--http', '127.0.0.1:' + http, '--mllp', '127.0.0.1:' + mllp],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const base = 'http://127.0.0.1:' + http;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error('ark serve stopped: ' + log);
    try {
      if ((await fetch(base + '/healthz')).ok) return { child, base };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('ark serve did not answer /healthz within 30 s: ' + log);
}

// Opens #view, waits until the view has loaded (its status lines have text, or 1.5 s), screenshots it.
async function shoot(page, base, view, file) {
  await page.goto(base + '/#' + view);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15000 });
  await page.waitForTimeout(1500);  // the view's own requests (a fixed pause: this is a picture, not a test)
  await page.screenshot({ path: out + '/' + file, fullPage: true });
}

const { child, base } = await startServe();
const shots = [];
let browser;
try {
  mkdirSync(out, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const anonymous = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  for (const view of ['public', 'citizen']) {
    await shoot(anonymous, base, view, 'anyone-' + view + '.png');
    shots.push({ file: 'anyone-' + view + '.png', caption: 'Anyone, without signing in: ' + view });
  }
  for (const [user, token] of Object.entries(tokens)) {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(base + '/#sign-in');
    await page.fill('#sign-in-user', user);
    await page.fill('#sign-in-token', token);
    await page.click('#sign-in-submit');
    await page.waitForSelector('#who-name', { timeout: 15000 });
    const views = await page.$$eval('#nav a[data-view]', (as) => as.map((a) => [a.dataset.view, a.textContent]));
    for (const [view, title] of views) {
      if (view === 'public' || view === 'citizen') continue;
      const file = user + '-' + view + '.png';
      await shoot(page, base, view, file);
      shots.push({ file, caption: user + ' (' + (await page.innerText('#who-name')).replace(/^Signed in as \S+ /, '') + '): ' + title });
    }
  }
} finally {
  if (browser) await browser.close();
  child.kill('SIGTERM');
}
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
writeFileSync(out + '/index.html', '<!doctype html><html lang="en"><meta charset="utf-8"><title>Ark web app: every view</title>\n' +
  '<h1>The web app on the demo\'s Ark: every view, as each demo user sees it</h1>\n' +
  shots.map((s) => '<figure><figcaption>' + esc(s.caption) + '</figcaption><img src="' + s.file + '" alt="' + esc(s.caption) +
    '" width="640"></figure>').join('\n') + '\n</html>\n');
console.log('web app: ' + shots.length + ' screenshots in ' + out + ' (open ' + out + '/index.html)');
