import { DomainError } from '../../common/problem/domain-error.js';

/** Half-open [from, to) in UTC: `to` is the first day not counted, so quarters chain without overlap. */
export interface ReportPeriod {
  from: Date;
  to: Date;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** Two years and a leap day: longer periods are not a program report, and cost a scan of everything. */
export const MAX_PERIOD_DAYS = 731;

function parseDate(value: string): Date | null {
  if (!DATE.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value || date.getUTCFullYear() < 1 ? null : date;
}

/** The last calendar quarter that has ended, in UTC. */
export function lastQuarter(now: Date): ReportPeriod {
  const quarterStartMonth = Math.floor(now.getUTCMonth() / 3) * 3;
  const to = new Date(Date.UTC(now.getUTCFullYear(), quarterStartMonth, 1));
  return { from: new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - 3, 1)), to };
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Both dates or neither (the last quarter); 422 with field errors otherwise. */
export function reportPeriod(from: string | undefined, to: string | undefined, now: Date): ReportPeriod {
  if (from === undefined && to === undefined) return lastQuarter(now);
  const errors: { path: string; message: string }[] = [];
  const start = from === undefined ? null : parseDate(from);
  const end = to === undefined ? null : parseDate(to);
  if (!start) errors.push({ path: 'from', message: 'must be a date such as 2026-07-01 (with to)' });
  if (!end) errors.push({ path: 'to', message: 'must be a date such as 2026-10-01 (with from)' });
  if (start && end && end <= start) errors.push({ path: 'to', message: 'must be after from (to is the first day not counted)' });
  if (start && end && end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) {
    errors.push({ path: 'to', message: `must be at most ${MAX_PERIOD_DAYS} days after from` });
  }
  if (errors.length || !start || !end)
    throw new DomainError('invalid', 'REPORT_PERIOD_INVALID', 'The report period is not valid.', { errors });
  return { from: start, to: end };
}
