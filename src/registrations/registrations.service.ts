import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher, sha256 } from '../common/crypto/field-cipher.js';
import { hashSecret } from '../common/crypto/password-hasher.js';
import { DomainError, type FieldError } from '../common/problem/domain-error.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { EVENT_TYPES } from '../people/custody-status.js';
import { type Channel, indexInput, maskAddress, normalizeAddress } from './contact-address.js';
import type {
  CreatedRegistrationDto,
  CreateEnrollmentDto,
  CreateRegistrationDto,
  QuietHoursDto,
  RegistrationViewDto,
  UpdateRegistrationDto,
} from './registration.dto.js';
import { VerificationService } from './verification.service.js';
import { suppressWaitingDeliveries } from './waiting-deliveries.js';

/** Who is asking: the victim holding the manage token, or a staff member (audited). */
export type RegistrationAccess = { kind: 'token' } | { kind: 'staff'; staff: StaffPrincipal; clientAddress?: string };

interface RegistrationRow {
  id: string;
  person_id: string;
  language: 'en' | 'es';
  event_types: string[] | null;
  quiet_hours: QuietHoursDto | null;
  status: 'active' | 'stopped';
  enrolled_by: string | null;
  registrant_name: string | null;
  created_at: Date;
}

/** Whom the public may register for: a live record, not protected, not a minor today. */
const REGISTRABLE = `p.merged_into IS NULL AND NOT p.protected
  AND (p.date_of_birth IS NULL OR p.date_of_birth <= ($2::timestamptz AT TIME ZONE 'UTC')::date - interval '18 years')`;

