// Browser tests of the Ark's web app (docs/api.md, "The web app"): Debian's Chromium driven by the
// pinned playwright-core, axe-core (pinned) run in each view. Started by tests/web_browser_test.cc,
// which makes an Ark, starts `ark serve` on it and writes the fixture:
//   node web_browser.mjs FIXTURE.json SCENARIO
// FIXTURE: {base, shots, tokens: {user: token}, ...ids}. Prints "ok"/"FAIL" per check and
// "<N> checks, <F> failed"; exits 1 on any failure. Each view is screenshotted into fixture.shots.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const fx = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const scenario = process.argv[3];

let checks = 0, failed = 0;
function check(cond, what) {
  checks += 1;
  if (!cond) failed += 1;
  console.log((cond ? 'ok   ' : 'FAIL ') + what);
}

// A page that records CSP violations (console reports and securitypolicyviolation events),
// uncaught script errors, and the requests it sends.
async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.cspReports = [];
  page.errors = [];
  page.sent = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.cspReports.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('request', (r) => page.sent.push({ method: r.method(), url: r.url(), headers: r.headers() }));
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  return page;
}

async function cspViolations(page) {
  return page.cspReports.concat(await page.evaluate(() => window.cspViolations));
}

// axe-core in the page (evaluated through the DevTools protocol, as a person's extension would:
// the page's own CSP still forbids inline script), then the CSP and script-error checks, then a
// screenshot.
async function audit(page, name) {
  await page.evaluate(AXE + '\n;undefined');
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, name + ': axe-core finds no serious or critical violation' +
    bad.map((v) => ' [' + v.impact + ' ' + v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join('; ') + ']').join(''));
  const csp = await cspViolations(page);
  check(csp.length === 0, name + ': no Content-Security-Policy violation' + (csp.length ? ': ' + csp.join(' | ') : ''));
  check(page.errors.length === 0, name + ': no script error' + (page.errors.length ? ': ' + page.errors.join(' | ') : ''));
  await page.screenshot({ path: fx.shots + '/' + name + '.png', fullPage: true });
}

const text = (page, sel) => page.locator(sel).innerText();

