// Schedules in words: "every day at 09:00 America/New_York",
// "every 15 minutes", "every Monday at 08:30 Europe/Paris". Expressions
// that have no short wording are shown as they are ("cron 5 4 1-7 * 1").

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const RRULE_DAYS = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };

const pad = (n) => String(n).padStart(2, '0');
const isNum = (s) => /^\d+$/.test(s);
const plural = (n, unit) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);

/** intervalWords is "every 5 minutes" for a duration in seconds. */
export function intervalWords(secs) {
  const units = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, unit] of units) {
    if (secs >= size && secs % size === 0) return plural(secs / size, unit);
  }
  return `every ${secs} seconds`;
}

function dayList(field) {
  const days = new Set();
  for (const part of field.split(',')) {
    const [a, b] = part.split('-');
    if (!isNum(a) || (b !== undefined && !isNum(b))) return null;
    for (let d = +a; d <= +(b ?? a); d++) days.add(d % 7);
  }
  const list = [...days].sort();
  if (list.join() === '1,2,3,4,5') return 'every weekday';
  if (list.join() === '0,6') return 'every Saturday and Sunday';
  return `every ${list.map((d) => DAYS[d]).join(', ')}`;
}

const MACROS = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };

/** cronWords describes a 5-field cron expression, or returns null. */
export function cronWords(expr) {
  const f = (MACROS[expr.trim()] || expr).trim().split(/\s+/);
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f;
  const any = (s) => s === '*' || s === '?';
  const step = (s) => /^\*\/(\d+)$/.exec(s);
  if (any(dom) && any(mon) && any(dow)) {
    if (any(min) && any(hour)) return 'every minute';
    let m = step(min);
    if (m && any(hour)) return plural(+m[1], 'minute');
    if (isNum(min) && any(hour)) return +min === 0 ? 'every hour' : `every hour at minute ${+min}`;
    m = step(hour);
    if (isNum(min) && m) return `${plural(+m[1], 'hour')}${+min ? ` at minute ${+min}` : ''}`;
  }
  if (!isNum(min) || !isNum(hour)) return null;
  const at = `at ${pad(+hour)}:${pad(+min)}`;
  if (any(dom) && any(mon)) {
    if (any(dow)) return `every day ${at}`;
    const days = dayList(dow);
    return days ? `${days} ${at}` : null;
  }
  if (isNum(dom) && any(dow)) {
    if (any(mon)) return `on day ${+dom} of every month ${at}`;
    if (isNum(mon) && +mon >= 1 && +mon <= 12) return `every year on ${MONTHS[+mon - 1]} ${+dom} ${at}`;
  }
  return null;
}

/** rruleWords describes simple RRULEs (FREQ, INTERVAL, BYDAY, BYHOUR,
 * BYMINUTE), or returns null. */
export function rruleWords(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const rule = lines.find((l) => l.startsWith('RRULE:')) || (lines.length === 1 ? lines[0] : null);
  if (!rule || lines.some((l) => /^(RDATE|EXRULE|EXDATE)/.test(l))) return null;
  const parts = Object.fromEntries(rule.replace(/^RRULE:/, '').split(';').map((p) => p.split('=')));
  const known = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYHOUR', 'BYMINUTE', 'BYSECOND', 'COUNT', 'UNTIL', 'WKST']);
  if (Object.keys(parts).some((k) => !known.has(k))) return null;
  const unit = { SECONDLY: 'second', MINUTELY: 'minute', HOURLY: 'hour', DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' }[parts.FREQ];
  if (!unit) return null;
  let out = plural(+(parts.INTERVAL || 1), unit);
  if (parts.BYDAY) {
    const days = parts.BYDAY.split(',').map((d) => DAYS[RRULE_DAYS[d]]);
    if (days.includes(undefined)) return null;
    out += ` on ${days.join(', ')}`;
  }
  if (parts.BYHOUR !== undefined && isNum(parts.BYHOUR)) out += ` at ${pad(+parts.BYHOUR)}:${pad(+(parts.BYMINUTE || 0))}`;
  if (parts.COUNT) out += `, ${parts.COUNT} times`;
  return out;
}

/** anchorTime is "HH:MM" of a daily interval's anchor in its time zone. */
function anchorTime(anchor, tz) {
  try {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: tz || 'UTC' }).format(new Date(anchor));
  } catch {
    return null;
  }
}

/**
 * describeSchedule returns {text, tz} for a Deployment.schedule (JSON), or
 * null when the deployment has no schedule.
 */
export function describeSchedule(schedule) {
  if (!schedule) return null;
  if (schedule.interval) {
    const iv = schedule.interval;
    const secs = Math.round(parseFloat(iv.interval || '0'));
    let text = intervalWords(secs);
    if (secs % 86400 === 0 && iv.anchor_date) {
      const at = anchorTime(iv.anchor_date, iv.timezone);
      if (at && at !== '00:00') text += ` at ${at}`;
    }
    return { text, tz: iv.timezone || '' };
  }
  if (schedule.cron) {
    return { text: cronWords(schedule.cron.cron) || `cron ${schedule.cron.cron}`, tz: schedule.cron.timezone || '' };
  }
  if (schedule.rrule) {
    const words = rruleWords(schedule.rrule.rrule || '');
    const raw = (schedule.rrule.rrule || '').replace(/\s+/g, ' ');
    return { text: words || `rrule ${raw.length > 60 ? `${raw.slice(0, 57)}…` : raw}`, tz: schedule.rrule.timezone || '' };
  }
  return null;
}
