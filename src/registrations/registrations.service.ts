import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher, sha256 } from '../common/crypto/field-cipher.js';
import { hashSecret } from '../common/crypto/password-hasher.js';
import { DomainError, type FieldError } from '../common/problem/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { EVENT_TYPES } from '../people/custody-status.js';
import { enrollable } from '../people/enrollable.js';
import { acceptedPhonesMessage, type Channel, indexInput, maskAddress, normalizeAddress, phoneRefusal } from './contact-address.js';
import type {
  CreatedRegistrationDto,
  CreateEnrollmentDto,
  CreateRegistrationDto,
  Language,
  QuietHoursDto,
  RegistrationViewDto,
  UpdateRegistrationDto,
} from './registration.dto.js';
import { DAY_MS, VerificationService } from './verification.service.js';
import { suppressWaitingDeliveries } from './waiting-deliveries.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import { VictimMessagesService } from '../delivery/victim-messages.service.js';

/** Who is asking: the victim holding the manage token, or a staff member (audited). */
export type RegistrationAccess = { kind: 'token' } | { kind: 'staff'; staff: StaffPrincipal; clientAddress?: string };

interface Registration {
  id: string;
  personId: string;
  language: 'en' | 'es';
  eventTypes: string[] | null;
  quietHours: QuietHoursDto | null;
  status: 'active' | 'stopped';
  enrolledBy: string | null;
  /** Sealed; opened only for staff. */
  registrantName: string | null;
  createdAt: Date;
}

const REGISTRATION_COLUMNS = `id, person_id AS "personId", language, event_types AS "eventTypes", quiet_hours AS "quietHours", status,
  enrolled_by AS "enrolledBy", registrant_name AS "registrantName", created_at AS "createdAt"`;

/**
 * Whom the public may register for: a live record with custody information to show, not protected,
 * not a minor today. A protected person is refused exactly like one whose status is unknown, so a
 * refusal does not tell a registrant that the person became protected.
 */
const REGISTRABLE = `p.merged_into IS NULL AND NOT p.protected AND p.custody_status <> 'UNKNOWN'
  AND (p.date_of_birth IS NULL OR p.date_of_birth <= ($2::timestamptz AT TIME ZONE 'UTC')::date - interval '18 years')`;

