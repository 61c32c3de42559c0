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
    // Two small cells: only their sum can be worked out, which is at least two people.
    expect(groupCells([30, 4, 5], 39)).toEqual([30, '<11', '<11']);
    // A total that is itself withheld or small protects the group.
    expect(groupCells([20, 3], '<11')).toEqual([20, '<11']);
    expect(groupCells([12, 15], 27)).toEqual([12, 15]);
    expect(groupCells([], 0)).toEqual([]);
  });

  it('#14.1 withholds partners until the small cell could be anything from 1 to 10: each withheld partner is known to be 11 or more', () => {
    // 15 withheld beside 4 hides 19, of which 15 is at least 11: the small cell would be at most 8.
    expect(groupCells([40, 0, 15, 4], 59)).toEqual(['withheld', 0, 'withheld', '<11']);
    // 11 and 1 under 12: a withheld 11 would leave exactly 1, so nothing tells which cell was small.
    expect(groupCells([11, 1], 12)).toEqual(['withheld', 'withheld']);
    expect(groupCells([12, 2], 14)).toEqual(['withheld', 'withheld']);
    expect(groupCells([30, 11, 1], 42)).toEqual(['withheld', 'withheld', '<11']);
    expect(groupCells([21, 10], 31)).toEqual(['withheld', '<11']);
    expect(groupCells([20, 1], 21)).toEqual(['withheld', '<11']);
    expect(groupCells([19, 1], 20)).toEqual(['withheld', 'withheld']);
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
