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
import { type NotificationKind, openMessage, type StoredMessage } from './victim-messages.service.js';
import { escapeHtml } from './templates.js';
import {
  type AlertContext,
  type MessageContext,
  phrases,
  renderEmail,
  renderMessageEmail,
  renderMessageSms,
  renderMessageVoice,
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
  repeatUntil: Date | null;
  contactId: string | null;
  address: string | null;
  /** The address's blind index: STOP is heard by phone number. */
  addressIndex: Buffer | null;
  staffEmail: string | null;
  unsubscribedAt: Date | null;
  optedOut: boolean;
  registrationId: string | null;
  registrationStatus: string | null;
  pinHash: string | null;
  /** Sealed; null for registrations made before manage tokens were kept (their alerts link to help). */
  manageToken: string | null;
  language: Language | null;
  quietHours: QuietHoursDto | null;
  notificationId: string | null;
  kind: NotificationKind | null;
  /** A message outside any event: what it carries (a shared service as it was when shared). */
  message: StoredMessage['message'];
  messageSealed: string | null;
  urgent: boolean | null;
  eventType: EventType | null;
  eventId: string | null;
  /** A CORRECTION retracted the event: its alerts never go out (the correction itself does). */
  eventRetracted: boolean | null;
  /** A correction only: a provider accepted an alert about the retracted event for this contact. */
  retractedAlertAccepted: boolean | null;
  /**
   * A correction only: an alert about the retracted event for this contact is in a batch still in
   * hand (attempt written, outcome unknown, lease live) until this time; it may yet go out or be withdrawn.
   */
  retractedAlertInFlightUntil: Date | null;
  occurredAt: Date | null;
  scheduledFor: Date | null;
  personId: string | null;
  firstName: string | null;
  lastName: string | null;
  /** The person the alert is about is protected now (set after it was planned, perhaps). */
  personProtected: boolean | null;
  facilityName: string | null;
  toFacilityName: string | null;
  lastAttemptNo: number | null;
  lastHash: Buffer | null;
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
  if (c.registrationStatus === 'stopped' || c.registrationStatus === 'expired' || c.unsubscribedAt) return true;
  if (c.channel === 'sms' && c.optedOut) return true;
  if (c.kind === 'alert' && c.eventRetracted) return true;
  if (c.kind === 'correction' && !c.retractedAlertAccepted && !c.retractedAlertInFlightUntil) return true;
  return c.purpose === 'alert' && Boolean(c.personProtected);
}

/**
 * When a correction is to be decided again: the retracted alert to this contact is still in a batch
 * in hand, so whether it went out is not known yet (attempt rows are written for a whole batch before
 * any provider is called). Undefined when the correction can be decided now.
 */
