import { applyDecorators, Body, Controller, Header, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiTwilioForm } from '../common/twilio-form.schema.js';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { verifySecret } from '../common/crypto/password-hasher.js';
import { DomainError } from '../common/problem/domain-error.js';
import { firstTimeHeard } from '../common/twilio-replay.js';
import { assertSignedByTwilio } from '../common/twilio-signature.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { returning } from '../database/queryable.js';
import { retryingTransaction } from '../database/retrying-transaction.js';
import { DeliveryRepository } from '../database/delivery.repository.js';
import { DeliveryContextService, mayNotSend } from './delivery-context.service.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { phrases, VOICE_LANGUAGE } from './templates.js';
import { UuidParam } from '../common/problem/input-rules.js';

const PIN_TRIES = 3;

/** Every callback here names, in its URL, the delivery Vigil gave Twilio, and posts Twilio's signed form. */
function ApiDeliveryCallback(): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'deliveryId', format: 'uuid', description: 'The delivery Vigil gave Twilio in this URL' }),
    ApiTwilioForm(),
  );
}

/**
 * Twilio calls back here: delivery reports, the TwiML of our calls, and PIN entry. Every request
 * is signature-checked; statuses only ever move forward, so a late or repeated callback is harmless.
 */
@ApiTags('twilio')
@ApiSecurity('twilio')
@ApiUnauthorizedResponse({ description: 'TWILIO_SIGNATURE_INVALID: not signed by Twilio' })
@Controller('v1/webhooks/twilio')
export class TwilioWebhooksController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly contexts: DeliveryContextService,
    private readonly reports: DeliveryReportsService,
    private readonly deliveries: DeliveryRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('status/:deliveryId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delivery report for a message or call',
    description:
      'Twilio’s status callback. Statuses only move forward, so a late or repeated report changes nothing. A completed call ' +
      'counts as answered only when a person (not a machine) picked up.',
  })
  @ApiDeliveryCallback()
  @ApiNoContentResponse({ description: 'Recorded (or nothing to record)' })
  async status(@Param('deliveryId', UuidParam) id: string, @Req() req: FastifyRequest, @Body() form: unknown): Promise<void> {
    const body = assertSignedByTwilio(this.config, req, form);
    const sid = body.MessageSid ?? body.CallSid;
    if (!sid) return;
    if (body.MessageStatus) {
      await this.reports.report(id, sid, { kind: 'message', status: body.MessageStatus, errorCode: body.ErrorCode });
    } else if (body.CallStatus) {
      // Only a person heard the alert unprompted. A machine's recording, or an answer detection could
      // not place, holds the neutral message alone: the call counts as unanswered and repeats as such.
      const human = answerOf(body.AnsweredBy) === 'human';
      const status = body.CallStatus === 'completed' && !human ? 'machine' : body.CallStatus;
      await this.reports.report(id, sid, { kind: 'call', status, answered: human && Number(body.CallDuration ?? 0) > 0 });
    }
  }

  @Post('voice/:deliveryId')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The script of an alert or verification call',
    description:
      'TwiML for the call Twilio placed: a person hears the alert and is asked for the PIN; a machine gets a neutral message ' +
      'that names nobody; an unsure answer hears the alert only after the PIN.',
  })
  @ApiDeliveryCallback()
  @ApiOkResponse({
    description: 'TwiML',
    content: {
      'text/xml': { schema: { type: 'string', example: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>' } },
    },
  })
  @ApiNotFoundResponse({ description: 'DELIVERY_NOT_FOUND: no such call' })
  @Header('Content-Type', 'text/xml')
  async voice(@Param('deliveryId', UuidParam) id: string, @Req() req: FastifyRequest, @Body() form: unknown): Promise<string> {
    const body = assertSignedByTwilio(this.config, req, form);
    const context = await this.contexts.load(id);
    if (!context || context.channel !== 'voice') throw new DomainError('not_found', 'DELIVERY_NOT_FOUND', 'No such call.');
    const language = context.language ?? 'en';
    const t = phrases(language);
    // Consent ended or the person became protected while the phone rang: say nothing about anyone.
    if (mayNotSend(context)) return hangUp(t.goodbye, language);
    const verification = context.purpose === 'verification';
    // What a recording on a shared phone may hold: that Vigil called, and where to look.
    const neutral = verification ? t.machineVerify : context.repeatUntil ? `${t.machine} ${t.callAgain}` : t.machine;
    switch (answerOf(body.AnsweredBy)) {
      case 'machine':
        return hangUp(neutral, language);
      case 'unsure':
        // Maybe a person who said nothing: the alert only after the PIN; silence leaves the neutral message.
        return this.gather(id, verification ? t.offerVerify : t.offer, language, 1, { hear: true, after: neutral });
      case 'human':
        return this.gather(id, this.contexts.voiceText(context), language, 1);
    }
  }

  @Post('voice/:deliveryId/pin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'PIN entered during a call',
    description:
      'The right PIN confirms the alert (no more calls) or verifies the phone line; a wrong one asks again, up to 3 tries. ' +
      'Replays of the same call’s PIN are answered the same and change nothing.',
  })
  @ApiDeliveryCallback()
  @ApiQuery({ name: 'try', required: false, schema: { type: 'integer', minimum: 1, maximum: 3 }, description: 'Which try this is' })
  @ApiQuery({
    name: 'hear',
    required: false,
    schema: { type: 'string', enum: ['1'] },
    description: 'The alert is read out once the PIN is right',
  })
  @ApiOkResponse({
    description: 'TwiML',
    content: {
      'text/xml': { schema: { type: 'string', example: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>' } },
    },
  })
  @ApiNotFoundResponse({ description: 'DELIVERY_NOT_FOUND: no such call' })
  @Header('Content-Type', 'text/xml')
  async pin(
    @Param('deliveryId', UuidParam) id: string,
    @Query('try') tryParam: string,
    @Query('hear') hearParam: string | undefined,
    @Req() req: FastifyRequest,
    @Body() form: unknown,
  ): Promise<string> {
    const body = assertSignedByTwilio(this.config, req, form);
    const context = await this.contexts.load(id);
    if (!context || context.channel !== 'voice') throw new DomainError('not_found', 'DELIVERY_NOT_FOUND', 'No such call.');
    const language = context.language ?? 'en';
    const t = phrases(language);
    const attempt = Math.max(1, Number(tryParam) || 1);
    // The caller has not heard the alert yet (see voice): it is read out once the PIN is right.
    const hear = hearParam === '1' && context.purpose === 'alert';
    if (hear && mayNotSend(context)) return hangUp(t.goodbye, language);
    const right = Boolean(context.pinHash && /^\d{4}$/.test(body.Digits ?? '') && (await verifySecret(context.pinHash, body.Digits)));
    if (right) {
      // A verification call answered after its day is over (or after the registration ended) verifies nothing.
      if (!(await this.confirm(id, context.purpose, context.contactId, body.CallSid))) return hangUp(t.goodbye, language);
      if (hear) return hangUp(`${this.contexts.voiceText(context, true)} ${t.confirmed}`, language);
      return hangUp(context.purpose === 'verification' ? t.verified : t.confirmed, language);
    }
    if (attempt >= PIN_TRIES) return hangUp(`${t.wrongPin} ${t.goodbye}`, language);
    return this.gather(id, t.wrongPin, language, attempt + 1, { hear });
  }

  /** Says `text` while listening for the PIN; `after` is said if none is entered. */
  private gather(
    id: string,
    text: string,
    language: 'en' | 'es',
    attempt: number,
    options: { hear?: boolean; after?: string } = {},
  ): string {
    const response = new twilio.twiml.VoiceResponse();
    const gather = response.gather({
      numDigits: 4,
      timeout: 10,
      method: 'POST',
      action: `${this.config.publicBaseUrl}/v1/webhooks/twilio/voice/${id}/pin?try=${attempt}${options.hear ? '&hear=1' : ''}`,
    });
    gather.say({ language: VOICE_LANGUAGE[language] }, text);
    response.say({ language: VOICE_LANGUAGE[language] }, options.after ?? phrases(language).goodbye);
    if (options.after) response.hangup();
    return response.toString();
  }

  /**
   * The right PIN: the notification is confirmed (no more calls), or the phone line is verified.
   * Once per call: a replayed PIN callback is answered the same and changes nothing.
   */
  /** Confirms the call's delivery (and, for a verification call, its contact); false when a verification may no longer happen. */
  private async confirm(id: string, purpose: string, contactId: string | null, callSid: string | undefined): Promise<boolean> {
    const now = this.clock.now();
    return retryingTransaction(this.db, async (tx) => {
      if (callSid && !(await firstTimeHeard(tx, callSid, 'pin', now))) return true;
      if (purpose === 'verification' && contactId) {
        const verified = await returning(
          tx,
          `UPDATE contact c SET verified_at = coalesce(c.verified_at, $2), verified_by = coalesce(c.verified_by, 'call')
           FROM registration r
           WHERE c.id = $1 AND r.id = c.registration_id AND r.status = 'active'
             AND (c.verified_at IS NOT NULL OR ((c.verify_by IS NULL OR c.verify_by > $2) AND (r.expires_at IS NULL OR r.expires_at > $2)))
           RETURNING c.id`,
          [contactId, now],
        );
        if (!verified.length) return false;
      }
      await this.deliveries.confirm(tx, id, purpose, now);
      return true;
    });
  }
}

/**
 * Who answered, by Twilio's answering machine detection (`AnsweredBy`): `unknown`, or no result at
 * all, may be a person who stayed silent or a machine it could not place, so it is treated as
 * neither: nothing about anyone is said before the PIN.
 */
function answerOf(answeredBy: string | undefined): 'human' | 'machine' | 'unsure' {
  if (answeredBy === 'human') return 'human';
  if (answeredBy?.startsWith('machine_') || answeredBy === 'fax') return 'machine';
  return 'unsure';
}

function hangUp(text: string, language: 'en' | 'es'): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ language: VOICE_LANGUAGE[language] }, text);
  response.hangup();
  return response.toString();
}
