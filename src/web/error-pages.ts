import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Problem } from '../common/problem/problem.js';
import { messages } from './i18n/messages.js';
import { victimLangOf } from './page-paths.js';
import type { Pages } from './pages.js';

/** An error on a page path, as a page in that page's language with the API's status code. */
export function errorPageRenderer(pages: Pages) {
  return async (req: FastifyRequest, reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): Promise<void> => {
    const lang = victimLangOf(req.url) ?? 'en';
    const t = messages(lang).errors;
    const family = problem.status >= 500 ? (problem.status === 503 ? 503 : 500) : problem.status;
    await pages.render(
      req,
      reply,
      lang,
      'error',
      {
        title: t.title[family] ?? t.title[400],
        message: t.body[family] ?? t.body[400],
        errorId: problem.errorId,
        retryMinutes: retryAfterSeconds === undefined ? undefined : Math.ceil(retryAfterSeconds / 60),
      },
      problem.status,
    );
  };
}
