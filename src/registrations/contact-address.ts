import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { type NumberType, parsePhoneNumberFromString as parseWithTypes } from 'libphonenumber-js/max';

export const CHANNELS = ['email', 'sms', 'voice'] as const;
export type Channel = (typeof CHANNELS)[number];

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;

/** The canonical form of an address: E.164 for phones (default region US), lower-case for email; undefined if invalid. */
export function normalizeAddress(channel: Channel, address: string): string | undefined {
  const trimmed = address.trim();
  if (channel === 'email') {
    const lower = trimmed.toLowerCase();
    return EMAIL.test(lower) && lower.length <= 254 ? lower : undefined;
  }
  const phone = parsePhoneNumberFromString(trimmed, 'US');
  return phone?.isValid() ? phone.number : undefined;
}

/**
 * Lines a person answers. Premium-rate, shared-cost, toll-free, personal (5XX), pager, UAN and
 * voicemail numbers, and numbers the full metadata cannot place, never reach the victim: an alert
 * sent there is an alert lost, or a bill for whoever owns the number.
 */
const ANSWERED: readonly NumberType[] = ['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE', 'VOIP'];

/** Why a valid E.164 number cannot be a contact (outside `countries`, or of a type nobody answers), or undefined. */
export function phoneRefusal(e164: string, countries: readonly string[]): 'country' | 'type' | undefined {
  const phone = parseWithTypes(e164);
  if (!phone?.country || !countries.includes(phone.country)) return 'country';
  const type = phone.getType();
  return type && ANSWERED.includes(type) ? undefined : 'type';
}

/** The one answer for any phone number refused: it says which numbers are accepted. */
export function acceptedPhonesMessage(countries: readonly string[]): string {
  const list = countries.length > 1 ? `${countries.slice(0, -1).join(', ')} or ${countries.at(-1)}` : countries.join('');
  return `must be a mobile, landline or VoIP number in ${list}`;
}

/** What a blind index is computed over: SMS and voice share the phone number. */
export function indexInput(channel: Channel, normalized: string): string {
  return channel === 'email' ? `email:${normalized}` : `phone:${normalized}`;
}

/** +1•••••0123 and j•••@example.org: enough to recognise, not enough to use. */
export function maskAddress(channel: Channel, normalized: string): string {
  if (channel === 'email') {
    const [local, domain] = normalized.split('@');
    return `${local[0]}•••@${domain}`;
  }
  const phone = parsePhoneNumberFromString(normalized);
  return `+${phone?.countryCallingCode ?? ''}•••••${normalized.slice(-4)}`;
}
