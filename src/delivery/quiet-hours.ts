import { dateTimeFormat } from '../common/date-time-format.js';
import type { QuietHoursDto } from '../registrations/registration.dto.js';

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
