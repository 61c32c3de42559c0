/** Counts from 1 to this minus one are shown as the marker: a handful of victims can be recognised by who they are. */
export const SMALL_CELL_THRESHOLD = 11;
export const SUPPRESSED = '<11' as const;
/**
 * A count that is not small but would give a small one away by subtraction (complementary
 * suppression): it is withheld with its own marker, since "<11" would misstate it.
 */
export const WITHHELD = 'withheld' as const;

/** A count as published: exact when zero or at least the threshold, a marker otherwise. */
export type Cell = number | typeof SUPPRESSED | typeof WITHHELD;

export function cell(count: number): Cell {
  return count > 0 && count < SMALL_CELL_THRESHOLD ? SUPPRESSED : count;
}

function small(count: number): boolean {
  return count > 0 && count < SMALL_CELL_THRESHOLD;
}

/**
 * The cells of a group that adds up to a published total (registrations by language): with exactly
 * one small cell, the total minus the others would give it away, so the smallest other non-zero
 * count is withheld too. Two or more small cells reveal only their sum.
 */
export function groupCells(counts: number[], total: Cell): Cell[] {
  const cells = counts.map(cell);
  if (typeof total !== 'number' || cells.filter((c) => c === SUPPRESSED).length !== 1) return cells;
  let partner = -1;
  counts.forEach((count, i) => {
    if (cells[i] !== SUPPRESSED && count > 0 && (partner < 0 || count < counts[partner])) partner = i;
  });
  if (partner >= 0) cells[partner] = WITHHELD;
  return cells;
}

/** A part of a published whole (urgent alerts reached, of those sent): withheld when the whole minus it is a small count. */
export function partOf(part: number, whole: number): Cell {
  return !small(part) && small(whole - part) ? WITHHELD : cell(part);
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

/** The urgent alerts sent in a period, those that reached the victim and those confirmed with a PIN, with their rates. */
export interface UrgentCells {
  count: Cell;
  reached: Cell;
  confirmed: Cell;
  deliveryRate: number | typeof SUPPRESSED | null;
  pinConfirmationRate: number | typeof SUPPRESSED | null;
}

export function urgentCells(total: number, reached: number, confirmed: number): UrgentCells {
  const reachedCell = partOf(reached, total);
  // Confirmed is a part of both the alerts sent and those reached.
  const confirmedOfReached = typeof reachedCell === 'number' ? partOf(confirmed, reached) : cell(confirmed);
  return {
    count: cell(total),
    reached: reachedCell,
    confirmed: confirmedOfReached === WITHHELD ? WITHHELD : partOf(confirmed, total),
    deliveryRate: rate(reached, total),
    pinConfirmationRate: rate(confirmed, total),
  };
}

/** A statistic over a set of items (a median time), withheld when the set is small. */
export function statistic(value: number | null, basis: number): number | typeof SUPPRESSED | null {
  if (basis === 0 || value === null) return null;
  return small(basis) ? SUPPRESSED : value;
}
