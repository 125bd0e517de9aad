// Deployment: its spec, upcoming and past runs, and the Run and
// pause/resume actions.
import { api } from '../api.js';
import { errorBox, h, link, notice, replace, stateBadge, table, tags } from '../dom.js';
import { fmtDuration, fmtTime, seconds, timeEl, toDate } from '../format.js';
import { follow } from '../live.js';
import { fullName, heading, scheduleCell } from './common.js';
import { runForm } from './runform.js';

const json = (v) => h('pre', {}, JSON.stringify(v ?? {}, null, 2));

export async function render(main, { params: [id], signal, navigate }) {
  let dep = (await api(`/deployments/${id}`, { signal })).deployment;
  const upcoming = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const history = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const formBox = h('section', { class: 'card', id: 'run-form', 'aria-labelledby': 'run-title', hidden: true },
    h('h2', { id: 'run-title' }, 'Run with parameters'));
  const runBtn = h('button', { type: 'button', id: 'run-button', 'aria-expanded': 'false', 'aria-controls': 'run-form' }, 'Run');
  const pauseBtn = h('button', { type: 'button', class: 'secondary', id: 'schedule-toggle' });
  const summary = h('dl', { class: 'kv' });

  const drawSummary = () => {
    pauseBtn.hidden = !dep.schedule;
    pauseBtn.textContent = dep.is_schedule_active ? 'Pause schedule' : 'Resume schedule';
    replace(summary,
      h('dt', {}, 'Schedule'), h('dd', {}, scheduleCell(dep)),
      h('dt', {}, 'Work queue'), h('dd', {}, dep.work_queue_name || 'default'),
      h('dt', {}, 'Tags'), h('dd', {}, tags(dep.tags)),
      h('dt', {}, 'Retries'), h('dd', {}, dep.retries ? `${dep.retries}, ${fmtDuration(seconds(dep.retry_delay))} apart` : 'none'),
      h('dt', {}, 'Concurrency limit'), h('dd', {}, dep.concurrency_limit ?? 'none'),
      h('dt', {}, 'Created'), h('dd', {}, fmtTime(dep.create_time)),
      h('dt', {}, 'Updated'), h('dd', {}, fmtTime(dep.update_time)),
      h('dt', {}, 'Id'), h('dd', { class: 'mono' }, dep.id));
  };
  runBtn.addEventListener('click', () => {
    const open = formBox.hidden;
    formBox.hidden = !open;
    runBtn.setAttribute('aria-expanded', String(open));
    if (open) formBox.querySelector('input, button[type=submit]')?.focus();
  });
  pauseBtn.addEventListener('click', async () => {
    pauseBtn.disabled = true;
    try {
      dep = (await api(`/deployments/${dep.id}/schedule_active`, { method: 'POST', body: { active: !dep.is_schedule_active }, signal })).deployment;
      notice(dep.is_schedule_active ? 'Schedule resumed.' : 'Schedule paused: runs not yet started were removed.');
      drawSummary();
    } catch (err) {
      if (err.name !== 'AbortError') notice(err.message, { error: true });
    } finally {
      pauseBtn.disabled = false;
    }
  });
  formBox.append(runForm(dep, {
    signal,
    onCreated: (run) => {
      notice(`Created flow run ${run.name}.`);
      navigate(`/flow-runs/${run.id}`);
    },
  }));

  const source = h('details', { id: 'flow-source' }, h('summary', {}, 'Flow source'), h('p', { class: 'muted' }, 'Loading…'));
  source.addEventListener('toggle', async () => {
    if (!source.open || source.dataset.loaded) return;
    source.dataset.loaded = '1';
    try {
      const src = await api(`/flow_sources/${encodeURIComponent(dep.flow_source_digest)}`, { signal });
      replace(source, h('summary', {}, `Flow source: ${src.file_name || 'script'}`), h('pre', {}, h('code', {}, src.text)));
    } catch (err) {
      source.append(errorBox(err));
    }
  }, { signal });

  drawSummary();
  replace(main,
    heading(fullName(dep), dep.description || `Deployment of flow ${dep.flow_name}`, runBtn, pauseBtn),
    formBox,
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'dep-summary' }, h('h2', { id: 'dep-summary' }, 'Summary'), summary),
      h('section', { class: 'card', 'aria-labelledby': 'dep-spec' }, h('h2', { id: 'dep-spec' }, 'Flow'),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Kind'), h('dd', {}, (dep.flow_kind || '').replace('FLOW_KIND_', '').toLowerCase()),
          dep.flow_location ? [h('dt', {}, 'Location'), h('dd', { class: 'mono' }, dep.flow_location)] : null,
          dep.command?.length ? [h('dt', {}, 'Command'), h('dd', { class: 'mono' }, dep.command.join(' '))] : null,
          h('dt', {}, 'Source'), h('dd', {}, dep.push_to_server ? 'pushed to the server' : 'read by the agent from its own disk')),
        dep.push_to_server && dep.flow_source_digest ? source : null),
      h('section', { class: 'card', 'aria-labelledby': 'dep-params' }, h('h2', { id: 'dep-params' }, 'Default parameters'), json(dep.parameters),
        h('details', {}, h('summary', {}, 'Parameter schema'), json(dep.parameter_schema))),
      h('section', { class: 'card', 'aria-labelledby': 'dep-infra' }, h('h2', { id: 'dep-infra' }, 'Infrastructure'),
        h('dl', { class: 'kv' }, h('dt', {}, 'Type'), h('dd', {}, dep.infrastructure?.type || 'subprocess')),
        Object.keys(dep.infrastructure?.env || {}).length ? [h('h3', {}, 'Environment'), json(dep.infrastructure.env)] : null,
        dep.infrastructure?.config && Object.keys(dep.infrastructure.config).length ? [h('h3', {}, 'Settings'), json(dep.infrastructure.config)] : null)),
    h('section', { 'aria-labelledby': 'dep-upcoming' }, h('h2', { id: 'dep-upcoming' }, 'Upcoming runs'), upcoming),
    h('section', { 'aria-labelledby': 'dep-history' }, h('h2', { id: 'dep-history' }, 'Run history ', h('span', { class: 'live' }, 'live')), history));

  // Upcoming runs and history come from one list, kept current by a
  // blocking query (wait_index): it returns as soon as anything changes.
  const draw = (runs) => {
    const now = Date.now();
    const isUpcoming = (r) => r.state?.type === 'STATE_TYPE_SCHEDULED' && toDate(r.next_scheduled_start_time) > now;
    const next = runs.filter(isUpcoming).sort((a, b) => toDate(a.next_scheduled_start_time) - toDate(b.next_scheduled_start_time));
    replace(upcoming, table('Upcoming runs', ['Run', 'Scheduled for', 'Time'], next.slice(0, 10).map((r) => [
      link(`/flow-runs/${r.id}`, r.name), fmtTime(r.next_scheduled_start_time), timeEl(r.next_scheduled_start_time),
    ]), { empty: dep.schedule && !dep.is_schedule_active ? 'The schedule is paused.' : 'No scheduled runs.' }),
    next.length > 10 ? h('p', { class: 'muted' }, `and ${next.length - 10} more`) : null);
    const past = runs.filter((r) => !isUpcoming(r)).slice(0, 50);
    replace(history, table('Run history', ['Run', 'State', 'Expected start', 'Started', 'Duration', 'Parameters'], past.map((r) => [
      link(`/flow-runs/${r.id}`, h('span', { class: 'name' }, r.name)),
      stateBadge(r.state?.type, r.state?.name),
      timeEl(r.expected_start_time),
      r.start_time ? fmtTime(r.start_time) : h('span', { class: 'muted' }, '—'),
      fmtDuration(seconds(r.total_run_time) || null),
      h('code', {}, JSON.stringify(r.parameters || {})),
    ]), { empty: 'No runs yet: press Run.' }));
  };
  const list = async (waitIndex) => {
    const resp = await api('/flow_runs', { params: { deployment_id: dep.id, page_size: 200, wait_index: waitIndex }, signal });
    draw(resp.flow_runs || []);
    return resp.index;
  };
  const index = await list(0);
  follow(signal, index, list, (err) => replace(history, errorBox(err)));
}