async function waitText(page, sel, re) {
  try {
    await page.waitForFunction(([s, src]) => {
      const e = document.querySelector(s);
      return e && new RegExp(src).test(e.textContent);
    }, [sel, re.source], { timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}

async function signIn(page, user) {
  await page.goto(fx.base + '/#sign-in');
  await page.fill('#sign-in-user', user);
  await page.fill('#sign-in-token', fx.tokens[user]);
  await page.click('#sign-in-submit');
  check(await waitText(page, '#who-name', new RegExp('Signed in as ' + user)), user + ' signs in through the form');
}

const scenarios = {
  async public(page) {
    await page.goto(fx.base + '/');
    check(await waitText(page, '#projects-status', /^\d+ projects?\.$/), 'the register loads');
    const projects = await text(page, '#projects tbody');
    for (const id of fx.projects) check(projects.includes(id), 'the register lists project ' + id);
    check(await waitText(page, '#releases-status', /^1 released output\.$/), 'one released output');
    check((await text(page, '#releases tbody')).includes(fx.released_name), 'the release is listed by name');
    check(await waitText(page, '#ledger-status', /^Checkpoint over \d+ ledger entries\.$/), 'the checkpoint loads');
    check((await page.inputValue('#checkpoint-note')).includes('\n\n\u2014 '), 'the signed note is shown');
    const nav = await text(page, '#nav');
    check(!/Output checking|Committee|My runs/.test(nav), 'an anonymous visitor sees no signed-in view in the menu');
    await audit(page, 'public');
    // The detector itself: an inline script injected now must be reported as a CSP violation.
    await page.evaluate(() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; document.body.append(s); });
    await page.waitForTimeout(200);
    check((await cspViolations(page)).length > 0 && !(await page.evaluate(() => window.inlineRan)), 'an injected inline script is blocked and reported (the CSP check can fail)');
  },

  async proof(page) {
    await page.goto(fx.base + '/');
    check(await waitText(page, '#ledger-status', /^Checkpoint over/), 'the checkpoint loads');
    const prove = async (seq, held = '') => {
      await page.fill('#proof-seq', String(seq));
      await page.fill('#proof-held', held);
      await page.evaluate(() => { document.getElementById('proof-result').textContent = ''; });
      await page.click('#proof-check');
      await waitText(page, '#proof-result', /^(Verified|Not verified)/);
      return text(page, '#proof-result');
    };
    for (const seq of new Set([0, 1, Math.floor(fx.ledger_size / 2), fx.released_seq, fx.ledger_size - 1])) {
      const r = await prove(seq);
      check(r.startsWith('Verified: entry ' + seq + ' '), 'entry ' + seq + ' verifies in the browser: ' + r);
    }
    const entry = await text(page, '#proof-entry');
    check(entry.includes('"type":"output.released"') || fx.released_seq === fx.ledger_size - 1, 'the proved entry is shown');
    await prove(fx.released_seq);
    await audit(page, 'proof-verified');
    // What the person holds: the true entry verifies, an altered copy does not.
    await prove(fx.released_seq);
    const served = await text(page, '#proof-entry');
    check((await prove(fx.released_seq, served)).startsWith('Verified'), 'the held copy of the entry verifies');
    const forged = served.replace('"type":"', '"type":"x');
    check(forged !== served, 'the forged entry differs');
    const r1 = await prove(fx.released_seq, forged);
    check(/^Not verified: the audit path does not lead to the signed root/.test(r1), 'an altered entry is not verified: ' + r1);
    // A tampered server: one hash of the audit path flipped.
    const tamper = async (edit) => {
      await page.route('**/api/v1/ledger/proof/*', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        edit(body);
        await route.fulfill({ response: res, json: body });
      });
    };
    await tamper((b) => { b.proof[0] = (b.proof[0][0] === 'A' ? 'B' : 'A') + b.proof[0].slice(1); });
    const r2 = await prove(fx.released_seq);
    check(/^Not verified: the audit path does not lead to the signed root/.test(r2), 'a tampered audit path is not verified: ' + r2);
    await audit(page, 'proof-tampered');
    await page.unrouteAll();
    // A forged checkpoint: another root under the old signature.
    await tamper((b) => {
      const lines = b.checkpoint.split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      b.checkpoint = lines.join('\n');
    });
    const r3 = await prove(fx.released_seq);
    check(/^Not verified: the checkpoint's signature does not verify/.test(r3), 'a forged checkpoint is not verified: ' + r3);
    await page.unrouteAll();
    // Another key than the one that signed.
    await page.fill('#proof-key', fx.other_vkey);
    const r4 = await prove(fx.released_seq);
    check(/^Not verified: the checkpoint carries no signature by the key/.test(r4), 'another verifier key does not verify it: ' + r4);
    await page.evaluate(() => { document.getElementById('proof-result').textContent = ''; });
    await page.fill('#proof-seq', String(fx.ledger_size + 5));
    await page.click('#proof-check');
    check(!(await page.$eval('#proof-seq', (e) => e.validity.valid)) && (await text(page, '#proof-result')) === '',
      'the form does not ask for an entry past the checkpoint');
  },

  async review(page) {
    await signIn(page, 'chris');
    check(await waitText(page, '#review-list-status', /outputs?, \d+ waiting for you\./), 'the checker lands on the review queue');
    check(!(await text(page, '#nav')).includes('Committee'), 'the checker has no committee view in the menu');
    await audit(page, 'review-queue');
    const decide = async (id, button, reason) => {
      await page.click('button[data-output="' + id + '"]');
      await page.waitForSelector('#review-reason');
      check((await text(page, '#review-detail')).includes('Disclosure checks per cell'), 'output ' + id + ' shows its per-cell checks');
      if (reason) await page.fill('#review-reason', reason);
      await page.click(button);
    };
    await decide(fx.to_approve, '#review-approve', '');
    check(await waitText(page, '#review-status', /^Give a reason/), 'a decision without a reason is refused in the page');
    check(/^dee approved .*: rules applied$/.test(await text(page, '#review-reviews li')), 'the first checker\'s approval is shown');
    await audit(page, 'review-detail');
    await page.fill('#review-reason', 'rounded and suppressed as the rules require');
    await page.click('#review-approve');
    check(await waitText(page, '#review-list-status', new RegExp('^Output ' + fx.to_approve + ' approved \\(released\\)')), 'output ' + fx.to_approve + ' is released by the second approval, from the browser');
    await decide(fx.to_refuse, '#review-refuse', 'the table still identifies a small practice');
    check(await waitText(page, '#review-list-status', new RegExp('^Output ' + fx.to_refuse + ' rejected')), 'output ' + fx.to_refuse + ' is refused from the browser');
    const posts = page.sent.filter((r) => r.method === 'POST' && r.url.includes('/review'));
    check(posts.length === 2 && posts.every((r) => r.headers['x-csrf-token'] && r.headers['x-csrf-token'].length > 10),
      'each decision was sent with the session\'s CSRF token');
    await page.goto(fx.base + '/#committee');
    check(await waitText(page, '#committee-denied', /This view is for admin users; you are signed in as chris/), 'the checker is told the committee view is not theirs');
    check((await page.locator('#committee button[data-decision]').count()) === 0, 'the checker sees no committee decision');
  },

  async twoPerson(page) {
    await signIn(page, 'carol');
    check(await waitText(page, '#review-list-status', /waiting for you/), 'carol (analyst and checker) sees the queue');
    await page.click('button[data-output="' + fx.carols + '"]');
    check(await waitText(page, '#review-blocked', /you wrote it: another checker must review it/), 'carol cannot decide her own output');
    check((await page.locator('#review-approve, #review-refuse').count()) === 0, 'no approve or refuse button on her own output');
    await audit(page, 'review-own-output');
  },

  async citizen(page) {
    await page.goto(fx.base + '/#citizen');
    await page.fill('#citizen-code', 'ark-rc-' + '0'.repeat(32));
    await page.click('#citizen-ask');
    check(await waitText(page, '#citizen-status', /^No receipt: this receipt code is not valid/), 'a wrong code is refused, saying no more');
    check(await page.locator('#citizen-result').isHidden(), 'a wrong code shows no receipt');
    await page.fill('#citizen-code', fx.receipt_code);
    await page.click('#citizen-ask');
    check(await waitText(page, '#citizen-status', /^Your data was used in 1 analysis run\./), 'the receipt lists the one run that used their data');
    check((await text(page, '#citizen-uses')).includes('COPD admissions'), 'the receipt names the project');
    check(await waitText(page, '#citizen-objection', /^You have not objected here/), 'no objection yet');
    await audit(page, 'citizen');
    await page.click('#citizen-object');
    check(await waitText(page, '#citizen-status', /^Your objection is recorded/), 'the objection is recorded from the browser');
    check(await waitText(page, '#citizen-objection', /^Your objection is on record/), 'the receipt shows the objection');
    check(await page.locator('#citizen-object').isHidden(), 'no second objection button');
    await audit(page, 'citizen-objected');
    const sent = page.sent.filter((r) => r.url.includes('/api/v1/citizen/'));
    check(sent.length === 3 && sent.every((r) => r.method === 'POST' && !r.url.includes('ark-rc-')), 'the code goes in the body, never in a URL');
  },

  async committee(page) {
    await signIn(page, 'admin');
    await page.goto(fx.base + '/#committee');
    check(await waitText(page, '#committee-status', /projects?, 2 waiting for a decision\./), 'the committee sees two applications waiting');
    await audit(page, 'committee');
    await page.click('button[data-decision="approve"][data-project="' + fx.to_admit + '"]');
    check(await waitText(page, '#committee-status', /^Give a reason/), 'a decision without a reason is refused in the page');
    await page.fill('#reason-' + fx.to_admit, 'meets the criteria');
    await page.click('button[data-decision="approve"][data-project="' + fx.to_admit + '"]');
    check(await waitText(page, '#committee-status', new RegExp('^Project ' + fx.to_admit + ' is now approved')), fx.to_admit + ' approved from the browser');
    await page.fill('#reason-' + fx.to_deny, 'no legal basis for these datasets');
    await page.click('button[data-decision="reject"][data-project="' + fx.to_deny + '"]');
    check(await waitText(page, '#committee-status', new RegExp('^Project ' + fx.to_deny + ' is now rejected')), fx.to_deny + ' rejected from the browser');
    check((await page.locator('button[data-project="' + fx.to_deny + '"]').count()) === 0, 'a rejected application has no action left');
    // The approved project's life: suspend, reinstate, amend its end date, revoke; each with a reason.
    const act = async (key, reason, status) => {
      await page.fill('#reason-' + fx.to_admit, reason);
      await page.click('button[data-decision="' + key + '"][data-project="' + fx.to_admit + '"]');
      check(await waitText(page, '#committee-status', new RegExp('^Project ' + fx.to_admit + ' is now ' + status)), fx.to_admit + ': ' + key + ' from the browser');
    };
    await act('suspend', 'complaint under review', 'suspended');
    await audit(page, 'committee-suspended');
    await act('reinstate', 'complaint not upheld', 'approved');
    await page.fill('#end-' + fx.to_admit, '2030-06-30');
    await act('amend', 'shorter study period', 'approved, ending 2030-06-30');
    await act('revoke', 'breach of the data sharing agreement', 'revoked');
    check((await page.locator('button[data-project="' + fx.to_admit + '"]').count()) === 0, 'a revoked project has no action left');
    const posts = page.sent.filter((r) => r.method === 'POST' && r.url.includes('/api/v1/projects/'));
    check(posts.length === 6 && posts.every((r) => r.headers['x-csrf-token']), 'each committee action was sent with the CSRF token');
  },

  async analyst(page) {
    await signIn(page, 'ana');
    check(await waitText(page, '#analyst-runs-status', /^1 run\.$/), 'the analyst lands on their runs');
    check(await waitText(page, '#analyst-outputs-status', /outputs?, \d+ waiting for review\./), 'and their outputs');
    check((await text(page, '#analyst-outputs tbody')).includes('approved by chris'), 'an output shows who approved it');
    const nav = await text(page, '#nav');
    check(!nav.includes('Committee') && !nav.includes('Output checking'), 'the analyst has no committee or checking view in the menu');
    // An application from the browser: a malformed one is refused with the server's reason.
    await page.fill('#apply-id', fx.to_apply);
    await page.fill('#apply-title', 'Heart failure readmissions');
    await page.selectOption('#apply-purpose', 'research');
    await page.fill('#apply-basis', 'UK GDPR 6(1)(e), 9(2)(j)');
    await page.fill('#apply-datasets', 'gp, acute');
    await page.fill('#apply-start', '2027-12-31');
    await page.fill('#apply-end', '2027-01-01');
    await page.click('#apply-submit');
    check(await waitText(page, '#apply-status', /^Not submitted: /), 'an application ending before it starts is refused: ' + await text(page, '#apply-status'));
    await page.fill('#apply-start', '2027-01-01');
    await page.fill('#apply-end', '2027-12-31');
    await page.click('#apply-submit');
    check(await waitText(page, '#apply-status', new RegExp('^Application ' + fx.to_apply + ' submitted: pending')), 'ana applies for ' + fx.to_apply + ' from the browser');
    await audit(page, 'analyst');
    await page.goto(fx.base + '/#review');
    check(await waitText(page, '#review-denied', /This view is for output_checker or admin users; you are signed in as ana/), 'the analyst is told the checking view is not theirs');
    check((await page.locator('#review-approve, button[data-output]').count()) === 0, 'the analyst sees no review action');
    await page.goto(fx.base + '/#committee');
    check(await waitText(page, '#committee-denied', /This view is for admin users/), 'the analyst is told the committee view is not theirs');
    check((await page.locator('button[data-decision]').count()) === 0, 'the analyst sees no committee decision');
    await audit(page, 'analyst-denied');
    await page.click('#sign-out');
    check(await waitText(page, '#projects-status', /projects?\./) && (await page.locator('#who-name').count()) === 0, 'signing out returns to the public view');
  },

  // The definition editor (web/editor.js) on an Ark of dummy data, project diab-2026.
  async editor(page) {
    await signIn(page, 'ana');
    await page.goto(fx.base + '/#analyst');
    await page.waitForSelector('#editor-project option[value="diab-2026"]', { state: 'attached' });
    await page.fill('#editor-text', fx.typo);
    await page.click('#editor-check');
    check(await waitText(page, '#editor-errors', /Line 7, column 18: unknown key 'exist'/), 'a wrong key is shown at its line and column');
    await page.fill('#editor-text', fx.definition);
    await page.click('#editor-check');
    check(await waitText(page, '#editor-status', /^The definition is valid\./), 'the corrected definition checks');
    check((await page.locator('#editor-errors li').count()) === 0, 'no error is left shown');
    await page.selectOption('#editor-project', 'diab-2026');
    await page.click('#editor-dummy');
    check(await waitText(page, '#job-status', /\(dummy-run in diab-2026\): succeeded/), 'the dummy run completes: ' + await text(page, '#job-status'));
    check(await waitText(page, '#job-measures', /Dummy data: not for release/), 'a dummy run\'s measures are shown, not for release');
    check(await waitText(page, '#job-log', /stage evaluate/), 'the job\'s log is shown');
    await page.click('#editor-run');
    check(await waitText(page, '#job-status', /\(run in diab-2026\): succeeded/), 'the run on the Ark completes: ' + await text(page, '#job-status'));
    await page.waitForSelector('button.release[data-measure="diabetes_by_gender"]');
    check(await page.locator('#job-progress').evaluate((p) => p.value === 1), 'the progress bar is full');
    check(await page.locator('#editor-cancel').isDisabled(), 'a finished job cannot be cancelled');
    check((await page.locator('#job-measures table.measure-table tbody tr').count()) > 0, 'the measure is shown as a table');
    check((await page.locator('#job-measures svg.chart rect.bar').count()) > 0, 'and as an SVG chart');
    await audit(page, 'analyst-editor');
    await page.click('button.release[data-measure="diabetes_by_gender"]');
    check(await waitText(page, '#job-measures', /Output \d+ submitted: submitted/), 'the release is requested from the page');
    await page.click('#sign-out');
    // Signed out (back on the public view) before the checker signs in on the same page.
    await page.waitForFunction(() => !document.querySelector('#who-name') && !document.querySelector('#public').hidden);
    check(await waitText(page, '#projects-status', /projects?\./), 'ana signs out');
    await signIn(page, 'chris');
    await page.goto(fx.base + '/#review');
    check(await waitText(page, '#review-body', /diabetes_by_gender/), 'the output waits in the checker\'s queue');
  },
};

async function signOut(page, user) {
  await page.click('#sign-out');
  await page.waitForFunction(() => !document.querySelector('#who-name') && !document.querySelector('#public').hidden);
  check(await waitText(page, '#projects-status', /projects?\./), user + ' signs out');
}

// The seq of the ledger's entry of `type` for output `id` (from the Ark's ledger file, as anyone
// holding a copy of the public ledger would find it).
function ledgerSeq(type, id) {
  const lines = readFileSync(fx.ark + '/ledger/entries.jsonl', 'utf8').split('\n');
  return lines.findIndex((l) => l.includes('"type":"' + type + '"') && l.includes('"output":' + id + ','));
}

// The whole story (tests/web_browser_test.cc, WebBrowser.TheWholeStory): an application, the
// committee's approval, a definition run on dummy data and on the Ark, a release requested, two
// checkers, the public register and the release's inclusion proof. Then `storyCitizen`.
scenarios.story = async (page) => {
  const id = fx.story_project;
  await signIn(page, 'ana');
  await page.fill('#apply-id', id);
  await page.fill('#apply-title', fx.story_title);
  await page.selectOption('#apply-purpose', 'research');
  await page.fill('#apply-basis', 'UK GDPR 6(1)(e), 9(2)(j)');
  await page.fill('#apply-datasets', 'dummy');
  await page.fill('#apply-start', '2026-01-01');
  await page.fill('#apply-end', '2030-12-31');
  await page.click('#apply-submit');
  check(await waitText(page, '#apply-status', new RegExp('^Application ' + id + ' submitted: pending')), 'ana applies for ' + id + ' in the page');
  await audit(page, 'story-applied');
  await signOut(page, 'ana');

  await signIn(page, 'admin');
  await page.goto(fx.base + '/#committee');
  await page.waitForSelector('button[data-decision="approve"][data-project="' + id + '"]');
  await page.fill('#reason-' + id, 'meets the criteria: research on dummy-fed data');
  await page.click('button[data-decision="approve"][data-project="' + id + '"]');
  check(await waitText(page, '#committee-status', new RegExp('^Project ' + id + ' is now approved')), 'the committee approves ' + id + ' in the page');
  await audit(page, 'story-committee');
  await signOut(page, 'admin');

  await signIn(page, 'ana');
  await page.goto(fx.base + '/#analyst');
  await page.waitForSelector('#editor-project option[value="' + id + '"]', { state: 'attached' });
  await page.fill('#editor-text', fx.definition);
  await page.click('#editor-check');
  check(await waitText(page, '#editor-status', /^The definition is valid\./), 'the definition (codes inline) checks');
  await page.selectOption('#editor-project', id);
  await page.click('#editor-dummy');
  check(await waitText(page, '#job-status', new RegExp('\\(dummy-run in ' + id + '\\): succeeded')), 'the run on dummy data completes: ' + await text(page, '#job-status'));
  check(await waitText(page, '#job-measures', /Dummy data: not for release/), 'its measures are not for release');
  await page.click('#editor-run');
  check(await waitText(page, '#job-status', new RegExp('\\(run in ' + id + '\\): succeeded')), 'the run on the Ark completes: ' + await text(page, '#job-status'));
  await page.waitForSelector('button.release[data-measure="diabetes_by_gender"]');
  await audit(page, 'story-editor');
  await page.click('button.release[data-measure="diabetes_by_gender"]');
  check(await waitText(page, '#job-measures', /Output \d+ submitted: submitted/), 'ana requests the release of the measure');
  const output = Number((await text(page, '#job-measures')).match(/Output (\d+) submitted/)[1]);
  await signOut(page, 'ana');

  // Two different checkers: the first approval waits, the second releases.
  await signIn(page, 'chris');
  await page.goto(fx.base + '/#review');
  await page.click('button[data-output="' + output + '"]');
  await page.waitForSelector('#review-reason');
  check((await text(page, '#review-detail')).includes('Disclosure checks per cell'), 'chris sees the per-cell checks');
  check(await waitText(page, '#review-reviews', /^No review yet/), 'no review yet');
  await page.fill('#review-reason', 'small counts suppressed; rounding applied');
  await page.click('#review-approve');
  check(await waitText(page, '#review-list-status', new RegExp('^Output ' + output + ' approved by you \\(waiting for a second checker\\)')), 'the first approval waits for a second checker');
  await page.click('button[data-output="' + output + '"]');
  check(await waitText(page, '#review-blocked', /you approved it: waiting for a second checker/), 'chris is told it waits for a second checker');
  check((await page.locator('#review-approve, #review-refuse').count()) === 0, 'and has no button to approve it again');
  await audit(page, 'story-first-check');
  await signOut(page, 'chris');

  await signIn(page, 'dee');
  await page.goto(fx.base + '/#review');
  await page.click('button[data-output="' + output + '"]');
  await page.waitForSelector('#review-reason');
  check(/^chris approved .*: small counts suppressed; rounding applied$/.test(await text(page, '#review-reviews li')), 'dee sees chris\'s approval');
  await page.fill('#review-reason', 'agree: nothing disclosive');
  await page.click('#review-approve');
  check(await waitText(page, '#review-list-status', new RegExp('^Output ' + output + ' approved \\(released\\)')), 'the second checker\'s approval releases it');
  await audit(page, 'story-second-check');
  await signOut(page, 'dee');

  // The public register, and the release's entry proved in the browser.
  await page.goto(fx.base + '/');
  check(await waitText(page, '#releases-status', /^2 released outputs\.$/), 'the register lists the new release');
  check(await waitRow(page, '#releases', [new RegExp('^' + output + '$'), new RegExp('^' + id + '$'), /diabetes_by_gender/, /./, /^chris, dee$/]),
    'by name, with both checkers');
  check(await waitText(page, '#ledger-status', /^Checkpoint over/), 'the checkpoint loads');
  const seq = ledgerSeq('output.released', output);
  check(seq >= 0, 'the release is on the ledger (entry ' + seq + ')');
  await page.fill('#proof-seq', String(seq));
  await page.click('#proof-check');
  await waitText(page, '#proof-result', /^(Verified|Not verified)/);
  const r = await text(page, '#proof-result');
  check(r.startsWith('Verified: entry ' + seq + ' '), 'the release\'s inclusion proof verifies in the browser: ' + r);
  const entry = await text(page, '#proof-entry');
  check(entry.includes('"type":"output.released"') && entry.includes('"output":' + output + ','), 'the proved entry is the release');
  await audit(page, 'story-public');
};

scenarios.storyCitizen = async (page) => {
  await page.goto(fx.base + '/#citizen');
  await page.fill('#citizen-code', fx.story_receipt_code);
  await page.click('#citizen-ask');
  check(await waitText(page, '#citizen-status', /^Your data was used in \d+ analysis runs?\./), 'the citizen\'s receipt lists the runs that used their data');
  check((await text(page, '#citizen-uses')).includes(fx.story_title), 'it names the story\'s project');
  await audit(page, 'story-citizen');
};

// Waits until a row of `table` has cells matching `res` (one regular expression per cell, from the first).
async function waitRow(page, table, res) {
  try {
    await page.waitForFunction(([t, srcs]) => [...document.querySelectorAll(t + ' tbody tr')].some((tr) => {
      const tds = [...tr.querySelectorAll('td')].map((td) => td.textContent);
      return srcs.every((src, k) => new RegExp(src).test(tds[k] ?? ''));
    }), [table, res.map((r) => r.source)], { timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}

// The operations view, live: HL7 v2 is sent over MLLP (`ark send-hl7`) while the page is open.
scenarios.operations = async (page) => {
  await signIn(page, 'eve');
  check(await waitText(page, '#operations-h', /^Operations$/) && !(await page.locator('#operations').isHidden()), 'the engineer lands on the operations view');
  check((await text(page, '#nav')).includes('Operations'), 'the menu offers Operations to the engineer');
  check(await waitText(page, '#ops-stream-status', /^Live: /), 'the alert stream is open');
  check(await waitText(page, '#ops-feeds-status', /^No message received since this server started\.$/), 'no feed yet');
  check(await waitText(page, '#ops-alerts-status', /^No alert yet\.$/), 'no alert yet');
  await audit(page, 'operations-empty');
  await page.evaluate(() => { window.notReloaded = true; });
  const report = JSON.parse(execFileSync(fx.ark_binary, ['send-hl7', fx.hl7_file, '--to', fx.mllp, '--json'], { encoding: 'utf8' }));
  check(report.sent === 15, 'ark send-hl7 sent 15 messages over MLLP: ' + JSON.stringify(report));
  check(await waitText(page, '#ops-alerts', /aki_stage_2_or_more \(high\): aki_stage = 3/), 'the AKI alert appears through the event stream');
  check(await waitText(page, '#ops-alerts-status', /^1 alert, newest first\.$/), 'one alert listed');
  check(await waitRow(page, '#ops-feeds', [/^RXX01$/, /^15$/]), 'the feed of RXX01 shows 15 messages');
  const row = await page.locator('#ops-feeds tbody tr').first().locator('td').allInnerTexts();
  check(row[0] === 'RXX01' && row[1] === '15' && row[4] === '14' && row[5] === '0' && row[6] === '1', 'AA 14, AE 0, AR 1 for RXX01: ' + row.join(' | '));
  check(Number(row[2]) > 0 && /^\d{4}-\d\d-\d\dT/.test(row[3]), 'a rate over the last minute and the last message time');
  check(await waitRow(page, '#ops-indicators', [/^Persons in a bed$/, /^10$/]), 'persons in a bed (12) shown under the disclosure rule: 10');
  check(await waitRow(page, '#ops-indicators', [/^Persons at AKI stage 1/, /^redacted \(7 or fewer\) \/ redacted \(7 or fewer\) \/ redacted/]),
    'counts of 7 or fewer are redacted');
  check(await waitText(page, '#ops-latency-status', /^1 alert, median at most/), 'the latency histogram counts the alert');
  const bars = await page.locator('#ops-latency-chart rect').count();
  const tall = await page.locator('#ops-latency-chart rect').evaluateAll((rs) => rs.filter((r) => Number(r.getAttribute('height')) > 0).length);
  check(bars === 17 && tall === 1, 'an SVG bar per latency bucket, one of them non-empty (' + bars + ', ' + tall + ')');
  check(await page.evaluate(() => window.notReloaded === true), 'all of it without a reload');
  check(page.sent.some((r) => r.url.endsWith('/api/v1/live/alerts/stream')), 'the page reads the alert stream (EventSource)');
  await audit(page, 'operations-live');
  await page.click('#sign-out');
  await page.waitForFunction(() => !document.getElementById('who-name') && location.hash === '#public');
  await signIn(page, 'ana');
  check(!(await text(page, '#nav')).includes('Operations'), 'an analyst has no Operations view in the menu');
  await page.goto(fx.base + '/#operations');
  check(await waitText(page, '#operations-denied', /This view is for engineer or admin users/), 'the analyst is told the operations view is not theirs');
};

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  if (!scenarios[scenario]) throw new Error('no scenario ' + scenario);
  await scenarios[scenario](await newPage(browser));
} catch (e) {
  check(false, scenario + ' ran to the end: ' + e.stack);
} finally {
  await browser.close();
}
console.log(checks + ' checks, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
