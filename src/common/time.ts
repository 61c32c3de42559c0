const TIMESTAMP_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function validCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ISO-8601 with an explicit offset and a real calendar date (no 31 February rolling into March; no year 0000). */
export function isTimestampWithOffset(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = TIMESTAMP_WITH_OFFSET.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second = 0, , offsetHours = 0, offsetMinutes = 0] = m.slice(1).map((part) => Number(part ?? 0));
  return (
    year >= 1 && validCalendarDate(year, month, day) && hour < 24 && minute < 60 && second < 60 && offsetHours <= 14 && offsetMinutes < 60
  );
}

/** YYYY-MM-DD naming a real day. */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_ONLY.exec(value);
  return Boolean(m) && validCalendarDate(Number(m![1]), Number(m![2]), Number(m![3]));
}
