import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditedBy, AuditService } from '../common/audit.service.js';
import { Clock } from '../common/clock.js';
import { FieldCipher, sha256 } from '../common/crypto/field-cipher.js';
import { DomainError } from '../common/problem/domain-error.js';
import type { Queryable } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import type { CreatedSourceDto, CreatedSourceKeyDto, CreateSourceDto, SourceDto } from './source.dto.js';

/** What a request from an upstream system is known by once its key checks out. */
export interface AuthenticatedSource {
  id: string;
  name: string;
  facilityCodes: string[] | null;
  signingRequired: boolean;
  signingSecret: string;
}

const MAX_ACTIVE_KEYS = 2;
/**
 * A busy feed authenticates on every request; a key that checked out is trusted this long without
 * asking PostgreSQL again. Revoking a key clears this process's cache at once; other API processes
 * stop accepting it within this time.
 */
const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_ENTRIES = 1_000;

@Injectable()
export class SourcesService {
  private readonly authenticated = new Map<string, { source: AuthenticatedSource; until: number }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: FieldCipher,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async create(dto: CreateSourceDto, by: AuditedBy): Promise<CreatedSourceDto> {
    const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const apiKey = newApiKey();
    const sourceId = randomUUID();
    return retryingTransaction(this.db, async (tx) => {
      const rows: { id: string }[] = await tx.query(
        // Created on the service's clock: a never-heard-from source goes stale one interval after this.
        `INSERT INTO source (name, facility_codes, signing_required, signing_secret, expected_interval_seconds, created_at, id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING id`,
        [
          dto.name,
          dto.facilityCodes ?? null,
          dto.signingRequired ?? false,
          this.cipher.encrypt(signingSecret, 'source.signing_secret', sourceId),
          dto.expectedIntervalSeconds ?? null,
          this.clock.now(),
          sourceId,
        ],
      );
      if (!rows.length) throw new DomainError('conflict', 'SOURCE_NAME_TAKEN', 'A source with that name exists.');
      await tx.query(`INSERT INTO source_key (source_id, key_hash, key_prefix) VALUES ($1, $2, $3)`, [
        rows[0].id,
        sha256(apiKey),
        prefixOf(apiKey),
      ]);
      await this.audited(tx, by, 'source.create', rows[0].id, { name: dto.name, signingRequired: dto.signingRequired ?? false });
      return { sourceId: rows[0].id, apiKey, signingSecret };
    });
  }

  async list(): Promise<SourceDto[]> {
    const rows: {
      sourceId: string;
      name: string;
      facilityCodes: string[] | null;
      signingRequired: boolean;
      expectedIntervalSeconds: number | null;
      lastContactAt: Date | null;
      createdAt: Date;
      keys: { keyId: string; prefix: string; createdAt: string }[];
    }[] = await this.db.query(
      `SELECT s.id AS "sourceId", s.name, s.facility_codes AS "facilityCodes", s.signing_required AS "signingRequired",
              s.expected_interval_seconds AS "expectedIntervalSeconds", s.last_contact_at AS "lastContactAt", s.created_at AS "createdAt",
              coalesce(json_agg(json_build_object('keyId', k.id, 'prefix', k.key_prefix, 'createdAt', k.created_at) ORDER BY k.created_at)
                       FILTER (WHERE k.id IS NOT NULL), '[]') AS keys
       FROM source s LEFT JOIN source_key k ON k.source_id = s.id AND k.revoked_at IS NULL
       GROUP BY s.id ORDER BY s.name`,
    );
    return rows.map((row) => ({
      ...row,
      lastContactAt: row.lastContactAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      keys: row.keys.map((key) => ({ ...key, createdAt: new Date(key.createdAt).toISOString() })),
    }));
  }

  /** A second key for rotation: at most two are active; the source row lock keeps that true under concurrency. */
  async addKey(sourceId: string, by: AuditedBy): Promise<CreatedSourceKeyDto> {
    return retryingTransaction(this.db, async (tx) => {
      await this.lockSource(tx, sourceId);
      const [{ active }]: { active: number }[] = await tx.query(
        `SELECT count(*)::int AS active FROM source_key WHERE source_id = $1 AND revoked_at IS NULL`,
        [sourceId],
      );
      if (active >= MAX_ACTIVE_KEYS) {
        throw new DomainError('conflict', 'SOURCE_KEY_LIMIT', `A source has at most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`);
      }
      const key = await this.insertKey(tx, sourceId);
      await this.audited(tx, by, 'source.key.create', sourceId, { keyId: key.keyId });
      return key;
    });
  }

