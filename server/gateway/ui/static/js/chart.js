// A stacked bar chart of run counts by state over time (SVG), with a
// legend and a text summary for screen readers.
import { h, shortType, typeLabel } from './dom.js';

const ORDER = ['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED', 'CANCELLING', 'RUNNING', 'PENDING', 'SCHEDULED', 'PAUSED'];

/** stateColors reads each state's colour from the stylesheet, once a draw. */
function stateColors() {
  const style = getComputedStyle(document.documentElement);
  return Object.fromEntries(ORDER.map((t) => [t, style.getPropertyValue(`--st-${t.toLowerCase()}`).trim() || '#6b7280']));
}

const tickFmt = (span) => new Intl.DateTimeFormat(undefined, span > 2 * 86400e3
  ? { month: 'short', day: 'numeric' }
  : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** historyChart renders GetFlowRunHistory intervals. */
export function historyChart(intervals, { title }) {
  const W = 1000, H = 170, top = 8, bottom = 22, left = 34;
  const colors = stateColors();
  const totals = {};
  let max = 0;
  const bars = intervals.map((iv) => {
    const counts = {};
    let sum = 0;
    for (const c of iv.counts || []) {
      const t = shortType(c.state_type);
      counts[t] = c.count;
      totals[t] = (totals[t] || 0) + c.count;
      sum += c.count;
    }
    max = Math.max(max, sum);
    return { start: new Date(iv.start_time), end: new Date(iv.end_time), counts, sum };
  });
  const ymax = Math.max(1, niceMax(max));
  const plotH = H - top - bottom;
  const bw = (W - left) / Math.max(1, bars.length);
  const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title, focusable: 'false' });
  for (const frac of [0, 0.5, 1]) {
    const y = top + plotH * (1 - frac);
    svg.append(h('svg:line', { x1: left, x2: W, y1: y, y2: y, class: 'grid-line' }));
    svg.append(h('svg:text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round(ymax * frac))));
  }
  bars.forEach((b, i) => {
    let y = top + plotH;
    const x = left + i * bw + Math.min(2, bw * 0.15);
    const w = Math.max(1, bw - Math.min(4, bw * 0.3));
    for (const t of ORDER) {
      const n = b.counts[t];
      if (!n) continue;
      const hgt = (n / ymax) * plotH;
      y -= hgt;
      const rect = h('svg:rect', { x, y, width: w, height: Math.max(hgt, 0.5), fill: colors[t] });
      rect.append(h('svg:title', {}, `${n} ${typeLabel(t)}, ${b.start.toLocaleString()}`));
      svg.append(rect);
    }
  });
  const span = bars.length ? bars[bars.length - 1].end - bars[0].start : 0;
  const fmt = tickFmt(span);
  const ticks = Math.min(6, bars.length);
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k * (bars.length - 1)) / Math.max(1, ticks - 1));
    const anchor = k === 0 ? 'start' : k === ticks - 1 ? 'end' : 'middle';
    const x = anchor === 'start' ? left + i * bw : anchor === 'end' ? left + (i + 1) * bw : left + i * bw + bw / 2;
    svg.append(h('svg:text', { x, y: H - 6, 'text-anchor': anchor, class: 'axis' }, fmt.format(bars[i].start)));
  }
  const present = ORDER.filter((t) => totals[t]);
  const summary = present.length
    ? present.map((t) => `${totals[t]} ${typeLabel(t)}`).join(', ')
    : 'No runs in this window.';
  return [
    svg,
    h('ul', { class: 'legend', 'aria-label': 'Runs in the window by state' },
      present.length
        ? present.map((t) => h('li', {}, swatch(colors[t]), `${typeLabel(t)}: ${totals[t]}`))
        : h('li', { class: 'muted' }, summary)),
  ];
}

/** swatch is a legend colour square (coloured through the CSSOM, which the
 * CSP allows, unlike inline style attributes). */
function swatch(color) {
  const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  el.style.background = color;
  return el;
}

function niceMax(n) {
  if (n <= 5) return n;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return n;
}
