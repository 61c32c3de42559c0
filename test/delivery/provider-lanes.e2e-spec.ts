import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { startProviders, type Providers } from '../support/providers.js';
import { bookPerson } from '../support/registrations.js';
import { enrol } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';
import { spawnVigil, stopAllVigils, stopVigil, waitFor } from '../support/worker-process.js';

/** Enough SMS to fill the two batches a worker holds at once and more, all due before the email. */
const STALLED_SMS = 600;
/** Half the Twilio client's own timeout: an email that waited for a stalled attempt cannot arrive this soon. */
const EMAIL_WITHIN_MS = 10_000;

/** Queues `count` SMS verification messages straight into the database, due a minute ago, each to its own number. */
async function queueSms(t: TestApp, count: number): Promise<void> {
  const cipher = t.app.get(FieldCipher);
  const [{ id: personId }] = (
    await t.db.query(
      `INSERT INTO person (first_name, last_name, first_name_key, last_name_key) VALUES ('S', 'Talled', 's', 'talled') RETURNING id`,
    )
  ).rows;
  const [{ id: registrationId }] = (
    await t.db.query(`INSERT INTO registration (person_id, language, manage_token_hash) VALUES ($1, 'en', $2) RETURNING id`, [
      personId,
      randomBytes(32),
    ])
  ).rows;
  const numbers = Array.from({ length: count }, (_, i) => `+1832${String(3_000_000 + i)}`);
  const contactIds = numbers.map(() => randomUUID());
  const deliveryIds = numbers.map(() => randomUUID());
  await t.db.query(
    `INSERT INTO contact (id, registration_id, position, channel, address, address_index, key_id)
     SELECT c, $1, n, 'sms', a, i, $4 FROM unnest($5::uuid[], $2::text[], $3::bytea[]) WITH ORDINALITY AS v(c, a, i, n)`,
    [
      registrationId,
      numbers.map((n, i) => cipher.encrypt(n, 'contact.address', contactIds[i])),
      numbers.map(() => randomBytes(32)),
      cipher.currentKeyId,
      contactIds,
    ],
  );
  await t.db.query(
    `INSERT INTO delivery (id, purpose, contact_id, channel, secret, due_at)
     SELECT d, 'verification', c, 'sms', s, now() - interval '1 minute' FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(d, c, s)`,
    [deliveryIds, contactIds, deliveryIds.map((id) => cipher.encrypt('123456', 'delivery.secret', id))],
  );
}

/**
 * A provider's outage delays only its own channels: email and the Twilio channels (SMS, voice) are
 * claimed and sent apart, so an email alert never waits behind phone attempts that hang until the
 * Twilio client gives up.
 */
describe('a Twilio outage and the email alerts', () => {
  let providers: Providers;
  let t: TestApp;
  let databaseUrl: string;
  const secrets = { ENCRYPTION_KEY: randomBytes(32).toString('base64'), JWT_SECRET: randomBytes(32).toString('hex') };

  beforeAll(async () => {
    providers = await startProviders();
    // This app only sets the scene (its dispatcher waits to be drained); a worker process sends, as in production.
    databaseUrl = await createTestDatabase();
    t = await startTestApp({ databaseUrl, env: { ...providers.env, ...secrets, PUBLIC_BASE_URL: 'https://vigil.test' } });
  });
  afterAll(async () => {
    await stopAllVigils();
    await t.close();
    await providers.stop();
  });

  it('#12 Twilio stalls with hundreds of SMS due first: a release email reaches the victim long before the stalled attempts time out', async () => {
    const source = await createSource(t);
    const specialist = await t.staffToken('specialist');
    const personId = await bookPerson(t, source, 'LANES-1');
    await enrol(t, specialist, personId, 'lanes.victim@example.org');
    await t.app.get(DispatcherService).drain();
    const before = providers.smtp.to('lanes.victim@example.org').length;

    await queueSms(t, STALLED_SMS);
    const release = providers.twilio.hold();
    const worker = spawnVigil({
      ...providers.env,
      ...secrets,
      ROLE: 'worker',
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      PUBLIC_BASE_URL: 'https://vigil.test',
    });
    try {
      // The worker is up and its Twilio attempts hang: from here the email must not wait for them.
      await waitFor(
        () => Promise.resolve(providers.twilio.requests.length > 0),
        60_000,
        () => Promise.resolve(worker.output.join('').slice(-2000)),
      );
      const res = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('LANES-1') }));
      expect(res.status).toBe(202);
      const planned = Date.now();
      await waitFor(
        () => Promise.resolve(providers.smtp.to('lanes.victim@example.org').length > before),
        EMAIL_WITHIN_MS,
        async () => {
          const { rows } = await t.db.query(
            `SELECT channel, status, count(*)::int AS n FROM delivery WHERE purpose = 'alert' OR channel = 'sms' GROUP BY 1, 2 ORDER BY 1, 2`,
          );
          return `no release email after ${Date.now() - planned} ms; deliveries: ${JSON.stringify(rows)}; Twilio requests in flight: ${providers.twilio.requests.length}`;
        },
      );
      // Every Twilio attempt was still hanging when the email went: the email did not wait for any of them.
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id WHERE d.channel = 'sms' AND a.outcome IS NOT NULL`,
      );
      expect(rows[0].n).toBe(0);
      expect(providers.smtp.to('lanes.victim@example.org').at(-1)?.text).toMatch(/released/i);
    } finally {
      release();
      await stopVigil(worker, 'SIGKILL');
    }
  }, 120_000);
});
