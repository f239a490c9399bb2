# lmtp-lib.sh - start and stop casemail-lmtpd for the T5xx-lmtp tests
#
# SYNOPSIS
#	. "$TOP/tests/lib.sh"
#	. "$TOP/tests/e2e/postfix-lib.sh"
#	. "$TOP/tests/e2e/lmtp-lib.sh"
#	lmtpd_start [ARGS...]     # as user casemail on $LSOCK, log $LLOG
#	lc send FROM FILE RCPT... # tests/e2e/lmtp-client.py on $LSOCK
#	lmtpd_stop                # SIGTERM, wait (bounded) for the exit
#	lmtpd_alive               # true while the daemon runs
#
# DESCRIPTION
#	Sourced after postfix-lib.sh (whose EXIT trap stops every process
#	given to e2e_track, so the daemon never outlives a failed test).
#	The daemon runs in the foreground with -f (log lines on stderr,
#	appended to $LLOG) in a process group of its own (setsid), so that
#	lmtpd_kill9 can kill it with every session and worker; LPID is its
#	pid. LMTPD_ROOT=1 starts it as
#	root with --user casemail (the wiring for Postfix's private/
#	directory), which binds first and then drops privileges.
#	Every wait is bounded in count and time.

LSOCK="$W/lmtp.sock"
LLOG="$W/lmtpd.log"
LPID=""

# lmtpd_wait_socket - true once the socket accepts a connection (10 s)
lmtpd_wait_socket() {
	i=0
	while [ $i -lt 100 ]; do
		if [ -S "$LSOCK" ] && python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
sys.exit(0 if s.recv(100).startswith(b"220") else 1)' "$LSOCK" 2>/dev/null
		then
			return 0
		fi
		if [ -n "$LPID" ] && ! kill -0 "$LPID" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# lmtpd_start [ARGS...] - start the daemon on $LSOCK; true once it
# answers
lmtpd_start() {
	if [ "${LMTPD_ROOT:-0}" = 1 ]; then
		setsid "$BIN/casemail-lmtpd" -c "$CONF" -f --socket "$LSOCK" \
			--user "$CM_USER" "$@" >>"$LLOG" 2>&1 &
	elif [ "$(id -u)" = 0 ]; then
		# a simple command, so that $! is the daemon itself
		setsid setpriv --reuid="$CM_USER" --regid="$CM_GROUP" \
			--clear-groups "$BIN/casemail-lmtpd" -c "$CONF" -f --socket "$LSOCK" \
			"$@" >>"$LLOG" 2>&1 &
	else
		setsid "$BIN/casemail-lmtpd" -c "$CONF" -f --socket "$LSOCK" \
			"$@" >>"$LLOG" 2>&1 &
	fi
	LPID=$!
	e2e_track "$LPID"
	lmtpd_wait_socket
}

# lmtpd_alive - true while the daemon runs
lmtpd_alive() {
	[ -n "$LPID" ] && kill -0 "$LPID" 2>/dev/null
}

# lmtpd_stop [SECONDS] - SIGTERM and wait for the exit (default 30 s);
# the exit status in LRC (or "timeout")
lmtpd_stop() {
	LRC=timeout
	[ -n "$LPID" ] || return 1
	kill -TERM "$LPID" 2>/dev/null
	i=0
	end=$((${1:-30} * 10))
	while kill -0 "$LPID" 2>/dev/null && [ $i -lt $end ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$LPID" 2>/dev/null; then
		return 1
	fi
	wait "$LPID" 2>/dev/null
	LRC=$?
	LPID=""
	return 0
}

# lc ARGS... - the LMTP client on $LSOCK (stdout in $OUT via ok/t_run)
lc() {
	python3 "$TOP/tests/e2e/lmtp-client.py" "$LSOCK" "$@"
}

# crlf FILE - FILE with LF line ends turned into CRLF, in place
crlf() {
	sed -i 's/\r*$/\r/' "$1"
}

# lmtpd_kill9 - SIGKILL the daemon's whole process group (master,
# sessions, workers) and reap it
lmtpd_kill9() {
	[ -n "$LPID" ] || return 1
	kill -9 -- "-$LPID" 2>/dev/null || kill -9 "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	LPID=""
	return 0
}

# lmtpd_postfix [N] - send this test's Postfix mail for $DOMAIN to the
# daemon through an lmtp(8) service "cmlmtp" with XFORWARD (as
# conf/postfix/ shows); N is its destination concurrency (default 20)
lmtpd_postfix() {
	{
		echo "cmlmtp    unix  -       -       n       -       -       lmtp"
		echo "  -o lmtp_send_xforward_command=yes"
		echo "  -o soft_bounce=yes"
	} >>"$PF_ETC/master.cf"
	{
		echo "cmlmtp_destination_concurrency_limit = ${1:-20}"
		echo "cmlmtp_initial_destination_concurrency = ${1:-20}"
		echo "cmlmtp_destination_recipient_limit = 50"
	} >>"$PF_ETC/main.cf"
	printf '%s\tcmlmtp:unix:%s\n' "$DOMAIN" "$LSOCK" >"$PF_ETC/transport"
	postmap -c "$PF_ETC" "hash:$PF_ETC/transport"
	postfix -c "$PF_ETC" reload >/dev/null 2>&1
}

# lmtp_log_count PATTERN - maillog delivery lines through the daemon's
# socket that match PATTERN (grep -E)
lmtp_log_count() {
	[ -f "$PF_LOG" ] || { echo 0; return 0; }
	grep "lmtp.sock" "$PF_LOG" | grep ' status=' | grep -cE -- "$1"
}
