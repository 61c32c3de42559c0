/** Counts from 1 to this minus one are shown as the marker: a handful of victims can be recognised by who they are. */
export const SMALL_CELL_THRESHOLD = 11;
export const SUPPRESSED = '<11' as const;

/** A count as published: exact when zero or at least the threshold, the marker otherwise. */
export type Cell = number | typeof SUPPRESSED;

export function cell(count: number): Cell {
  return count > 0 && count < SMALL_CELL_THRESHOLD ? SUPPRESSED : count;
}

function small(count: number): boolean {
  return count > 0 && count < SMALL_CELL_THRESHOLD;
}

/**
 * A share as published (0 to 1, four decimals), or the marker when its numerator, its denominator
 * or what separates them is a small count: 12 of 13 tells as much as "1 failed". Null without a denominator.
 */
export function rate(numerator: number, denominator: number): number | typeof SUPPRESSED | null {
  if (denominator === 0) return null;
  if (small(numerator) || small(denominator) || small(denominator - numerator)) return SUPPRESSED;
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}

/** A statistic over a set of items (a median time), withheld when the set is small. */
export function statistic(value: number | null, basis: number): number | typeof SUPPRESSED | null {
  if (basis === 0 || value === null) return null;
  return small(basis) ? SUPPRESSED : value;
}
