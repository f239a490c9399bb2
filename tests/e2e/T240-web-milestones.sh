#!/bin/sh
# T240-web-milestones.sh - the victim's case page shows the milestones
# reached for that victim in the words of conf/templates/milestones.txt
# with their date ("A suspect has been charged - 3 March"), with curl on
# 127.0.0.1: a milestone of this victim and one of every victim of the
# case are shown, oldest first, the year only when it is not this one;
# another victim's milestone, one still to come and a kind without words
# are not, nor any on a discreet victim's page; nothing internal (the kind's name, deadline, status, who
# recorded it) is on the page; without the words file no milestone is
# shown, and the portal says why in its log. Registration and settings
# ask how often the victim wants an update (the rhythm).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

sl_need_bins
web_need
sl_conf "milestone_kinds = arrested charged bailed secret_step"
sl_case
ok "a second victim" c victim add "$SL_REF" --name "Bob Other" \
	--email bob@example.net
VID_B=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
Y=$(date -u +%Y)
LAST=$((Y - 1))
ok "arrested, this victim, 3 March this year" c milestone "$SL_REF" \
	arrested --officer "$SL_OFFICER" --victim "$VID" --at "$Y-03-03T10:00"
ok "charged, every victim, last year" c milestone "$SL_REF" charged \
	--officer "$SL_OFFICER" --all --at "$LAST-11-20T15:00"
ok "bailed, the other victim" c milestone "$SL_REF" bailed \
	--officer "$SL_OFFICER" --victim "$VID_B" --at "$Y-01-05T10:00"
ok "a kind with no words" c milestone "$SL_REF" secret_step \
	--officer "$SL_OFFICER" --victim "$VID" --at "$Y-01-06T10:00"
ok "one to come" c milestone "$SL_REF" charged --officer "$SL_OFFICER" \
	--victim "$VID" --at "@$(($(date +%s) + 86400 * 3))"
ok "an update to Jane" c update "$SL_REF" --officer "$SL_OFFICER" \
	--victim "$VID" --text "We have made an arrest."
ok "send the notices" send --once
F=$(grep -l "To: Jane Doe" "$W"/outbox/new/* | head -1)
TOK=$(link_of "$F")
like "a login link in the notice" "$TOK" '^[A-Za-z0-9_-]{43}$'
web_conf
web_start

JAR="$W/jar"
if web_signin "$TOK" "$JAR"; then t_report 0 "signed in"; else
	t_report 1 "signed in"; fi
REG=$(curl -s --max-time 10 -c "$JAR" -b "$JAR" "$WEB_URL/register")
like "registration asks how often" "$REG" \
	'<legend>How often would you like an update\?</legend>'
like "the default: milestones only" "$REG" \
	'<input type="radio" name="rhythm" value="milestones" checked> Only when something important happens'
if web_register "$JAR" "Jane Doe" "&rhythm=weekly"; then
	t_report 0 "registered, weekly"; else t_report 1 "registered, weekly"; fi
is "the rhythm stored" "$(sql "SELECT update_rhythm FROM victims WHERE id = $VID")" weekly
BODY=$(curl -s --max-time 10 -c "$JAR" -b "$JAR" "$WEB_URL/case")
printf '%s\n' "$BODY" >"$W/case.html"
like "the heading" "$BODY" "<h2>Progress so far</h2>"
LIST=$(printf '%s\n' "$BODY" | sed -n '/<ul class="milestones">/,/<\/ul>/p')
is "two milestones, oldest first, in plain words with the date" "$LIST" \
"<ul class=\"milestones\">
<li>A suspect has been charged - <time datetime=\"$LAST-11-20\">20 November $LAST</time></li>
<li>A suspect has been arrested - <time datetime=\"$Y-03-03\">3 March</time></li>
</ul>"
unlike "not the other victim's" "$BODY" "released on bail"
unlike "nothing internal" "$BODY" \
	"secret_step|bailed|deadline|overdue|pending|enhanced|Milestone|milestone[^s]"
like "the update still there" "$BODY" "We have made an arrest."

# the rhythm in settings
SET=$(curl -s --max-time 10 -c "$JAR" -b "$JAR" "$WEB_URL/settings")
like "settings show it" "$SET" '<input type="radio" name="rhythm" value="weekly" checked> Every week'
CS=$(csrf_of "$SET")
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -c "$JAR" -b "$JAR" \
	-d "csrf=$CS&channel=email&email=1&rhythm=fortnightly" "$WEB_URL/settings")
is "settings saved" "$CODE" 303
is "now fortnightly" "$(sql "SELECT update_rhythm FROM victims WHERE id = $VID")" fortnightly
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -c "$JAR" -b "$JAR" \
	-d "csrf=$CS&channel=email&email=1&rhythm=hourly" "$WEB_URL/settings")
is "a rhythm not offered is left alone" \
	"$CODE $(sql "SELECT update_rhythm FROM victims WHERE id = $VID")" "303 fortnightly"
like "audited" "$(c audit list "$SL_REF" --json)" "rhythm=fortnightly"

# a discreet victim's page speaks of messages only: no milestones
ok "an update to Bob" c update "$SL_REF" --officer "$SL_OFFICER" \
	--victim "$VID_B" --text "Some news for you."
ok "send it" send --once
TOK_B=$(link_of "$(grep -l "To: Bob Other" "$W"/outbox/new/* | head -1)")
JAR_B="$W/jar-b"
if web_signin "$TOK_B" "$JAR_B" && web_register "$JAR_B" "Bob Other" \
	"&discreet=1"; then t_report 0 "Bob signed in, discreet"; else
	t_report 1 "Bob signed in, discreet"; fi
BODY=$(curl -s --max-time 10 -c "$JAR_B" -b "$JAR_B" "$WEB_URL/case")
like "Bob's messages" "$BODY" "Some news for you."
unlike "no milestones on a discreet page" "$BODY" \
	"Progress so far|suspect|charged|bail"

# without the words file: no milestone, and the log says why
web_stop
mkdir -p "$W/notemplates"
sed -i "s|^template_dir = .*|template_dir = $W/notemplates|" "$WCONF"
web_start
BODY=$(curl -s --max-time 10 -c "$JAR" -b "$JAR" "$WEB_URL/case")
like "the page still served" "$BODY" "We have made an arrest."
unlike "no milestone shown" "$BODY" "Progress so far|arrested|charged"
like "logged once" "$(cat "$W/web.log")" \
	"milestone words: .*notemplates/milestones.txt: No such file"
web_stop
is "stopped cleanly" "$WEB_RC" 0
finish
