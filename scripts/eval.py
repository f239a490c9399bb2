#!/usr/bin/env python3
# eval.py - measure `casemail inspect` on the real-world corpora
#
# SYNOPSIS
#	python3 scripts/eval.py [--casemail build/casemail]
#		[--corpus ../shared/corpus] [--samples maildir-samples]
#		[--no-holdout] [-v]
#
# DESCRIPTION
#	Runs `casemail inspect - --json` once per message of each corpus
#	(plain-text reply bodies are wrapped in a minimal text/plain
#	message, HTML bodies in a text/html one) and prints per corpus:
#	trimming exact-match rate against the expected reply (whitespace
#	at line ends and blank lines at either end ignored), bounce recall
#	and precision, exact failed-recipient rate, auto-reply recall,
#	human replies classed as bounces, and the counts of crashes
#	(killed by a signal or an exit status other than 0/1), refusals
#	(exit 1: a limit), timeouts (10 s), messages over 1 s and over
#	100 MB of memory. -v lists every miss.
#
#	Cross-validation by corpus: every heuristic rule of trim, bounce
#	and classify names the corpus it was fitted on (include/cm_fit.h).
#	A second pass scores each corpus through tests/unit/eval_inspect.c
#	(built here with make) with the rules fitted on that corpus
#	switched off, so a corpus only credits rules written from other
#	mail: the "held out" table is the figure that says how the rules
#	generalise; the first table is the product as shipped.
#	--no-holdout skips the second pass.
#
#	The expectations are the corpora's own (see each EXPECTED.md);
#	nothing here is tuned per file. Exit status 0 always (a report).
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 10.0
SLOW = 1.0
BIG = 100 * 1024 * 1024

args = None


def wrap_text(body, ctype="text/plain"):
    """A minimal message carrying body as its only part."""
    head = ("From: Someone <someone@example.org>\n"
            "To: reply+x@example.net\n"
            "Subject: Re: your case\n"
            "Message-ID: <eval@example.org>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: %s; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n" % ctype)
    return head.encode() + body


# The corpus whose rules are held out in this pass (None: every rule on,
# through casemail inspect itself).
HOLDOUT = None


def command():
    """The inspecting command of the current pass."""
    if HOLDOUT is None:
        return [args.casemail, "inspect", "-", "--json"]
    return [args.driver, "--holdout", HOLDOUT]


