import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Response {
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  responses: Record<string, Response>;
}
interface Document {
  info: { description?: string };
  servers?: { url: string }[];
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: {
    securitySchemes: Record<string, Record<string, string>>;
    schemas: Record<string, { properties?: Record<string, unknown> }>;
  };
}

interface LintResult {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

describe('#15 OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  const operations: [string, Operation][] = [];

  beforeAll(async () => {
    // The servers entry is PUBLIC_BASE_URL; the default (localhost) is what Redocly warns about.
    t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://vigil.test' } });
    const res = await t.http().get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as Document;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const operation = methods[method];
        if (operation) operations.push([`${method.toUpperCase()} ${path}`, operation]);
      }
    }
  });
  afterAll(() => t.close());

  it('#15 every operation has a summary, a description, a security declaration and a 2xx/3xx answer with a schema', () => {
    expect(operations.length).toBeGreaterThan(40);
    const missing = operations.flatMap(([name, op]) => {
      const faults: string[] = [];
      if (!op.summary?.trim()) faults.push('summary');
      if (!op.description?.trim()) faults.push('description');
      if (!Array.isArray(op.security)) faults.push('security');
      const success = Object.entries(op.responses).filter(([status]) => /^[23]\d\d$/.test(status));
      if (!success.length) faults.push('no 2xx/3xx response');
      for (const [status, response] of success) {
        if (status === '204') {
          if (response.content) faults.push('204 with a body');
          continue;
        }
        const media = Object.values(response.content ?? {});
        if (!media.length || media.some((m) => !m.schema)) faults.push(`${status} without a schema`);
      }
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        if (!response.content?.['application/problem+json']) faults.push(`${status} not problem+json`);
      }
      const templated = [...name.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const param of templated) {
        if (!op.parameters?.some((p) => p.in === 'path' && p.name === param)) faults.push(`path parameter ${param} undeclared`);
      }
      return faults.length ? [`${name}: ${faults.join(', ')}`] : [];
    });
    expect(missing).toEqual([]);
  });

  it('#15 security schemes say how each caller really authenticates; public routes declare none', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.staff).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(schemes.source).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.source.bearerFormat).not.toBe('JWT');
    expect(schemes['source-signature']).toMatchObject({ type: 'apiKey', in: 'header', name: 'webhook-signature' });
    expect(schemes['manage-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes['manage-token'].bearerFormat).not.toBe('JWT');
    expect(schemes.twilio).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Twilio-Signature' });

    const security = (name: string) => operations.find(([n]) => n === name)?.[1].security;
    expect(security('POST /v1/custody-events')).toContainEqual({ source: [], 'source-signature': [] });
    expect(security('PUT /v1/facilities/{code}/roster')).toContainEqual({ source: [], 'source-signature': [] });
    expect(security('GET /v1/registrations/{id}')).toContainEqual({ 'manage-token': [] });
    expect(security('GET /v1/registrations/{id}/notifications')).toContainEqual({ 'manage-token': [] });
    expect(security('GET /v1/enrollments')).toEqual([{ staff: [] }]);
    expect(security('POST /v1/webhooks/twilio/sms-inbound')).toEqual([{ twilio: [] }]);
    expect(security('POST /v1/webhooks/twilio/status/{deliveryId}')).toEqual([{ twilio: [] }]);
    for (const name of ['GET /v1/people', 'POST /v1/registrations', 'POST /v1/auth/login', 'GET /health/live']) {
      expect(security(name), name).toEqual([]);
    }
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.description).toMatch(/webhook-signature/);
    expect(doc.info.description).toMatch(/422/);
  });

  it('#15 answers are described as they are sent: enrollments an object, the ledger its notifications, deliveries and attempts', () => {
    const schemaOf = (name: string, status: string) => {
      const op = operations.find(([n]) => n === name)?.[1];
      return op?.responses[status]?.content?.['application/json']?.schema as { $ref?: string; type?: string } | undefined;
    };
    const resolve = (schema: { $ref?: string } | undefined) =>
      doc.components.schemas[String(schema?.$ref).replace('#/components/schemas/', '')];
    const enrollments = schemaOf('GET /v1/enrollments', '200');
    expect(enrollments?.type).not.toBe('array');
    expect(Object.keys(resolve(enrollments)?.properties ?? {})).toEqual(['enrollments']);
    const ledger = resolve(schemaOf('GET /v1/registrations/{id}/notifications', '200'));
    expect(Object.keys(ledger?.properties ?? {})).toEqual(['notifications']);
    const notification = doc.components.schemas.NotificationViewDto;
    expect(notification?.properties).toHaveProperty('deliveries');
    expect(doc.components.schemas.DeliveryViewDto?.properties).toHaveProperty('attempts');
    expect(doc.components.schemas.AttemptViewDto?.properties).toHaveProperty('outcome');
    expect(resolve(schemaOf('GET /v1/admin/roster-snapshots', '200'))?.properties).toHaveProperty('snapshots');
  });

  it('#15 the Redocly CLI (recommended rules) finds no error and no warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-openapi-'));
    try {
      await writeFile(join(dir, 'openapi.json'), JSON.stringify(doc, null, 2));
      await writeFile(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
      const lint = await promisify(execFile)(
        join(process.cwd(), 'node_modules/.bin/redocly'),
        ['lint', 'openapi.json', '--config', 'redocly.yaml', '--format', 'json'],
        {
          cwd: dir,
          // Offline: no telemetry, no update check.
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' },
          maxBuffer: 64 * 1024 * 1024,
        },
      ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      const result = JSON.parse(lint.stdout) as LintResult;
      const problems = result.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
      expect(problems).toEqual([]);
      expect(result.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
