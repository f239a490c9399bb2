#!/bin/sh
# T080-imap.sh - casemail-mda --imap against a private Dovecot
#
# Poll: every message lands in its thread and moves to Processed or
# Quarantine on the server. A backlog of 500 with the poller killed
# (SIGKILL) at random points and restarted each time: 500 stored, none
# lost, none twice. Dovecot restarted while the poller sits in IDLE: it
# reconnects and picks up what arrived meanwhile; SIGTERM ends it with 0.
# The mailbox recreated with the same messages (new UIDVALIDITY): no
# duplicates. A certificate the client does not trust: refused, clearly.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/dovecot-lib.sh"
dv_need
dv_start
printf '%s\n' "$DV_PASS" >"$W/imap-password"
chmod 600 "$W/imap-password"
mkconf "imap_password_file = $W/imap-password" "imap_ca_file = $DV_CA"
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"
URL="imaps://$DV_USER@localhost:$DV_PORT"

$C init >/dev/null
$C officer add --email oic@police.example.org --name "PC One" >/dev/null
$C case add HU-9 --oic oic@police.example.org >/dev/null
VID=$($C victim add HU-9 --name "V Nine" --email v9@example.net)
RCPT=$($C address reply HU-9 "$VID")

# mk FILE ID TO - a victim reply as an MTA would have delivered it
mk() {
	cat >"$1" <<MAIL
Return-Path: <v9@example.net>
Delivered-To: $3
From: V Nine <v9@example.net>
To: $3
Subject: Re: your case
Message-ID: <$2@example.net>
Date: Sat, 28 Nov 2026 10:00:00 +0000

Message $2 from the victim.
MAIL
}
append() { # MAILBOX FILES...
	box=$1; shift
	python3 "$TOP/tests/e2e/imap-append.py" "$DV_HOST" "$DV_PORT" \
		"$DV_CA" "$DV_USER" "$DV_PASS" "$box" "$@"
}
stored() { # how many distinct messages with ids starting PREFIX
	$C thread HU-9 --json | jq --arg p "$1" \
		'[.messages[].message_id | select(startswith($p))] | length'
}

mkdir -p "$W/m"
for i in 1 2 3 4 5 6; do mk "$W/m/a$i" "a$i" "$RCPT"; done
mk "$W/m/x1" "x1" "nobody@example.org"
mk "$W/m/x2" "x2" "$(echo "$RCPT" | sed 's/reply+./reply+q/')"
ok "append 8 messages" append INBOX "$W"/m/a? "$W"/m/x?
ok "poll once" $MDA --imap "$URL/INBOX" --once
is "summary" "$OUT" \
	"ingested 6, duplicates 0, held 0, quarantined 2, events 0, failed 0"
is "6 in the thread" "$(stored a)" 6
is "INBOX is empty" "$(dv_count "$DV_USER" INBOX)" 0
is "6 moved to Processed" "$(dv_count "$DV_USER" Processed)" 6
is "2 moved to Quarantine" "$(dv_count "$DV_USER" Quarantine)" 2
is "and flagged \\Seen" "$(dv_count_seen "$DV_USER" Processed)" 6
ok "poll again" $MDA --imap "$URL/INBOX" --once
is "nothing new" "$OUT" \
	"ingested 0, duplicates 0, held 0, quarantined 0, events 0, failed 0"

# A backlog of 500, the poller killed at random and restarted.
for i in $(seq 1 500); do mk "$W/m/k$i" "k$i" "$RCPT"; done
ok "append 500 messages" append INBOX $(seq -f "$W/m/k%g" 1 500)
SEED=${SEED:-$$}
echo "# seed $SEED"
kills=0
for r in 1 2 3 4 5 6 7 8; do
	setsid $MDA --imap "$URL/INBOX" >"$W/poll.out" 2>&1 &
	pid=$!
	ms=$(( (SEED * 1103515245 + r * 7919) % 700 ))
	[ "$ms" -lt 0 ] && ms=$(( -ms ))
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "-$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
done
echo "# $kills kills"
ok "a last poll finishes the backlog" $MDA --imap "$URL/INBOX" --once
is "500 stored" "$(stored k)" 500
ok "thread" $C thread HU-9 --json
is "none of them twice" \
	"$(printf '%s' "$OUT" | jq '[.messages[].message_id | select(startswith("k"))] | unique | length')" 500
is "INBOX is empty" "$(dv_count "$DV_USER" INBOX)" 0
is "Processed holds them all" "$(dv_count "$DV_USER" Processed)" 506
like "the poller was really killed" "$kills" '^[1-9]'

