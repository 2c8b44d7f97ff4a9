// Periods the report and call pages offer, in the browser's local time, as [since, until) ISO instants.

const DAY_MS = 86400000;

function midnight(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

function addDays(date, days) {
  const d = new Date(date);
  d.setDate(d.getDate() + days); // calendar days: right across daylight-saving changes
  return d;
}

// "2026-12-01" (an <input type=date> value) → local midnight of that day, or null
export function parseDay(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? "");
  if (!match) return null;
  const d = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

export function dayValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// period: today | yesterday | last7 | custom (from/to are input values, "to" inclusive) | "" (any time)
export function periodRange(period, from, to, now = new Date()) {
  const today = midnight(now);
  if (period === "today") return { since: today, until: addDays(today, 1) };
  if (period === "yesterday") return { since: addDays(today, -1), until: today };
  if (period === "last7") return { since: addDays(today, -6), until: addDays(today, 1) };
  if (period === "custom") {
    const since = parseDay(from);
    const last = parseDay(to);
    return { since, until: last ? addDays(last, 1) : null };
  }
  return { since: null, until: null };
}

export const spanDays = ({ since, until }) => (since && until ? (until - since) / DAY_MS : null);
