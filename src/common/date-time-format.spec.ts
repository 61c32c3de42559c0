import { describe, expect, it } from 'vitest';
import { dateTimeFormat } from './date-time-format.js';

describe('dateTimeFormat', () => {
  it('builds one formatter per locale and options and hands the same one out again', () => {
    const chicago = dateTimeFormat('en-US', { timeZone: 'America/Chicago', timeStyle: 'short' });
    expect(dateTimeFormat('en-US', { timeZone: 'America/Chicago', timeStyle: 'short' })).toBe(chicago);
    expect(dateTimeFormat('en-US', { timeZone: 'America/New_York', timeStyle: 'short' })).not.toBe(chicago);
    expect(dateTimeFormat('es-US', { timeZone: 'America/Chicago', timeStyle: 'short' })).not.toBe(chicago);
    expect(chicago.format(new Date('2026-11-26T18:00:00Z')).replace(/\u202f/g, ' ')).toBe('12:00 PM');
  });

  it('refuses a time zone that does not exist, as Intl does', () => {
    expect(() => dateTimeFormat('en-US', { timeZone: 'Mars/Olympus_Mons' })).toThrow(RangeError);
  });
});
