#!/bin/sh
# lmtp-bench.sh - casemail-lmtpd fed by Postfix's smtp-source -L
#
# SYNOPSIS
#	BUILD=build sh bench/lmtp-bench.sh [MESSAGES]
#
# DESCRIPTION
#	A fresh benchmark store (bench/init-store.sh with the fixture
#	secret), casemail-lmtpd on a unix socket, then smtp-source -L -d
#	delivering MESSAGES (default 2000) victim replies to the reply+KEY
#	address of case BENCH-1 over 1 and over 20 sessions. For each run:
#	messages per second (wall), CPU milliseconds per message of the
#	daemon with its sessions and workers (the reaped children's
#	user+sys times in /proc), and, from a separate short run under
#	strace -f, fsync/fdatasync calls per message. Every message is
#	checked to be in the store (casemail stats). Durability is as
#	configured for production: synchronous=FULL, a 250 only after the
#	commit.
#
#	Not measured here: Dovecot's LMTP server and maildrop in the same
#	run (the anchors come from ../shared/bench/anchors.sh; compare
#	ratios only within one run).
#
#	Every load is bounded: smtp-source sends exactly MESSAGES, under
#	timeout 300. Runs as root (the store's files are owner-only).
set -eu
TOP=$(pwd)
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD
M=${1:-2000}
D=${BENCH_DIR:-/var/tmp/casemail-lmtp-bench}
SRC=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SRC" ] || { echo "lmtp-bench: smtp-source (postfix) missing" >&2; exit 1; }

# cpu_children PID - user+sys clock ticks of PID's reaped children
cpu_children() {
	awk '{ print $16 + $17 }' "/proc/$1/stat"
}

start_daemon() {
	rm -rf "$D"
	sh "$TOP/bench/init-store.sh" "$D" "$BIN" "$TOP/bench/fixture.secret" \
		>/dev/null
	RCPT=$("$BIN/casemail" -c "$D/casemail.conf" address reply BENCH-1 1)
	"$BIN/casemail-lmtpd" -c "$D/casemail.conf" --socket "$D/lmtp.sock" \
		--max-sessions 40 2>"$D/lmtpd.log" &
	LPID=$!
	i=0
	while [ ! -S "$D/lmtp.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

stop_daemon() {
	kill -TERM "$LPID" 2>/dev/null || true
	wait "$LPID" 2>/dev/null || true
}

stored() {
	"$BIN/casemail" -c "$D/casemail.conf" stats |
		awk '$1 == "messages:" { print $2 }'
}

now() { python3 -c 'import time; print("%.6f" % time.time())'; }

hz=$(getconf CLK_TCK)
echo "lmtp-bench: $M messages per run, smtp-source -L -d, $(nproc) CPUs"
printf '%-28s %9s %10s %12s %8s\n' run msg/s 'CPU ms/msg' fsyncs/msg stored
for s in 1 20; do
	start_daemon
	c0=$(cpu_children "$LPID")
	t0=$(now)
	timeout 300 "$SRC" -L -d -s "$s" -m "$M" -f victim@example.net \
		-t "$RCPT" "unix:$D/lmtp.sock"
	t1=$(now)
	sleep 0.3 # the sessions end and are reaped
	c1=$(cpu_children "$LPID")
	n=$(stored)
	stop_daemon
	# fsyncs per message: a short separate run under strace
	start_daemon
	strace -f -qq -c -e trace=fsync,fdatasync -o "$D/strace.txt" \
		-p "$LPID" &
	SPID=$!
	sleep 0.5
	timeout 120 "$SRC" -L -d -s "$s" -m 200 -f victim@example.net \
		-t "$RCPT" "unix:$D/lmtp.sock"
	sleep 0.3
	kill -INT "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	stop_daemon
	f=$(awk '$NF ~ /^f(data)?sync$/ { s += $4 } END { print s + 0 }' \
		"$D/strace.txt")
	python3 - "$s" "$M" "$t0" "$t1" "$c0" "$c1" "$hz" "$f" "$n" <<'PY'
import sys
s, m, t0, t1, c0, c1, hz, f, n = sys.argv[1:]
m = int(m)
rate = m / (float(t1) - float(t0))
cpu = (int(c1) - int(c0)) * 1000.0 / int(hz) / m
print("%-28s %9.1f %10.2f %12.2f %8s" % (
    "casemail-lmtpd %s session%s" % (s, "" if s == "1" else "s"),
    rate, cpu, int(f) / 200.0, n))
PY
done
rm -rf "$D"
