import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { StaffOnly } from '../auth/staff-auth.guard.js';
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
  async list(@Query() query: AuditQuery): Promise<{ entries: AuditRecordDto[] }> {
    return { entries: await this.audit.list({ since: query.since ? new Date(query.since) : undefined, limit: query.limit ?? 100 }) };
  }
}
