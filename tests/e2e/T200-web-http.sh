#!/bin/sh
# T200-web-http.sh - casemail-web over HTTP with curl, on 127.0.0.1
#
# A notice goes out (outbox), and its login link is used against a
# running casemail-web: a scanner's GET and HEAD leave the token valid;
# a POST needs the form's CSRF token and the same origin, then redeems
# once (303 to /case, an HttpOnly SameSite=Strict cookie); replay,
# tampered and expired tokens are refused with the fresh-link page;
# asking for a fresh link answers the same whether the token was known
# or not, and only a known one queues a fresh_link notice that the
# sender delivers with a working link. Then: registration, the case page
# (no internal notes, no other case), a message with <script> and quote
# characters shown as text and entering the thread as a reply does (the
# officer notified), CSRF missing or wrong refused, size and rate limits,
# the security headers, RFC 8058 one-click unsubscribe, logout, the
# audit rows, and a clean stop on SIGTERM.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

sl_need_bins
web_need
sl_conf
sl_case
OTHER=HU-20261128-0099
ok "second case" c case add "$OTHER" --oic "$SL_OFFICER"
ok "its victim" c victim add "$OTHER" --name "Other Person" \
	--email other@example.net
c update "$OTHER" --officer "$SL_OFFICER" \
	--text "Other case: secret words" >/dev/null
VID_O=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
update 1
c update "$SL_REF" --officer "$SL_OFFICER" --internal \
	--text "internal: do not show" >/dev/null
