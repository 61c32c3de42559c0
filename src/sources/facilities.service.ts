import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { namedWhenSmall, type Queryable } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';

export interface FacilityRef {
  id: string;
  code: string;
  suppressed: boolean;
}

/** A facility row as the look-up by code reads it. */
export interface FacilityRow extends FacilityRef {
  name: string | null;
}

export interface SuppressionDto {
  code: string;
  name: string | null;
  suppressed: boolean;
  reason: string | null;
  changedAt: string;
}

export interface FacilityView {
  code: string;
  name: string | null;
  suppressed: boolean;
  reason: string | null;
  changedAt: Date | null;
}

export interface SuppressionChange {
  at: Date;
  code: string;
  suppressed: boolean;
  reason: string;
  actorEmail: string | null;
}

@Injectable()
export class FacilitiesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  /**
   * Looks up facilities by code, creating unknown ones. Reads first and inserts only what is
   * missing, so concurrent ingests for one facility do not queue behind a row lock. `read` is the
   * look-up by these codes when the caller has already made it in its own statement.
   */
  async resolve(db: Queryable, facilities: { code: string; name?: string }[], read?: FacilityRow[]): Promise<Map<string, FacilityRef>> {
    const names = new Map<string, string | undefined>();
    for (const { code, name } of facilities) names.set(code, name ?? names.get(code));
    const codes = [...names.keys()];
    const found = new Map<string, FacilityRef>();
    const keep = (rows: FacilityRow[]) => {
      for (const row of rows) found.set(row.code, { id: row.id, code: row.code, suppressed: row.suppressed });
      return rows;
    };
    const select = async (wanted: string[]) =>
      keep(
        await db.query<FacilityRow[]>(
          namedWhenSmall('vigil_facilities_by_code', `SELECT id, code, suppressed, name FROM facility WHERE code = ANY($1)`, wanted.length),
          [wanted],
        ),
      );
    const existing = read ? keep(read.filter((row) => names.has(row.code))) : await select(codes);
    const missing = codes.filter((code) => !found.has(code));
    if (missing.length) {
      await db.query(`INSERT INTO facility (code, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (code) DO NOTHING`, [
        missing,
        missing.map((code) => names.get(code) ?? null),
      ]);
      await select(missing);
    }
    const renamed = existing.filter((row) => names.get(row.code) && names.get(row.code) !== row.name);
    if (renamed.length) {
      await db.query(`UPDATE facility f SET name = v.name FROM unnest($1::text[], $2::text[]) v(code, name) WHERE f.code = v.code`, [
        renamed.map((row) => row.code),
        renamed.map((row) => names.get(row.code)),
      ]);
    }
    return found;
  }

  /**
   * Maintenance switch: while suppressed, events are recorded and statuses move, but nobody is
   * notified. The facility row keeps the last change; the audit log keeps every one, with its reason.
   */
  async setSuppression(code: string, suppressed: boolean, reason: string, by: AuditedBy): Promise<SuppressionDto> {
    return retryingTransaction(this.db, async (tx) => {
      const rows: (Omit<SuppressionDto, 'changedAt'> & { id: string; changedAt: Date })[] = await tx.query(
        `INSERT INTO facility (code, suppressed, suppression_reason, suppression_changed_at, suppression_changed_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (code) DO UPDATE SET suppressed = EXCLUDED.suppressed, suppression_reason = EXCLUDED.suppression_reason,
             suppression_changed_at = EXCLUDED.suppression_changed_at, suppression_changed_by = EXCLUDED.suppression_changed_by
           RETURNING id, code, name, suppressed, suppression_reason AS reason, suppression_changed_at AS "changedAt"`,
        [code, suppressed, reason, this.clock.now(), by.staff.staffId],
      );
      const { id, ...row } = rows[0];
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'facility.suppression',
            targetType: 'facility',
            targetId: id,
            clientAddress: by.clientAddress,
            details: { code, suppressed, reason },
          },
        ],
        tx,
      );
      return { ...row, changedAt: row.changedAt.toISOString() };
    });
  }

  /** Every facility, suppressed first. */
  async list(): Promise<FacilityView[]> {
    return this.db.query<FacilityView[]>(
      `SELECT code, name, suppressed, suppression_reason AS reason, suppression_changed_at AS "changedAt"
       FROM facility ORDER BY suppressed DESC, code LIMIT 2000`,
    );
  }

  /** The latest suppression changes, newest first, with who made them and why. */
  async suppressionHistory(limit = 100): Promise<SuppressionChange[]> {
    return this.db.query<SuppressionChange[]>(
      `SELECT a.at, a.details->>'code' AS code, (a.details->>'suppressed')::boolean AS suppressed, a.details->>'reason' AS reason,
              s.email AS "actorEmail"
       FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_staff_id
       WHERE a.action = 'facility.suppression' ORDER BY a.at DESC LIMIT $1`,
      [limit],
    );
  }
}
