import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * A service's phone number, as the directory keeps it: E.164 (with `;ext=` when the office gives an
 * extension), or one of the US three-digit lines (988, 211…), which numbering plans and
 * libphonenumber do not cover. Unlike a victim's contact, any valid number is accepted, toll-free
 * and foreign ones included: these are lines the victim calls, not lines Vigil calls.
 */
const THREE_DIGIT_LINES = /^(211|311|411|511|611|711|811|911|988)$/;
const EXTENSION = /\s*(?:ext\.?|extension|x|#)\s*(\d{1,6})\s*$/i;
const KEYPAD: Record<string, string> = Object.fromEntries(
  ['abc', 'def', 'ghi', 'jkl', 'mno', 'pqrs', 'tuv', 'wxyz'].flatMap((letters, i) => [...letters].map((l) => [l, String(i + 2)])),
);

/** The stored form of what an admin typed, or undefined when it is no phone number. */
export function normalizeServicePhone(input: string): string | undefined {
  const trimmed = input.trim();
  if (THREE_DIGIT_LINES.test(trimmed)) return trimmed;
  const ext = EXTENSION.exec(trimmed);
  let number = ext ? trimmed.slice(0, ext.index) : trimmed;
  // Vanity numbers (1-855-48-VOICE) are dialled by their keypad digits.
  if (/^[+\d\s().-]*[A-Za-z][A-Za-z\d\s().-]*$/.test(number)) number = number.replace(/[A-Za-z]/g, (l) => KEYPAD[l.toLowerCase()]);
  if (!/^[+\d\s().-]{3,30}$/.test(number)) return undefined;
  const phone = parsePhoneNumberFromString(number, 'US');
  if (!phone?.isValid()) return undefined;
  return ext ? `${phone.number};ext=${ext[1]}` : phone.number;
}

function parts(stored: string): { number: string; ext?: string } {
  const [number, ext] = stored.split(';ext=');
  return { number, ext };
}

/** As people write it: (800) 799-7233 at home, +52 55 1234 5678 abroad, 988 as is. */
export function displayServicePhone(stored: string, extensionWord = 'ext.'): string {
  const { number, ext } = parts(stored);
  const phone = parsePhoneNumberFromString(number);
  const shown = !phone ? number : phone.countryCallingCode === '1' ? phone.formatNational() : phone.formatInternational();
  return ext ? `${shown} ${extensionWord} ${ext}` : shown;
}

/** For a `tel:` link (RFC 3966): the number as dialled, its extension kept. */
export function telUri(stored: string): string {
  return `tel:${stored}`;
}

/** Read out in a call, digit by digit in the groups people write them in, so a listener can write it down. */
export function spokenServicePhone(stored: string, extensionWord: string): string {
  const { ext } = parts(stored);
  const shown = displayServicePhone(parts(stored).number);
  const spell = (digits: string) => [...digits].join(' ');
  const said = `${shown.startsWith('+') ? '+' : ''}${(shown.match(/\d+/g) ?? []).map(spell).join(', ')}`;
  return ext ? `${said}, ${extensionWord} ${spell(ext)}` : said;
}
