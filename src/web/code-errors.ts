import type { FastifyReply } from 'fastify';
import { DomainError } from '../common/problem/domain-error.js';
import { messages, type Lang } from '../i18n/messages.js';

/**
 * A verification service refusal (wrong or expired code, a lock, a resend too soon, codes paused)
 * in the page's words, with the API's status; a 429 also sets Retry-After. Undefined for any other
 * error, which the caller rethrows. One mapping for the verify and the manage pages alike.
 */
export function codeRefusal(error: unknown, lang: Lang, reply: FastifyReply): { message: string; status: 422 | 429 } | undefined {
  if (!(error instanceof DomainError)) return undefined;
  const t = messages(lang).signup.codeErrors;
  const message = ((): string | undefined => {
    switch (error.code) {
      case 'CODE_WRONG':
        return t.wrong;
      case 'CODE_EXPIRED':
        return t.expired;
      case 'VERIFY_BY_CALL':
        return t.byCall;
      case 'CONTACT_LOCKED':
        return t.locked(Math.max(1, Math.ceil((error.options.retryAfterSeconds ?? 3600) / 60)));
      case 'CONTACT_LOCKED_FOR_HELP':
        return t.lockedForHelp;
      case 'RESEND_TOO_SOON':
        return t.tooSoon;
      case 'CODES_PAUSED':
        return t.paused;
      default:
        return undefined;
    }
  })();
  if (!message) return undefined;
  const status = error.kind === 'rate_limited' ? 429 : 422;
  if (status === 429) void reply.header('Retry-After', String(Math.max(1, Math.ceil(error.options.retryAfterSeconds ?? 60))));
  return { message, status };
}
