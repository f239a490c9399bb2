#!/bin/sh
# lmtp-bench.sh - casemail-lmtpd beside Dovecot's LMTP server and
# maildrop's pipe rate, in one run
#
# SYNOPSIS
#	BUILD=build sh bench/lmtp-bench.sh [MESSAGES]
#
# DESCRIPTION
#	First the anchors' pipe step for maildrop alone
#	(../shared/bench/anchors.sh setup corpus pipe, PIPE_TOOLS=maildrop:
#	one process per message under pipedrive, sequential and 4-way,
#	REPS repetitions, the first PIPE_N corpus messages). Then, for
#	casemail-lmtpd and for Dovecot's lmtp service (delivering to a
#	maildir, mail_fsync=always), at 1 and 20 sessions:
#	  smtp-source -L -d: MESSAGES (default 2000) generated messages
#	  corpus: the pipe step's PIPE_N messages, each once, pipelined
#	          LMTP (bench/lmtp-drive.py)
#	each into a fresh store or maildir, REPS times. For each: messages
#	per second (wall, the median of the repetitions), CPU milliseconds per message of the server with all
#	its processes (the daemon runs under a wrapper that reads
#	RUSAGE_CHILDREN once it exits, so long-lived workers count too),
#	fsync/fdatasync calls per message (a separate run of 200 messages,
#	the first 200 of them for the corpus, under strace -f) and the number stored. casemail delivers every
#	message to the reply+KEY address of case BENCH-1 (parsed, trimmed,
#	stored in the thread, a notice queued), with synchronous=FULL and
#	a 250 only after the commit that holds the message.
#
#	The ratios at the end are the issue's targets: at 20 sessions >= 5x
#	maildrop's 4-way pipe rate and >= 2x Dovecot LMTP's; at 1 session
#	>= 2x maildrop. Compare ratios within one run only.
#
#	Every load is bounded: exactly MESSAGES per run, each under timeout
#	300. Runs as root (the servers drop to RUN_USER, default perfmail,
#	created by the anchors' setup step). Knobs: REPS (default 3),
#	PIPE_N (default 500), BASE (default /var/tmp/casemail-lmtp-bench).
set -eu
TOP=$(pwd)
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD
M=${1:-2000}
export REPS=${REPS:-3} PIPE_N=${PIPE_N:-500} N=${N:-2000}
export RUN_USER=${RUN_USER:-perfmail}
export BASE=${BASE:-/var/tmp/casemail-lmtp-bench}
ANCHORS=${ANCHORS:-$TOP/../shared/bench/anchors.sh}
D=$BASE/lmtp
SRC=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ "$(id -u)" = 0 ] || { echo "lmtp-bench: run as root" >&2; exit 1; }
[ -f "$ANCHORS" ] || { echo "lmtp-bench: no $ANCHORS" >&2; exit 1; }
[ -x /usr/lib/dovecot/lmtp ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd \
		>/dev/null
[ -x "$SRC" ] || { echo "lmtp-bench: smtp-source missing" >&2; exit 1; }

# ---- maildrop, the anchors' way, in this run
PIPE_TOOLS=maildrop bash "$ANCHORS" setup corpus pipe >/dev/null
RES=$(readlink -f "$BASE/results/latest")
LIST=$BASE/run/pipe.list

# the server's pid (the wrapper's child) and its total CPU once it ended
# wrapped CPUFILE CMD... - run CMD; write its and its descendants'
# user+sys seconds to CPUFILE when it exits
wrapped() {
	python3 -c '
import resource, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
open(sys.argv[1] + ".pid", "w").write(str(p.pid))
p.wait()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%f\n" % (r.ru_utime + r.ru_stime))' "$@"
}

# wait_sock PATH - until the socket exists (10 s at most)
wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.2
}

# start_casemail - a fresh store and daemon; SOCK, RCPT, SPID (pid)
start_casemail() {
	rm -rf "$D"
	mkdir -p "$D"
	sh "$TOP/bench/init-store.sh" "$D" "$BIN" "$TOP/bench/fixture.secret" \
		>/dev/null
	RCPT=$("$BIN/casemail" -c "$D/casemail.conf" address reply BENCH-1 1)
	SOCK=$D/lmtp.sock
	wrapped "$D/cpu" "$BIN/casemail-lmtpd" -c "$D/casemail.conf" \
		--socket "$SOCK" --max-sessions 40 2>"$D/server.log" &
	WPID=$!
	wait_sock "$SOCK"
	SPID=$(cat "$D/cpu.pid")
}

