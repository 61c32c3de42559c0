import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { FeedHealthService } from '../../src/sources/feed-health.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { createSource, event, personWith, postEvents, putRoster } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('feed health', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-11-26T12:00:00Z'));
  beforeAll(async () => {
    t = await startTestApp({ clock });
  });
  afterAll(() => t.close());

  const feedOf = async (sourceId: string) => {
    const res = await t
      .http()
      .get('/v1/admin/feeds')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    return res.body.find((f: { sourceId: string }) => f.sourceId === sourceId);
  };
  const alerts = async (sourceId: string) =>
    (await t.db.query(`SELECT kind FROM feed_alert WHERE source_id = $1 ORDER BY created_at, kind`, [sourceId])).rows.map((r) => r.kind);

  it('marks a silent feed stale once, alerts once per outage, and again on recovery', async () => {
    const checker = t.app.get(FeedHealthService);
    const source = await createSource(t, { expectedIntervalSeconds: 60 });
    const at = (iso: string) => event({ occurredAt: iso });
    expect((await postEvents(t, source, at('2026-11-26T11:59:00Z'))).status).toBe(202);

    clock.advance(30_000);
    await checker.check();
    expect(await feedOf(source.sourceId)).toMatchObject({ stale: false, staleSince: null, expectedIntervalSeconds: 60 });

    clock.advance(31_000);
    const transitions = await checker.check();
    expect(transitions.filter((x) => x.sourceId === source.sourceId)).toEqual([
      { sourceId: source.sourceId, name: expect.any(String), kind: 'stale', lastContactAt: expect.any(Date) },
    ]);
    expect(await feedOf(source.sourceId)).toMatchObject({ stale: true, staleSince: '2026-11-26T12:01:01.000Z' });

    clock.advance(600_000);
    await Promise.all([checker.check(), checker.check(), checker.check()]);
    expect(await alerts(source.sourceId)).toEqual(['stale']);
    expect(t.logs.some((line) => line.includes('feed is stale') && line.includes(source.sourceId))).toBe(true);

    expect((await postEvents(t, source, at('2026-11-26T12:10:00Z'))).status).toBe(202);
    expect((await feedOf(source.sourceId)).stale).toBe(false);
    await checker.check();
    await checker.check();
    expect(await alerts(source.sourceId)).toEqual(['stale', 'recovered']);
    expect((await feedOf(source.sourceId)).staleSince).toBeNull();
  });

  it('a source that never called is stale after its interval from creation; one without an interval never is', async () => {
    const checker = t.app.get(FeedHealthService);
    const silent = await createSource(t, { expectedIntervalSeconds: 1 });
    const relaxed = await createSource(t);
    clock.advance(5_000);
    await checker.check();
    expect(await alerts(silent.sourceId)).toEqual(['stale']);
    expect(await alerts(relaxed.sourceId)).toEqual([]);
    expect((await feedOf(relaxed.sourceId)).stale).toBe(false);
  });

  it('a facility whose roster stops arriving is an outage of its own while its source reports others', async () => {
    const checker = t.app.get(FeedHealthService);
    const source = await createSource(t, { expectedIntervalSeconds: 600 });
    const roster = (code: string) =>
      putRoster(t, source, code, { asOf: clock.now().toISOString(), people: [personWith(`${code}-1`), personWith(`${code}-2`)] });
    expect((await roster('FEED-A')).status).toBe(202);
    expect((await roster('FEED-B')).status).toBe(202);
    await checker.check();

    clock.advance(300_000);
    expect((await roster('FEED-A')).status).toBe(202);
    clock.advance(400_000);
    const transitions = (await checker.check()).filter((x) => x.sourceId === source.sourceId);
    expect(transitions).toEqual([expect.objectContaining({ kind: 'stale', facility: { id: expect.any(String), code: 'FEED-B' } })]);
    const feed = await feedOf(source.sourceId);
    expect(feed.stale).toBe(false);
    expect(feed.facilities.map((f: { code: string; stale: boolean }) => [f.code, f.stale])).toEqual([
      ['FEED-A', false],
      ['FEED-B', true],
    ]);
    await checker.check();
    expect(await alerts(source.sourceId)).toEqual(['stale']);
    // Admins are emailed through the delivery pipeline (the dev outbox here), naming the facility.
    await t.app.get(DispatcherService).drain();
    // Subjects are stored encrypted: read them as an admin does.
    const outbox = await t
      .http()
      .get('/dev/outbox')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    const subjects = outbox.body.messages
      .filter((m: { channel: string }) => m.channel === 'email')
      .map((m: { subject: string }) => m.subject);
    expect(subjects).toContain(`Vigil feed STALE: ${feed.name}, facility FEED-B`);

    clock.advance(1_000);
    expect((await roster('FEED-B')).status).toBe(202);
    await checker.check();
    expect(await alerts(source.sourceId)).toEqual(['stale', 'recovered']);
  });
});
