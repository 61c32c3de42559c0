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

/**
 * Reached and confirmed are published only beside their rate, which is withheld whenever a small
 * count lies in what separates them from the alerts sent; hidden, each says "withheld" whether it is
 * small or not, so the marker tells nothing. A published rate times the published count gives its
 * count back, so the confirmation rate goes too when reached minus confirmed is small.
 */
export function urgentCells(total: number, reached: number, confirmed: number): UrgentCells {
  const deliveryRate = rate(reached, total);
  let pinConfirmationRate = rate(confirmed, total);
  if (typeof deliveryRate === 'number' && typeof pinConfirmationRate === 'number' && small(reached - confirmed)) {
    pinConfirmationRate = SUPPRESSED;
  }
  // Nothing sent, nothing to hide: every figure is 0.
  const published = (share: typeof deliveryRate, count: number): Cell => (share === null || typeof share === 'number' ? count : WITHHELD);
  return {
    count: cell(total),
    reached: published(deliveryRate, reached),
    confirmed: published(pinConfirmationRate, confirmed),
    deliveryRate,
    pinConfirmationRate,
  };
}

/**
 * Alerts by the status they rolled up to, as a group adding up to the published number of alerts.
 * An alert rolled up to "confirmed" had a PIN, one rolled up to "delivered" or "confirmed" reached the
 * victim: when the urgent alerts' figures are withheld those rows could give them back.
 */
export function alertStatusCells(statuses: string[], counts: number[], urgent: UrgentCells): Cell[] {
  const total = counts.reduce((sum, n) => sum + n, 0);
  const hidden = new Set<string>();
  if (urgent.confirmed === WITHHELD) hidden.add('confirmed');
  if (urgent.reached === WITHHELD) ['delivered', 'confirmed'].forEach((status) => hidden.add(status));
  // The rows add up to the published number of alerts: hiding some hides the breakdown, or the rest gives their sum back.
  if (statuses.some((status, i) => hidden.has(status) && counts[i] > 0)) return counts.map((n) => (n === 0 ? 0 : WITHHELD));
  return groupCells(counts, cell(total));
}

/** Deliveries by channel and status: their "delivered" and "confirmed" counts follow the urgent figures closely, hidden with them. */
export function deliveryCell(status: string, count: number, urgent: UrgentCells): Cell {
  const hidden =
    (urgent.reached === WITHHELD && (status === 'delivered' || status === 'confirmed')) ||
    (urgent.confirmed === WITHHELD && status === 'confirmed');
  return hidden && count > 0 ? WITHHELD : cell(count);
}

/** A statistic over a set of items (a median time), withheld when the set is small. */
export function statistic(value: number | null, basis: number): number | typeof SUPPRESSED | null {
  if (basis === 0 || value === null) return null;
  return small(basis) ? SUPPRESSED : value;
}
