import { describe, expect, it } from 'vitest';
import { cell, rate, statistic } from './small-cells.js';

describe('#14 program reports: small-cell suppression', () => {
  it('shows zero and counts from 11 exactly, 1 to 10 as "<11"', () => {
    expect([0, 1, 10, 11, 250].map(cell)).toEqual([0, '<11', '<11', 11, 250]);
  });

  it('withholds a rate whose numerator, denominator or remainder is a small count', () => {
    expect(rate(0, 0)).toBeNull();
    expect(rate(0, 20)).toBe(0);
    expect(rate(20, 20)).toBe(1);
    expect(rate(11, 22)).toBe(0.5);
    expect(rate(5, 20)).toBe('<11');
    expect(rate(12, 13)).toBe('<11');
    expect(rate(3, 3)).toBe('<11');
    expect(rate(12, 30)).toBe(0.4);
  });

  it('withholds a statistic over fewer than 11 items', () => {
    expect(statistic(null, 0)).toBeNull();
    expect(statistic(4.5, 10)).toBe('<11');
    expect(statistic(4.5, 11)).toBe(4.5);
  });
});
