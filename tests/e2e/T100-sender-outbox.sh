#!/bin/sh
# T100-sender-outbox.sh - casemail-send on the embedded default (outbox)
#
# No smtp_url: notices are written into the outbox maildir. Checks the
# exact header set and parts of a victim notice (read back with Python's
# email package), its VERP Return-Path, Reply-To and stored Message-ID;
# no case content unless notice_include_text; the login link redeems
# once, not twice; the victim's reply to it, piped into casemail-mda,
# lands in the thread and the officer's internal notification reaches
# the outbox; suppression, discreet victims, --dry-run changes nothing,
# --watch exits 0 on SIGTERM, -n checks templates.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

sl_need_bins
sl_conf
sl_case
MC="python3 $TOP/tests/e2e/mailcheck.py"
NEW="$W/outbox/new"

ok "check config and templates" send -n
like "-n names the template dir" "$OUT" "templates in $TOP/conf/templates ok"

update 1
is "one notice queued" "$(status_count queued)" 1
audit_before=$(sql "SELECT count(*) FROM audit")
ok "dry run" send --dry-run
like "dry run shows the message" "$OUT" "Subject: Example Police: an update"
like "dry run says nothing changed" "$OUT" "nothing was sent or changed"
is "dry run: outbox empty" "$(ls "$NEW" 2>/dev/null | wc -l | tr -d ' ')" 0
is "dry run: notice still queued" "$(status_count queued)" 1
is "dry run: no audit row" "$(sql "SELECT count(*) FROM audit")" \
	"$audit_before"

