// The output checker's queue: every output with its automatic disclosure checks and review state;
// a submitted output opens with its per-cell SDC results, to approve or refuse with a reason.
// Two people: the server refuses a checker's decision on their own output (and this view does not
// offer it); an output is released only when two different checkers approve it, so a checker who
// has approved sees that it waits for a second checker, and no buttons.
import { get, post } from './api.js';
import { byId, el, fillTable, plural, setStatus } from './dom.js';

let who = null;

// Why `o` cannot be decided by the signed-in checker, or '' when it can.
function blocked(o) {
  if (o.state !== 'submitted') return 'already ' + o.state + (o.checker ? ' by ' + o.checker : '');
  if (o.author === who.user) return 'you wrote it: another checker must review it';
  if (!who.roles.includes('output_checker')) return 'only an output checker decides';
  if ((o.reviews || []).some((v) => v.checker === who.user && v.decision === 'approve')) return 'you approved it: waiting for a second checker';
  return '';
}

function reviewsList(reviews) {
  if (!reviews || !reviews.length) return el('p', { id: 'review-reviews' }, 'No review yet: two different checkers must approve it.');
  return el('ul', { id: 'review-reviews', 'aria-label': 'Reviews so far' },
    ...reviews.map((v) => el('li', {}, v.checker + ' ' + (v.decision === 'approve' ? 'approved' : 'refused') + ' (' + v.at + '): ' + v.reason)));
}

function stateOf(o) {
  const approvals = (o.reviews || []).filter((v) => v.decision === 'approve').length;
  return o.state === 'submitted' && approvals ? 'submitted, ' + approvals + ' of 2 approvals' : o.state;
}

function cellsTable(outcome) {
  const cols = [...new Set(outcome.flatMap((c) => Object.keys(c)))];
  const fmt = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
  return el('table', {},
    el('caption', {}, 'Disclosure checks per cell'),
    el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, ...outcome.map((cell) => el('tr', {}, ...cols.map((c) => el('td', {}, fmt(cell[c])))))));
}

async function open(id) {
  const box = byId('review-detail');
  box.hidden = false;
  const o = await get('/outputs/' + id);
  const result = o.results && o.results.results ? Object.values(o.results.results)[0] : null;
  const parts = [
    el('h2', { id: 'review-detail-h', tabindex: '-1' }, 'Output ' + o.id + ': ' + o.name),
    el('p', {}, 'Project ' + o.project + ', run ' + o.run + ', written by ' + o.author + '. Automatic checks: ' + o.status +
      (result && result.summary ? ' (' + result.summary + ')' : '') + '.'),
  ];
  if (result && Array.isArray(result.outcome) && result.outcome.length) parts.push(cellsTable(result.outcome));
  parts.push(el('h3', {}, 'Reviews'), reviewsList(o.reviews));
  const why = blocked(o);
  if (why) {
    parts.push(el('p', { class: 'note', id: 'review-blocked' }, 'You cannot decide this output: ' + why + '.'));
  } else {
    const reason = el('textarea', { id: 'review-reason', rows: '3', required: true });
    const status = el('p', { role: 'status', id: 'review-status' });
    const decide = (decision) => async () => {
      if (!reason.value.trim()) return setStatus(status, 'Give a reason: every decision has one.', 'error');
      try {
        const r = await post('/outputs/' + o.id + '/review', { decision, reason: reason.value.trim() });
        await queue();
        const outcome = r.state === 'approved' ? 'released' : r.state === 'submitted' ? 'waiting for a second checker' : 'not released';
        setStatus(byId('review-list-status'), 'Output ' + r.id + ' ' + (r.state === 'submitted' ? 'approved by you' : r.state) + ' (' + outcome + ').', 'ok');
        box.hidden = true;
      } catch (e) {
        setStatus(status, 'Refused: ' + e.message, 'error');
      }
    };
    if (o.status === 'fail') parts.push(el('p', { class: 'note' }, 'It failed the automatic checks: it can only be refused.'));
    parts.push(el('label', { for: 'review-reason' }, 'Reason (on the ledger)'), reason,
      el('div', { class: 'actions' },
        o.status === 'fail' ? '' : el('button', { type: 'button', id: 'review-approve', onclick: decide('approve') }, 'Approve'),
        el('button', { type: 'button', id: 'review-refuse', class: 'danger', onclick: decide('reject') }, 'Refuse')),
      status);
  }
  box.replaceChildren(...parts);
  byId('review-detail-h').focus();
}

async function queue() {
  const rows = await get('/outputs');
  fillTable(byId('review-list'), rows, [
    { get: (o) => o.id }, { get: (o) => o.project }, { get: (o) => o.name }, { get: (o) => o.author },
    { get: (o) => o.status }, { get: (o) => stateOf(o) }, { get: (o) => o.submitted_at },
    { get: (o) => el('button', { type: 'button', class: 'small', 'data-output': o.id, onclick: () => open(o.id).catch((e) => setStatus(byId('review-list-status'), e.message, 'error')) },
      blocked(o) ? 'View' : 'Review', el('span', { class: 'visually-hidden' }, ' output ' + o.id)) },
  ]);
  const waiting = rows.filter((o) => !blocked(o)).length;
  setStatus(byId('review-list-status'), plural(rows.length, 'output') + ', ' + waiting + ' waiting for you.');
}

export function show(principal) {
  who = principal;
  byId('review-detail').hidden = true;
  return queue();
}