@Injectable()
export class RegistrationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
    private readonly verification: VerificationService,
    private readonly audit: AuditService,
  ) {}

  /**
   * A victim's sign-up. Nothing here looks at whether an address is already registered, so a new
   * and a known address take the same path, the same queries and the same answer.
   */
  async create(
    dto: CreateRegistrationDto | CreateEnrollmentDto,
    enrolledBy?: { staff: StaffPrincipal; clientAddress?: string },
  ): Promise<CreatedRegistrationDto> {
    const contacts = this.normalizeContacts(dto);
    const manageToken = `vmt_${randomBytes(32).toString('base64url')}`;
    const pinHash = dto.pin ? await hashSecret(dto.pin) : null;
    const registrantName = 'registrantName' in dto && dto.registrantName ? this.cipher.encrypt(dto.registrantName) : null;

    return this.db.transaction(async (tx) => {
      const personId = await this.registrablePerson(tx, dto.personId);
      const [registration]: { id: string }[] = await tx.query(
        `INSERT INTO registration (person_id, language, event_types, quiet_hours, pin_hash, manage_token_hash, registrant_name, enrolled_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [
          personId,
          dto.language,
          dto.eventTypes ?? null,
          dto.quietHours ? JSON.stringify(dto.quietHours) : null,
          pinHash,
          sha256(manageToken),
          registrantName,
          enrolledBy?.staff.staffId ?? null,
        ],
      );
      const now = this.clock.now();
      const unordered: { id: string; channel: Channel; position: number }[] = await tx.query(
        `INSERT INTO contact (registration_id, channel, address, address_index, key_id, verified_at, verified_by, position)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[], $7::text[]) WITH ORDINALITY
         RETURNING id, channel, position`,
        [
          registration.id,
          contacts.map((c) => c.channel),
          contacts.map((c) => this.cipher.encrypt(c.address)),
          contacts.map((c) => this.cipher.blindIndex(indexInput(c.channel, c.address))),
          contacts.map(() => this.cipher.currentKeyId),
          contacts.map(() => (enrolledBy ? now : null)),
          contacts.map(() => (enrolledBy ? 'specialist' : null)),
        ],
      );
      const inserted = unordered.sort((a, b) => a.position - b.position);
      if (enrolledBy) {
        await this.audit.record(
          [
            {
              actor: enrolledBy.staff,
              action: 'enrollment.create',
              targetType: 'registration',
              targetId: registration.id,
              clientAddress: enrolledBy.clientAddress,
              details: { contacts: inserted.length },
            },
          ],
          tx,
        );
      } else {
        for (const contact of inserted) await this.verification.start(tx, contact.id, contact.channel);
      }
      return {
        registrationId: registration.id,
        manageToken,
        status: enrolledBy ? 'active' : 'pending_verification',
        contacts: inserted.map((c) => ({ contactId: c.id, channel: c.channel, verified: Boolean(enrolledBy) })),
      };
    });
  }

  async view(id: string, access: RegistrationAccess): Promise<RegistrationViewDto> {
    const row = await this.load(this.db, id, access);
    await this.auditStaff(access, 'registration.view', id);
    return this.toView(this.db, row, access);
  }

  async update(id: string, dto: UpdateRegistrationDto, access: RegistrationAccess): Promise<RegistrationViewDto> {
    return this.db.transaction(async (tx) => {
      const current = await this.load(tx, id, access, true);
      if (current.status === 'stopped') throw new DomainError('conflict', 'REGISTRATION_STOPPED', 'This registration was stopped.');
      const [row] = await returning<RegistrationRow>(
        tx,
        `UPDATE registration SET language = $2, event_types = $3, quiet_hours = $4, updated_at = $5 WHERE id = $1
         RETURNING id, person_id, language, event_types, quiet_hours, status, enrolled_by, registrant_name, created_at`,
        [
          id,
          dto.language ?? current.language,
          dto.eventTypes === undefined ? current.event_types : dto.eventTypes,
          dto.quietHours === undefined
            ? current.quiet_hours
              ? JSON.stringify(current.quiet_hours)
              : null
            : dto.quietHours && JSON.stringify(dto.quietHours),
          this.clock.now(),
        ],
      );
      await this.auditStaff(access, 'registration.update', id, tx, { fields: Object.keys(dto) });
      return this.toView(tx, row, access);
    });
  }

  /** Stops every alert at once: the registration ends and whatever was waiting to go is suppressed. */
  async stop(id: string, access: RegistrationAccess): Promise<void> {
    await retryingTransaction(this.db, async (tx) => {
      await this.load(tx, id, access, true);
      const now = this.clock.now();
      await tx.query(`UPDATE registration SET status = 'stopped', stopped_at = coalesce(stopped_at, $2), updated_at = $2 WHERE id = $1`, [
        id,
        now,
      ]);
      await suppressWaitingDeliveries(tx, { registrationId: id }, now);
      await this.auditStaff(access, 'registration.stop', id, tx);
    });
  }

  /** A specialist's own enrollees; an admin's list holds everyone's. */
  async listEnrollments(staff: StaffPrincipal, clientAddress?: string): Promise<RegistrationViewDto[]> {
    const rows: RegistrationRow[] = await this.db.query(
      `SELECT id, person_id, language, event_types, quiet_hours, status, enrolled_by, registrant_name, created_at
       FROM registration WHERE enrolled_by IS NOT NULL AND ($1::uuid IS NULL OR enrolled_by = $1)
       ORDER BY created_at DESC LIMIT 500`,
      [staff.role === 'admin' ? null : staff.staffId],
    );
    const access: RegistrationAccess = { kind: 'staff', staff, clientAddress };
    await this.audit.record([
      { actor: staff, action: 'enrollment.list', targetType: 'registration', clientAddress, details: { count: rows.length } },
    ]);
    return Promise.all(rows.map((row) => this.toView(this.db, row, access)));
  }

  /** 404 for a registration that does not exist and for one this caller may not see, alike. */
  async load(db: Queryable, id: string, access: RegistrationAccess, forUpdate = false): Promise<RegistrationRow> {
    const rows: RegistrationRow[] = await db.query(
      `SELECT id, person_id, language, event_types, quiet_hours, status, enrolled_by, registrant_name, created_at
       FROM registration WHERE id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
      [id],
    );
    const row = rows[0];
    const visible = row && (access.kind === 'token' || access.staff.role === 'admin' || row.enrolled_by === access.staff.staffId);
    if (!visible) throw new DomainError('not_found', 'REGISTRATION_NOT_FOUND', 'No such registration.');
    return row;
  }

  private async toView(db: Queryable, row: RegistrationRow, access: RegistrationAccess): Promise<RegistrationViewDto> {
    const contacts: {
      id: string;
      channel: Channel;
      address: string;
      verified_at: Date | null;
      unsubscribed_at: Date | null;
      address_index: Buffer;
    }[] = await db.query(
      `SELECT id, channel, address, verified_at, unsubscribed_at, address_index FROM contact WHERE registration_id = $1 ORDER BY position`,
      [row.id],
    );
    const optedOut: { address_index: Buffer }[] = await db.query(
      `SELECT address_index FROM phone_opt_out WHERE address_index = ANY($1::bytea[])`,
      [contacts.filter((c) => c.channel === 'sms').map((c) => c.address_index)],
    );
    const stopped = new Set(optedOut.map((o) => o.address_index.toString('hex')));
    const person: { first_name: string; last_name: string; custody_status: string; code: string | null; name: string | null }[] =
      await db.query(
        `SELECT p.first_name, p.last_name, p.custody_status, f.code, f.name FROM person p LEFT JOIN facility f ON f.id = p.facility_id
       WHERE p.id = $1 AND NOT p.protected`,
        [row.person_id],
      );
    const anyVerified = contacts.some((c) => c.verified_at);
    return {
      registrationId: row.id,
      personId: row.person_id,
      person: person[0]
        ? {
            displayName: `${person[0].first_name} ${person[0].last_name}`,
            custodyStatus: person[0].custody_status,
            facility: person[0].code ? { code: person[0].code, name: person[0].name } : null,
          }
        : null,
      language: row.language,
      eventTypes: (row.event_types ?? [...EVENT_TYPES]) as RegistrationViewDto['eventTypes'],
      quietHours: row.quiet_hours,
      status: row.status === 'stopped' ? 'stopped' : anyVerified ? 'active' : 'pending_verification',
      enrolledBy: row.enrolled_by,
      ...(access.kind === 'staff' ? { registrantName: row.registrant_name ? this.cipher.decrypt(row.registrant_name) : null } : {}),
      createdAt: row.created_at.toISOString(),
      contacts: contacts.map((c) => ({
        contactId: c.id,
        channel: c.channel,
        address: maskAddress(c.channel, this.cipher.decrypt(c.address)),
        verified: Boolean(c.verified_at),
        optedOut: Boolean(c.unsubscribed_at) || (c.channel === 'sms' && stopped.has(c.address_index.toString('hex'))),
      })),
    };
  }

  private normalizeContacts(dto: CreateRegistrationDto): { channel: Channel; address: string }[] {
    const errors: FieldError[] = [];
    const seen = new Set<string>();
    const contacts = dto.contacts.map(({ channel, address }, index) => {
      const normalized = normalizeAddress(channel, address);
      if (!normalized) {
        errors.push({
          path: `contacts[${index}].address`,
          message: channel === 'email' ? 'must be an email address' : 'must be a valid phone number',
        });
      } else if (seen.has(`${channel}:${normalized}`)) {
        errors.push({ path: `contacts[${index}]`, message: 'is listed twice' });
      }
      seen.add(`${channel}:${normalized}`);
      return { channel, address: normalized ?? '' };
    });
    if (contacts.some((c) => c.channel === 'voice') && !dto.pin) errors.push({ path: 'pin', message: 'is required with a voice contact' });
    if (errors.length) throw new DomainError('invalid', 'REGISTRATION_INVALID', 'The registration has invalid fields.', { errors });
    return contacts;
  }

  private async registrablePerson(db: Queryable, personId: string): Promise<string> {
    const rows: { id: string }[] = await db.query(
      `SELECT p.id FROM person p WHERE p.id = (SELECT coalesce(merged_into, id) FROM person WHERE id = $1) AND ${REGISTRABLE}`,
      [personId, this.clock.now()],
    );
    if (!rows.length) {
      throw new DomainError('invalid', 'PERSON_NOT_FOUND', 'No person with that id can be registered for.', {
        errors: [{ path: 'personId', message: 'names no person that can be registered for' }],
      });
    }
    return rows[0].id;
  }

  private async auditStaff(
    access: RegistrationAccess,
    action: string,
    targetId: string,
    db?: Queryable,
    details?: Record<string, unknown>,
  ): Promise<void> {
    if (access.kind !== 'staff') return;
    await this.audit.record(
      [{ actor: access.staff, action, targetType: 'registration', targetId, clientAddress: access.clientAddress, details }],
      db,
    );
  }
}
