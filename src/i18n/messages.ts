import { LANGUAGES, type Language } from '../registrations/registration.dto.js';
import { common } from './common.js';
import { consoleMessages } from './console.js';
import { directory } from './directory.js';
import { errors } from './errors.js';
import { help } from './help.js';
import { manage } from './manage.js';
import { reports } from './reports.js';
import { search } from './search.js';
import { signup } from './signup.js';

/** One typed catalog per page area, English and Spanish side by side; the type makes Spanish complete. */
const catalogs = { common, console: consoleMessages, directory, errors, help, manage, reports, search, signup };

export type Lang = Language;
export const LANGS = LANGUAGES;
export type Messages = { [Area in keyof typeof catalogs]: (typeof catalogs)[Area]['en'] };

const byLang = Object.fromEntries(
  LANGS.map((lang) => [lang, Object.fromEntries(Object.entries(catalogs).map(([area, catalog]) => [area, catalog[lang]]))]),
) as Record<Lang, Messages>;

export function messages(lang: Lang): Messages {
  return byLang[lang];
}

export function isLang(value: unknown): value is Lang {
  return (LANGS as readonly unknown[]).includes(value);
}

/** BCP 47 tags for Intl formatting: US English, and Spanish as spoken in the United States. */
export const LOCALE: Record<Lang, string> = { en: 'en-US', es: 'es-US' };
