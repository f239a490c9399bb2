#!/bin/sh
# T250-mail-milestones.sh - "Milestone: KIND" lines in officer mail,
# piped into casemail-mda as in T070: an update to case+REF records the
# milestone for every victim, one to the officer's key address for that
# victim alone, at the message's time and in the same transaction; the
# line leaves the text the victim reads; the kind is matched case-blind
# against milestone_kinds, and a kind not configured or a malformed line
# is refused (an internal event says so), as is a line in the quoted
# part; a held (unproven) update records nothing until casemail held
# approve, which records it at the message's time; the same message
# twice records once; the update that carried the line meets the
# milestone once its notice is sent.
. "$TOP/tests/lib.sh"
mkconf "trusted_authserv_ids = mx.police.example.org" \
	"template_dir = $TOP/conf/templates"
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"
D=cases.example.org
OIC=oic@police.example.org
GOOD="mx.police.example.org; dkim=pass header.d=police.example.org"
BORDER_RCV="Received: from mail.police.example.org (mail.police.example.org [192.0.2.7])
	by mx.police.example.org (Postfix) with ESMTPS id 4XyZ1; Sat, 28 Nov 2026 10:00:00 +0000"

ok "init" $C init
ok "officer" $C officer add --email $OIC --name "PC One"
ok "case HU-7" $C case add HU-7 --oic $OIC
ok "case HU-9" $C case add HU-9 --oic $OIC
VID=$($C victim add HU-7 --name "V One" --email v1@example.net | tail -1)
VA=$($C victim add HU-9 --name "Ann" --email ann@example.net | tail -1)
VB=$($C victim add HU-9 --name "Bob" --email bob@example.net | tail -1)

# deliver N FROM TO AUTHRES BODY - pipe one message (AUTHRES "" for none)
deliver() {
	n=$1 from=$2 to=$3 ar=$4 body=$5
	{
		if [ -n "$ar" ]; then
			echo "Authentication-Results: $ar"
			echo "$BORDER_RCV"
		fi
		echo "From: $from"
		echo "To: $to"
		echo "Subject: update $n"
		echo "Message-ID: <ms-$n@police.example.org>"
		echo
		printf '%s\n' "$body"
	} >"$W/m$n.eml"
	$MDA --sender "$from" --recipient "$to" --queue-id "Q$n" <"$W/m$n.eml"
}
# msg N REF FIELD - a field of message N in the thread
msg() {
	$C thread "$2" --json | jq -r --arg id "ms-$1@police.example.org" \
		".messages[] | select(.message_id == \$id) | .$3"
}
# ms REF - the case's milestones: "victim:kind:at" per line
ms() {
	$C milestone list "$1" --json | jq -r '.milestones[] | "\(.victim):\(.kind):\(.at)"'
}

# --- case+REF, proven: every victim of the case ---
ok "update to case+HU-9 with a milestone line" deliver 1 $OIC "case+HU-9@$D" "$GOOD" \
"The suspect was charged this morning and will appear in court.
Milestone: charged
PC One"
is "posted" "$(msg 1 HU-9 status)" "posted"
AT1=$(msg 1 HU-9 at)
is "recorded for every victim at the message's time" "$(ms HU-9)" "all:charged:$AT1"
is "the victims read the update without the line" "$(msg 1 HU-9 body)" \
"The suspect was charged this morning and will appear in court.
PC One"
like "the full text is kept as it came" "$(msg 1 HU-9 body_full)" "Milestone: charged"
ok "audit" $C audit list HU-9 --json
like "audited as the mda's" "$OUT" "milestone.add"
like "with its deadline" "$OUT" "milestone=1 kind=charged victim=0 enhanced=no deadline="

# --- officer+KEY: that victim alone, case-blind ---
OKEY=$($C address officer HU-9 "$VB" --officer $OIC)
like "an officer key address" "$OKEY" "^officer\\+"
ok "answer to Bob through the key address" deliver 2 $OIC "$OKEY" "" \
"Bob, the suspect has been bailed with conditions.
  MILESTONE : Bailed."
is "posted to Bob" "$(msg 2 HU-9 status) $(msg 2 HU-9 victim_id)" "posted $VB"
AT2=$(msg 2 HU-9 at)
is "recorded for Bob only" "$(ms HU-9 | grep bailed)" "$VB:bailed:$AT2"

# --- refused lines: unknown kind, malformed, quoted ---
ok "an unknown kind and a malformed line" deliver 3 $OIC "case+HU-7@$D" "$GOOD" \
"News on your case.
Milestone: sentenced
milestone: charged with theft"
is "posted all the same" "$(msg 3 HU-7 status)" "posted"
is "nothing recorded" "$(ms HU-7)" ""
is "both lines out of the victim's text" "$(msg 3 HU-7 body)" "News on your case."
ID3=$(msg 3 HU-7 id)
is "the officer sees why, internally" \
	"$($C thread HU-7 --json | jq -r '[.messages[] | select(.kind == "event" and .visibility == "internal") | .body] | join("|")')" \
"Milestone line of message $ID3 not recorded: \"sentenced\" is not a milestone kind (milestone_kinds: arrested interviewed released_nfa bailed released_ui bail_changed charged ocd not_investigated).|Milestone line of message $ID3 not recorded: \"charged?with?theft\" is not a kind on its own (milestone_kinds: arrested interviewed released_nfa bailed released_ui bail_changed charged ocd not_investigated)."
ok "audit HU-7" $C audit list HU-7 --json
like "refusals audited" "$OUT" "milestone.refused"
ok "a milestone line only in the quoted part" deliver 4 $OIC "case+HU-7@$D" "$GOOD" \
"Thanks, noted.

On Mon, 30 Nov 2026 at 10:00, PC Two <two@police.example.org> wrote:
> Milestone: arrested
> Earlier text."
is "the quote records nothing" "$(ms HU-7)" ""

# --- held: nothing until approved ---
ok "unproven update to case+HU-7 (no border result)" deliver 5 $OIC "case+HU-7@$D" "" \
"An arrest has been made.
Milestone: arrested"
is "held" "$(msg 5 HU-7 status)" "held"
is "nothing recorded while held" "$(ms HU-7)" ""
ID5=$(msg 5 HU-7 id)
AT5=$(msg 5 HU-7 at)
sleep 1
ok "approve it" $C held approve "$ID5"
like "says what it recorded" "$OUT" "1 milestones recorded \\(arrested\\), 0 refused$"
is "recorded at the message's time, for the one victim" "$(ms HU-7)" "$VID:arrested:$AT5"
is "the held text is without the line too" "$(msg 5 HU-7 body)" "An arrest has been made."

# --- the same message twice: once ---
ok "update 1 delivered again (same queue id)" $MDA --sender $OIC \
	--recipient "case+HU-9@$D" --queue-id Q1 <"$W/m1.eml"
is "still one charged milestone" "$(ms HU-9 | grep -c charged)" 1

# --- the update that carried the line meets it once sent ---
ok "check before sending" $C milestone check --json
is "pending while only queued" "$($C milestone list HU-9 --json | jq -r '[.milestones[].status] | join(",")')" "pending,pending"
ok "casemail-send" "$BIN/casemail-send" -c "$CONF" --once
ok "check after sending" $C milestone check --json
is "met by the updates that named them" "$($C milestone list --json | jq -r '[.milestones[].status] | join(",")')" "met,met,met"
ok "audit verify" $C audit verify
finish
