import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { loggableError } from '../common/database-errors.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { type Listener, listenOn } from '../database/listen.js';
import { type Revocation, REVOCATION_CHANNEL } from '../registrations/consent-revocation.js';
import { type DeliveryContext, DeliveryContextService, mayNotSend } from './delivery-context.service.js';

/** Longer than any batch stays in hand; only batches loaded before a revocation was heard consult it. */
const KEEP_MS = 15 * 60_000;

/**
 * Consent that ended, persons that became protected, and events a CORRECTION retracted, while this
 * worker may hold batches loaded before: heard on REVOCATION_CHANNEL. The dispatcher asks before
 * every provider call, so a STOP, an unsubscribe, a DELETE, a protection or a correction stops what
 * is still to go out of a batch in hand; what it loads afterwards is checked against the database
 * anyway. When the LISTEN connection drops it comes back by itself; since revocations may have gone
 * unheard meanwhile, the batches in hand are then checked against the database as if one had been
 * heard for each of them.
 */
@Injectable()
export class RevocationsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationsService.name);
  private listener?: Listener;
  /** Workers (lease owners) in this process whose batches in hand a reconnection re-checks. */
  private readonly leaseOwners = new Set<string>();
  /** Scope key → when it was heard (performance.now()), in the order heard. */
  private readonly heardAt = new Map<string, number>();
  private lastHeardAt = -Infinity;
  /** How many revocations this process has heard; for tests and tools. */
  heard = 0;
  /** How many times batches in hand were re-checked after the LISTEN connection came back. */
  rechecked = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly contexts: DeliveryContextService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.role === 'api') return;
    this.listener = await listenOn(this.config.database.sessionUrl ?? this.config.database.url, REVOCATION_CHANNEL, {
      onMessage: (payload) => this.hear(payload),
      onLost: (error) => this.logger.warn({ err: loggableError(error) }, 'revocation LISTEN connection lost; reconnecting'),
      onReconnected: () => {
        this.logger.log('revocation LISTEN connection back; re-checking the batches in hand');
        this.recheck().catch((error: unknown) =>
          this.logger.warn({ err: loggableError(error) }, 'could not re-check the batches in hand after a reconnection'),
        );
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.close();
  }

  /** The dispatcher's lease owner: what it holds is re-checked when revocations may have been missed. */
  watchLeasesOf(leaseOwner: string): void {
    this.leaseOwners.add(leaseOwner);
  }

  /** Whether this delivery, in a batch loaded at `loadedAt` (performance.now()), must not go out now. */
  withdraws(c: DeliveryContext, loadedAt: number): boolean {
    // Nearly every batch was loaded after the last revocation: one comparison, no keys built.
    if (this.lastHeardAt < loadedAt || c.purpose === 'staff') return false;
    const since = (key: string | null) => key !== null && (this.heardAt.get(key) ?? -Infinity) >= loadedAt;
    return (
      since(`delivery:${c.id}`) ||
      since(c.registrationId && `registration:${c.registrationId}`) ||
      since(c.contactId && `contact:${c.contactId}`) ||
      (c.channel === 'sms' && since(c.addressIndex && `sms:${c.addressIndex.toString('hex')}`)) ||
      (c.purpose === 'alert' && since(c.personId && `person:${c.personId}`)) ||
      (c.kind === 'alert' && since(c.eventId && `event:${c.eventId}`))
    );
  }

  /**
   * Revocations may have been missed while the connection was down: the deliveries this process
   * holds are read again (as a batch is when loaded) and each that may no longer go is marked as
   * if its revocation had been heard now. Runs after LISTEN is back, so nothing falls in between.
   */
  private async recheck(): Promise<void> {
    for (const owner of this.leaseOwners) {
      // Each batch has a lease of its own, `<worker>/<n>`.
      const rows: { id: string; leaseOwner: string }[] = await this.db.query(
        `SELECT id, lease_owner AS "leaseOwner" FROM delivery
         WHERE starts_with(lease_owner, $1) AND (status = 'sending' OR (repeat_until IS NOT NULL AND status IN ('sent', 'delivered')))`,
        [`${owner}/`],
      );
      const byLease = new Map<string, string[]>();
      for (const row of rows) byLease.set(row.leaseOwner, [...(byLease.get(row.leaseOwner) ?? []), row.id]);
      for (const [lease, ids] of byLease) {
        const revoked = (await this.contexts.loadMany(ids, lease)).filter(mayNotSend);
        this.remember(revoked.map((c) => `delivery:${c.id}`));
      }
    }
    this.rechecked++;
  }

  private hear(payload: string): void {
    let revocation: Revocation;
    try {
      revocation = JSON.parse(payload) as Revocation;
    } catch {
      return;
    }
    this.remember(
      'registrationId' in revocation
        ? [`registration:${revocation.registrationId}`]
        : 'contactId' in revocation
          ? [`contact:${revocation.contactId}`]
          : 'smsTo' in revocation
            ? revocation.smsTo.map((index) => `sms:${index}`)
            : 'eventId' in revocation
              ? [`event:${revocation.eventId}`]
              : [`person:${revocation.personId}`],
    );
    this.heard++;
  }

  private remember(keys: string[]): void {
    const now = performance.now();
    // Kept in the order heard, so the expired ones are at the front.
    for (const [key, at] of this.heardAt) {
      if (now - at <= KEEP_MS) break;
      this.heardAt.delete(key);
    }
    if (!keys.length) return;
    for (const key of keys) {
      this.heardAt.delete(key);
      this.heardAt.set(key, now);
    }
    this.lastHeardAt = now;
  }
}
