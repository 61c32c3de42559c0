#!/usr/bin/env node
// Sends a JSON file to Vigil as a source, signed with Standard Webhooks when VIGIL_SIGNING_SECRET is set.
//   VIGIL_URL=https://vigil.example.org VIGIL_SOURCE_KEY=vgl_... VIGIL_SIGNING_SECRET=whsec_... \
//     node send.mjs released-event.json                            # POST /v1/custody-events
//     node send.mjs roster.json PUT /v1/facilities/DEMO-1/roster   # a whole roster
// Prints the HTTP status and the answer; exits 0 on 2xx, 1 otherwise. Node 18 or newer, no packages
// (the `standardwebhooks` package's Webhook#sign gives the same signature).
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [file, method = 'POST', path = '/v1/custody-events'] = process.argv.slice(2);
const url = process.env.VIGIL_URL ?? 'http://localhost:3000';
const body = readFileSync(file); // sent and signed byte for byte

function sign(secret, msgId, timestamp, payload) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestamp}.`).update(payload).digest('base64');
  return `v1,${mac}`;
}

const headers = { Authorization: `Bearer ${process.env.VIGIL_SOURCE_KEY}`, 'Content-Type': 'application/json' };
const secret = process.env.VIGIL_SIGNING_SECRET;
if (secret) {
  const msgId = `msg_${randomBytes(16).toString('hex')}`; // new per message; a retry of the same message reuses it
  const timestamp = Math.floor(Date.now() / 1000); // seconds; Vigil accepts ±5 minutes
  Object.assign(headers, {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, msgId, timestamp, body),
  });
}

const response = await fetch(url + path, { method, headers, body });
console.log(response.status);
console.log(await response.text());
process.exitCode = response.ok ? 0 : 1;
