// The citizen's view: with the receipt code their GP practice issued, a citizen sees every use of
// their data (POST /api/v1/citizen/receipt) and can record a local objection
// (POST /api/v1/citizen/objection), which applies from the next run. No sign-in; the code is sent
// in the body (never in the URL) and kept only in the form.
import { post } from './api.js';
import { byId, el, fillTable, plural, setStatus } from './dom.js';

const PURPOSE = { research: 'research', planning: 'planning', direct_care: 'direct care' };

function render(r) {
  byId('citizen-result').hidden = false;
  fillTable(byId('citizen-uses'), r.uses, [
    { get: (u) => u.date }, { get: (u) => u.project }, { get: (u) => u.title }, { get: (u) => PURPOSE[u.purpose] || u.purpose },
  ]);
  const objection = byId('citizen-objection');
  objection.textContent = r.objected
    ? 'Your objection is on record: from the next analysis on, projects whose opt-outs apply leave your data out.'
    : 'You have not objected here.' + (r.optouts.length ? ' Opt-outs on record for you: ' + r.optouts.join(', ') + '.' : '');
  byId('citizen-object').hidden = r.objected;
  setStatus(byId('citizen-status'), r.uses.length
    ? 'Your data was used in ' + plural(r.uses.length, 'analysis run') + '.'
    : 'No recorded use of your data.', 'ok');
}

const code = () => byId('citizen-code').value.trim();

async function ask(event) {
  event.preventDefault();
  const status = byId('citizen-status');
  try {
    render(await post('/citizen/receipt', { code: code() }));
  } catch (e) {
    byId('citizen-result').hidden = true;
    setStatus(status, 'No receipt: ' + e.message, 'error');
  }
}

async function object() {
  const status = byId('citizen-status');
  try {
    render(await post('/citizen/objection', { code: code() }));
    setStatus(status, 'Your objection is recorded and on the public ledger (without your code or identity).', 'ok');
  } catch (e) {
    setStatus(status, 'Objection not recorded: ' + e.message, 'error');
  }
}

let bound = false;
export async function show() {
  if (bound) return;
  bound = true;
  byId('citizen-form').addEventListener('submit', ask);
  byId('citizen-object').addEventListener('click', object);
}
