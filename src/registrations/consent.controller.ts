import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
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
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  async page(@Param('contactId', UuidParam) contactId: string, @Query('token') token = ''): Promise<string> {
    if (!(await this.optOut.linkValid(contactId, token)))
      throw new DomainError('not_found', 'UNSUBSCRIBE_LINK_INVALID', 'This link is not valid.');
    const action = `/v1/unsubscribe/${contactId}?token=${encodeURIComponent(token)}`;
    return this.victimPage(
      'Stop Vigil emails',
      `<h1>Stop Vigil emails to this address?</h1><p lang="es">¿Dejar de recibir correos de Vigil en esta dirección?</p>
<form method="post" action="${action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Stop emails / Detener correos</button></form>`,
    );
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
  async unsubscribe(
    @Param('contactId', UuidParam) contactId: string,
    @Query('token') token = '',
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ unsubscribed: true } | string> {
    if (!(await this.optOut.unsubscribe(contactId, token))) {
      throw new DomainError('not_found', 'UNSUBSCRIBE_LINK_INVALID', 'This link is not valid.');
    }
    // The page's button, pressed in a browser: the victim reads a page that says it is done; a mail client's one click keeps JSON.
    if (!req.headers.accept?.includes('text/html')) return { unsubscribed: true };
    void reply.headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    return this.victimPage(
      'Vigil emails stopped',
      `<h1>Vigil will send no more email to this address.</h1><p lang="es">Vigil no enviará más correos a esta dirección.</p>`,
    );
  }

  /** A page a victim reaches from an email: the quick exit first, as on every victim page, and the 911 line. */
  private victimPage(title: string, body: string): string {
    const quickExit = new URL(this.config.quickExitUrl).href;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>${title}</title></head><body>
<a id="quick-exit" href="${quickExit}" rel="noreferrer">Quick exit / Salida rápida</a>
${body}
<p>If you are in danger, call 911. / Si está en peligro, llame al 911.</p></body></html>`;
  }
}
