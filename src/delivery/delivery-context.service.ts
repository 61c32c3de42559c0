import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { Clock } from '../common/clock.js';
import { FieldCipher } from '../common/crypto/field-cipher.js';
import type { DeliveryStatus } from '../database/delivery.repository.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { EventType } from '../people/custody-status.js';
import type { Channel } from '../registrations/contact-address.js';
import { OptOutService } from '../registrations/opt-out.service.js';
import { type Language, LANGUAGES, type QuietHoursDto } from '../registrations/registration.dto.js';
import type { OutboundMessage } from './channels/channel-provider.js';
import { readQuietHours } from './quiet-hours.js';
import { escapeHtml } from './templates.js';
import {
  type AlertContext,
  phrases,
  renderEmail,
  renderSms,
  renderVerificationEmail,
  renderVerificationSms,
  renderVoice,
} from './templates.js';

export interface DeliveryContext {
  id: string;
  purpose: 'alert' | 'verification' | 'staff';
  channel: Channel;
  status: DeliveryStatus;
  attempts: number;
  secret: string | null;
  payload: StaffPayload | null;
  repeat_until: Date | null;
  contact_id: string | null;
  address: string | null;
  /** The address's blind index: STOP is heard by phone number. */
  address_index: Buffer | null;
  staff_email: string | null;
  unsubscribed_at: Date | null;
  opted_out: boolean;
  registration_id: string | null;
  registration_status: string | null;
  pin_hash: string | null;
  language: Language | null;
  quiet_hours: QuietHoursDto | null;
  notification_id: string | null;
  kind: 'alert' | 'correction' | null;
  urgent: boolean | null;
  event_type: EventType | null;
  event_id: string | null;
  /** A CORRECTION retracted the event: its alerts never go out (the correction itself does). */
  event_retracted: boolean | null;
  /** A correction only: a provider accepted an alert about the retracted event for this contact. */
  retracted_alert_accepted: boolean | null;
  /**
   * A correction only: an alert about the retracted event for this contact is in a batch still in
   * hand (attempt written, outcome unknown, lease live) until this time; it may yet go out or be withdrawn.
   */
  retracted_alert_in_flight_until: Date | null;
  occurred_at: Date | null;
  scheduled_for: Date | null;
  person_id: string | null;
  first_name: string | null;
  last_name: string | null;
  /** The person the alert is about is protected now (set after it was planned, perhaps). */
  person_protected: boolean | null;
  facility_name: string | null;
  to_facility_name: string | null;
  last_attempt_no: number | null;
  last_hash: Buffer | null;
}

/** What staff messages (escalations, feed alerts) carry; never a victim's address. */
export type StaffPayload =
  | {
      kind: 'escalation';
      notificationId: string;
      registrationId: string;
      personName: string;
      /** For a correction, the retracted alert's type and time. */
      eventType: string;
      occurredAt: string;
      /** The correction of a retracted urgent alert, not an alert (absent in escalations stored before it existed). */
      correction?: boolean;
    }
  | {
      kind: 'feed';
      state: 'stale' | 'recovered';
      sourceId: string;
      sourceName: string;
      /** One facility's roster feed, when the source as a whole is fine (absent in alerts stored before it existed). */
      facilityCode?: string | null;
      lastContactAt: string | null;
    };

/**
 * Whether a delivery must not go out now: stopped or expired registrations, unsubscribed contacts and STOPped
 * numbers get nothing, nothing goes out about a person who is protected now, whenever the
 * protection was set, no alert about an event a CORRECTION retracted, and no correction to a contact
 * the retracted alert never reached (its attempts withdrawn, failed, or left unfinished by a worker
 * whose lease ran out). Checked when a batch is loaded and again when a call is answered.
 */
export function mayNotSend(c: DeliveryContext): boolean {
  if (c.purpose === 'staff') return false;
  if (c.registration_status === 'stopped' || c.registration_status === 'expired' || c.unsubscribed_at) return true;
  if (c.channel === 'sms' && c.opted_out) return true;
  if (c.kind === 'alert' && c.event_retracted) return true;
  if (c.kind === 'correction' && !c.retracted_alert_accepted && !c.retracted_alert_in_flight_until) return true;
  return c.purpose === 'alert' && Boolean(c.person_protected);
}

/**
 * When a correction is to be decided again: the retracted alert to this contact is still in a batch
 * in hand, so whether it went out is not known yet (attempt rows are written for a whole batch before
 * any provider is called). Undefined when the correction can be decided now.
 */
