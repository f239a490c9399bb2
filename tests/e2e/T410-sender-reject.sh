#!/bin/sh
# T410-sender-reject.sh - a victim's address refused for good at SMTP
# time counts as a hard bounce, as one that comes back by mail does
#
# A loopback SMTP server (smtp-reject.py) answers RCPT TO with a chosen
# line. "550 5.1.1 ... User unknown" fails the notice and scores the
# victim's address once; with bounce_limit = 2 the second such refusal
# makes the address undeliverable, queues the officer's bounce_alert and
# an SMS notice in place of the failed email. A refusal that is about
# the relay or the message (554 5.7.1, 535 5.7.8, 500) fails the notice
# and scores nothing. A 4xx defers as before; an officer's address
# refused is not a victim's bounce.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

sl_need_bins
RJ_PID=""
rj_stop() {
	[ -n "$RJ_PID" ] && kill "$RJ_PID" 2>/dev/null
	RJ_PID=""
	return 0
}
trap 'rj_stop; sl_cleanup' EXIT
echo "250 2.1.5 ok" >"$W/reply"
python3 "$TOP/tests/e2e/smtp-reject.py" --port-file "$W/port" \
	--reply-file "$W/reply" --lifetime 120 >"$W/reject.log" 2>&1 &
RJ_PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$W/port" ] || { echo "Bail out! smtp-reject.py did not start"; exit 1; }
PORT=$(cat "$W/port")
sl_conf "smtp_url = smtp://127.0.0.1:$PORT/casemail.test" \
	"bounce_limit = 2" "retry_base_delay = 1"
sl_case --phone "+447700900123"

score() {
	sql "SELECT bounce_score FROM victims WHERE id = $VID"
}
last_notice() {
	sql "SELECT max(id) FROM notices WHERE kind = 'update' AND channel = 'email'"
}

# a refusal about the relay or the message: failed, not scored
for r in "554 5.7.1 <victim@example.net>: Relay access denied" \
	"535 5.7.8 Authentication credentials invalid" \
	"500 5.5.2 Error: command not recognized"; do
	echo "$r" >"$W/reply"
	update 1
	N=$(last_notice)
	ok "send into \"${r%% *}\"" send --once
	is "${r%% *}: the notice failed" \
		"$(sql "SELECT status FROM notices WHERE id = $N")" failed
	is "${r%% *}: the address is not scored" "$(score)" 0
done

# a 4xx: deferred, not scored
echo "450 4.2.0 <victim@example.net>: mailbox busy" >"$W/reply"
update 1
N=$(last_notice)
ok "send into 450" send --once
is "450: deferred" "$(sql "SELECT status FROM notices WHERE id = $N")" \
	deferred
is "450: not scored" "$(score)" 0
sql "UPDATE notices SET status = 'failed' WHERE id = $N" >/dev/null

# the victim's address refused: a hard bounce, counted once
echo "550 5.1.1 <victim@example.net>: Recipient address rejected: User unknown" >"$W/reply"
update 1
N=$(last_notice)
ok "send into 550 5.1.1" send --once
is "5.1.1: the notice failed" \
	"$(sql "SELECT status FROM notices WHERE id = $N")" failed
like "with the server's reply" \
	"$(sql "SELECT last_error FROM notices WHERE id = $N")" "^550 5\.1\.1 "
is "5.1.1: the address scored once" "$(score)" 1
is "not yet undeliverable" \
	"$(sql "SELECT email_status FROM victims WHERE id = $VID")" ok
like "the bounce is audited" \
	"$(sql "SELECT detail FROM audit WHERE action = 'victim.bounce' ORDER BY id DESC LIMIT 1")" \
	"victim=$VID undeliverable=no"
ok "send again: nothing due" send --once
is "the failed notice is not counted twice" "$(score)" 1

# without an enhanced status, 550 counts too; at bounce_limit the
# address is undeliverable, the officer alerted, SMS takes over
echo "550 No such user here" >"$W/reply"
update 1
N=$(last_notice)
ok "send into a bare 550" send --once -v
is "550: failed" "$(sql "SELECT status FROM notices WHERE id = $N")" failed
is "scored twice: bounce_limit" "$(score)" 2
is "the address is undeliverable" \
	"$(sql "SELECT email_status FROM victims WHERE id = $VID")" undeliverable
is "the officer's bounce_alert is queued" \
	"$(sql "SELECT count(*) FROM notices WHERE kind = 'bounce_alert'")" 1
is "an SMS notice replaces the email" \
	"$(sql "SELECT count(*) FROM notices WHERE channel = 'sms' AND victim_id = $VID")" 1
like "the log line says it counted" "$ERR" \
	"notice=$N .*status=failed reason=\"550 No such user here \(hard bounce: address now undeliverable\)\""
# the officer's address refused: the alert fails, no victim is scored
ok "send the alert into 550 5.1.1" send --once
is "the alert failed" \
	"$(sql "SELECT status FROM notices WHERE kind = 'bounce_alert'")" failed
is "still two bounces for the victim" "$(score)" 2
finish
