import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, Max, Min } from 'class-validator';
import { StaffOnly } from '../auth/staff-auth.guard.js';
import { InstantInRange } from '../common/problem/input-rules.js';
import { type AuditRecordDto, AuditService } from '../common/audit.service.js';

class AuditQuery {
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @Type(() => Date) @IsDate() @InstantInRange() since?: Date;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

@ApiTags('admin')
@Controller('v1/admin/audit')
@StaffOnly('admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ description: 'Staff reads and changes of victim data, newest first' })
  async list(@Query() query: AuditQuery): Promise<{ entries: AuditRecordDto[] }> {
    return { entries: await this.audit.list({ since: query.since, limit: query.limit ?? 100 }) };
  }
}
