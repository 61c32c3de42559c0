import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/common/crypto/field-cipher.js';
import { bookPerson, enrolEveryChannel, latestCode } from '../support/registrations.js';
import { createSource, type TestSource } from '../support/sources.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Browser = ReturnType<typeof supertest.agent>;

/** One browser: its own cookie jar (the CSRF secret and the victim session). */
function browser(t: TestApp): Browser {
  return supertest.agent(t.app.getHttpServer());
}

function csrfIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF field on the page');
  return token;
}

function titleOf(html: string): string {
  return /<title>([^<]*)<\/title>/.exec(html)![1];
}

/** The verify forms on a page, by channel: each with its contact id. */
function verifyForms(html: string): { channel: string; contactId: string }[] {
  return [
    ...html.matchAll(/<form method="post" action="\/(?:en|es)\/verify" data-channel="(\w+)"[\s\S]*?name="contactId" value="([^"]+)"/g),
  ].map((m) => ({ channel: m[1], contactId: m[2] }));
}

const EMAIL = 'rosa.signup@example.org';
const PHONE = '(713) 555-0778';

describe('#13 sign-up, verify and confirmation pages', () => {
  let t: TestApp;
  let source: TestSource;
  let personId: string;

  beforeAll(async () => {
    t = await startTestApp();
    source = await createSource(t);
    personId = await bookPerson(t, source, 'A-777-100-200', { firstName: 'Dario', lastName: 'Montalvo' });
  });
  afterAll(() => t.close());

  async function openForm(b: Browser, lang = 'es', id = personId) {
    const res = await b.get(`/${lang}/people/${id}/register`);
    expect(res.status).toBe(200);
    return { res, csrf: csrfIn(res.text) };
  }

  it('#13 the whole flow in Spanish: email and SMS, both codes verified, then a confirmation that says what will happen', async () => {
    const b = browser(t);
    const { res: form, csrf } = await openForm(b);
    expect(form.headers['cache-control']).toBe('no-store');
    expect(form.text).toContain('Dario Montalvo');
    expect(titleOf(form.text)).not.toContain('Montalvo');
    for (const name of ['email', 'phone', 'pin', 'quietStart', 'quietEnd', 'timeZone']) expect(form.text).toContain(`name="${name}"`);
    expect(form.text).toMatch(/type="checkbox" id="field-sms" name="sms" value="on"/);
    expect(form.text).toMatch(/type="checkbox" id="field-voice" name="voice" value="on"/);
    expect(form.text).toContain('name="eventTypes" value="RELEASED"');
    expect(form.text).toContain('<option value="America/Chicago"');
    expect(form.text).toContain('Solo hace falta si elige llamadas');

    const posted = await b
      .post(`/es/people/${personId}/register`)
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(csrf)}&email=${encodeURIComponent(EMAIL)}&phone=${encodeURIComponent(PHONE)}&sms=on` +
          '&eventTypes=RELEASED&eventTypes=ESCAPED&eventTypes=HEARING_SCHEDULED&quietStart=22:00&quietEnd=07:00&timeZone=America%2FChicago',
      );
    expect(posted.status, posted.text).toBe(303);
    expect(posted.headers.location).toBe('/es/verify');
    expect(posted.headers['set-cookie']?.toString()).toMatch(/vigil_session=[^;]+;.*HttpOnly/i);
    const stored = await t.db.query(`SELECT language, event_types, quiet_hours FROM registration WHERE person_id = $1`, [personId]);
    expect(stored.rows).toEqual([
      {
        language: 'es',
        event_types: ['RELEASED', 'ESCAPED', 'HEARING_SCHEDULED'],
        quiet_hours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' },
      },
    ]);

    const page = await b.get('/es/verify');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    const forms = verifyForms(page.text);
    expect(forms.map((f) => f.channel)).toEqual(['email', 'sms']);
    expect(page.text).toContain('r•••@example.org');
    expect(page.text).toContain('+1•••••0778');
    expect(page.text).not.toContain(EMAIL);
    expect(page.text).not.toContain('5550778');

    const [email, sms] = forms;
    const emailCode = await latestCode(t, email.contactId);
    const wrong = String((Number(emailCode) + 1) % 1_000_000).padStart(6, '0');
    const refused = await b
      .post('/es/verify')
      .type('form')
      .send({ _csrf: csrfIn(page.text), contactId: email.contactId, code: wrong });
    expect(refused.status).toBe(422);
    expect(refused.text).toMatch(new RegExp(`id="error-code-${email.contactId}">Ese código no es correcto`));
    expect(refused.text).toMatch(
      new RegExp(
        `id="field-code-${email.contactId}"[^>]*aria-describedby="hint-code-${email.contactId} error-code-${email.contactId}"[^>]*aria-invalid="true"[^>]*autofocus`,
      ),
    );

    const first = await b
      .post('/es/verify')
      .type('form')
      .send({ _csrf: csrfIn(refused.text), contactId: email.contactId, code: emailCode });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/es/verify');
    const half = await b.get('/es/verify');
    expect(verifyForms(half.text).map((f) => f.channel)).toEqual(['sms']);
    expect(half.text).toContain('Comprobado');

    const smsCode = await latestCode(t, sms.contactId);
    const second = await b
      .post('/es/verify')
      .type('form')
      .send({ _csrf: csrfIn(half.text), contactId: sms.contactId, code: smsCode });
    expect(second.status).toBe(303);

    const done = await b.get('/es/verify');
    expect(done.status).toBe(200);
    expect(verifyForms(done.text)).toEqual([]);
    expect(done.text).toContain('Ya está inscrito');
    expect(done.text).toContain('Vigil le avisará sobre Dario Montalvo');
    expect(titleOf(done.text)).not.toContain('Montalvo');
    expect(done.text).toContain('data-event-type="RELEASED"');
    expect(done.text).toContain('data-event-type="HEARING_SCHEDULED"');
    expect(done.text).not.toContain('data-event-type="BOOKED"');
    expect(done.text).toContain('Audiencia programada');
    expect(done.text).toMatch(/data-channel="email">Correo electrónico: r•••@example.org/);
    expect(done.text).toMatch(/data-channel="sms">Mensaje de texto: \+1•••••0778/);
    expect(done.text).toContain('De 22:00 a 07:00 (Centro (Chicago, Houston))');
    expect(done.text).toContain('Los correos, mensajes de texto y llamadas serán en español');
    expect(done.text).toContain('href="/es/manage"');
    expect(done.text).toContain('responda STOP');
    expect(done.text).toContain(`en 30 minutos`);
    // Dates in the registrant's zone and language.
    const { rows } = await t.db.query(`SELECT created_at FROM registration WHERE person_id = $1`, [personId]);
    const inChicago = new Intl.DateTimeFormat('es-US', { dateStyle: 'long', timeStyle: 'short', timeZone: 'America/Chicago' });
    expect(done.text).toContain(`Inscripción: ${inChicago.format(rows[0].created_at as Date)}`);
    // No calls chosen: no call cadence.
    expect(done.text).not.toContain('Llamamos cada');

    // Nothing the victim typed or received reached a log line.
    const logs = t.logs.join('\n');
    for (const secret of [EMAIL, 'rosa.signup', '5550778', '555-0778', emailCode, smsCode]) expect(logs).not.toContain(secret);
  });

  it('#13 mistakes are shown next to their fields with the input kept, the first focused, and the PIN never echoed', async () => {
    const b = browser(t);
    const { csrf } = await openForm(b, 'en');
    const res = await b
      .post(`/en/people/${personId}/register`)
      .type('form')
      .send({
        _csrf: csrf,
        email: 'not-an-email',
        phone: '123',
        sms: 'on',
        voice: 'on',
        pin: '98x7',
        quietStart: '25:00',
        quietEnd: '07:00',
        timeZone: 'Mars/Olympus_Mons',
        eventTypes: ['RELEASED', 'NOT_AN_EVENT'],
      });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/id="field-email"[^>]*aria-describedby="hint-email error-email"[^>]*aria-invalid="true"[^>]*autofocus/);
    expect(res.text).toContain('id="error-email">Enter an email address like name@example.com.');
    expect(res.text).toContain('id="error-phone">Enter a US mobile, landline or internet phone number');
    expect(res.text).toContain('id="error-pin">Enter exactly 4 digits for the PIN.');
    expect(res.text).toContain('id="error-quietStart">Enter the start of quiet hours');
    expect(res.text).toContain('id="error-timeZone">Choose your time zone from the list.');
    expect(res.text).toMatch(/id="field-phone"[^>]*aria-invalid="true"/);
    expect((res.text.match(/autofocus/g) ?? []).length).toBe(1);
    // Kept: every field but the PIN.
    expect(res.text).toContain('value="not-an-email"');
    expect(res.text).toContain('value="123"');
    expect(res.text).toMatch(/id="field-sms" name="sms" value="on" checked/);
    expect(res.text).toMatch(/id="field-voice" name="voice" value="on" checked/);
    expect(res.text).toContain('value="25:00"');
    expect(res.text).toMatch(/name="eventTypes" value="RELEASED" checked/);
    expect(res.text).toMatch(/<option value="Mars\/Olympus_Mons" selected>/);
    expect(res.text).not.toContain('98x7');
    expect(res.text).toMatch(/id="field-pin" name="pin" type="password" value=""/);
    // The error summary links to each field.
    expect(res.text).toContain('href="#field-pin"');

    const none = await b
      .post(`/en/people/${personId}/register`)
      .type('form')
      .send({ _csrf: csrfIn(res.text), pin: '1234' });
    expect(none.status).toBe(422);
    expect(none.text).toContain('id="error-email">Enter an email address or a phone number.');
    expect(none.text).not.toContain('1234');

    const noHow = await b
      .post(`/en/people/${personId}/register`)
      .type('form')
      .send({ _csrf: csrfIn(res.text), phone: PHONE, quietEnd: '07:00' });
    expect(noHow.status).toBe(422);
    expect(noHow.text).toContain('id="error-sms">Choose text messages, phone calls, or both');
    expect(noHow.text).toContain('id="error-quietStart">');

    const created = await t.db.query(
      `SELECT count(*)::int AS n FROM contact WHERE channel = 'email' AND registration_id IN (SELECT id FROM registration WHERE language = 'en')`,
    );
    expect(created.rows[0].n).toBe(0);
  });

  it('#13 a voice contact needs a PIN; with one, the verify page says a call is coming and offers a new call', async () => {
    const b = browser(t);
    const { csrf } = await openForm(b, 'en');
    const noPin = await b.post(`/en/people/${personId}/register`).type('form').send({ _csrf: csrf, phone: '+1 713 555 0777', voice: 'on' });
    expect(noPin.status).toBe(422);
    expect(noPin.text).toMatch(/id="field-pin"[^>]*aria-describedby="hint-pin error-pin"[^>]*aria-invalid="true"[^>]*autofocus/);
    expect(noPin.text).toContain('id="error-pin">Phone calls need a PIN');

    const ok = await b
      .post(`/en/people/${personId}/register`)
      .type('form')
      .send({ _csrf: csrfIn(noPin.text), phone: '+1 713 555 0777', voice: 'on', pin: '2468' });
    expect(ok.status).toBe(303);
    const page = await b.get('/en/verify');
    expect(page.status).toBe(200);
    expect(verifyForms(page.text)).toEqual([]);
    expect(page.text).toContain('We are calling +1•••••0777. Answer and enter your 4-digit PIN');
    expect(page.text).not.toContain('2468');
    const calls = await t.db.query(
      `SELECT count(*)::int AS n FROM delivery d JOIN contact c ON c.id = d.contact_id WHERE d.purpose = 'verification' AND c.channel = 'voice'`,
    );
    expect(calls.rows[0].n).toBe(1);
    // A new call at once is refused as the API refuses it: a minute between codes.
    const again = await b
      .post('/en/verify/resend')
      .type('form')
      .send({ _csrf: csrfIn(page.text), contactId: /name="contactId" value="([^"]+)"/.exec(page.text)![1] });
    expect(again.status).toBe(429);
    expect(again.text).toContain('A code was sent moments ago');
    expect(again.headers['retry-after']).toBeDefined();
  });

  it('#13 a minor, a protected, an unknown and a malformed person all get the same 404 page, on GET and POST', async () => {
    const minor = await bookPerson(t, source, 'A-777-300-400', { firstName: 'Young', lastName: 'Person', dateOfBirth: '2015-01-01' });
    const hidden = await bookPerson(t, source, 'A-777-500-600', { firstName: 'Hidden', lastName: 'Person' });
    const protect = await t
      .http()
      .put(`/v1/admin/people/${hidden}/protection`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ protected: true, reason: 'court order' });
    expect(protect.status).toBe(200);
    const pages: string[] = [];
    for (const id of [minor, hidden, '00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      const res = await t.http().get(`/en/people/${encodeURIComponent(id)}/register`);
      expect(res.status, id).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('id="quick-exit"');
      expect(res.text).not.toContain('Person');
      // Pages differ only where they name their own address (the language switch).
      pages.push(res.text.replaceAll(encodeURIComponent(id), '{id}').replaceAll(id, '{id}'));
    }
    // The registrable-or-not answers are one page (the last id only shows it escaped in the language switch).
    expect(new Set(pages.slice(0, 4)).size).toBe(1);
    const b = browser(t);
    const { csrf } = await openForm(b, 'en');
    const post = await b.post(`/en/people/${minor}/register`).type('form').send({ _csrf: csrf, email: 'x@example.org' });
    expect(post.status).toBe(404);
    expect(post.text.replaceAll(minor, '{id}')).toBe(pages[0]);
  });

  it('#13 every POST without a valid _csrf is refused with a 403 page: missing, wrong, or from another browser', async () => {
    const b = browser(t);
    const { csrf } = await openForm(b, 'en');
    const other = browser(t);
    const { csrf: otherToken } = await openForm(other, 'en');
    const before = await t.db.query(`SELECT count(*)::int AS n FROM registration`);
    for (const path of [`/en/people/${personId}/register`, '/en/verify', '/en/verify/resend']) {
      for (const token of [undefined, 'wrong-token', `${csrf.slice(0, -2)}xx`, otherToken]) {
        const res = await b
          .post(path)
          .type('form')
          .send({
            ...(token === undefined ? {} : { _csrf: token }),
            email: 'csrf@example.org',
            contactId: '00000000-0000-4000-8000-000000000000',
            code: '123456',
          });
        expect(res.status, `${path} ${token}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
        expect(res.text).toContain('This form has expired');
        expect(res.text).toContain('id="quick-exit"');
      }
      // The same token without the cookie it belongs to.
      const stranger = await t.http().post(path).type('form').send({ _csrf: csrf, email: 'csrf@example.org' });
      expect(stranger.status).toBe(403);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM registration`)).rows[0].n).toBe(before.rows[0].n);
  });

  it('#13 hostile form bodies never cause a 5xx: arrays, NUL, 100 KB values, nested keys, unknown fields, wrong content types', async () => {
    const b = browser(t);
    const { csrf } = await openForm(b, 'en');
    const c = encodeURIComponent(csrf);
    const register = `/en/people/${personId}/register`;
    const bodies: [string, string][] = [
      ['application/x-www-form-urlencoded', `_csrf=${c}&email=a@example.org&email=b@example.org&phone=1&phone=2&sms=on&sms=on`],
      [
        'application/x-www-form-urlencoded',
        `_csrf=${c}&email=a%00@example.org&pin=12%003&quietStart=22:00%00&quietEnd=07:00&timeZone=America/Chicago%00`,
      ],
      ['application/x-www-form-urlencoded', `_csrf=${c}&email=${'a'.repeat(100 * 1024)}`],
      ['application/x-www-form-urlencoded', `_csrf=${c}&email=${'a'.repeat(30 * 1024)}&phone=${'9'.repeat(30 * 1024)}&sms=on`],
      [
        'application/x-www-form-urlencoded',
        `_csrf=${c}&contacts[0][channel]=email&contacts[0][address]=a@example.org&personId=x&language=fr`,
      ],
      ['application/x-www-form-urlencoded', `_csrf=${c}&email=a@example.org&admin=true&__proto__[x]=1&constructor[prototype][y]=2`],
      ['application/x-www-form-urlencoded', `_csrf=${c}&email=%F0%9F%92%A9%E2%80%AE@example.org&quietStart=%ED%A0%80`],
      ['application/json', JSON.stringify({ _csrf: csrf, email: ['a@example.org'], pin: { $gt: '' }, eventTypes: [[['RELEASED']]] })],
      [
        'application/json',
        JSON.stringify({ _csrf: csrf, email: 'a@example.org', contacts: [{ channel: 'voice', address: '+17135550123' }] }),
      ],
      ['application/json', '[1,2,3]'],
      ['application/json', '{"_csrf":'],
      ['text/plain', `_csrf=${c}&email=a@example.org`],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--x--`],
      ['application/x-www-form-urlencoded; charset=latin1', `_csrf=${c}&email=a@example.org`],
    ];
    for (const [type, body] of bodies) {
      for (const path of [register, '/en/verify', '/en/verify/resend']) {
        const res = await b.post(path).set('Content-Type', type).send(body);
        expect(res.status, `${path} ${type} ${body.slice(0, 80)}`).toBeLessThan(500);
        // A form ignores fields it does not have (as a browser may add some): those sign-ups go through.
        if (res.status !== 303) expect(res.headers['content-type'], `${path} ${body.slice(0, 80)}`).toMatch(/^text\/html/);
      }
    }
    // With a session: a crafted contact id or code is a page with the mistake, not an error.
    const ok = await b.post(register).type('form').send({ _csrf: csrf, email: 'hostile@example.org' });
    expect(ok.status).toBe(303);
    const page = await b.get('/en/verify');
    const token = csrfIn(page.text);
    const [email] = verifyForms(page.text);
    for (const body of [
      { _csrf: token, contactId: 'not-a-uuid', code: '123456' },
      { _csrf: token, contactId: '00000000-0000-4000-8000-000000000000', code: '123456' },
      { _csrf: token, contactId: [email.contactId, email.contactId], code: '123456' },
      { _csrf: token, contactId: email.contactId, code: ['123456', '654321'] },
      { _csrf: token, contactId: email.contactId, code: '12\u00003456' },
      { _csrf: token, contactId: email.contactId, code: '9'.repeat(40_000) },
    ]) {
      for (const path of ['/en/verify', '/en/verify/resend']) {
        const res = await b.post(path).type('form').send(body);
        expect(res.status, `${path} ${JSON.stringify(body).slice(0, 120)}`).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
      }
    }
    const logs = t.logs.join('\n');
    expect(logs).not.toContain('hostile@example.org');
    expect(logs).not.toMatch(/"level":50/);
  });

  it('#13 the verify page without a session says how to start, with 401', async () => {
    const res = await t.http().get('/es/verify');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Empiece por buscar a la persona');
    expect(res.text).toContain('href="/es/"');
  });
});

