export const STAFF_ROLES = ['admin', 'specialist'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
