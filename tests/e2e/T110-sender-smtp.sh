#!/bin/sh
# T110-sender-smtp.sh - casemail-send over SMTP into Postfix's smtp-sink
#
# smtp-sink(1) answers with chosen errors: 4xx on RCPT -> deferred with
# backoff, then sent when the server is back; 5xx -> failed; a dropped
# connection after "." -> deferred, then retried; retry limits -> failed.
# Twenty notices go over one connection. The sender killed (-9) in the
# middle of a slow batch and started again after the lease: every notice
# sent, duplicates only among the batch in flight. --watch stops on
# SIGTERM after the current message, releasing the rest of its batch.
# Four senders at once: every notice exactly once. One sender over four
# connections (smtp_connections = 4, and --connections): every notice
# sent exactly once, over at most four sessions; 4xx, 5xx and a dropped
# connection decided per message; SIGTERM finishes the messages in
# flight on every connection and releases the rest. --dry-run connects
# to nothing. SIGTERM releases the batches claimed ahead too. A store
# locked past busy_timeout: exit 75, and after the lease every notice is
# sent, duplicates only from what was sent and not recorded. Against a
# slow server the batches claimed ahead are released before their lease
# could run out, and two senders still send each notice once. Without smtp-sink the test fails.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

sl_need_bins
sink_start
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1"
sl_case

# twenty notices, one connection
update 20
ok "send 20 over SMTP" send --once
is "20 sent" "$(status_count sent)" 20
is "20 arrived" "$(sink_count)" 20
like "server reply recorded" "$(sql "SELECT last_error FROM notices WHERE id = 1")" "^250 "
F=$(ls "$SINK_DIR"/m.* | head -1)
like "envelope sender is the VERP address" "$(grep '^X-Mail-Args' "$F")" \
	"<bounce\+[a-z0-9]+@cases.example.org>"
like "CRLF message went through intact" "$(cat "$F")" "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
unlike "no Return-Path in what we send" "$(cat "$F")" "^Return-Path"

# --dry-run: nothing reaches the server
update 1
rm -f "$SINK_DIR"/m.*
ok "dry run" send --dry-run
is "dry run sent nothing" "$(sink_count)" 0
is "dry run left it queued" "$(status_count queued)" 1
ok "send it" send --once

# 4xx -> deferred with backoff, then sent
sink_start -r RCPT
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1"
update 1
ID=$(sql "SELECT max(id) FROM notices")
ok "send into 4xx" send --once
is "4xx: deferred" "$(sql "SELECT status FROM notices WHERE id = $ID")" deferred
like "4xx reply recorded" "$(sql "SELECT last_error FROM notices WHERE id = $ID")" "^450 "
is "due again later" "$(sql "SELECT next_attempt_at > updated_at - 1 AND lease_until = 0 FROM notices WHERE id = $ID")" 1
like "deferral audited with its next time" \
	"$(sql "SELECT detail FROM audit WHERE action = 'notice.deferred' ORDER BY id DESC LIMIT 1")" \
	"notice=$ID .*next=20[0-9-]+T"
sink_start
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1"
sleep 2
ok "retry when the server is back" send --once
is "retried: sent" "$(sql "SELECT status || ' ' || attempts FROM notices WHERE id = $ID")" "sent 2"

# 5xx -> failed
sink_start -f RCPT
sl_conf "smtp_url = $SINK_URL"
update 1
ID=$(sql "SELECT max(id) FROM notices")
ok "send into 5xx" send --once
is "5xx: failed" "$(sql "SELECT status FROM notices WHERE id = $ID")" failed
like "5xx reply recorded" "$(sql "SELECT last_error FROM notices WHERE id = $ID")" "^500 "

# a dropped connection after the data -> deferred, then retried
sink_start -q .
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1"
update 1
ID=$(sql "SELECT max(id) FROM notices")
ok "send into a dropped connection" send --once
is "dropped: deferred" "$(sql "SELECT status FROM notices WHERE id = $ID")" deferred
sink_start
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1"
sleep 2
ok "retry after the drop" send --once
is "dropped then retried: sent" "$(sql "SELECT status FROM notices WHERE id = $ID")" sent

# nobody listening at all -> deferred; retry limit -> failed
sink_stop
sl_conf "smtp_url = $SINK_URL" "retry_base_delay = 1" \
	"retry_max_attempts = 2"
update 1
ID=$(sql "SELECT max(id) FROM notices")
ok "send with no server" send --once
is "refused: deferred" "$(sql "SELECT status FROM notices WHERE id = $ID")" deferred
sleep 2
ok "send again with no server" send --once
is "retries exhausted: failed" "$(sql "SELECT status FROM notices WHERE id = $ID")" failed
like "reason says so" "$(sql "SELECT last_error FROM notices WHERE id = $ID")" "retries exhausted"