describe('#13 sign-up pages under their own configuration: rate limits and the call cadence', () => {
  let t: TestApp;
  let personId: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        SIGNUP_RATE_LIMIT_PER_MINUTE: '1',
        VOICE_REPEAT_MINUTES: '20',
        VOICE_REPEAT_ANSWERED_MINUTES: '90',
        VOICE_REPEAT_HOURS: '12',
        ESCALATE_AFTER_MINUTES: '45',
      },
    });
    personId = await bookPerson(t, await createSource(t), 'A-888-100-200', { firstName: 'Lucio', lastName: 'Ferrer' });
  });
  afterAll(() => t.close());

  it('#13 a second sign-up in a minute from one address is a 429 page in the page language with Retry-After', async () => {
    const b = browser(t);
    const form = await b.get(`/es/people/${personId}/register`);
    const csrf = csrfIn(form.text);
    const first = await b.post(`/es/people/${personId}/register`).type('form').send({ _csrf: csrf, email: 'one@example.org' });
    expect(first.status).toBe(303);
    const second = await b.post(`/es/people/${personId}/register`).type('form').send({ _csrf: csrf, email: 'two@example.org' });
    expect(second.status).toBe(429);
    expect(second.headers['content-type']).toMatch(/^text\/html/);
    expect(second.headers['retry-after']).toMatch(/^\d+$/);
    expect(second.text).toContain('Demasiados intentos');
  });

  it('#13 with calls chosen, the confirmation gives the configured call cadence, what the PIN is for and the escalation', async () => {
    // A specialist's enrolment has every contact verified already: the page goes straight to the confirmation.
    const enrolled = await enrolEveryChannel(
      t,
      await t.staffToken('specialist'),
      personId,
      { email: 'cadence@example.org', sms: '+17135550191', voice: '+17135550192' },
      { eventTypes: ['RELEASED', 'TRANSFERRED'] },
    );
    const sealed = t.app.get(FieldCipher).encrypt(JSON.stringify(enrolled), 'web.session', 'victim');
    const page = await t.http().get('/en/verify').set('Cookie', `vigil_session=${sealed}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('You are signed up');
    expect(page.text).toContain(
      'We call every 20 minutes for up to 12 hours until you enter your PIN. If you answer but do not enter the PIN, we call again every 90 minutes.',
    );
    expect(page.text).toContain('within 45 minutes');
    expect(page.text).toContain('Your PIN is what you enter on the phone');
    expect(page.text).toMatch(/data-channel="voice">Phone call: \+1•••••0192/);
    expect(page.text).toContain('Quiet hours');
    expect(page.text).toContain('None: alerts come as soon as an event is reported.');
    expect(page.text).toContain('Emails, text messages and calls will be in English.');
    expect(page.text).not.toContain('data-event-type="BOOKED"');

    // Once the alerts are stopped, the page no longer confirms them.
    const stop = await t
      .http()
      .delete(`/v1/registrations/${enrolled.registrationId}`)
      .set('Authorization', `Bearer ${enrolled.manageToken}`);
    expect(stop.status).toBe(204);
    const after = await t.http().get('/en/verify').set('Cookie', `vigil_session=${sealed}`);
    expect(after.status).toBe(401);
    expect(after.text).not.toContain('You are signed up');
  });
});
