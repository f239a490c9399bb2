#!/bin/sh
# T060-maildir.sh - casemail-mda --maildir: batches, moves, interruption
#
# A maildir with victim replies, forged replies, already-seen and
# not-yet-seen messages in cur/: everything unseen is ingested, moved into
# cur/ with the S flag (quarantined ones into .Quarantine), the summary
# line counts it, and a second run finds nothing. Then a 600-message
# maildir is ingested while the whole process group is killed with
# SIGKILL at random moments and restarted each time: in the end every
# message is in its thread exactly once and new/ is empty.
. "$TOP/tests/lib.sh"
mkconf
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"

$C init >/dev/null
$C officer add --email oic@police.example.org --name "PC One" >/dev/null
$C case add HU-1 --oic oic@police.example.org >/dev/null
VID=$($C victim add HU-1 --name "V One" --email v1@example.net)
RCPT=$($C address reply HU-1 "$VID")
FORGED=$(echo "$RCPT" | sed 's/reply+./reply+q/')

# mkmsg DIR NAME N TO - one victim reply numbered N to address TO
mkmsg() {
	cat >"$1/$2" <<EOF
From: V One <v1@example.net>
To: $4
Delivered-To: $4
Subject: Re: your case
Message-ID: <md-$3@example.net>
Date: Sat, 28 Nov 2026 10:00:00 +0000

Reply number $3.

On Fri, Officer wrote:
> earlier text
EOF
}

M=$W/Maildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
for i in $(seq 1 20); do mkmsg "$M/new" "100$i.M1P1.host" "a$i" "$RCPT"; done
for i in 1 2 3; do mkmsg "$M/new" "200$i.M1P1.host" "f$i" "$FORGED"; done
for i in 1 2; do mkmsg "$M/cur" "300$i.M1P1.host:2," "c$i" "$RCPT"; done
mkmsg "$M/cur" "4001.M1P1.host:2,S" "seen" "$RCPT"

ok "ingest exits 0" $MDA --maildir "$M"
is "summary line" "$OUT" \
	"ingested 22, duplicates 0, held 0, quarantined 3, events 0, failed 0"
is "new/ is empty" "$(ls "$M/new" | wc -l)" 0
is "cur/ holds the ingested and the seen one" "$(ls "$M/cur" | wc -l)" 23
is "every file in cur/ has the S flag" \
	"$(ls "$M/cur" | grep -vc ':2,[A-Z]*S')" 0
is "quarantined ones moved to .Quarantine" \
	"$(ls "$M/.Quarantine/cur" 2>/dev/null | wc -l)" 3
ok "thread" $C thread HU-1 --json
is "22 messages in the thread" \
	"$(printf '%s' "$OUT" | jq '.messages | length')" 22
unlike "the already-seen message was left alone" "$OUT" "md-seen@"
ok "quarantine list" $C quarantine list --json
is "3 in quarantine" "$(printf '%s' "$OUT" | jq '.quarantine | length')" 3
ok "second run" $MDA --maildir "$M"
is "second run finds nothing" "$OUT" \
	"ingested 0, duplicates 0, held 0, quarantined 0, events 0, failed 0"

# A committed message whose file was not moved yet (a crash between the
# commit and the rename) is recognised on the next run and moved.
cp "$M/cur/$(ls "$M/cur" | grep '^1001\.')" "$M/new/9999.M1P1.host"
ok "rerun after a lost move" $MDA --maildir "$M"
is "the copy counts as a duplicate" "$OUT" \
	"ingested 0, duplicates 1, held 0, quarantined 0, events 0, failed 0"
is "and is moved out of new/" "$(ls "$M/new" | wc -l)" 0

# Interrupted at random and run again: no loss, no duplicates.
M2=$W/Maildir2
mkdir -p "$M2/new" "$M2/cur" "$M2/tmp"
N=1000
for i in $(seq 1 $N); do mkmsg "$M2/new" "5$(printf %04d "$i").M1P1.host" "k$i" "$RCPT"; done
SEED=${SEED:-$$}
echo "# seed $SEED"
kills=0
runs=0
rc=1
while [ "$runs" -lt 40 ]; do
	runs=$((runs + 1))
	setsid $MDA --maildir "$M2" >"$W/run.out" 2>&1 &
	pid=$!
	# a pseudo-random pause of 0..119 ms, then SIGKILL the whole group
	ms=$(( (SEED * 1103515245 + runs * 12345) % 120 ))
	[ "$ms" -lt 0 ] && ms=$(( -ms ))
	sleep "$(printf '0.%03d' "$ms")"
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		kills=$((kills + 1))
		[ "$kills" -lt 6 ] && continue
	else
		wait "$pid"
		rc=$?
		[ "$rc" = 0 ] && [ "$(ls "$M2/new" | wc -l)" = 0 ] && break
		continue
	fi
	# after enough kills, let one run finish
	$MDA --maildir "$M2" >"$W/run.out" 2>&1
	rc=$?
	[ "$(ls "$M2/new" | wc -l)" = 0 ] && break
done
echo "# $kills kills in $runs runs"
is "the last run exits 0" "$rc" 0
like "it was really interrupted" "$kills" '^[1-9]'
is "new/ is empty at the end" "$(ls "$M2/new" | wc -l)" 0
ok "thread after the interrupted runs" $C thread HU-1 --json
is "every message stored once" \
	"$(printf '%s' "$OUT" | jq '[.messages[].message_id | select(startswith("k") or startswith("md-k"))] | length')" "$N"
is "no duplicates" \
	"$(printf '%s' "$OUT" | jq '[.messages[].message_id | select(startswith("md-k"))] | unique | length')" "$N"
ok "nothing quarantined by the kills" $C quarantine list --json
is "quarantine still holds only the 3 forged" \
	"$(printf '%s' "$OUT" | jq '.quarantine | length')" 3
ok "audit chain intact" $C audit verify
finish
