// The Ark's public register: reads /api/v1/projects, /api/v1/releases and
// /api/v1/ledger/checkpoint and renders them with textContent only (never as HTML).
'use strict';

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
}

function setStatus(id, text, error) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.classList.toggle('error', !!error);
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body && body.error) || ('HTTP ' + res.status));
  return body;
}

function fill(tableId, statusId, rows, columns, noun) {
  const tbody = document.querySelector('#' + tableId + ' tbody');
  tbody.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const c of columns) cell(tr, c.get(r), c.cls);
    tbody.appendChild(tr);
  }
  setStatus(statusId, rows.length + ' ' + noun + (rows.length === 1 ? '' : 's') + '.', false);
}

const list = (v) => (Array.isArray(v) ? v.join(', ') : v);

async function loadProjects() {
  try {
    const rows = await getJson('/api/v1/projects');
    fill('projects', 'projects-status', rows, [
      { get: (p) => p.id }, { get: (p) => p.title }, { get: (p) => p.purpose },
      { get: (p) => p.legal_basis }, { get: (p) => list(p.datasets) }, { get: (p) => p.start },
      { get: (p) => p.end }, { get: (p) => p.status },
    ], 'project');
  } catch (e) {
    setStatus('projects-status', 'Could not load the register: ' + e.message, true);
  }
}

async function loadReleases() {
  try {
    const rows = await getJson('/api/v1/releases');
    fill('releases', 'releases-status', rows, [
      { get: (o) => o.id }, { get: (o) => o.project }, { get: (o) => o.name },
      { get: (o) => o.status }, { get: (o) => o.decided_at }, { get: (o) => o.sha256, cls: 'hash' },
    ], 'released output');
  } catch (e) {
    setStatus('releases-status', 'Could not load the releases: ' + e.message, true);
  }
}

async function loadCheckpoint() {
  try {
    const cp = await getJson('/api/v1/ledger/checkpoint');
    const dl = document.getElementById('ledger');
    dl.replaceChildren();
    for (const [k, v] of [['Origin', cp.origin], ['Entries', cp.size], ['Root (SHA-256)', cp.root],
      ['Verifier key', cp.verifier_key]]) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = String(v);
      dl.append(dt, dd);
    }
    document.getElementById('checkpoint-note').value = cp.checkpoint;
    setStatus('ledger-status', 'Checkpoint over ' + cp.size + ' ledger entries.', false);
  } catch (e) {
    setStatus('ledger-status', 'Could not load the checkpoint: ' + e.message, true);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  loadProjects();
  loadReleases();
  loadCheckpoint();
});
