import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../config/app-config.js';
import { ProblemDto } from './problem/problem.dto.js';

type Operation = OpenAPIObject['paths'][string]['get'] & object;

const DESCRIPTION = `Custody status notification exchange: custody events in, victim alerts out.

## Who calls what

- **Sources** (jail, detention and corrections systems) post custody events and whole rosters with their API key,
  \`Authorization: Bearer vgl_…\` (scheme \`source\`; an opaque key from \`POST /v1/admin/sources\`, not a JWT).
- **Staff** (specialists and admins) send the access token from \`POST /v1/auth/login\`, a JWT, as
  \`Authorization: Bearer …\` (scheme \`staff\`).
- **Victims** manage their own registration with the manage token returned once by \`POST /v1/registrations\`,
  \`Authorization: Bearer vmt_…\` (scheme \`manage-token\`); another registration's token answers 404.
- **Twilio** signs its callbacks with \`X-Twilio-Signature\` over \`PUBLIC_BASE_URL\` + path and query and the form
  parameters (scheme \`twilio\`).
- Searching, signing up and verifying a contact need no credentials (\`security: []\`); they are rate limited per client.

## Signing source requests (Standard Webhooks)

A source may sign every request, and must once an admin set \`signingRequired\`. It sends three headers:

- \`webhook-id\`: a unique id for the message, the same on every retry of it: a retry (same id, same body) is let through
  and its events answer \`duplicate\`; the same id with another body is refused (401, \`WEBHOOK_REPLAYED\`);
- \`webhook-timestamp\`: the Unix time in seconds when it was signed; more than 5 minutes off Vigil's clock is refused;
- \`webhook-signature\`: \`v1,\` followed by the base64 HMAC-SHA256 of \`{webhook-id}.{webhook-timestamp}.{raw body}\`,
  keyed with the base64-decoded part of the source's signing secret after its \`whsec_\` prefix. Several
  space-separated signatures may be sent; one match is enough.

There is no key-id header: the API key names the source, and a source has one signing secret. Headers present but
incomplete, a missing signature where one is required, a bad signature or a stale timestamp answer 401
(\`SIGNATURE_REQUIRED\`, \`SIGNATURE_INVALID\`).

## Unknown fields

Custody events (the event, its person and its facilities) and the people in a roster tolerate fields this description
does not name (vendors add them): they are accepted and ignored, and an event keeps them in its stored raw payload.
Every public, victim and staff route refuses unknown fields with 422, and so do the envelopes of those two source routes
(\`{events}\`, \`{asOf, people}\`). Twilio's callbacks read the fields they need from Twilio's form and ignore the rest.

## Errors

Every error is RFC 9457 \`application/problem+json\` (schema \`ProblemDto\`); a 422 lists each refused field in
\`errors\`, and a 429 or 503 carries \`Retry-After\`.`;

/** The API description served at /docs and /docs-json: decorators plus what is true of every route. */
export function buildApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Vigil')
      .setDescription(DESCRIPTION)
      .setVersion('1')
      .addServer(config.publicBaseUrl, 'This Vigil (PUBLIC_BASE_URL)')
      .addSecurity('source', {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'vgl_ API key',
        description:
          'The source’s API key (`vgl_…`), shown once when the source or key was made. Several keys may be active while rotating.',
      })
      .addSecurity('source-signature', {
        type: 'apiKey',
        in: 'header',
        name: 'webhook-signature',
        description:
          'Standard Webhooks signature, with `webhook-id` and `webhook-timestamp`: `v1,<base64 HMAC-SHA256(secret, id.timestamp.rawBody)>`, ' +
          '±5 minutes. Required when the source has `signingRequired`; checked whenever any of the three headers is sent.',
      })
      .addSecurity('staff', {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A staff access token from `POST /v1/auth/login`; disabling the account or resetting its password ends it at once.',
      })
      .addSecurity('manage-token', {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'vmt_ manage token',
        description: 'The registration’s manage token (`vmt_…`), returned once at sign-up and carried in the manage link of every alert.',
      })
      .addSecurity('twilio', {
        type: 'apiKey',
        in: 'header',
        name: 'X-Twilio-Signature',
        description: "Twilio's signature over PUBLIC_BASE_URL + path and query and the form parameters, with the account's auth token.",
      })
      .addSecurity('metrics-token', {
        type: 'http',
        scheme: 'bearer',
        description: 'METRICS_TOKEN, when it is set. Unset, `/metrics` answers loopback connections only, with no token.',
      })
      .addTag('ingestion', 'Custody events and rosters from sources')
      .addTag('people', 'Public search for a person in custody')
      .addTag('registrations', 'Victims’ registrations: sign-up, verification, management and the delivery ledger')
      .addTag('consent', 'Unsubscribe links and SMS keywords')
      .addTag('twilio', 'Callbacks from Twilio: delivery reports, call scripts and PIN entry')
      .addTag('auth', 'Staff sign-in')
      .addTag('enrollments', 'Specialists registering victims')
      .addTag('notifications', 'One notification in the ledger, and resending it')
      .addTag('escalations', 'Urgent alerts nobody confirmed in time')
      .addTag('services', 'The directory of services shared with victims')
      .addTag('admin', 'Sources, feeds, staff, protection, dead letters, reports and the audit log')
      .addTag('ops', 'Liveness and readiness')
      .build(),
    { extraModels: [ProblemDto] },
  );
  // package.json's licence: this API is not offered under an open one (npm's meaning of the word).
  document.info.license = { name: 'UNLICENSED', url: 'https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license' };
  for (const methods of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = methods[method];
      if (operation) addCommonErrors(operation);
    }
  }
  return document;
}

