import { displayServicePhone, telUri } from '../common/service-phone.js';
import { MESSAGE_TEXT, serviceLanguageNames } from '../i18n/alerts.js';
import type { Lang } from '../i18n/messages.js';

/** How a directory entry's phone and languages read on a page in `lang`: the help page and the console alike. */
export function serviceFormatters(lang: Lang) {
  return {
    telUri,
    displayPhone: (phone: string) => displayServicePhone(phone, MESSAGE_TEXT[lang].extension),
    languageNames: (codes: string[]) => serviceLanguageNames(codes, lang),
  };
}
