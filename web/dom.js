// Small DOM helpers: every text goes in with textContent, never as HTML.

// el('td', {class: 'hash'}, 'text', child) → a new element.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ''));
  return e;
}

export const byId = (id) => document.getElementById(id);

// Sets a status line; kind 'error' or 'ok' colours it.
export function setStatus(node, text, kind) {
  node.textContent = text;
  node.classList.toggle('error', kind === 'error');
  node.classList.toggle('ok', kind === 'ok');
}

// Fills table's tbody: one row per item, one cell per column {get(item) → text or Node, cls}.
export function fillTable(table, items, columns) {
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren(...items.map((it) => el('tr', {}, ...columns.map((c) => el('td', { class: c.cls }, c.get(it))))));
}

export const list = (v) => (Array.isArray(v) ? v.join(', ') : v);

export const plural = (n, noun) => n + ' ' + noun + (n === 1 ? '' : 's');
