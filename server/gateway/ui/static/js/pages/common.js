// Pieces shared by several pages.
import { api } from '../api.js';
import { h, link, shortType, typeLabel } from '../dom.js';
import { fmtTime, relative } from '../format.js';
import { describeSchedule } from '../schedule.js';

/** fullName is "flow/deployment". */
export const fullName = (d) => `${d.flow_name}/${d.name}`;

/** scheduleCell shows a schedule in words and whether it is active. */
export function scheduleCell(d) {
  const s = describeSchedule(d.schedule);
  if (!s) return h('span', { class: 'muted' }, 'No schedule');
  return h('span', {},
    s.text, s.tz ? h('span', { class: 'muted' }, ` ${s.tz}`) : null, ' ',
    d.is_schedule_active ? h('span', { class: 'status on' }, 'Active') : h('span', { class: 'status off' }, 'Paused'));
}

/** marks shows runs (oldest to newest, left to right) as coloured links
 * whose names say their state and time. */
export function marks(runs) {
  if (!runs || !runs.length) return h('span', { class: 'marks' }, h('span', { class: 'none' }, 'No runs yet'));
  return h('span', { class: 'marks', role: 'list', 'aria-label': 'Last runs, oldest first' },
    [...runs].reverse().map((r) => {
      const label = `${r.name}: ${r.state_name || typeLabel(r.state_type)}, ${relative(r.state_time)}`;
      return h('a', { href: `/flow-runs/${r.id}`, class: `mark st-${shortType(r.state_type)}`, role: 'listitem', 'aria-label': label, title: `${label} (${fmtTime(r.state_time)})` });
    }));
}

/** summaries fetches ListDeploymentRunSummaries for ids (in chunks that
 * keep URLs short) and returns them by deployment id. */
export async function summaries(ids, { recent = 10, signal } = {}) {
  const out = new Map();
  for (let i = 0; i < ids.length; i += 80) {
    const resp = await api('/deployment_run_summaries', { params: { deployment_ids: ids.slice(i, i + 80), recent_runs: recent }, signal });
    for (const s of resp.summaries || []) out.set(s.deployment_id, s);
  }
  return out;
}

/** deploymentLink links to a run's deployment, if it has one. */
export function deploymentLink(r) {
  if (!r.deployment_id) return h('span', { class: 'muted' }, r.flow_name);
  return link(`/deployments/${r.deployment_id}`, `${r.flow_name}/${r.deployment_name}`);
}

/** agentNames maps agent ids to names (for "the agent that ran it"). */
export async function agentNames(signal) {
  const resp = await api('/agents', { signal });
  return new Map((resp.agents || []).map((a) => [a.id, a]));
}

/** heading is a page's h1 row with optional subtitle and actions. */
export function heading(title, sub, ...actions) {
  document.title = `${title} · Orion`;
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), sub ? h('p', { class: 'sub' }, sub) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}
