// Formatting of times, durations and JSON values for display.

import { h } from './dom.js';

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** toDate parses an RFC 3339 timestamp; null for empty. */
export function toDate(ts) {
  if (!ts) return null;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d;
}

/** fmtTime is the local date and time, or "—". */
export function fmtTime(ts) {
  const d = toDate(ts);
  return d ? dateFmt.format(d) : '—';
}

/** relative is "3 minutes ago" / "in 2 hours". */
export function relative(ts, now = Date.now()) {
  const d = toDate(ts);
  if (!d) return '—';
  const s = (d.getTime() - now) / 1000;
  const a = Math.abs(s);
  if (a < 45) return rel.format(Math.round(s), 'second');
  if (a < 2700) return rel.format(Math.round(s / 60), 'minute');
  if (a < 64800) return rel.format(Math.round(s / 3600), 'hour');
  return rel.format(Math.round(s / 86400), 'day');
}

/** timeEl is a <time> showing a relative time, absolute in its title. */
export function timeEl(ts) {
  const d = toDate(ts);
  if (!d) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: d.toISOString(), title: fmtTime(ts) }, relative(ts));
}

/** seconds parses a protobuf Duration in JSON ("12.5s"). */
export function seconds(dur) {
  if (dur === null || dur === undefined || dur === '') return null;
  const n = parseFloat(String(dur));
  return Number.isFinite(n) ? n : null;
}

/** fmtDuration is "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min", "3 d 4 h". */
export function fmtDuration(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return '—';
  const neg = secs < 0;
  let s = Math.abs(secs);
  let out;
  if (s < 1) out = `${Math.round(s * 1000)} ms`;
  else if (s < 60) out = `${s.toFixed(s < 10 ? 1 : 0)} s`;
  else if (s < 3600) out = `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  else if (s < 86400) out = `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  else { s = Math.floor(s); out = `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`; }
  return neg ? `−${out}` : out;
}
