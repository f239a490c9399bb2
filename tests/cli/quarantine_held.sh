#!/bin/sh
# quarantine_held.sh - quarantine list/show/release/delete and held
# approve/reject, with mail put in through casemail-mda
. "$TOP/tests/lib.sh"
mkconf "max_mime_depth = 3"
CM="$BIN/casemail"
MDA="$BIN/casemail-mda"
J="python3 $TOP/tests/cli/jget.py"
cm() { "$CM" -c "$CONF" "$@"; }
REF=HU-20261128-0042
OFF=jo@example.org
D=cases.example.org

if [ ! -x "$MDA" ]; then
	echo "# casemail-mda missing: $MDA (built from mda/)"
	t_report 1 "casemail-mda missing"
	finish
fi
# deliver FILE SENDER RECIPIENT QUEUE_ID
deliver() {
	"$MDA" -c "$CONF" --sender "$2" --recipient "$3" --queue-id "$4" <"$1"
}
mail() { # file from to subject body...
	f=$1; from=$2; to=$3; subj=$4; shift 4
	{
		printf 'From: %s\nTo: %s\nSubject: %s\n' "$from" "$to" "$subj"
		printf 'Message-ID: <%s@example.net>\n' "$(basename "$f")"
		printf 'Date: Sat, 28 Nov 2026 10:00:00 +0000\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$f"
}

ok "init" cm init
ok "officer" cm officer add --email $OFF --name "Jo Bloggs"
ok "case" cm case add $REF --oic $OFF
ok "victim 1" cm victim add $REF --name Alice --email alice@example.com
ok "victim 2" cm victim add $REF --name Bob --email bob@example.com

# --- quarantine ---
mail "$W/q1" stranger@example.net "unknown@$D" "About my case" \
	"Hello, this is about the burglary." "" "> earlier text" "> quoted"
ok "mda quarantines mail to an unknown address" deliver "$W/q1" stranger@example.net "unknown@$D" Q1
ok "quarantine list" cm quarantine list --json
is "one row" "$(printf '%s' "$OUT" | $J 'len(d["quarantine"])')" "1"
Q1=$(printf '%s' "$OUT" | $J 'd["quarantine"][0]["id"]')
is "held" "$(printf '%s' "$OUT" | $J 'd["quarantine"][0]["status"]')" "held"
is "recipient" "$(printf '%s' "$OUT" | $J 'd["quarantine"][0]["recipient"]')" "unknown@$D"
is "subject" "$(printf '%s' "$OUT" | $J 'd["quarantine"][0]["subject"]')" "About my case"
is "list keys" "$(printf '%s' "$OUT" | $J 'list(d["quarantine"][0].keys())')" \
	'["id","at","status","sender","recipient","subject","size","reason","case"]'
ok "quarantine list text" cm quarantine list
like "text table" "$OUT" "^ID +AT +STATUS +SENDER"
ok "quarantine show --json" cm quarantine show "$Q1" --json
is "queue id" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["queue_id"]')" "Q1"
is "size" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["size"]')" "$(wc -c <"$W/q1" | tr -d ' ')"
ok "quarantine show --raw" sh -c "'$CM' -c '$CONF' quarantine show $Q1 --raw >'$W/q1.out'"
ok "raw is the message byte for byte" cmp "$W/q1" "$W/q1.out"

# a stranger's mail is never credited to a victim by default
exits "release as victim needs a named victim" 1 cm quarantine release "$Q1" --case hu-20261128-0042 --as victim
like "says so" "$ERR" "the sender matches no victim of case $REF: name one with --victim ID"
exits "a victim of another case refused" 1 cm quarantine release "$Q1" --case $REF --as victim --victim 99
ok "still held" cm quarantine show "$Q1" --json
is "not released" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["status"]')" "held"
ok "release as victim" cm quarantine release "$Q1" --case hu-20261128-0042 --as victim --victim 2
like "release output" "$OUT" "^released quarantined message $Q1 to $REF as victim: message [0-9]+, 1 notices queued$"
ok "thread" cm thread $REF --json
is "one message" "$(printf '%s' "$OUT" | $J 'len(d["messages"])')" "1"
is "author victim" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["author"]')" "victim"
is "source quarantine" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["source"]')" "quarantine"
is "credited to the named victim, placed by release" "$(printf '%s' "$OUT" | $J '(d["messages"][0]["victim_id"], d["messages"][0]["placement"])')" '[2,"released"]'
is "trimmed body" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["body"]')" "Hello, this is about the burglary."
like "quoted kept apart" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["quoted"]')" "earlier text"
like "full text kept" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["body_full"]')" "> quoted"
is "subject" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["subject"]')" "About my case"
is "message id" "$(printf '%s' "$OUT" | $J 'd["messages"][0]["message_id"]')" "q1@example.net"
ok "notices" cm notices --json
is "officer notified" "$(printf '%s' "$OUT" | $J '[(n["kind"], n["recipient"]) for n in d["notices"]]')" \
	"[[\"officer_notify\",\"$OFF\"]]"
ok "quarantine show after release" cm quarantine show "$Q1" --json
is "released" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["status"]')" "released"
is "released to the case" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["case"]')" "$REF"
is "released as" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["released_as"]')" "victim"
exits "release twice refused" 1 cm quarantine release "$Q1" --case $REF --as victim
like "already released" "$ERR" "already released"

# release as an internal note: no notices
mail "$W/q2" someone@example.net "nobody@$D" "Forwarded" "Internal material."
ok "second quarantined" deliver "$W/q2" someone@example.net "nobody@$D" Q2
Q2=$(cm quarantine list --status held --json | $J 'd["quarantine"][0]["id"]')
ok "release as note" cm quarantine release "$Q2" --case $REF --as note
like "note queues nothing" "$OUT" ", 0 notices queued$"
ok "thread" cm thread $REF --json
is "note is internal" "$(printf '%s' "$OUT" | $J 'd["messages"][-1]["visibility"]')" "internal"
is "note by an officer" "$(printf '%s' "$OUT" | $J 'd["messages"][-1]["author"]')" "officer"

# release as officer: visible, victims notified
mail "$W/q3" $OFF "nowhere@$D" "Update" "We have news."
ok "third quarantined" deliver "$W/q3" $OFF "nowhere@$D" Q3
Q3=$(cm quarantine list --status held --json | $J 'd["quarantine"][0]["id"]')
exits "release as officer needs an addressee" 1 cm quarantine release "$Q3" --case $REF --as officer
like "case has two victims" "$ERR" "case $REF has 2 victims: say --victim ID or --all"
ok "release as officer" cm quarantine release "$Q3" --case $REF --as officer --all
like "two victims notified" "$OUT" ", 2 notices queued$"
ok "thread" cm thread $REF --json
is "officer message visible" "$(printf '%s' "$OUT" | $J '(d["messages"][-1]["author"], d["messages"][-1]["visibility"])')" \
	'["officer","victim"]'

# a message the parser refuses is released with its raw text as the body
{
	printf 'From: deep@example.net\nTo: x@%s\nSubject: deep\nMIME-Version: 1.0\n' "$D"
	printf 'Content-Type: multipart/mixed; boundary="b1"\n\n'
	for i in 1 2 3 4 5; do
		printf -- '--b%s\nContent-Type: multipart/mixed; boundary="b%s"\n\n' "$i" "$((i + 1))"
	done
	printf -- '--b6\nContent-Type: text/plain\n\nDeep inside.\n--b6--\n'
} >"$W/q4"
ok "deep message quarantined" deliver "$W/q4" deep@example.net "x@$D" Q4
Q4=$(cm quarantine list --status held --json | $J 'd["quarantine"][0]["id"]')
ok "release unparseable as note" cm quarantine release "$Q4" --case $REF --as note
ok "thread" cm thread $REF --json
like "raw text as the body" "$(printf '%s' "$OUT" | $J 'd["messages"][-1]["body_full"]')" "Deep inside\."
like "the raw headers too (the parse failed)" \
	"$(printf '%s' "$OUT" | $J 'd["messages"][-1]["body_full"]')" 'boundary="b6"'

# delete keeps the raw message
mail "$W/q5" spam@example.net "junk@$D" "Buy now" "Spam."
ok "fifth quarantined" deliver "$W/q5" spam@example.net "junk@$D" Q5
Q5=$(cm quarantine list --status held --json | $J 'd["quarantine"][0]["id"]')
ok "delete" cm quarantine delete "$Q5"
ok "show deleted" cm quarantine show "$Q5" --json
is "deleted" "$(printf '%s' "$OUT" | $J 'd["quarantine"]["status"]')" "deleted"
ok "raw kept after delete" sh -c "'$CM' -c '$CONF' quarantine show $Q5 --raw >'$W/q5.out'"
ok "raw unchanged" cmp "$W/q5" "$W/q5.out"
exits "delete twice refused" 1 cm quarantine delete "$Q5"
exits "release deleted refused" 1 cm quarantine release "$Q5" --case $REF --as note
ok "nothing held now" cm quarantine list --status held --json
is "empty" "$(printf '%s' "$OUT" | $J 'd["quarantine"]')" "[]"
exits "bad status filter" 2 cm quarantine list --status gone

# --- held ---
RA=$(cm address reply $REF 1)
mail "$W/h1" imposter@example.net "$RA" "Re: your case" "I am Alice, honestly."
ok "reply from another address" deliver "$W/h1" imposter@example.net "$RA" H1
ok "held list" cm held list --json
is "one held" "$(printf '%s' "$OUT" | $J 'len(d["held"])')" "1"
H1=$(printf '%s' "$OUT" | $J 'd["held"][0]["id"]')
is "held case" "$(printf '%s' "$OUT" | $J 'd["held"][0]["case"]')" "$REF"
is "held sender" "$(printf '%s' "$OUT" | $J 'd["held"][0]["sender"]')" "imposter@example.net"
is "held keys" "$(printf '%s' "$OUT" | $J 'list(d["held"][0].keys())')" \
	'["id","case","at","author","sender","placement","victim_id","subject","body"]'
is "held placement" "$(printf '%s' "$OUT" | $J '(d["held"][0]["placement"], d["held"][0]["victim_id"])')" '["reply_key",1]'
notify_before=$(cm notices --json | $J 'len([n for n in d["notices"] if n["kind"] == "officer_notify"])')
ok "approve" cm held approve "$H1"
like "approve output" "$OUT" "^approved message $H1 on $REF"
ok "thread" cm thread $REF --json
is "now posted" "$(printf '%s' "$OUT" | $J '[m["status"] for m in d["messages"] if m["id"] == '"$H1"']')" '["posted"]'
notify_after=$(cm notices --json | $J 'len([n for n in d["notices"] if n["kind"] == "officer_notify"])')
ok "the officer has a notice for it" test "$notify_after" -ge 1
ok "at most one officer notice per held message" test "$((notify_after - notify_before))" -le 1
exits "approve twice refused" 1 cm held approve "$H1"
like "not held" "$ERR" "is not held \(status posted\)"

mail "$W/h2" imposter@example.net "$RA" "Re: your case" "Again."
ok "second held" deliver "$W/h2" imposter@example.net "$RA" H2
H2=$(cm held list --json | $J 'd["held"][0]["id"]')
ok "reject" cm held reject "$H2"
ok "thread" cm thread $REF --json
is "rejected" "$(printf '%s' "$OUT" | $J '[m["status"] for m in d["messages"] if m["id"] == '"$H2"']')" '["rejected"]'
exits "approve rejected refused" 1 cm held approve "$H2"
ok "none held" cm held list --json
is "held list empty" "$(printf '%s' "$OUT" | $J 'd["held"]')" "[]"

ok "audit" cm audit list --json
actions=$(printf '%s' "$OUT" | $J '" ".join(sorted(set(r["action"] for r in d["audit"])))')
like "quarantine.release audited" "$actions" "quarantine.release"
like "quarantine.delete audited" "$actions" "quarantine.delete"
like "held.approve audited" "$actions" "held.approve"
like "held.reject audited" "$actions" "held.reject"
ok "audit intact" cm audit verify

finish
