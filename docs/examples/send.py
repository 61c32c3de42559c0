#!/usr/bin/env python3
"""Sends a JSON file to Vigil as a source, signed with Standard Webhooks when VIGIL_SIGNING_SECRET is set.

    VIGIL_URL=https://vigil.example.org VIGIL_SOURCE_KEY=vgl_... VIGIL_SIGNING_SECRET=whsec_... \\
        python3 send.py released-event.json                            # POST /v1/custody-events
        python3 send.py roster.json PUT /v1/facilities/DEMO-1/roster   # a whole roster

Prints the HTTP status and the answer; exits 0 on 2xx, 1 otherwise. Standard library only.
"""
import base64
import hashlib
import hmac
import os
import secrets
import sys
import time
import urllib.error
import urllib.request


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def main() -> int:
    file = sys.argv[1]
    method = sys.argv[2] if len(sys.argv) > 2 else "POST"
    path = sys.argv[3] if len(sys.argv) > 3 else "/v1/custody-events"
    url = os.environ.get("VIGIL_URL", "http://localhost:3000")
    with open(file, "rb") as f:
        body = f.read()  # sent and signed byte for byte
    headers = {"Authorization": f"Bearer {os.environ['VIGIL_SOURCE_KEY']}", "Content-Type": "application/json"}
    secret = os.environ.get("VIGIL_SIGNING_SECRET")
    if secret:
        msg_id = f"msg_{secrets.token_hex(16)}"  # new per message; a retry of the same message reuses it
        timestamp = int(time.time())  # seconds; Vigil accepts ±5 minutes
        headers |= {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, msg_id, timestamp, body)}
    request = urllib.request.Request(url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:  # 4xx and 5xx carry a problem+json body
        status, answer = error.code, error.read()
    print(status)
    print(answer.decode())
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
