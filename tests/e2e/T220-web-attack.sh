#!/bin/sh
# T220-web-attack.sh - casemail-web against what an attacker (or an
# unlucky race) does, over HTTP with curl and python on 127.0.0.1
#
# A settings or unsubscribe POST racing a bounce that marks the address
# undeliverable leaves it undeliverable; the start-up warns that a
# loopback address without portal_trust_proxy puts every proxied client
# on one counter; link scanners' GETs and HEADs never lock a login link;
# a discreet victim's pages carry the discreet name and plain words; a
# victim can post a limited number of messages an hour; a POST to a
# made-up path cannot write control bytes or forged fields into the
# audit log, nor one row per path; 200 slow clients cannot keep a real
# request from being answered in under a second, and a request head
# that takes too long is cut.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

sl_need_bins
web_need
sl_conf
sl_case
update 1
ok "send the notice" send --once
TOK=$(link_of "$(grep -l "To: Jane Doe" "$W"/outbox/new/* | head -1)")
like "a login link" "$TOK" '^[A-Za-z0-9_-]{43}$'
# a small connection limit: 200 slow clients would hold all of it
web_conf "portal_connections = 100"
web_start
JAR="$W/jar"

# ---- the proxy pairing is warned about ----
like "loopback without portal_trust_proxy: a warning at start" \
	"$(cat "$W/web.log")" 'warning: portal_listen 127\.0\.0\.1:[0-9]+ is a loopback address but portal_trust_proxy = no'

# ---- link scanners do not lock a link ----
n=0
while [ $n -lt 10 ]; do
	curl -s -o /dev/null --max-time 5 "$WEB_URL/l/$TOK"
	curl -s -o /dev/null --max-time 5 -I "$WEB_URL/l/$TOK"
	n=$((n + 1))
done
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$WEB_URL/l/$TOK")
is "after 20 GETs and HEADs the link still shows its page" "$CODE" 200
ok "and a POST then redeems it" web_signin "$TOK" "$JAR"
ok "register" web_register "$JAR" "Jane Doe"

# ---- a form racing a bounce keeps the bounce's marking ----
# race PATH DATA [COOKIE JAR]: hold the write lock with the victim marked
# undeliverable but not committed while the portal reads the victim and
# waits for the lock; commit; the portal then writes its form
race() {
	python3 - "$W/casemail.db" "$VID" "$WEB_URL$1" "$2" "${3:-/dev/null}" <<'PY'
import sqlite3, subprocess, sys, time
db, vid, url, data, jar = sys.argv[1:6]
c = sqlite3.connect(db, timeout=5, isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE victims SET email_status = 'undeliverable',"
          " bounce_score = 3 WHERE id = ?", (int(vid),))
p = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "--max-time", "10", "-b", jar, "-d", data, url],
                     stdout=subprocess.PIPE, text=True)
time.sleep(0.8)
c.execute("COMMIT")
c.close()
out, _ = p.communicate(timeout=15)
print(out)
PY
}
SCSRF=$(web_csrf "$JAR" /settings)
sleep 1.5 # the queued view rows are written: nothing else waits for the lock
is "settings POST during the bounce: 303" \
	"$(race /settings "csrf=$SCSRF&channel=email&email=1" "$JAR")" 303
is "the address stays undeliverable" \
	"$(sql "SELECT email_status || ' ' || bounce_score FROM victims WHERE id = $VID")" \
	"undeliverable 3"
sql "UPDATE victims SET email_status = 'ok', bounce_score = 0 WHERE id = $VID"
UKEY=$(python3 "$TOP/tests/e2e/mailcheck.py" "$(grep -l "To: Jane Doe" "$W"/outbox/new/* | head -1)" header List-Unsubscribe |
	grep -oE 'https://portal.example.org/unsubscribe/[a-z0-9]+' | sed 's|.*/||')
