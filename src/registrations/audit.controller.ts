import { Controller, Get, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { type AuditRecordDto, AuditService } from '../common/audit.service.js';
import { AuditListDto } from './audit.dto.js';

const INSTANT = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

class AuditQuery {
  // A real calendar instant with its offset, in PostgreSQL's range: `new Date()` would take "1" or "2026-02-30".
  @ApiPropertyOptional({ format: 'date-time', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @Matches(INSTANT, { message: 'must be a date-time with an offset, such as 2026-01-01T00:00:00Z' })
  @IsISO8601({ strict: true }, { message: 'must be a real date and time' })
  since?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

@ApiTags('admin')
@Controller('v1/admin/audit')
@StaffOnly('admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Read the audit log',
    description:
      'Admins only. Staff reads and changes of victim data, sign-ins and failed passwords, newest first; `since` and `limit` narrow it.',
  })
  @ApiOkResponse({ type: AuditListDto, description: 'Staff reads and changes of victim data, newest first' })
  async list(
    @Query() query: AuditQuery,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<{ entries: AuditRecordDto[] }> {
    const limit = query.limit ?? 100;
    const entries = await this.audit.list({ since: query.since ? new Date(query.since) : undefined, limit });
    // The log shows which victims' records staff opened: reading it is itself recorded, as the console's page does.
    await this.audit.record([
      {
        actor: staff,
        action: 'audit.read',
        targetType: 'audit_log',
        clientAddress: req.ip,
        details: { since: query.since ?? null, limit, entries: entries.length },
      },
    ]);
    return { entries };
  }
}
