#!/bin/sh
# T070-routing.sh - routing decisions of casemail-mda, one rule a row,
# each attack beside the genuine request it imitates
#
# Who wrote a message is proven, never taken from From: officers by
# case+/note+ need a trusted border's DMARC/DKIM pass (forged From,
# untrusted authserv-id, a pass written below the border's own fail,
# a quoted ';' smuggling a result, a misaligned header.from: all held,
# none posted, nothing queued); an officer answers one victim through
# the officer+KEY address of the notification casemail-send wrote, and
# only that victim is told; victim mail placed by threading headers or
# a subject tag is held whatever its From; a reply+KEY from another
# sender, or whose From the border failed, is held; bounce+KEY counts
# once per sent notice and only for the notice's address. Exit codes
# for usage and config trouble last.
. "$TOP/tests/lib.sh"
mkconf "trusted_authserv_ids = mx.police.example.org" \
	"template_dir = $TOP/conf/templates"
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"
SEND="$BIN/casemail-send -c $CONF --once"
D=cases.example.org
OIC=oic@police.example.org

$C init >/dev/null
$C officer add --email $OIC --name "PC One" >/dev/null
$C officer add --email old@police.example.org --name "PC Gone" >/dev/null
$C officer disable old@police.example.org >/dev/null
$C case add HU-7 --oic $OIC >/dev/null
$C case add HU-8 --oic $OIC >/dev/null
$C case close HU-8 >/dev/null
$C case add HU-9 --oic $OIC >/dev/null
VID=$($C victim add HU-7 --name "V One" --email v1@example.net --phone "+447700900111" |
	grep -oE '[0-9]+' | tail -1)
VA=$($C victim add HU-9 --name "Ann" --email ann@example.net | grep -oE '[0-9]+' | tail -1)
VB=$($C victim add HU-9 --name "Bob" --email bob@example.net | grep -oE '[0-9]+' | tail -1)

# The border (mx.police.example.org) writes its Received and, above it,
# its Authentication-Results; what the sender wrote is below both.
BORDER_RCV="Received: from mail.police.example.org (mail.police.example.org [192.0.2.7])
	by mx.police.example.org (Postfix) with ESMTPS id 4XyZ1; Sat, 28 Nov 2026 10:00:00 +0000"
SENDER_RCV="Received: from [10.1.2.3] by relay.evil.example; Sat, 28 Nov 2026 09:59:58 +0000"

# deliver N FROM TO [AUTHRES] [EXTRA-HEADER] - pipe one message; with
# AUTHRES, the border's field and Received above the message's own
# headers; $TOPHDRS (raw lines) goes first when set
deliver() {
	n=$1 from=$2 to=$3 ar=${4:-} extra=${5:-}
	{
		[ -n "${TOPHDRS:-}" ] && printf '%s\n' "$TOPHDRS"
		if [ -n "$ar" ]; then
			echo "Authentication-Results: $ar"
			echo "$BORDER_RCV"
		fi
		echo "From: $from"
		echo "To: $to"
		echo "Subject: ${SUBJECT:-note $n}"
		echo "Message-ID: <rt-$n@example.net>"
		[ -n "$extra" ] && echo "$extra"
		echo
		echo "Body of message $n."
	} >"$W/m$n.eml"
	$MDA --sender "$from" --recipient "$to" --queue-id "Q$n" <"$W/m$n.eml"
}
# where ID [REF] - "thread:STATUS:VISIBILITY:KIND", "quarantine:REASON"
# or "none"
where() {
	t=$($C thread "${2:-HU-7}" --json | jq -r --arg id "rt-$1@example.net" \
		'.messages[] | select(.message_id == $id) | "thread:\(.status):\(.visibility):\(.kind)"')
	if [ -n "$t" ]; then echo "$t"; return; fi
	q=$($C quarantine list --json | jq -r '.quarantine[].id' | while read -r id; do
		$C quarantine show "$id" --json | jq -r --arg id "rt-$1@example.net" \
			'.quarantine | select(.message_id == $id) | "quarantine:\(.reason)"'
	done)
	echo "${q:-none}"
}
# field ID KEY [REF] - one JSON field of thread message ID
field() {
	$C thread "${3:-HU-7}" --json | jq -r --arg id "rt-$1@example.net" \
		".messages[] | select(.message_id == \$id) | .$2"
}
# queued [KIND] - notices in the queue (of one kind)
queued() {
	$C notices --status queued --json |
		jq --arg k "${1:-}" '[.notices[] | select($k == "" or .kind == $k)] | length'
}

