#!/bin/sh
# T070-routing.sh - routing decisions of casemail-mda, one rule a row
#
# Officers by case+/note+ (active, disabled, unknown, DKIM/DMARC from a
# trusted or an untrusted authserv-id, closed case, unknown case), the
# [REF] subject fallback for a victim on the case and for a stranger,
# In-Reply-To against a notice's Message-ID, bounce+KEY (forged, a
# permanent failure that fails the notice, a delay that does not), a
# held reply approved, and exit codes for usage and config trouble.
. "$TOP/tests/lib.sh"
mkconf "officer_require_auth = yes" "trusted_authserv_ids = mx.police.example.org"
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"
D=cases.example.org

$C init >/dev/null
$C officer add --email oic@police.example.org --name "PC One" >/dev/null
$C officer add --email old@police.example.org --name "PC Gone" >/dev/null
$C officer disable old@police.example.org >/dev/null
$C case add HU-7 --oic oic@police.example.org >/dev/null
$C case add HU-8 --oic oic@police.example.org >/dev/null
$C case close HU-8 >/dev/null
VID=$($C victim add HU-7 --name "V One" --email v1@example.net --phone "+447700900111")

# deliver N FROM TO [AUTHRES] [EXTRA-HEADER] - pipe one message
deliver() {
	n=$1 from=$2 to=$3 ar=${4:-} extra=${5:-}
	{
		echo "From: $from"
		echo "To: $to"
		echo "Subject: ${SUBJECT:-note $n}"
		echo "Message-ID: <rt-$n@example.net>"
		[ -n "$ar" ] && echo "Authentication-Results: $ar"
		[ -n "$extra" ] && echo "$extra"
		echo
		echo "Body of message $n."
	} >"$W/m$n.eml"
	$MDA --sender "$from" --recipient "$to" --queue-id "Q$n" <"$W/m$n.eml"
}
# where ID - "thread:STATUS:VISIBILITY", "quarantine:REASON" or "none"
where() {
	t=$($C thread HU-7 --json | jq -r --arg id "rt-$1@example.net" \
		'.messages[] | select(.message_id == $id) | "thread:\(.status):\(.visibility):\(.kind)"')
	if [ -n "$t" ]; then echo "$t"; return; fi
	q=$($C quarantine list --json | jq -r '.quarantine[].id' | while read -r id; do
		$C quarantine show "$id" --json | jq -r --arg id "rt-$1@example.net" \
			'.quarantine | select(.message_id == $id) | "quarantine:\(.reason)"'
	done)
	echo "${q:-none}"
}

GOOD="mx.police.example.org; dkim=pass header.d=police.example.org"
EVIL="evil.example; dkim=pass header.d=police.example.org"

ok "officer update with a trusted DKIM pass" \
	deliver 1 oic@police.example.org "case+HU-7@$D" "$GOOD"
is "it is an update the victim sees" "$(where 1)" "thread:posted:victim:message"
ok "officer update, DKIM pass claimed by an untrusted host" \
	deliver 2 oic@police.example.org "case+HU-7@$D" "$EVIL"
like "it is quarantined" "$(where 2)" "^quarantine:officer mail without DKIM/DMARC pass"
ok "officer note without any Authentication-Results" \
	deliver 3 oic@police.example.org "note+hu-7@$D"
like "it is quarantined" "$(where 3)" "^quarantine:officer mail without DKIM/DMARC"
ok "officer note with DMARC pass (reference in lower case)" \
	deliver 4 oic@police.example.org "note+hu-7@$D" \
	"mx.police.example.org; dmarc=pass header.from=police.example.org"
is "it is an internal note" "$(where 4)" "thread:posted:internal:message"
ok "a disabled officer" \
	deliver 5 old@police.example.org "case+HU-7@$D" "$GOOD"
like "is quarantined" "$(where 5)" "^quarantine:sender is not an active officer"
ok "a stranger writing to case+" \
	deliver 6 someone@example.com "case+HU-7@$D" "$GOOD"
like "is quarantined" "$(where 6)" "^quarantine:sender is not an active officer"
ok "an update for a closed case" \
	deliver 7 oic@police.example.org "case+HU-8@$D" "$GOOD"