like "an unsubscribe key in the notice" "$UKEY" '^[a-z0-9]+$'
is "unsubscribe POST during the bounce: 200" \
	"$(race "/unsubscribe/$UKEY" "List-Unsubscribe=One-Click")" 200
is "opted out, and the address stays undeliverable" \
	"$(sql "SELECT opted_in || ' ' || email_status || ' ' || bounce_score FROM victims WHERE id = $VID")" \
	"0 undeliverable 3"
sql "UPDATE victims SET email_status = 'ok', bounce_score = 0, opted_in = 1 WHERE id = $VID"

# ---- discreet pages ----
hget() { # URL [curl args]: body in $BODY, status in $CODE, headers $HDR
	u=$1
	shift
	CODE=$(curl -s -o "$W/body" -D "$W/hdr" -w '%{http_code}' \
		--max-time 10 "$@" "$u")
	BODY=$(cat "$W/body")
	HDR=$(tr -d '\r' <"$W/hdr")
}
hget "$WEB_URL/case" -b "$JAR"
like "not discreet: the force's name" "$BODY" '<title>Your case - Example Police</title>'
hget "$WEB_URL/settings" -b "$JAR" -c "$JAR" \
	-d "csrf=$SCSRF&channel=email&email=1&discreet=1"
is "discreet chosen: 303" "$CODE" 303
is "discreet in the store" "$(sql "SELECT discreet FROM victims WHERE id = $VID")" 1
for page in /case /settings; do
	hget "$WEB_URL$page" -b "$JAR"
	is "discreet $page: 200" "$CODE" 200
	like "discreet $page: titled with the discreet name" "$BODY" \
		'<title>[^<]* - Secure messages</title>'
	like "discreet $page: the discreet name in the header" "$BODY" \
		'<header><div class="bar"><p>Secure messages</p>'
	unlike "discreet $page: no force name, police, crime or officer" \
		"$BODY" 'Example Police|[Pp]olice|[Cc]rime|[Oo]fficer'
done
hget "$WEB_URL/case" -b "$JAR"
like "discreet case page: the update is there" "$BODY" "update 0"
update 1
send --once >/dev/null 2>&1
TOK2=$(link_of "$(newest_notice)") # discreet: no name in To
hget "$WEB_URL/l/$TOK2"
like "discreet sign-in page: the discreet name" "$BODY" \
	'<title>Sign in - Secure messages</title>'
unlike "discreet sign-in page: no force name, police, crime or officer" \
	"$BODY" 'Example Police|[Pp]olice|[Cc]rime|[Oo]fficer'

# ---- a limited number of posts ----
n=0
codes=""
while [ $n -lt 10 ]; do
	codes="$codes$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		-b "$JAR" -d "csrf=$SCSRF&text=message+$n" "$WEB_URL/case/message") "
	n=$((n + 1))
done
is "ten messages in an hour are posted" "$codes" \
	"303 303 303 303 303 303 303 303 303 303 "
hget "$WEB_URL/case/message" -b "$JAR" -d "csrf=$SCSRF&text=one+too+many"
is "the eleventh: 429" "$CODE" 429
like "a page that says why" "$BODY" 'You have sent 10 messages in the last hour'
like "with Retry-After" "$HDR" '^Retry-After: [0-9]+$'
is "ten in the thread, not eleven" \
	"$(sql "SELECT count(*) FROM messages WHERE author = 'victim' AND source = 'web'")" 10

cp "$JAR" "$W/jar-old"
hget "$WEB_URL/logout" -b "$JAR" -c "$JAR" -d "csrf=$SCSRF"
is "discreet victim signs out: 200" "$CODE" 200
like "the signed-out page is discreet" "$BODY" \
	'<title>Signed out - Secure messages</title>'
hget "$WEB_URL/case" -b "$W/jar-old"
is "the ended session: 401" "$CODE" 401
like "and its page is discreet too" "$BODY" \
	'<title>You are signed out - Secure messages</title>'
