// Flow run: state, timings, parameters, the agent, the state timeline and
// the logs, live while the run goes on (two streams: watch and logs), with
// Cancel and Retry.
import { api, stream } from '../api.js';
import { errorBox, h, link, notice, replace, stateBadge, TERMINAL, typeLabel } from '../dom.js';
import { fmtDuration, fmtTime, relative, seconds, toDate } from '../format.js';
import { sleep } from '../live.js';
import { agentNames, deploymentLink, heading } from './common.js';

const LEVELS = { 10: 'DEBUG', 20: 'INFO', 30: 'WARNING', 40: 'ERROR', 50: 'CRITICAL' };
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', fractionalSecondDigits: 3 });

/** lateness is how late the run started (or is, while it waits). */
function lateness(r) {
  const expected = toDate(r.expected_start_time);
  if (!expected) return null;
  const start = toDate(r.start_time);
  if (start) return Math.max(0, (start - expected) / 1000);
  if (r.state?.type === 'STATE_TYPE_SCHEDULED' && Date.now() > expected) return (Date.now() - expected) / 1000;
  return null;
}

function duration(r) {
  const total = seconds(r.total_run_time);
  if (r.state?.type === 'STATE_TYPE_RUNNING' && toDate(r.state.timestamp)) {
    return (total || 0) + (Date.now() - toDate(r.state.timestamp)) / 1000;
  }
  if (total) return total;
  const start = toDate(r.start_time), end = toDate(r.end_time);
  return start && end ? (end - start) / 1000 : null;
}