ok "send --once" send --once
is "notice sent" "$(status_count sent)" 1
F=$(ls "$NEW"/* | head -1)
is "one file in the outbox" "$(ls "$NEW" | wc -l | tr -d ' ')" 1
is "exact header set" "$($MC "$F" headers | tr '\n' ' ')" \
	"Return-Path From To Reply-To Subject Date Message-Id Auto-Submitted List-Unsubscribe List-Unsubscribe-Post MIME-Version Content-Type "
is "parts" "$($MC "$F" parts | tr '\n' ' ')" "text/plain text/html "
BOUNCE=$(c address bounce 1)
is "Return-Path is the VERP address" "$($MC "$F" header Return-Path)" \
	"<$BOUNCE>"
RADDR=$(c address reply "$SL_REF" "$VID")
is "Reply-To is the reply address" "$($MC "$F" header Reply-To)" "$RADDR"
is "From" "$($MC "$F" header From)" "Example Police <casemail@cases.example.org>"
is "To" "$($MC "$F" header To)" "Jane Doe <$SL_VICTIM>"
MID=$($MC "$F" header Message-Id)
is "Message-ID stored" "<$(sql "SELECT sent_message_id FROM notices WHERE id = 1")>" "$MID"
is "Auto-Submitted" "$($MC "$F" header Auto-Submitted)" auto-generated
like "List-Unsubscribe mailto and https" \
	"$($MC "$F" header List-Unsubscribe)" \
	"^<mailto:reply\+[a-z0-9]+@cases.example.org\?subject=unsubscribe>, <https://portal.example.org/unsubscribe/[a-z0-9]+>$"
is "List-Unsubscribe-Post" "$($MC "$F" header List-Unsubscribe-Post)" \
	"List-Unsubscribe=One-Click"
TEXT=$($MC "$F" text)
unlike "no case content by default" "$TEXT" "update 0"
like "html has the link" "$($MC "$F" html)" 'href="https://portal.example.org/l/'
TOK=$(printf '%s\n' "$TEXT" | grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' | head -1 | sed 's|.*/l/||')
like "login link carries a 43-character token" "$TOK" '^[A-Za-z0-9_-]{43}$'
unlike "token not stored in the clear" \
	"$(sqlite3 "$W/casemail.db" .dump 2>/dev/null | grep -c -- "$TOK")" '^[1-9]'

ok "token check: valid" sh -c "echo '$TOK' | '$BIN/casemail' -c '$CONF' token check -"
like "token check says valid" "$OUT" "valid"
# "--": one token in 64 begins with "-", which would read as an option
ok "token redeems once" c token redeem -- "$TOK"
fails "token does not redeem twice" c token redeem -- "$TOK"
like "second redeem says used" "$ERR" "already used"

# the victim replies to the notice: the mda puts it in the thread
cat >"$W/reply.eml" <<MAIL
From: Jane Doe <$SL_VICTIM>
To: $RADDR
Subject: Re: $($MC "$F" header Subject)
In-Reply-To: $MID
References: $MID
Message-ID: <t100-reply@example.net>
Date: Sat, 28 Nov 2026 10:15:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The neighbour saw a blue van that night.

On Sat, 28 Nov 2026, Example Police wrote:
> There is an update on your case.
MAIL
ok "reply piped into the mda" "$BIN/casemail-mda" -c "$CONF" \
	--sender "$SL_VICTIM" --recipient "$RADDR" --queue-id T100A \
	<"$W/reply.eml"
like "reply in the thread" "$(c thread "$SL_REF")" "blue van"
is "officer notification queued" \
	"$(sql "SELECT count(*) FROM notices WHERE kind = 'officer_notify' AND status = 'queued'")" 1
ok "send the officer notification" send --once
O=$(grep -l 'X-Casemail-Internal' "$NEW"/* | head -1)
like "officer notification in the outbox" "$O" "."
is "to the officer" "$($MC "$O" header To)" "PC Smith <$SL_OFFICER>"
is "Reply-To: the officer's key address for this victim" \
	"$($MC "$O" header Reply-To)" \
	"$(c address officer "$SL_REF" "$VID" --officer "$SL_OFFICER")"
like "says how the reply was placed" "$($MC "$O" text)" "Placed: +by the victim's own reply address"
like "subject has [REF]" "$($MC "$O" header Subject)" "^\[$SL_REF\]"
like "body has the victim's trimmed text" "$($MC "$O" text)" "blue van"
like "marked internal" "$($MC "$O" text)" "INTERNAL"

# the same reply threaded without the reply address: In-Reply-To
sed 's/t100-reply/t100-reply2/; s/^To: .*/To: someone@cases.example.org/' \
	"$W/reply.eml" >"$W/reply2.eml"
ok "reply found by In-Reply-To" "$BIN/casemail-mda" -c "$CONF" \
	--sender "$SL_VICTIM" --recipient someone@cases.example.org \
	--queue-id T100B <"$W/reply2.eml"
is "both replies in the thread" \
	"$(c thread "$SL_REF" --json | jq '[.messages[] | select(.author == "victim")] | length')" 2

# case content only when the force turns it on
sl_conf "notice_include_text = yes"
send --once >/dev/null 2>&1
c update "$SL_REF" --officer "$SL_OFFICER" --text "The van was found." >/dev/null
n0=$(ls "$NEW" | wc -l)
ok "send with notice_include_text" send --once
F2=$(ls -t "$NEW"/* | head -1)
like "case content included when configured" "$($MC "$F2" text)" "The van was found."
sl_conf

# suppression at send time: the victim opted out after the queueing
update 1
sql "UPDATE victims SET opted_in = 0" >/dev/null
ok "send to an opted-out victim" send --once
is "suppressed" "$(sql "SELECT status FROM notices ORDER BY id DESC LIMIT 1")" suppressed
like "reason recorded" "$(sql "SELECT last_error FROM notices ORDER BY id DESC LIMIT 1")" "opted out"
sql "UPDATE victims SET opted_in = 1, discreet = 1" >/dev/null

# a discreet victim: nothing names the force or a crime
update 1
ok "send to a discreet victim" send --once
F3=$(ls -t "$NEW"/* | head -1)
is "neutral subject" "$($MC "$F3" header Subject)" "You have a new message"
is "neutral From" "$($MC "$F3" header From)" "Secure messages <casemail@cases.example.org>"
unlike "no force or crime anywhere" "$(cat "$F3")" "[Pp]olice|[Cc]rime"

# --watch: SIGTERM ends it with 0
"$BIN/casemail-send" -c "$CONF" --watch >"$W/watch.out" 2>&1 &
wp=$!
sleep 1
kill -TERM $wp
wait $wp
is "--watch exits 0 on SIGTERM" "$?" 0

# a broken template dir is refused at start
mkconf "template_dir = $W/nowhere"
exits "missing templates: exit 1" 1 send --once
like "names the template" "$ERR" "update"
sl_conf
ok "audit chain intact" c audit verify
like "every transition audited" \
	"$(sql "SELECT group_concat(DISTINCT action) FROM audit WHERE actor = 'sender'")" \
	"notice.sending.*notice.sent|notice.sent.*notice.sending"
finish