# start_dovecot - a fresh maildir and dovecot with only lmtp
start_dovecot() {
	rm -rf "$D"
	mkdir -p "$D/base" "$D/mail"
	chown "$RUN_USER:" "$D/mail"
	cat >"$D/dovecot.conf" <<EOF
base_dir = $D/base
state_dir = $D/state
log_path = $D/server.log
protocols = lmtp
ssl = no
listen = 127.0.0.1
mail_location = maildir:$D/mail/%n/Maildir
mail_fsync = always
postmaster_address = postmaster@example.test
hostname = localhost
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=$RUN_USER gid=$RUN_USER home=$D/mail/%n allow_all_users=yes
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  process_limit = 40
}
EOF
	RCPT=victim@localhost
	SOCK=$D/base/lmtp
	wrapped "$D/cpu" /usr/sbin/dovecot -F -c "$D/dovecot.conf" \
		2>>"$D/server.log" &
	WPID=$!
	wait_sock "$SOCK"
	SPID=$(cat "$D/cpu.pid")
}

stop_server() {
	kill -TERM "$SPID" 2>/dev/null || true
	wait "$WPID" 2>/dev/null || true
}

stored() {
	case $1 in
	casemail) "$BIN/casemail" -c "$D/casemail.conf" stats |
		awk '$1 == "messages:" { print $2 }' ;;
	dovecot) find "$D/mail" -path '*/new/*' -type f | wc -l ;;
	esac
}

# load DRIVER SESSIONS COUNT - deliver; "seconds=S" on stdout
load() {
	case $1 in
	smtp-source)
		t0=$(date +%s.%N)
		timeout 300 "$SRC" -L -d -s "$2" -m "$3" \
			-f victim@example.net -t "$RCPT" "unix:$SOCK"
		t1=$(date +%s.%N)
		echo "seconds=$(echo "$t1 $t0" | awk '{ print $1 - $2 }')" ;;
	corpus)
		timeout 300 python3 "$TOP/bench/lmtp-drive.py" "$SOCK" "$2" \
			"$LIST" "$3" victim@example.net "$RCPT" ;;
	esac
}

OUT=$RES/lmtp.tsv
echo "server driver sessions msgs seconds cpu_s fsyncs fsync_msgs stored" |
	tr ' ' '\t' >"$OUT"
FM=200
[ "$PIPE_N" -lt $FM ] && FM=$PIPE_N
for drv in smtp-source corpus; do
	# the corpus's messages are delivered once each: a second copy
	# would be a duplicate, cheaper for casemail than a delivery
	m=$M
	[ "$drv" = corpus ] && m=$PIPE_N
	for srv in casemail dovecot; do
		for s in 1 20; do
		for rep in $(seq 1 "$REPS"); do
			"start_$srv"
			r=$(load "$drv" "$s" "$m")
			n=$(stored "$srv")
			stop_server
			cpu=$(cat "$D/cpu")
			sec=$(echo "$r" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
				"$srv" "$drv" "$s" "$m" "$sec" "$cpu" - - "$n" \
				>>"$OUT"
		done
			# fsyncs: a short separate run under strace
			"start_$srv"
			strace -f -qq -c -e trace=fsync,fdatasync \
				-o "$D/strace.txt" -p "$SPID" &
			TPID=$!
			sleep 0.5
			load "$drv" "$s" "$FM" >/dev/null
			sleep 0.3
			kill -INT "$TPID" 2>/dev/null || true
			wait "$TPID" 2>/dev/null || true
			stop_server
			f=$(awk '$NF ~ /^f(data)?sync$/ { s += $4 }
				END { print s + 0 }' "$D/strace.txt")
			printf '%s\t%s\t%s\t-\t-\t-\t%s\t%s\t-\n' \
				"$srv" "$drv" "$s" "$f" "$FM" >>"$OUT"
		done
	done
done
rm -rf "$D"
python3 "$TOP/bench/lmtp-ratios.py" "$RES/raw.tsv" "$OUT" |
	tee "$RES/lmtp-ratios.txt"