export async function render(main, { params: [id], signal }) {
  let run = (await api(`/flow_runs/${id}`, { signal })).flow_run;
  let agents = new Map();
  agentNames(signal).then((m) => { agents = m; drawFacts(); }).catch(() => {});

  const badge = h('span', { id: 'run-state', 'aria-live': 'polite' });
  const cancelBtn = h('button', { type: 'button', class: 'danger', id: 'cancel-button' }, 'Cancel');
  const retryBtn = h('button', { type: 'button', class: 'secondary', id: 'retry-button' }, 'Retry');
  const facts = h('dl', { class: 'kv', id: 'run-timings' });
  const params = h('div', {});
  const timeline = h('ol', { class: 'timeline', id: 'run-timeline' });
  const logs = h('ol', { class: 'logs', id: 'run-logs', role: 'log', 'aria-label': 'Flow run logs', tabindex: '0' }, h('li', { class: 'empty' }, 'No logs yet.'));
  const logStatus = h('span', { class: 'live', id: 'log-status' }, 'live');

  const drawHead = () => {
    replace(badge, stateBadge(run.state?.type, run.state?.name, true));
    const terminal = TERMINAL.has(run.state?.type);
    cancelBtn.hidden = terminal;
    cancelBtn.disabled = run.state?.type === 'STATE_TYPE_CANCELLING';
    retryBtn.hidden = !terminal || !run.deployment_id;
  };
  const drawTimings = () => {
    const a = agents.get(run.agent_id);
    const late = lateness(run);
    replace(facts,
      h('dt', {}, 'State'), h('dd', {}, `${run.state?.name || typeLabel(run.state?.type)}${run.state?.message ? ` — ${run.state.message}` : ''}`),
      h('dt', {}, 'Expected start'), h('dd', {}, fmtTime(run.expected_start_time)),
      run.next_scheduled_start_time ? [h('dt', {}, 'Scheduled for'), h('dd', {}, `${fmtTime(run.next_scheduled_start_time)} (${relative(run.next_scheduled_start_time)})`)] : null,
      h('dt', {}, 'Started'), h('dd', {}, fmtTime(run.start_time)),
      h('dt', {}, 'Ended'), h('dd', {}, fmtTime(run.end_time)),
      h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(duration(run))),
      h('dt', {}, 'Lateness'), h('dd', {}, late === null ? '—' : fmtDuration(late)),
      h('dt', {}, 'Run count'), h('dd', {}, String(run.run_count || 0)),
      h('dt', {}, 'Agent'), h('dd', {}, run.agent_id ? (a ? `${a.name} (${a.hostname || run.agent_id})` : run.agent_id) : h('span', { class: 'muted' }, 'none yet')),
      h('dt', {}, 'Work queue'), h('dd', {}, run.work_queue_name || '—'),
      run.infrastructure_pid ? [h('dt', {}, 'Process'), h('dd', { class: 'mono' }, run.infrastructure_pid)] : null,
      h('dt', {}, 'Id'), h('dd', { class: 'mono' }, run.id));
  };
  const drawParams = () => {
    const entries = Object.entries(run.parameters || {});
    replace(params, entries.length
      ? h('dl', { class: 'kv', id: 'run-parameters' }, entries.map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, JSON.stringify(v))]))
      : h('p', { class: 'muted' }, 'No parameters.'));
  };
  const drawFacts = () => { drawTimings(); drawParams(); };
  const drawStates = async () => {
    const resp = await api(`/flow_runs/${id}/states`, { signal });
    replace(timeline, (resp.states || []).map((s) => h('li', {},
      stateBadge(s.type, s.name), h('time', { class: 'when', datetime: s.timestamp }, fmtTime(s.timestamp)),
      s.message ? h('p', { class: 'msg' }, s.message) : null)));
  };
  // take keeps the newest copy of the run: an action's answer can arrive
  // after the watch stream already showed a later state (a cancel that
  // completed at once), and must not put the page back in time.
  const take = (next) => {
    if (!next || BigInt(next.modify_index || 0) < BigInt(run.modify_index || 0)) return false;
    run = next;
    return true;
  };
  const act = async (btn, path, done) => {
    btn.disabled = true;
    try {
      const resp = await api(`/flow_runs/${id}/${path}`, { method: 'POST', body: {}, signal });
      take(resp.flow_run);
      const res = resp.result;
      if (res && res.status !== 'ORCHESTRATION_STATUS_ACCEPT') notice(res.reason || res.status, { error: true });
      else notice(done);
      drawHead(); drawFacts(); await drawStates();
      if (path === 'retry' && res?.status === 'ORCHESTRATION_STATUS_ACCEPT') { followLogs(); watch(); }
    } catch (err) {
      if (err.name !== 'AbortError') notice(err.message, { error: true });
    } finally {
      drawHead();
    }
  };
  cancelBtn.addEventListener('click', () => act(cancelBtn, 'cancel', 'Cancellation requested.'));
  retryBtn.addEventListener('click', () => act(retryBtn, 'retry', 'The run was sent back to be run again.'));

  drawHead(); drawFacts();
  replace(main,
    heading(run.name, null, badge, cancelBtn, retryBtn),
    h('p', { class: 'sub muted' }, 'Flow run of ', deploymentLink(run), ' · created ', fmtTime(run.create_time)),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'run-facts' }, h('h2', { id: 'run-facts' }, 'Details and timings'), facts),
      h('section', { class: 'card', 'aria-labelledby': 'run-states' }, h('h2', { id: 'run-states' }, 'State timeline'), timeline),
      h('section', { class: 'card', 'aria-labelledby': 'run-params' }, h('h2', { id: 'run-params' }, 'Parameters'), params)),
    h('section', { class: 'card', 'aria-labelledby': 'run-logs-title' }, h('h2', { id: 'run-logs-title' }, 'Logs ', logStatus), logs));
  await drawStates();

  // Logs: follow from the last line shown; the server ends the stream when
  // the run is terminal and every line was sent. Broken streams resume.
  let lastSeq = 0;
  let following = false;
  const addLog = (l) => {
    if (Number(l.seq) <= lastSeq) return;
    lastSeq = Number(l.seq);
    logs.querySelector('.empty')?.remove();
    const atBottom = logs.scrollHeight - logs.scrollTop - logs.clientHeight < 40;
    const lvl = LEVELS[l.level] || String(l.level);
    const d = toDate(l.timestamp);
    logs.append(h('li', { class: `lvl-${lvl}` },
      h('span', { class: 't' }, d ? timeOnly.format(d) : ''), h('span', { class: 'lvl' }, `${lvl.padEnd(8)} ${l.name}`), h('span', { class: 'm' }, l.message)));
    if (atBottom) logs.scrollTop = logs.scrollHeight;
  };
  async function followLogs() {
    if (following) return;
    following = true;
    logStatus.hidden = false;
    let backoff = 1000;
    try {
      while (!signal.aborted) {
        try {
          await stream(`/flow_runs/${id}/logs/follow`, { params: { after_seq: lastSeq }, signal, onMessage: (m) => m.log && addLog(m.log) });
          break; // the run is over and every line arrived
        } catch (err) {
          if (err.name === 'AbortError' || signal.aborted) return;
          if (err.status === 404 || err.isAuth) { logs.append(h('li', {}, errorBox(err))); break; }
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 15000);
        }
      }
    } catch { return; } finally {
      following = false;
    }
    logStatus.hidden = true;
  }

  // Watch: the run now and after every change; ends after a terminal state.
  let watching = false;
  async function watch() {
    if (watching) return;
    watching = true;
    try {
      await watchLoop();
    } finally {
      watching = false;
    }
  }
  async function watchLoop() {
    let backoff = 1000;
    while (!signal.aborted) {
      try {
        await stream(`/flow_runs/${id}/watch`, {
          signal,
          onMessage: (m) => {
            const before = run.state?.id;
            if (!take(m.flow_run)) return;
            drawHead(); drawFacts();
            if (run.state?.id !== before) drawStates().catch(() => {});
          },
        });
        if (TERMINAL.has(run.state?.type)) return; // a retry watches again
      } catch (err) {
        if (err.name === 'AbortError' || signal.aborted) return;
        if (err.status === 404 || err.isAuth) return;
      }
      await sleep(backoff, signal).catch(() => {});
      backoff = Math.min(backoff * 2, 15000);
    }
  }
  followLogs();
  watch();
  // Durations and lateness of a running run move with the clock.
  const tick = setInterval(() => { if (!TERMINAL.has(run.state?.type)) drawTimings(); }, 1000);
  signal.addEventListener('abort', () => clearInterval(tick), { once: true });
}
