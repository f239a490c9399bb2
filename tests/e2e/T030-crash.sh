#!/bin/sh
# T030-crash.sh - SIGKILL at random points: nothing lost, nothing twice
#
# casemail-mda is a parent that keeps the message while a child parses
# and stores it. Two ways of dying are tried, 100 deliveries each:
#
#  A. the child dies: CASEMAIL_TEST_CHILD_KILL_AFTER_US=<0..20000> makes
#     the mda's child SIGKILL itself after that many microseconds (a
#     test hook of casemail-mda). The parent must then quarantine the
#     message and exit 0, or exit 75 if it could not; nothing else. What
#     exited 75 is delivered again (as Postfix would). In the end every
#     message is in exactly one place: the thread or the quarantine.
#  B. the whole process group dies: kill -9 at a random moment (0..10 ms
#     after the start: a delivery takes a few ms here), then the
#     same delivery again (same queue id and recipient, as Postfix
#     retries after a signal death). In the end every message is in the
#     thread exactly once.
#
# SEED=n repeats a run; the seed is printed.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"

N=${T030_N:-100}
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "# SEED=$SEED"
e2e_need_root
e2e_need_jq
cm_user_setup
mkconf
sed -i 's/^busy_timeout = .*/busy_timeout = 10000/' "$CONF"
cm_setup_case

gen() { # DIR TAG
	mkdir -p "$1"
	i=1
	while [ $i -le "$N" ]; do
		n=$(printf '%03d' $i)
		mkmsg "$1/$n.eml" "Jane Doe <$VICTIM>" "$RADDR" \
			"t030-$2-$n@mail.example.net" "Re: your case" \
			"Crash test $2 $n: the bike was blue with a basket."
		i=$((i + 1))
	done
}

# ---- A: the child kills itself ----
A="$W/a"
gen "$A" a
rand_list "$N" 20000 "$SEED" | awk '{ printf "%03d %d\n", NR, $1 }' \
	>"$A/plan"
BIN="$BIN" CONF="$CONF" CM_USER="$CM_USER" CM_GROUP="$CM_GROUP" \
	RADDR="$RADDR" VICTIM="$VICTIM" A="$A" UID0=$(id -u) \
xargs -P 4 -L 1 sh -c '
	if [ "$UID0" = 0 ]; then
		set -- "$1" "$2" setpriv --reuid="$CM_USER" \
			--regid="$CM_GROUP" --clear-groups
	fi
	n=$1 us=$2
	shift 2
	CASEMAIL_TEST_CHILD_KILL_AFTER_US=$us "$@" "$BIN/casemail-mda" \
		-c "$CONF" --sender "$VICTIM" --recipient "$RADDR" \
		--queue-id "T030A$n" <"$A/$n.eml" >"$A/$n.out" 2>&1
	echo $? >"$A/$n.rc"' _ <"$A/plan"
is "A: $N exit codes recorded" "$(ls "$A" | grep -c '\.rc$')" "$N"
other=$(grep -LxE '0|75' "$A"/*.rc | wc -l | tr -d ' ')
is "A: every exit code is 0 or 75" "$other" 0
for f in $(grep -LxE '0|75' "$A"/*.rc | head -3); do
	echo "# ${f##*/}: exit $(cat "$f"): $(head -c 300 "${f%.rc}.out")"
