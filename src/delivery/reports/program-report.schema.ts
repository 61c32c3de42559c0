import type { ApiResponseOptions } from '@nestjs/swagger';

/** The schema shape ApiOkResponse takes (the swagger package does not export its name). */
type SchemaObject = Extract<NonNullable<Extract<ApiResponseOptions, { schema?: unknown }>['schema']>, { type?: unknown }>;

const cell: SchemaObject = {
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', enum: ['<11', 'withheld'] },
  ],
  description:
    '0, or 11 and above; 1 to 10 as "<11"; "withheld" for a count of any size hidden so that a small count cannot be worked out by subtraction',
};
const withheld: SchemaObject = {
  // OpenAPI 3.0 puts `nullable` beside a `type`, so null belongs to the number branch.
  oneOf: [
    { type: 'number', nullable: true },
    { type: 'string', enum: ['<11'] },
  ],
  description: 'null when there is nothing to measure; "<11" when it rests on a small count',
};
const object = (properties: Record<string, SchemaObject>): SchemaObject => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
});
const list = (properties: Record<string, SchemaObject>): SchemaObject => ({ type: 'array', items: object(properties) });
const text: SchemaObject = { type: 'string' };

/** The JSON answer of GET /v1/admin/reports, for the OpenAPI document. */
export const PROGRAM_REPORT_SCHEMA: SchemaObject = object({
  period: object({
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date', description: 'first day not counted' },
    timeZone: { type: 'string', enum: ['UTC'] },
  }),
  suppression: object({
    threshold: { type: 'integer', example: 11 },
    marker: { type: 'string', enum: ['<11'] },
    complementMarker: { type: 'string', enum: ['withheld'] },
  }),
  registrations: object({
    self: cell,
    enrolled: cell,
    stopped: cell,
    byLanguage: list({ language: text, self: cell, enrolled: cell }),
    byChannel: list({ channel: text, self: cell, enrolled: cell }),
  }),
  personsFollowed: cell,
  events: list({ source: text, type: text, count: cell }),
  alerts: object({ total: cell, urgent: cell, corrections: cell, byStatus: list({ status: text, count: cell }) }),
  deliveries: list({ channel: text, status: text, count: cell }),
  urgentAlerts: object({ count: cell, reached: cell, confirmed: cell, deliveryRate: withheld, pinConfirmationRate: withheld }),
  eventToFirstAttempt: object({ alerts: cell, medianSeconds: withheld, p95Seconds: withheld }),
  escalations: object({
    count: { ...cell, description: 'urgent alerts escalated in the period' },
    resolved: { ...cell, description: 'escalations resolved by staff in the period' },
    medianMinutesToResolve: { ...withheld, description: 'of those resolved in the period, minutes from escalation to resolution' },
    p95MinutesToResolve: withheld,
  }),
  feedOutages: list({ source: text, outages: cell, staleMinutes: { type: 'integer', minimum: 0 } }),
  heldRosters: object({ held: cell, approved: cell, discarded: cell }),
  optOuts: object({ stops: cell, unsubscribes: cell }),
  servicesShared: list({ kind: { type: 'string', description: 'a kind of the services directory' }, count: cell }),
});
