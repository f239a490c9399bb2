#!/usr/bin/env python3
"""lmtp-ratios.py RAW_TSV LMTP_TSV - the LMTP table and its ratios.

RAW_TSV is anchors.sh's raw.tsv of the same run (maildrop's pipe rows:
the median msg/s over the repetitions); LMTP_TSV is lmtp-bench.sh's
(server, driver, sessions, msgs, seconds, cpu_s, fsyncs, fsync_msgs,
stored; one row per repetition, and one row per server, driver and
sessions with only the fsyncs, counted over a separate run of
fsync_msgs). Prints each run's msg/s, CPU
ms and fsyncs per message, then the issue's targets.
"""
import statistics
import sys

rates, cpus = {}, {}
with open(sys.argv[1]) as f:
    for line in f:
        c = line.rstrip("\n").split("\t")
        if len(c) < 8 or c[0] != "pipe" or c[1] != "maildrop":
            continue
        try:
            msgs, sec = float(c[3]), float(c[5])
        except ValueError:
            continue
        if sec > 0:
            rates.setdefault(c[2], []).append(msgs / sec)
        try:
            cpus.setdefault(c[2], []).append(float(c[10]) * 1000 / msgs)
        except (IndexError, ValueError):
            pass
maildrop = {k: statistics.median(v) for k, v in rates.items()}
mcpu = {k: "%.2f" % statistics.median(v) for k, v in cpus.items()}

runs, fsyncs = {}, {}
with open(sys.argv[2]) as f:
    next(f)
    for line in f:
        srv, drv, s, m, sec, cpu, fs, fm, n = line.rstrip("\n").split("\t")
        key = (srv, drv, s)
        if fs != "-":
            fsyncs[key] = int(fs) / float(fm)
            continue
        if not sec or float(sec) <= 0:
            continue
        m = int(m)
        runs.setdefault(key, []).append(
            (m / float(sec), float(cpu) * 1000.0 / m, n))

print("%-9s %-11s %8s %9s %10s %10s %7s %s" % (
    "server", "driver", "sessions", "msg/s", "CPU ms/msg", "fsyncs/msg",
    "stored", "msg/s of each repetition"))
for k, v in sorted(maildrop.items()):
    print("%-9s %-11s %8s %9.1f %10s %10s %7s" % (
        "maildrop", "pipe " + k, "-", v, mcpu.get(k, "-"), "-", "-"))
rows = {}
for key in sorted(runs, key=lambda k: (k[1] != "smtp-source", k[0], int(k[2]))):
    v = runs[key]
    rate = statistics.median(r[0] for r in v)
    rows[key] = rate
    print("%-9s %-11s %8s %9.1f %10.2f %10.2f %7s %s" % (
        key[0], key[1], key[2], rate, statistics.median(r[1] for r in v),
        fsyncs.get(key, float("nan")), ",".join(r[2] for r in v),
        " ".join("%.0f" % r[0] for r in v)))


def target(name, a, b, goal):
    if not a or not b:
        print("%-58s not measured" % name)
        return
    r = a / b
    print("%-58s %6.2fx (target %sx: %s)" % (
        name, r, goal, "meets" if r >= goal else "MISSES"))


print()
par4 = maildrop.get("par4")
for drv in ("smtp-source", "corpus"):
    c20 = rows.get(("casemail", drv, "20"))
    c1 = rows.get(("casemail", drv, "1"))
    d20 = rows.get(("dovecot", drv, "20"))
    target("%s: casemail 20 sessions / maildrop par4" % drv, c20, par4, 5)
    target("%s: casemail 20 sessions / dovecot LMTP 20" % drv, c20, d20, 2)
    target("%s: casemail 1 session / maildrop par4" % drv, c1, par4, 2)
