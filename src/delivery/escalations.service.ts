import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../auth/staff-auth.guard.js';
import { AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { Queryable } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { ROLLUP_ORDER } from './ledger.service.js';

export const ESCALATION_STATUSES = ['open', 'resolved'] as const;
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number];
/** Long enough for what was done and who was called; a case file belongs elsewhere. */
export const RESOLUTION_NOTE_MAX = 2000;
const LIST_LIMIT = 200;
/** C0 controls other than tab, line feed and carriage return: a note may have lines, nothing else. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOTE_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Who handles an escalation, from where (for the audit log). */
export interface HandledBy {
  staff: StaffPrincipal;
  clientAddress?: string;
}

export interface EscalationView {
  /** The escalated notification's id: one escalation per notification. */
  escalationId: string;
  registrationId: string;
  /** Enrolled by a specialist, or signed up on their own (then it is the admins'). */
  enrolled: boolean;
  personName: string;
  /** The event the alert told of; for a correction, the retracted event it corrects. */
  eventType: string;
  occurredAt: string;
  correction: boolean;
  /** How far the alert has got since (the ledger's roll-up): it may have been confirmed after it escalated. */
  alertStatus: string;
  escalatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

interface EscalationRow {
  escalationId: string;
  registrationId: string;
  enrolled: boolean;
  personName: string;
  eventType: string;
  occurredAt: Date;
  correction: boolean;
  alertStatus: string | null;
  escalatedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

/** Whether a note can be kept: some text, not too long, no control characters but line breaks and tabs. */
export function resolutionNoteProblem(note: string): 'missing' | 'too_long' | 'controls' | undefined {
  if (!note.trim()) return 'missing';
  if (note.length > RESOLUTION_NOTE_MAX) return 'too_long';
  if (NOTE_CONTROLS.test(note)) return 'controls';
  return undefined;
}

/**
 * Urgent alerts nobody confirmed in time, as staff handle them: the enrolling specialist's (an
 * admin's: every one, the self-registered victims' included, which have nobody else), acknowledged
 * and then resolved with a sealed note. One that is not the staff member's reads as missing.
 */
@Injectable()
export class EscalationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: FieldCipher,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  /** Open ones oldest first (they have waited longest); resolved ones newest first. A read of victims' data, so audited. */
  async list(status: EscalationStatus, by: HandledBy): Promise<EscalationView[]> {
    const { staff } = by;
    const rows = await this.select(
      this.db,
      status === 'open' ? `e.resolved_at IS NULL` : `e.resolved_at IS NOT NULL`,
      staff,
      [],
      status === 'open' ? `e.escalated_at, e.id` : `e.resolved_at DESC, e.id`,
    );
    await this.audit.record([
      {
        actor: staff,
        action: 'escalation.list',
        targetType: 'escalation',
        clientAddress: by.clientAddress,
        details: { status, count: rows.length },
      },
    ]);
    return rows.map((row) => this.toView(row));
  }