unlike "with no force name, police, crime, officer or case" "$BODY" \
	'Example Police|[Pp]olice|[Cc]rime|[Oo]fficer|\<[Cc]ase\>'

# ---- made-up paths in the audit log ----
EVILP='/%0aip=1.2.3.4%1b[31m'
CODE=$(curl -g -s -o /dev/null -w '%{http_code}' --max-time 5 \
	-H "Origin: https://evil.example" -d "x=1" "$WEB_URL$EVILP")
is "a POST to a made-up path from another origin: 403" "$CODE" 403
CODE=$(curl -g -s -o /dev/null -w '%{http_code}' --max-time 5 \
	-d "x=1" "$WEB_URL$EVILP")
is "and from no origin: 404" "$CODE" 404
n=0
while [ $n -lt 30 ]; do
	curl -g -s -o /dev/null --max-time 5 -H "Origin: https://evil.example" \
		-d "x=1" "$WEB_URL/flood-$n%0ahello"
	n=$((n + 1))
done
sleep 1.5 # the group commit of the view rows
LIST=$(c audit list --limit 1000)
unlike "audit list: no forged ip" "$LIST" '1\.2\.3\.4'
is "no audit detail with a control byte or the forged field" \
	"$(sql "SELECT count(*) FROM audit WHERE detail LIKE '%1.2.3.4%' OR instr(detail, char(10)) OR instr(detail, char(27)) OR instr(detail, char(13))")" 0
like "the refusal is recorded, fixed fields first" \
	"$(sql "SELECT detail FROM audit WHERE action = 'web.refused' AND detail LIKE 'reason=origin %'")" \
	'^reason=origin route=other ip=127\.0\.0\.1( n=[0-9]+)?$'
r=$(sql "SELECT count(*) FROM audit WHERE action = 'web.refused' AND detail LIKE '%reason=origin%'")
[ "$r" -le 3 ] && r=ok
is "31 made-up paths: their refusals merge into a few rows" "$r" ok
unlike "nor in the request log" "$(cat "$W/web.log")" '1\.2\.3\.4|flood'
like "the postmaster's log says why it was refused" "$(cat "$W/web.log")" \
	'refused status=403 reason=origin route=other ip=127\.0\.0\.1'
A=$(sed -n 's/.*audit anchor count=\([0-9]*\) head=\([0-9a-f]*\)$/\1:\2/p' "$W/web.log" | tail -1)
like "the portal logs the audit anchor after its commits" "$A" '^[0-9]+:[0-9a-f]{64}$'
ok "which the audit log matches" c audit verify --anchor "$A"

# ---- slow clients ----
# 200 connections from 127.0.0.2 send their heads a byte every half
# second; a real request from 127.0.0.1 is answered quickly, and the
# slow heads are cut after their deadline (10 s), not kept alive by
# every byte.
R=$(python3 "$TOP/tests/e2e/web-slow.py" "$WEB_PORT" 200 14)
echo "# slow clients: $R"
like "200 slow clients: the real request is answered" "$R" ' status=200 '
ms=$(printf '%s\n' "$R" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
[ "${ms:-9999}" -lt 1000 ] && ms=ok
is "in under a second" "$ms" ok
held=$(printf '%s\n' "$R" | sed -n 's/.* held=\([0-9]*\).*/\1/p')
[ "${held:-999}" -le 16 ] && held=ok
is "one address holds at most 16 connections" "$held" ok
like "slow heads are cut at their deadline" "$R" ' open_end=0$'
hget "$WEB_URL/"
is "the portal still answers" "$CODE" 200

# ---- behind a trusted proxy: no warning ----
web_stop
is "SIGTERM: exit 0" "$WEB_RC" 0
: >"$W/web.log"
web_conf "portal_trust_proxy = yes"
web_start
unlike "portal_trust_proxy = yes: no warning" "$(cat "$W/web.log")" \
	'portal_trust_proxy = no'
web_stop
ok "audit chain intact" c audit verify
finish
