import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { testNow } from './manual-clock.js';
import type { TestApp } from './test-app.js';

export interface TestSource {
  sourceId: string;
  apiKey: string;
  signingSecret: string;
}

export async function createSource(
  t: TestApp,
  body: { name?: string; facilityCodes?: string[]; signingRequired?: boolean; expectedIntervalSeconds?: number } = {},
): Promise<TestSource> {
  const res = await t
    .http()
    .post('/v1/admin/sources')
    .set('Authorization', `Bearer ${await t.adminToken()}`)
    .send({ name: `Source ${randomUUID()}`, ...body });
  if (res.status !== 201) throw new Error(`creating a source answered ${res.status}: ${res.text}`);
  return res.body as TestSource;
}

let counter = 0;

export interface EventOverrides {
  sourceEventId?: string;
  type?: string;
  occurredAt?: string;
  person?: Record<string, unknown>;
  facility?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A valid BOOKED event for a person known by one A_NUMBER; override any part. */
export function event(overrides: EventOverrides = {}): Record<string, unknown> {
  counter++;
  return {
    sourceEventId: `evt-${randomUUID()}`,
    type: 'BOOKED',
    occurredAt: new Date(testNow().getTime() - 60_000).toISOString(),
    person: {
      identifiers: [{ system: 'A_NUMBER', value: `A${String(counter).padStart(3, '0')}${randomUUID().slice(0, 6)}` }],
      firstName: 'John',
      lastName: 'Doe',
    },
    facility: { code: 'HCJ-1', name: 'Harris County Jail' },
    ...overrides,
  };
}

export function personWith(value: string, extra: Record<string, unknown> = {}, system = 'A_NUMBER'): Record<string, unknown> {
  return { identifiers: [{ system, value }], firstName: 'John', lastName: 'Doe', ...extra };
}

/** POST /v1/custody-events as a source, optionally signed with Standard Webhooks headers. */
export function postEvents(
  t: TestApp,
  source: TestSource,
  body: unknown,
  options: { sign?: boolean; webhookId?: string; timestamp?: Date; secret?: string } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const req = t.http().post('/v1/custody-events').set('Authorization', `Bearer ${source.apiKey}`).set('Content-Type', 'application/json');
  if (options.sign) {
    for (const [name, value] of Object.entries(
      signature(options.secret ?? source.signingSecret, raw, options.webhookId, options.timestamp),
    )) {
      req.set(name, value);
    }
  }
  return req.send(raw);
}

export function signature(secret: string, raw: string, webhookId = `msg_${randomUUID()}`, timestamp = testNow()): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(webhookId, timestamp, raw),
  };
}

export function putRoster(t: TestApp, source: TestSource, code: string, body: unknown) {
  return t
    .http()
    .put(`/v1/facilities/${code}/roster`)
    .set('Authorization', `Bearer ${source.apiKey}`)
    .send(body as object);
}