  /**
   * A new key in place of every active one, in one transaction: for a key that leaked, or a feed
   * that is switched over at once. The old keys stop working when it commits.
   */
  async rotateKey(sourceId: string, by: AuditedBy): Promise<CreatedSourceKeyDto & { revokedKeyIds: string[] }> {
    const rotated = await retryingTransaction(this.db, async (tx) => {
      await this.lockSource(tx, sourceId);
      const revoked: { id: string }[] = await tx.query(
        `UPDATE source_key SET revoked_at = now() WHERE source_id = $1 AND revoked_at IS NULL RETURNING id`,
        [sourceId],
      );
      const key = await this.insertKey(tx, sourceId);
      const revokedKeyIds = revoked.map((row) => row.id);
      await this.audited(tx, by, 'source.key.rotate', sourceId, { keyId: key.keyId, revokedKeyIds });
      return { ...key, revokedKeyIds };
    });
    this.authenticated.clear();
    return rotated;
  }

  async revokeKey(sourceId: string, keyId: string, by: AuditedBy): Promise<void> {
    await retryingTransaction(this.db, async (tx) => {
      await this.lockSource(tx, sourceId);
      const keys: { id: string }[] = await tx.query(`SELECT id FROM source_key WHERE source_id = $1 AND revoked_at IS NULL`, [sourceId]);
      if (!keys.some((key) => key.id === keyId)) throw new DomainError('not_found', 'SOURCE_KEY_NOT_FOUND', 'No such active key.');
      if (keys.length === 1) {
        throw new DomainError('conflict', 'SOURCE_KEY_LAST', 'This is the only active key; add a new one before revoking it.');
      }
      await tx.query(`UPDATE source_key SET revoked_at = now() WHERE id = $1`, [keyId]);
      await this.audited(tx, by, 'source.key.revoke', sourceId, { keyId });
    });
    this.authenticated.clear();
  }

  async authenticate(apiKey: string): Promise<AuthenticatedSource | undefined> {
    const keyHash = sha256(apiKey);
    const cacheKey = keyHash.toString('base64');
    const cached = this.authenticated.get(cacheKey);
    if (cached && cached.until > performance.now()) return cached.source;
    const source = await this.lookUp(keyHash);
    if (this.authenticated.size >= AUTH_CACHE_ENTRIES) this.authenticated.clear();
    if (source) this.authenticated.set(cacheKey, { source, until: performance.now() + AUTH_CACHE_MS });
    else this.authenticated.delete(cacheKey);
    return source;
  }

  private async lookUp(keyHash: Buffer): Promise<AuthenticatedSource | undefined> {
    const rows: AuthenticatedSource[] = await this.db.query(
      `SELECT s.id, s.name, s.facility_codes AS "facilityCodes", s.signing_required AS "signingRequired", s.signing_secret AS "signingSecret"
         FROM source_key k JOIN source s ON s.id = k.source_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [keyHash],
    );
    const row = rows[0];
    if (!row) return undefined;
    // The row holds the secret sealed.
    return { ...row, signingSecret: this.cipher.decrypt(row.signingSecret, 'source.signing_secret', row.id) };
  }

  /** Keys and signing secrets never go into an entry: the key's id names it. */
  private async audited(db: Queryable, by: AuditedBy, action: string, sourceId: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record(
      [{ actor: by.staff, action, targetType: 'source', targetId: sourceId, clientAddress: by.clientAddress, details }],
      db,
    );
  }

  /** The key itself is returned this once; only its hash and prefix are stored. */
  private async insertKey(db: Queryable, sourceId: string): Promise<CreatedSourceKeyDto> {
    const apiKey = newApiKey();
    const [key]: { id: string }[] = await db.query(
      `INSERT INTO source_key (source_id, key_hash, key_prefix) VALUES ($1, $2, $3) RETURNING id`,
      [sourceId, sha256(apiKey), prefixOf(apiKey)],
    );
    return { keyId: key.id, apiKey };
  }

  private async lockSource(db: Queryable, sourceId: string): Promise<void> {
    const found: unknown[] = await db.query(`SELECT 1 FROM source WHERE id = $1 FOR UPDATE`, [sourceId]);
    if (!found.length) throw new DomainError('not_found', 'SOURCE_NOT_FOUND', 'No such source.');
  }
}

function newApiKey(): string {
  return `vgl_${randomBytes(32).toString('base64url')}`;
}

function prefixOf(apiKey: string): string {
  return apiKey.slice(0, 10);
}
