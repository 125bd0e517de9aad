// Work queues and agents: queues with their tag filters, limits, paused
// status and run counts; agents with their queues, runs in flight and
// last heartbeat. Refreshed every 5 seconds.
import { api } from '../api.js';
import { errorBox, h, notice, replace, table, tags } from '../dom.js';
import { fmtTime, timeEl } from '../format.js';
import { every } from '../live.js';
import { heading } from './common.js';

function limitText(q) {
  if (q.concurrency_limit === null || q.concurrency_limit === undefined) return 'No limit';
  return q.concurrency_limit === 0 ? '0 (nothing runs)' : String(q.concurrency_limit);
}

export async function render(main, { signal }) {
  const queueBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const agentBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  replace(main,
    heading('Work queues and agents', 'Agents take runs from the queues they were started with (orion agent start --work-queue NAME).'),
    h('section', { 'aria-labelledby': 'queues-title' }, h('h2', { id: 'queues-title' }, 'Work queues'), queueBox),
    h('section', { 'aria-labelledby': 'agents-title' }, h('h2', { id: 'agents-title' }, 'Agents'), agentBox));

  const toggle = async (q) => {
    try {
      await api(`/work_queues/${q.id}`, { method: 'PATCH', body: { is_paused: !q.is_paused }, signal });
      notice(q.is_paused ? `Work queue ${q.name} resumed.` : `Work queue ${q.name} paused.`);
      await load();
    } catch (err) {
      if (err.name !== 'AbortError') notice(err.message, { error: true });
    }
  };
  const load = async () => {
    const [qs, stats, ag] = await Promise.all([
      api('/work_queues', { signal }), api('/work_queue_stats', { signal }), api('/agents', { signal }),
    ]);
    const byName = new Map((stats.stats || []).map((s) => [s.work_queue_name, s]));
    replace(queueBox, table('Work queues', ['Queue', 'Status', 'Tag filter', 'Concurrency limit', { label: 'Pending', num: true }, { label: 'Late', num: true }, { label: 'In flight', num: true }, 'Action'],
      (qs.work_queues || []).map((q) => {
        const s = byName.get(q.name) || {};
        return [
          h('span', {}, h('span', { class: 'name' }, q.name), q.description ? h('br') : null, q.description ? h('span', { class: 'muted' }, q.description) : null),
          q.is_paused ? h('span', { class: 'status off' }, 'Paused') : h('span', { class: 'status on' }, 'Active'),
          tags(q.tags),
          limitText(q),
          String(s.pending_runs || 0),
          String(s.late_runs || 0),
          String(s.runs_in_flight || 0),
          h('button', { type: 'button', class: 'secondary small', onclick: () => toggle(q), 'aria-label': `${q.is_paused ? 'Resume' : 'Pause'} work queue ${q.name}` }, q.is_paused ? 'Resume' : 'Pause'),
        ];
      }), { empty: 'No work queues yet: a deployment creates its queue, or orion work-queue create NAME.' }));
    replace(agentBox, table('Agents', ['Agent', 'Status', 'Work queues', { label: 'Runs in flight', num: true }, 'Last heartbeat', 'Host', 'Version'],
      (ag.agents || []).map((a) => [
        h('span', { class: 'name' }, a.name),
        a.connected ? h('span', { class: 'status on' }, 'Connected') : h('span', { class: 'status off' }, 'Disconnected'),
        tags(a.work_queues),
        a.limit ? `${a.runs_in_flight} / ${a.limit}` : String(a.runs_in_flight || 0),
        h('span', { title: fmtTime(a.last_heartbeat_time) }, timeEl(a.last_heartbeat_time)),
        a.hostname || '—',
        a.version || '—',
      ]), { empty: 'No agents have connected. Start one: orion agent start --work-queue default' }));
  };
  await load();
  every(5000, signal, load, (err) => replace(queueBox, errorBox(err)));
}
