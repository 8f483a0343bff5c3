// The analyst's view: the definition editor and its jobs (editor.js), the runs of their projects
// (GET /api/v1/runs: recorded runs, population as a size band) and the outputs they submitted with
// their review state (GET /api/v1/outputs).
// An analyst also applies for a project here (POST /api/v1/projects; the committee decides).
import { get, post } from './api.js';
import { byId, fillTable, plural, setStatus } from './dom.js';
import * as editor from './editor.js';

const words = (id) => byId(id).value.split(',').map((w) => w.trim()).filter((w) => w);

async function apply(event) {
  event.preventDefault();
  const status = byId('apply-status');
  try {
    const p = await post('/projects', {
      id: byId('apply-id').value.trim(), title: byId('apply-title').value.trim(), purpose: byId('apply-purpose').value,
      legal_basis: byId('apply-basis').value.trim(), datasets: words('apply-datasets'), people: words('apply-people'),
      start: byId('apply-start').value, end: byId('apply-end').value,
    });
    setStatus(status, 'Application ' + p.id + ' submitted: ' + p.status + ' until the committee decides.', 'ok');
  } catch (e) {
    setStatus(status, 'Not submitted: ' + e.message, 'error');
  }
}

let wired = false;

export async function show(who) {
  if (!wired) {
    byId('apply-form').addEventListener('submit', apply);
    wired = true;
  }
  if (!byId('apply-people').value) byId('apply-people').value = who.user;
  await editor.show(who);
  const [runs, all] = await Promise.all([get('/runs'), get('/outputs')]);
  const outputs = all.filter((o) => o.author === who.user);  // a checker's queue holds others' too
  fillTable(byId('analyst-runs'), runs, [
    { get: (r) => r.id }, { get: (r) => r.project }, { get: (r) => r.user }, { get: (r) => r.at },
    { get: () => 'recorded' }, { get: (r) => r.population_band }, { get: (r) => r.definition_hash, cls: 'hash' },
  ]);
  setStatus(byId('analyst-runs-status'), plural(runs.length, 'run') + '.');
  fillTable(byId('analyst-outputs'), outputs, [
    { get: (o) => o.id }, { get: (o) => o.project }, { get: (o) => o.run }, { get: (o) => o.name },
    { get: (o) => o.status }, { get: (o) => o.state + (o.checker ? ' by ' + o.checker : '') }, { get: (o) => o.reason },
  ]);
  setStatus(byId('analyst-outputs-status'), plural(outputs.length, 'output') + ', ' +
    outputs.filter((o) => o.state === 'submitted').length + ' waiting for review.');
}