GOOD="mx.police.example.org; dkim=pass header.d=police.example.org"
DMARC="mx.police.example.org; dmarc=pass header.from=police.example.org"
EVIL="evil.example; dkim=pass header.d=police.example.org"

# --- officer mail to case+ and note+ ---
ok "officer update with a trusted DKIM pass" \
	deliver 1 $OIC "case+HU-7@$D" "$GOOD"
is "it is an update the victim sees" "$(where 1)" "thread:posted:victim:message"
is "addressed to the case's one victim, placed by the case address" \
	"$(field 1 victim_id) $(field 1 placement)" "$VID case_address"
ok "officer update, DKIM pass claimed by an untrusted host" \
	deliver 2 $OIC "case+HU-7@$D" "$EVIL"
is "it is held, not posted" "$(where 2)" "thread:held:victim:message"
ok "officer note without any Authentication-Results" \
	deliver 3 $OIC "note+hu-7@$D"
is "it is held" "$(where 3)" "thread:held:internal:message"
ok "officer note with DMARC pass (reference in lower case)" \
	deliver 4 $OIC "note+hu-7@$D" "$DMARC"
is "it is an internal note" "$(where 4)" "thread:posted:internal:message"
ok "a disabled officer" deliver 5 old@police.example.org "case+HU-7@$D" "$GOOD"
like "is quarantined" "$(where 5)" "^quarantine:sender is not an active officer"
ok "a stranger writing to case+" deliver 6 someone@example.com "case+HU-7@$D" "$GOOD"
like "is quarantined" "$(where 6)" "^quarantine:sender is not an active officer"
ok "an update for a closed case" deliver 7 $OIC "case+HU-8@$D" "$GOOD"
ok "closed case: quarantined" $C quarantine list --json
like "with its reason" "$OUT" "update for a closed case"
ok "an unknown case" deliver 8 $OIC "case+HU-999@$D" "$GOOD"
like "is quarantined" "$(where 8)" "^quarantine:unknown case"
ok "a malformed case reference" deliver 9 $OIC "case+HU'7@$D" "$GOOD"
like "is quarantined" "$(where 9)" "^quarantine:malformed case reference"

# --- attacks on case+ and note+: held, never posted, no victim told ---
Q0=$(queued update)
N0=$(queued officer_notify)
ok "attack: forged From of an active officer to case+" \
	deliver 30 $OIC "case+HU-7@$D"
is "is held" "$(where 30)" "thread:held:victim:message"
ok "attack: a forged internal note" deliver 31 $OIC "note+HU-7@$D"
is "is held, not in the evidence thread as a note" "$(where 31)" "thread:held:internal:message"
TOPHDRS="Authentication-Results: mx.police.example.org; dmarc=fail header.from=police.example.org
$BORDER_RCV
Authentication-Results: mx.police.example.org; dmarc=pass header.from=police.example.org
$SENDER_RCV" ok "attack: the sender's dmarc=pass below the border's dmarc=fail" \
	deliver 32 $OIC "case+HU-7@$D"
is "is held" "$(where 32)" "thread:held:victim:message"
ok "attack: a quoted ';' smuggling dmarc=pass" deliver 33 $OIC "case+HU-7@$D" \
	'mx.police.example.org; dkim=fail header.i="x;dmarc=pass"@evil.example'
is "is held" "$(where 33)" "thread:held:victim:message"
ok "attack: dmarc=pass for another From domain" deliver 34 $OIC "case+HU-7@$D" \
	"mx.police.example.org; dmarc=pass header.from=evil.example"
is "is held" "$(where 34)" "thread:held:victim:message"
ok "attack: dmarc=pass with no header.from" deliver 35 $OIC "case+HU-7@$D" \
	"mx.police.example.org; dmarc=pass"
