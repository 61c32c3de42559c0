import { z } from 'zod';
import { CONTROL_MESSAGE, nestingDepth, SINGLE_LINE } from '../common/problem/input-rules.js';
import { isCalendarDate, isTimestampWithOffset } from '../common/time.js';
import { EVENT_TYPES, type EventType } from '../people/custody-status.js';
import { normalizeIdentifierValue } from '../people/identifiers.js';
import { FACILITY_CODE } from '../sources/source.dto.js';

/*
 * What upstream systems send, as zod schemas: one source for validation, types and the OpenAPI
 * description. Zod rather than class-validator here because a 100,000-person roster must validate
 * in well under a second (class-validator took ~2 s for 50,000 people on the benchmark machine).
 *
 * Events and the people in them (in events and rosters) may carry fields vendors add (DESIGN): the
 * schemas strip them from what the services see, and an event's raw payload keeps them. The
 * envelopes (`{events}`, `{asOf, people}`) refuse unknown fields like every other route.
 */

export const SCHEDULING_TYPES: EventType[] = ['RELEASE_SCHEDULED', 'HEARING_SCHEDULED'];
export const MAX_BATCH = 1000;
export const MAX_ROSTER = 100_000;

const TIMESTAMP_MESSAGE = 'must be an ISO-8601 time with an offset, e.g. 2026-11-26T14:03:00-06:00';

const timestampWithOffset = (message = TIMESTAMP_MESSAGE) =>
  z.string({ error: message }).refine(isTimestampWithOffset, { error: message }).meta({ example: '2026-11-26T14:03:00-06:00' });

const text = (min: number, max: number) =>
  z.string().min(min, `must be ${min}-${max} characters`).max(max, `must be ${min}-${max} characters`).regex(SINGLE_LINE, CONTROL_MESSAGE);

export const MAX_DETAILS_DEPTH = 10;
export const MAX_DETAILS_BYTES = 16 * 1024;
const DETAILS_MESSAGE = `must be at most ${MAX_DETAILS_DEPTH} levels deep and ${MAX_DETAILS_BYTES / 1024} KB as JSON`;

/** Free-form, but bounded: it is stored, hashed and rendered into corrections. */
const details = z
  .record(z.string(), z.unknown())
  .refine((value) => nestingDepth(value) <= MAX_DETAILS_DEPTH && Buffer.byteLength(JSON.stringify(value)) <= MAX_DETAILS_BYTES, {
    error: DETAILS_MESSAGE,
  });

const pastDate = z
  .string()
  .refine(
    (value) => {
      if (!isCalendarDate(value)) return false;
      const date = new Date(`${value}T00:00:00Z`);
      return date.getTime() < Date.now() && date.getUTCFullYear() >= 1900;
    },
    { error: 'must be a past date YYYY-MM-DD' },
  )
  .meta({ format: 'date' });

export const identifierSchema = z.object({
  system: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{1,31}$/, 'must be 2-32 capitals, digits or underscores, starting with a letter')
    .meta({ example: 'A_NUMBER' }),
  // Values compare without spaces and dashes: one of nothing else would join every such person into one.
  value: text(1, 64)
    .refine((value) => normalizeIdentifierValue(value) !== '', { error: 'must hold a character other than spaces and dashes' })
    .meta({ example: '012-345-678' }),
});

export const personSchema = z.object({
  identifiers: z.array(identifierSchema).min(1, 'must hold 1-20 identifiers').max(20, 'must hold 1-20 identifiers'),
  firstName: text(1, 100),
  lastName: text(1, 100),
  dateOfBirth: pastDate.optional(),
  countryOfBirth: text(2, 64).optional(),
});

export const facilityRefSchema = z.object({
  code: z
    .string()
    .trim()
    .toUpperCase()
    .regex(FACILITY_CODE, 'must be 1-32 letters, digits, dot, dash or underscore')
    .meta({ example: 'HCJ-1' }),
  name: text(1, 200).optional(),
});

export const custodyEventSchema = z
  .object({
    sourceEventId: text(1, 200).meta({ description: 'Unique within the source; replays are recognised by it' }),
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    occurredAt: timestampWithOffset(),
    person: personSchema,
    facility: facilityRefSchema,
    toFacility: facilityRefSchema.optional().meta({ description: 'Required for TRANSFERRED' }),
    scheduledFor: timestampWithOffset('is required for RELEASE_SCHEDULED and HEARING_SCHEDULED, as an ISO-8601 time with an offset')
      .optional()
      .meta({ description: 'Required for RELEASE_SCHEDULED and HEARING_SCHEDULED' }),
    details: details.optional().meta({
      description: `Free-form, ${DETAILS_MESSAGE}; a CORRECTION needs correctsSourceEventId: an event of this source, or one it has not sent yet (that event then alerts nobody)`,
    }),
  })
  .superRefine((event, context) => {
    if (event.type === 'TRANSFERRED' && !event.toFacility) {
      context.addIssue({ code: 'custom', path: ['toFacility'], message: 'is required for TRANSFERRED' });
    }
    if (SCHEDULING_TYPES.includes(event.type) && event.scheduledFor === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['scheduledFor'],
        message: 'is required for RELEASE_SCHEDULED and HEARING_SCHEDULED, as an ISO-8601 time with an offset',
      });
    }
    const target = event.details?.correctsSourceEventId;
    if (event.type === 'CORRECTION' && !(typeof target === 'string' && target.length >= 1 && target.length <= 200)) {
      context.addIssue({
        code: 'custom',
        path: ['details'],
        message: 'must hold correctsSourceEventId (1-200 characters) for a CORRECTION',
      });
    }
  });

export const custodyEventBatchSchema = z.strictObject({
  events: z.array(custodyEventSchema).min(1, `must hold 1-${MAX_BATCH} events`).max(MAX_BATCH, `must hold 1-${MAX_BATCH} events`),
});

export const rosterSchema = z.strictObject({
  asOf: timestampWithOffset(),
  people: z.array(personSchema).max(MAX_ROSTER, `must hold at most ${MAX_ROSTER} people`),
});

export type CustodyEventInput = z.infer<typeof custodyEventSchema>;
export type RosterInput = z.infer<typeof rosterSchema>;
