import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { LANGS, LOCALE, messages, type Lang, type Messages } from '../i18n/messages.js';
import { counterpartOf, pageAddressOf } from './page-paths.js';
import { CSRF_FIELD } from './web-setup.js';

/** A mistake in a form, next to its field: the field's name (its id is `field-<name>`) and the words. */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface PageData {
  /** The page's own `<title>` and `<h1>`: never victim data. */
  title: string;
  errors?: FieldProblem[];
  [key: string]: unknown;
}

/** Renders a victim page in its language, inside the layout (quick exit, language switch, safety line). */
@Injectable()
export class Pages {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async render(req: FastifyRequest, reply: FastifyReply, lang: Lang, view: string, data: PageData, status = 200): Promise<void> {
    const html = await reply.viewAsync(`${view}.eta`, { ...this.frame(req, reply, lang), ...data, errors: data.errors ?? [] });
    void reply.status(status).type('text/html; charset=utf-8').send(html);
  }

  /** 303 See Other: after a POST, and from the manage link (so the token leaves the address bar). */
  redirect(reply: FastifyReply, location: string): void {
    seeOther(reply, location);
  }

  private frame(req: FastifyRequest, reply: FastifyReply, lang: Lang) {
    const t: Messages = messages(lang);
    const other = LANGS.find((candidate) => candidate !== lang)!;
    return {
      lang,
      t,
      other,
      otherHref: counterpartOf(pageAddressOf(req.method, req.url), other),
      otherT: messages(other),
      quickExitUrl: this.config.quickExitUrl,
      csrf: reply.generateCsrf(),
      csrfField: CSRF_FIELD,
      formatDateTime: (value: Date | string | null | undefined, timeZone = this.config.defaultTimeZone) =>
        value ? new Intl.DateTimeFormat(LOCALE[lang], { dateStyle: 'long', timeStyle: 'short', timeZone }).format(new Date(value)) : '',
      fieldError: (errors: FieldProblem[] | undefined, field: string) => errors?.find((e) => e.field === field)?.message,
    };
  }
}

/** 303 See Other: where a page's POST (or a page without its session) sends the browser next. */
export function seeOther(reply: FastifyReply, location: string): void {
  void reply.status(303).header('location', location).send();
}
