import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/problem/domain-error.js';
import { normalizeServicePhone } from '../common/service-phone.js';
import { type Queryable, returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { type SentMessage, VictimMessagesService } from '../delivery/victim-messages.service.js';
import type { ServiceKind, SharedService } from '../i18n/alerts.js';
import { type RegistrationAccess, RegistrationsService } from '../registrations/registrations.service.js';
import {
  type CreateServiceDto,
  normalizeLanguageCode,
  normalizeWebsite,
  type ServiceDescriptionDto,
  type ServiceDto,
  type UpdateServiceDto,
} from './service.dto.js';

export interface ServiceFilter {
  kind?: ServiceKind;
  /** Words in the name, area or description, any case. */
  q?: string;
  includeArchived?: boolean;
  /** Only what the victims' help page lists. */
  publicOnly?: boolean;
}

interface ServiceRow {
  serviceId: string;
  name: string;
  kind: ServiceKind;
  phone: string | null;
  website: string | null;
  languages: string[];
  area: string | null;
  hours: string | null;
  descriptionEn: string | null;
  descriptionEs: string | null;
  public: boolean;
  archivedAt: Date | null;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  updatedBy: string;
}

const COLUMNS = `id AS "serviceId", name, kind, phone, website, languages, area, hours, description_en AS "descriptionEn",
  description_es AS "descriptionEs", public, archived_at AS "archivedAt", created_at AS "createdAt", created_by AS "createdBy",
  updated_at AS "updatedAt", updated_by AS "updatedBy"`;

/** The fields an admin may change, in the order the audit lists them. */
const FIELDS = ['name', 'kind', 'phone', 'website', 'languages', 'area', 'hours', 'description', 'public'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NOT_FOUND = () => new DomainError('not_found', 'SERVICE_NOT_FOUND', 'No service in the directory has that id.');

/**
 * The services directory: what an office offers victims (shelters, legal aid, counselling, medical
 * care, immigration relief, hotlines). Admins keep it, every change audited; specialists share an
 * entry with one of their victims through the ledger; public entries are listed on the help page.
 */
@Injectable()
export class DirectoryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly registrations: RegistrationsService,
    private readonly messages: VictimMessagesService,
  ) {}

  async list(filter: ServiceFilter = {}): Promise<ServiceDto[]> {
    const rows: ServiceRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM support_service
       WHERE ($1::text IS NULL OR kind = $1)
         AND ($2::text IS NULL OR strpos(lower(concat_ws(' ', name, area, description_en, description_es)), lower($2)) > 0)
         AND ($3 OR archived_at IS NULL) AND (NOT $4 OR public)
       ORDER BY archived_at IS NOT NULL, kind, lower(name), id`,
      [filter.kind ?? null, filter.q || null, filter.includeArchived ?? false, filter.publicOnly ?? false],
    );
    return rows.map(toDto);
  }

  async get(id: string, db: Queryable = this.db, forUpdate = false): Promise<ServiceDto> {
    const rows: ServiceRow[] = await db.query(`SELECT ${COLUMNS} FROM support_service WHERE id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`, [
      id,
    ]);
    if (!rows[0]) throw NOT_FOUND();
    return toDto(rows[0]);
  }

  async create(dto: CreateServiceDto, by: AuditedBy): Promise<ServiceDto> {
    const values = stored(dto);
    return retryingTransaction(this.db, async (tx) => {
      const now = this.clock.now();
      const rows: ServiceRow[] = await tx.query(
        `INSERT INTO support_service (name, kind, phone, website, languages, area, hours, description_en, description_es, public,
                                      created_at, created_by, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $12) RETURNING ${COLUMNS}`,
        [
          values.name,
          values.kind,
          values.phone ?? null,
          values.website ?? null,
          values.languages ?? [],
          values.area ?? null,
          values.hours ?? null,
          values.descriptionEn ?? null,
          values.descriptionEs ?? null,
          dto.public ?? false,
          now,
          by.staff.staffId,
        ],
      );
      const created = toDto(rows[0]);
      await this.record(tx, by, 'service.create', created.serviceId, { kind: created.kind, public: created.public });
      return created;
    });
  }

  /** Changes what is given; `archived` archives or restores. Audited with the fields that changed, never their old text. */
  async update(id: string, dto: UpdateServiceDto, by: AuditedBy): Promise<ServiceDto> {
    const given = FIELDS.filter((field) => dto[field] !== undefined);
    if (!given.length && dto.archived === undefined) {
      throw new DomainError('invalid', 'SERVICE_UNCHANGED', 'Give at least one field to change.', {
        errors: [{ path: '', message: 'must change at least one field' }],
      });
    }
    const values = stored(dto);
    return retryingTransaction(this.db, async (tx) => {
      // Locked, so two admins' edits are audited with the fields each one really changed.
      const before = await this.get(id, tx, true);
      const now = this.clock.now();
      const rows = await returning<ServiceRow>(
        tx,
        `UPDATE support_service SET
           name = coalesce($2::text, name), kind = coalesce($3::text, kind),
           phone = CASE WHEN $4::boolean THEN $5::text ELSE phone END, website = CASE WHEN $6::boolean THEN $7::text ELSE website END,
           languages = coalesce($8::text[], languages), area = CASE WHEN $9::boolean THEN $10::text ELSE area END,
           hours = CASE WHEN $11::boolean THEN $12::text ELSE hours END,
           description_en = CASE WHEN $13::boolean THEN $14::text ELSE description_en END,
           description_es = CASE WHEN $13::boolean THEN $15::text ELSE description_es END,
           public = coalesce($16::boolean, public),
           archived_at = CASE WHEN $17::boolean IS NULL THEN archived_at WHEN $17::boolean THEN coalesce(archived_at, $18::timestamptz) ELSE NULL END,
           archived_by = CASE WHEN $17::boolean IS NULL THEN archived_by WHEN $17::boolean THEN coalesce(archived_by, $19::uuid) ELSE NULL END,
           updated_at = $18, updated_by = $19
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          values.name ?? null,
          values.kind ?? null,
          dto.phone !== undefined,
          values.phone ?? null,
          dto.website !== undefined,
          values.website ?? null,
          values.languages ?? null,
          dto.area !== undefined,
          values.area ?? null,
          dto.hours !== undefined,
          values.hours ?? null,
          dto.description !== undefined,
          values.descriptionEn ?? null,
          values.descriptionEs ?? null,
          dto.public ?? null,
          dto.archived ?? null,
          now,
          by.staff.staffId,
        ],
      );
      const after = toDto(rows[0]);
      const changed = given.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
      if (changed.length) await this.record(tx, by, 'service.update', id, { fields: changed });
      if (dto.archived !== undefined && dto.archived !== before.archived) {
        await this.record(tx, by, dto.archived ? 'service.archive' : 'service.restore', id);
      }
      return after;
    });
  }

  /**
   * Sends an active directory entry, as it is now, to every contact of a registration the caller
   * may see (a specialist: their own enrollees; another's answers 404 like a missing one). The
   * ledger keeps the copy that was sent, whatever happens to the entry later.
   */
  async share(registrationId: string, serviceId: string, access: Extract<RegistrationAccess, { kind: 'staff' }>): Promise<SentMessage> {
    return retryingTransaction(this.db, async (tx) => {
      const registration = await this.registrations.load(tx, registrationId, access);
      if (registration.status !== 'active') {
        throw new DomainError('conflict', 'REGISTRATION_STOPPED', 'This registration was stopped: nothing can be sent to it.');
      }
      const rows: ServiceRow[] = UUID.test(serviceId)
        ? await tx.query(`SELECT ${COLUMNS} FROM support_service WHERE id = $1 AND archived_at IS NULL`, [serviceId])
        : [];
      if (!rows[0]) {
        throw new DomainError('invalid', 'SERVICE_NOT_AVAILABLE', 'That service is not in the directory, or was archived.', {
          errors: [{ path: 'serviceId', message: 'names no active service in the directory' }],
        });
      }
      const by: AuditedBy = { staff: access.staff, clientAddress: access.clientAddress };
      const sent = await this.messages.send(registrationId, { kind: 'service', service: sharedCopy(toDto(rows[0])) }, by, tx);
      if (!sent) throw new DomainError('conflict', 'REGISTRATION_STOPPED', 'This registration was stopped: nothing can be sent to it.');
      await this.record(tx, by, 'service.share', serviceId, { registrationId, notificationId: sent.notificationId, queued: sent.queued });
      return sent;
    });
  }

  private async record(db: Queryable, by: AuditedBy, action: string, serviceId: string, details?: Record<string, unknown>): Promise<void> {
    await this.audit.record(
      [{ actor: by.staff, action, targetType: 'service', targetId: serviceId, clientAddress: by.clientAddress, details }],
      db,
    );
  }
}

