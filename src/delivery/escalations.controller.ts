import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { UuidParam } from '../common/problem/input-rules.js';
import { ValidationProblem } from '../common/problem/validation.js';
import {
  ESCALATION_STATUSES,
  type EscalationStatus,
  type EscalationView,
  EscalationsService,
  RESOLUTION_NOTE_MAX,
} from './escalations.service.js';

export class EscalationQuery {
  @ApiPropertyOptional({ enum: ESCALATION_STATUSES, default: 'open', description: 'open: oldest first; resolved: newest first' })
  @IsOptional()
  @IsIn(ESCALATION_STATUSES)
  status?: EscalationStatus;
}

export class ResolveEscalationDto {
  @ApiProperty({
    minLength: 1,
    maxLength: RESOLUTION_NOTE_MAX,
    description: 'What was done (kept encrypted; never in the audit log). Line breaks allowed.',
    example: 'Reached the victim by phone; safety plan reviewed.',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(RESOLUTION_NOTE_MAX)
  note: string;
}

export class EscalationDto implements EscalationView {
  @ApiProperty({ format: 'uuid', description: 'The escalated notification’s id' }) escalationId: string;
  @ApiProperty({ format: 'uuid' }) registrationId: string;
  @ApiProperty({ description: 'Enrolled by a specialist (false: the victim signed up alone, so admins handle it)' }) enrolled: boolean;
  @ApiProperty({ description: 'The person in custody the alert was about' }) personName: string;
  @ApiProperty({ example: 'RELEASED', description: 'For a correction, the type of the retracted event' }) eventType: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ description: 'The correction of a retracted alert did not reach the victim' }) correction: boolean;
  @ApiProperty({ example: 'sent', description: 'How far the alert has got since, as the ledger rolls it up' }) alertStatus: string;
  @ApiProperty({ format: 'date-time' }) escalatedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) acknowledgedAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Email of the staff member who acknowledged it first' })
  acknowledgedBy: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) resolvedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) resolutionNote: string | null;
}

class EscalationListDto {
  @ApiProperty({ type: [EscalationDto] }) escalations: EscalationDto[];
}

/**
 * Escalated urgent alerts for staff: a specialist's own enrollees only (another's answers 404 like
 * a missing one), an admin's all of them. Keyed by the notification id.
 */
@ApiTags('escalations')
@Controller('v1/escalations')
@StaffOnly('specialist')
export class EscalationsController {
  constructor(private readonly escalations: EscalationsService) {}

  @Get()
  @ApiOperation({
    summary: 'List escalations',
    description:
      'Urgent alerts nobody confirmed in time: a specialist’s own enrollees’, an admin’s all (self-registered victims’ included). ' +
      'Open ones oldest first, resolved ones newest first. The read is audited.',
  })
  @ApiOkResponse({ type: EscalationListDto, description: 'Up to 200, open ones oldest first' })
  async list(
    @Query() query: EscalationQuery,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<EscalationListDto> {
    const escalations = await this.escalations.list(query.status ?? 'open', { staff, clientAddress: req.ip });
    return { escalations };
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Acknowledge an escalation',
    description: 'Says someone is on it. Takes no body (any field is refused); a second acknowledgement keeps the first. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The escalation (the escalated notification’s id)' })
  @ApiOkResponse({ type: EscalationDto, description: 'Acknowledged; a second acknowledgement keeps the first one' })
  @ApiNotFoundResponse({ description: 'ESCALATION_NOT_FOUND: no such escalation, or not one of yours' })
  @ApiUnprocessableEntityResponse({ description: 'A body with any field' })
  async acknowledge(
    @Param('id', UuidParam) id: string,
    @Body() body: unknown,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<EscalationDto> {
    // Nothing to send: a field here is a client that means something else.
    if (body !== undefined && body !== null) {
      const fields = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : ['body'];
      if (fields.length) throw new ValidationProblem(fields.slice(0, 20).map((path) => ({ path, message: 'should not exist' })));
    }
    return this.escalations.acknowledge(id, { staff, clientAddress: req.ip });
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resolve an escalation',
    description: 'Final: records what was done (the note is kept encrypted, never in the audit log) and acknowledges it if nobody had.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The escalation (the escalated notification’s id)' })
  @ApiBody({ type: ResolveEscalationDto })
  @ApiOkResponse({ type: EscalationDto, description: 'Resolved (and acknowledged, if nobody had); final' })
  @ApiNotFoundResponse({ description: 'ESCALATION_NOT_FOUND: no such escalation, or not one of yours' })
  @ApiConflictResponse({ description: 'ESCALATION_RESOLVED: it was resolved already; the first note stands' })
  @ApiUnprocessableEntityResponse({ description: 'A missing, blank or too long note, or an unknown field' })
  resolve(
    @Param('id', UuidParam) id: string,
    @Body() body: ResolveEscalationDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<EscalationDto> {
    return this.escalations.resolve(id, body.note, { staff, clientAddress: req.ip });
  }
}