const COMMON_ERRORS = {
  400: 'MALFORMED_BODY: the body is not valid JSON, or could not be read',
  404: 'Nothing has that id (a malformed id answers the same)',
  413: 'BODY_TOO_LARGE: the body is over this route’s limit',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body is not in a media type this route reads',
  422: 'Validation failed: `errors` names every refused field, unknown ones included',
  503: 'DATABASE_UNAVAILABLE: the database is out of reach; try again after Retry-After',
} as const;

const EXAMPLES: Partial<Record<number, ProblemDto>> = {
  400: {
    type: 'urn:vigil:problem:malformed-body',
    title: 'Bad Request',
    status: 400,
    detail: 'The request body is not valid JSON.',
    code: 'MALFORMED_BODY',
  },
  422: {
    type: 'about:blank',
    title: 'Unprocessable Content',
    status: 422,
    detail: 'The request has invalid fields.',
    errors: [{ path: 'contacts[0].channel', message: 'must be one of the following values: email, sms, voice' }],
  },
  429: {
    type: 'urn:vigil:problem:rate-limited',
    title: 'Too Many Requests',
    status: 429,
    detail: 'Too many requests. Try again later.',
    code: 'RATE_LIMITED',
  },
  503: {
    type: 'urn:vigil:problem:database-unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: 'The service is temporarily unavailable. Try again shortly.',
    code: 'DATABASE_UNAVAILABLE',
  },
};

/**
 * One filter answers every error as problem+json, and the pipes, body parsers and database checks
 * apply to every route: their answers are added here rather than on each handler.
 */
function addCommonErrors(operation: Operation): void {
  const responses = operation.responses;
  const add = (status: keyof typeof COMMON_ERRORS) => (responses[status] ??= { description: COMMON_ERRORS[status] });
  const parameters = (operation.parameters ?? []) as { in?: string; schema?: { format?: string } }[];
  const body = operation.requestBody as { content?: Record<string, unknown> } | undefined;
  if (body?.content?.['application/json']) add(400);
  if (body) {
    add(413);
    add(415);
  }
  if (body || parameters.some((parameter) => parameter.in === 'query')) add(422);
  if (parameters.some((parameter) => parameter.in === 'path' && parameter.schema?.format === 'uuid')) add(404);
  // Only liveness answers without the database.
  if (operation.operationId !== 'HealthController_live') add(503);
  for (const [status, response] of Object.entries(responses)) {
    if (!response || Number(status) < 400 || '$ref' in response) continue;
    const example = EXAMPLES[Number(status)];
    // Whatever shape a library declares for its errors (terminus's 503), the filter answers problem+json.
    if (!response.content?.['application/problem+json']) {
      response.content = {
        'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) }, ...(example ? { example } : {}) },
      };
    }
    if (status === '429' || status === '503') {
      response.headers ??= {
        'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
      };
    }
  }
}
