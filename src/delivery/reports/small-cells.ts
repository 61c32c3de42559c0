/** Counts from 1 to this minus one are shown as the marker: a handful of victims can be recognised by who they are. */
export const SMALL_CELL_THRESHOLD = 11;
export const SUPPRESSED = '<11' as const;
/**
 * A count hidden so that a small one cannot be worked out by subtraction (complementary
 * suppression). It may be small or not: the marker must tell nothing about its size.
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
 * one small cell, the total minus the others would give it away, so partners are withheld, smallest
 * first, until what stays hidden leaves the small cell free to be any small count even to a reader
 * who knows that a withheld partner beside a "<11" is never small. When the partners run out first, every non-zero cell is withheld, the small one included, so nothing tells
 * which one was small. Two or more small cells reveal only their sum.
 */
export function groupCells(counts: number[], total: Cell): Cell[] {
  const cells = counts.map(cell);
  const smallCell = cells.indexOf(SUPPRESSED);
  if (typeof total !== 'number' || smallCell < 0 || cells.lastIndexOf(SUPPRESSED) !== smallCell) return cells;
  const partners = counts
    .map((count, i) => ({ count, i }))
    .filter(({ count, i }) => i !== smallCell && count > 0)
    .sort((a, b) => a.count - b.count);
  let hidden = counts[smallCell];
  let withheld = 0;
  for (const { count, i } of partners) {
    cells[i] = WITHHELD;
    hidden += count;
    withheld += 1;
    if (hidden - SMALL_CELL_THRESHOLD * withheld >= SMALL_CELL_THRESHOLD - 1) return cells;
  }
  return cells.map((c, i) => (counts[i] > 0 ? WITHHELD : c));
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