# crash: killed mid-batch, restarted after the lease
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 3" "lease_seconds = 4"
rm -f "$SINK_DIR"/m.*
first=$(($(sql "SELECT max(id) FROM notices") + 1))
update 7
"$BIN/casemail-send" -c "$CONF" --watch >"$W/crash.out" 2>&1 &
cp=$!
sleep 4.5
is "the sender is still at work when killed" "$(kill -9 $cp 2>&1; echo $?)" 0
wait $cp 2>/dev/null
like "some left sending after the kill" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sending'")" "^[1-3]$"
sink_start
sl_conf "smtp_url = $SINK_URL" "send_batch = 3" "lease_seconds = 4"
ok "a sender within the lease leaves them alone" send --once
like "still sending within the lease" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sending'")" "^[1-3]$"
sleep 4.5
ok "restart after the lease" send --once
is "every notice sent" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 7
distinct=$(grep -h '^X-Mail-Args' "$SINK_DIR"/m.* | sort -u | wc -l | tr -d ' ')
total=$(sink_count)
is "every notice arrived" "$distinct" 7
dups=$((total - distinct))
like "duplicates only from the batch in flight ($dups)" "$dups" '^[0-3]$'

# --watch: SIGTERM finishes the current message, releases the rest
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 10" "poll_interval = 1"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
update 5
"$BIN/casemail-send" -c "$CONF" --watch >"$W/watch.out" 2>&1 &
wp=$!
sleep 1.5
kill -TERM $wp
wait $wp
is "--watch exits 0 on SIGTERM" "$?" 0
is "nothing left sending" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sending'")" 0
like "the message in flight was finished" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" "^[1-4]$"
like "the rest released, still due" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'queued'")" "^[1-4]$"
is "release audited" \
	"$(sql "SELECT count(*) > 0 FROM audit WHERE action = 'notice.released'")" 1

# four senders at once: each notice exactly once
sink_start
sl_conf "smtp_url = $SINK_URL" "send_batch = 5"
send --once >/dev/null 2>&1
rm -f "$SINK_DIR"/m.*
first=$(($(sql "SELECT max(id) FROM notices") + 1))
update 40
for k in 1 2 3 4; do
	"$BIN/casemail-send" -c "$CONF" --once >"$W/par$k.out" 2>&1 &
	eval "pp$k=\$!"
done
rc=0
for k in 1 2 3 4; do
	eval "wait \$pp$k" || rc=1
done
is "four senders exit 0" "$rc" 0
is "40 sent" "$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 40
is "40 arrived, none twice" "$(sink_count)" 40

# one sender, four connections: each notice exactly once, <= 4 sessions
sink_start -n 4
sl_conf "smtp_url = $SINK_URL" "smtp_connections = 4" "send_batch = 25"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 60
ok "send 60 over 4 connections" send --once
is "60 sent" "$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 60
is "60 arrived" "$(sink_count)" 60
is "none twice" "$(grep -h '^X-Mail-Args' "$SINK_DIR"/m.* | sort -u | wc -l | tr -d ' ')" 60
is "every one audited sent once" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'notice.sent' AND CAST(substr(detail, 8, instr(detail, ' ') - 8) AS INTEGER) >= $first")" 60
like "each with its own reply" "$(sql "SELECT DISTINCT substr(last_error, 1, 4) FROM notices WHERE id >= $first")" "^250 $"
sink_start
sl_conf "smtp_url = $SINK_URL" "send_batch = 25"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 9
ok "--connections 3 overrides the config" send --once --connections 3
is "9 sent" "$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 9
is "9 arrived" "$(sink_count)" 9
exits "--connections 0 is a usage error" 64 send --once --connections 0

# four connections into 4xx, 5xx and a dropped connection: per message
for mode in "-r RCPT deferred ^450" "-f RCPT failed ^500" "-q . deferred ."; do
	set -- $mode
	# shellcheck disable=SC2086
	sink_start $1 $2
	sl_conf "smtp_url = $SINK_URL" "smtp_connections = 4" \
		"retry_base_delay = 60"
	first=$(($(sql "SELECT max(id) FROM notices") + 1))
	update 6
	ok "4 connections into smtp-sink $1 $2" send --once
	is "$1 $2: all 6 $3" "$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = '$3'")" 6
	is "$1 $2: each its own reason" \
		"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND last_error IS NOT NULL AND last_error <> ''")" 6
	like "$1 $2: the reply recorded" "$(sql "SELECT last_error FROM notices WHERE id = $first")" "$4"
	is "$1 $2: each audited" \
		"$(sql "SELECT count(*) FROM audit WHERE action = 'notice.$3' AND CAST(substr(detail, 8, instr(detail, ' ') - 8) AS INTEGER) >= $first")" 6
done

# --watch over four connections: SIGTERM finishes every message in
# flight and releases the rest
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 12" "poll_interval = 1" \
	"smtp_connections = 4"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 12
