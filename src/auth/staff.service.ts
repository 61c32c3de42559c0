import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { hashSecret } from '../common/crypto/password-hasher.js';
import { RateLimiter } from '../common/rate-limiter.service.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { StaffResponseDto } from './staff.dto.js';
import type { StaffRole } from './staff-role.js';
import { returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { temporaryPassword } from './temporary-password.js';

export interface StaffMember {
  id: string;
  email: string;
  role: StaffRole;
  disabled: boolean;
  createdAt: Date;
  /** Moves on at each password reset; a token minted under an earlier one is refused. */
  sessionGeneration: number;
  passwordHash?: string;
}

const STAFF_COLUMNS = `id, email, role, disabled, created_at AS "createdAt", session_generation AS "sessionGeneration"`;

@Injectable()
export class StaffService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
  ) {}

  /** Creates a staff member; an email already in use is a conflict, decided by the unique constraint. */
  async create(email: string, password: string, role: StaffRole, by: AuditedBy): Promise<StaffResponseDto> {
    const passwordHash = await hashSecret(password);
    return retryingTransaction(this.db, async (tx) => {
      const rows: StaffMember[] = await tx.query(
        `INSERT INTO staff (email, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO NOTHING
         RETURNING ${STAFF_COLUMNS}`,
        [email, passwordHash, role],
      );
      if (rows.length === 0) throw new DomainError('conflict', 'STAFF_EMAIL_TAKEN', 'A staff member with that email exists.');
      // The email is an address: the entry names the account by id only.
      await this.audit.record(
        [
          {
            actor: by.staff,
            action: 'staff.create',
            targetType: 'staff',
            targetId: rows[0].id,
            clientAddress: by.clientAddress,
            details: { role },
          },
        ],
        tx,
      );
      return toResponse(rows[0]);
    });
  }

  /** A new staff member with a password Vigil makes, for the admin to hand over; it is returned this once. */
  async createWithTemporaryPassword(
    email: string,
    role: StaffRole,
    by: AuditedBy,
  ): Promise<{ staff: StaffResponseDto; temporaryPassword: string }> {
    const password = temporaryPassword();
    return { staff: await this.create(email, password, role, by), temporaryPassword: password };
  }

  /**
   * A fresh password (Vigil makes it unless an operator at the command line chose one), returned this once. Sessions and tokens opened with the old one
   * end at once (the password may have leaked), and a login lockout on the account is lifted.
   */
  async resetPassword(
    id: string,
    by: AuditedBy,
    password = temporaryPassword(),
  ): Promise<{ staffId: string; email: string; temporaryPassword: string }> {
    const passwordHash = await hashSecret(password);
    const email = await retryingTransaction(this.db, async (tx) => {
      const rows = await returning<{ email: string }>(
        tx,
        `UPDATE staff SET password_hash = $2, session_generation = session_generation + 1, updated_at = now() WHERE id = $1 RETURNING email`,
        [id, passwordHash],
      );
      if (rows.length === 0) throw new DomainError('not_found', 'STAFF_NOT_FOUND', 'No such staff member.');
      await this.audit.record(
        [{ actor: by.staff, action: 'staff.password_reset', targetType: 'staff', targetId: id, clientAddress: by.clientAddress }],
        tx,
      );
      return rows[0].email;
    });
    await this.limiter.forgive(email);
    return { staffId: id, email, temporaryPassword: password };
  }

  async findByEmailWithHash(email: string): Promise<StaffMember | undefined> {
    const rows: StaffMember[] = await this.db.query(
      `SELECT ${STAFF_COLUMNS}, password_hash AS "passwordHash" FROM staff WHERE email = $1`,
      [email],
    );
    return rows[0];
  }

  async findActive(id: string): Promise<StaffMember | undefined> {
    const rows: StaffMember[] = await this.db.query(`SELECT ${STAFF_COLUMNS} FROM staff WHERE id = $1 AND NOT disabled`, [id]);
    return rows[0];
  }

  /**
   * Disabling ends the account's sessions and tokens at once (the guard looks it up on every
   * request). An admin cannot disable themselves, nor the last active admin: nobody could then
   * undo it. The active admins are locked first, so two admins disabling each other at the same
   * moment cannot both succeed.
   */
  async setDisabled(id: string, disabled: boolean, by: AuditedBy): Promise<StaffResponseDto> {
    if (disabled && id === by.staff.staffId) {
      throw new DomainError('conflict', 'STAFF_SELF_DISABLE', 'You cannot disable your own account.');
    }
    return retryingTransaction(this.db, async (tx) => {
      if (disabled) {
        const admins: { id: string }[] = await tx.query(
          `SELECT id FROM staff WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`,
        );
        if (admins.length === 1 && admins[0].id === id) {
          throw new DomainError('conflict', 'STAFF_LAST_ADMIN', 'The last active admin cannot be disabled.');
        }
      }
      const rows = await returning<StaffMember>(
        tx,
        // A disable ends every session and token for good: re-enabling lets the person sign in again, not a stolen cookie back in.
        `UPDATE staff SET disabled = $2, session_generation = session_generation + CASE WHEN $2 THEN 1 ELSE 0 END, updated_at = now()
         WHERE id = $1 RETURNING ${STAFF_COLUMNS}`,
        [id, disabled],
      );
      if (rows.length === 0) throw new DomainError('not_found', 'STAFF_NOT_FOUND', 'No such staff member.');
      const action = disabled ? 'staff.disable' : 'staff.enable';
      await this.audit.record([{ actor: by.staff, action, targetType: 'staff', targetId: id, clientAddress: by.clientAddress }], tx);
      return toResponse(rows[0]);
    });
  }

  async list(): Promise<StaffResponseDto[]> {
    const rows: StaffMember[] = await this.db.query(`SELECT ${STAFF_COLUMNS} FROM staff ORDER BY created_at`);
    return rows.map(toResponse);
  }

  /** Creates the first admin if no admin exists yet; returns whether it did. */
  async ensureAdmin(email: string, password: string): Promise<boolean> {
    const passwordHash = await hashSecret(password);
    const rows: unknown[] = await this.db.query(
      `INSERT INTO staff (email, password_hash, role)
       SELECT $1, $2, 'admin' WHERE NOT EXISTS (SELECT 1 FROM staff WHERE role = 'admin')
       ON CONFLICT (email) DO NOTHING
       RETURNING id`,
      [email, passwordHash],
    );
    return rows.length > 0;
  }
}

function toResponse(row: StaffMember): StaffResponseDto {
  return {
    staffId: row.id,
    email: row.email,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
  };
}
