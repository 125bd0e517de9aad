// The public HTTP API (grpc-gateway under /api/v1): JSON with snake_case
// field names, errors as {code, message}, server streams as
// newline-delimited {"result": ...} / {"error": ...} objects.

const TOKEN_KEY = 'orion.api_token';

/** The API token, from this tab's session or the browser's storage. */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || '';
}

/** Whether the token is remembered in the browser's storage. */
export function tokenRemembered() {
  return Boolean(localStorage.getItem(TOKEN_KEY));
}

/** Stores the token (remember: in localStorage, else for this tab only). */
export function setToken(token, remember) {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  if (!token) return;
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

/** ApiError is a refused or failed call; status is the HTTP status. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
  /** True for a missing or refused token (401) or scope (403). */
  get isAuth() { return this.status === 401 || this.status === 403; }
}

// HTTP statuses of gRPC codes, as grpc-gateway maps them (for stream errors).
const GRPC_HTTP = { 3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 10: 409, 14: 503, 16: 401 };

function headers(json) {
  const h = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

/** query turns {k: v | [v...]} into a query string, skipping empty values. */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item !== undefined && item !== null && item !== '') q.append(k, String(item));
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function announce(err) {
  if (err instanceof ApiError && err.isAuth) {
    window.dispatchEvent(new CustomEvent('orion:auth', { detail: err }));
  }
  return err;
}

/** api calls one unary route and returns its decoded JSON. */
export async function api(path, { method = 'GET', body, params, signal } = {}) {
  let res;
  try {
    res = await fetch(`/api/v1${path}${query(params)}`, {
      method, signal, headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached. Is `orion server start` running?');
  }
  const text = await res.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text.trim() }; }
  if (!res.ok) throw announce(new ApiError(res.status, data.message || res.statusText, data.code));
  return data;
}

/**
 * stream reads a server-streaming route and calls onMessage with each
 * result until the server ends the stream (it resolves) or fails (it
 * rejects with an ApiError). Abort signal to stop.
 */
export async function stream(path, { params, signal, onMessage }) {
  let res;
  try {
    res = await fetch(`/api/v1${path}${query(params)}`, { headers: headers(false), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached.');
  }
  if (!res.ok) {
    let data = {};
    try { data = JSON.parse(await res.text()); } catch { /* not JSON */ }
    throw announce(new ApiError(res.status, data.message || res.statusText, data.code));
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (msg.error) {
        const e = msg.error;
        throw announce(new ApiError(GRPC_HTTP[e.code] || 500, e.message, e.code));
      }
      if (msg.result) onMessage(msg.result);
    }
  }
}

/** listAll pages through a list route and returns every item of key. */
export async function listAll(path, key, { params = {}, signal, max = 5000 } = {}) {
  const out = [];
  let token = '';
  do {
    const page = await api(path, { params: { ...params, page_size: 1000, page_token: token }, signal });
    out.push(...(page[key] || []));
    token = page.next_page_token || '';
  } while (token && out.length < max);
  return out;
}
