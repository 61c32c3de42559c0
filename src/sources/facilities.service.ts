import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { namedWhenSmall, type Queryable } from '../database/queryable.js';

export interface FacilityRef {
  id: string;
  code: string;
  suppressed: boolean;
}

export interface SuppressionDto {
  code: string;
  name: string | null;
  suppressed: boolean;
  reason: string | null;
  changedAt: string;
}

@Injectable()
export class FacilitiesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Looks up facilities by code, creating unknown ones. Reads first and inserts only what is
   * missing, so concurrent ingests for one facility do not queue behind a row lock.
   */
  async resolve(db: Queryable, facilities: { code: string; name?: string }[]): Promise<Map<string, FacilityRef>> {
    const names = new Map<string, string | undefined>();
    for (const { code, name } of facilities) names.set(code, name ?? names.get(code));
    const codes = [...names.keys()];
    const found = new Map<string, FacilityRef>();
    const select = async (wanted: string[]) => {
      const rows: (FacilityRef & { name: string | null })[] = await db.query(
        namedWhenSmall('vigil_facilities_by_code', `SELECT id, code, suppressed, name FROM facility WHERE code = ANY($1)`, wanted.length),
        [wanted],
      );
      for (const row of rows) found.set(row.code, { id: row.id, code: row.code, suppressed: row.suppressed });
      return rows;
    };
    const existing = await select(codes);
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

  /** Maintenance switch: while suppressed, events are recorded and statuses move, but nobody is notified. */
  async setSuppression(code: string, suppressed: boolean, reason: string, staffId: string): Promise<SuppressionDto> {
    const rows: (Omit<SuppressionDto, 'changedAt'> & { changedAt: Date })[] = await this.db.query(
      `INSERT INTO facility (code, suppressed, suppression_reason, suppression_changed_at, suppression_changed_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE SET suppressed = EXCLUDED.suppressed, suppression_reason = EXCLUDED.suppression_reason,
           suppression_changed_at = EXCLUDED.suppression_changed_at, suppression_changed_by = EXCLUDED.suppression_changed_by
         RETURNING code, name, suppressed, suppression_reason AS reason, suppression_changed_at AS "changedAt"`,
      [code, suppressed, reason, this.clock.now(), staffId],
    );
    return { ...rows[0], changedAt: rows[0].changedAt.toISOString() };
  }
}
