import { parsePhoneNumberFromString } from 'libphonenumber-js';

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
