import { describe, expect, it } from 'vitest';
import { cell, groupCells, partOf, rate, statistic } from './small-cells.js';

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

  it('#14 withholds a second cell of a group whose total is published when one cell is small: the total minus the rest would give it away', () => {
    // 20 English, 3 Spanish, total 23 published: "3" would be 23 - 20.
    expect(groupCells([20, 3], 23)).toEqual(['withheld', '<11']);
    // The smallest other non-zero count is the one withheld; zeros say nothing and stay.
    expect(groupCells([40, 0, 15, 4], 59)).toEqual([40, 0, 'withheld', '<11']);
    // Two small cells: only their sum can be worked out, which is at least two people.
    expect(groupCells([30, 4, 5], 39)).toEqual([30, '<11', '<11']);
    // A total that is itself withheld or small protects the group.
    expect(groupCells([20, 3], '<11')).toEqual([20, '<11']);
    expect(groupCells([12, 15], 27)).toEqual([12, 15]);
    expect(groupCells([], 0)).toEqual([]);
  });

  it('#14 withholds a part of a published whole when what separates them is a small count (12 of 13 reached tells of the one not reached)', () => {
    expect(partOf(12, 13)).toBe('withheld');
    expect(partOf(13, 13)).toBe(13);
    expect(partOf(0, 13)).toBe(0);
    expect(partOf(12, 30)).toBe(12);
    expect(partOf(5, 30)).toBe('<11');
    expect(partOf(12, 14)).toBe('withheld');
  });
});
