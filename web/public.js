// The public view: the register of projects, released outputs, the ledger's latest signed
// checkpoint, and an inclusion proof of any entry checked in this browser (proof.js).
import { get } from './api.js';
import { byId, el, fillTable, list, plural, setStatus } from './dom.js';
import { verifyProof } from './proof.js';

async function load(statusId, what, fn) {
  try {
    await fn();
  } catch (e) {
    setStatus(byId(statusId), 'Could not load ' + what + ': ' + e.message, 'error');
  }
}

const projects = () => load('projects-status', 'the register', async () => {
  const rows = await get('/projects');
  fillTable(byId('projects'), rows, [
    { get: (p) => p.id }, { get: (p) => p.title }, { get: (p) => p.purpose }, { get: (p) => p.legal_basis },
    { get: (p) => list(p.datasets) }, { get: (p) => p.start }, { get: (p) => p.end }, { get: (p) => p.status },
  ]);
  setStatus(byId('projects-status'), plural(rows.length, 'project') + '.');
});

const releases = () => load('releases-status', 'the releases', async () => {
  const rows = await get('/releases');
  fillTable(byId('releases'), rows, [
    { get: (o) => o.id }, { get: (o) => o.project }, { get: (o) => o.name }, { get: (o) => o.status },
    { get: (o) => (o.reviews || []).filter((v) => v.decision === 'approve').map((v) => v.checker).join(', ') },
    { get: (o) => o.decided_at }, { get: (o) => o.sha256, cls: 'hash' },
  ]);
  setStatus(byId('releases-status'), plural(rows.length, 'released output') + '.');
});

const checkpoint = () => load('ledger-status', 'the checkpoint', async () => {
  const cp = await get('/ledger/checkpoint');
  byId('ledger').replaceChildren(...[['Origin', cp.origin], ['Entries', cp.size], ['Root (SHA-256)', cp.root],
    ['Verifier key', cp.verifier_key]].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  byId('checkpoint-note').value = cp.checkpoint;
  const seq = byId('proof-seq');
  seq.max = String(cp.size - 1);
  if (!seq.value) seq.value = String(cp.size - 1);
  if (!byId('proof-key').value) byId('proof-key').value = cp.verifier_key;
  setStatus(byId('ledger-status'), 'Checkpoint over ' + cp.size + (cp.size === 1 ? ' ledger entry' : ' ledger entries') + '.');
});

async function check(event) {
  event.preventDefault();
  const out = byId('proof-result');
  const seq = byId('proof-seq').value.trim();
  setStatus(out, 'Checking entry ' + seq + '…');
  try {
    const proof = await get('/ledger/proof/' + encodeURIComponent(seq));
    byId('proof-entry').textContent = proof.entry;
    const r = await verifyProof(proof, byId('proof-key').value, byId('proof-held').value);
    if (r.ok) setStatus(out, 'Verified: entry ' + proof.leafIdx + ' is in the ledger ' + r.origin + ' of ' + r.size + ' entries, under its signed checkpoint (checked in this browser).', 'ok');
    else setStatus(out, 'Not verified: ' + r.why + '.', 'error');
  } catch (e) {
    setStatus(out, 'Not verified: the proof could not be fetched (' + e.message + ').', 'error');
  }
}

let wired = false;
export function show() {
  if (!wired) {
    byId('proof-form').addEventListener('submit', check);
    wired = true;
  }
  return Promise.all([projects(), releases(), checkpoint()]);
}