/** The entry as it goes into the ledger: what the victim reads, nothing about who keeps it. */
function sharedCopy(service: ServiceDto): SharedService {
  return {
    serviceId: service.serviceId,
    name: service.name,
    kind: service.kind,
    phone: service.phone,
    website: service.website,
    hours: service.hours,
    area: service.area,
    languages: service.languages,
    description: service.description,
  };
}

/** What the DTO's checks accepted, in the form the table keeps (phone E.164, canonical URL and language tags). */
function stored(dto: Partial<CreateServiceDto>) {
  const description: ServiceDescriptionDto | null | undefined = dto.description;
  return {
    name: dto.name,
    kind: dto.kind,
    phone: dto.phone ? normalizeServicePhone(dto.phone) : null,
    website: dto.website ? normalizeWebsite(dto.website) : null,
    languages: dto.languages && [...new Set(dto.languages.map((code) => normalizeLanguageCode(code)!))],
    area: dto.area || null,
    hours: dto.hours || null,
    descriptionEn: description?.en || null,
    descriptionEs: description?.es || null,
  };
}

function toDto(row: ServiceRow): ServiceDto {
  return {
    serviceId: row.serviceId,
    name: row.name,
    kind: row.kind,
    phone: row.phone,
    website: row.website,
    languages: row.languages,
    area: row.area,
    hours: row.hours,
    description: { ...(row.descriptionEn ? { en: row.descriptionEn } : {}), ...(row.descriptionEs ? { es: row.descriptionEs } : {}) },
    public: row.public,
    archived: row.archivedAt !== null,
    archivedAt: row.archivedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
  };
}
