import { isLang, type Lang } from '../i18n/messages.js';

/** Victim pages live under `/en/` and `/es/`; the staff console under `/console/`. */
export function victimLangOf(url: string): Lang | undefined {
  const first = /^\/([^/?#]*)/.exec(url)?.[1]?.toLowerCase();
  return isLang(first) ? first : undefined;
}

export function isConsolePath(url: string): boolean {
  return /^\/console(?:[/?#]|$)/i.test(url);
}

/** Pages answer HTML (errors included) with the page headers; everything else stays JSON. */
export function isPagePath(url: string): boolean {
  return victimLangOf(url) !== undefined || isConsolePath(url) || url === '/' || url.startsWith('/?');
}

/** The same page in the other language: the language segment swapped, the query kept (never a token). */
export function counterpartOf(url: string, to: Lang): string {
  const [path, query = ''] = url.split('?', 2);
  const rest = path.replace(/^\/[^/]*/, '');
  const params = new URLSearchParams(query);
  params.delete('token');
  const kept = params.toString();
  return `/${to}${rest || '/'}${kept ? `?${kept}` : ''}`;
}

/** `Accept-Language` → the first of our languages it prefers (q-values honoured); English otherwise. */
export function preferredLang(header: string | undefined): Lang {
  const ranked = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? '1',
      );
      return { lang: tag.trim().toLowerCase().split('-')[0], q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((entry) => entry.lang).find(isLang) ?? 'en';
}

/**
 * The page a response shows, as an address that can be opened again: a form's POST that answers
 * with a page (mistakes, a notice) links its language switch to the page the form is on.
 */
export function pageAddressOf(method: string, url: string): string {
  if (method === 'GET' || method === 'HEAD') return url;
  const path = url.split('?', 1)[0];
  const victim = /^\/([^/]+)\/(manage|verify)(\/[^?]*)?$/i.exec(path);
  if (victim) return victim[3]?.toLowerCase() === '/stop' ? `/${victim[1]}/` : `/${victim[1]}/${victim[2]}`;
  if (/^\/console\/sources\/[^/]+\/keys$/i.test(path)) return '/console/sources';
  // A staff member's disable, enable and new-password forms all answer on (or for) the staff page.
  if (/^\/console\/staff\/[^/]+\/[a-z]+$/i.test(path)) return '/console/staff';
  return path;
}

/** The language of a victim page's request (its path says it; the router only lets `en` and `es` through). */
export function langOf(req: { url: string }): Lang {
  return victimLangOf(req.url) ?? 'en';
}
