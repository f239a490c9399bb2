#!/bin/sh
# dovecot-ctl.sh - drive the private Dovecot of dovecot-lib.sh from outside
#
# SYNOPSIS
#	sh tests/e2e/dovecot-ctl.sh start DIR     # prints DV_*=... lines
#	sh tests/e2e/dovecot-ctl.sh stop DIR
#	sh tests/e2e/dovecot-ctl.sh append DIR MAILBOX FILE
#	sh tests/e2e/dovecot-ctl.sh create DIR MAILBOX
#	sh tests/e2e/dovecot-ctl.sh count DIR MAILBOX
#	sh tests/e2e/dovecot-ctl.sh seen DIR MAILBOX
#	sh tests/e2e/dovecot-ctl.sh kick DIR      # drop every session
#	sh tests/e2e/dovecot-ctl.sh               # self-test, prints TAP
#
# DESCRIPTION
#	For programs (the cmocka test of lib/imap.c) that need a real IMAP
#	server: "start" runs Dovecot under DIR/dovecot and leaves it running,
#	printing its coordinates (DV_PORT, DV_PLAIN_PORT, DV_CA, DV_USER,
#	DV_PASS, DV_HOST, DV_ALT_HOST, DV_CONF) one NAME=VALUE per line; they
#	are also kept in DIR/dovecot/env for the other commands. "stop"
#	stops it. "append" puts FILE into MAILBOX with IMAP APPEND (unread);
#	"create" makes MAILBOX; "count" and "seen" print the number of
#	messages and of \Seen messages, as Dovecot itself reports them
#	(doveadm); "kick" drops every IMAP session of the test account.
#	stdout of "start" is the coordinates only; progress and errors go
#	to stderr.
#
#	Without arguments the rig checks itself and prints TAP: start,
#	APPEND, count, exact bytes back, the CA needed, STARTTLS, stop.
#
# DIAGNOSTICS
#	Exit 0 on success; 1 with a reason on stderr ("Bail out!" lines on
#	stdout when Dovecot cannot be started).

set -u
TOP=${TOP:-$(pwd)}
here=$(dirname "$0")

# ctl_load DIR - point the rig at DIR/dovecot and read its coordinates
ctl_load() {
	W=$(cd "$1" 2>/dev/null && pwd) || { echo "$0: no directory $1" >&2;
		exit 1; }
	T_NAME=$(basename "$W")
	DV_DIR="$W/dovecot"
	DV_NO_TRAP=1
	. "$here/dovecot-lib.sh"
	if [ -f "$DV_DIR/env" ]; then
		. "$DV_DIR/env"
	fi
}

# ctl_selftest - the rig's own TAP test
ctl_selftest() {
	. "$TOP/tests/lib.sh"
	. "$here/dovecot-lib.sh"
	dv_start
	echo "# dovecot on 127.0.0.1:$DV_PORT (plain $DV_PLAIN_PORT)"
	m="$W/msg.eml"
	printf 'From: a@example.org\r\nTo: b@example.org\r\n' >"$m"
	printf 'Subject: rig\r\n\r\nbody \303\251\r\n' >>"$m"
	ok "APPEND over imaps with the test CA" dv_append "$DV_USER" INBOX "$m"
	is "INBOX holds one message" "$(dv_count "$DV_USER" INBOX)" 1
	is "not seen" "$(dv_count_seen "$DV_USER" INBOX)" 0
	ok "fetch it back" curl --silent --max-time 30 --ssl-reqd \
		--cacert "$DV_CA" --user "$DV_USER:$DV_PASS" \
		--output "$W/back.eml" \
		"imaps://$DV_HOST:$DV_PORT/INBOX/;UID=1"
	ok "the same bytes come back" cmp "$m" "$W/back.eml"
	fails "the CA is needed" curl --silent --max-time 30 --ssl-reqd \
		--user "$DV_USER:$DV_PASS" "imaps://$DV_HOST:$DV_PORT/INBOX"
	ok "plain port offers STARTTLS" sh -c \
		"printf 'a CAPABILITY\r\nb LOGOUT\r\n' | timeout 10 \
		curl --silent telnet://$DV_HOST:$DV_PLAIN_PORT | \
		grep -q STARTTLS"
	dv_stop
	fails "stopped" dv_listening
	finish
}

cmd=${1:-}
case "$cmd" in
"")
	ctl_selftest
	;;
start)
	[ $# = 2 ] || { echo "usage: $0 start DIR" >&2; exit 1; }
	mkdir -p "$2"
	ctl_load "$2"
	if [ -f "$DV_DIR/run/master.pid" ] && kill -0 \
	    "$(dv_master_pid)" 2>/dev/null; then
		dv_stop
	fi
	rm -rf "$DV_DIR"
	dv_start >&2
	dv_env >"$DV_DIR/env"
	cat "$DV_DIR/env"
	;;
stop)
	[ $# = 2 ] || { echo "usage: $0 stop DIR" >&2; exit 1; }
	ctl_load "$2"
	dv_stop
	;;
append)
	[ $# = 4 ] || { echo "usage: $0 append DIR MAILBOX FILE" >&2; exit 1; }
	ctl_load "$2"
	dv_append "$DV_USER" "$3" "$4" >&2
	;;
create)
	[ $# = 3 ] || { echo "usage: $0 create DIR MAILBOX" >&2; exit 1; }
	ctl_load "$2"
	dv_create "$DV_USER" "$3"
	;;
count)
	[ $# = 3 ] || { echo "usage: $0 count DIR MAILBOX" >&2; exit 1; }
	ctl_load "$2"
	dv_count "$DV_USER" "$3"
	;;
kick)
	[ $# = 2 ] || { echo "usage: $0 kick DIR" >&2; exit 1; }
	ctl_load "$2"
	dv_doveadm kick "$DV_USER" >&2
	;;
seen)
	[ $# = 3 ] || { echo "usage: $0 seen DIR MAILBOX" >&2; exit 1; }
	ctl_load "$2"
	dv_count_seen "$DV_USER" "$3"
	;;
*)
	echo "$0: unknown command $cmd" >&2
	exit 1
	;;
esac
