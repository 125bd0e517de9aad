// The dashboard's shell: client-side routing with the History API (the
// server answers every page path with index.html), the token dialog, and
// page lifetimes (each page gets an AbortSignal that ends its fetches and
// streams when the user navigates away).
import { getToken, setToken, tokenRemembered } from './api.js';
import { errorBox, h, replace } from './dom.js';
import * as deployments from './pages/deployments.js';
import * as deployment from './pages/deployment.js';
import * as runs from './pages/runs.js';
import * as run from './pages/run.js';
import * as queues from './pages/queues.js';

const routes = [
  [/^\/(?:deployments\/?)?$/, deployments, 'deployments'],
  [/^\/deployments\/([^/]+)$/, deployment, 'deployments'],
  [/^\/flow-runs\/?$/, runs, 'flow-runs'],
  [/^\/flow-runs\/([^/]+)$/, run, 'flow-runs'],
  [/^\/work-queues\/?$/, queues, 'work-queues'],
];

const main = document.getElementById('main');
let current = null; // {controller}

/** navigate goes to an in-app URL without reloading. */
export function navigate(url, { replace: rep = false } = {}) {
  if (rep) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

/** setQuery updates the URL's query string in place (filters). */
export function setQuery(params) {
  const u = new URL(location.href);
  for (const [k, v] of Object.entries(params)) {
    if (v) u.searchParams.set(k, v);
    else u.searchParams.delete(k);
  }
  history.replaceState(null, '', u.pathname + u.search);
}

async function render({ focus = true } = {}) {
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const path = location.pathname;
  let page = null, params = [], section = '';
  for (const [re, mod, sec] of routes) {
    const m = re.exec(path);
    if (m) { page = mod; params = m.slice(1).map(decodeURIComponent); section = sec; break; }
  }
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (!page) {
    document.title = 'Not found · Orion';
    replace(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/deployments' }, 'Go to the deployments')));
    return;
  }
  try {
    await page.render(main, { params, query: new URLSearchParams(location.search), signal: controller.signal, navigate, setQuery });
  } catch (err) {
    if (err.name === 'AbortError' || controller.signal.aborted) return;
    replace(main, h('h1', {}, err.isAuth ? 'API token needed' : 'Something went wrong'), errorBox(err));
  }
  if (focus && !controller.signal.aborted) main.focus({ preventScroll: true });
}

// In-app links: plain left clicks on same-origin links that are not API
// or asset paths are routed here.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/ui/')) return;
  if (url.hash && url.pathname === location.pathname) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
  window.scrollTo(0, 0);
});
window.addEventListener('popstate', () => render());

// Token dialog.
const dialog = document.getElementById('token-dialog');
const input = document.getElementById('token-input');
const remember = document.getElementById('token-remember');
const tokenButton = document.getElementById('token-button');
const reason = document.getElementById('token-reason');
const defaultReason = reason.textContent;

function markToken() { tokenButton.classList.toggle('has-token', Boolean(getToken())); }

function openTokenDialog(message) {
  if (dialog.open) return;
  reason.textContent = message ? `${message} ${defaultReason}` : defaultReason;
  input.value = getToken();
  remember.checked = tokenRemembered();
  dialog.showModal();
  input.focus();
}

tokenButton.addEventListener('click', () => openTokenDialog(''));
dialog.addEventListener('close', () => {
  prompted = '';
  if (dialog.returnValue === 'save') setToken(input.value.trim(), remember.checked);
  else if (dialog.returnValue === 'clear') setToken('', false);
  else return;
  markToken();
  render();
});
window.addEventListener('orion:token', () => openTokenDialog(''));
// A refused call (401) opens the dialog once per page; 403 only shows the
// page's message, since another token is a deliberate choice.
let prompted = '';
window.addEventListener('orion:auth', (e) => {
  if (e.detail.status === 401 && prompted !== location.pathname) {
    prompted = location.pathname;
    openTokenDialog(e.detail.message + '.');
  }
});

markToken();
render({ focus: false });
