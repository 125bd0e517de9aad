// Keeping pages current without reloading: periodic refreshes that pause
// while the tab is hidden, and blocking-query loops (wait_index) that wake
// on the server's next change.

/** sleep resolves after ms, or rejects when signal aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const abort = () => { clearTimeout(t); reject(new DOMException('aborted', 'AbortError')); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', abort); resolve(); }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** whenVisible resolves once the tab is visible. */
function whenVisible(signal) {
  if (document.visibilityState === 'visible') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      document.removeEventListener('visibilitychange', on);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const on = () => { if (document.visibilityState === 'visible') done(); };
    document.addEventListener('visibilitychange', on);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * every calls fn every ms until signal aborts (not while the tab is
 * hidden). Errors are passed to onError and the loop goes on.
 */
export async function every(ms, signal, fn, onError) {
  while (!signal.aborted) {
    try {
      await sleep(ms, signal);
      await whenVisible(signal);
      if (!signal.aborted) await fn();
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      onError?.(err);
    }
  }
}

/**
 * follow runs a blocking-query loop: fn(waitIndex) lists with wait_index
 * and returns the response's index. At most one refresh per minGap ms; a
 * failed call backs off before trying again.
 */
export async function follow(signal, index, fn, onError, minGap = 1000) {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      await whenVisible(signal);
      const started = Date.now();
      index = await fn(index);
      backoff = 1000;
      const gap = minGap - (Date.now() - started);
      if (gap > 0) await sleep(gap, signal);
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      onError?.(err);
      await sleep(backoff, signal).catch(() => {});
      backoff = Math.min(backoff * 2, 30000);
    }
  }
}