@Injectable()
export class RegistrationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
    private readonly verification: VerificationService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly messages: VictimMessagesService,
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
    // Ids are made here: each ciphertext is sealed to its row.
    const registrationId = randomUUID();
    const contactIds = contacts.map(() => randomUUID());
    const registrantName =
      'registrantName' in dto && dto.registrantName
        ? this.cipher.encrypt(dto.registrantName, 'registration.registrant_name', registrationId)
        : null;

    return retryingTransaction(this.db, async (tx) => {
      const personId = enrolledBy
        ? await this.enrollablePerson(tx, dto.personId, enrolledBy.staff)
        : await this.registrablePerson(tx, dto.personId);
      // A self-registration no contact verifies within a day expires; an enrolment's contacts are verified already.
      const [registration]: { id: string }[] = await tx.query(
        `INSERT INTO registration (person_id, language, event_types, quiet_hours, pin_hash, manage_token_hash, registrant_name, enrolled_by, expires_at, id, manage_token)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
        [
          personId,
          dto.language,
          dto.eventTypes ?? null,
          dto.quietHours ? JSON.stringify(dto.quietHours) : null,
          pinHash,
          sha256(manageToken),
          registrantName,
          enrolledBy?.staff.staffId ?? null,
          enrolledBy ? null : new Date(this.clock.now().getTime() + DAY_MS),
          registrationId,
          // Sealed, not only hashed: every alert carries the manage link.
          this.cipher.encrypt(manageToken, 'registration.manage_token', registrationId),
        ],
      );
      const now = this.clock.now();
      const unordered: { id: string; channel: Channel; position: number }[] = await tx.query(
        `INSERT INTO contact (registration_id, channel, address, address_index, key_id, verified_at, verified_by, id, position)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[], $7::text[], $8::uuid[]) WITH ORDINALITY
         RETURNING id, channel, position`,
        [
          registration.id,
          contacts.map((c) => c.channel),
          contacts.map((c, i) => this.cipher.encrypt(c.address, 'contact.address', contactIds[i])),
          contacts.map((c) => this.cipher.blindIndex(indexInput(c.channel, c.address))),
          contacts.map(() => this.cipher.currentKeyId),
          contacts.map(() => (enrolledBy ? now : null)),
          contacts.map(() => (enrolledBy ? 'specialist' : null)),
          contactIds,
        ],
      );
      const inserted = unordered.sort((a, b) => a.position - b.position);
      let confirmation: CreatedRegistrationDto['confirmation'];
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
        // Committed with the enrolment: no registration without the confirmation the specialist asked for.
        const sent =
          'sendConfirmation' in dto && dto.sendConfirmation
            ? await this.messages.send(registration.id, { kind: 'enrolled' }, enrolledBy, tx)
            : undefined;
        if (sent) confirmation = { notificationId: sent.notificationId, deliveries: sent.queued };
      } else {
        await this.verification.startAll(
          tx,
          inserted.map((c) => c.id),
        );
      }
      return {
        registrationId: registration.id,
        manageToken,
        status: enrolledBy ? 'active' : 'pending_verification',
        contacts: inserted.map((c) => ({
          contactId: c.id,
          channel: c.channel,
          verified: Boolean(enrolledBy),
          ...this.hint(c.channel, Boolean(enrolledBy), dto.language),
        })),
        ...(confirmation && { confirmation }),
      };
    });
  }

  /**
   * The registration a manage link opens: only one that has not ended (stopped or expired). A token
   * that never existed and one whose registration ended answer alike, so a link tells nothing.
   */
  async openByManageToken(token: string): Promise<string | undefined> {
    if (!token.startsWith('vmt_')) return undefined;
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM registration WHERE manage_token_hash = $1 AND status NOT IN ('stopped', 'expired') AND (expires_at IS NULL OR expires_at > $2)`,
      [sha256(token), this.clock.now()],
    );
    return rows[0]?.id;
  }

  async view(id: string, access: RegistrationAccess): Promise<RegistrationViewDto> {
    const row = await this.load(this.db, id, access);
    await this.auditStaff(access, 'registration.view', id);
    return this.toView(this.db, row, access);
  }

  async update(id: string, dto: UpdateRegistrationDto, access: RegistrationAccess): Promise<RegistrationViewDto> {
    return retryingTransaction(this.db, async (tx) => {
      const current = await this.load(tx, id, access, true);
      if (current.status === 'stopped') throw new DomainError('conflict', 'REGISTRATION_STOPPED', 'This registration was stopped.');
      const [row] = await returning<Registration>(
        tx,
        `UPDATE registration SET language = $2, event_types = $3, quiet_hours = $4, updated_at = $5 WHERE id = $1
         RETURNING ${REGISTRATION_COLUMNS}`,
        [
          id,
          dto.language ?? current.language,
          dto.eventTypes === undefined ? current.eventTypes : dto.eventTypes,
          dto.quietHours === undefined
            ? current.quietHours
              ? JSON.stringify(current.quietHours)
              : null
            : dto.quietHours && JSON.stringify(dto.quietHours),
          this.clock.now(),
        ],
      );
      await this.auditStaff(access, 'registration.update', id, tx, { fields: Object.keys(dto) });
      return this.toView(tx, row, access);
    });
  }

  /**
   * Stops every alert at once: the registration ends and whatever was waiting to go is suppressed.
   * Staff stopping on the victim's request give a reason: it tells the victim's circumstances, so it
   * is sealed on the registration and the audit row only says one was given.
   */
  async stop(id: string, access: RegistrationAccess, reason?: string): Promise<void> {
    await retryingTransaction(this.db, async (tx) => {
      await this.load(tx, id, access, true);
      const now = this.clock.now();
      await tx.query(
        `UPDATE registration SET status = 'stopped', stopped_at = coalesce(stopped_at, $2), updated_at = $2,
           stop_reason = coalesce(stop_reason, $3) WHERE id = $1`,
        [id, now, reason === undefined ? null : this.cipher.encrypt(reason, 'registration.stop_reason', id)],
      );
      await suppressWaitingDeliveries(this.deliveries, tx, { registrationId: id }, now);
      await this.auditStaff(access, 'registration.stop', id, tx, reason === undefined ? undefined : { reasonGiven: true });
    });
  }

  /**
   * When a registration stopped, and the staff member who stopped it with their reason (none when
   * the victim stopped it themselves). Undefined while it runs. Stops recorded before the reason was
   * sealed still have it in their audit row.
   */
  async stopRecord(id: string): Promise<{ at: Date; byEmail: string | null; reason: string | null } | undefined> {
    const rows: { at: Date | null; byEmail: string | null; sealed: string | null; legacy: string | null }[] = await this.db.query(
      `SELECT r.stopped_at AS at, s.email AS "byEmail", r.stop_reason AS sealed, a.details->>'reason' AS legacy
       FROM registration r
       LEFT JOIN LATERAL (SELECT * FROM audit_log a WHERE a.target_type = 'registration' AND a.target_id = r.id AND a.action = 'registration.stop' ORDER BY a.at LIMIT 1) a ON true
       LEFT JOIN staff s ON s.id = a.actor_staff_id
       WHERE r.id = $1 AND r.status = 'stopped'`,
      [id],
    );
    const row = rows[0];
    if (!row?.at) return undefined;
    const reason = row.sealed ? this.cipher.decrypt(row.sealed, 'registration.stop_reason', id) : row.legacy;
    return { at: row.at, byEmail: row.byEmail, reason };
  }

  /** A specialist's own enrollees; an admin's list holds everyone's. */
  async listEnrollments(staff: StaffPrincipal, clientAddress?: string): Promise<RegistrationViewDto[]> {
    const rows: Registration[] = await this.db.query(
      `SELECT ${REGISTRATION_COLUMNS}
       FROM registration WHERE enrolled_by IS NOT NULL AND erased_at IS NULL AND ($1::uuid IS NULL OR enrolled_by = $1)
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
  async load(db: Queryable, id: string, access: RegistrationAccess, forUpdate = false): Promise<Registration> {
    const rows: Registration[] = await db.query(
      `SELECT ${REGISTRATION_COLUMNS}
       FROM registration WHERE id = $1 AND status <> 'expired' AND erased_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ${forUpdate ? 'FOR UPDATE' : ''}`,
      [id, this.clock.now()],
    );
    const row = rows[0];
    const visible = row && (access.kind === 'token' || access.staff.role === 'admin' || row.enrolledBy === access.staff.staffId);
    if (!visible) throw new DomainError('not_found', 'REGISTRATION_NOT_FOUND', 'No such registration.');
    return row;
  }

  private async toView(db: Queryable, row: Registration, access: RegistrationAccess): Promise<RegistrationViewDto> {
    const contacts: {
      id: string;
      channel: Channel;
      address: string;
      verifiedAt: Date | null;
      unsubscribedAt: Date | null;
      addressIndex: Buffer;
    }[] = await db.query(
      `SELECT id, channel, address, verified_at AS "verifiedAt", unsubscribed_at AS "unsubscribedAt", address_index AS "addressIndex"
       FROM contact WHERE registration_id = $1 ORDER BY position`,
      [row.id],
    );
    // The STOP list is global: whether an unverified number is on it is nobody's business here.
    const optedOut: { addressIndex: Buffer }[] = await db.query(
      `SELECT address_index AS "addressIndex" FROM phone_opt_out WHERE address_index = ANY($1::bytea[])`,
      [contacts.filter((c) => c.channel === 'sms' && c.verifiedAt).map((c) => c.addressIndex)],
    );
    const stopped = new Set(optedOut.map((o) => o.addressIndex.toString('hex')));
    const addresses = contacts.map((c) => this.cipher.decrypt(c.address, 'contact.address', c.id));
    const paused = await this.verification.pausedUntil(
      db,
      contacts.map((c, i) => (c.verifiedAt ? [] : this.verification.destination(c.channel, addresses[i]))),
    );
    // A protected person reads as one with no custody information to show (status UNKNOWN, no
    // facility), which any person can become: nothing here tells the registrant about the protection.
    const person: { firstName: string; lastName: string; custodyStatus: string; code: string | null; name: string | null }[] =
      await db.query(
        `SELECT p.first_name AS "firstName", p.last_name AS "lastName",
                CASE WHEN p.protected THEN 'UNKNOWN' ELSE p.custody_status END AS "custodyStatus",
                CASE WHEN p.protected THEN NULL ELSE f.code END AS code, CASE WHEN p.protected THEN NULL ELSE f.name END AS name
         FROM person p LEFT JOIN facility f ON f.id = p.facility_id WHERE p.id = $1`,
        [row.personId],
      );
    const anyVerified = contacts.some((c) => c.verifiedAt);
    return {
      registrationId: row.id,
      personId: row.personId,
      person: person[0]
        ? {
            displayName: `${person[0].firstName} ${person[0].lastName}`,
            custodyStatus: person[0].custodyStatus,
            facility: person[0].code ? { code: person[0].code, name: person[0].name } : null,
          }
        : null,
      language: row.language,
      eventTypes: (row.eventTypes ?? [...EVENT_TYPES]) as RegistrationViewDto['eventTypes'],
      quietHours: row.quietHours,
      status: row.status === 'stopped' ? 'stopped' : anyVerified ? 'active' : 'pending_verification',
      enrolledBy: row.enrolledBy,
      ...(access.kind === 'staff'
        ? { registrantName: row.registrantName ? this.cipher.decrypt(row.registrantName, 'registration.registrant_name', row.id) : null }
        : {}),
      createdAt: row.createdAt.toISOString(),
      contacts: contacts.map((c, i) => ({
        contactId: c.id,
        channel: c.channel,
        address: maskAddress(c.channel, addresses[i]),
        verified: Boolean(c.verifiedAt),
        optedOut:
          Boolean(c.verifiedAt) && (Boolean(c.unsubscribedAt) || (c.channel === 'sms' && stopped.has(c.addressIndex.toString('hex')))),
        codesPausedUntil: paused[i]?.toISOString() ?? null,
        ...this.hint(c.channel, Boolean(c.verifiedAt), row.language),
      })),
    };
  }

  /** Every unverified SMS contact gets the same words, opted out or not: an answer must not tell which. */
  private hint(channel: Channel, verified: boolean, language: Language): { hint?: string } {
    if (channel !== 'sms' || verified) return {};
    const to = this.config.twilio?.fromNumber;
    return {
      hint:
        language === 'es'
          ? `¿No llega el código? Si este número envió alguna vez STOP a Vigil, envíe START${to ? ` al ${to}` : ''} y pida un código nuevo.`
          : `No code? If this number ever texted STOP to Vigil, text START${to ? ` to ${to}` : ''}, then ask for a new code.`,
    };
  }

  private normalizeContacts(dto: CreateRegistrationDto): { channel: Channel; address: string }[] {
    const errors: FieldError[] = [];
    const seen = new Set<string>();
    const contacts = dto.contacts.map(({ channel, address }, index) => {
      const normalized = normalizeAddress(channel, address);
      if (!normalized || (channel !== 'email' && phoneRefusal(normalized, this.config.phoneCountries))) {
        errors.push({
          path: `contacts[${index}].address`,
          message: channel === 'email' ? 'must be an email address' : acceptedPhonesMessage(this.config.phoneCountries),
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

  /** Staff may enrol for more people than the public may register for (see `enrollable`); refused alike otherwise. */
  private async enrollablePerson(db: Queryable, personId: string, staff: StaffPrincipal): Promise<string> {
    const rows: { id: string }[] = await db.query(
      `SELECT p.id FROM person p WHERE p.id = (SELECT coalesce(merged_into, id) FROM person WHERE id = $1) AND ${enrollable('$2')} FOR KEY SHARE OF p`,
      [personId, staff.role === 'admin'],
    );
    if (!rows.length) throw personNotFound();
    return rows[0].id;
  }

  private async registrablePerson(db: Queryable, personId: string): Promise<string> {
    const rows: { id: string }[] = await db.query(
      // Held FOR KEY SHARE until commit: a merge waits for this registration and moves it with the rest,
      // and a merge that committed first is seen (the row is re-read under the lock), never a merged-away person.
      `SELECT p.id FROM person p WHERE p.id = (SELECT coalesce(merged_into, id) FROM person WHERE id = $1) AND ${REGISTRABLE} FOR KEY SHARE OF p`,
      [personId, this.clock.now()],
    );
    if (!rows.length) throw personNotFound();
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

function personNotFound(): DomainError {
  return new DomainError('invalid', 'PERSON_NOT_FOUND', 'No person with that id can be registered for.', {
    errors: [{ path: 'personId', message: 'names no person that can be registered for' }],
  });
}
