export interface RosterDiff {
  booked: string[];
  released: string[];
  unchanged: number;
}

/** Who is new on the roster and who vanished from it, against the people Vigil holds at the facility. */
export function diffRoster(population: ReadonlySet<string>, snapshot: ReadonlySet<string>): RosterDiff {
  const booked = [...snapshot].filter((id) => !population.has(id));
  const released = [...population].filter((id) => !snapshot.has(id));
  return { booked, released, unchanged: snapshot.size - booked.length };
}

/**
 * A maintenance run or a truncated export looks like a mass release. Above both thresholds the
 * diff waits for an admin instead of alarming victims.
 */
export function mustHold(released: number, population: number, thresholds: { holdPercent: number; holdMin: number }): boolean {
  return released >= thresholds.holdMin && released * 100 > population * thresholds.holdPercent;
}
