#!/usr/bin/env python3
# smtp-reject.py - an SMTP server on loopback that refuses RCPT TO with a
# chosen reply, for tests
#
# SYNOPSIS
#	smtp-reject.py --port-file F --reply-file R [--lifetime S]
#
# DESCRIPTION
#	Listens on 127.0.0.1 on a free port (written to F once ready) and
#	answers EHLO, MAIL, RSET, NOOP and QUIT as any server would; RCPT TO
#	gets the reply line read from R at that moment (so a test can change
#	it between runs; "250 ok" lets the message through, DATA then takes
#	it and discards it). Stops after --lifetime seconds (default 300),
#	so a test that dies cannot leave it behind for long.
import argparse
import os
import socketserver
import threading
import time


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def say(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.say("220 reject.test ESMTP smtp-reject")
        data = False
        for _ in range(10000):
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            if data:
                if line == ".":
                    data = False
                    self.say("250 2.0.0 queued as TEST")
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250-reject.test")
                self.say("250 8BITMIME")
            elif verb == "RCPT":
                with open(self.server.reply_file) as f:
                    self.say(f.readline().strip() or "250 2.1.5 ok")
            elif verb == "DATA":
                data = True
                self.say("354 go ahead")
            elif verb == "QUIT":
                self.say("221 2.0.0 bye")
                return
            else:
                self.say("250 2.0.0 ok")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--reply-file", required=True)
    ap.add_argument("--lifetime", type=int, default=300)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.reply_file = a.reply_file
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    time.sleep(a.lifetime)
    srv.shutdown()


if __name__ == "__main__":
    main()