ok "closed case: quarantined" $C quarantine list --json
like "with its reason" "$OUT" "update for a closed case"
ok "an unknown case" deliver 8 oic@police.example.org "case+HU-999@$D" "$GOOD"
like "is quarantined" "$(where 8)" "^quarantine:unknown case"
ok "a malformed case reference" \
	deliver 9 oic@police.example.org "case+HU'7@$D" "$GOOD"
like "is quarantined" "$(where 9)" "^quarantine:malformed case reference"

# Fallbacks when the recipient is not one of ours.
SUBJECT="Re: your case [HU-7]" ok "a [REF] tag from the victim" \
	deliver 10 v1@example.net "info@example.org"
is "is posted as the victim" "$(where 10)" "thread:posted:victim:message"
SUBJECT="Re: your case [HU-7]" ok "a [REF] tag from a stranger" \
	deliver 11 mallory@example.com "info@example.org"
like "is quarantined" "$(where 11)" "^quarantine:sender not known on the case"
ok "no case address at all" deliver 12 v1@example.net "info@example.org"
like "is quarantined" "$(where 12)" "^quarantine:no case address"

# In-Reply-To: a notice we sent with a known Message-ID.
NID=$($C notices --json | jq -r '[.notices[] | select(.kind == "update" and .channel == "email")][0].id')
sqlite3 "$W/casemail.db" "UPDATE notices SET sent_message_id='notice-$NID@$D' WHERE id=$NID"
ok "a reply threaded by In-Reply-To" deliver 13 v1@example.net \
	"info@example.org" "" "In-Reply-To: <notice-$NID@$D>"
is "is posted as the victim" "$(where 13)" "thread:posted:victim:message"

# A reply from another address to a valid reply+KEY: held, then approved.
RCPT=$($C address reply HU-7 "$VID")
ok "a valid reply address from another sender" \
	deliver 14 partner@example.com "$RCPT"
is "is held" "$(where 14)" "thread:held:victim:message"
HID=$($C held list --json | jq -r '.held[0].id // .messages[0].id')
ok "held approve" $C held approve "$HID"
is "and then posted" "$(where 14)" "thread:posted:victim:message"

# Bounces to bounce+KEY.
BADDR=$($C address bounce "$NID")
cat >"$W/dsn.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: $BADDR
Subject: Undelivered Mail Returned to Sender
Message-ID: <rt-20@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; v1@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--B--
EOF
sed 's/Action: failed/Action: delayed/; s/Status: 5.1.1/Status: 4.4.1/; s/rt-20@/rt-21@/' \
	"$W/dsn.eml" >"$W/delay.eml"
ok "a delay warning to bounce+KEY" \
	$MDA --sender "" --recipient "$BADDR" --queue-id Q21 <"$W/delay.eml"
ok "notices" $C notices --json
is "does not fail the notice" \
	"$(printf '%s' "$OUT" | jq -r --argjson id "$NID" '.notices[] | select(.id == $id) | .status')" queued
ok "a permanent failure to bounce+KEY" \
	$MDA --sender "" --recipient "$BADDR" --queue-id Q20 <"$W/dsn.eml"
ok "notices" $C notices --json
is "fails the notice" \
	"$(printf '%s' "$OUT" | jq -r --argjson id "$NID" '.notices[] | select(.id == $id) | .status')" failed
ok "victim" $C victim show "$VID" --json
like "and scores the address" "$OUT" '"bounce_score": 1'
FBAD=$(echo "$BADDR" | sed 's/bounce+./bounce+z/')
ok "a forged bounce address" \
	$MDA --sender "" --recipient "$FBAD" --queue-id Q22 <"$W/dsn.eml"
ok "quarantine" $C quarantine list --json
like "is quarantined" "$OUT" "forged or altered bounce address"

# Exit codes that Postfix reads.
exits "a bad command line is EX_USAGE" 64 $MDA --no-such-option
exits "a missing config is EX_TEMPFAIL" 75 "$BIN/casemail-mda" -c "$W/nope.conf" --recipient "x@$D"
chmod 644 "$W/secret"
exits "a readable secret is EX_TEMPFAIL" 75 $MDA --recipient "x@$D" <"$W/m1.eml"
like "with one reason line" "$ERR" "must not be readable by group or others"
chmod 600 "$W/secret"
ok "audit chain intact" $C audit verify
finish
