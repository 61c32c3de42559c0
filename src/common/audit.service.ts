import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/queryable.js';
import { Clock } from './clock.js';

export interface AuditActor {
  /** Null for an operator at the command line, who acts with the server's access and no staff account. */
  staffId: string | null;
  role: string;
}

/** Who is acting, from where: what a service needs to audit a staff change. */
export interface AuditedBy {
  staff: AuditActor;
  clientAddress?: string;
}

export interface AuditEntry {
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId?: string | null;
  clientAddress?: string;
  details?: Record<string, unknown>;
}

export interface AuditRecordDto {
  auditId: string;
  at: string;
  actorStaffId: string | null;
  actorRole: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  clientAddress: string | null;
  details: Record<string, unknown> | null;
}

/** What the audit-log page may narrow to; dates are whole days in `timeZone`, both ends included. */
export interface AuditFilter {
  actorEmail?: string;
  action?: string;
  fromDate?: string;
  toDate?: string;
  timeZone: string;
}

/** Where a keyset page starts: just past an entry, older or newer than it. */
export type AuditCursor = { older: string } | { newer: string } | undefined;

export interface AuditViewEntry extends AuditRecordDto {
  actorEmail: string | null;
}

export interface AuditPage {
  entries: AuditViewEntry[];
  hasOlder: boolean;
  hasNewer: boolean;
}

/** Every staff read or change of a victim's data, in an append-only table (UPDATE and DELETE are refused). */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async record(entries: AuditEntry[], db: Queryable = this.db): Promise<void> {
    if (!entries.length) return;
    await db.query(
      `INSERT INTO audit_log (at, actor_staff_id, actor_role, action, target_type, target_id, client_address, details)
       SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::jsonb[])`,
      [
        entries.map(() => this.clock.now()),
        entries.map((e) => e.actor.staffId),
        entries.map((e) => e.actor.role),
        entries.map((e) => e.action),
        entries.map((e) => e.targetType),
        entries.map((e) => e.targetId ?? null),
        entries.map((e) => e.clientAddress ?? null),
        entries.map((e) => (e.details ? JSON.stringify(e.details) : null)),
      ],
    );
  }

  async list(options: { since?: Date; limit: number }): Promise<AuditRecordDto[]> {
    const rows: {
      auditId: string;
      at: Date;
      actorStaffId: string | null;
      actorRole: string | null;
      action: string;
      targetType: string;
      targetId: string | null;
      clientAddress: string | null;
      details: Record<string, unknown> | null;
    }[] = await this.db.query(
      `SELECT id AS "auditId", at, actor_staff_id AS "actorStaffId", actor_role AS "actorRole", action, target_type AS "targetType",
              target_id AS "targetId", client_address AS "clientAddress", details
       FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) ORDER BY at DESC, id LIMIT $2`,
      [options.since ?? null, options.limit],
    );
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }

  /**
   * One page of the log, newest first, by keyset on (at, id) from the cursor's entry: entries
   * written while someone pages never shift a page's boundary, and deep pages cost what the first
   * does. An unknown email or cursor matches nothing.
   */
  async page(filter: AuditFilter, cursor: AuditCursor, limit: number): Promise<AuditPage> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where: string[] = [];
    if (filter.actorEmail !== undefined) where.push(`a.actor_staff_id = (SELECT id FROM staff WHERE email = ${param(filter.actorEmail)})`);
    if (filter.action !== undefined) where.push(`a.action = ${param(filter.action)}`);
    const zone = filter.fromDate !== undefined || filter.toDate !== undefined ? param(filter.timeZone) : '';
    if (filter.fromDate !== undefined) where.push(`a.at >= (${param(filter.fromDate)}::date)::timestamp AT TIME ZONE ${zone}`);
    if (filter.toDate !== undefined) where.push(`a.at < (${param(filter.toDate)}::date + 1)::timestamp AT TIME ZONE ${zone}`);
    const newer = cursor !== undefined && 'newer' in cursor;
    if (cursor) {
      const id = param(newer ? cursor.newer : cursor.older);
      where.push(`(a.at, a.id) ${newer ? '>' : '<'} (SELECT c.at, c.id FROM audit_log c WHERE c.id = ${id})`);
    }
    const direction = newer ? 'ASC' : 'DESC';
    const rows: (Omit<AuditViewEntry, 'at'> & { at: Date })[] = await this.db.query(
      `SELECT a.id AS "auditId", a.at, a.actor_staff_id AS "actorStaffId", s.email AS "actorEmail", a.actor_role AS "actorRole",
              a.action, a.target_type AS "targetType", a.target_id AS "targetId", a.client_address AS "clientAddress", a.details
       FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_staff_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY a.at ${direction}, a.id ${direction}
       LIMIT ${param(limit + 1)}`,
      params,
    );
    const more = rows.length > limit;
    const entries = rows.slice(0, limit).map((row) => ({ ...row, at: row.at.toISOString() }));
    if (newer) entries.reverse();
    return { entries, hasOlder: newer ? true : more, hasNewer: newer ? more : cursor !== undefined };
  }

  /** The actions the log holds, for the page's filter: a skip scan of the action index, not a read of the whole log. */
  async actions(): Promise<string[]> {
    const rows: { action: string }[] = await this.db.query(
      `WITH RECURSIVE known AS (
         (SELECT action FROM audit_log ORDER BY action LIMIT 1)
         UNION ALL
         SELECT (SELECT a.action FROM audit_log a WHERE a.action > known.action ORDER BY a.action LIMIT 1) FROM known WHERE known.action IS NOT NULL
       )
       SELECT action FROM known WHERE action IS NOT NULL`,
    );
    return rows.map((row) => row.action);
  }
}
