import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentStaff } from '../../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../../auth/staff-auth.guard.js';
import { AuditService } from '../../common/audit.service.js';
import { Clock } from '../../common/clock.js';
import { PROGRAM_REPORT_SCHEMA } from './program-report.schema.js';
import { type ProgramReport, ProgramReportService } from './program-report.service.js';
import { reportCsv } from './report-csv.js';
import { reportPeriod } from './report-period.js';

export class ReportQuery {
  @ApiPropertyOptional({
    format: 'date',
    example: '2026-07-01',
    description: 'first day counted (UTC); with to, or neither for the last quarter',
  })
  @IsOptional()
  @IsString()
  @MaxLength(10)
  from?: string;
  @ApiPropertyOptional({ format: 'date', example: '2026-10-01', description: 'first day not counted (UTC); at most 731 days after from' })
  @IsOptional()
  @IsString()
  @MaxLength(10)
  to?: string;
  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

@ApiTags('admin')
@Controller('v1/admin/reports')
@StaffOnly('admin')
export class ProgramReportController {
  constructor(
    private readonly reports: ProgramReportService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Program report',
    description:
      'Admins only. Counts and rates for a period (registrations, alerts, delivery, escalations), for funders and oversight: no ' +
      'names or ids; cells from 1 to 10 shown as "<11". JSON, or CSV with `format=csv`. The read is audited.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'Program report for [from, to): counts and rates only, cells from 1 to 10 shown as "<11"',
    content: {
      'application/json': { schema: PROGRAM_REPORT_SCHEMA },
      'text/csv': { schema: { type: 'string', example: 'section,category,subcategory,value\r\nregistrations,self,,<11\r\n' } },
    },
  })
  async report(
    @Query() query: ReportQuery,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProgramReport | string> {
    const period = reportPeriod(query.from, query.to, this.clock.now());
    const report = await this.reports.report(period);
    await this.audit.record([
      {
        actor: staff,
        action: 'report.read',
        targetType: 'report',
        clientAddress: req.ip,
        details: { from: report.period.from, to: report.period.to, format: query.format ?? 'json' },
      },
    ]);
    if (query.format !== 'csv') return report;
    void reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="vigil-report-${report.period.from}-${report.period.to}.csv"`);
    return reportCsv(report);
  }
}