export function correctionWaitsUntil(c: DeliveryContext): Date | undefined {
  if (c.kind !== 'correction' || c.retracted_alert_accepted) return undefined;
  return c.retracted_alert_in_flight_until ?? undefined;
}

/**
 * The attempts of this contact's deliveries about the event a correction retracts (the correction's
 * event is `e`). Read for corrections only, by primary and unique keys.
 */
const RETRACTED_ATTEMPTS = `FROM custody_event x
  JOIN notification rn ON rn.event_id = x.id AND rn.registration_id = n.registration_id
  JOIN delivery rd ON rd.notification_id = rn.id AND rd.contact_id = d.contact_id
  JOIN delivery_attempt a ON a.delivery_id = rd.id
  WHERE x.id = e.corrects_event_id AND x.retracted_by_event_id = e.id`;

/** Everything a delivery needs to be rendered and sent, loaded in one query; and the rendering itself. */
@Injectable()
export class DeliveryContextService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: FieldCipher,
    private readonly optOut: OptOutService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async load(id: string): Promise<DeliveryContext | undefined> {
    return (await this.query('vigil_delivery_context', 'd.id = $2', [id]))[0];
  }

  /** The deliveries of a claimed batch that this worker still holds. */
  loadMany(ids: string[], leaseOwner: string): Promise<DeliveryContext[]> {
    return this.query('vigil_delivery_contexts', 'd.id = ANY($2::uuid[]) AND d.lease_owner = $3', [ids, leaseOwner]);
  }

  /**
   * A named (prepared) statement: PostgreSQL plans this nine-way join once per connection instead
   * of for every batch, where planning took 5 ms a call (pg_stat_statements, track_planning). $1 is
   * now; an alert never evaluates the correction columns (CASE).
   */
  private async query(name: string, where: string, params: unknown[]): Promise<DeliveryContext[]> {
    const pool = (this.db.driver as PostgresDriver).master as pg.Pool;
    const result = await pool.query<DeliveryContext>({
      name,
      text: `SELECT d.id, d.purpose, d.channel, d.status, d.attempts, d.secret, d.payload, d.repeat_until, d.contact_id, d.notification_id,
              c.address, c.address_index, s.email AS staff_email, c.unsubscribed_at,
              EXISTS (SELECT 1 FROM phone_opt_out o WHERE o.address_index = c.address_index) AS opted_out,
              r.id AS registration_id, r.status AS registration_status, r.pin_hash, r.language, r.quiet_hours,
              n.kind, n.urgent, e.type AS event_type, n.event_id, e.retracted_by_event_id IS NOT NULL AS event_retracted, e.occurred_at, e.scheduled_for,
              CASE WHEN n.kind = 'correction' THEN EXISTS (SELECT 1 ${RETRACTED_ATTEMPTS} AND a.outcome = 'accepted') END AS retracted_alert_accepted,
              -- An attempt left unfinished counts only while its batch is in hand: a dead worker's stays unknown for good.
              CASE WHEN n.kind = 'correction' THEN (SELECT max(rd.lease_expires_at) ${RETRACTED_ATTEMPTS}
                AND a.outcome IS NULL AND rd.status = 'sending' AND rd.lease_expires_at > $1) END AS retracted_alert_in_flight_until,
              e.person_id, p.first_name, p.last_name, p.protected AS person_protected, coalesce(f.name, f.code) AS facility_name, coalesce(tf.name, tf.code) AS to_facility_name,
              last.attempt_no AS last_attempt_no, last.hash AS last_hash
       FROM delivery d
       LEFT JOIN contact c ON c.id = d.contact_id
       LEFT JOIN staff s ON s.id = d.staff_id
       LEFT JOIN registration r ON r.id = c.registration_id
       LEFT JOIN notification n ON n.id = d.notification_id
       LEFT JOIN custody_event e ON e.id = n.event_id
       LEFT JOIN person p ON p.id = e.person_id
       LEFT JOIN facility f ON f.id = e.facility_id
       LEFT JOIN facility tf ON tf.id = e.to_facility_id
       LEFT JOIN LATERAL (SELECT a.attempt_no, a.hash FROM delivery_attempt a WHERE a.delivery_id = d.id ORDER BY a.attempt_no DESC LIMIT 1) last ON true
       WHERE ${where}`,
      values: [this.clock.now(), ...params],
    });
    return result.rows;
  }

  /**
   * What a phone call says: the alert (or the verification prompt), in the registrant's language;
   * `afterPin`: to someone who has just entered the PIN to hear it, without asking for it again.
   */
  voiceText(c: DeliveryContext, afterPin = false): string {
    return this.render(c, afterPin).text;
  }

  render(c: DeliveryContext, afterPin = false): OutboundMessage {
    // A stored language this build does not speak is read as English rather than failing the alert.
    const language: Language = c.language && LANGUAGES.includes(c.language) ? c.language : 'en';
    const callbacks = `${this.config.publicBaseUrl}/v1/webhooks/twilio`;
    const voiceUrl = `${callbacks}/voice/${c.id}`;
    const statusCallbackUrl = `${callbacks}/status/${c.id}`;
    if (c.purpose === 'staff') {
      const text = staffText(c.payload!, this.config.publicBaseUrl);
      return {
        deliveryId: c.id,
        channel: 'email',
        to: c.staff_email ?? '',
        language: 'en',
        subject: text.split('\n')[0],
        text,
        html: `<!doctype html><html lang="en"><body><pre>${escapeHtml(text)}</pre></body></html>`,
      };
    }
    const to = c.address ? this.cipher.decrypt(c.address, 'contact.address', c.contact_id!) : '';
    const base = { deliveryId: c.id, channel: c.channel, to, language };
    if (c.purpose === 'verification') {
      const code = c.secret ? this.cipher.decrypt(c.secret, 'delivery.secret', c.id) : '';
      if (c.channel === 'email') return { ...base, ...renderVerificationEmail(code, language) };
      if (c.channel === 'sms') return { ...base, text: renderVerificationSms(code, language), statusCallbackUrl };
      return { ...base, text: phrases(language).verifyCall, voiceUrl, statusCallbackUrl };
    }
    const alert: AlertContext = {
      kind: c.kind ?? 'alert',
      eventType: c.event_type!,
      personName: `${c.first_name} ${c.last_name}`,
      facilityName: c.facility_name ?? '',
      toFacilityName: c.to_facility_name,
      occurredAt: c.occurred_at!,
      scheduledFor: c.scheduled_for,
      timeZone: readQuietHours(c.quiet_hours)?.timeZone ?? this.config.defaultTimeZone,
      manageUrl: `${this.config.publicBaseUrl}/v1/registrations/${c.registration_id}`,
      unsubscribeUrl:
        c.channel === 'email' && c.contact_id
          ? `${this.config.publicBaseUrl}/v1/unsubscribe/${c.contact_id}?token=${this.optOut.unsubscribeToken(c.contact_id)}`
          : undefined,
    };
    if (c.channel === 'email') return { ...base, ...renderEmail(alert, language), unsubscribeUrl: alert.unsubscribeUrl };
    if (c.channel === 'sms') return { ...base, text: renderSms(alert, language), statusCallbackUrl };
    return { ...base, text: renderVoice(alert, language, !afterPin), voiceUrl, statusCallbackUrl };
  }
}