is "is held" "$(where 35)" "thread:held:victim:message"
is "no victim is told of any of them" "$(queued update)" "$Q0"
is "the officer in charge is told of each" "$(queued officer_notify)" "$((N0 + 6))"
ok "held list" $C held list --json
is "each says how it was placed" \
	"$(printf '%s' "$OUT" | jq -r '[.held[] | select(.author == "officer") | .placement] | unique | join(",")')" \
	"case_address"

# --- fallbacks: placed on the case, held whatever the From ---
SUBJECT="Re: your case [HU-7]" ok "attack: the victim's From and a [REF] tag" \
	deliver 10 v1@example.net "info@example.org"
is "is held, not posted as the victim" "$(where 10)" "thread:held:victim:message"
is "placed by the subject tag" "$(field 10 placement)" "subject_tag"
SUBJECT="Re: your case [HU-7]" ok "a [REF] tag from a stranger" \
	deliver 11 mallory@example.com "info@example.org"
like "is quarantined" "$(where 11)" "^quarantine:sender not known on the case"
ok "no case address at all" deliver 12 v1@example.net "info@example.org"
like "is quarantined" "$(where 12)" "^quarantine:no case address"

# The notices of the update (message 1) go out for real, into the
# outbox: their Message-IDs are what a victim's client threads on.
ok "casemail-send sends what is queued" $SEND
NID=$($C notices --json | jq -r '[.notices[] | select(.kind == "update" and .channel == "email")][0].id')
is "the update's email notice is sent" \
	"$($C notices --json | jq -r --argjson id "$NID" '.notices[] | select(.id == $id) | .status')" sent