# IDLE, and Dovecot restarted under it.
$MDA -v --imap "$URL/INBOX" >"$W/idle.out" 2>"$W/idle.err" &
ipid=$!
sleep 1
mk "$W/m/i1" i1 "$RCPT"
ok "append while the poller idles" append INBOX "$W/m/i1"
n=0
while [ "$(stored i1)" != 1 ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
is "IDLE picked it up" "$(stored i1)" 1
dv_stop
dovecot -c "$DV_CONF" >/dev/null 2>&1
n=0
while ! dv_listening && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
mk "$W/m/i2" i2 "$RCPT"
ok "append after the restart" append INBOX "$W/m/i2"
n=0
while [ "$(stored i2)" != 1 ] && [ $n -lt 150 ]; do sleep 0.2; n=$((n + 1)); done
is "the poller reconnected and stored it" "$(stored i2)" 1
kill -TERM "$ipid"
wait "$ipid"
is "SIGTERM ends it with 0" "$?" 0
like "it logged the reconnection" "$(cat "$W/idle.err")" "status=connected"

# UIDVALIDITY reset: the same messages in a recreated mailbox.
ok "a mailbox Cases with 3 messages" append Cases "$W"/m/a1 "$W"/m/a2 "$W"/m/a3
ok "poll Cases" $MDA --imap "$URL/Cases" --once
is "all 3 are duplicates" "$OUT" \
	"ingested 0, duplicates 3, held 0, quarantined 0, events 0, failed 0"
dv_doveadm mailbox delete -u "$DV_USER" Cases >/dev/null 2>&1
ok "Cases recreated with the same 3" append Cases "$W"/m/a1 "$W"/m/a2 "$W"/m/a3
ok "poll the recreated Cases" $MDA --imap "$URL/Cases" --once
is "still no duplicates" "$OUT" \
	"ingested 0, duplicates 3, held 0, quarantined 0, events 0, failed 0"
is "6 a-messages in the thread, once each" "$(stored a)" 6

# A replies mailbox on Exchange: no Delivered-To or X-Original-To, the
# address is in To or Cc; where a Delivered-To exists, it outranks an
# X-Original-To the sender wrote.
# mx FILE ID FROM HEADERS... - a message with the given address headers
mx() {
	f=$1 id=$2 from=$3
	shift 3
	{
		printf 'From: %s\n' "$from"
		for h in "$@"; do printf '%s\n' "$h"; done
		printf 'Subject: Re: your case\nMessage-ID: <%s@example.net>\n' "$id"
		printf 'Date: Sat, 28 Nov 2026 10:00:00 +0000\n\nMessage %s.\n' "$id"
	} >"$f"
}
field() { # ID KEY - one field of thread message ID
	$C thread HU-9 --json | jq -r --arg id "$1@example.net" \
		".messages[] | select(.message_id == \$id) | .$2"
}
mx "$W/m/e1" e1 "V Nine <v9@example.net>" "To: Example Police <$RCPT>"
mx "$W/m/e2" e2 "V Nine <v9@example.net>" "To: Someone <someone@example.org>" \
	"Cc: helpdesk@example.org, $RCPT"
mx "$W/m/e3" e3 "V Nine <v9@example.net>" "To: info@example.org"
mx "$W/m/e4" e4 "PC One <oic@police.example.org>" "Delivered-To: $RCPT" \
	"X-Original-To: case+HU-9@cases.example.org" "To: $RCPT"
mx "$W/m/e5" e5 "PC One <oic@police.example.org>" "To: case+HU-9@cases.example.org"
ok "append 5 messages as Exchange stores them" append Exchange "$W"/m/e?
ok "poll Exchange" $MDA --imap "$URL/Exchange" --once
is "2 posted, 2 held, 1 quarantined" "$OUT" \
	"ingested 2, duplicates 0, held 2, quarantined 1, events 0, failed 0"
is "To: the victim's reply address: posted, by the reply key" \
	"$(field e1 status) $(field e1 author) $(field e1 placement)" "posted victim reply_key"
is "Cc: the reply address: posted" "$(field e2 status) $(field e2 placement)" "posted reply_key"
is "nothing of ours in To or Cc: not in the thread" "$(field e3 status)" ""
is "attack: X-Original-To case+ under a Delivered-To reply+: the reply key decides, held" \
	"$(field e4 status) $(field e4 author) $(field e4 placement)" "held victim reply_key"
is "attack: forged officer From to case+ in To: held, not posted" \
	"$(field e5 status) $(field e5 author) $(field e5 placement)" "held officer case_address"

# A certificate the client does not trust.
mkconf "imap_password_file = $W/imap-password"
exits "an untrusted certificate is refused" 75 \
	"$BIN/casemail-mda" -c "$CONF" --imap "$URL/INBOX" --once
like "with a clear reason" "$ERR" "certificate"
mkconf "imap_password_file = $W/imap-password" "imap_ca_file = $DV_CA"
chmod 644 "$W/imap-password"
exits "a readable password file is refused" 75 $MDA --imap "$URL/INBOX" --once
like "naming the mode" "$ERR" "mode 0644"
ok "audit chain intact" $C audit verify
finish
