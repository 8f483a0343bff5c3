// The committee's view (admins decide applications): every project with its status; a pending
// application can be approved or rejected, always with a reason, through
// POST /api/v1/projects/{id}/decision. The API offers no other decision today (no suspend,
// revoke or amend): ACTIONS lists, per status, the decisions this view offers.
import { get, post } from './api.js';
import { byId, el, fillTable, list, plural, setStatus } from './dom.js';

const ACTIONS = {
  pending: [['approve', 'Approve'], ['reject', 'Reject']],
};

function decideForm(p) {
  const actions = ACTIONS[p.status] || [];
  if (!actions.length) return el('span', { class: 'muted' }, 'no decision open');
  const id = 'reason-' + p.id;
  const reason = el('input', { type: 'text', id, 'aria-label': 'Reason for project ' + p.id, placeholder: 'reason (on the ledger)' });
  const status = byId('committee-status');
  const decide = (decision) => async () => {
    if (!reason.value.trim()) return setStatus(status, 'Give a reason for the decision on ' + p.id + ': every decision has one.', 'error');
    try {
      const r = await post('/projects/' + encodeURIComponent(p.id) + '/decision', { decision, reason: reason.value.trim() });
      await load();
      setStatus(status, 'Project ' + r.id + ' is now ' + r.status + '.', 'ok');
    } catch (e) {
      setStatus(status, 'Refused: ' + e.message, 'error');
    }
  };
  return el('div', { class: 'decide' }, reason, ...actions.map(([d, label]) =>
    el('button', { type: 'button', class: d === 'approve' ? 'small' : 'small danger', 'data-decision': d, 'data-project': p.id, onclick: decide(d) },
      label, el('span', { class: 'visually-hidden' }, ' ' + p.id))));
}

async function load() {
  const rows = await get('/projects');
  fillTable(byId('committee-list'), rows, [
    { get: (p) => p.id }, { get: (p) => p.title }, { get: (p) => p.purpose }, { get: (p) => list(p.people) },
    { get: (p) => p.start + ' to ' + p.end }, { get: (p) => p.status + (p.approved_by ? ' (' + p.approved_by + ')' : '') },
    { get: decideForm },
  ]);
  const open = rows.filter((p) => (ACTIONS[p.status] || []).length).length;
  setStatus(byId('committee-status'), plural(rows.length, 'project') + ', ' + open + ' waiting for a decision.');
}

export const show = () => load();
