#!/bin/sh
# T530-lmtp-kill.sh - casemail-lmtpd SIGKILLed under a stream from Postfix
#
# A private Postfix holds N (default 300) replies of about 24 KB each,
# then releases them all through lmtp(8) to the daemon while the
# daemon's whole process group (master, sessions, worker) is SIGKILLed
# at random moments (KILLS times, default 10, 20..150 ms apart) and
# restarted each time on the stale socket. The stream is long and the
# messages big enough that kills land inside transactions (after DATA,
# before the replies): the test checks that at least one did. Postfix
# defers what was cut off and retries it. In the end: every message in
# the thread exactly once (0 lost, 0 stored twice), nothing bounced, the
# queue empty. SEED=n repeats a run.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"
. "$TOP/tests/e2e/lmtp-lib.sh"

N=${T530_N:-300}
KILLS=${T530_KILLS:-10}
PF_HOLD=1
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "# SEED=$SEED"
e2e_need_root
e2e_need_jq
[ -x "$BIN/casemail-lmtpd" ] || { echo "not ok 1 - casemail-lmtpd built"; \
	echo "1..1"; exit 1; }
cm_user_setup
mkconf
sed -i 's/^busy_timeout = .*/busy_timeout = 10000/' "$CONF"
cm_setup_case
LMTPD_ROOT=1
ok "the daemon starts" lmtpd_start --group postfix
pf_start
lmtpd_postfix 10

# 300 lines of 80 bytes: each delivery takes long enough to be cut
PAD=$(awk 'BEGIN { for (i = 0; i < 300; i++)
	printf "A long reply, padded so that kills land mid-delivery: %s\n",
		"........................" }')
i=1
while [ $i -le "$N" ]; do
	n=$(printf '%03d' $i)
	mkmsg "$W/m$n.eml" "Jane Doe <$VICTIM>" "$RADDR" \
		"t530-$n@mail.example.net" "Re: your case" \
		"Reply $n sent while the daemon is being killed.
$PAD"
	i=$((i + 1))
done
i=1
while [ $i -le "$N" ]; do
	n=$(printf '%03d' $i)
	pf_send "$VICTIM" "$RADDR" "$W/m$n.eml" ||
		echo "swaks failed: $n" >>"$W/send.err"
	i=$((i + 1))
done
is "Postfix holds every message" "$(pf_held_count)" "$N"
pf_release

k=0
for ms in $(rand_list "$KILLS" 130 "$SEED"); do
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", (m + 20) / 1000 }')"
	lmtpd_kill9
	k=$((k + 1))
	lmtpd_start --group postfix ||
		echo "# restart $k failed: $(tail -3 "$LLOG")"
done
is "killed and restarted $KILLS times" "$k" "$KILLS"
is "Postfix accepted every message" "$(cat "$W/send.err" 2>/dev/null)" ""
pf_flush
ok "the queue empties" pf_wait_queue_empty 120
TH=$(thread_json)
is "every message in the thread" "$(distinct_mid "$TH" msgs t530-)" "$N"
is "none twice" "$(count_mid "$TH" msgs t530-)" "$N"
is "none quarantined" "$(count_mid "$(quar_json)" quar t530-)" 0
is "Postfix bounced nothing" "$(lmtp_log_count 'status=bounced')" 0
echo "# deferred deliveries (retried): $(lmtp_log_count 'status=deferred')"
# cut inside a transaction: the data sent, the replies not (yet) given
MID=$(lmtp_log_count \
	'status=deferred.*(end of DATA|end of data|message body|sending message)')
echo "# of them cut inside a transaction: $MID"
ok "a kill landed inside a transaction" test "$MID" -gt 0
like "the restarts replaced the stale socket" "$(cat "$LLOG")" \
	'replacing the stale socket'
ok "SIGTERM at the end" lmtpd_stop
finish
