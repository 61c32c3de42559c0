#!/usr/bin/env bash
# Sends a JSON file to Vigil as a source, signed with Standard Webhooks when VIGIL_SIGNING_SECRET is set.
#   VIGIL_URL=https://vigil.example.org VIGIL_SOURCE_KEY=vgl_... VIGIL_SIGNING_SECRET=whsec_... \
#     ./send.sh released-event.json                              # POST /v1/custody-events
#     ./send.sh roster.json PUT /v1/facilities/DEMO-1/roster     # a whole roster
# Prints the HTTP status and the answer; exits 0 on 2xx, 1 otherwise. Needs bash, curl and openssl.
set -euo pipefail

file=${1:?usage: send.sh FILE [METHOD PATH]}
method=${2:-POST}
path=${3:-/v1/custody-events}
url=${VIGIL_URL:-http://localhost:3000}
: "${VIGIL_SOURCE_KEY:?set VIGIL_SOURCE_KEY to the source API key}"

headers=(-H "Authorization: Bearer $VIGIL_SOURCE_KEY" -H 'Content-Type: application/json')
if [[ -n ${VIGIL_SIGNING_SECRET:-} ]]; then
  msg_id="msg_$(openssl rand -hex 16)"     # new for every message; a retry of the same message reuses it
  timestamp=$(date +%s)                    # seconds; Vigil accepts ±5 minutes
  # The secret is base64 after "whsec_"; HMAC-SHA256 over "id.timestamp.body", the body byte for byte.
  key_hex=$(printf '%s' "${VIGIL_SIGNING_SECRET#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
  signature=$({ printf '%s.%s.' "$msg_id" "$timestamp"; cat "$file"; } |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A)
  headers+=(-H "webhook-id: $msg_id" -H "webhook-timestamp: $timestamp" -H "webhook-signature: v1,$signature")
fi

answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl -sS -X "$method" "${headers[@]}" --data-binary "@$file" -o "$answer" -w '%{http_code}' "$url$path")
echo "$status"
cat "$answer"
echo
[[ $status == 2* ]]