def run(data):
    """Inspect data; returns a result dict (rss from wait4, KiB)."""
    import threading
    t0 = time.monotonic()
    p = subprocess.Popen(command(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    res = {"rc": None, "json": None, "time": 0.0, "rss": 0,
           "timeout": False, "err": ""}
    bufs = {}

    def feed():
        try:
            p.stdin.write(data)
            p.stdin.close()
        except OSError:
            pass

    def drain(name, f):
        bufs[name] = f.read()

    ts = [threading.Thread(target=feed),
          threading.Thread(target=drain, args=("out", p.stdout)),
          threading.Thread(target=drain, args=("err", p.stderr))]
    for t in ts:
        t.start()
    status = None
    while True:
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            status, res["rss"] = st, ru.ru_maxrss
            break
        if time.monotonic() - t0 > TIMEOUT:
            p.kill()
            res["timeout"] = True
        time.sleep(0.002)
    res["time"] = time.monotonic() - t0
    for t in ts:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    res["rc"] = p.returncode
    res["err"] = bufs.get("err", b"").decode("utf-8", "replace")
    if p.returncode == 0:
        try:
            res["json"] = json.loads(bufs.get("out", b""))
        except ValueError:
            res["rc"] = -999
    return res


class Stats:
    def __init__(self, name, fit=None):
        self.name = name
        self.fit = fit
        self.n = 0
        self.crash = 0
        self.refused = 0
        self.timeout = 0
        self.slow = 0
        self.big = 0
        self.trim_n = 0
        self.trim_ok = 0
        self.bounce_true = 0
        self.bounce_found = 0
        self.bounce_pred = 0
        self.bounce_tp = 0
        self.rcpt_n = 0
        self.rcpt_ok = 0
        self.auto_n = 0
        self.auto_ok = 0
        self.human_bounce = 0
        self.human_n = 0
        self.misses = []

    def account(self, label, r):
        self.n += 1
        if r["timeout"]:
            self.timeout += 1
            self.misses.append((label, "TIMEOUT"))
        elif r["rc"] is None or r["rc"] < 0 or r["rc"] not in (0, 1):
            self.crash += 1
            self.misses.append((label, "CRASH rc=%s %s" %
                                (r["rc"], r["err"][-300:])))
        elif r["rc"] == 1:
            self.refused += 1
        if r["time"] > SLOW:
            self.slow += 1
            self.misses.append((label, "SLOW %.2fs" % r["time"]))
        if r["rss"] * 1024 > BIG:
            self.big += 1


def norm(s):
    """Whitespace at line ends and blank lines at either end ignored."""
    if s is None:
        return ""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.rstrip() for ln in s.split("\n")]
    while lines and lines[0] == "":
        lines.pop(0)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def nows(s):
    return re.sub(r"\s+", "", s or "")


def check_trim(st, label, r, expected, keep_sig=False, loose=False):
    st.trim_n += 1
    j = r["json"]
    if j is None:
        st.misses.append((label, "trim: no result"))
        return
    body = j.get("body") or ""
    cands = [body]
    if keep_sig and j.get("signature"):
        cands.append(body + "\n\n" + j["signature"])
        cands.append(body + "\n" + j["signature"])
    if loose:
        ok = any(nows(c) == nows(expected) for c in cands)
    else:
        ok = any(norm(c) == norm(expected) for c in cands)
    if ok:
        st.trim_ok += 1
    else:
        st.misses.append((label, "trim: got %r\n    want %r" %
                          (norm(body)[:300], norm(expected)[:300])))


def check_human(st, label, r):
    st.human_n += 1
    j = r["json"]
    if j is not None and j["kind"] in ("bounce", "delay"):
        st.human_bounce += 1
        st.misses.append((label, "HUMAN REPLY CLASSED AS %s" % j["kind"]))


def check_bounce(st, label, r, truth, addrs=None):
    """truth: 'bounce', 'delay', 'auto', 'reply' or None (unknown)."""
    j = r["json"]
    kind = j["kind"] if j is not None else "error"
    if truth == "bounce":
        st.bounce_true += 1
        if kind == "bounce":
            st.bounce_found += 1
        else:
            st.misses.append((label, "bounce missed: kind %s" % kind))
    if kind == "bounce":
        st.bounce_pred += 1
        if truth == "bounce":
            st.bounce_tp += 1
        elif truth is not None:
            st.misses.append((label, "false bounce (truth %s)" % truth))
    if truth == "auto":
        st.auto_n += 1
        if kind == "auto_reply":
            st.auto_ok += 1
        else:
            st.misses.append((label, "auto-reply missed: kind %s" % kind))
    if addrs is not None:
        st.rcpt_n += 1
        got = sorted(set(a["address"].lower() for a in
                         (j["bounce"]["recipients"] if j else [])))
        want = sorted(set(a.lower() for a in addrs))
        if got == want:
            st.rcpt_ok += 1
        else:
            st.misses.append((label, "recipients %s want %s" %
                              (got, want)))


def pmap(fn, items):
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        return list(ex.map(fn, items))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def reply_sets(C, out):
    # github, zapier, willdurand, crisp: plain bodies
    specs = [
        ("github-email_reply_parser", ["reply_exact"], "github"),
        ("zapier-email-reply-parser", ["reply_exact"], "github"),
        ("willdurand-EmailReplyParser", ["reply_exact",
                                         "first_fragment_exact"],
         "willdurand"),
        ("crisp-oss-email-reply-parser", ["visible_text_exact",
                                          "first_fragment_exact"],
         "crisp"),
    ]
    for name, keys, fit in specs:
        if not wanted(fit):
            continue
        st = Stats(name, fit)
        base = os.path.join(C, name)
        exp = json.load(open(os.path.join(base, "expected.json")))
        jobs = []
        seen = set()
        for e in exp:
            path = os.path.normpath(os.path.join(base, e["file"]))
            seen.add(path)
            want = None
            for k in keys:
                if k in e:
                    want = e[k]
                    break
            if "template" in e:
                ph = e["template"].encode()
                for sub in e["substitutions"]:
                    jobs.append(("%s[%s]" % (e["file"], sub[:30]),
                                 wrap_text(read(path).replace(
                                     ph, sub.encode())), want))
                continue
            jobs.append((e["file"], wrap_text(read(path)), want))
        for d in ("emails", "fixtures"):
            dd = os.path.join(base, d)
            if os.path.isdir(dd):
                for f in sorted(os.listdir(dd)):
                    p = os.path.join(dd, f)
                    if p not in seen:
                        jobs.append((d + "/" + f, wrap_text(read(p)), None))
        res = pmap(lambda j: run(j[1]), jobs)
        for (label, _, want), r in zip(jobs, res):
            st.account(label, r)
            check_human(st, label, r)
            if want is not None:
                check_trim(st, label, r, want)
        out.append(st)


def talon(C, out):
    if not wanted("talon"):
        return
    base = os.path.join(C, "mailgun-talon")
    st = Stats("mailgun-talon standard_replies", "talon")
    d = os.path.join(base, "standard_replies")
    files = sorted(f for f in os.listdir(d) if f.endswith(".eml"))
    res = pmap(lambda f: run(read(os.path.join(d, f))), files)
    for f, r in zip(files, res):
        st.account(f, r)
        check_human(st, f, r)
        e = os.path.join(d, "expected", f[:-4] + ".txt")
        if os.path.exists(e):
            check_trim(st, f, r, read(e).decode(), keep_sig=True)
    out.append(st)

    st = Stats("mailgun-talon text_quotations", "talon")
    idx = json.load(open(os.path.join(base, "text_quotations",
                                      "index.json")))
    res = pmap(lambda e: run(wrap_text(read(os.path.join(base,
                                                         e["input"])))),
               idx)
    for e, r in zip(idx, res):
        st.account(e["input"], r)
        check_human(st, e["input"], r)
        check_trim(st, e["input"], r,
                   read(os.path.join(base, e["expected"])).decode(),
                   keep_sig=True)
    out.append(st)

    st = Stats("mailgun-talon html", "talon")
    jobs = []
    for sub in ("html_replies", "html_misc"):
        d = os.path.join(base, sub)
        for f in sorted(os.listdir(d)):
            if f.endswith(".html"):
                jobs.append((sub + "/" + f, os.path.join(d, f),
                             os.path.join(d, "expected", f[:-5] + ".txt")))
    res = pmap(lambda j: run(wrap_text(read(j[1]), "text/html")), jobs)
    for (label, _, e), r in zip(jobs, res):
        st.account(label, r)
        check_human(st, label, r)
        if os.path.exists(e):
            check_trim(st, label, r, read(e).decode(), keep_sig=True,
                       loose=True)
    out.append(st)
    if HOLDOUT is not None:
        return
    st = Stats("mailgun-talon other (robustness)")
    files = []
    for root, _, fs in os.walk(base):
        if "/standard_replies" in root or "/text_quotations" in root or \
                "/html_" in root:
            continue
        for f in fs:
            if f.endswith((".json", ".md")) or f == "LICENSE":
                continue
            files.append(os.path.join(root, f))
    files.sort()
    res = pmap(lambda f: run(read(f)), files)
    for f, r in zip(files, res):
        st.account(os.path.relpath(f, base), r)
    out.append(st)


def flufl(C, out):
    if not wanted("flufl"):
        return
    base = os.path.join(C, "flufl.bounce")
    st = Stats("flufl.bounce", "flufl")
    exp = json.load(open(os.path.join(base, "expected.json")))
    res = pmap(lambda e: run(read(os.path.join(base, e["file"]))), exp)
    for e, r in zip(exp, res):
        st.account(e["file"], r)
        perm = e.get("union_permanent") or []
        temp = e.get("union_temporary") or []
        note = e.get("note", "")
        if perm:
            truth = "bounce"
        elif temp:
            truth = "delay"
        elif "not a bounce" in note:
            truth = "reply"
        elif "qmail_08" in e["file"]:
            truth = "auto"
        else:
            truth = "bounce"
        addrs = perm + temp if (perm or temp) else []
        check_bounce(st, e["file"], r, truth, addrs)
        if truth == "reply":
            check_human(st, e["file"], r)
    out.append(st)


def bounceparser(C, out):
    if not wanted("bounceparser"):
        return
    base = os.path.join(C, "perl-Mail-DeliveryStatus-BounceParser")
    st = Stats("BounceParser", "bounceparser")
    exp = json.load(open(os.path.join(base, "expected.json")))
    res = pmap(lambda e: run(read(os.path.join(base, e["file"]))), exp)
    for e, r in zip(exp, res):
        st.account(e["file"], r)
        if e.get("auto_reply_expected"):
            truth = "auto"
        elif "is_bounce" in e:
            truth = "bounce" if e["is_bounce"] else None
        else:
            truth = None
        addrs = e.get("addresses")
        if addrs is None and e.get("reports") == 0:
            addrs = []
        check_bounce(st, e["file"], r, truth, addrs)
    out.append(st)


def robustness(name, root, out, exts=None):
    st = Stats(name)
    files = []
    for d, _, fs in os.walk(root):
        for f in fs:
            if f in ("LICENSE", "EXPECTED.md") or f.endswith(
                    (".json", ".tsv", ".ref", ".sh", ".LGPL-3")):
                continue
            files.append(os.path.join(d, f))
    files.sort()
    res = pmap(lambda f: run(read(f)), files)
    kinds = {}
    for f, r in zip(files, res):
        st.account(os.path.relpath(f, root), r)
        if r["json"]:
            kinds[r["json"]["kind"]] = kinds.get(r["json"]["kind"], 0) + 1
            base = os.path.basename(f)
            if re.search(r"vacation|auto-?reply|autoreply|out-of-office",
                         base):
                check_bounce(st, os.path.relpath(f, root), r, "auto")
    st.kinds = kinds
    out.append(st)


def wanted(fit):
    """True if a corpus fitted as fit is scored in this pass."""
    return HOLDOUT is None or HOLDOUT == fit


def build_driver():
    """Build the held-out driver beside casemail; its path or None."""
    build = os.path.dirname(args.casemail) or "."
    drv = os.path.join(build, "tests", "eval_inspect")
    r = subprocess.run(["make", "-s", "--no-print-directory",
                        "BUILD=" + build, drv],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.access(drv, os.X_OK):
        sys.stderr.write("eval: cannot build %s:\n%s" %
                         (drv, r.stdout.decode("utf-8", "replace")))
        return None
    return drv


def table(title, out):
    """Print the per-corpus table of out and its totals."""
    hdr = ("%-34s %5s %17s %17s %17s %17s %17s %5s %5s %5s %5s %5s %5s"
           % (title, "msgs", "trim exact", "bounce recall",
              "bounce precision", "rcpt exact", "auto recall", "h->b",
              "crash", "refus", "tmout", ">1s", ">100M"))
    print(hdr)
    print("-" * len(hdr))
    tot = Stats("TOTAL")
    for st in out:
        print("%-34s %5d %17s %17s %17s %17s %17s %5s %5d %5d %5d %5d %5d"
              % (st.name[:34], st.n, pct(st.trim_ok, st.trim_n),
                 pct(st.bounce_found, st.bounce_true),
                 pct(st.bounce_tp, st.bounce_pred),
                 pct(st.rcpt_ok, st.rcpt_n), pct(st.auto_ok, st.auto_n),
                 ("%d/%d" % (st.human_bounce, st.human_n)) if st.human_n
                 else "-", st.crash, st.refused, st.timeout, st.slow,
                 st.big))
        for k in ("n", "crash", "refused", "timeout", "slow", "big",
                  "trim_n", "trim_ok", "human_bounce", "human_n",
                  "rcpt_n", "rcpt_ok"):
            setattr(tot, k, getattr(tot, k) + getattr(st, k))
    print("-" * len(hdr))
    print("%-34s %5d %17s %17s %17s %17s %17s %5s %5d %5d %5d %5d %5d"
          % ("all", tot.n, pct(tot.trim_ok, tot.trim_n), "", "",
             pct(tot.rcpt_ok, tot.rcpt_n), "",
             "%d/%d" % (tot.human_bounce, tot.human_n), tot.crash,
             tot.refused, tot.timeout, tot.slow, tot.big))


def pct(a, b):
    return "%5.1f%% (%d/%d)" % (100.0 * a / b, a, b) if b else "    -"


def main():
    global args, HOLDOUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--casemail", default="build/casemail")
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--samples", default="maildir-samples")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--no-holdout", dest="holdout", action="store_false",
                    help="skip the leave-one-corpus-out pass")
    args = ap.parse_args()
    C = args.corpus
    out = []
    reply_sets(C, out)
    talon(C, out)
    flufl(C, out)
    bounceparser(C, out)
    for name in ("ruby-mail-gem", "mimekit-testdata", "cpython-test_email",
                 "gmime-tests", "nodemailer-mailparser"):
        robustness(name, os.path.join(C, name), out)
    if os.path.isdir(args.samples):
        robustness("maildir-samples", args.samples, out)
    table("corpus (every rule on)", out)
    for st in out:
        if hasattr(st, "kinds"):
            print("kinds %-28s %s" % (st.name, json.dumps(st.kinds,
                                                          sort_keys=True)))
    held = []
    if args.holdout:
        args.driver = build_driver()
        for fit in ("github", "willdurand", "crisp", "talon", "flufl",
                    "bounceparser"):
            if args.driver is None:
                break
            HOLDOUT = fit
            reply_sets(C, held)
            talon(C, held)
            flufl(C, held)
            bounceparser(C, held)
        HOLDOUT = None
        if held:
            print()
            table("held out (its own rules off)", held)
    if args.verbose:
        for st in out:
            for label, why in st.misses:
                print("[%s] %s: %s" % (st.name, label, why))
        for st in held:
            for label, why in st.misses:
                print("[held out %s] %s: %s" % (st.name, label, why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
