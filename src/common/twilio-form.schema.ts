import { applyDecorators } from '@nestjs/common';
import { ApiBody, type ApiBodyOptions, ApiConsumes } from '@nestjs/swagger';

type OpenApiSchema = Extract<ApiBodyOptions, { schema: unknown }>['schema'];

const field = (description: string, example: string) => ({ type: 'string', description, example });

/**
 * The form parameters Vigil reads from Twilio's callbacks, for the OpenAPI document. Twilio sends
 * many more (AccountSid, ApiVersion…): they are signed with the rest and ignored.
 */
export const TWILIO_FORM_SCHEMA: OpenApiSchema = {
  type: 'object',
  additionalProperties: { type: 'string' },
  properties: {
    From: field('The sender (inbound SMS)', '+17135550123'),
    To: field('Vigil’s number', '+15005550006'),
    Body: field('The text (inbound SMS)', 'STOP'),
    MessageSid: field('The message', 'SM0123456789abcdef0123456789abcdef'),
    MessageStatus: field('Delivery report: queued, sent, delivered, undelivered, failed…', 'delivered'),
    ErrorCode: field("Twilio's error code on a failure", '30003'),
    CallSid: field('The call', 'CA0123456789abcdef0123456789abcdef'),
    CallStatus: field('Call report: ringing, in-progress, completed, busy, no-answer, failed…', 'completed'),
    AnsweredBy: field('Answering machine detection: human, machine_start, fax, unknown…', 'human'),
    CallDuration: field('Seconds the call lasted', '42'),
    Digits: field('Keys pressed (PIN entry)', '2468'),
  },
};

/** A Twilio callback's request body in the OpenAPI document: the signed form Twilio posts. */
export function ApiTwilioForm(): MethodDecorator {
  return applyDecorators(ApiConsumes('application/x-www-form-urlencoded'), ApiBody({ schema: TWILIO_FORM_SCHEMA }));
}
