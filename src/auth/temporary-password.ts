import { randomInt } from 'node:crypto';

// No 0/o, 1/l/i: the password is read off a screen and typed, perhaps read out over the phone.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUPS = 5;
const GROUP_LENGTH = 5;

/**
 * A password an admin hands to a staff member, made by Vigil rather than chosen by the admin, so
 * it is never weak or reused: 25 characters from 31 (over 120 bits), in groups of five.
 */
export function temporaryPassword(): string {
  return Array.from({ length: GROUPS }, () =>
    Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
  ).join('-');
}
