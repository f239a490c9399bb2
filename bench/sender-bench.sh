#!/bin/sh
# sender-bench.sh - casemail-send against Postfix's smtp-source
#
# SYNOPSIS
#	BUILD=build sh bench/sender-bench.sh [N]
#
# DESCRIPTION
#	Starts one smtp-sink(1) on loopback. Queues N (default 5000) email
#	notices in a fresh store (inserted with sqlite3: the bench measures
#	sending, not queueing), then times `casemail-send --once` draining
#	them over one SMTP connection (a login token minted and stored per
#	notice and the Message-ID recorded, committed before the batch is
#	sent; outcomes committed with the next claim; synchronous=FULL;
#	the whole process timed, start-up included), and smtp-source -d
#	sending N messages of the same size over one connection into the
#	same sink. Then the same with 4 connections against
#	smtp-source -s 4: one casemail-send --connections 4 (one process
#	keeping a message in flight on each of 4 SMTP sessions while it
#	alone claims and records the batches: one writer in the store, as
#	smtp_connections = 4 would run it). Prints messages per second and
#	the ratios; the target is a ratio of at least 0.5 in both lines.
#	For comparison only, a last line times 4 separate casemail-send
#	processes (one connection each) draining N more notices at once:
#	the setup that was measured before smtp_connections existed; they
#	contend for the store's one writer, and it must stay correct.
#	Exit 1 if a notice was not sent or smtp-sink/smtp-source is missing.
set -eu
BUILD=${BUILD:-build}
N=${1:-5000}
TOP=$(pwd)
BIN=$TOP/$BUILD
D=$TOP/$BUILD/bench-sender
PATH=$PATH:/usr/sbin:/sbin
for c in smtp-sink smtp-source sqlite3 python3; do
	command -v $c >/dev/null 2>&1 || { echo "sender-bench: $c missing"; exit 1; }
done
rm -rf "$D"
mkdir -p "$D"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U=""
[ "$(id -u)" = 0 ] && U="-u nobody"
# shellcheck disable=SC2086
smtp-sink $U -c 127.0.0.1:$PORT 256 >"$D/sink.log" 2>&1 &
SINK=$!
trap 'kill $SINK 2>/dev/null' EXIT
sleep 0.5

cat >"$D/casemail.conf" <<CONF
database = $D/casemail.db
spool_dir = $D/spool
secret_file = $D/secret
outbox_dir = $D/outbox
mail_domain = cases.example.org
force_name = Example Police
portal_url = https://portal.example.org
template_dir = $TOP/conf/templates
smtp_url = smtp://127.0.0.1:$PORT/bench.test
send_batch = ${SEND_BATCH:-50}
CONF
cm() { "$BIN/casemail" -c "$D/casemail.conf" "$@" >/dev/null; }
cm init
cm officer add --email pc@police.example.org --name "PC Bench"
cm case add HU-1 --oic pc@police.example.org
cm victim add HU-1 --name "Jane Doe" --email jane@example.net

queue() { # n
	sqlite3 "$D/casemail.db" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL
	  SELECT i + 1 FROM c WHERE i < $1) INSERT INTO notices (case_id,
	  victim_id, kind, channel, status, attempts, next_attempt_at,
	  lease_until, created_at, updated_at) SELECT 1, 1, 'update',
	  'email', 'queued', 0, strftime('%s', 'now') - 1, 0,
	  strftime('%s', 'now') - 1, strftime('%s', 'now') - 1 FROM c;"
}
now() { python3 -c 'import time; print("%.6f" % time.time())'; }
rate() { # n t0 t1
	python3 -c "import sys; print('%.0f' % ($1 / ($3 - $2)))"
}

# one message as built, for the payload size of smtp-source
queue 1
"$BIN/casemail-send" -c "$D/casemail.conf" --dry-run >"$D/one.txt"
SIZE=$(wc -c <"$D/one.txt")
"$BIN/casemail-send" -c "$D/casemail.conf" --once 2>/dev/null

queue "$N"
t0=$(now)
"$BIN/casemail-send" -c "$D/casemail.conf" --once 2>"$D/send1.log"
t1=$(now)
t2=$(now)
smtp-source -d -s 1 -m "$N" -l "$SIZE" -f bench@bench.test \
	-t jane@example.net 127.0.0.1:$PORT
t3=$(now)
queue "$N"
t4=$(now)
"$BIN/casemail-send" -c "$D/casemail.conf" --connections 4 --once \
	2>"$D/send4.log"
t5=$(now)
t6=$(now)
smtp-source -d -s 4 -m "$N" -l "$SIZE" -f bench@bench.test \
	-t jane@example.net 127.0.0.1:$PORT
t7=$(now)
queue "$N"
t8=$(now)
PIDS=""
for k in 1 2 3 4; do
	"$BIN/casemail-send" -c "$D/casemail.conf" --once 2>"$D/send4.$k.log" &
	PIDS="$PIDS $!"
done
for p in $PIDS; do
	wait "$p"
done
t9=$(now)

sent=$(sqlite3 "$D/casemail.db" "SELECT count(*) FROM notices WHERE status = 'sent'")
want=$((3 * N + 1))
c1=$(rate "$N" "$t0" "$t1"); s1=$(rate "$N" "$t2" "$t3")
c4=$(rate "$N" "$t4" "$t5"); s4=$(rate "$N" "$t6" "$t7")
p4=$(rate "$N" "$t8" "$t9")
echo "sender-bench: $N notices of $SIZE bytes, tokens minted, queue durable"
printf '  1 connection:  casemail-send %6s msg/s  smtp-source %6s msg/s  ratio %s\n' \
	"$c1" "$s1" "$(python3 -c "print('%.2f' % ($c1 / $s1))")"
printf '  4 connections: casemail-send %6s msg/s  smtp-source %6s msg/s  ratio %s\n' \
	"$c4" "$s4" "$(python3 -c "print('%.2f' % ($c4 / $s4))")"
printf '  (4 processes of 1 connection: %6s msg/s, ratio %s; not a target)\n' \
	"$p4" "$(python3 -c "print('%.2f' % ($p4 / $s4))")"
if [ "$sent" != "$want" ]; then
	echo "sender-bench: only $sent of $want notices sent"
	exit 1
fi
