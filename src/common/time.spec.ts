import { describe, expect, it } from 'vitest';
import { isCalendarDate, isTimestampWithOffset } from './time.js';

describe('time formats', () => {
  it.each(['2026-11-26T14:03:00-06:00', '2026-11-26T14:03Z', '2024-02-29T00:00:00.123456+05:30', '2026-01-01T23:59:59Z'])(
    'accepts %s',
    (value) => {
      expect(isTimestampWithOffset(value)).toBe(true);
    },
  );

  it.each([
    '2026-11-26T14:03:00',
    '2026-02-31T10:00:00Z',
    '2025-02-29T10:00:00Z',
    '2026-11-26T24:00:00Z',
    '2026-11-26 14:03:00Z',
    '2026-11-26T14:03:00+15:00',
    42,
  ])('refuses %s', (value) => {
    expect(isTimestampWithOffset(value)).toBe(false);
  });

  it('checks calendar dates', () => {
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('1990-13-01')).toBe(false);
  });
});