function staffText(payload: StaffPayload, baseUrl: string): string {
  if (payload.kind === 'feed') {
    const feed = payload.facilityCode ? `${payload.sourceName}, facility ${payload.facilityCode}` : payload.sourceName;
    const what = payload.facilityCode ? 'No roster for this facility' : 'No contact from this source';
    return payload.state === 'stale'
      ? `Vigil feed STALE: ${feed}\n\n${what} within its expected interval (last contact: ${payload.lastContactAt ?? 'never'}). ` +
          `Releases it reports are not reaching victims until it recovers.\n\n${baseUrl}/v1/admin/feeds`
      : `Vigil feed recovered: ${feed}\n\nThe feed is reporting again (last contact: ${payload.lastContactAt ?? 'unknown'}).\n\n${baseUrl}/v1/admin/feeds`;
  }
  const links = `Registration: ${baseUrl}/v1/registrations/${payload.registrationId}\nNotification: ${payload.notificationId}`;
  if (payload.correction) {
    return (
      `Vigil escalation: correction not delivered\n\nThe ${payload.eventType} alert for ${payload.personName} (${payload.occurredAt}) ` +
      `was sent in error and retracted by its source. Its correction has not been confirmed or delivered to the victim, who may ` +
      `still believe the alert. Please reach them directly and tell them it was wrong.\n\n${links}`
    );
  }
  return (
    `Vigil escalation: urgent alert not confirmed\n\n${payload.eventType} for ${payload.personName} at ${payload.occurredAt} ` +
    `has not been confirmed or delivered to the victim. Please reach them directly.\n\n${links}`
  );
}
