import { describe, expect, it } from 'vitest';
import { alertStatusCells, cell, deliveryCell, groupCells, rate, statistic, urgentCells } from './small-cells.js';

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

  it('#14.2 publishes urgent alerts reached and confirmed only beside a published rate, one marker whether the hidden count is small or not', () => {
    // 35 of 60 confirmed and 40 reached: 40 - 35 is small, and 0.5833 of 60 would give the 35 back.
    expect(urgentCells(60, 40, 35)).toEqual({
      count: 60,
      reached: 40,
      confirmed: 'withheld',
      deliveryRate: 0.6667,
      pinConfirmationRate: '<11',
    });
    // 11 of 12 reached: "withheld" beside a published 12 must not mean "11 or more".
    expect(urgentCells(12, 11, 0)).toEqual({ count: 12, reached: 'withheld', confirmed: 0, deliveryRate: '<11', pinConfirmationRate: 0 });
    expect(urgentCells(12, 1, 0)).toEqual({ count: 12, reached: 'withheld', confirmed: 0, deliveryRate: '<11', pinConfirmationRate: 0 });
    expect(urgentCells(30, 25, 12)).toEqual({
      count: 30,
      reached: 'withheld',
      confirmed: 12,
      deliveryRate: '<11',
      pinConfirmationRate: 0.4,
    });
    expect(urgentCells(40, 20, 5)).toEqual({
      count: 40,
      reached: 20,
      confirmed: 'withheld',
      deliveryRate: 0.5,
      pinConfirmationRate: '<11',
    });
    expect(urgentCells(40, 20, 11)).toEqual({
      count: 40,
      reached: 20,
      confirmed: 'withheld',
      deliveryRate: 0.5,
      pinConfirmationRate: '<11',
    });
    expect(urgentCells(40, 25, 11)).toEqual({ count: 40, reached: 25, confirmed: 11, deliveryRate: 0.625, pinConfirmationRate: 0.275 });
    expect(urgentCells(5, 5, 0)).toEqual({
      count: '<11',
      reached: 'withheld',
      confirmed: 'withheld',
      deliveryRate: '<11',
      pinConfirmationRate: '<11',
    });
    expect(urgentCells(0, 0, 0)).toEqual({ count: 0, reached: 0, confirmed: 0, deliveryRate: null, pinConfirmationRate: null });
  });

  it('#14.2 withholds the alerts-by-status cells that would give back a withheld urgent reached or confirmed', () => {
    // All 60 alerts urgent: a published "confirmed" row would be the withheld 35.
    expect(alertStatusCells(['confirmed', 'delivered', 'sent'], [35, 5, 20], urgentCells(60, 40, 35))).toEqual([
      'withheld',
      'withheld',
      'withheld',
    ]);
    // Reached withheld (25 of 30): neither "delivered" nor "confirmed" may be published beside it, and no other row
    // either, or the published number of alerts minus the rows left would give their sum back.
    expect(alertStatusCells(['confirmed', 'delivered', 'sent'], [12, 13, 20], urgentCells(30, 25, 12))).toEqual([
      'withheld',
      'withheld',
      'withheld',
    ]);
    // Both published: nothing more to withhold.
    expect(alertStatusCells(['confirmed', 'delivered', 'sent'], [11, 14, 15], urgentCells(40, 25, 11))).toEqual([11, 14, 15]);
  });

  it('#14.2 withholds the deliveries that reached or were confirmed when the urgent figures they follow are withheld', () => {
    const hiddenReach = urgentCells(30, 25, 12);
    expect(['sent', 'delivered', 'confirmed'].map((status) => deliveryCell(status, 20, hiddenReach))).toEqual([20, 'withheld', 'withheld']);
    const published = urgentCells(40, 25, 11);
    expect(['sent', 'delivered', 'confirmed'].map((status) => deliveryCell(status, 20, published))).toEqual([20, 20, 20]);
    expect(deliveryCell('confirmed', 0, hiddenReach)).toBe(0);
  });
});
