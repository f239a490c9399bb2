#!/usr/bin/env python3
"""web-slow.py - slow clients (slowloris) against casemail-web on loopback

usage: web-slow.py PORT COUNT SECONDS

Opens COUNT connections from 127.0.0.2 to 127.0.0.1:PORT, each sending a
request head one byte every half second and never finishing it, for
SECONDS in all. One second in, one real request (GET /, from 127.0.0.1)
is timed. Prints one line of key=value:
  opened      connections the kernel accepted
  held        of those, still open one second in (not refused at once)
  status      the real request's HTTP status (0: no answer in 5 s)
  ms          how long the real request took
  open_mid    slow connections still open at SECONDS/2
  open_end    slow connections still open at the end
Every socket is closed before exit; nothing runs longer than SECONDS+6 s.
"""
import select
import socket
import sys
import time


def real_request(port):
    """GET / from 127.0.0.1: (status, milliseconds)"""
    t = time.monotonic()
    s = socket.socket()
    s.settimeout(5)
    data = b""
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Connection: close\r\n\r\n")
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        s.close()
    ms = int((time.monotonic() - t) * 1000)
    try:
        return int(data.split(b" ", 2)[1]), ms
    except (IndexError, ValueError):
        return 0, ms


def main():
    port, count, total = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    t0 = time.monotonic()
    conns = []  # [socket, open]
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    try:
        for _ in range(count):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.bind(("127.0.0.2", 0))
                s.connect(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            s.setblocking(False)
            conns.append([s, True])
        opened = len(conns)
        held = None
        status, ms = 0, 0
        open_mid = None
        k = 0
        while time.monotonic() - t0 < total:
            now = time.monotonic() - t0
            live = [c for c in conns if c[1]]
            if live:
                r, _, _ = select.select([c[0] for c in live], [], [], 0)
                for c in live:
                    if c[0] in r:
                        try:
                            if c[0].recv(4096) == b"":
                                c[1] = False
                        except OSError:
                            c[1] = False
            for c in conns:
                if not c[1]:
                    continue
                b = head[k:k + 1] if k < len(head) else b"a"
                try:
                    c[0].send(b)
                except BlockingIOError:
                    pass
                except OSError:
                    c[1] = False
            k += 1
            if held is None and now >= 1.0:
                held = sum(1 for c in conns if c[1])
                status, ms = real_request(port)
            if open_mid is None and now >= total / 2:
                open_mid = sum(1 for c in conns if c[1])
            time.sleep(0.5)
        open_end = sum(1 for c in conns if c[1])
    finally:
        for c in conns:
            c[0].close()
    print("opened=%d held=%s status=%d ms=%d open_mid=%s open_end=%d"
          % (opened, held, status, ms, open_mid, open_end))


main()
