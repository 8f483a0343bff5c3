// The Ark's web app: one page, one view at a time (chosen by the URL's #fragment), each read from
// the API /api/v1 with the signed-in session's cookie. Plain ES modules, no framework; all text
// goes into the page with textContent (never as HTML), under a strict Content-Security-Policy.
import { ApiError, me, signIn, signOut } from './api.js';
import * as analyst from './analyst.js';
import * as citizen from './citizen.js';
import * as committee from './committee.js';
import * as operations from './operations.js';
import { byId, el, setStatus } from './dom.js';
import * as publicView from './public.js';
import * as review from './review.js';

// view → its title, the roles that may use it (none: anyone), and how it loads.
const VIEWS = {
  public: { title: 'Public register', show: publicView.show },
  citizen: { title: 'Your data', show: citizen.show },
  'sign-in': { title: 'Sign in', show: async () => {} },
  review: { title: 'Output checking', roles: ['output_checker', 'admin'], show: review.show },
  committee: { title: 'Committee', roles: ['admin'], show: committee.show },
  analyst: { title: 'My runs and outputs', roles: ['analyst'], show: analyst.show },
  operations: { title: 'Operations', roles: ['engineer', 'admin'], show: operations.show },
};

let who = null;

const allowed = (view) => !view.roles || (who && view.roles.some((r) => who.roles.includes(r)));

function renderNav() {
  const links = Object.entries(VIEWS).filter(([name, v]) => allowed(v) && !(name === 'sign-in' && who));
  byId('nav').replaceChildren(...links.map(([name, v]) => el('li', {}, el('a', { href: '#' + name, 'data-view': name }, v.title))));
  const box = byId('who');
  if (!who) return box.replaceChildren();
  box.replaceChildren(el('span', { id: 'who-name' }, 'Signed in as ' + who.user + ' (' + who.roles.join(', ') + ')'),
    el('button', { type: 'button', id: 'sign-out', class: 'small', onclick: doSignOut }, 'Sign out'));
}

async function route() {
  const name = VIEWS[location.hash.slice(1)] ? location.hash.slice(1) : 'public';
  const view = VIEWS[name];
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== name;
  for (const a of document.querySelectorAll('#nav a')) a.toggleAttribute('aria-current', a.dataset.view === name);
  document.title = 'Ark — ' + view.title;
  const denied = byId(name + '-denied');
  if (denied) denied.hidden = allowed(view);
  if (!allowed(view)) {
    byId(name + '-body').hidden = true;
    denied.textContent = who
      ? 'This view is for ' + view.roles.join(' or ') + ' users; you are signed in as ' + who.user + ' (' + who.roles.join(', ') + ').'
      : 'This view is for ' + view.roles.join(' or ') + ' users: sign in first.';
    return;
  }
  if (byId(name + '-body')) byId(name + '-body').hidden = false;
  try {
    await view.show(who);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      who = null;
      renderNav();
    }
    if (denied) {
      denied.hidden = false;
      denied.textContent = 'Could not load this view: ' + e.message;
    }
  }
}

async function doSignIn(event) {
  event.preventDefault();
  const status = byId('sign-in-status');
  try {
    who = await signIn(byId('sign-in-user').value.trim(), byId('sign-in-token').value.trim());
    byId('sign-in-token').value = '';
    renderNav();
    const first = Object.entries(VIEWS).find(([n, v]) => v.roles && allowed(v));
    location.hash = first ? first[0] : 'public';
  } catch (e) {
    setStatus(status, 'Not signed in: ' + e.message, 'error');
  }
}

async function doSignOut() {
  await signOut().catch(() => {});
  who = null;
  renderNav();
  location.hash = 'public';
  route();
}

document.addEventListener('DOMContentLoaded', async () => {
  byId('sign-in-form').addEventListener('submit', doSignIn);
  window.addEventListener('hashchange', route);
  who = await me().catch(() => null);
  renderNav();
  await route();
  document.body.dataset.ready = 'true';
});
