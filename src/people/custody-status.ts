export const CUSTODY_STATUSES = ['IN_CUSTODY', 'RELEASED', 'TRANSFERRED', 'ESCAPED', 'DECEASED', 'REMOVED', 'UNKNOWN'] as const;
export type CustodyStatus = (typeof CUSTODY_STATUSES)[number];

export const EVENT_TYPES = [
  'BOOKED',
  'RELEASED',
  'TRANSFERRED',
  'ESCAPED',
  'RETURNED_TO_CUSTODY',
  'DECEASED',
  'REMOVED',
  'RELEASE_SCHEDULED',
  'HEARING_SCHEDULED',
  'CORRECTION',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The custody status an event puts a person in; scheduling events and corrections change none directly. */
export const STATUS_AFTER: Partial<Record<EventType, CustodyStatus>> = {
  BOOKED: 'IN_CUSTODY',
  RELEASED: 'RELEASED',
  TRANSFERRED: 'TRANSFERRED',
  ESCAPED: 'ESCAPED',
  RETURNED_TO_CUSTODY: 'IN_CUSTODY',
  DECEASED: 'DECEASED',
  REMOVED: 'REMOVED',
};

export const STATUS_EVENT_TYPES = Object.keys(STATUS_AFTER) as EventType[];

/** Alert at any hour; phone repeats until the PIN is entered. */
export const URGENT_EVENT_TYPES: readonly EventType[] = ['RELEASED', 'ESCAPED'];

/** SQL expression for STATUS_AFTER over a custody_event row aliased `e`. */
export const STATUS_AFTER_SQL = `CASE e.type ${Object.entries(STATUS_AFTER)
  .map(([type, status]) => `WHEN '${type}' THEN '${status}'`)
  .join(' ')} END`;
