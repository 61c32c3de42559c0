import { randomBytes } from 'node:crypto';

/**
 * A roster person as a jail management system sends one: the contract's fields and the vendor's own
 * (booking, housing, charges), padded so the whole document is `bytes` long: just under the route's 50 MB limit by default, as a big jail's full snapshot would be.
 */
export function rosterBody(asOf: string, count = 100_000, bytes = 50_000_000): string {
  const people = Array.from({ length: count }, (_, i) => ({
    identifiers: [
      { system: 'BOOKING', value: `BK${String(i).padStart(8, '0')}` },
      { system: 'A_NUMBER', value: `AN${randomBytes(5).toString('hex').toUpperCase()}` },
    ],
    firstName: `Firstname${i}`,
    lastName: `Lastname${i % 4999}`,
    dateOfBirth: `19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 9}`,
    countryOfBirth: 'US',
    bookingNumber: `2026-${String(i).padStart(7, '0')}`,
    housingUnit: `POD ${String.fromCharCode(65 + (i % 8))}-${i % 40}`,
    classification: i % 3 ? 'GENERAL' : 'MEDIUM',
    charges: [{ statute: 'TX PC 22.01', description: 'ASSAULT CAUSES BODILY INJURY', bond: 5000 }],
    notes: '',
  }));
  const unpadded = Buffer.byteLength(JSON.stringify({ asOf, people }));
  const pad = Math.max(0, Math.floor((bytes - unpadded) / count));
  for (const p of people) p.notes = 'n'.repeat(pad);
  return JSON.stringify({ asOf, people });
}
