#!/usr/bin/env python3
"""lmtp-client.py - LMTP client for the casemail-lmtpd tests

usage:
  lmtp-client.py ADDR send FROM FILE RCPT... [--xforward QID]
      one transaction with smtplib.LMTP; prints "RCPT CODE TEXT" for each
      RCPT reply, then "DATA RCPT CODE TEXT" for each per-recipient reply
      after the final dot (smtplib reads only the first one itself)
  lmtp-client.py ADDR raw FILE
      writes FILE's bytes as they are (CRLF already in it, pipelined),
      then half-closes and prints every reply line until the server
      closes ("R CODE TEXT" per line)
  lmtp-client.py ADDR cut FILE
      sends FILE after LHLO/MAIL/RCPT/DATA and drops the connection
      before the final dot
  lmtp-client.py ADDR slow FILE RCPT SECONDS
      LHLO, MAIL, RCPT, then waits SECONDS before DATA and the message
      (for a stop in the middle of a transaction); prints every reply
ADDR is a unix socket path (starting with /) or HOST:PORT.
Every socket operation times out after 60 seconds.
"""
import smtplib
import socket
import sys


def connect_raw(addr):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=60)
    return s


def lmtp(addr):
    if addr.startswith("/"):
        c = smtplib.LMTP(addr, timeout=60)
    else:
        host, port = addr.rsplit(":", 1)
        c = smtplib.LMTP(host, int(port), timeout=60)
    return c


def send(addr, sender, path, rcpts, qid):
    data = open(path, "rb").read()
    c = lmtp(addr)
    c.ehlo("client.test")
    if qid:
        code, text = c.docmd("XFORWARD", "IDENT=" + qid)
        print("XFORWARD %d %s" % (code, text.decode(errors="replace")))
    code, text = c.mail(sender)
    print("MAIL %d %s" % (code, text.decode(errors="replace")))
    accepted = []
    for r in rcpts:
        code, text = c.rcpt(r)
        print("RCPT %s %d %s" % (r, code, text.decode(errors="replace")))
        if code == 250:
            accepted.append(r)
    if accepted:
        code, text = c.data(data)
        print("DATA %s %d %s" % (accepted[0], code,
                                 text.decode(errors="replace")))
        for r in accepted[1:]:
            code, text = c.getreply()
            print("DATA %s %d %s" % (r, code, text.decode(errors="replace")))
    c.quit()


def raw(addr, path):
    s = connect_raw(addr)
    s.sendall(open(path, "rb").read())
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    for line in buf.split(b"\r\n"):
        if line:
            print("R " + line.decode(errors="replace"))


def cut(addr, path):
    s = connect_raw(addr)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"LHLO client.test\r\n")
    while True:
        line = f.readline()
        if not line or line[3:4] == b" ":
            break
    body = open(path, "rb").read()
    s.sendall(b"MAIL FROM:<victim@example.net>\r\n")
    print("MAIL " + f.readline().decode().strip())
    rcpt = sys.argv[4] if len(sys.argv) > 4 else ""
    s.sendall(b"RCPT TO:<" + rcpt.encode() + b">\r\n")
    print("RCPT " + f.readline().decode().strip())
    s.sendall(b"DATA\r\n")
    print("DATA " + f.readline().decode().strip())
    s.sendall(body[: len(body) // 2])
    s.close()


def slow(addr, path, rcpt, seconds):
    import time
    s = connect_raw(addr)
    f = s.makefile("rb")
    print("R " + f.readline().decode().strip())
    s.sendall(b"LHLO client.test\r\n")
    while True:
        line = f.readline()
        if not line or line[3:4] == b" ":
            break
    s.sendall(b"MAIL FROM:<victim@example.net>\r\n")
    print("R " + f.readline().decode().strip())
    s.sendall(b"RCPT TO:<" + rcpt.encode() + b">\r\n")
    print("R " + f.readline().decode().strip())
    sys.stdout.flush()
    time.sleep(float(seconds))
    s.sendall(b"DATA\r\n")
    print("R " + f.readline().decode().strip())
    s.sendall(open(path, "rb").read() + b".\r\nQUIT\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        print("R " + line.decode().strip())


def main():
    addr, cmd = sys.argv[1], sys.argv[2]
    if cmd == "send":
        args = sys.argv[3:]
        qid = None
        if "--xforward" in args:
            i = args.index("--xforward")
            qid = args[i + 1]
            del args[i:i + 2]
        send(addr, args[0], args[1], args[2:], qid)
    elif cmd == "raw":
        raw(addr, sys.argv[3])
    elif cmd == "slow":
        slow(addr, sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "cut":
        cut(addr, sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
