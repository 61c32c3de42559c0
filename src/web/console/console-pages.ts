import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StaffPrincipal } from '../../auth/staff-auth.guard.js';
import type { Problem } from '../../common/problem/problem.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { EscalationsService } from '../../delivery/escalations.service.js';
import { LANGS, LOCALE, messages, type Lang } from '../../i18n/messages.js';
import { errorWording, retryMinutes } from '../error-pages.js';
import { pageAddressOf } from '../page-paths.js';
import { type PageData, seeOther } from '../pages.js';
import { ConsoleSessions } from './console-session.js';
import { CONSOLE_LOGIN_REQUIRED } from './console.guard.js';

export type ConsoleRequest = FastifyRequest & { consoleStaff?: StaffPrincipal };

/** Renders a console page inside views/console/layout.eta: no quick exit or hreflang (DESIGN), the staff member's language. */
@Injectable()
export class ConsolePages {
  constructor(
    private readonly sessions: ConsoleSessions,
    private readonly escalations: EscalationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async render(req: ConsoleRequest, reply: FastifyReply, view: string, data: PageData, status = 200): Promise<void> {
    const lang = this.sessions.lang(req, reply);
    // Every signed-in page shows what is waiting for this staff member; an error page of the database's own is spared the query.
    const openEscalations = req.consoleStaff && status < 500 ? await this.escalations.openCount(req.consoleStaff) : undefined;
    const html = await reply.viewAsync(`console/${view}.eta`, {
      ...this.frame(req, reply, lang),
      openEscalations,
      ...data,
      errors: data.errors ?? [],
    });
    void reply.status(status).type('text/html; charset=utf-8').send(html);
  }

  /** A console page without a session is the way in, not an error: 303 to the login. A wrong role is a 403 page. */
  async renderError(req: ConsoleRequest, reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): Promise<void> {
    if (problem.status === 401 && problem.code === CONSOLE_LOGIN_REQUIRED) {
      return seeOther(reply, '/console/login');
    }
    const t = messages(this.sessions.lang(req, reply));
    const wording =
      problem.status === 403
        ? { title: t.console.forbiddenTitle, message: t.console.forbidden }
        : errorWording(this.sessions.lang(req, reply), problem.status);
    await this.render(
      req,
      reply,
      'error',
      { ...wording, errorId: problem.errorId, retryMinutes: retryMinutes(retryAfterSeconds) },
      problem.status,
    );
  }

  private frame(req: ConsoleRequest, reply: FastifyReply, lang: Lang) {
    const other = LANGS.find((candidate) => candidate !== lang)!;
    const path = pageAddressOf(req.method, req.url).split('?', 1)[0];
    return {
      lang,
      t: messages(lang),
      other,
      otherHref: `${path}?lang=${other}`,
      staff: req.consoleStaff,
      csrf: reply.generateCsrf(),
      formatDateTime: (value: Date | string | null | undefined) =>
        value
          ? new Intl.DateTimeFormat(LOCALE[lang], {
              dateStyle: 'medium',
              timeStyle: 'short',
              timeZone: this.config.defaultTimeZone,
            }).format(new Date(value))
          : '',
    };
  }
}