  /** The number in the console's navigation, on every page: the open set is small and indexed. */
  async openCount(staff: StaffPrincipal): Promise<number> {
    const [row] = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM escalation e JOIN notification n ON n.id = e.id JOIN registration r ON r.id = n.registration_id
       WHERE e.resolved_at IS NULL AND ($1 OR r.enrolled_by = $2)`,
      [staff.role === 'admin', staff.staffId],
    );
    return row.n;
  }

  /** A registration's escalations, for its timeline (the caller has checked the staff member may see it). */
  async forRegistration(registrationId: string, staff: StaffPrincipal): Promise<EscalationView[]> {
    const rows = await this.select(this.db, `n.registration_id = $4`, staff, [registrationId], `e.escalated_at, e.id`);
    return rows.map((row) => this.toView(row));
  }

  async get(id: string, staff: StaffPrincipal): Promise<EscalationView> {
    const [row] = await this.select(this.db, `e.id = $4`, staff, [id], `e.id`);
    if (!row) throw notFound();
    return this.toView(row);
  }

  /** Someone is on it. A second acknowledgement changes nothing: the first one is who took it. */
  async acknowledge(id: string, by: HandledBy): Promise<EscalationView> {
    const { staff } = by;
    await retryingTransaction(this.db, async (tx) => {
      const current = await this.lock(tx, id, staff);
      const first = !current.acknowledgedAt;
      if (first) {
        await tx.query(`UPDATE escalation SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1`, [
          id,
          this.clock.now(),
          staff.staffId,
        ]);
      }
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'escalation.acknowledge',
            targetType: 'notification',
            targetId: id,
            clientAddress: by.clientAddress,
            details: { alreadyAcknowledged: !first },
          },
        ],
        tx,
      );
    });
    return this.get(id, staff);
  }

  /** Final: the note is sealed to the row, and a resolved escalation is never reopened or rewritten. */
  async resolve(id: string, note: string, by: HandledBy): Promise<EscalationView> {
    const { staff } = by;
    const text = note.trim();
    if (resolutionNoteProblem(text)) {
      throw new DomainError('invalid', 'RESOLUTION_NOTE_INVALID', 'A resolution note is required.', {
        errors: [{ path: 'note', message: `must be 1 to ${RESOLUTION_NOTE_MAX} characters of text` }],
      });
    }
    await retryingTransaction(this.db, async (tx) => {
      const current = await this.lock(tx, id, staff);
      if (current.resolvedAt) throw new DomainError('conflict', 'ESCALATION_RESOLVED', 'This escalation was already resolved.');
      const now = this.clock.now();
      await tx.query(
        `UPDATE escalation SET resolved_at = $2, resolved_by = $3, resolution_note = $4,
                acknowledged_at = coalesce(acknowledged_at, $2), acknowledged_by = coalesce(acknowledged_by, $3)
         WHERE id = $1`,
        [id, now, staff.staffId, this.cipher.encrypt(text, 'escalation.resolution_note', id)],
      );
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'escalation.resolve',
            targetType: 'notification',
            targetId: id,
            clientAddress: by.clientAddress,
            details: { minutesOpen: Math.round((now.getTime() - current.escalatedAt.getTime()) / 60_000) },
          },
        ],
        tx,
      );
    });
    return this.get(id, staff);
  }

  private async lock(
    tx: Queryable,
    id: string,
    staff: StaffPrincipal,
  ): Promise<{ escalatedAt: Date; acknowledgedAt: Date | null; resolvedAt: Date | null }> {
    const rows: { escalatedAt: Date; acknowledgedAt: Date | null; resolvedAt: Date | null }[] = await tx.query(
      `SELECT e.escalated_at AS "escalatedAt", e.acknowledged_at AS "acknowledgedAt", e.resolved_at AS "resolvedAt"
       FROM escalation e JOIN notification n ON n.id = e.id JOIN registration r ON r.id = n.registration_id
       WHERE e.id = $1 AND ($2 OR r.enrolled_by = $3) FOR UPDATE OF e`,
      [id, staff.role === 'admin', staff.staffId],
    );
    if (!rows[0]) throw notFound();
    return rows[0];
  }

  /** `where` may use $4 onwards, from `params`. */
  private select(db: Queryable, where: string, staff: StaffPrincipal, params: unknown[], order: string): Promise<EscalationRow[]> {
    return db.query(
      `SELECT e.id AS "escalationId", n.registration_id AS "registrationId", r.enrolled_by IS NOT NULL AS enrolled,
              p.first_name || ' ' || p.last_name AS "personName",
              coalesce(x.type, ev.type) AS "eventType", coalesce(x.occurred_at, ev.occurred_at) AS "occurredAt",
              n.kind = 'correction' AS correction,
              (SELECT ($3::text[])[max(array_position($3::text[], d.status))] FROM delivery d WHERE d.notification_id = n.id) AS "alertStatus",
              e.escalated_at AS "escalatedAt", e.acknowledged_at AS "acknowledgedAt", ack.email AS "acknowledgedBy",
              e.resolved_at AS "resolvedAt", res.email AS "resolvedBy", e.resolution_note AS "resolutionNote"
       FROM escalation e JOIN notification n ON n.id = e.id JOIN registration r ON r.id = n.registration_id
       JOIN custody_event ev ON ev.id = n.event_id JOIN person p ON p.id = ev.person_id
       LEFT JOIN custody_event x ON n.kind = 'correction' AND x.id = ev.corrects_event_id
       LEFT JOIN staff ack ON ack.id = e.acknowledged_by LEFT JOIN staff res ON res.id = e.resolved_by
       WHERE ($1 OR r.enrolled_by = $2) AND ${where}
       ORDER BY ${order} LIMIT ${LIST_LIMIT}`,
      [staff.role === 'admin', staff.staffId, ROLLUP_ORDER, ...params],
    );
  }

  private toView(row: EscalationRow): EscalationView {
    return {
      escalationId: row.escalationId,
      registrationId: row.registrationId,
      enrolled: row.enrolled,
      personName: row.personName,
      eventType: row.eventType,
      occurredAt: row.occurredAt.toISOString(),
      correction: row.correction,
      alertStatus: row.alertStatus ?? 'suppressed',
      escalatedAt: row.escalatedAt.toISOString(),
      acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
      acknowledgedBy: row.acknowledgedBy,
      resolvedAt: row.resolvedAt?.toISOString() ?? null,
      resolvedBy: row.resolvedBy,
      resolutionNote: row.resolutionNote ? this.cipher.decrypt(row.resolutionNote, 'escalation.resolution_note', row.escalationId) : null,
    };
  }
}

function notFound(): DomainError {
  return new DomainError('not_found', 'ESCALATION_NOT_FOUND', 'No such escalation.');
}
