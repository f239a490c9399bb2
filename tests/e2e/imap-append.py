#!/usr/bin/env python3
"""imap-append.py HOST PORT CA USER PASSWORD MAILBOX FILE... - APPEND each
FILE to MAILBOX over one TLS connection (verified against CA), unflagged,
as delivered mail arrives. Exits non-zero on any refusal."""
import imaplib
import ssl
import sys

host, port, ca, user, password, box = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
with imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=60) as m:
    m.login(user, password)
    m.create(box)  # "already exists" is fine
    for path in sys.argv[7:]:
        with open(path, "rb") as f:
            data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        typ, resp = m.append(box, None, None, data)
        if typ != "OK":
            sys.exit("APPEND %s: %s %s" % (path, typ, resp))
    m.logout()
