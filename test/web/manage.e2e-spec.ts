import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatcherService } from '../../src/delivery/dispatcher.service.js';
import { ManualClock } from '../support/manual-clock.js';
import { bookPerson, register } from '../support/registrations.js';
import { notifiedByType } from '../support/roster-people.js';
import { createSource, event, personWith, postEvents, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The cookies a response set, merged over the ones a browser already holds (a cleared one goes). */
function withCookies(jar: Record<string, string>, res: { headers: Record<string, unknown> }): Record<string, string> {
  const next = { ...jar };
  for (const line of (res.headers['set-cookie'] as string[] | undefined) ?? []) {
    const [pair] = line.split(';', 1);
    const at = pair.indexOf('=');
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    if (!value || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) delete next[name];
    else next[name] = value;
  }
  return next;
}

const header = (jar: Record<string, string>) =>
  Object.entries(jar)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

describe('#13 manage: the link in every alert opens the victim’s own page', () => {
  let t: TestApp;
  let source: TestSource;
  let specialist: string;
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestApp({ clock });
    source = await createSource(t);
    specialist = await t.staffToken('specialist');
  });
  afterAll(() => t.close());

  /** A victim enrolled with an email and an SMS contact for a newly booked person; their email. */
  async function enrolled(identifier: string, language = 'en') {
    const personId = await bookPerson(t, source, identifier, { firstName: 'Ramon', lastName: 'Castillo' });
    const email = `victim-${randomBytes(4).toString('hex')}@example.org`;
    const sms = `+1713555${String(Math.floor(Math.random() * 9000) + 1000)}`;
    const res = await t
      .http()
      .post('/v1/enrollments')
      .set('Authorization', `Bearer ${specialist}`)
      .send({
        personId,
        language,
        contacts: [
          { channel: 'email', address: email },
          { channel: 'sms', address: sms },
        ],
      });
    expect(res.status, res.text).toBe(201);
    return { personId, email, sms, registrationId: res.body.registrationId as string, manageToken: res.body.manageToken as string };
  }

  async function release(identifier: string) {
    const res = await postEvents(
      t,
      source,
      event({ type: 'RELEASED', person: personWith(identifier, { firstName: 'Ramon', lastName: 'Castillo' }) }),
    );
    expect(res.status, res.text).toBe(202);
    await t.app.get(DispatcherService).drain();
  }

  /** The real messages that went to an address, newest first. */
  async function messagesTo(to: string): Promise<{ channel: string; subject: string | null; body: string }[]> {
    const outbox = await t
      .http()
      .get('/dev/outbox')
      .set('Authorization', `Bearer ${await t.adminToken()}`);
    expect(outbox.status).toBe(200);
    return (outbox.body.messages as { to: string; channel: string; subject: string | null; body: string }[]).filter((m) => m.to === to);
  }

  /** Follows the manage link as a browser does; the cookie jar it ends with. */
  async function openLink(link: string): Promise<Record<string, string>> {
    const url = new URL(link);
    const res = await t.http().get(`${url.pathname}${url.search}`);
    expect(res.status, res.text).toBe(303);
    return withCookies({}, res);
  }

  it('#13.1 #13.2 #13.3 a RELEASED alert’s email link opens the manage page (303, token gone), showing that alert and its delivery', async () => {
    const victim = await enrolled('A-731-000-001');
    await release('A-731-000-001');
    const [mail] = (await messagesTo(victim.email)).filter((m) => m.channel === 'email');
    const link = /https?:\/\/\S+\/en\/manage\?token=[A-Za-z0-9_%-]+/.exec(mail.body)?.[0];
    expect(link, mail.body).toBeDefined();
    expect(decodeURIComponent(new URL(link!).searchParams.get('token')!)).toBe(victim.manageToken);
    const [text] = (await messagesTo(victim.sms)).filter((m) => m.channel === 'sms');
    expect(text.body, '#13.1 the SMS carries the manage link too').toContain(link);

    const url = new URL(link!);
    const opened = await t.http().get(`${url.pathname}${url.search}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/en/manage');
    expect(opened.headers['cache-control']).toBe('no-store');
    expect(opened.headers['referrer-policy']).toBe('no-referrer');
    const session = (opened.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('vigil_session='));
    expect(session).toMatch(/HttpOnly/i);
    expect(session).not.toContain(victim.manageToken);
    const jar = withCookies({}, opened);

    const page = await t.http().get('/en/manage').set('Cookie', header(jar));
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Ramon Castillo');
    expect(/<title>([^<]*)<\/title>/.exec(page.text)![1]).not.toContain('Castillo');
    const alert = /<li class="alert" data-event-type="RELEASED"[^>]*>([\s\S]*?)<\/ol>/.exec(page.text)?.[1];
    expect(alert, page.text).toBeDefined();
    expect(alert).toMatch(/data-channel="email" data-status="sent"[\s\S]*?<strong>sent<\/strong>/);
    expect(alert).toMatch(/data-channel="sms"/);
    // Addresses masked, never in clear.
    expect(page.text).not.toContain(victim.email);
    expect(page.text).not.toContain(victim.sms);
    expect(page.text).not.toContain(victim.manageToken);

    // The alert time in the registrant's language: the Spanish page says it in Spanish.
    const es = await t.http().get('/es/manage').set('Cookie', header(jar));
    expect(es.text).toContain('enviado');
    expect(es.text).toContain('Puesta en libertad');
  });

  it('#13.1 no manage token, nor its query string, appears in any log line', async () => {
    const victim = await enrolled('A-731-000-002');
    await release('A-731-000-002');
    const mail = (await messagesTo(victim.email)).find((m) => m.channel === 'email')!;
    const link = /https?:\/\/\S+\/en\/manage\?token=\S+/.exec(mail.body)![0];
    await openLink(link);
    await t.http().get('/en/manage?token=vmt_madeUpButLoggedNowhere');
    const lines = t.logs.filter((line) => line.includes('/en/manage'));
    expect(lines.length, 'the manage requests are logged').toBeGreaterThan(0);
    for (const line of t.logs) {
      expect(line).not.toContain(victim.manageToken);
      expect(line).not.toContain(encodeURIComponent(victim.manageToken));
      expect(line).not.toContain('vmt_madeUpButLoggedNowhere');
      expect(line).not.toContain('token=');
    }
  });

  it('#13.1 a registration from before manage tokens were kept gets alerts that link to the help page', async () => {
    const victim = await enrolled('A-731-000-003', 'es');
    await t.db.query(`UPDATE registration SET manage_token = NULL WHERE id = $1`, [victim.registrationId]);
    await release('A-731-000-003');
    const mail = (await messagesTo(victim.email)).find((m) => m.channel === 'email')!;
    expect(mail.body).toMatch(/https?:\/\/\S+\/es\/help(\s|$)/);
    expect(mail.body).not.toContain('manage?token');
  });

  it('#13.2 a made-up token, another form of token and a stopped registration’s token get the same 404 page', async () => {
    const stopped = await enrolled('A-731-000-004');
    const del = await t.http().delete(`/v1/registrations/${stopped.registrationId}`).set('Authorization', `Bearer ${stopped.manageToken}`);
    expect(del.status).toBe(204);
    const answers = [];
    for (const token of [stopped.manageToken, `vmt_${randomBytes(32).toString('base64url')}`, 'not-a-token', '', "' OR 1=1 --"]) {
      const res = await t.http().get('/en/manage').query({ token });
      expect(res.status, token).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect((res.headers['set-cookie'] as unknown as string[] | undefined)?.some((c) => c.startsWith('vigil_session=')) ?? false).toBe(
        false,
      );
      answers.push(res.text);
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain('This link does not work');
  });

  it('#13.2 without a session the manage page says to open the link in an alert (401) with a line to call; a forged cookie is no session', async () => {
    for (const cookie of ['', 'vigil_session=v2.abc.def', 'vigil_session=%00%00']) {
      const res = await t.http().get('/es/manage').set('Cookie', cookie);
      expect(res.status).toBe(401);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toContain('Abra el enlace de uno de sus avisos');
      expect(res.text).toContain('href="tel:+18554886423"');
      expect(res.text).toContain('id="quick-exit"');
    }
    expect((await t.http().get('/en/manage/stop')).status).toBe(401);
  });

  it('#13.3 events, quiet hours and language change through the forms; mistakes are shown next to their fields', async () => {
    const victim = await enrolled('A-731-000-005');
    let jar = await openLink(`http://x/en/manage?token=${victim.manageToken}`);
    const page = await t.http().get('/en/manage').set('Cookie', header(jar));
    jar = withCookies(jar, page);
    const csrf = csrfOf(page.text);
    const post = (path: string, body: string) =>
      t
        .http()
        .post(path)
        .set('Cookie', header(jar))
        .type('form')
        .send(`_csrf=${encodeURIComponent(csrf)}&${body}`);

    const events = await post('/en/manage/events', 'eventTypes=RELEASED&eventTypes=ESCAPED&eventTypes=NOT_AN_EVENT');
    expect(events.status, events.text).toBe(303);
    expect(events.headers.location).toBe('/en/manage?saved=events');
    const stored = await t.db.query(`SELECT event_types, quiet_hours, language FROM registration WHERE id = $1`, [victim.registrationId]);
    expect(stored.rows[0].event_types).toEqual(['RELEASED', 'ESCAPED']);
    const saved = await t.http().get(events.headers.location).set('Cookie', header(jar));
    expect(saved.text).toMatch(/role="status" data-saved="events"><p>Your events were saved\./);
    expect(saved.text).toMatch(/value="RELEASED" id="field-eventTypes-RELEASED" checked/);

    const wrong = await post('/en/manage/quiet-hours', 'quietStart=25:00&quietEnd=&timeZone=Mars%2FOlympus');
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('value="25:00"');
    expect(wrong.text).toMatch(/id="field-quietStart"[^>]*aria-describedby="error-quietStart"[^>]*aria-invalid="true"[^>]*autofocus/);
    expect(wrong.text).toMatch(/id="error-quietEnd">Enter the end as hours and minutes/);
    expect(wrong.text).toMatch(/id="error-timeZone">Choose your time zone\./);

    const quiet = await post('/en/manage/quiet-hours', 'quietStart=22:00&quietEnd=07:00&timeZone=America%2FDenver');
    expect(quiet.status).toBe(303);
    expect((await t.db.query(`SELECT quiet_hours FROM registration WHERE id = $1`, [victim.registrationId])).rows[0].quiet_hours).toEqual({
      start: '22:00',
      end: '07:00',
      timeZone: 'America/Denver',
    });
    const none = await post('/en/manage/quiet-hours', 'quietStart=&quietEnd=&timeZone=America%2FDenver');
    expect(none.status).toBe(303);
    expect(
      (await t.db.query(`SELECT quiet_hours FROM registration WHERE id = $1`, [victim.registrationId])).rows[0].quiet_hours,
    ).toBeNull();

    const badLanguage = await post('/en/manage/language', 'language=fr');
    expect(badLanguage.status).toBe(422);
    expect(badLanguage.text).toContain('id="error-language"');
    const language = await post('/en/manage/language', 'language=es');
    expect(language.status).toBe(303);
    expect(language.headers.location).toBe('/es/manage?saved=language');
    expect((await t.db.query(`SELECT language FROM registration WHERE id = $1`, [victim.registrationId])).rows[0].language).toBe('es');
    const spanish = await t.http().get(language.headers.location).set('Cookie', header(jar));
    expect(spanish.text).toContain('Se cambió su idioma.');
  });

  it('#13.3 a code can be sent again to an unverified contact, limited as in the API', async () => {
    const personId = await bookPerson(t, source, 'A-731-000-006');
    const email = `pending-${randomBytes(4).toString('hex')}@example.org`;
    const created = await register(t, { personId, language: 'en', contacts: [{ channel: 'email', address: email }] });
    expect(created.status, created.text).toBe(201);
    let jar = await openLink(`http://x/en/manage?token=${created.body.manageToken}`);
    const page = await t.http().get('/en/manage').set('Cookie', header(jar));
    expect(page.text).toContain('data-verified="false"');
    jar = withCookies(jar, page);
    const csrf = csrfOf(page.text);
    const contactId = created.body.contacts[0].contactId as string;
    const resend = () => t.http().post('/en/manage/resend').set('Cookie', header(jar)).type('form').send({ _csrf: csrf, contactId });
    const codes = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM delivery WHERE contact_id = $1 AND purpose = 'verification'`, [contactId])).rows[0]
        .n;
    const before = await codes();
    const tooSoon = await resend();
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.text).toContain('id="field-contactId"');
    expect(await codes()).toBe(before);
    clock.advance(2 * 60_000);
    const again = await resend();
    expect(again.status, again.text).toBe(303);
    expect(again.headers.location).toBe('/en/manage?saved=code');
    expect(await codes()).toBe(before + 1);
    const other = await t
      .http()
      .post('/en/manage/resend')
      .set('Cookie', header(jar))
      .type('form')
      .send({ _csrf: csrf, contactId: created.body.registrationId });
    expect(other.status).toBe(422);
  });

  it('#13.3 an unverified phone-call contact is told to answer the call and enter the PIN, not to enter a code it never gets', async () => {
    const personId = await bookPerson(t, source, 'A-731-000-016');
    const created = await register(t, {
      personId,
      language: 'en',
      pin: '2468',
      contacts: [{ channel: 'voice', address: `+1713555${String(Math.floor(Math.random() * 9000) + 1000)}` }],
    });
    expect(created.status, created.text).toBe(201);
    const jar = await openLink(`http://x/en/manage?token=${created.body.manageToken}`);
    for (const [lang, code, pin] of [
      ['en', 'enter its code', 'PIN'],
      ['es', 'escriba su código', 'PIN'],
    ]) {
      const page = await t.http().get(`/${lang}/manage`).set('Cookie', header(jar));
      expect(page.status).toBe(200);
      const line = /<li class="contact" data-channel="voice"[\s\S]*?<\/li>/.exec(page.text)![0];
      expect(line, lang).not.toContain(code);
      expect(line, lang).toContain(pin);
    }
  });

  it('#13.4 stop all alerts: a confirmation, then the POST stops the registration, clears the session, and no alert is planned after', async () => {
    const victim = await enrolled('A-731-000-007');
    let jar = await openLink(`http://x/en/manage?token=${victim.manageToken}`);
    const confirm = await t.http().get('/en/manage/stop').set('Cookie', header(jar));
    expect(confirm.status).toBe(200);
    expect(confirm.headers['cache-control']).toBe('no-store');
    expect(confirm.text).toContain('no more alerts about this person on any channel');
    expect(confirm.text).toContain('cannot be undone here');
    expect(confirm.text).toContain('sign up again');
    expect(confirm.text).toMatch(/href="\/en\/manage" id="keep-alerts">No, keep my alerts/);
    expect(confirm.text).toMatch(/<form method="post" action="\/en\/manage\/stop"/);
    jar = withCookies(jar, confirm);
    expect((await t.db.query(`SELECT status FROM registration WHERE id = $1`, [victim.registrationId])).rows[0].status).toBe('active');

    const stop = await t
      .http()
      .post('/en/manage/stop')
      .set('Cookie', header(jar))
      .type('form')
      .send({ _csrf: csrfOf(confirm.text) });
    expect(stop.status).toBe(200);
    expect(stop.headers['cache-control']).toBe('no-store');
    expect(stop.text).toContain('Your alerts are stopped');
    expect(stop.text).not.toContain('Castillo');
    jar = withCookies(jar, stop);
    expect(jar.vigil_session, 'the session cookie is cleared').toBeUndefined();
    const row = (await t.db.query(`SELECT status, stopped_at FROM registration WHERE id = $1`, [victim.registrationId])).rows[0];
    expect(row.status).toBe('stopped');
    expect(row.stopped_at).not.toBeNull();

    await release('A-731-000-007');
    expect(await notifiedByType(t, victim.registrationId)).toEqual({});
    expect((await t.http().get('/en/manage').query({ token: victim.manageToken })).status).toBe(404);
  });

  it('#13 every manage POST without its _csrf is refused with a 403 page, and changes nothing', async () => {
    const victim = await enrolled('A-731-000-008');
    let jar = await openLink(`http://x/en/manage?token=${victim.manageToken}`);
    const page = await t.http().get('/en/manage').set('Cookie', header(jar));
    jar = withCookies(jar, page);
    for (const [path, body] of [
      ['/en/manage/language', 'language=es'],
      ['/en/manage/events', 'eventTypes=RELEASED'],
      ['/en/manage/quiet-hours', 'quietStart=22:00&quietEnd=07:00&timeZone=America%2FChicago'],
      ['/en/manage/resend', 'contactId=00000000-0000-0000-0000-000000000000'],
      ['/en/manage/stop', ''],
    ]) {
      for (const extra of ['', '&_csrf=forged']) {
        const res = await t.http().post(path).set('Cookie', header(jar)).type('form').send(`${body}${extra}`);
        expect(res.status, `${path}${extra}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
        expect(res.text).toContain('This form has expired');
      }
    }
    const row = (
      await t.db.query(`SELECT status, language, event_types, quiet_hours FROM registration WHERE id = $1`, [victim.registrationId])
    ).rows[0];
    expect(row).toEqual({ status: 'active', language: 'en', event_types: null, quiet_hours: null });
  });

  it('#13 hostile form bodies on every manage form get a page, never a 5xx', async () => {
    const victim = await enrolled('A-731-000-009');
    let jar = await openLink(`http://x/en/manage?token=${victim.manageToken}`);
    const page = await t.http().get('/en/manage').set('Cookie', header(jar));
    jar = withCookies(jar, page);
    const csrf = encodeURIComponent(csrfOf(page.text));
    const bodies = [
      'language=en&language=es',
      'language[a]=1',
      'eventTypes[x]=RELEASED',
      `eventTypes=${'A'.repeat(20000)}`,
      'quietStart=%00%00&quietEnd=99:99&timeZone=%E2%80%AE',
      'quietStart[]=1&quietEnd[]=2&timeZone[]=3',
      `timeZone=${'../'.repeat(500)}&quietStart=22:00&quietEnd=07:00`,
      'contactId=%27%20OR%201%3D1--',
      'contactId[]=x',
      `contactId=${victim.registrationId}`,
    ];
    for (const path of ['/en/manage/language', '/en/manage/events', '/en/manage/quiet-hours', '/en/manage/resend']) {
      for (const body of bodies) {
        const res = await t.http().post(path).set('Cookie', header(jar)).type('form').send(`_csrf=${csrf}&${body}`);
        expect(res.status, `${path} ${body.slice(0, 40)}`).toBeLessThan(500);
        if (res.status !== 303) expect(res.headers['content-type'], `${path} ${body.slice(0, 40)}`).toMatch(/^text\/html/);
      }
    }
    for (const query of ['token[]=x', 'token=a&token=b', `token=${'x'.repeat(10000)}`, 'saved=%00']) {
      const res = await t.http().get(`/en/manage?${query}`).set('Cookie', header(jar));
      expect(res.status, query).toBeLessThan(500);
    }
  });
});
