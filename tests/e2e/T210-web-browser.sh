#!/bin/sh
# T210-web-browser.sh - the portal in a real browser (headless Chromium)
#
# An officer posts an update; casemail-send writes the notice into the
# outbox; its login link (the public https://portal.example.org address
# mapped to the portal on 127.0.0.1, as the TLS proxy would) is opened
# in Debian's Chromium driven by playwright-core (web-browser.mjs): sign
# in, register, read the update, reply. Then the reply is in the thread
# (casemail thread --json) as the victim's, from the web, and after
# casemail-send --once the officer's notification carrying it is in the
# outbox. The phone-sized screenshot of the case page is kept in
# $BUILD/test-artefacts/web-case-phone.png.
#
# playwright-core comes from npm into $BUILD/playwright (once; later runs
# reuse it). The browser is /usr/bin/chromium (Debian package chromium):
# when it is missing the test fails, it does not skip.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

sl_need_bins
web_need
if [ ! -x /usr/bin/chromium ]; then
	echo "not ok 1 - /usr/bin/chromium installed (apt-get install chromium; make check installs it)"
	echo "1..1"
	exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "not ok 1 - node and npm installed"
	echo "1..1"
	exit 1
fi
PW="$TOP/$BUILD/playwright"
if [ ! -f "$PW/node_modules/playwright-core/package.json" ]; then
	mkdir -p "$PW"
	cp "$TOP/tests/e2e/playwright-package.json" "$PW/package.json"
	ok "npm install playwright-core" timeout 300 npm install \
		--prefix "$PW" --no-audit --no-fund --no-save \
		--loglevel=error playwright-core@1
fi
ART="$TOP/$BUILD/test-artefacts"
mkdir -p "$ART"
SHOT="$ART/web-case-phone.png"
rm -f "$SHOT"

sl_conf
sl_case
c update "$SL_REF" --officer "$SL_OFFICER" \
	--text "We have found the bicycle and it is at the station. You can collect it on weekdays between 9:00 and 17:00; please bring this reference." >/dev/null
ok "send the notice" send --once
F=$(newest_notice)
TOK=$(link_of "$F")
like "a login link in the notice" "$TOK" '^[A-Za-z0-9_-]{43}$'
web_conf
web_start

REPLY="Thank you! I can come on Tuesday at 10:00. Is the lock there too?"
timeout 150 node "$TOP/tests/e2e/web-browser.mjs" "$PW" \
	"$WEB_URL/l/$TOK" "$SHOT" "$REPLY" >"$W/browser.tap" 2>"$W/browser.err"
rc=$?
# renumber the browser's TAP lines into ours
while IFS= read -r line; do
	case "$line" in
	"ok "*) t_report 0 "browser: ${line#ok * - }" ;;
	"not ok "*) t_report 1 "browser: ${line#not ok * - }" ;;
	"#"*|"Bail out!"*) echo "# $line" ;;
	esac
done <"$W/browser.tap"
is "browser run exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# stderr: /' "$W/browser.err" | head -20

J=$(c thread "$SL_REF" --json)
is "the reply is in the thread" \
	"$(printf '%s' "$J" | jq -r '[.messages[] | select(.author == "victim")][0].body')" \
	"$REPLY"
is "as the victim's, from the web, posted" \
	"$(printf '%s' "$J" | jq -r '[.messages[] | select(.author == "victim")][0] | .source + " " + .status')" \
	"web posted"
is "registered with the new name" \
	"$(sql "SELECT name || '/' || registered FROM victims WHERE id = $VID")" \
	"Jane Q. Doe/1"
ok "casemail-send --once" send --once
O=$(grep -l 'X-Casemail-Internal' "$W"/outbox/new/* | head -1)
like "the officer's notification is in the outbox" "$O" "."
is "to the officer" "$(python3 "$TOP/tests/e2e/mailcheck.py" "$O" header To)" \
	"PC Smith <$SL_OFFICER>"
like "carrying the reply" "$(python3 "$TOP/tests/e2e/mailcheck.py" "$O" text)" \
	"I can come on Tuesday"
ok "screenshot kept" test -s "$SHOT"
like "it is a PNG" "$(head -c 8 "$SHOT" | od -An -c | tr -d ' ')" 'PNG'
web_stop
is "portal stops cleanly" "$WEB_RC" 0
ok "audit chain intact" c audit verify
finish
