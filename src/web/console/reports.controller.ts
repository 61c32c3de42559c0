import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuditService } from '../../common/audit.service.js';
import { Clock } from '../../common/clock.js';
import { DomainError } from '../../common/problem/domain-error.js';
import { escapeHtml } from '../../delivery/templates.js';
import { ProgramReportService } from '../../delivery/reports/program-report.service.js';
import { reportCsv } from '../../delivery/reports/report-csv.js';
import { type ReportPeriod, reportPeriod } from '../../delivery/reports/report-period.js';
import type { Cell } from '../../delivery/reports/small-cells.js';
import { messages } from '../../i18n/messages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

export interface Bar {
  label: string;
  value: Cell;
}

/** The program report as a page: the API's report, its charts drawn on the server so they read without script. */
@ApiExcludeController()
@Controller('console')
@ConsoleOnly('admin')
export class ReportsController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly reports: ProgramReportService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  @Get('reports')
  async page(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const { reports: t, directory, console: consoleText } = messages(this.sessions.lang(req, reply));
    const kinds = directory.kinds;
    const query = req.query as Record<string, unknown>;
    // Blank is "the last quarter"; a field sent twice or as anything but text is a bad date, never that.
    const text = (value: unknown) =>
      typeof value !== 'string' ? (value === undefined ? undefined : '') : value.trim() ? value.trim().slice(0, 10) : undefined;
    const from = text(query.from);
    const to = text(query.to);
    let period;
    try {
      period = reportPeriod(from, to, this.clock.now());
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'REPORT_PERIOD_INVALID') throw error;
      const fields = new Set((error.options.errors ?? []).map((e) => e.path));
      const errors = [...fields].map((field) => ({ field, message: field === 'from' ? t.invalidFrom : t.invalidTo }));
      return this.pages.render(req, reply, 'reports', { title: t.title, from: from ?? '', to: to ?? '', report: null, errors }, 422);
    }
    // The page's download links: a browser sends the console's cookie, never the API's bearer token,
    // so the files come from here, with the API's figures and file name.
    const format = query.format === undefined ? 'html' : query.format === 'csv' || query.format === 'json' ? query.format : undefined;
    if (!format) {
      throw new DomainError('invalid', 'REPORT_FORMAT_INVALID', 'The format must be csv or json.', {
        errors: [{ path: 'format', message: 'must be csv or json' }],
      });
    }
    const report = await this.read(req, period, format);
    if (format !== 'html') {
      const file = `vigil-report-${report.period.from}-${report.period.to}.${format}`;
      void reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file}"`)
        .send(format === 'csv' ? reportCsv(report) : JSON.stringify(report));
      return;
    }
    const self = (label: string) => `${label} · ${t.self}`;
    const enrolled = (label: string) => `${label} · ${t.enrolled}`;
    const query_ = `from=${report.period.from}&to=${report.period.to}`;
    await this.pages.render(req, reply, 'reports', {
      title: t.title,
      from: report.period.from,
      to: report.period.to,
      report,
      escape: escapeHtml,
      csvHref: `/console/reports?${query_}&format=csv`,
      jsonHref: `/console/reports?${query_}&format=json`,
      charts: {
        byLanguage: report.registrations.byLanguage.flatMap((r): Bar[] => {
          const label = t.languages[r.language] ?? r.language;
          return [
            { label: self(label), value: r.self },
            { label: enrolled(label), value: r.enrolled },
          ];
        }),
        byChannel: report.registrations.byChannel.flatMap((r): Bar[] => {
          const label = t.channels[r.channel] ?? r.channel;
          return [
            { label: self(label), value: r.self },
            { label: enrolled(label), value: r.enrolled },
          ];
        }),
        events: report.events.map((e): Bar => ({ label: `${e.source} · ${e.type}`, value: e.count })),
        deliveries: report.deliveries.map((d): Bar => ({
          label: `${t.channels[d.channel] ?? d.channel} · ${consoleText.victim.deliveryStatus[d.status] ?? d.status}`,
          value: d.count,
        })),
        servicesShared: report.servicesShared.map((r): Bar => ({ label: kinds[r.kind] ?? r.kind, value: r.count })),
      },
    });
  }

  /** The report for a period, its read audited as the API's is. */
  private async read(req: ConsoleRequest, period: ReportPeriod, format: 'html' | 'csv' | 'json') {
    const report = await this.reports.report(period);
    const staff = req.consoleStaff!;
    await this.audit.record([
      {
        actor: { staffId: staff.staffId, role: staff.role },
        action: 'report.read',
        targetType: 'report',
        clientAddress: req.ip,
        details: { from: report.period.from, to: report.period.to, format },
      },
    ]);
    return report;
  }
}
