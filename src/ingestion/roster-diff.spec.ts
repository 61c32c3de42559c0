import { describe, expect, it } from 'vitest';
import { diffRoster, mustHold } from './roster-diff.js';

describe('diffRoster', () => {
  it('finds bookings, releases and the unchanged', () => {
    const diff = diffRoster(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd', 'e']));
    expect(diff.booked.sort()).toEqual(['d', 'e']);
    expect(diff.released).toEqual(['a']);
    expect(diff.unchanged).toBe(2);
  });

  it('handles 50,000 people', () => {
    const population = new Set(Array.from({ length: 50_000 }, (_, i) => `p${i}`));
    const snapshot = new Set(Array.from({ length: 50_000 }, (_, i) => `p${i + 100}`));
    const diff = diffRoster(population, snapshot);
    expect(diff.booked).toHaveLength(100);
    expect(diff.released).toHaveLength(100);
    expect(diff.unchanged).toBe(49_900);
  });
});

describe('mustHold', () => {
  const defaults = { holdPercent: 10, holdMin: 25 };
  it.each([
    [25, 200, true], // 12.5 % and 25 people
    [24, 100, false], // 24 % but below the minimum count
    [25, 250, false], // exactly 10 % is not more than 10 %
    [26, 250, true],
    [100, 10_000, false], // 1 %
    [30, 0, true], // releasing from an empty population
  ])('%i released of %i → %s', (released, population, held) => {
    expect(mustHold(released, population, defaults)).toBe(held);
  });
});
