// The committee's view (admins decide applications): every project with its status and the
// actions its status allows, always with a reason: a pending application is approved or rejected
// (POST /api/v1/projects/{id}/decision); an approved project is suspended or revoked, a suspended
// one reinstated or revoked (/suspension, /reinstatement, /revocation); a pending, approved or
// suspended project's end date is amended (/amendment). ACTIONS lists them per status.
import { get, post } from './api.js';
import { byId, el, fillTable, list, plural, setStatus } from './dom.js';

// [key, label, path under the project, body besides the reason]
const APPROVE = ['approve', 'Approve', 'decision', { decision: 'approve' }];
const REJECT = ['reject', 'Reject', 'decision', { decision: 'reject' }];
const SUSPEND = ['suspend', 'Suspend', 'suspension', {}];
const REINSTATE = ['reinstate', 'Reinstate', 'reinstatement', {}];
const REVOKE = ['revoke', 'Revoke', 'revocation', {}];
const ACTIONS = {
  pending: [APPROVE, REJECT],
  approved: [SUSPEND, REVOKE],
  suspended: [REINSTATE, REVOKE],
};
const AMENDABLE = ['pending', 'approved', 'suspended'];
const SAFE = ['approve', 'reinstate'];

// A new end date and a button that amends it (the other terms: `ark project amend` or the API).
function amendControls(p, reason, act) {
  if (!AMENDABLE.includes(p.status)) return [];
  const end = el('input', { type: 'date', id: 'end-' + p.id, 'aria-label': 'New end date for project ' + p.id, value: p.end });
  const amend = async () => act(['amend', 'Amend', 'amendment', { end: end.value }])();
  return [end, el('button', { type: 'button', class: 'small', 'data-decision': 'amend', 'data-project': p.id, onclick: amend },
    'Amend end date', el('span', { class: 'visually-hidden' }, ' of ' + p.id))];
}

function decideForm(p) {
  const actions = ACTIONS[p.status] || [];
  if (!actions.length && !AMENDABLE.includes(p.status)) return el('span', { class: 'muted' }, 'no action open');
  const id = 'reason-' + p.id;
  const reason = el('input', { type: 'text', id, 'aria-label': 'Reason for project ' + p.id, placeholder: 'reason (on the ledger)' });
  const status = byId('committee-status');
  const act = ([key, , path, extra]) => async () => {
    if (!reason.value.trim()) return setStatus(status, 'Give a reason to ' + key + ' ' + p.id + ': every decision has one.', 'error');
    try {
      const r = await post('/projects/' + encodeURIComponent(p.id) + '/' + path, { ...extra, reason: reason.value.trim() });
      await load();
      setStatus(status, 'Project ' + r.id + ' is now ' + r.status + (key === 'amend' ? ', ending ' + r.end : '') + '.', 'ok');
    } catch (e) {
      setStatus(status, 'Refused: ' + e.message, 'error');
    }
  };
  return el('div', { class: 'decide' }, reason, ...actions.map((a) =>
    el('button', { type: 'button', class: SAFE.includes(a[0]) ? 'small' : 'small danger', 'data-decision': a[0], 'data-project': p.id, onclick: act(a) },
      a[1], el('span', { class: 'visually-hidden' }, ' ' + p.id))), ...amendControls(p, reason, act));
}

async function load() {
  const rows = await get('/projects');
  fillTable(byId('committee-list'), rows, [
    { get: (p) => p.id }, { get: (p) => p.title }, { get: (p) => p.purpose }, { get: (p) => list(p.people) },
    { get: (p) => p.start + ' to ' + p.end }, { get: (p) => p.status + (p.approved_by ? ' (' + p.approved_by + ')' : '') },
    { get: decideForm },
  ]);
  const open = rows.filter((p) => p.status === 'pending').length;
  setStatus(byId('committee-status'), plural(rows.length, 'project') + ', ' + open + ' waiting for a decision.');
}

export const show = () => load();
