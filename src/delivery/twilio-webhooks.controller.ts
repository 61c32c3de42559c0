import { Body, Controller, Header, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { verifySecret } from '../common/crypto/password-hasher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { assertSignedByTwilio } from '../common/twilio-signature.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryContextService, mayNotSend } from './delivery-context.service.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { phrases, VOICE_LANGUAGE } from './templates.js';
import { UuidParam } from '../common/problem/input-rules.js';

const PIN_TRIES = 3;

/**
 * Twilio calls back here: delivery reports, the TwiML of our calls, and PIN entry. Every request
 * is signature-checked; statuses only ever move forward, so a late or repeated callback is harmless.
 */
@ApiExcludeController()
@Controller('v1/webhooks/twilio')
export class TwilioWebhooksController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly contexts: DeliveryContextService,
    private readonly reports: DeliveryReportsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('status/:deliveryId')
  @HttpCode(204)
  async status(@Param('deliveryId', UuidParam) id: string, @Req() req: Request, @Body() form: unknown): Promise<void> {
    const body = assertSignedByTwilio(this.config, req, form);
    const sid = body.MessageSid ?? body.CallSid;
    if (!sid) return;
    if (body.MessageStatus) {
      await this.reports.report(id, sid, { kind: 'message', status: body.MessageStatus, errorCode: body.ErrorCode });
    } else if (body.CallStatus) {
      const human = !body.AnsweredBy || body.AnsweredBy === 'human' || body.AnsweredBy === 'unknown';
      await this.reports.report(id, sid, { kind: 'call', status: body.CallStatus, answered: human && Number(body.CallDuration ?? 0) > 0 });
    }
  }

  @Post('voice/:deliveryId')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  async voice(@Param('deliveryId', UuidParam) id: string, @Req() req: Request, @Body() form: unknown): Promise<string> {
    assertSignedByTwilio(this.config, req, form);
    const context = await this.contexts.load(id);
    if (!context || context.channel !== 'voice') throw new DomainError('not_found', 'DELIVERY_NOT_FOUND', 'No such call.');
    const language = context.language ?? 'en';
    // Consent ended or the person became protected while the phone rang: say nothing about anyone.
    if (mayNotSend(context)) return hangUp(phrases(language).goodbye, language);
    return this.gather(id, this.contexts.voiceText(context), language, 1);
  }

  @Post('voice/:deliveryId/pin')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  async pin(
    @Param('deliveryId', UuidParam) id: string,
    @Query('try') tryParam: string,
    @Req() req: Request,
    @Body() form: unknown,
  ): Promise<string> {
    const body = assertSignedByTwilio(this.config, req, form);
    const context = await this.contexts.load(id);
    if (!context || context.channel !== 'voice') throw new DomainError('not_found', 'DELIVERY_NOT_FOUND', 'No such call.');
    const language = context.language ?? 'en';
    const t = phrases(language);
    const attempt = Math.max(1, Number(tryParam) || 1);
    const right = Boolean(context.pin_hash && /^\d{4}$/.test(body.Digits ?? '') && (await verifySecret(context.pin_hash, body.Digits)));
    if (right) {
      await this.confirm(id, context.purpose, context.contact_id);
      return hangUp(context.purpose === 'verification' ? t.verified : t.confirmed, language);
    }
    if (attempt >= PIN_TRIES) return hangUp(`${t.wrongPin} ${t.goodbye}`, language);
    return this.gather(id, t.wrongPin, language, attempt + 1);
  }

  private gather(id: string, text: string, language: 'en' | 'es', attempt: number): string {
    const response = new twilio.twiml.VoiceResponse();
    const gather = response.gather({
      numDigits: 4,
      timeout: 10,
      method: 'POST',
      action: `${this.config.publicBaseUrl}/v1/webhooks/twilio/voice/${id}/pin?try=${attempt}`,
    });
    gather.say({ language: VOICE_LANGUAGE[language] }, text);
    response.say({ language: VOICE_LANGUAGE[language] }, phrases(language).goodbye);
    return response.toString();
  }

  /** The right PIN: the notification is confirmed (no more calls), or the phone line is verified. */
  private async confirm(id: string, purpose: string, contactId: string | null): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE delivery SET status = 'confirmed', repeat_until = NULL, updated_at = $2 WHERE id = $1 AND status <> 'confirmed'`,
        [id, now],
      );
      if (purpose === 'verification' && contactId) {
        await tx.query(
          `UPDATE contact SET verified_at = coalesce(verified_at, $2), verified_by = coalesce(verified_by, 'call') WHERE id = $1`,
          [contactId, now],
        );
      }
      if (purpose === 'alert') {
        // One confirmation answers for the notification: stop calling its other phone lines too.
        await tx.query(
          `UPDATE delivery SET repeat_until = NULL WHERE notification_id = (SELECT notification_id FROM delivery WHERE id = $1) AND id <> $1`,
          [id],
        );
      }
    });
  }
}

function hangUp(text: string, language: 'en' | 'es'): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ language: VOICE_LANGUAGE[language] }, text);
  response.hangup();
  return response.toString();
}
