#!/bin/sh
# T020-concurrency.sh - 200 deliveries, 20 at a time: none lost, none twice
#
# Up to casemail_destination_concurrency_limit copies of the mda run at
# once, so the store must take concurrent writers. First 200 distinct
# victim replies go straight into casemail-mda, 20 processes at a time
# (xargs -P 20); then 200 more go through the private Postfix over SMTP
# (10 SMTP clients at a time), wait on hold until all are in, and are
# then released at once to the pipe transport with maxproc 20.
# Each time exactly 200 must be in the thread, each Message-ID once, and
# every mda must have exited 0.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"

N=${T020_N:-200}
e2e_need_root
e2e_need_jq
cm_user_setup
# a long busy timeout: 20 writers queue up, none should give up
mkconf
sed -i 's/^busy_timeout = .*/busy_timeout = 20000/' "$CONF"
cm_setup_case

# gen DIR TAG - N victim replies with distinct Message-IDs and bodies
gen() {
	mkdir -p "$1"
	i=1
	while [ $i -le "$N" ]; do
		n=$(printf '%03d' $i)
		mkmsg "$1/$n.eml" "Jane Doe <$VICTIM>" "$RADDR" \
			"t020-$2-$n@mail.example.net" "Re: your case ($2 $n)" \
			"Reply number $n of the $2 run.
The neighbour saw a white van at $(date +%H):$n."
		i=$((i + 1))
	done
}

# ---- direct: xargs -P 20 ----
D="$W/direct"
gen "$D" d
start=$(date +%s)
ls "$D" | sed -n 's/\.eml$//p' | \
	BIN="$BIN" CONF="$CONF" CM_USER="$CM_USER" CM_GROUP="$CM_GROUP" \
	RADDR="$RADDR" VICTIM="$VICTIM" D="$D" UID0=$(id -u) \
	xargs -P 20 -I{} sh -c '
		if [ "$UID0" = 0 ]; then
			set -- setpriv --reuid="$CM_USER" --regid="$CM_GROUP" \
				--clear-groups
		else
			set --
		fi
		"$@" "$BIN/casemail-mda" -c "$CONF" --sender "$VICTIM" \
			--recipient "$RADDR" --queue-id "T020D{}" \
			<"$D/{}.eml" >"$D/{}.out" 2>&1
		echo $? >"$D/{}.rc"'
echo "# direct: $N deliveries in $(($(date +%s) - start))s"
is "direct: $N exit codes recorded" "$(ls "$D" | grep -c '\.rc$')" "$N"
bad=$(grep -Lx 0 "$D"/*.rc | wc -l | tr -d ' ')
is "direct: every mda exited 0" "$bad" 0
if [ "$bad" != 0 ]; then
	for f in $(grep -Lx 0 "$D"/*.rc | head -3); do
		echo "# ${f##*/}: exit $(cat "$f"): $(head -c 300 "${f%.rc}.out")"
	done
fi
TH=$(thread_json)
is "direct: $N stored" "$(count_mid "$TH" msgs t020-d-)" "$N"
is "direct: $N distinct Message-IDs" "$(distinct_mid "$TH" msgs t020-d-)" \
	"$N"
is "direct: all posted as the victim" "$(jqr "$TH" '[msgs[] |
	select((.message_id | mid | startswith("t020-d-")) and
	.status == "posted" and .author == "victim")] | length')" "$N"
is "direct: nothing quarantined" "$(count_mid "$(quar_json)" quar t020-)" 0

# ---- through Postfix: pipe maxproc 20 ----
P="$W/postfix-mail"
gen "$P" p
PF_MAXPROC=20
PF_HOLD=1
pf_start
echo "# postfix on 127.0.0.1:$PF_PORT"
ls "$P" | sed -n 's/\.eml$//p' | \
	PF_PORT="$PF_PORT" RADDR="$RADDR" VICTIM="$VICTIM" P="$P" \
	xargs -P 10 -I{} sh -c '
		swaks --server 127.0.0.1 --port "$PF_PORT" --timeout 30 \
			--from "$VICTIM" --to "$RADDR" --data "@$P/{}.eml" \
			--silent 2 >"$P/{}.swaks" 2>&1
		echo $? >"$P/{}.src"'
bad=$(grep -Lx 0 "$P"/*.src | wc -l | tr -d ' ')
is "postfix: all $N accepted over SMTP" "$bad" 0
is "postfix: all $N waiting on hold" "$(pf_held_count)" "$N"
# sample how many casemail-mda run at once (parents only: each has a
# child), every 20 ms, until told to stop or 60 s have passed
(
	i=0
	while [ ! -f "$W/stop-sampling" ] && [ $i -lt 3000 ]; do
		ps -u "$CM_USER" -o pid=,ppid=,comm= 2>/dev/null | awk '
			$3 ~ /^casemail-mda/ { mda[$1] = 1; pp[$1] = $2 }
			END { n = 0; for (p in mda) if (!(pp[p] in mda)) n++
				print n }'
		sleep 0.02
		i=$((i + 1))
	done >"$W/running"
) &
e2e_track $!
start=$(date +%s)
pf_release
ok "postfix: queue empties" pf_wait_queue_empty 150
echo "# postfix: $N deliveries in $(($(date +%s) - start))s"
touch "$W/stop-sampling"
wait
np=$(grep 'relay=casemail' "$PF_LOG" | grep -o 'pipe\[[0-9]*\]' | sort -u |
	wc -l | tr -d ' ')
most=$(sort -n "$W/running" | tail -1)
echo "# postfix: $np pipe processes, at most $most casemail-mda seen at once"
like "postfix: deliveries overlapped (several casemail-mda at once)" \
	"$most" '^([2-9]|[1-9][0-9]+)$'
is "postfix: $N deliveries status=sent" "$(pf_log_count 'status=sent')" "$N"
is "postfix: no delivery deferred (every mda exited 0)" \
	"$(pf_log_count 'status=deferred')" 0
is "postfix: nothing bounced (nor SOFTBOUNCE)" \
	"$(pf_log_count 'status=(bounced|SOFTBOUNCE)')" 0
[ "$T_FAIL" = 0 ] || pf_log_show 20
TH=$(thread_json)
is "postfix: $N stored" "$(count_mid "$TH" msgs t020-p-)" "$N"
is "postfix: $N distinct Message-IDs" \
	"$(distinct_mid "$TH" msgs t020-p-)" "$N"
is "postfix: all came through the pipe" "$(jqr "$TH" '[msgs[] |
	select((.message_id | mid | startswith("t020-p-")) and
	.source == "pipe")] | length')" "$N"
is "postfix: nothing quarantined" "$(count_mid "$(quar_json)" quar t020-)" 0
is "thread holds exactly both runs" "$(jqr "$TH" 'msgs | length')" \
	$((2 * N))
finish
