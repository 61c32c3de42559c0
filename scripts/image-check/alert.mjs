// Runs inside a container of the image under test (scripts/image-check.sh mounts it at /app/image-check):
// delivers one alert end to end through a running ROLE=api and ROLE=worker, with only the image's own
// tools: the vigil CLI creates a source and sends the signed events, the api enrols a contact, and a
// worker must hand the RELEASED alert to the SMTP sink this script listens with.
// Env: the containers' settings (DATABASE_URL, BOOTSTRAP_ADMIN_*), API_URL, SINK_PORT (SMTP_URL's port).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';

// Node's own globals, taken once: the lint config gives scripts/ only process.
const { console, fetch, setTimeout } = globalThis;

const run = promisify(execFile);
const apiUrl = process.env.API_URL;
const sinkPort = Number(process.env.SINK_PORT);
const deadline = Date.now() + Number(process.env.ALERT_TIMEOUT_SECONDS ?? 60) * 1000;
const email = `image-check-${randomUUID().slice(0, 8)}@example.org`;

function fail(message) {
  console.error(`alert: FAILED: ${message}`);
  process.exit(1);
}

/** The smallest SMTP server nodemailer will talk to: no TLS, no auth; keeps each message's envelope. */
function smtpSink() {
  const messages = [];
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let current = { to: [], data: '' };
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 image-check sink');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(current);
            current = { to: [], data: '' };
            reply('250 queued');
          } else current.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply('250 image-check');
        else if (verb === 'HELO') reply('250 image-check');
        else if (verb === 'MAIL') reply('250 ok');
        else if (verb === 'RCPT') {
          current.to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, '$1').toLowerCase());
          reply('250 ok');
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 end with .');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else if (verb === 'RSET') {
          current = { to: [], data: '' };
          reply('250 ok');
        } else reply('250 ok');
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A pooled SMTP client keeps its connection open: closing the sink must end those too.
    const close = () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    };
    server.listen(sinkPort, '127.0.0.1', () => resolve({ close, messages }));
  });
}

async function vigil(args, env = {}) {
  try {
    const { stdout } = await run('node', ['dist/src/cli/vigil.js', ...args], { env: { ...process.env, ...env } });
    return stdout;
  } catch (error) {
    fail(`vigil ${args[0]} exited ${error.code}: ${error.stderr || error.stdout}`);
  }
}

async function sendEvent(source, type, identifier) {
  const file = `/tmp/image-check-${randomUUID()}.json`;
  writeFileSync(
    file,
    JSON.stringify({
      sourceEventId: `image-check-${randomUUID()}`,
      type,
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      person: { identifiers: [{ system: 'A_NUMBER', value: identifier }], firstName: 'Image', lastName: 'Check' },
      facility: { code: 'IMG-1', name: 'Image Check County Jail' },
    }),
  );
  const out = await vigil(['event:send', '--source', source.id, '--file', file, '--url', apiUrl], {
    VIGIL_SOURCE_KEY: source.apiKey,
    VIGIL_SIGNING_SECRET: source.signingSecret,
  });
  const [status, ...rest] = out.split('\n');
  if (status !== '202') fail(`${type} answered ${status}: ${rest.join('\n')}`);
  return JSON.parse(rest.join('\n')).results[0].eventId;
}

async function until(what, check) {
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  fail(`timed out waiting for ${what}`);
}

const { close, messages } = await smtpSink();
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
try {
  const created = await vigil(['source:create', `Image check ${randomUUID().slice(0, 8)}`, '--signing-required']);
  const source = {
    id: /\(([0-9a-f-]{36})\)/.exec(created)?.[1],
    apiKey: /API key:\s+(\S+)/.exec(created)?.[1],
    signingSecret: /Signing secret:\s+(\S+)/.exec(created)?.[1],
  };
  if (!source.id || !source.apiKey || !source.signingSecret) fail('source:create printed no id, key or secret');
  const identifier = `IMG${randomUUID().slice(0, 8)}`;
  const booked = await sendEvent(source, 'BOOKED', identifier);
  const { rows } = await db.query('SELECT person_id FROM custody_event WHERE id = $1', [booked]);

  const login = await fetch(`${apiUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: process.env.BOOTSTRAP_ADMIN_EMAIL, password: process.env.BOOTSTRAP_ADMIN_PASSWORD }),
  });
  if (login.status !== 200 && login.status !== 201) fail(`admin login answered ${login.status}`);
  const { accessToken } = await login.json();
  const enrolled = await fetch(`${apiUrl}/v1/enrollments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ personId: rows[0].person_id, language: 'en', contacts: [{ channel: 'email', address: email }] }),
  });
  if (enrolled.status !== 201) fail(`enrolment answered ${enrolled.status}: ${await enrolled.text()}`);
  const { registrationId } = await enrolled.json();

  const started = Date.now();
  await sendEvent(source, 'RELEASED', identifier);
  const mail = await until('the alert at the SMTP sink', () => messages.find((m) => m.to.includes(email)));
  const sentAfter = Date.now() - started;
  const subject = /^Subject: (.*)$/m.exec(mail.data)?.[1];
  if (subject !== 'Vigil alert: Image Check') fail(`unexpected subject: ${subject}`);
  const ledger = await until('the attempt in the ledger', async () => {
    const { rows: attempts } = await db.query(
      `SELECT d.status, a.outcome FROM delivery d JOIN contact c ON c.id = d.contact_id
       JOIN delivery_attempt a ON a.delivery_id = d.id
       WHERE c.registration_id = $1 AND d.purpose <> 'verification'`,
      [registrationId],
    );
    // The worker records the attempt's outcome, then the delivery's status, in two statements.
    return attempts.length && attempts[0].outcome && attempts[0].status !== 'sending' ? attempts : undefined;
  });
  if (ledger.length !== 1 || ledger[0].status !== 'sent' || ledger[0].outcome !== 'accepted') {
    fail(`ledger: ${JSON.stringify(ledger)}`);
  }
  console.log(`alert: ok: RELEASED alert reached the SMTP sink ${sentAfter} ms after the event; ledger: sent/accepted`);
} finally {
  await db.end();
  close();
}
