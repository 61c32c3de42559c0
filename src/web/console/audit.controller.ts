import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isEmail } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { type AuditCursor, type AuditFilter, AuditService } from '../../common/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { messages } from '../../i18n/messages.js';
import type { FieldProblem } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

export const AUDIT_PAGE_SIZE = 50;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIELDS = ['actor', 'action', 'from', 'to', 'older', 'newer'] as const;
type Field = (typeof FIELDS)[number];

/** A calendar day that exists (no 2026-02-30), in years PostgreSQL and people both mean. */
function isDay(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1970 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * The audit log, newest first, in keyset pages, narrowed by who acted, the action and a range of
 * days (in the console's time zone). Details are shown as text, key by key: they are JSON written
 * by Vigil, but a value could still hold markup.
 */
@ApiExcludeController()
@Controller('console/audit')
@ConsoleOnly('admin')
export class AuditPagesController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async page(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.audit;
    const query = req.query as Record<string, unknown>;
    const errors: FieldProblem[] = [];
    const fail = (field: Field, message: string) => errors.push({ field, message });
    // A field sent twice or as anything but text is refused, not picked from.
    const form = {} as Record<Field, string>;
    for (const field of FIELDS) {
      const value = query[field];
      if (value !== undefined && typeof value !== 'string')
        fail(field, field === 'older' || field === 'newer' ? t.errors.page : t.errors[field]);
      form[field] = typeof value === 'string' ? value.slice(0, 300).trim() : '';
    }
    const known = await this.audit.actions();
    const actor = form.actor.toLowerCase();
    if (actor && (actor.length > 254 || !isEmail(actor))) fail('actor', t.errors.actor);
    if (form.action && !known.includes(form.action)) fail('action', t.errors.action);
    if (form.from && !isDay(form.from)) fail('from', t.errors.from);
    if (form.to && (!isDay(form.to) || (form.from && isDay(form.from) && form.to < form.from))) fail('to', t.errors.to);
    for (const field of ['older', 'newer'] as const) if (form[field] && !UUID.test(form[field])) fail(field, t.errors.page);
    if (form.older && form.newer) fail('newer', t.errors.page);
    const render = (data: Record<string, unknown>, status = 200) =>
      this.pages.render(req, reply, 'audit', { title: t.title, form, actions: known, errors: dedupe(errors), ...data }, status);
    if (errors.length) return render({ entries: [], hasOlder: false, hasNewer: false, filtered: true }, 422);

    const filter: AuditFilter = {
      ...(actor ? { actorEmail: actor } : {}),
      ...(form.action ? { action: form.action } : {}),
      ...(form.from ? { fromDate: form.from } : {}),
      ...(form.to ? { toDate: form.to } : {}),
      timeZone: this.config.defaultTimeZone,
    };
    const cursor: AuditCursor = form.older ? { older: form.older } : form.newer ? { newer: form.newer } : undefined;
    let page = await this.audit.page(filter, cursor, AUDIT_PAGE_SIZE);
    // Paging back up to the top shows the newest page whole, not the few entries left above the cursor.
    if (cursor && 'newer' in cursor && !page.hasNewer) page = await this.audit.page(filter, undefined, AUDIT_PAGE_SIZE);
    const staff = req.consoleStaff!;
    // The log shows which victims' records staff opened: reading it is itself recorded (no email: an address).
    await this.audit.record([
      {
        actor: { staffId: staff.staffId, role: staff.role },
        action: 'audit.read',
        targetType: 'audit_log',
        clientAddress: req.ip,
        details: {
          byActor: Boolean(actor),
          action: form.action || null,
          from: form.from || null,
          to: form.to || null,
          entries: page.entries.length,
        },
      },
    ]);
    const kept = new URLSearchParams();
    for (const field of ['actor', 'action', 'from', 'to'] as const)
      if (form[field]) kept.set(field, field === 'actor' ? actor : form[field]);
    const link = (cursorField: 'older' | 'newer', id: string) => {
      const params = new URLSearchParams(kept);
      params.set(cursorField, id);
      return `/console/audit?${params.toString()}`;
    };
    const entries = page.entries.map((entry) => ({
      ...entry,
      detailPairs: Object.entries(entry.details ?? {}).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
    }));
    await render({
      entries,
      filtered: kept.size > 0,
      olderHref: page.hasOlder && entries.length ? link('older', entries[entries.length - 1].auditId) : undefined,
      newerHref: page.hasNewer && entries.length ? link('newer', entries[0].auditId) : undefined,
      newestHref: page.hasNewer ? `/console/audit${kept.size ? `?${kept.toString()}` : ''}` : undefined,
    });
  }
}

function dedupe(errors: FieldProblem[]): FieldProblem[] {
  return errors.filter((error, index) => errors.findIndex((e) => e.field === error.field) === index);
}
