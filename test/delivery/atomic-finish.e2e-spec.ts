import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { lockWaiters } from '../support/lock-waiters.js';
import { bookPerson } from '../support/registrations.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('an attempt and its delivery are finished together', () => {
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

  it('#review-delivery.1 no reader ever sees the ledger say an attempt ended while its delivery is still being sent', async () => {
    const personId = await bookPerson(t, source, 'ATOMIC-FINISH');
    const enrolled = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({ personId, language: 'en', contacts: [{ channel: 'email', address: 'atomic@example.test' }] });
    expect(enrolled.status, enrolled.text).toBe(201);
    const sent = await postEvents(t, source, event({ type: 'RELEASED', person: personWith('ATOMIC-FINISH') }));
    expect(sent.status, sent.text).toBe(202);
    const {
      rows: [delivery],
    } = await t.db.query(`SELECT d.id FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.event_id = $1`, [
      sent.body.results[0].eventId,
    ]);

    const dispatcher = t.app.get(DispatcherService);
    const batch = await dispatcher.claim(10);
    expect(batch.ids).toEqual([delivery.id]);
    // A status callback holds the delivery (as holdForReport does) while the batch records its outcome.
    const report = await t.db.connect();
    try {
      await report.query('BEGIN');
      await report.query(`SELECT 1 FROM delivery WHERE id = $1 FOR NO KEY UPDATE`, [delivery.id]);
      const sending = dispatcher.send(batch);
      await lockWaiters(t.db, 1);
      const { rows: seen } = await t.db.query(
        `SELECT d.status, a.outcome FROM delivery d JOIN delivery_attempt a ON a.delivery_id = d.id WHERE d.id = $1`,
        [delivery.id],
      );
      await report.query('COMMIT');
      await sending;
      expect(seen).toEqual([{ status: 'sending', outcome: null }]);
    } finally {
      report.release();
    }
    const { rows: after } = await t.db.query(
      `SELECT d.status, a.outcome FROM delivery d JOIN delivery_attempt a ON a.delivery_id = d.id WHERE d.id = $1`,
      [delivery.id],
    );
    expect(after).toEqual([{ status: 'sent', outcome: 'accepted' }]);
  });
});