NOTICE_FILE=$(grep -l "^To: .*v1@example.net" "$W"/outbox/new/* | head -1)
NOTICE_MID=$(sed -n 's/^Message-I[dD]: *<\(.*\)>.*/\1/p' "$NOTICE_FILE" | head -1)
like "the notice has a Message-ID" "$NOTICE_MID" "@"
OHELD=$(grep -l "^Subject: \[HU-7\] Held for review: mail in an officer's name" "$W"/outbox/new/* | head -1)
like "the officer in charge is told that mail in an officer's name waits" "$OHELD" "outbox"
like "with the commands to approve or reject it" "$(cat "$OHELD" 2>/dev/null)" "casemail held reject [0-9]+"
unlike "and no Reply-To that would answer a victim" "$(sed -n '1,/^$/p' "$OHELD" 2>/dev/null)" "^Reply-To:"
ok "attack: the victim's From and In-Reply-To of a notice" deliver 13 \
	v1@example.net "info@example.org" "" "In-Reply-To: <$NOTICE_MID>"
is "is held" "$(where 13)" "thread:held:victim:message"
is "placed by threading headers" "$(field 13 placement)" "thread"

# --- the victim's reply address ---
RCPT=$($C address reply HU-7 "$VID")
ok "the victim replies through reply+KEY" deliver 15 v1@example.net "$RCPT"
is "is posted as the victim" "$(where 15)" "thread:posted:victim:message"
is "placed by the reply key" "$(field 15 placement)" "reply_key"
# the victim forwards a threatening message: kept whole, read apart
cat >"$W/fwd.eml" <<EOF
From: V One <v1@example.net>
To: $RCPT
Subject: Fwd: You will regret this
Message-ID: <rt-17@example.net>
Date: Sat, 28 Nov 2026 09:00:00 +0000

This came this morning from my ex. I'm scared.

---------- Forwarded message ---------
From: Mark Ex <mark@example.com>
Date: Sat, 28 Nov 2026 at 08:12
Subject: You will regret this
To: V One <v1@example.net>

You will regret going to the police.
EOF
ok "the victim forwards a message" $MDA --sender v1@example.net --recipient "$RCPT" --queue-id Q17 <"$W/fwd.eml"
is "is posted" "$(where 17)" "thread:posted:victim:message"
like "the forwarded message is kept, not trimmed as a quote" "$(field 17 body)" "You will regret going to the police"
is "its sender, date and subject read apart" \
	"$(field 17 'forwarded | "\(.from)|\(.date)|\(.subject)"')" \
	"Mark Ex <mark@example.com>|Sat, 28 Nov 2026 at 08:12|You will regret this"
like "and shown in the thread" "$($C thread HU-7)" "\[forwarded message from Mark Ex <mark@example.com>, date Sat, 28 Nov 2026 at 08:12, subject You will regret this\]"
# Outlook forwards with the same block as a reply: the subject tells
cat >"$W/fwd2.eml" <<EOF
From: V One <v1@example.net>
To: $RCPT
Subject: FW: Your parcel is waiting
Message-ID: <rt-18@example.net>
Date: Sat, 28 Nov 2026 09:30:00 +0000

The seller keeps writing to me.

-----Original Message-----
From: Quick Sales <sales@shop.example>
Sent: 27 November 2026 18:02
To: V One <v1@example.net>
Subject: Your parcel is waiting

Pay the release fee today or the parcel goes back.
EOF
ok "the victim forwards from Outlook" $MDA --sender v1@example.net --recipient "$RCPT" --queue-id Q18 <"$W/fwd2.eml"
like "the forwarded message is kept" "$(field 18 body)" "Pay the release fee today"
is "and read apart, by its FW: subject" "$(field 18 'forwarded | "\(.from)|\(.subject)"')" \
	"Quick Sales <sales@shop.example>|Your parcel is waiting"
ok "casemail-send notifies the officer of the forward" $SEND
FWDN=$(grep -l "^The victim passes on a message" "$W"/outbox/new/* | head -1)
# one notification waited for both: it shows the newest, the Outlook one
like "the notification names the forwarded message" "$(cat "$FWDN" 2>/dev/null)" \
	"From: +Quick Sales <sales@shop.example>"
like "and its subject" "$(cat "$FWDN" 2>/dev/null)" "Subject: Your parcel is waiting"
ok "a valid reply address from another sender" deliver 14 partner@example.com "$RCPT"
is "is held" "$(where 14)" "thread:held:victim:message"
ok "casemail-send notifies the officer of it" $SEND
HELDN=$(grep -l "^Subject: \[HU-7\] Held for review: message from partner@example.com for V One" "$W"/outbox/new/* | head -1)
like "the notification's subject names the real sender" "$HELDN" "outbox"
like "and its text" "$(cat "$HELDN" 2>/dev/null)" "Sender: +partner@example.com"
HID=$($C held list --json | jq -r '[.held[] | select(.sender == "partner@example.com")][0].id')
ok "held approve" $C held approve "$HID"
is "and then posted" "$(where 14)" "thread:posted:victim:message"
ok "attack: the victim's From on reply+KEY, failed by the border" deliver 16 \
	v1@example.net "$RCPT" "mx.police.example.org; dmarc=fail header.from=example.net"
is "is held" "$(where 16)" "thread:held:victim:message"

# --- the officer answers one victim of a two-victim case ---
VRA=$($C address reply HU-9 "$VA")
ok "Ann writes through her reply address" deliver 40 ann@example.net "$VRA"
is "posted on HU-9" "$(where 40 HU-9)" "thread:posted:victim:message"
ok "casemail-send notifies the officer" $SEND
NOTIFY=$(grep -l "^Subject: .*message from Ann" "$W"/outbox/new/* | head -1)
like "the notification was written" "$NOTIFY" "outbox"
OKEY=$(sed -n 's/^Reply-To: *<*\(officer+[a-z2-7]*@cases\.example\.org\)>*.*/\1/p' "$NOTIFY" | head -1)
like "its Reply-To is the officer's key address" "$OKEY" "^officer\+[a-z2-7]+@$D$"
is "naming this officer, case and victim" "$OKEY" "$($C address officer HU-9 "$VA" --officer $OIC)"
like "the notification says how Ann's message was placed" "$(cat "$NOTIFY")" "Placed: +by the victim's own reply address"
Q0=$(queued)
ok "the officer answers by replying to the notification" deliver 41 $OIC "$OKEY"
is "it is posted" "$(where 41 HU-9)" "thread:posted:victim:message"
is "to Ann alone" "$(field 41 victim_id HU-9) $(field 41 placement HU-9)" "$VA officer_key"
ok "notices" $C notices --status queued --json
is "only Ann is told" \
	"$(printf '%s' "$OUT" | jq -r '[.notices[] | .recipient] | join(",")')" "ann@example.net"
ok "attack: the officer's key address from another sender" \
	deliver 42 mallory@example.com "$OKEY"
is "is held" "$(where 42 HU-9)" "thread:held:victim:message"
FOKEY=$(echo "$OKEY" | sed 's/officer+./officer+z/')
ok "attack: an altered officer key" deliver 43 $OIC "$FOKEY"
like "is quarantined" "$(where 43)" "^quarantine:forged or altered officer address"
ok "a proven update to case+HU-9 goes to every victim" deliver 44 $OIC "case+HU-9@$D" "$DMARC"
is "posted to all" "$(where 44 HU-9) $(field 44 victim_id HU-9)" "thread:posted:victim:message null"
ok "notices" $C notices --status queued --json
is "both victims told" \
	"$(printf '%s' "$OUT" | jq -r '[.notices[] | select(.kind == "update") | .recipient] | sort | join(",")')" \
	"ann@example.net,ann@example.net,bob@example.net"

# --- bounces to bounce+KEY ---
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
	"$(printf '%s' "$OUT" | jq -r --argjson id "$NID" '.notices[] | select(.id == $id) | .status')" sent
sed 's/rfc822; v1@example.net/rfc822; someone-else@example.net/; s/rt-20@/rt-25@/' \
	"$W/dsn.eml" >"$W/other.eml"
ok "a report naming another recipient" \
	$MDA --sender "" --recipient "$BADDR" --queue-id Q25 <"$W/other.eml"
ok "victim" $C victim show "$VID" --json
is "does not score the address" "$(printf '%s' "$OUT" | jq -r '.victim.bounce_score')" 0
ok "a permanent failure to bounce+KEY" \
	$MDA --sender "" --recipient "$BADDR" --queue-id Q20 <"$W/dsn.eml"
ok "notices" $C notices --json
is "fails the notice" \
	"$(printf '%s' "$OUT" | jq -r --argjson id "$NID" '.notices[] | select(.id == $id) | .status')" failed
ok "victim" $C victim show "$VID" --json
is "and scores the address" "$(printf '%s' "$OUT" | jq -r '.victim.bounce_score')" 1
for i in 1 2 3; do
	sed "s/rt-20@/rt-2$((5 + i))x@/" "$W/dsn.eml" >"$W/replay$i.eml"
	ok "attack: the same bounce replayed with a new Message-ID ($i)" \
		$MDA --sender "" --recipient "$BADDR" --queue-id "QR$i" <"$W/replay$i.eml"
done
ok "victim" $C victim show "$VID" --json
is "the address is scored once" "$(printf '%s' "$OUT" | jq -r '.victim.bounce_score')" 1
is "and is not undeliverable" "$(printf '%s' "$OUT" | jq -r '.victim.email_status')" ok
FBAD=$(echo "$BADDR" | sed 's/bounce+./bounce+z/')
ok "a forged bounce address" \
	$MDA --sender "" --recipient "$FBAD" --queue-id Q22 <"$W/dsn.eml"
ok "quarantine" $C quarantine list --json
like "is quarantined" "$OUT" "forged or altered bounce address"

# The log line: free-text values stay one quoted field each.
ok "attack: an envelope sender with spaces and fake fields" $MDA -v \
	--sender 'x@y.example status=posted case=HU-7' --recipient "nobody@$D" \
	--queue-id 'QL 1' <"$W/m1.eml"
like "is logged as one quoted value" "$ERR" \
	'qid="QL 1" origin="stdin" from="x@y.example status=posted case=HU-7" to="nobody@cases\.example\.org" case=- status=quarantined id=[0-9]+ reason="no case address"'

# Exit codes that Postfix reads.
exits "a bad command line is EX_USAGE" 64 $MDA --no-such-option
exits "a missing config is EX_TEMPFAIL" 75 "$BIN/casemail-mda" -c "$W/nope.conf" --recipient "x@$D"
chmod 644 "$W/secret"
exits "a readable secret is EX_TEMPFAIL" 75 $MDA --recipient "x@$D" <"$W/m1.eml"
like "with one reason line" "$ERR" "must not be readable by group or others"
chmod 600 "$W/secret"
ok "audit chain intact" $C audit verify
finish
