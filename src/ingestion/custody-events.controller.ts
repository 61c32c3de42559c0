import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../common/problem/domain-error.js';
import { openApiSchema, parseWith } from '../common/problem/validation.js';
import { CurrentSource, type SourceRequest, SourceOnly } from '../sources/source-auth.guard.js';
import { IngestResponseDto } from './ingest-response.dto.js';
import { custodyEventBatchSchema, custodyEventSchema } from './custody-event.schema.js';
import { CustodyEventsService, type IncomingEvent } from './custody-events.service.js';

@ApiTags('ingestion')
@Controller('v1/custody-events')
@SourceOnly()
export class CustodyEventsController {
  constructor(private readonly events: CustodyEventsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Post one custody event or a batch of up to 1,000',
    description:
      'An event, its person and its facility may carry fields beyond this schema (vendors add them): they are accepted, ' +
      "kept in the event's stored raw payload and otherwise ignored. The envelope (`{events}`) refuses unknown fields. " +
      'A retried event (same sourceEventId and body) answers `duplicate`; in a batch, one that reuses a sourceEventId with a ' +
      'different body answers `conflict` while the others are accepted. Up to 5 MB.',
  })
  @ApiBody({
    schema: openApiSchema(z.union([custodyEventSchema, custodyEventBatchSchema])),
    examples: {
      event: {
        summary: 'One event',
        value: {
          sourceEventId: 'HCJ-2026-000123',
          type: 'RELEASED',
          occurredAt: '2026-11-26T14:03:00-06:00',
          person: {
            identifiers: [{ system: 'BOOKING_NUMBER', value: '2026-004512' }],
            firstName: 'John',
            lastName: 'Doe',
            dateOfBirth: '1980-04-02',
          },
          facility: { code: 'HCJ-1', name: 'Harris County Jail' },
        },
      },
      batch: {
        summary: 'A batch',
        value: {
          events: [
            {
              sourceEventId: 'HCJ-2026-000124',
              type: 'TRANSFERRED',
              occurredAt: '2026-11-26T15:10:00-06:00',
              person: { identifiers: [{ system: 'BOOKING_NUMBER', value: '2026-004513' }], firstName: 'Ana', lastName: 'Ruiz' },
              facility: { code: 'HCJ-1' },
              toFacility: { code: 'HCJ-2', name: 'Harris County Jail, annex' },
            },
          ],
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: IngestResponseDto, description: 'Committed with every planned delivery' })
  @ApiConflictResponse({ description: 'EVENT_CONFLICT: a single event whose sourceEventId was used with a different body' })
  async ingest(@Body() body: unknown, @CurrentSource() source: SourceRequest): Promise<IngestResponseDto> {
    let incoming: IncomingEvent[];
    try {
      incoming = parseEvents(body);
    } catch (error) {
      this.events.countUnreadable(source.source, isBatch(body) && Array.isArray(body.events) ? body.events : [body]);
      throw error;
    }
    const results = await this.events.ingest(source, incoming);
    if (!isBatch(body) && results[0].status === 'conflict') {
      throw new DomainError(
        'conflict',
        'EVENT_CONFLICT',
        `sourceEventId ${results[0].sourceEventId} was already used with a different body.`,
      );
    }
    return { results };
  }
}

function isBatch(body: unknown): body is { events: unknown[] } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
}

function parseEvents(body: unknown): IncomingEvent[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError('invalid', 'EVENTS_BODY', 'The body must be one event or {"events": [...]}.', {
      errors: [{ path: '', message: 'must be an object' }],
    });
  }
  if (isBatch(body)) {
    const batch = parseWith(custodyEventBatchSchema, body);
    return batch.events.map((dto, index) => ({ dto, raw: body.events[index], path: `events[${index}].` }));
  }
  return [{ dto: parseWith(custodyEventSchema, body), raw: body, path: '' }];
}
