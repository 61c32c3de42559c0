import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Problem } from '../common/problem/problem.js';
import type { ConsolePages } from './console/console-pages.js';
import { messages, type Lang } from '../i18n/messages.js';
import { isConsolePath, victimLangOf } from './page-paths.js';
import type { Pages } from './pages.js';

/** An error on a page path, as a page in that page's language with the API's status code. */
export function errorPageRenderer(pages: Pages, consolePages: ConsolePages) {
  return async (req: FastifyRequest, reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): Promise<void> => {
    if (isConsolePath(req.url)) return consolePages.renderError(req, reply, problem, retryAfterSeconds);
    const lang = victimLangOf(req.url) ?? 'en';
    await pages.render(
      req,
      reply,
      lang,
      'error',
      { ...errorWording(lang, problem.status), errorId: problem.errorId, retryMinutes: retryMinutes(retryAfterSeconds) },
      problem.status,
    );
  };
}

/** The page's heading and advice for a status, in a language. */
export function errorWording(lang: Lang, status: number): { title: string; message: string } {
  const t = messages(lang).errors;
  const family = status >= 500 ? (status === 503 ? 503 : 500) : status;
  return { title: t.title[family] ?? t.title[400], message: t.body[family] ?? t.body[400] };
}

export function retryMinutes(retryAfterSeconds: number | undefined): number | undefined {
  return retryAfterSeconds === undefined ? undefined : Math.ceil(retryAfterSeconds / 60);
}