export function correctionWaitsUntil(c: DeliveryContext): Date | undefined {
  if (c.kind !== 'correction' || c.retractedAlertAccepted) return undefined;
  return c.retractedAlertInFlightUntil ?? undefined;
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
      text: `SELECT d.id, d.purpose, d.channel, d.status, d.attempts, d.secret, d.payload, d.repeat_until AS "repeatUntil", d.contact_id AS "contactId",
              d.notification_id AS "notificationId", c.address, c.address_index AS "addressIndex", s.email AS "staffEmail", c.unsubscribed_at AS "unsubscribedAt",
              EXISTS (SELECT 1 FROM phone_opt_out o WHERE o.address_index = c.address_index) AS "optedOut",
              r.id AS "registrationId", r.status AS "registrationStatus", r.pin_hash AS "pinHash", r.manage_token AS "manageToken", r.language, r.quiet_hours AS "quietHours",
              n.kind, n.message, n.message_sealed AS "messageSealed", n.urgent, e.type AS "eventType", n.event_id AS "eventId", e.retracted_by_event_id IS NOT NULL AS "eventRetracted",
              e.occurred_at AS "occurredAt", e.scheduled_for AS "scheduledFor",
              CASE WHEN n.kind = 'correction' THEN EXISTS (SELECT 1 ${RETRACTED_ATTEMPTS} AND a.outcome = 'accepted') END AS "retractedAlertAccepted",
              -- An attempt left unfinished counts only while its batch is in hand: a dead worker's stays unknown for good.
              CASE WHEN n.kind = 'correction' THEN (SELECT max(rd.lease_expires_at) ${RETRACTED_ATTEMPTS}
                AND a.outcome IS NULL AND rd.status = 'sending' AND rd.lease_expires_at > $1) END AS "retractedAlertInFlightUntil",
              p.id AS "personId", p.first_name AS "firstName", p.last_name AS "lastName", p.protected AS "personProtected",
              coalesce(f.name, f.code) AS "facilityName", coalesce(tf.name, tf.code) AS "toFacilityName",
              last.attempt_no AS "lastAttemptNo", last.hash AS "lastHash"
       FROM delivery d
       LEFT JOIN contact c ON c.id = d.contact_id
       LEFT JOIN staff s ON s.id = d.staff_id
       LEFT JOIN registration r ON r.id = c.registration_id
       LEFT JOIN notification n ON n.id = d.notification_id
       LEFT JOIN custody_event e ON e.id = n.event_id
       -- An enrolment's confirmation names the person followed; no other message is about anyone.
       LEFT JOIN person p ON p.id = coalesce(e.person_id, CASE WHEN n.kind = 'enrolled' THEN r.person_id END)
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
        to: c.staffEmail ?? '',
        language: 'en',
        subject: text.split('\n')[0],
        text,
        html: `<!doctype html><html lang="en"><body><pre>${escapeHtml(text)}</pre></body></html>`,
      };
    }
    const to = c.address ? this.cipher.decrypt(c.address, 'contact.address', c.contactId!) : '';
    const base = { deliveryId: c.id, channel: c.channel, to, language };
    if (c.purpose === 'verification') {
      const code = c.secret ? this.cipher.decrypt(c.secret, 'delivery.secret', c.id) : '';
      if (c.channel === 'email') return { ...base, ...renderVerificationEmail(code, language) };
      if (c.channel === 'sms') return { ...base, text: renderVerificationSms(code, language), statusCallbackUrl };
      return { ...base, text: phrases(language).verifyCall, voiceUrl, statusCallbackUrl };
    }
    const manageUrl = this.manageUrl(c, language);
    const unsubscribeUrl =
      c.channel === 'email' && c.contactId
        ? `${this.config.publicBaseUrl}/v1/unsubscribe/${c.contactId}?token=${this.optOut.unsubscribeToken(c.contactId)}`
        : undefined;
    if (c.kind === 'enrolled' || c.kind === 'service') {
      const message: MessageContext = {
        kind: c.kind,
        personName: `${c.firstName ?? ''} ${c.lastName ?? ''}`.trim(),
        service: c.notificationId ? openMessage(this.cipher, c.notificationId, c)?.service : undefined,
        manageUrl,
        unsubscribeUrl,
      };
      if (c.channel === 'email') return { ...base, ...renderMessageEmail(message, language), unsubscribeUrl };
      if (c.channel === 'sms') return { ...base, text: renderMessageSms(message, language), statusCallbackUrl };
      return { ...base, text: renderMessageVoice(message, language, !afterPin), voiceUrl, statusCallbackUrl };
    }
    const alert: AlertContext = {
      kind: c.kind ?? 'alert',
      eventType: c.eventType!,
      personName: `${c.firstName} ${c.lastName}`,
      facilityName: c.facilityName ?? '',
      toFacilityName: c.toFacilityName,
      occurredAt: c.occurredAt!,
      scheduledFor: c.scheduledFor,
      timeZone: readQuietHours(c.quietHours)?.timeZone ?? this.config.defaultTimeZone,
      manageUrl,
      unsubscribeUrl,
    };
    if (c.channel === 'email') return { ...base, ...renderEmail(alert, language), unsubscribeUrl: alert.unsubscribeUrl };
    if (c.channel === 'sms') return { ...base, text: renderSms(alert, language), statusCallbackUrl };
    return { ...base, text: renderVoice(alert, language, !afterPin), voiceUrl, statusCallbackUrl };
  }

  /**
   * The victim's manage page, opened by the manage token (the page swaps it for a session at once).
   * A registration made before tokens were kept sealed has only the token's hash, so no link can open
   * it: its alerts point to the help page, where a specialist can be reached, rather than to a page
   * that would refuse them.
   */
  private manageUrl(c: DeliveryContext, language: Language): string {
    if (!c.manageToken || !c.registrationId) return `${this.config.publicBaseUrl}/${language}/help`;
    try {
      const token = this.cipher.decrypt(c.manageToken, 'registration.manage_token', c.registrationId);
      return `${this.config.publicBaseUrl}/${language}/manage?token=${encodeURIComponent(token)}`;
    } catch {
      // An unreadable link must never hold back the alert it rides in.
      return `${this.config.publicBaseUrl}/${language}/help`;
    }
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