done
n75=$(grep -lx 75 "$A"/*.rc | wc -l | tr -d ' ')
echo "# A: $n75 deliveries exited 75, delivered again"
for f in $(grep -lx 75 "$A"/*.rc); do
	n=$(basename "$f" .rc)
	mda --sender "$VICTIM" --recipient "$RADDR" --queue-id "T030A$n" \
		<"$A/$n.eml" >"$A/$n.out2" 2>&1
	echo $? >"$A/$n.rc2"
done
is "A: every redelivery exited 0" \
	"$(cat /dev/null "$A"/*.rc2 2>/dev/null | grep -vcx 0)" 0

TH=$(thread_json)
Q=$(quar_json)
# placed PREFIX QPREFIX - "NNN thread quarantine" per message: thread
# rows by Message-ID (PREFIX-NNN@...), quarantine rows by Message-ID or,
# where the parent quarantined without parsing, by queue id (QPREFIX NNN)
placed() {
	{
		jqr "$TH" 'msgs[] | .message_id | mid | select(startswith($p)) |
			ltrimstr($p) | split("@")[0] | "t " + .' --arg p "$1"
		jqr "$Q" 'quar[] | ((.message_id | mid | select(startswith($p)) |
			ltrimstr($p) | split("@")[0]) // ((.queue_id // "") |
			select(startswith($qp)) | ltrimstr($qp))) | "q " + .' \
			--arg p "$1" --arg qp "$2"
	} | awk '{ n[$2]++; w[$2, $1]++ }
		END { for (m in n) printf "%s %d %d\n", m, w[m, "t"],
			w[m, "q"] }' | sort
}
placed t030-a- T030A >"$A/placed"
is "A: all $N messages found" "$(wc -l <"$A/placed" | tr -d ' ')" "$N"
is "A: each in exactly one place (thread or quarantine, once)" \
	"$(awk '$2 + $3 != 1' "$A/placed" | wc -l | tr -d ' ')" 0
awk '$2 + $3 != 1 { print "# " $0 " (thread quarantine)" }' \
	"$A/placed" | head -5
nq=$(awk '$3 == 1' "$A/placed" | wc -l | tr -d ' ')
echo "# A: $nq of $N quarantined after the child was killed"
like "A: the kill hook fired (some child deaths quarantined)" "$nq" \
	'^[1-9][0-9]*$'
like "A: the quarantine reason names the child's death" \
	"$(jqr "$Q" '[quar[] | select((.queue_id // "") |
		startswith("T030A")) | .reason] | first')" \
	'[Ss]ignal|[Kk]ill|[Cc]rash|died'
is "A: what is in the thread was posted as the victim" \
	"$(jqr "$TH" '[msgs[] | select((.message_id | mid |
		startswith("t030-a-")) and (.status != "posted" or
		.author != "victim"))] | length')" 0

# ---- B: the whole process group is killed, then redelivered ----
B="$W/b"
gen "$B" b
rand_list "$N" 10000 "$((SEED + 1))" | awk '{ printf "%03d %d\n", NR, $1 }' \
	>"$B/plan"
if [ "$(id -u)" = 0 ]; then
	set -- setpriv --reuid="$CM_USER" --regid="$CM_GROUP" --clear-groups
else
	set --
fi
while read -r n us; do
	setsid "$@" "$BIN/casemail-mda" -c "$CONF" --sender "$VICTIM" \
		--recipient "$RADDR" --queue-id "T030B$n" \
		<"$B/$n.eml" >"$B/$n.out" 2>&1 &
	pid=$!
	sleep "$(awk -v us="$us" 'BEGIN { printf "%.6f", us / 1e6 }')"
	# the group, or the process itself if setsid has not run yet
	kill -9 "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	echo $? >"$B/$n.rc1"
	"$@" "$BIN/casemail-mda" -c "$CONF" --sender "$VICTIM" \
		--recipient "$RADDR" --queue-id "T030B$n" \
		<"$B/$n.eml" >"$B/$n.out2" 2>&1
	echo $? >"$B/$n.rc2"
done <"$B/plan"
set --
killed=$(cat "$B"/*.rc1 | grep -cx 137)
echo "# B: $killed of $N process groups were killed in flight"
is "B: every first try ended by SIGKILL, 0 or 75" \
	"$(cat "$B"/*.rc1 | grep -vcxE '0|75|137')" 0
is "B: every redelivery exited 0" "$(cat "$B"/*.rc2 | grep -vcx 0)" 0
for f in $(grep -Lx 0 "$B"/*.rc2 | head -3); do
	echo "# ${f##*/}: exit $(cat "$f"): $(head -c 300 "${f%.rc2}.out2")"
done
TH=$(thread_json)
Q=$(quar_json)
placed t030-b- T030B >"$B/placed"
is "B: all $N messages found" "$(wc -l <"$B/placed" | tr -d ' ')" "$N"
is "B: each stored exactly once, none quarantined" \
	"$(awk '$2 != 1 || $3 != 0' "$B/placed" | wc -l | tr -d ' ')" 0
awk '$2 != 1 || $3 != 0 { print "# " $0 " (thread quarantine)" }' \
	"$B/placed" | head -5

ok "the store still opens and counts" cm stats --json
ok "the audit chain is intact after the kills" cm audit verify
finish
