import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { announceRevocation } from '../registrations/consent-revocation.js';
import { DomainError } from '../common/problem/domain-error.js';
import { foldName, normalizeIdentifierValue } from './identifiers.js';
import type { PeopleQueryDto, PersonSummaryDto, ProtectionDto } from './people.dto.js';
import { returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';

const MAX_RESULTS = 20;

/**
 * Who the public may find: live records with custody information to show that are neither
 * protected nor of a minor. The filter is part of every search query, identifier searches
 * included. A person whose status is unknown (known only by scheduling events, or every status
 * event corrected away) is hidden as a protected one is, so that hiding tells nothing.
 */
const SEARCHABLE = `p.merged_into IS NULL AND NOT p.protected AND p.custody_status <> 'UNKNOWN'
  AND (p.date_of_birth IS NULL OR p.date_of_birth <= ($1::timestamptz AT TIME ZONE 'UTC')::date - interval '18 years')`;

interface PersonFound {
  personId: string;
  firstName: string;
  lastName: string;
  custodyStatus: string;
  statusAsOf: Date | null;
  facilityCode: string | null;
  facilityName: string | null;
}

@Injectable()
export class PeopleService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async search(query: PeopleQueryDto): Promise<PersonSummaryDto[]> {
    const byIdentifier = query.identifierSystem !== undefined || query.identifier !== undefined;
    const byName = query.lastName !== undefined || query.firstName !== undefined;
    if (
      byIdentifier === byName ||
      (byIdentifier && (!query.identifierSystem || !query.identifier)) ||
      (byName && (!query.lastName || !query.firstName))
    ) {
      throw new DomainError('invalid', 'SEARCH_CRITERIA', 'Search by identifierSystem and identifier, or by lastName and firstName.', {
        errors: [
          { path: byIdentifier ? 'identifier' : 'lastName', message: 'give identifierSystem + identifier, or lastName + firstName' },
        ],
      });
    }
    const select = `SELECT DISTINCT p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName", p.custody_status AS "custodyStatus",
             p.status_as_of AS "statusAsOf", f.code AS "facilityCode", f.name AS "facilityName"
      FROM person p LEFT JOIN facility f ON f.id = p.facility_id`;
    const order = `ORDER BY p.status_as_of DESC NULLS LAST, p.id LIMIT ${MAX_RESULTS}`;
    const rows: PersonFound[] = byIdentifier
      ? await this.db.query(
          `${select} JOIN person_identifier i ON i.person_id = p.id
           WHERE i.system = $2 AND i.value = $3 AND ${SEARCHABLE} ${order}`,
          [this.clock.now(), query.identifierSystem, normalizeIdentifierValue(query.identifier!)],
        )
      : await this.db.query(
          `${select} WHERE p.last_name_key = $2 AND p.first_name_key = $3
             AND ($4::date IS NULL OR p.date_of_birth = $4::date)
             AND ($5::text IS NULL OR upper(p.country_of_birth) = upper($5))
             AND ${SEARCHABLE} ${order}`,
          [
            this.clock.now(),
            foldName(query.lastName!),
            foldName(query.firstName!),
            query.dateOfBirth ?? null,
            query.countryOfBirth ?? null,
          ],
        );
    return rows.map((row) => ({
      personId: row.personId,
      displayName: `${row.firstName} ${row.lastName}`,
      custodyStatus: row.custodyStatus,
      facility: row.facilityCode ? { code: row.facilityCode, name: row.facilityName } : null,
      statusAsOf: row.statusAsOf?.toISOString() ?? null,
    }));
  }

  /**
   * The person a sign-up page names, if the public may register for them: what search would show
   * (a merged-away id leads to the record it was merged into). Undefined for anyone search hides,
   * so a page refuses a minor, a protected and an unknown person alike.
   */
  async findRegistrable(personId: string): Promise<{ personId: string; displayName: string } | undefined> {
    const rows: { personId: string; firstName: string; lastName: string }[] = await this.db.query(
      `SELECT p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName" FROM person p
       WHERE p.id = (SELECT coalesce(merged_into, id) FROM person WHERE id = $2::uuid) AND ${SEARCHABLE}`,
      [this.clock.now(), personId],
    );
    return rows[0] && { personId: rows[0].personId, displayName: `${rows[0].firstName} ${rows[0].lastName}` };
  }

  /**
   * A protected person disappears from search and is never notified about. The person row keeps the
   * last change; the audit log keeps every one (who, when, protected or not, why).
   */
  async setProtection(personId: string, isProtected: boolean, reason: string, by: AuditedBy): Promise<ProtectionDto> {
    const now = this.clock.now();
    await retryingTransaction(this.db, async (tx) => {
      const rows = await returning<{ id: string }>(
        tx,
        `UPDATE person SET protected = $2, protection_reason = $3, protection_changed_at = $4, protection_changed_by = $5, updated_at = now()
         WHERE id = $1 AND merged_into IS NULL RETURNING id`,
        [personId, isProtected, reason, now, by.staff.staffId],
      );
      if (!rows.length) throw new DomainError('not_found', 'PERSON_NOT_FOUND', 'No such person.');
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'person.protection',
            targetType: 'person',
            targetId: personId,
            clientAddress: by.clientAddress,
            details: { protected: isProtected, reason },
          },
        ],
        tx,
      );
      // Heard by the workers at commit.
      if (isProtected) await announceRevocation(tx, { personId });
    });
    return { personId, protected: isProtected, reason, changedAt: now.toISOString() };
  }
}
