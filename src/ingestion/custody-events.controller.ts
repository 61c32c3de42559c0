import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConflictResponse, ApiExtraModels, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { DomainError } from '../common/problem/domain-error.js';
import { validatePlain } from '../common/problem/validation.js';
import { CurrentSource, type SourceRequest, SourceOnly } from '../sources/source-auth.guard.js';
import { CustodyEventBatchDto, CustodyEventDto, IngestResponseDto } from './custody-event.dto.js';
import { CustodyEventsService, type IncomingEvent } from './custody-events.service.js';

@ApiTags('ingestion')
@ApiExtraModels(CustodyEventDto, CustodyEventBatchDto)
@Controller('v1/custody-events')
@SourceOnly()
export class CustodyEventsController {
  constructor(private readonly events: CustodyEventsService) {}

  @Post()
  @HttpCode(202)
  @ApiBody({ schema: { oneOf: [{ $ref: getSchemaPath(CustodyEventDto) }, { $ref: getSchemaPath(CustodyEventBatchDto) }] } })
  @ApiAcceptedResponse({ type: IngestResponseDto, description: 'Committed with every planned delivery' })
  @ApiConflictResponse({ description: 'A single event whose sourceEventId was used with a different body' })
  async ingest(@Body() body: unknown, @CurrentSource() source: SourceRequest): Promise<IngestResponseDto> {
    const incoming = await parseEvents(body);
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

async function parseEvents(body: unknown): Promise<IncomingEvent[]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError('invalid', 'EVENTS_BODY', 'The body must be one event or {"events": [...]}.', {
      errors: [{ path: '', message: 'must be an object' }],
    });
  }
  if (isBatch(body)) {
    const batch = await validatePlain(CustodyEventBatchDto, body);
    return batch.events.map((dto, index) => ({ dto, raw: body.events[index], path: `events[${index}].` }));
  }
  return [{ dto: await validatePlain(CustodyEventDto, body), raw: body, path: '' }];
}