ok "send the notices" send --once
F=$(grep -l "To: Jane Doe" "$W"/outbox/new/* | head -1)
TOK=$(link_of "$F")
like "a login link in the notice" "$TOK" '^[A-Za-z0-9_-]{43}$'
web_conf
web_start

JAR="$W/jar"
# hget URL [curl args...] - body in $BODY, headers in $HDR, status $CODE
hget() {
	u=$1
	shift
	CODE=$(curl -s -o "$W/body" -D "$W/hdr" -w '%{http_code}' \
		--max-time 10 "$@" "$u")
	BODY=$(cat "$W/body")
	HDR=$(tr -d '\r' <"$W/hdr")
}
cj() { # URL [args] with the cookie jar
	hget "$@" -c "$JAR" -b "$JAR"
}

# ---- a mail scanner fetches the link ----
hget "$WEB_URL/l/$TOK"
is "scanner GET: 200" "$CODE" 200
like "GET shows a sign-in button" "$BODY" '<button type="submit">Sign in</button>'
CODE=$(curl -s -o /dev/null -I -w '%{http_code}' "$WEB_URL/l/$TOK")
is "scanner HEAD: 200" "$CODE" 200
ok "token still valid after GET and HEAD" tcheck "$TOK"

# ---- the security headers ----
like "Content-Security-Policy" "$HDR" \
	"^Content-Security-Policy: default-src 'none'; style-src 'self'; form-action 'self'"
like "nosniff" "$HDR" '^X-Content-Type-Options: nosniff'
like "no framing" "$HDR" '^X-Frame-Options: DENY'
like "Referrer-Policy" "$HDR" '^Referrer-Policy: same-origin'
like "no-store" "$HDR" '^Cache-Control: no-store'
hget "$WEB_URL/static/casemail.css"
is "style sheet served" "$CODE" 200
like "as text/css" "$HDR" '^Content-Type: text/css'

# ---- sign in ----
cj "$WEB_URL/l/$TOK"
like "pre-session cookie set" "$HDR" '^Set-Cookie: cmpre=[A-Za-z0-9_-]+; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Strict'
CSRF=$(csrf_of "$BODY")
cj "$WEB_URL/l/$TOK" -X POST -d "x=1"
is "POST without CSRF: 403" "$CODE" 403
cj "$WEB_URL/l/$TOK" -d "csrf=AAAAAAAAAAAAAAAAAAAAAA"
is "POST with a wrong CSRF: 403" "$CODE" 403
cj "$WEB_URL/l/$TOK" -d "csrf=$CSRF" -H "Origin: https://evil.example"
is "POST from another origin: 403" "$CODE" 403
hget "$WEB_URL/l/$TOK" -d "csrf=$CSRF"
is "POST without the pre-session cookie: 403" "$CODE" 403
ok "token still valid after refused POSTs" tcheck "$TOK"
cj "$WEB_URL/l/$TOK" -d "csrf=$CSRF" -H "Origin: $WEB_URL"
is "POST redeems: 303" "$CODE" 303
like "to the case" "$HDR" '^Location: /case$'
like "session cookie HttpOnly, SameSite=Strict" "$HDR" \
	'^Set-Cookie: cmsid=[A-Za-z0-9_-]{43}; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Strict$'
SID=$(awk '$6 == "cmsid" { print $7 }' "$JAR")
fails "token used now" tcheck "$TOK"
like "check says used" "$OUT" "used"
unlike "session cookie not stored in the clear" \
	"$(sqlite3 "$W/casemail.db" .dump | grep -c -- "$SID")" '^[1-9]'

hget "$WEB_URL/l/$TOK" -b "cmpre=$(awk '$6 == "cmpre" { print $7 }' "$JAR")" -d "csrf=$CSRF"
is "replay refused: 403" "$CODE" 403
like "replay offers a fresh link" "$BODY" 'action="/fresh"'
BAD=$(printf '%s' "$TOK" | sed 's/^./X/')
[ "$BAD" = "$TOK" ] && BAD=$(printf '%s' "$TOK" | sed 's/^./Y/')
cj "$WEB_URL/l/$BAD"
is "tampered token GET: the expired page" "$CODE" 200
like "tampered: fresh-link form" "$BODY" 'action="/fresh"'
DEAD_UNKNOWN=$(printf '%s' "$BODY" | sed "s/$BAD/TOKEN/g")
cj "$WEB_URL/l/$BAD" -d "csrf=$CSRF"
is "tampered token POST: 403" "$CODE" 403

# ---- an expired link and a fresh one ----
update 1
send --once >/dev/null 2>&1
F2=$(grep -l "To: Jane Doe" $(ls -t "$W"/outbox/new/*) | head -1)
TOK2=$(link_of "$F2")
sql "UPDATE tokens SET expires_at = 1 WHERE used_at IS NULL" >/dev/null
cj "$WEB_URL/l/$TOK2"
like "expired GET: fresh-link form" "$BODY" 'action="/fresh"'
is "expired and unknown links look the same" \
	"$(printf '%s' "$BODY" | sed "s/$TOK2/TOKEN/g")" "$DEAD_UNKNOWN"
cj "$WEB_URL/l/$TOK2" -d "csrf=$CSRF"
is "expired token POST: 403" "$CODE" 403
before=$(sql "SELECT count(*) FROM notices WHERE kind = 'fresh_link'")
cj "$WEB_URL/fresh" -d "csrf=$CSRF&token=$BAD"
is "fresh link for an unknown token: 200" "$CODE" 200
UNKNOWN_ANSWER=$BODY
is "no notice for an unknown token" \
	"$(sql "SELECT count(*) FROM notices WHERE kind = 'fresh_link'")" "$before"
cj "$WEB_URL/fresh" -d "csrf=$CSRF&token=$TOK2"
is "fresh link for the expired token: 200" "$CODE" 200
is "the same answer either way" "$BODY" "$UNKNOWN_ANSWER"
is "a fresh_link notice queued" \
	"$(sql "SELECT count(*) FROM notices WHERE kind = 'fresh_link' AND status = 'queued' AND victim_id = $VID")" 1
cj "$WEB_URL/fresh" -d "token=$TOK2"
is "fresh link without CSRF: 403" "$CODE" 403
ok "the sender delivers it" send --once
F3=$(grep -l "new sign-in link" "$W"/outbox/new/* | head -1)
like "the fresh link notice is in the outbox" "$F3" "."
TOK3=$(link_of "$F3")
ok "its link is valid" tcheck "$TOK3"

# ---- the session ----
hget "$WEB_URL/case"
is "case page without a session: 401" "$CODE" 401
cj "$WEB_URL/case"
is "first visit goes to registration" "$CODE" 303
like "to /register" "$HDR" '^Location: /register$'
cj "$WEB_URL/register"
is "register page" "$CODE" 200
like "labelled name field" "$BODY" '<label for="name">Your name</label>'
SCSRF=$(csrf_of "$BODY")
cj "$WEB_URL/register" -d "name=Jane+Doe&channel=email"
is "register without CSRF: 403" "$CODE" 403
cj "$WEB_URL/register" -d "csrf=$SCSRF&name=Jane+Doe&channel=sms"
is "a channel without a number: 400" "$CODE" 400
cj "$WEB_URL/register" -d "csrf=$SCSRF&name=Jane+Doe&channel=email"
is "register: 303" "$CODE" 303
is "registered in the store" \
	"$(sql "SELECT registered || discreet || channel FROM victims WHERE id = $VID")" \
	"10email"
cj "$WEB_URL/case"
is "case page: 200" "$CODE" 200
like "shows the reference" "$BODY" "<dd>$SL_REF</dd>"
like "shows the officer" "$BODY" "<dd>PC Smith</dd>"
like "shows the update" "$BODY" "update 0"
unlike "no internal note" "$BODY" "internal: do not show"
unlike "nothing of the other case" "$BODY" "$OTHER|secret words"
hget "$WEB_URL/case/$OTHER" -b "cmsid=$SID"
is "no address for another case" "$CODE" 404
unlike "and nothing of it" "$BODY" "secret words"

# ---- officer messages addressed to one victim of the case ----
# The other case gets a second victim, and an update for each alone.
ok "a second victim on the other case" c victim add "$OTHER" \
	--name "Bob Roe" --email bob@example.net
VID_B=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
ok "an update for the first victim alone" c update "$OTHER" \
	--officer "$SL_OFFICER" --victim "$VID_O" --text "for Other only"
ok "an update for the second victim alone" c update "$OTHER" \
	--officer "$SL_OFFICER" --victim "$VID_B" --text "for Bob only"
ok "their notices go out" send --once
FO=$(grep -l "To: Other Person" $(ls -t "$W"/outbox/new/*) | head -1)
FB=$(grep -l "To: Bob Roe" $(ls -t "$W"/outbox/new/*) | head -1)
ok "A signs in" web_signin "$(link_of "$FO")" "$W/jar-a"
ok "A registers" web_register "$W/jar-a" "Other Person"
ok "B signs in" web_signin "$(link_of "$FB")" "$W/jar-b"
ok "B registers" web_register "$W/jar-b" "Bob Roe"
BODY_A=$(curl -s --max-time 10 -b "$W/jar-a" "$WEB_URL/case")
BODY_B=$(curl -s --max-time 10 -b "$W/jar-b" "$WEB_URL/case")
like "A's page shows the update addressed to A" "$BODY_A" "for Other only"
unlike "A's page hides the update addressed to B" "$BODY_A" "for Bob only"
like "A's page shows the update to every victim" "$BODY_A" "secret words"
like "B's page shows the update addressed to B" "$BODY_B" "for Bob only"
unlike "B's page hides the update addressed to A" "$BODY_B" "for Other only"

# ---- writing to the officer ----
EVIL='Hi <script>alert(1)</script> "><img src=x onerror=alert(2)> '"'"'x'"'"
cj "$WEB_URL/case/message" --data-urlencode "text=$EVIL"
is "message without CSRF: 403" "$CODE" 403
cj "$WEB_URL/case/message" -d "csrf=AAAAAAAAAAAAAAAAAAAAAA" --data-urlencode "text=$EVIL"
is "message with a wrong CSRF: 403" "$CODE" 403
is "nothing posted" \
	"$(sql "SELECT count(*) FROM messages WHERE author = 'victim'")" 0
cj "$WEB_URL/case/message" -d "csrf=$SCSRF" --data-urlencode "text=$EVIL"
is "message posted: 303" "$CODE" 303
cj "$WEB_URL/case?done=1"
like "confirmation shown" "$BODY" "Your message has been sent"
like "shown as text" "$BODY" \
	'Hi &lt;script&gt;alert\(1\)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert\(2\)&gt; &#39;x&#39;'
unlike "no live script or img" "$BODY" '<script|<img'
J=$(c thread "$SL_REF" --json)
is "in the thread as the victim, from the web" \
	"$(printf '%s' "$J" | jq -r '[.messages[] | select(.author == "victim")][0] | .source + " " + .status + " " + .visibility + " " + .placement')" \
	"web posted victim portal"
is "officer notification queued" \
	"$(sql "SELECT count(*) FROM notices WHERE kind = 'officer_notify' AND status = 'queued'")" 1
cj "$WEB_URL/case/message" -d "csrf=$SCSRF&text=+++"
is "empty message: 400" "$CODE" 400

# ---- limits ----
head -c 100000 /dev/zero | tr '\0' 'a' >"$W/big"
cj "$WEB_URL/case/message" -d "csrf=$SCSRF" --data-urlencode "text@$W/big"
is "a body over portal_max_body: 413" "$CODE" 413
n=0
code=""
while [ $n -lt 12 ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -d "csrf=x" "$WEB_URL/l/$(printf 'z%.0s' $(seq 43))")
	n=$((n + 1))
done
is "one link tried (POST) too often: 429" "$code" 429

# ---- settings, unsubscribe, logout ----
cj "$WEB_URL/settings"
is "settings page" "$CODE" 200
like "email opt-in box" "$BODY" 'name="email" value="1" checked'
UNSUB=$(python3 "$TOP/tests/e2e/mailcheck.py" "$F" header List-Unsubscribe | grep -oE 'https://portal.example.org/unsubscribe/[a-z0-9]+' | sed 's|https://portal.example.org||')
like "the notice names the unsubscribe URL" "$UNSUB" '^/unsubscribe/[a-z0-9]+$'
hget "$WEB_URL$UNSUB"
is "unsubscribe GET: a page with a button" "$CODE" 200
is "GET changes nothing" "$(sql "SELECT opted_in FROM victims WHERE id = $VID")" 1
hget "$WEB_URL/unsubscribe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	-d "List-Unsubscribe=One-Click"
is "forged unsubscribe key: 404" "$CODE" 404
RKEY=$(c address reply "$SL_REF" "$VID" | grep -oE 'reply\+[a-z0-9]+' | sed 's/reply+//')
like "a reply key for the victim" "$RKEY" '^[a-z0-9]{20,}$'
unlike "the unsubscribe URL is not the reply key" "$UNSUB" "$RKEY"
hget "$WEB_URL/unsubscribe/$RKEY"
is "a reply key as unsubscribe key, GET: 404" "$CODE" 404
hget "$WEB_URL/unsubscribe/$RKEY" -d "List-Unsubscribe=One-Click"
is "a reply key as unsubscribe key, POST: 404" "$CODE" 404
is "and nothing changed" "$(sql "SELECT opted_in FROM victims WHERE id = $VID")" 1
hget "$WEB_URL$UNSUB" -d "List-Unsubscribe=One-Click"
is "one-click unsubscribe POST: 200" "$CODE" 200
is "opted out of email" "$(sql "SELECT opted_in FROM victims WHERE id = $VID")" 0
cj "$WEB_URL/logout" -d "csrf=$SCSRF"
is "logout: 200" "$CODE" 200
like "cookie removed" "$HDR" '^Set-Cookie: cmsid=; Path=/; Max-Age=0'
hget "$WEB_URL/case" -b "cmsid=$SID"
is "the old session is dead" "$CODE" 401
is "session ended in the store" \
	"$(sql "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL")" 1

# ---- the audit log ----
sleep 1.5
hget "$WEB_URL/"
web_stop
is "SIGTERM: exit 0" "$WEB_RC" 0
A=$(sql "SELECT group_concat(DISTINCT action) FROM audit WHERE actor LIKE 'web%'")
for act in web.view web.refused web.session.start web.fresh_link \
	web.register message.add web.session.end victim.unsubscribe; do
	like "audited: $act" "$A" "(^|,)$act(,|$)"
done
like "login.redeem by the web" \
	"$(sql "SELECT actor || ' ' || case_ref FROM audit WHERE action = 'login.redeem'")" \
	"^web $SL_REF$"
like "case views name victim, case and client" \
	"$(sql "SELECT actor || ' ' || case_ref || ' ' || detail FROM audit WHERE action = 'web.view' AND detail LIKE 'page=case%' LIMIT 1")" \
	"^web:victim:$VID $SL_REF page=case ip=127.0.0.1"
ok "audit chain intact" c audit verify
finish
