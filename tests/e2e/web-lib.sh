# web-lib.sh - helpers for the casemail-web tests (T2xx-web-*)
#
# SYNOPSIS
#	. "$TOP/tests/lib.sh"
#	. "$TOP/tests/e2e/sender-lib.sh"
#	. "$TOP/tests/e2e/web-lib.sh"
#	web_conf [extra lines...]   # $WCONF: $CONF with the local portal_url
#	web_start / web_stop        # casemail-web on $WEB_URL (127.0.0.1)
#	link_of FILE                # the login token in a notice file
#	web_signin TOKEN JAR        # press the sign-in button: a session in JAR
#	web_csrf JAR PATH           # the CSRF token of the form at PATH
#	web_register JAR NAME [F]   # register the signed-in victim
#
# DESCRIPTION
#	The sender's configuration keeps portal_url https://portal.example.org
#	(the public address in links, as behind a TLS proxy); the portal's
#	copy of it, $WCONF, says http://127.0.0.1:PORT, the address the test
#	talks to. Every wait is bounded; the EXIT trap of sender-lib.sh is
#	extended to stop the portal.

WEB_PID=""
WEB_PORT=""
WEB_URL=""

# web_cleanup - stop the portal and what sender-lib.sh started
web_cleanup() {
	web_stop
	sl_cleanup
}
trap 'web_cleanup' EXIT

# web_need - the portal is built
web_need() {
	if [ ! -x "$BIN/casemail-web" ]; then
		echo "not ok 1 - casemail-web built (run make)"
		echo "1..1"
		exit 1
	fi
}

# web_conf [lines] - $WCONF for the portal on a free port
web_conf() {
	if [ -z "$WEB_PORT" ]; then
		sl_port || { echo "Bail out! no free port"; exit 1; }
		WEB_PORT=$SINK_PORT
		SINK_PORT=""
	fi
	WEB_URL="http://127.0.0.1:$WEB_PORT"
	WCONF="$W/web.conf"
	{
		sed "s|^portal_url.*|portal_url = $WEB_URL|" "$CONF"
		echo "portal_listen = 127.0.0.1:$WEB_PORT"
		for l in "$@"; do echo "$l"; done
	} >"$WCONF"
}

# web_start - run casemail-web on $WCONF until web_stop
web_start() {
	web_stop
	"$BIN/casemail-web" -c "$WCONF" -f -v >>"$W/web.log" 2>&1 &
	WEB_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		if sl_listening "$WEB_PORT"; then
			return 0
		fi
		if ! kill -0 "$WEB_PID" 2>/dev/null; then
			break
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "Bail out! casemail-web did not start: $(tail -5 "$W/web.log")"
	exit 1
}

# web_stop - SIGTERM and wait (bounded); WEB_RC gets its exit status
web_stop() {
	WEB_RC=""
	if [ -n "$WEB_PID" ]; then
		kill -TERM "$WEB_PID" 2>/dev/null
		i=0
		while kill -0 "$WEB_PID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$WEB_PID" 2>/dev/null
		wait "$WEB_PID" 2>/dev/null
		WEB_RC=$?
	fi
	WEB_PID=""
	return 0
}

# link_of FILE - the token of the login link in a notice
link_of() {
	grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' "$1" |
		head -1 | sed 's|.*/l/||'
}

# newest_notice - the newest file in the outbox
newest_notice() {
	ls -t "$W"/outbox/new/* 2>/dev/null | head -1
}

# csrf_of HTML - the value of the first csrf field
csrf_of() {
	printf '%s\n' "$1" | grep -oE 'name="csrf" value="[^"]+"' | head -1 |
		sed 's/.*value="//; s/"$//'
}

# tcheck TOKEN - casemail token check, the token on stdin (a token may
# start with '-', which an argument could not)
tcheck() {
	printf '%s\n' "$1" | "$BIN/casemail" -c "$CONF" token check -
}

# web_signin TOKEN JAR - GET the sign-in page of TOKEN and press its
# button with cookie jar JAR; true when a session started (303)
web_signin() {
	_b=$(curl -s --max-time 10 -c "$2" -b "$2" "$WEB_URL/l/$1")
	_c=$(csrf_of "$_b")
	_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		-c "$2" -b "$2" -d "csrf=$_c" "$WEB_URL/l/$1")
	[ "$_code" = 303 ]
}

# web_csrf JAR PATH - the session's CSRF token, from the form at PATH
web_csrf() {
	csrf_of "$(curl -s --max-time 10 -c "$1" -b "$1" "$WEB_URL$2")"
}

# web_register JAR NAME [FIELDS] - register the signed-in victim by
# email (FIELDS: more form fields, e.g. "&discreet=1"); true on 303
web_register() {
	_c=$(web_csrf "$1" /register)
	_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		-c "$1" -b "$1" -d "csrf=$_c&channel=email${3:-}" \
		--data-urlencode "name=$2" "$WEB_URL/register")
	[ "$_code" = 303 ]
}
