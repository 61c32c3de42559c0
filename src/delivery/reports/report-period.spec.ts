import { describe, expect, it } from 'vitest';
import { DomainError } from '../../common/problem/domain-error.js';
import { lastQuarter, reportPeriod } from './report-period.js';

describe('#14 program reports: the period', () => {
  it('defaults to the last quarter that has ended, in UTC', () => {
    expect(lastQuarter(new Date('2026-12-06T15:00:00Z'))).toEqual({
      from: new Date('2026-07-01T00:00:00Z'),
      to: new Date('2026-10-01T00:00:00Z'),
    });
    expect(lastQuarter(new Date('2026-01-01T00:00:00Z'))).toEqual({
      from: new Date('2025-10-01T00:00:00Z'),
      to: new Date('2026-01-01T00:00:00Z'),
    });
    expect(lastQuarter(new Date('2026-03-31T23:59:59Z'))).toEqual({
      from: new Date('2025-10-01T00:00:00Z'),
      to: new Date('2026-01-01T00:00:00Z'),
    });
  });

  it('takes two real dates, to after from, at most 731 days apart', () => {
    const now = new Date();
    expect(reportPeriod('2026-01-01', '2026-04-01', now)).toEqual({
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-04-01T00:00:00Z'),
    });
    for (const [from, to] of [
      ['2026-01-01', '2026-01-01'],
      ['2026-02-29', '2026-03-01'],
      ['2024-01-01', '2026-01-02'],
      ['2026-1-1', '2026-02-01'],
      [undefined, '2026-02-01'],
    ]) {
      expect(() => reportPeriod(from, to, now)).toThrow(DomainError);
    }
  });
});
