import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { createTestDatabase } from '../support/test-database.js';
import { spawnVigil, stopAllVigils, stopVigil, waitFor } from '../support/worker-process.js';

/** Queues `count` SMS verification deliveries straight into the database, each to its own number. */
async function seed(db: pg.Pool, cipher: FieldCipher, count: number): Promise<void> {
  const [{ id: personId }] = (
    await db.query(
      `INSERT INTO person (first_name, last_name, first_name_key, last_name_key) VALUES ('W', 'Orker', 'w', 'orker') RETURNING id`,
    )
  ).rows;
  const [{ id: registrationId }] = (
    await db.query(`INSERT INTO registration (person_id, language, manage_token_hash) VALUES ($1, 'en', $2) RETURNING id`, [
      personId,
      randomBytes(32),
    ])
  ).rows;
  const numbers = Array.from({ length: count }, (_, i) => `+1832${String(2_000_000 + i)}`);
  const contactIds = numbers.map(() => randomUUID());
  const deliveryIds = numbers.map(() => randomUUID());
  await db.query(
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
  await db.query(
    `INSERT INTO delivery (id, purpose, contact_id, channel, secret, due_at)
     SELECT d, 'verification', c, 'sms', s, now() FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(d, c, s)`,
    [deliveryIds, contactIds, deliveryIds.map((id) => cipher.encrypt('123456', 'delivery.secret', id))],
  );
}

describe('several worker processes on one database', () => {
  let twilio: FakeTwilio;
  const key = randomBytes(32);
  const cipher = new FieldCipher(key);

  beforeAll(async () => {
    twilio = new FakeTwilio();
    await twilio.start();
  });
  afterAll(async () => {
    await stopAllVigils();
    await twilio.stop();
  });

  const workerEnv = (url: string, extra: Record<string, string> = {}) => ({
    ROLE: 'worker',
    DATABASE_URL: url,
    MIGRATIONS_RUN: 'false',
    ENCRYPTION_KEY: key.toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_FROM_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: twilio.baseUrl,
    PUBLIC_BASE_URL: 'https://vigil.test',
    ...extra,
  });

  // Each test's own waits run longer than vitest's default 30 s, which cut them short on a busy machine.
  it('three workers share 3,000 deliveries and send each exactly once', async () => {
    const url = await createTestDatabase();
    const db = new pg.Pool({ connectionString: url, max: 2 });
    await seed(db, cipher, 3000);
    twilio.requests.length = 0;
    const workers = [spawnVigil(workerEnv(url)), spawnVigil(workerEnv(url)), spawnVigil(workerEnv(url))];
    try {
      const sent = async () => Number((await db.query(`SELECT count(*) FROM delivery WHERE status = 'sent'`)).rows[0].count);
      await waitFor(
        async () => (await sent()) === 3000,
        120_000,
        async () =>
          `${await sent()} sent; worker output: ${workers
            .map((w) => w.output.join(''))
            .join('\n---\n')
            .slice(-2000)}`,
      );
      const numbers = twilio.requests.map((r) => r.params.To);
      expect(numbers).toHaveLength(3000);
      expect(new Set(numbers).size).toBe(3000);
      const attempts = await db.query(`SELECT count(*)::int AS n, max(attempt_no) AS top FROM delivery_attempt`);
      expect(attempts.rows[0]).toEqual({ n: 3000, top: 1 });
      const owners = await db.query(`SELECT count(DISTINCT provider_message_id)::int AS n FROM delivery`);
      expect(owners.rows[0].n).toBe(3000);
    } finally {
      await Promise.all(workers.map((w) => stopVigil(w)));
      await db.end();
    }
  }, 180_000);

  it('a worker killed with SIGKILL while holding leases: another finishes its work, nothing is lost', async () => {
    const url = await createTestDatabase();
    const db = new pg.Pool({ connectionString: url, max: 2 });
    await seed(db, cipher, 200);
    twilio.requests.length = 0;
    twilio.delayMs = 400;
    const doomed = spawnVigil(workerEnv(url, { DELIVERY_LEASE_SECONDS: '3' }));
    try {
      await waitFor(
        async () => Number((await db.query(`SELECT count(*) FROM delivery WHERE status = 'sending'`)).rows[0].count) > 0,
        30_000,
        () => Promise.resolve(doomed.output.join('')),
      );
      await stopVigil(doomed, 'SIGKILL');
      const held = Number((await db.query(`SELECT count(*) FROM delivery WHERE status = 'sending'`)).rows[0].count);
      expect(held).toBeGreaterThan(0);
    } finally {
      await stopVigil(doomed, 'SIGKILL');
    }
    twilio.delayMs = 0;
    const rescuer = spawnVigil(workerEnv(url, { DELIVERY_LEASE_SECONDS: '3' }));
    try {
      const sent = async () => Number((await db.query(`SELECT count(*) FROM delivery WHERE status = 'sent'`)).rows[0].count);
      await waitFor(
        async () => (await sent()) === 200,
        60_000,
        async () => `${await sent()} sent; ${rescuer.output.join('').slice(-2000)}`,
      );
      // Every number got its message; only those in flight at the kill may have had a second one.
      const numbers = twilio.requests.map((r) => r.params.To);
      expect(new Set(numbers).size).toBe(200);
      const unfinished = await db.query(`SELECT count(*)::int AS n FROM delivery_attempt WHERE outcome IS NULL`);
      expect(numbers.length - 200).toBeLessThanOrEqual(unfinished.rows[0].n);
    } finally {
      await stopVigil(rescuer);
      await db.end();
    }
  }, 120_000);
});
