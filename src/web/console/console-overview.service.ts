import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../../auth/staff-auth.guard.js';

/** The dashboard's counts, one statement: a specialist counts their own enrollees; an admin everyone's, and the exchange's queues. */
@Injectable()
export class ConsoleOverview {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async counts(staff: StaffPrincipal): Promise<Record<string, number | null>> {
    const admin = staff.role === 'admin';
    const [row] = await this.db.query<Record<string, number | null>[]>(
      `SELECT
         (SELECT count(*)::int FROM registration WHERE status = 'active' AND enrolled_by IS NOT NULL AND ($1 OR enrolled_by = $2)) AS "myRegistrations",
         (SELECT count(*)::int FROM escalation e JOIN notification n ON n.id = e.id JOIN registration r ON r.id = n.registration_id
           WHERE e.resolved_at IS NULL AND ($1 OR r.enrolled_by = $2)) AS "openEscalations",
         CASE WHEN $1 THEN (SELECT count(*)::int FROM source WHERE stale_since IS NOT NULL) END AS "staleFeeds",
         CASE WHEN $1 THEN (SELECT count(*)::int FROM roster_snapshot WHERE status = 'held') END AS "heldRosters",
         CASE WHEN $1 THEN (SELECT count(*)::int FROM delivery WHERE status = 'dead') END AS "deadDeliveries"`,
      [admin, staff.staffId],
    );
    return row;
  }
}
