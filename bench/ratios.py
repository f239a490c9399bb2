#!/usr/bin/env python3
"""ratios.py RAW_TSV - casemail's rates against the anchors of the same run.

Reads anchors.sh's raw.tsv (section, tool, mode, msgs, rep, seconds,
stored, failed, ref, latency, cpu), takes the median msg/s over the
repetitions of each (section, tool, mode) and prints casemail's ratio to
each anchor beside the issue's target.
"""
import statistics
import sys

rates = {}
with open(sys.argv[1]) as f:
    for line in f:
        c = line.rstrip("\n").split("\t")
        if len(c) < 8 or c[0] == "section":
            continue
        try:
            msgs, sec = float(c[3]), float(c[5])
        except ValueError:
            continue
        if sec <= 0:
            continue
        rates.setdefault((c[0], c[1], c[2]), []).append(msgs / sec)

med = {k: statistics.median(v) for k, v in rates.items()}

def ratio(section, ours, anchor, mode, target):
    a, b = med.get((section, ours, mode)), med.get((section, anchor, mode))
    if a is None or b is None:
        print(f"{section:6} {mode:5} {ours} vs {anchor}: not measured")
        return
    r = a / b
    verdict = "meets" if r >= target else "MISSES"
    print(f"{section:6} {mode:5} {ours} {a:8.1f} msg/s vs {anchor} "
          f"{b:8.1f} msg/s = {r:5.2f}x (target {target}x: {verdict})")

for mode in ("seq", "par4"):
    ratio("pipe", "casemail", "maildrop", mode, 1.0)
    ratio("pipe", "casemail", "dovecot-lda", mode, 2.5)
    ratio("pipe", "casemail", "floor-fsync", mode, 0.0)
    ratio("pipe", "casemail", "sqlite-floor", mode, 0.0)
ratio("index", "casemail-maildir", "mu-index", "cold", 1.5)
ratio("index", "casemail-maildir", "notmuch-new", "cold", 3.0)
