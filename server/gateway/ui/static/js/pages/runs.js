// Flow runs: every run, newest first, filtered by state and deployment,
// with a chart of run counts by state over time. Kept current by a
// blocking query, so changes show without reloading.
import { api, listAll } from '../api.js';
import { errorBox, h, link, replace, stateBadge, STATE_TYPES, table, typeLabel } from '../dom.js';
import { fmtDuration, fmtTime, seconds, timeEl } from '../format.js';
import { historyChart } from '../chart.js';
import { follow } from '../live.js';
import { deploymentLink, fullName, heading } from './common.js';

// Chart windows: span and bar width.
const WINDOWS = {
  '1h': [3600e3, 120e3, 'the last hour'],
  '24h': [86400e3, 1800e3, 'the last 24 hours'],
  '7d': [7 * 86400e3, 4 * 3600e3, 'the last 7 days'],
};

export async function render(main, { query, signal, setQuery }) {
  const stateSel = h('select', { id: 'run-state' }, h('option', { value: '' }, 'All states'),
    STATE_TYPES.map((t) => h('option', { value: t, selected: query.get('state') === t }, typeLabel(t))));
  const depSel = h('select', { id: 'run-deployment' }, h('option', { value: '' }, 'All deployments'));
  const winSel = h('select', { id: 'run-window' }, Object.entries(WINDOWS).map(([k, w]) => h('option', { value: k, selected: (query.get('window') || '24h') === k }, w[2])));
  const chartBox = h('div', {}, h('p', { class: 'muted' }, 'Loading chart…'));
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading runs…'));
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  replace(main,
    heading('Flow runs', 'Every run across deployments, newest first.'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', {}, h('label', { for: 'run-state' }, 'State'), stateSel),
      h('div', {}, h('label', { for: 'run-deployment' }, 'Deployment'), depSel),
      h('div', {}, h('label', { for: 'run-window' }, 'Chart window'), winSel)),
    h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, chartBox),
    h('section', { 'aria-labelledby': 'runs-title' },
      h('h2', { id: 'runs-title' }, 'Runs ', h('span', { class: 'live' }, 'live')), listBox, more));

  const deps = await listAll('/deployments', 'deployments', { signal });
  const want = query.get('deployment') || '';
  depSel.append(...deps.map((d) => h('option', { value: d.id, selected: d.id === want }, fullName(d))));

  let limit = 50;
  let chartAt = 0;
  const filters = () => ({
    deployment_id: depSel.value,
    state_types: stateSel.value ? [`STATE_TYPE_${stateSel.value}`] : [],
  });
  const drawChart = async () => {
    const [span, step, label] = WINDOWS[winSel.value];
    const end = Math.ceil(Date.now() / step) * step;
    const resp = await api('/flow_run_history', {
      params: { ...filters(), start_time: new Date(end - span).toISOString(), end_time: new Date(end).toISOString(), interval: `${step / 1000}s` }, signal,
    });
    const title = `Runs created in ${label}, by current state`;
    replace(chartBox, h('figure', { class: 'chart' },
      h('figcaption', {}, h('h2', { id: 'chart-title' }, 'Runs over time'), h('span', { class: 'muted' }, title)),
      historyChart(resp.intervals || [], { title })));
    chartAt = Date.now();
  };
  const drawList = (resp) => {
    const runs = resp.flow_runs || [];
    more.hidden = !resp.next_page_token || limit >= 1000;
    replace(listBox, table('Flow runs', ['Run', 'Deployment', 'State', 'Scheduled / expected start', 'Started', 'Duration'], runs.map((r) => [
      link(`/flow-runs/${r.id}`, h('span', { class: 'name' }, r.name)),
      deploymentLink(r),
      stateBadge(r.state?.type, r.state?.name),
      h('span', {}, timeEl(r.next_scheduled_start_time || r.expected_start_time), h('br'), h('span', { class: 'muted' }, fmtTime(r.next_scheduled_start_time || r.expected_start_time))),
      r.start_time ? timeEl(r.start_time) : h('span', { class: 'muted' }, '—'),
      fmtDuration(seconds(r.total_run_time) || null),
    ]), { empty: 'No runs match. Run a deployment from its page, or: orion deployment run FLOW/DEPLOYMENT' }));
  };
  const list = async (waitIndex, sig) => {
    const resp = await api('/flow_runs', { params: { ...filters(), page_size: limit, wait_index: waitIndex }, signal: sig });
    drawList(resp);
    // The chart follows the list's changes, at most every 5 seconds.
    if (waitIndex && Date.now() - chartAt > 5000) drawChart().catch(() => {});
    return resp.index;
  };

  // A change of filter restarts the page's live loop.
  let loop = null;
  signal.addEventListener('abort', () => loop?.abort(), { once: true });
  const restart = async () => {
    setQuery({ state: stateSel.value, deployment: depSel.value, window: winSel.value === '24h' ? '' : winSel.value });
    loop?.abort();
    loop = new AbortController();
    const s = loop.signal;
    try {
      const [index] = await Promise.all([list(0, s), drawChart()]);
      follow(s, index, (i) => list(i, s), (err) => replace(listBox, errorBox(err)));
    } catch (err) {
      if (err.name !== 'AbortError') replace(listBox, errorBox(err));
    }
  };
  for (const sel of [stateSel, depSel]) sel.addEventListener('change', restart);
  winSel.addEventListener('change', () => {
    setQuery({ window: winSel.value === '24h' ? '' : winSel.value });
    drawChart().catch((err) => replace(chartBox, errorBox(err)));
  });
  more.addEventListener('click', () => { limit = Math.min(limit + 50, 1000); restart(); });
  await restart();
}
