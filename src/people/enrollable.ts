/**
 * Whom staff may enrol a victim for, as SQL on `person p`: any live record, minors included (a
 * victim of a young offender has the same need to know); protected persons only for admins, whose
 * decision a protection is. `admin` names the query parameter that says whether the caller is one.
 */
export const enrollable = (admin: string): string => `p.merged_into IS NULL AND (${admin}::boolean OR NOT p.protected)`;
