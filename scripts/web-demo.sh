#!/bin/sh
# web-demo.sh - the portal on the demo store: start it, print a link, stop it
#
# SYNOPSIS
#	BUILD=build sh scripts/web-demo.sh start   # after scripts/demo.sh
#	sh scripts/web-demo.sh stop
#
# DESCRIPTION
#	start: writes var/demo/web.conf (the demo config with portal_url
#	http://127.0.0.1:$PORT, PORT default 8080), starts casemail-web in
#	the background (pid in var/demo/web.pid, log in var/demo/web.log),
#	sends the queued notices (casemail-send --once into the outbox) and
#	prints the portal URL with a fresh login link from the newest victim
#	notice, to open in a browser. The notices carry the public
#	https://portal.example.org address; a TLS proxy would map it to the
#	portal, here the script does.
#	stop: SIGTERM to the recorded pid, then removes the pid file.
set -eu
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD
D=$(pwd)/var/demo
PORT=${PORT:-8080}
PIDF=$D/web.pid

stop() {
	if [ -f "$PIDF" ]; then
		pid=$(cat "$PIDF")
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		rm -f "$PIDF"
		echo "casemail-web stopped"
	fi
}

case "${1:-}" in
stop)
	stop
	exit 0
	;;
start) ;;
*)
	echo "usage: sh scripts/web-demo.sh start|stop" >&2
	exit 64
	;;
esac

[ -f "$D/casemail.conf" ] || { echo "run make demo first" >&2; exit 1; }
stop
grep -q '^template_dir' "$D/casemail.conf" ||
	echo "template_dir = $(pwd)/conf/templates" >>"$D/casemail.conf"
grep -vE '^(portal_url|portal_listen)' "$D/casemail.conf" >"$D/web.conf"
cat >>"$D/web.conf" <<EOF
portal_url = http://127.0.0.1:$PORT
portal_listen = 127.0.0.1:$PORT
EOF
"$BIN/casemail-web" -c "$D/web.conf" -f >"$D/web.log" 2>&1 &
echo $! >"$PIDF"
"$BIN/casemail-send" -c "$D/casemail.conf" --once >/dev/null 2>&1 || true
TOK=""
for f in $(ls -t "$D"/outbox/new/* 2>/dev/null); do
	TOK=$(grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' "$f" |
		head -1 | sed 's|.*/l/||')
	[ -n "$TOK" ] && break
done
i=0
while [ $i -lt 50 ] && ! grep -q 'listening on' "$D/web.log"; do
	sleep 0.1
	i=$((i + 1))
done
grep -q 'listening on' "$D/web.log" || {
	echo "casemail-web did not start:" >&2
	cat "$D/web.log" >&2
	stop
	exit 1
}
echo "portal: http://127.0.0.1:$PORT/ (log $D/web.log, stop with: sh scripts/web-demo.sh stop)"
if [ -n "$TOK" ]; then
	echo "sign in as the victim (the link works once): http://127.0.0.1:$PORT/l/$TOK"
else
	echo "no login link in the outbox: post an update and run this again"
fi
