#!/usr/bin/env python3
"""lmtp-drive.py SOCKET SESSIONS LIST COUNT FROM RCPT - pipelined LMTP load.

Delivers the first COUNT files named in LIST (the pipe benchmark's
messages; reused in order when COUNT is larger) to RCPT over SESSIONS
concurrent connections to the unix socket SOCKET, the way Postfix's
lmtp(8) and smtp-source -L do: LHLO once, then per message MAIL, RCPT
and DATA sent together (PIPELINING), the message with CRLF line ends
and dot-stuffing, and one reply per recipient after the final dot.
Every message is read, converted and loaded before the clock starts.

Prints "seconds=S ok=N fail=N". Bounded: COUNT messages, and every
read waits at most 60 seconds.
"""
import asyncio
import sys
import time


def wire(data):
    """The message as sent on the wire: CRLF, dot-stuffed, final dot."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = [b"." + l if l.startswith(b".") else l for l in lines]
    return b"\r\n".join(out) + b"\r\n.\r\n"


async def reply(reader):
    """One (possibly multi-line) reply: its code."""
    while True:
        line = await asyncio.wait_for(reader.readline(), 60)
        if not line:
            raise ConnectionError("server closed")
        if line[3:4] != b"-":
            return int(line[:3])


async def session(path, queue, sender, rcpt, counts):
    reader, writer = await asyncio.open_unix_connection(path)
    await reply(reader)
    writer.write(b"LHLO bench.example\r\n")
    await reply(reader)
    head = b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, rcpt)
    while True:
        try:
            msg = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        writer.write(head)
        codes = [await reply(reader) for _ in range(3)]
        if codes != [250, 250, 354]:
            counts[1] += 1
            writer.write(b"RSET\r\n")
            await reply(reader)
            continue
        writer.write(msg)
        counts[0 if await reply(reader) == 250 else 1] += 1
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()


async def main():
    path, sessions, listfile, count, sender, rcpt = sys.argv[1:7]
    sessions, count = int(sessions), int(count)
    names = [l.strip() for l in open(listfile) if l.strip()]
    msgs = []
    for name in names:
        with open(name, "rb") as f:
            msgs.append(wire(f.read()))
    queue = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(msgs[i % len(msgs)])
    counts = [0, 0]
    t0 = time.monotonic()
    await asyncio.gather(*(session(path, queue, sender.encode(),
                                   rcpt.encode(), counts)
                           for _ in range(sessions)))
    t1 = time.monotonic()
    print("seconds=%.6f ok=%d fail=%d" % (t1 - t0, counts[0], counts[1]))


asyncio.run(main())
