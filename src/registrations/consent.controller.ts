import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import twilio from 'twilio';
import type { RequestWithRawBody } from '../common/body-parsing.js';
import { DomainError } from '../common/problem/domain-error.js';
import { RateLimited } from '../common/rate-limit.js';
import { assertSignedByTwilio } from '../common/twilio-signature.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HELP_TEXT, OptOutService } from './opt-out.service.js';
import { ApiTwilioForm } from '../common/twilio-form.schema.js';
import { UnsubscribedDto } from './registration.dto.js';
import { UuidParam } from '../common/problem/input-rules.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

@ApiTags('consent')
@Controller('v1')
export class ConsentController {
  constructor(
    private readonly optOut: OptOutService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Inbound SMS from Twilio: STOP/START/HELP. Checked with X-Twilio-Signature over PUBLIC_BASE_URL + path. */
  @Post('webhooks/twilio/sms-inbound')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Inbound SMS from Twilio (STOP, START, HELP)',
    description:
      'STOP opts the sending number out of SMS for every registration; START undoes it; HELP answers with the help text as TwiML. ' +
      'Any other text is ignored. Signed by Twilio with X-Twilio-Signature over PUBLIC_BASE_URL + path and the form parameters.',
  })
  @ApiTwilioForm()
  @ApiSecurity('twilio')
  @ApiTags('twilio')
  @ApiOkResponse({
    description: 'TwiML: empty, or the HELP reply',
    content: { 'text/xml': { schema: { type: 'string', example: '<?xml version="1.0" encoding="UTF-8"?><Response/>' } } },
  })
  @ApiUnauthorizedResponse({ description: 'TWILIO_SIGNATURE_INVALID: not signed by Twilio' })
  @Header('Content-Type', 'text/xml')
  async smsInbound(@Req() req: RequestWithRawBody, @Body() form: unknown): Promise<string> {
    const body = assertSignedByTwilio(this.config, req, form);
    const keyword = await this.optOut.smsKeyword(String(body.From ?? ''), String(body.Body ?? ''), body.MessageSid);
    if (keyword !== 'help') return EMPTY_TWIML;
    const response = new twilio.twiml.MessagingResponse();
    response.message(HELP_TEXT);
    return response.toString();
  }

  /** The link in every email: a page with one button, so link scanners that prefetch do not unsubscribe anyone. */
  @Get('unsubscribe/:contactId')
  @RateLimited('public')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(@Param('contactId', UuidParam) contactId: string, @Query('token') token = ''): Promise<string> {
    if (!(await this.optOut.linkValid(contactId, token)))
      throw new DomainError('not_found', 'UNSUBSCRIBE_LINK_INVALID', 'This link is not valid.');
    const action = `/v1/unsubscribe/${contactId}?token=${encodeURIComponent(token)}`;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Stop Vigil emails</title></head><body>
<h1>Stop Vigil emails to this address?</h1><p lang="es">¿Dejar de recibir correos de Vigil en esta dirección?</p>
<form method="post" action="${action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Stop emails / Detener correos</button></form>
<p>If you are in danger, call 911. / Si está en peligro, llame al 911.</p></body></html>`;
  }

  /** RFC 8058 List-Unsubscribe-Post target (and the page's button). */
  @Post('unsubscribe/:contactId')
  @HttpCode(200)
  @RateLimited('public')
  @ApiOperation({
    summary: 'Unsubscribe an email address (one click)',
    description:
      'The RFC 8058 List-Unsubscribe-Post target of every email, and the button of the page its link opens. The token in the ' +
      'link is the credential; the contact gets no more email. Rate limited per client.',
    security: [],
  })
  @ApiParam({ name: 'contactId', format: 'uuid', description: 'The email contact' })
  @ApiQuery({ name: 'token', required: true, description: 'The token from the link in the email' })
  @ApiNotFoundResponse({ description: 'UNSUBSCRIBE_LINK_INVALID: the link is not valid' })
  @ApiOkResponse({ type: UnsubscribedDto, description: 'This contact gets no more email' })
  async unsubscribe(@Param('contactId', UuidParam) contactId: string, @Query('token') token = ''): Promise<{ unsubscribed: true }> {
    if (!(await this.optOut.unsubscribe(contactId, token))) {
      throw new DomainError('not_found', 'UNSUBSCRIBE_LINK_INVALID', 'This link is not valid.');
    }
    return { unsubscribed: true };
  }
}
