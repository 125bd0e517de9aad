// Deployments: names, tags, schedules in words, work queues, next runs and
// the last runs' states; filter by name and tag.
import { listAll } from '../api.js';
import { errorBox, h, link, replace, table, tags } from '../dom.js';
import { timeEl } from '../format.js';
import { every } from '../live.js';
import { fullName, heading, marks, scheduleCell, summaries } from './common.js';

export async function render(main, { query, signal, setQuery }) {
  const nameInput = h('input', { id: 'dep-filter', type: 'search', value: query.get('q') || '', placeholder: 'flow or deployment name', autocomplete: 'off' });
  const tagSelect = h('select', { id: 'dep-tag' }, h('option', { value: '' }, 'All tags'));
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading deployments…'));
  replace(main,
    heading('Deployments', 'Stored configurations for running flows. Create one with orion deployment create FILE.'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', {}, h('label', { for: 'dep-filter' }, 'Filter by name'), nameInput),
      h('div', {}, h('label', { for: 'dep-tag' }, 'Tag'), tagSelect),
      count),
    body);

  let deps = [], sums = new Map();
  const draw = () => {
    const q = nameInput.value.trim().toLowerCase();
    const tag = tagSelect.value;
    setQuery({ q: nameInput.value.trim(), tag });
    const shown = deps.filter((d) => (!q || fullName(d).toLowerCase().includes(q)) && (!tag || (d.tags || []).includes(tag)));
    count.textContent = deps.length ? `${shown.length} of ${deps.length} deployments` : '';
    if (!deps.length) {
      replace(body, h('div', { class: 'card empty' },
        h('p', {}, 'No deployments yet.'),
        h('p', {}, 'Create one from the quickstart: ', h('code', {}, 'orion deployment create examples/hello/flow.py'))));
      return;
    }
    replace(body, table('Deployments', ['Deployment', 'Tags', 'Schedule', 'Work queue', 'Next run', 'Last runs'],
      shown.map((d) => {
        const s = sums.get(d.id);
        return [
          link(`/deployments/${d.id}`, h('span', { class: 'name' }, fullName(d))),
          tags(d.tags),
          scheduleCell(d),
          d.work_queue_name || 'default',
          s?.next_run ? timeEl(s.next_run.next_scheduled_start_time) : h('span', { class: 'muted' }, '—'),
          marks(s?.recent_runs),
        ];
      }), { empty: 'No deployment matches the filter.' }));
  };
  const load = async () => {
    deps = await listAll('/deployments', 'deployments', { signal });
    sums = deps.length ? await summaries(deps.map((d) => d.id), { signal }) : new Map();
    const allTags = [...new Set(deps.flatMap((d) => d.tags || []))].sort();
    const want = tagSelect.value || query.get('tag') || '';
    replace(tagSelect, h('option', { value: '' }, 'All tags'), allTags.map((t) => h('option', { value: t, selected: t === want }, t)));
    draw();
  };
  nameInput.addEventListener('input', draw);
  tagSelect.addEventListener('change', draw);
  await load();
  every(5000, signal, load, (err) => replace(body, errorBox(err)));
}
