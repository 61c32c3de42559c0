import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { FACILITY_CODE, upperTrim } from '../sources/source.dto.js';
import { CurrentSource, type SourceRequest, SourceOnly } from '../sources/source-auth.guard.js';
import { openApiSchema, parseWith } from '../common/problem/validation.js';
import { rosterSchema } from './custody-event.schema.js';
import { RosterResultDto, RosterSnapshotDto, RosterSnapshotListDto } from './roster.dto.js';
import { RosterService } from './roster.service.js';
import { peopleOf, readRoster } from './roster-stream.js';
import { type RequestWithBodyStream, STREAM_BODY } from '../common/body-parsing.js';
import { UuidParam } from '../common/problem/input-rules.js';

class FacilityCodeParam {
  @Transform(upperTrim)
  @Matches(FACILITY_CODE, { message: 'must be 1-32 letters, digits, dot, dash or underscore' })
  code: string;
}

class SnapshotQuery {
  @ApiPropertyOptional({ enum: ['held', 'applied', 'baseline', 'approved', 'discarded'], default: 'held' })
  @IsOptional()
  @IsIn(['held', 'applied', 'baseline', 'approved', 'discarded'])
  status?: string;
}

@ApiTags('ingestion')
@Controller('v1/facilities')
@SourceOnly()
export class RosterController {
  constructor(private readonly rosters: RosterService) {}

  @Put(':code/roster')
  @ApiOperation({
    summary: "A facility's whole roster",
    description:
      'Read as a stream (up to 50 MB). A person may carry fields beyond this schema (vendors add them): they are accepted ' +
      'and ignored; a roster keeps no raw payload per person. The envelope (`{asOf, people}`) refuses unknown fields. ' +
      'The first roster of a facility is a baseline (no alerts). A diff that would release more than ROSTER_HOLD_PERCENT of ' +
      'the population (and at least ROSTER_HOLD_MIN people) is held for an admin instead of sent. A signed request is checked ' +
      'as the body streams in.',
  })
  @ApiParam({ name: 'code', example: 'HCJ-1', description: 'Facility code: 1-32 letters, digits, dot, dash or underscore' })
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RosterResultDto, description: 'Counts are what the diff found, whether or not it was held' })
  @ApiForbiddenResponse({ description: 'FACILITY_NOT_ALLOWED: a facility this source may not report' })
  @ApiBody({
    schema: openApiSchema(rosterSchema),
    examples: {
      roster: {
        summary: 'Everyone in the facility now',
        value: {
          asOf: '2026-11-26T06:00:00-06:00',
          people: [
            {
              identifiers: [{ system: 'BOOKING_NUMBER', value: '2026-004512' }],
              firstName: 'John',
              lastName: 'Doe',
              dateOfBirth: '1980-04-02',
            },
            { identifiers: [{ system: 'A_NUMBER', value: '012-345-678' }], firstName: 'Ana', lastName: 'Ruiz' },
          ],
        },
      },
    },
  })
  // Read as it arrives, so a 50 MB roster is never held as bytes, text and a parsed tree at once.
  @RouteConfig(STREAM_BODY)
  async submit(
    @Param() params: FacilityCodeParam,
    @Body() body: unknown,
    @CurrentSource() source: SourceRequest,
    @Req() req: RequestWithBodyStream,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RosterResultDto> {
    // A request without a body never gets a stream; its empty body is validated as before.
    if (!req.bodyStream) {
      const roster = parseWith(rosterSchema, body);
      return this.rosters.submit(source, params.code, { asOf: roster.asOf, people: peopleOf(roster.people) });
    }
    let read: Awaited<ReturnType<typeof readRoster>>;
    try {
      read = await readRoster(req.bodyStream, { verifier: source.verifier });
    } catch (error) {
      // Refused before its end: the rest of the body is not read, the connection closes after the answer.
      if (!req.raw.complete) reply.header('Connection', 'close');
      throw error;
    }
    return this.rosters.submit({ source: source.source, webhook: read.webhook }, params.code, read.roster);
  }
}

@ApiTags('admin')
@Controller('v1/admin/roster-snapshots')
@StaffOnly('admin')
export class RosterAdminController {
  constructor(private readonly rosters: RosterService) {}

  @Get()
  @ApiOperation({
    summary: 'List roster snapshots',
    description: 'Admins only. By status, held ones by default: each with the people its diff would release and book.',
  })
  @ApiOkResponse({ type: RosterSnapshotListDto })
  async list(@Query() query: SnapshotQuery): Promise<{ snapshots: RosterSnapshotDto[] }> {
    return { snapshots: await this.rosters.list(query.status ?? 'held') };
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a held roster diff',
    description: 'Admins only. Applies the held diff: its events are emitted and alerts go out. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The held snapshot' })
  @ApiNotFoundResponse({ description: 'HELD_SNAPSHOT_NOT_FOUND: no held snapshot with that id' })
  @ApiConflictResponse({ description: 'HELD_SNAPSHOT_OVERTAKEN: a newer roster of the facility was applied since; discard this one' })
  @ApiOkResponse({ type: RosterResultDto, description: 'The held events are emitted now' })
  approve(@Param('id', UuidParam) id: string, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<RosterResultDto> {
    return this.rosters.approve(id, { staff, clientAddress: req.ip });
  }

  @Post(':id/discard')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discard a held roster diff', description: 'Admins only. Drops the held diff: nothing is emitted. Audited.' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The held snapshot' })
  @ApiNotFoundResponse({ description: 'HELD_SNAPSHOT_NOT_FOUND: no held snapshot with that id' })
  @ApiNoContentResponse({ description: 'Discarded' })
  async discard(@Param('id', UuidParam) id: string, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<void> {
    await this.rosters.discard(id, { staff, clientAddress: req.ip });
  }
}
