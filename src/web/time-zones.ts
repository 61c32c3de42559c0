/**
 * The zones the sign-up and manage forms offer, US zones first: most registrants live in one. Any
 * other IANA zone a registration already has, or a form posts, is kept and validated as the API would.
 */
export const TIME_ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Puerto_Rico',
  'America/St_Thomas',
  'Pacific/Guam',
  'Pacific/Pago_Pago',
];
