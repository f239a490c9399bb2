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
#	prints the portal URL with a login link that still works, to open
#	in a browser: the newest victim notice's or, when the demo has used
#	that one already, a fresh one asked of the portal as the victim
#	would ask on the "link expired" page (POST /fresh), then sent. The notices carry the public
#	https://portal.example.org address; a TLS proxy would map it to the
#	portal, here the script does.
#	stop: SIGTERM to the recorded pid, then removes the pid file.
#	DEMO_DIR (default ./var/demo) is the demo's directory.
set -eu
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD
D=${DEMO_DIR:-$(pwd)/var/demo}
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

# newest_link - the login token of the newest victim notice in the outbox
newest_link() {
	for f in $(ls -t "$D"/outbox/new/* 2>/dev/null); do
		t=$(grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' "$f" |
			head -1 | sed 's|.*/l/||')
		[ -n "$t" ] && { echo "$t"; return 0; }
	done
	return 0
}
# valid TOKEN - the token can still sign in (given on stdin: a token
# may begin with '-')
valid() {
	printf '%s\n' "$1" | "$BIN/casemail" -c "$D/casemail.conf" \
		token check - >/dev/null 2>&1
}

"$BIN/casemail-send" -c "$D/casemail.conf" --once >/dev/null 2>&1 || true
TOK=$(newest_link)
if [ -n "$TOK" ] && ! valid "$TOK"; then
	# make demo used that link already (a link works once): ask the
	# portal for a fresh one, as the victim would on the "link
	# expired" page, and send it
	python3 - "http://127.0.0.1:$PORT" "$TOK" <<'PY' || true
import http.cookiejar, re, sys, urllib.parse, urllib.request
base, tok = sys.argv[1], sys.argv[2]
op = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
page = op.open(base + "/l/" + tok, timeout=10).read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
body = urllib.parse.urlencode({"csrf": csrf, "token": tok}).encode()
op.open(urllib.request.Request(base + "/fresh", data=body,
                               headers={"Origin": base}),
        timeout=10).read()
PY
	"$BIN/casemail-send" -c "$D/casemail.conf" --once >/dev/null 2>&1 ||
		true
	TOK=$(newest_link)
	valid "$TOK" || TOK=""
fi
echo "portal: http://127.0.0.1:$PORT/ (log $D/web.log, stop with: sh scripts/web-demo.sh stop)"
if [ -n "$TOK" ]; then
	echo "sign in as the victim (the link works once): http://127.0.0.1:$PORT/l/$TOK"
else
	echo "no working login link in the outbox: post an update and run this again"
fi
