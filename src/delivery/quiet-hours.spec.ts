import { describe, expect, it } from 'vitest';
import { quietHoursEnd, readQuietHours } from './quiet-hours.js';

const chicago = { start: '22:00', end: '07:00', timeZone: 'America/Chicago' };

describe('quietHoursEnd', () => {
  it('holds until the end of quiet hours across midnight, in the registrant’s zone', () => {
    // 23:30 in Chicago (UTC-6 in November) → 07:00 local = 13:00 UTC next day
    expect(quietHoursEnd(chicago, new Date('2026-11-27T05:30:00Z'))?.toISOString()).toBe('2026-11-27T13:00:00.000Z');
    // 03:00 local
    expect(quietHoursEnd(chicago, new Date('2026-11-27T09:00:00Z'))?.toISOString()).toBe('2026-11-27T13:00:00.000Z');
  });

  it('lets daytime through', () => {
    expect(quietHoursEnd(chicago, new Date('2026-11-27T18:00:00Z'))).toBeUndefined();
    expect(quietHoursEnd({ start: '09:00', end: '09:00', timeZone: 'UTC' }, new Date())).toBeUndefined();
  });

  it('handles same-day windows', () => {
    const lunch = { start: '12:00', end: '13:30', timeZone: 'UTC' };
    expect(quietHoursEnd(lunch, new Date('2026-11-27T12:10:00Z'))?.toISOString()).toBe('2026-11-27T13:30:00.000Z');
  });
});

describe('readQuietHours', () => {
  it('reads a well-formed setting and treats anything else as no quiet hours', () => {
    expect(readQuietHours(chicago)).toEqual(chicago);
    expect(readQuietHours([])).toBeUndefined();
    expect(readQuietHours({})).toBeUndefined();
    expect(readQuietHours('22:00-07:00')).toBeUndefined();
    expect(readQuietHours({ ...chicago, start: '25:00' })).toBeUndefined();
    expect(readQuietHours({ ...chicago, timeZone: 'Mars/Olympus_Mons' })).toBeUndefined();
    expect(readQuietHours({ ...chicago, end: 700 })).toBeUndefined();
  });
});
