import { dateTimeFormat } from '../common/date-time-format.js';
import type { QuietHoursDto } from '../registrations/registration.dto.js';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Quiet hours as stored, if they can be read: a setting of another shape (an array once passed
 * validation) or an unknown time zone is no quiet hours, since holding an alert on a setting nobody
 * can read would hold it for good.
 */
export function readQuietHours(stored: unknown): QuietHoursDto | undefined {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return undefined;
  const { start, end, timeZone } = stored as Record<string, unknown>;
  if (typeof start !== 'string' || typeof end !== 'string' || typeof timeZone !== 'string') return undefined;
  if (!HH_MM.test(start) || !HH_MM.test(end)) return undefined;
  try {
    dateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    return undefined;
  }
  return { start, end, timeZone };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Local wall-clock minutes since midnight at `at` in `timeZone`. */
function localMinutes(at: Date, timeZone: string): number {
  const parts = dateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * If `at` falls inside the quiet hours, the moment they end; otherwise undefined. Quiet hours may
 * span midnight (22:00–07:00). The end is found minute by minute in local time, so daylight-saving
 * changes are handled by the time zone database rather than by arithmetic.
 */
export function quietHoursEnd(quiet: QuietHoursDto, at: Date): Date | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const inside = (minutes: number) => (start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end);
  if (!inside(localMinutes(at, quiet.timeZone))) return undefined;
  const next = new Date(at);
  next.setUTCSeconds(0, 0);
  for (let i = 0; i < 24 * 60 + 120; i++) {
    next.setUTCMinutes(next.getUTCMinutes() + 1);
    if (!inside(localMinutes(next, quiet.timeZone))) return next;
  }
  return undefined;
}
