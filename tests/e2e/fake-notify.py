#!/usr/bin/env python3
# fake-notify.py - a GOV.UK Notify SMS endpoint on loopback, for tests
#
# SYNOPSIS
#	fake-notify.py --port-file F --service-id S --key-file K
#		--template-id T [--log L]
#
# DESCRIPTION
#	Listens on 127.0.0.1 on a free port (written to F once ready) and
#	serves POST /v2/notifications/sms the way Notify documents it:
#	  - Authorization: Bearer JWT; the JWT header must be exactly
#	    {"typ": "JWT", "alg": "HS256"}, its claims exactly iss (the
#	    service id) and iat (within 30 seconds of now), its signature
#	    HMAC-SHA-256 under the key; otherwise 403 AuthError;
#	  - Content-Type application/json, a JSON object with phone_number
#	    and template_id (strings), optional personalisation (an object
#	    of strings) and reference (a string), nothing else, template_id
#	    the configured one; otherwise 400 ValidationError;
#	  - then by the phone number's last three digits: 400 -> 400
#	    ValidationError, 429 -> 429 RateLimitError, 500 -> 500, 999 ->
#	    no answer for 10 seconds (a timeout), anything else -> 201 with
#	    an id and the content Notify returns.
#	Every request that passed the checks is appended to the log as one
#	JSON line (its body plus the id given).
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def error(status, kind, message):
    return status, {"status_code": status,
                    "errors": [{"error": kind, "message": message}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def check_jwt(self):
        cfg = self.server.cfg
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return "no bearer token"
        parts = auth[7:].split(".")
        if len(parts) != 3:
            return "malformed token"
        try:
            head = json.loads(b64d(parts[0]))
            claims = json.loads(b64d(parts[1]))
            sig = b64d(parts[2])
        except Exception:
            return "undecodable token"
        if head != {"typ": "JWT", "alg": "HS256"}:
            return "bad header %r" % head
        want = hmac.new(cfg.key, (parts[0] + "." + parts[1]).encode(),
                        hashlib.sha256).digest()
        if not hmac.compare_digest(sig, want):
            return "Invalid token: signature, api token not found"
        if set(claims) != {"iss", "iat"}:
            return "bad claims %r" % claims
        if claims["iss"] != cfg.service_id:
            return "Invalid token: service not found"
        if not isinstance(claims["iat"], int) or \
                abs(time.time() - claims["iat"]) > 30:
            return "Error: Your system clock must be accurate to " \
                   "within 30 seconds"
        return None

    def check_body(self, body):
        cfg = self.server.cfg
        if not isinstance(body, dict):
            return "body is not an object"
        allowed = {"phone_number", "template_id", "personalisation",
                   "reference"}
        if not set(body) <= allowed:
            return "unknown keys %r" % sorted(set(body) - allowed)
        for k in ("phone_number", "template_id"):
            if not isinstance(body.get(k), str):
                return "%s is a required property" % k
        if body["template_id"] != cfg.template_id:
            return "Template not found"
        p = body.get("personalisation", {})
        if not isinstance(p, dict) or \
                not all(isinstance(v, str) for v in p.values()):
            return "personalisation must be an object of strings"
        if "reference" in body and not isinstance(body["reference"], str):
            return "reference must be a string"
        return None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path != "/v2/notifications/sms":
            return self.reply(*error(404, "NotFound", "no such path"))
        why = self.check_jwt()
        if why:
            return self.reply(*error(403, "AuthError", why))
        if not self.headers.get("Content-Type", "").startswith(
                "application/json"):
            return self.reply(*error(400, "BadRequestError",
                                     "not JSON"))
        try:
            body = json.loads(raw)
        except Exception:
            return self.reply(*error(400, "BadRequestError", "bad JSON"))
        why = self.check_body(body)
        if why:
            return self.reply(*error(400, "ValidationError", why))
        tail = body["phone_number"][-3:]
        if tail == "999":
            time.sleep(10)
            return
        if tail == "400":
            return self.reply(*error(400, "ValidationError",
                                     "phone_number Not a UK mobile "
                                     "number"))
        if tail == "429":
            return self.reply(*error(429, "RateLimitError",
                                     "Exceeded rate limit"))
        if tail == "500":
            return self.reply(*error(500, "Exception", "Internal server "
                                     "error"))
        nid = str(uuid.uuid4())
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write(json.dumps(dict(body, id=nid)) + "\n")
        self.reply(201, {"id": nid, "reference": body.get("reference"),
                         "content": {"body": "...", "from_number":
                                     "GOVUK"},
                         "uri": "https://example/v2/notifications/" + nid,
                         "template": {"id": body["template_id"],
                                      "version": 1, "uri": "x"}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--service-id", required=True)
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--template-id", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    with open(a.key_file) as f:
        key = f.read().strip()
    # a whole Notify API key: the secret is its last 36 characters
    a.key = (key[-36:] if len(key) >= 74 else key).encode()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.cfg = a
    srv.log = a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
