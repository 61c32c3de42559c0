import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { announceRevocation } from '../registrations/consent-revocation.js';
import { DomainError } from '../common/problem/domain-error.js';
import { enrollable } from './enrollable.js';
import { foldName, identifierSearchValues, nameSearchKeys, normalizeIdentifierValue } from './identifiers.js';
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
export interface StaffPersonView {
  personId: string;
  displayName: string;
  custodyStatus: string;
  protected: boolean;
  protectionReason: string | null;
  protectionChangedAt: Date | null;
  minor: boolean;
}

const SEARCHABLE = `p.merged_into IS NULL AND NOT p.protected AND p.custody_status <> 'UNKNOWN'
  AND (p.date_of_birth IS NULL OR p.date_of_birth <= ($1::timestamptz AT TIME ZONE 'UTC')::date - interval '18 years')`;

const MINOR = `(p.date_of_birth IS NOT NULL AND p.date_of_birth > ($1::timestamptz AT TIME ZONE 'UTC')::date - interval '18 years')`;

/** A person found by the enrolment search, with what staff must know before enrolling: protected, or a minor. */
export interface EnrolmentCandidate extends PersonSummaryDto {
  protected: boolean;
  minor: boolean;
}

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
    const byIdentifier = searchCriteria(query) === 'identifier';
    const select = `SELECT DISTINCT p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName", p.custody_status AS "custodyStatus",
             p.status_as_of AS "statusAsOf", f.code AS "facilityCode", f.name AS "facilityName"
      FROM person p LEFT JOIN facility f ON f.id = p.facility_id`;
    const order = `ORDER BY p.status_as_of DESC NULLS LAST, p.id LIMIT ${MAX_RESULTS}`;
    const rows: PersonFound[] = byIdentifier
      ? await this.db.query(
          `${select} JOIN person_identifier i ON i.person_id = p.id
           WHERE i.system = $2 AND i.value = ANY($3::text[]) AND ${SEARCHABLE} ${order}`,
          [this.clock.now(), query.identifierSystem, identifierSearchValues(query.identifier!)],
        )
      : await this.db.query(
          `${select} WHERE p.last_name_key = ANY($2::text[]) AND p.first_name_key = ANY($3::text[])
             AND ($4::date IS NULL OR p.date_of_birth = $4::date)
             AND ($5::text IS NULL OR upper(p.country_of_birth) = upper($5))
             AND ${SEARCHABLE} ${order}`,
          [
            this.clock.now(),
            nameSearchKeys(query.lastName!),
            nameSearchKeys(query.firstName!),
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
   * Staff lookup by identifier for protection decisions: protected people and minors included (an
   * admin must find a person to protect them), merged-away records excluded. Audited, since it
   * reaches people the public search never shows.
   */
  async findForStaff(identifierSystem: string, identifier: string, by: AuditedBy): Promise<StaffPersonView[]> {
    const rows = await this.db.query<StaffPersonView[]>(
      `SELECT p.id AS "personId", p.first_name || ' ' || p.last_name AS "displayName", p.custody_status AS "custodyStatus",
              p.protected, p.protection_reason AS "protectionReason", p.protection_changed_at AS "protectionChangedAt",
              p.date_of_birth IS NOT NULL AND p.date_of_birth > ($3::timestamptz - interval '18 years')::date AS minor
       FROM person p JOIN person_identifier i ON i.person_id = p.id
       WHERE i.system = $1 AND i.value = $2 AND p.merged_into IS NULL
       ORDER BY p.id LIMIT 20`,
      [identifierSystem, normalizeIdentifierValue(identifier), this.clock.now()],
    );
    await this.audit.record([
      { actor: by.staff, action: 'person.lookup', targetType: 'person', clientAddress: by.clientAddress, details: { found: rows.length } },
    ]);
    return rows;
  }

  /**
   * The enrolment search: the public search's criteria and matching, without its filter for staff
   * who may see more. A specialist also finds minors (a victim of a young offender has the same
   * need to know); only an admin finds protected persons, since a protection is an admin's decision
   * whose reason a specialist does not see. Always audited: it can reach people the public never sees.
   */
  async searchForEnrolment(query: PeopleQueryDto, by: AuditedBy): Promise<EnrolmentCandidate[]> {
    const byIdentifier = searchCriteria(query) === 'identifier';
    const rows: (PersonFound & { protected: boolean; minor: boolean })[] = await this.db.query(
      `SELECT DISTINCT p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName", p.custody_status AS "custodyStatus",
              p.status_as_of AS "statusAsOf", f.code AS "facilityCode", f.name AS "facilityName", p.protected,
              ${MINOR} AS minor
       FROM person p LEFT JOIN facility f ON f.id = p.facility_id
       ${byIdentifier ? 'JOIN person_identifier i ON i.person_id = p.id' : ''}
       WHERE ${byIdentifier ? 'i.system = $3 AND i.value = $4' : `p.last_name_key = $3 AND p.first_name_key = $4 AND ($5::date IS NULL OR p.date_of_birth = $5::date)`}
         AND ${enrollable('$2')}
       ORDER BY p.status_as_of DESC NULLS LAST, p.id LIMIT ${MAX_RESULTS}`,
      byIdentifier
        ? [this.clock.now(), by.staff.role === 'admin', query.identifierSystem, normalizeIdentifierValue(query.identifier!)]
        : [
            this.clock.now(),
            by.staff.role === 'admin',
            foldName(query.lastName ?? ''),
            foldName(query.firstName ?? ''),
            query.dateOfBirth ?? null,
          ],
    );
    await this.audit.record([
      {
        actor: by.staff,
        action: 'person.lookup',
        targetType: 'person',
        clientAddress: by.clientAddress,
        details: { found: rows.length, purpose: 'enrolment' },
      },
    ]);
    return rows.map((row) => this.candidate(row));
  }

  /** One person this staff member may enrol a victim for (the rule of `searchForEnrolment`), or undefined. */
  async enrollable(personId: string, staff: { role: string }): Promise<EnrolmentCandidate | undefined> {
    const rows: (PersonFound & { protected: boolean; minor: boolean })[] = await this.db.query(
      `SELECT p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName", p.custody_status AS "custodyStatus",
              p.status_as_of AS "statusAsOf", f.code AS "facilityCode", f.name AS "facilityName", p.protected, ${MINOR} AS minor
       FROM person p LEFT JOIN facility f ON f.id = p.facility_id
       WHERE p.id = (SELECT coalesce(merged_into, id) FROM person WHERE id = $3::uuid) AND ${enrollable('$2')}`,
      [this.clock.now(), staff.role === 'admin', personId],
    );
    return rows[0] && this.candidate(rows[0]);
  }

  private candidate(row: PersonFound & { protected: boolean; minor: boolean }): EnrolmentCandidate {
    return {
      personId: row.personId,
      displayName: `${row.firstName} ${row.lastName}`,
      custodyStatus: row.custodyStatus,
      facility: row.facilityCode ? { code: row.facilityCode, name: row.facilityName } : null,
      statusAsOf: row.statusAsOf?.toISOString() ?? null,
      protected: row.protected,
      minor: row.minor,
    };
  }

  /** A person's protection changes, newest first, with who made them and why. */
  async protectionHistory(personId: string): Promise<{ at: Date; protected: boolean; reason: string; actorEmail: string | null }[]> {
    return this.db.query(
      `SELECT a.at, (a.details->>'protected')::boolean AS protected, a.details->>'reason' AS reason, s.email AS "actorEmail"
       FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_staff_id
       WHERE a.action = 'person.protection' AND a.target_id = $1 ORDER BY a.at DESC LIMIT 100`,
      [personId],
    );
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

/** Which search a query asks for: an identifier with its system, or a last and first name; anything else is refused. */
function searchCriteria(query: PeopleQueryDto): 'identifier' | 'name' {
  const byIdentifier = query.identifierSystem !== undefined || query.identifier !== undefined;
  const byName = query.lastName !== undefined || query.firstName !== undefined;
  if (
    byIdentifier === byName ||
    (byIdentifier && (!query.identifierSystem || !query.identifier)) ||
    (byName && (!query.lastName || !query.firstName))
  ) {
    throw new DomainError('invalid', 'SEARCH_CRITERIA', 'Search by identifierSystem and identifier, or by lastName and firstName.', {
      errors: [{ path: byIdentifier ? 'identifier' : 'lastName', message: 'give identifierSystem + identifier, or lastName + firstName' }],
    });
  }
  return byIdentifier ? 'identifier' : 'name';
}