"$BIN/casemail-send" -c "$CONF" --watch >"$W/watch4.out" 2>&1 &
wp=$!
sleep 1.5
kill -TERM $wp
wait $wp
is "--watch with 4 connections exits 0 on SIGTERM" "$?" 0
is "nothing left sending (4 connections)" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sending'")" 0
sent4=$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")
like "the messages in flight were finished ($sent4)" "$sent4" '^([4-9]|1[01])$'
is "the rest released, still due" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'queued'")" $((12 - sent4))
is "what was sent arrived, once" "$(sink_count)" "$sent4"

# SIGTERM with batches claimed ahead: they are released with the rest
sink_start
sl_conf "smtp_url = $SINK_URL"
send --once >/dev/null 2>&1 # what the test above released
is "nothing left over before the claim-ahead stop" \
	"$(sql "SELECT count(*) FROM notices WHERE status IN ('queued', 'sending')")" 0
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 2" "poll_interval = 1"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 10
"$BIN/casemail-send" -c "$CONF" --watch >"$W/ahead.out" 2>&1 &
wp=$!
sleep 1.5
kill -TERM $wp
wait $wp
is "--watch with batches claimed ahead exits 0 on SIGTERM" "$?" 0
is "none left sending (claimed ahead)" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sending'")" 0
sentA=$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")
is "sent or released, still due: all 10" \
	"$(($(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'queued'") + sentA))" 10
is "what was sent arrived, once (claimed ahead)" "$(sink_count)" "$sentA"
sink_start
sl_conf "smtp_url = $SINK_URL"
ok "the released ones go on the next run" send --once
is "all 10 sent in the end" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 10

# the store locked by another writer while batches are out: the sender
# gives up after busy_timeout and exits 75; nothing is lost: what it sent
# and could not record goes again once the lease has run out (the only
# duplicates), what it had claimed and not sent is released or taken
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 2" "lease_seconds = 4"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 6
"$BIN/casemail-send" -v -c "$CONF" --once >"$W/locked.out" 2>&1 &
sp=$!
sleep 1
# held longer than busy_timeout (2 s in these tests)
(echo 'BEGIN IMMEDIATE;'; echo "SELECT 'locked';"; sleep 5;
	echo 'COMMIT;') | sqlite3 "$W/casemail.db" >"$W/lock.out" 2>&1 &
lp=$!
rc=0
wait $sp || rc=$?
wait $lp
is "the sender exits 75 when the store stays locked" "$rc" 75
like "it says why" "$(cat "$W/locked.out")" "store: .*(locked|busy)"
sleep 4.5
sink_start
sl_conf "smtp_url = $SINK_URL"
ok "after the lease the next run sends the rest" send --once
is "locked store: all 6 sent in the end" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 6
is "locked store: every one arrived" \
	"$(grep -h '^X-Mail-Args' "$SINK_DIR"/m.* | sort -u | wc -l | tr -d ' ')" 6
dups=$(($(sink_count) - 6))
like "locked store: duplicates only from unrecorded batches ($dups)" \
	"$dups" '^[0-4]$'

# a slow server: the batches claimed ahead wait longer than a quarter of
# their lease, so they are released (and claimed again when wanted)
# rather than risk their lease running out; a second sender started
# meanwhile takes what is free; nothing goes twice, nothing is left
is "nothing left over before the slow server" \
	"$(sql "SELECT count(*) FROM notices WHERE status IN ('queued', 'sending')")" 0
sink_start -w 1
sl_conf "smtp_url = $SINK_URL" "send_batch = 2" "lease_seconds = 12"
first=$(($(sql "SELECT max(id) FROM notices") + 1))
rm -f "$SINK_DIR"/m.*
update 6
"$BIN/casemail-send" -c "$CONF" --once >"$W/slow1.out" 2>&1 &
s1=$!
sleep 3.5
"$BIN/casemail-send" -c "$CONF" --once >"$W/slow2.out" 2>&1 &
s2=$!
rc=0
wait $s1 || rc=1
wait $s2 || rc=1
is "two senders against a slow server exit 0" "$rc" 0
is "slow server: all 6 sent" \
	"$(sql "SELECT count(*) FROM notices WHERE id >= $first AND status = 'sent'")" 6
is "slow server: 6 arrived, none twice" \
	"$(grep -h '^X-Mail-Args' "$SINK_DIR"/m.* | sort -u | wc -l | tr -d ' ')/$(sink_count)" 6/6
like "slow server: a batch claimed ahead was released, not kept" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'notice.released' AND CAST(substr(detail, 8, instr(detail, ' ') - 8) AS INTEGER) >= $first")" '^[1-9]'
is "slow server: sent once each in the audit" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'notice.sent' AND CAST(substr(detail, 8, instr(detail, ' ') - 8) AS INTEGER) >= $first")" 6
ok "audit chain intact" c audit verify
finish
