#!/bin/sh
# T320-demo-link.sh - the link make demo prints at the end works
#
# make demo runs scripts/demo.sh (which redeems the first notice's link
# itself, to show that a link works once) and then scripts/web-demo.sh
# start, whose last line offers "sign in as the victim (the link works
# once): URL". Both are run here as make demo runs them, in a directory
# of the test's own (DEMO_DIR) and on a free port; then the printed link
# is used with curl as a browser would: the page has a sign-in button
# (not "This link has expired"), pressing it signs in, the first visit
# registers, and the case page shows the officer's update. A second use
# of the same link is refused.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

sl_need_bins
[ -x "$BIN/casemail-web" ] || { echo "not ok 1 - casemail-web built"; echo "1..1"; exit 1; }
sl_port || { echo "Bail out! no free port"; exit 1; }
PORT=$SINK_PORT
SINK_PORT=""
DD=$W/demo
URL="http://127.0.0.1:$PORT"
demo_stop() {
	(cd "$TOP" && DEMO_DIR="$DD" sh scripts/web-demo.sh stop) >/dev/null 2>&1
	sl_cleanup
}
trap 'demo_stop' EXIT

cd "$TOP" || exit 1
ok "the demo runs" env DEMO_DIR="$DD" BUILD="$BUILD" sh scripts/demo.sh
like "and redeems its first link itself" "$ERR" "a second redeem is refused|token already used"
ok "web-demo.sh start" env DEMO_DIR="$DD" BUILD="$BUILD" PORT="$PORT" \
	sh scripts/web-demo.sh start
LINK=$(printf '%s\n' "$OUT" | sed -n 's/^sign in as the victim (the link works once): //p')
like "it prints a sign-in link on the portal" "$LINK" \
	"^$URL/l/[A-Za-z0-9_-]{43}$"

JAR="$W/jar"
# hget URL [curl args...] - body in $BODY, headers in $HDR, status $CODE
hget() {
	u=$1
	shift
	CODE=$(curl -s -o "$W/body" -D "$W/hdr" -w '%{http_code}' \
		--max-time 10 -c "$JAR" -b "$JAR" "$@" "$u")
	BODY=$(cat "$W/body")
	HDR=$(tr -d '\r' <"$W/hdr")
}
csrf_of() {
	printf '%s\n' "$1" | grep -oE 'name="csrf" value="[^"]+"' | head -1 |
		sed 's/.*value="//; s/"$//'
}

hget "$LINK"
is "opening the link: 200" "$CODE" 200
unlike "not the expired page" "$BODY" "expired"
like "a sign-in button" "$BODY" '<button type="submit">Sign in</button>'
hget "$LINK" -H "Origin: $URL" -d "csrf=$(csrf_of "$BODY")"
is "pressing it signs in: 303" "$CODE" 303
like "to the case" "$HDR" '^Location: /case$'
hget "$URL/case"
is "the first visit registers" "$CODE" 303
hget "$URL/register"
is "the register page" "$CODE" 200
hget "$URL/register" -H "Origin: $URL" \
	-d "csrf=$(csrf_of "$BODY")&name=Alex+Smith&channel=email"
is "registered: 303" "$CODE" 303
hget "$URL/case"
is "the case page: 200" "$CODE" 200
like "with the officer's update" "$BODY" "doorbell footage"
like "for the demo's case" "$BODY" "HU-20261128-0042"
unlike "and not the internal note" "$BODY" "intelligence unit"

rm -f "$JAR"
hget "$LINK"
hget "$LINK" -H "Origin: $URL" -d "csrf=$(csrf_of "$BODY")"
is "the link works once: a second sign-in is refused" "$CODE" 403
finish
