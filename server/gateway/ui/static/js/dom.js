// Small DOM helpers: h() builds elements (text is always set as text, never
// parsed as HTML), plus the pieces every page shares.

/**
 * h(tag, attrs, ...children) creates an element. attrs: plain attributes,
 * `class`, `dataset`, `on*` listeners and boolean properties (`disabled`,
 * `hidden`, `checked`). Children: nodes, strings, numbers, arrays, or
 * null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (!svg && (k === 'disabled' || k === 'hidden' || k === 'checked' || k === 'selected' || k === 'value')) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** replace empties el and appends children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** shortType is "COMPLETED" for "STATE_TYPE_COMPLETED". */
export function shortType(t) { return String(t || '').replace('STATE_TYPE_', '') || 'UNSPECIFIED'; }

/** title case of a type: "Completed". */
export function typeLabel(t) {
  const s = shortType(t).toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** stateBadge shows a state's name on its colour ("Late" is a Scheduled colour). */
export function stateBadge(type, name, big = false) {
  const label = name || typeLabel(type);
  return h('span', { class: `state st-${shortType(type)}${big ? ' big' : ''}`, title: typeLabel(type) }, label);
}

export const TERMINAL = new Set(['STATE_TYPE_COMPLETED', 'STATE_TYPE_FAILED', 'STATE_TYPE_CANCELLED', 'STATE_TYPE_CRASHED']);

export const STATE_TYPES = ['SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLING', 'CANCELLED', 'CRASHED', 'PAUSED'];

/** tags renders tag chips. */
export function tags(list) {
  if (!list || !list.length) return h('span', { class: 'muted' }, '—');
  return list.map((t) => h('span', { class: 'tag' }, t));
}

/** link is an in-app link (the router intercepts clicks). */
export function link(href, ...children) { return h('a', { href }, ...children); }

/** table builds a table with th scope=col headers; rows are arrays of cells
 * ({label} is taken from the header for narrow screens). The first cell of
 * each row is its header cell (th scope=row). */
export function table(caption, headers, rows, { empty = 'Nothing to show.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty card' }, empty);
  const head = h('thead', {}, h('tr', {}, headers.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label ?? c))));
  const body = h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, i) => {
    const hd = headers[i];
    const tag = i === 0 ? 'th' : 'td';
    return h(tag, { scope: i === 0 ? 'row' : null, 'data-label': hd.label ?? hd, class: hd.num ? 'num' : null }, cell);
  }))));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'cards' },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null, head, body));
}

/** notice shows a message in the page's live status region. */
export function notice(message, { error = false } = {}) {
  const el = document.getElementById('notice');
  replace(el, h('p', { class: error ? 'error' : null }, message));
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => el.replaceChildren(), error ? 12000 : 6000);
}

/** errorBox is an inline alert for a failed load. */
export function errorBox(err) {
  const box = h('div', { class: 'alert', role: 'alert' }, h('p', {}, err.message || String(err)));
  if (err.isAuth) {
    box.append(h('p', {}, err.status === 401
      ? 'This server requires an API token.'
      : 'Your API token does not allow this. Use a token with a wider scope.'));
    box.append(h('button', { type: 'button', onclick: () => window.dispatchEvent(new CustomEvent('orion:token')) }, 'Enter API token'));
  }
  return box;
}
