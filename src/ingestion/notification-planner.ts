import type { Queryable } from '../database/queryable.js';

/**
 * The one call that ends every ingestion transaction: it plans notifications and deliveries for
 * the events just recorded, inside the same transaction, so an acknowledged event always has its
 * deliveries (invariant 1). The delivery module provides the real planner.
 */
export interface NotificationPlanner {
  /** Returns, per event id, how many notifications were planned. */
  plan(db: Queryable, eventIds: string[]): Promise<Map<string, number>>;
}

/** Provided (globally) by the delivery module; until one is registered, events plan no notifications. */
export const NOTIFICATION_PLANNER = Symbol('NOTIFICATION_PLANNER');
