import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { listenOn } from '../database/listen.js';
import { type Revocation, REVOCATION_CHANNEL } from '../registrations/consent-revocation.js';
import type { DeliveryContext } from './delivery-context.service.js';

/** Longer than any batch stays in hand; only batches loaded before a revocation was heard consult it. */
const KEEP_MS = 15 * 60_000;

/**
 * Consent that ended, persons that became protected, and events a CORRECTION retracted, while this
 * worker may hold batches loaded before: heard on REVOCATION_CHANNEL. The dispatcher asks before
 * every provider call, so a STOP, an unsubscribe, a DELETE, a protection or a correction stops what is still to go out of a batch in hand; what
 * it loads afterwards is checked against the database anyway. A lost notification (the LISTEN
 * connection dropped) only widens the window back to one batch.
 */
@Injectable()
export class RevocationsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationsService.name);
  private listener?: pg.Client;
  /** Scope key → when it was heard (performance.now()), in the order heard. */
  private readonly heardAt = new Map<string, number>();
  private lastHeardAt = -Infinity;
  /** How many revocations this process has heard; for tests and tools. */
  heard = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    if (this.config.role === 'api') return;
    try {
      this.listener = await listenOn(
        this.config.database.url,
        REVOCATION_CHANNEL,
        (payload) => this.hear(payload),
        (error) => this.logger.warn({ err: error.message }, 'revocation LISTEN connection lost'),
      );
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'revocations unavailable; batches are checked when loaded only');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.end().catch(() => undefined);
  }

  /** Whether this delivery, in a batch loaded at `loadedAt` (performance.now()), must not go out now. */
  withdraws(c: DeliveryContext, loadedAt: number): boolean {
    // Nearly every batch was loaded after the last revocation: one comparison, no keys built.
    if (this.lastHeardAt < loadedAt || c.purpose === 'staff') return false;
    const since = (key: string | null) => key !== null && (this.heardAt.get(key) ?? -Infinity) >= loadedAt;
    return (
      since(c.registration_id && `registration:${c.registration_id}`) ||
      since(c.contact_id && `contact:${c.contact_id}`) ||
      (c.channel === 'sms' && since(c.address_index && `sms:${c.address_index.toString('hex')}`)) ||
      (c.purpose === 'alert' && since(c.person_id && `person:${c.person_id}`)) ||
      (c.kind === 'alert' && since(c.event_id && `event:${c.event_id}`))
    );
  }

  private hear(payload: string): void {
    let revocation: Revocation;
    try {
      revocation = JSON.parse(payload) as Revocation;
    } catch {
      return;
    }
    const now = performance.now();
    // Kept in the order heard, so the expired ones are at the front.
    for (const [key, at] of this.heardAt) {
      if (now - at <= KEEP_MS) break;
      this.heardAt.delete(key);
    }
    const keys =
      'registrationId' in revocation
        ? [`registration:${revocation.registrationId}`]
        : 'contactId' in revocation
          ? [`contact:${revocation.contactId}`]
          : 'smsTo' in revocation
            ? revocation.smsTo.map((index) => `sms:${index}`)
            : 'eventId' in revocation
              ? [`event:${revocation.eventId}`]
              : [`person:${revocation.personId}`];
    for (const key of keys) {
      this.heardAt.delete(key);
      this.heardAt.set(key, now);
    }
    this.lastHeardAt = now;
    this.heard++;
  }
}
