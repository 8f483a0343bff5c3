// The analyst's study-definition editor (docs/api.md, "Jobs"): write or upload a definition, check
// it (each error at its line and column), run it on dummy data or on the Ark in one of the analyst's
// projects as a job, follow the job's progress and log (polled from GET /jobs/{id}), cancel it, and
// see its measures as a table and an SVG bar chart, each with "Request release" (POST /outputs;
// only a run on the Ark). Everything is built with DOM APIs: no HTML strings, no style attributes.
import { get, post } from './api.js';
import { byId, el, setStatus } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 400;
let job = null;      // the job followed
let timer = null;

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

const finished = (j) => ['succeeded', 'failed', 'cancelled'].includes(j.state);

async function check() {
  const status = byId('editor-status');
  try {
    const r = await post('/definitions/check', { definition: byId('editor-text').value });
    showErrors(r.errors);
    setStatus(status, r.ok ? 'The definition is valid.' : r.errors.length + ' error(s) in the definition.', r.ok ? 'ok' : 'error');
    return r.ok;
  } catch (e) {
    setStatus(status, 'Not checked: ' + e.message, 'error');
    return false;
  }
}

function showErrors(errors) {
  byId('editor-errors').replaceChildren(...(errors || []).map((e) =>
    el('li', { class: 'error' }, 'Line ' + e.line + ', column ' + e.column + ': ' + e.message)));
}

async function submit(dummy) {
  const project = byId('editor-project').value;
  const status = byId('editor-status');
  if (!project) return setStatus(status, 'Choose a project first.', 'error');
  try {
    const j = await post('/projects/' + encodeURIComponent(project) + '/jobs', { definition: byId('editor-text').value, dummy });
    showErrors([]);
    setStatus(status, 'Job ' + j.id + ' queued (' + j.kind + ').', 'ok');
    follow(j);
  } catch (e) {
    setStatus(status, 'Not started: ' + e.message, 'error');
    if (e.body && e.body.errors) showErrors(e.body.errors);
    else await check();
  }
}

function follow(j) {
  job = j;
  clearTimeout(timer);
  byId('job-measures').replaceChildren();
  render();
  if (!finished(j)) timer = setTimeout(poll, POLL_MS);
}

async function poll() {
  try {
    job = await get('/jobs/' + job.id);
  } catch (e) {
    return setStatus(byId('job-status'), 'Job ' + job.id + ': ' + e.message, 'error');
  }
  render();
  if (!finished(job)) timer = setTimeout(poll, POLL_MS);
  else if (job.state === 'succeeded') await showMeasures(job);
}

function render() {
  byId('job-progress').value = job.progress;
  byId('job-progress').textContent = Math.round(job.progress * 100) + '%';
  setStatus(byId('job-status'), 'Job ' + job.id + ' (' + job.kind + ' in ' + job.project + '): ' + job.state +
    (job.state === 'running' ? ', ' + job.stage : '') + (job.error ? ' — ' + job.error : ''),
    job.state === 'succeeded' ? 'ok' : (job.state === 'failed' ? 'error' : undefined));
  byId('job-log').replaceChildren(...job.log.map((l) => el('li', {}, l.time + ' ' + l.message)));
  byId('editor-cancel').disabled = finished(job);
}

async function cancel() {
  if (!job) return;
  try {
    job = await post('/jobs/' + job.id + '/cancellation');
    render();
  } catch (e) {
    setStatus(byId('job-status'), 'Not cancelled: ' + e.message, 'error');
  }
}

// The column a chart shows: "ratio" when present, else the last column with numbers.
function valueColumn(t) {
  const i = t.columns.indexOf('ratio');
  if (i >= 0) return i;
  for (let c = t.columns.length - 1; c >= 0; c--) if (t.rows.some((r) => typeof r[c] === 'number')) return c;
  return -1;
}

function chart(t) {
  const c = valueColumn(t);
  const rows = t.rows.slice(0, 60);
  const w = 640, h = 200, pad = 24, bw = Math.max(2, (w - 2 * pad) / Math.max(1, rows.length) - 2);
  const max = Math.max(1e-9, ...rows.map((r) => (typeof r[c] === 'number' ? r[c] : 0)));
  const g = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: w, height: h, role: 'img', class: 'chart',
    'aria-label': t.name + ': ' + (c >= 0 ? t.columns[c] : 'no values') + ' by row' });
  g.append(svg('title', {}, t.name + ' (' + (c >= 0 ? t.columns[c] : '') + ')'));
  g.append(svg('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: 'axis' }));
  rows.forEach((r, i) => {
    const v = typeof r[c] === 'number' ? r[c] : 0;
    const bh = (h - 2 * pad) * v / max;
    const bar = svg('rect', { x: pad + i * (bw + 2), y: h - pad - bh, width: bw, height: bh, class: r[c] === null ? 'bar hidden-cell' : 'bar' });
    bar.append(svg('title', {}, r.map((x) => (x === null ? '—' : x)).join(', ')));
    g.append(bar);
  });
  g.append(svg('text', { x: pad, y: pad - 8, class: 'label' }, 'max ' + max));
  return g;
}

async function showMeasures(j) {
  const box = byId('job-measures');
  const parts = [];
  for (const name of j.measures) {
    const t = await get('/jobs/' + j.id + '/measures/' + encodeURIComponent(name));
    const status = el('p', { class: 'status', role: 'status' });
    const release = j.kind === 'run' ? el('button', { type: 'button', class: 'release', 'data-measure': name, onclick: async () => {
      try {
        const o = await post('/outputs', { job: j.id, measure: name });
        setStatus(status, 'Output ' + o.id + ' submitted: ' + o.state + ', checks ' + o.status + '; waiting for review.', 'ok');
        release.disabled = true;
      } catch (e) {
        setStatus(status, 'Not submitted: ' + e.message, 'error');
      }
    } }, 'Request release') : el('span', { class: 'note' }, 'Dummy data: not for release.');
    parts.push(el('section', { class: 'measure', 'aria-label': 'Measure ' + name },
      el('h3', {}, name),
      el('table', { class: 'measure-table' }, el('caption', {}, name + ' (' + t.rows.length + ' rows)'),
        el('thead', {}, el('tr', {}, ...t.columns.map((c) => el('th', { scope: 'col' }, c)))),
        el('tbody', {}, ...t.rows.map((r) => el('tr', {}, ...r.map((x) => el('td', {}, x === null ? '—' : x)))))),
      chart(t), el('div', { class: 'actions' }, release), status));
  }
  box.replaceChildren(...parts);
}

function upload() {
  const f = byId('editor-file').files[0];
  if (!f) return;
  f.text().then((text) => {
    byId('editor-text').value = text;
    setStatus(byId('editor-status'), 'Loaded ' + f.name + '.', 'ok');
  });
}

let wired = false;

export async function show(who) {
  if (!wired) {
    byId('editor-check').addEventListener('click', check);
    byId('editor-dummy').addEventListener('click', () => submit(true));
    byId('editor-run').addEventListener('click', () => submit(false));
    byId('editor-cancel').addEventListener('click', cancel);
    byId('editor-file').addEventListener('change', upload);
    wired = true;
  }
  const projects = (await get('/projects')).filter((p) => (p.people || []).includes(who.user));
  const select = byId('editor-project');
  const chosen = select.value;
  select.replaceChildren(...projects.map((p) => el('option', { value: p.id }, p.id + ' — ' + p.title + ' (' + p.status + ')')));
  if (chosen) select.value = chosen;
}
