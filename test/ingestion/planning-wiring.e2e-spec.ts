import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreModule } from '../../src/app.module.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { custodyEventSchema } from '../../src/ingestion/custody-event.schema.js';
import { CustodyEventsService } from '../../src/ingestion/custody-events.service.js';
import { IngestionModule } from '../../src/ingestion/ingestion.module.js';
import type { AuthenticatedSource } from '../../src/sources/sources.service.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Planning is part of ingestion's wiring, not something it may find: an event for a registered person
 * that planned nothing would be acknowledged (202) and alert nobody, and nothing would say so.
 */
describe('#11.21 planning is wired into ingestion', () => {
  let t: TestApp;
  let source: TestSource;
  let specialist: string;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(async () => {
    await t.close();
  });

  /** A person with one registration and one verified (attested) email contact. */
  async function registered(identifier: string): Promise<void> {
    const personId = await bookPerson(t, source, identifier);
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address: `${identifier.toLowerCase()}@example.org` }] });
    expect(res.status).toBe(201);
  }

  /** Records a release through the ingestion service of `app`, as the HTTP route does. */
  async function releaseThrough(app: { get: (type: typeof CustodyEventsService) => CustodyEventsService }, identifier: string) {
    const raw = event({ person: personWith(identifier), type: 'RELEASED' });
    const authenticated: AuthenticatedSource = {
      id: source.sourceId,
      name: 'test',
      facilityCodes: null,
      signingRequired: false,
      signingSecret: source.signingSecret,
    };
    const [result] = await app
      .get(CustodyEventsService)
      .ingest({ source: authenticated }, [{ dto: custodyEventSchema.parse(raw), raw, path: '' }]);
    return result;
  }

  it('#11.21 the ingestion module on its own plans a notification for a registered person (its planner is imported, not optional)', async () => {
    await registered('WIRE-ALONE');
    @Module({
      imports: [
        CoreModule.forRoot(t.config, {}),
        TypeOrmModule.forRoot({ ...dataSourceOptions(t.config.database.url!), autoLoadEntities: true, migrationsRun: false }),
        ScheduleModule.forRoot(),
        IngestionModule,
      ],
    })
    class IngestionOnly {}
    const app = await NestFactory.createApplicationContext(IngestionOnly, { logger: false, abortOnError: false });
    try {
      const result = await releaseThrough(app, 'WIRE-ALONE');
      expect(result.status).toBe('accepted');
      expect(result.notificationsPlanned).toBe(1);
    } finally {
      await app.close();
    }
  });

  it.each(['api', 'worker', 'all'])(
    '#11.21 ROLE=%s wires planning: an event for a registered person plans its notification',
    async (role) => {
      const identifier = `WIRE-${role.toUpperCase()}`;
      await registered(identifier);
      const other = await startTestApp({
        databaseUrl: t.config.database.url!,
        env: { ROLE: role, ENCRYPTION_KEY: t.config.security.encryptionKey.toString('base64') },
      });
      try {
        const result = await releaseThrough(other.app, identifier);
        expect(result.notificationsPlanned).toBe(1);
      } finally {
        await other.close();
      }
    },
  );
});
