import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/queryable.js';
import { Clock } from './clock.js';

export interface AuditActor {
  staffId: string;
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
}
