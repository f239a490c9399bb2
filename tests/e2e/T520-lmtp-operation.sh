#!/bin/sh
# T520-lmtp-operation.sh - running casemail-lmtpd: signals, sockets,
# crashes and a locked store
#
#  - a second daemon on the same socket refuses to start (exit 75)
#  - SIGTERM in the middle of a transaction: that transaction is
#    finished and answered 250, then the daemon exits 0 and removes its
#    socket
#  - SIGKILL leaves a stale socket: the next daemon replaces it
#  - SIGHUP reads the configuration again (SIZE in LHLO changes)
#  - a worker that dies before it starts a message (the test hook
#    CASEMAIL_TEST_CHILD_KILL_AFTER_US=0): 451 4.3.0 for each recipient
#    (a retry can help), the daemon lives on
#  - a message that kills its worker mid-parse (the test hook
#    CASEMAIL_TEST_CHILD_KILL_ON=TEXT: the worker SIGKILLs itself on a
#    message holding TEXT): quarantined once per recipient by the
#    session, every recipient still gets 250, the same delivery again
#    is a duplicate, the next message is stored normally
#  - the store locked past busy_timeout: 451 4.3.0 for every recipient,
#    nothing stored; the retry (same queue id) once the lock is gone is
#    stored once
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"
. "$TOP/tests/e2e/lmtp-lib.sh"

e2e_need_root
e2e_need_jq
command -v sqlite3 >/dev/null 2>&1 || e2e_skip "sqlite3 shell not installed"
[ -x "$BIN/casemail-lmtpd" ] || { echo "not ok 1 - casemail-lmtpd built"; \
	echo "1..1"; exit 1; }
cm_user_setup
mkconf
sed -i 's/^busy_timeout = .*/busy_timeout = 500/' "$CONF"
cm_setup_case

ok "the daemon starts" lmtpd_start
exits "a second daemon on the same socket refuses to start" 75 \
	as_cm "$BIN/casemail-lmtpd" -c "$CONF" --socket "$LSOCK"
like "and says why" "$ERR" 'another casemail-lmtpd serves'
ok "the first one still serves" lmtpd_wait_socket

# ---- SIGTERM in the middle of a transaction ----
M="$W/term.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t520-term@mail.example.net \
	"Re: term" "Sent while the daemon is asked to stop."
crlf "$M"
lc slow "$M" "$RADDR" 1.5 >"$W/slow.out" 2>&1 &
SLOW=$!
e2e_track "$SLOW"
i=0
while ! grep -q '^R 250 2.1.5' "$W/slow.out" 2>/dev/null && [ $i -lt 50 ]
do
	sleep 0.1
	i=$((i + 1))
done
ok "SIGTERM while a transaction is open; the daemon exits" lmtpd_stop 30
is "exit 0" "$LRC" 0
wait "$SLOW" 2>/dev/null
sed 's/^/# /' "$W/slow.out"
like "the open transaction was finished and answered 250" \
	"$(cat "$W/slow.out")" '^R 250 2\.0\.0 .*posted'
is "stored once" "$(count_mid "$(thread_json)" msgs t520-term@)" 1
fails "the socket is gone" test -e "$LSOCK"

# ---- SIGKILL: a stale socket ----
ok "started again" lmtpd_start
lmtpd_kill9
ok "after SIGKILL the socket is left behind" test -S "$LSOCK"
ok "the next daemon starts on the stale socket" lmtpd_start
like "saying it replaced it" "$(cat "$LLOG")" 'replacing the stale socket'

# ---- SIGHUP ----
printf 'LHLO c\r\nQUIT\r\n' >"$W/lhlo"
ok "LHLO" lc raw "$W/lhlo"
like "advertises the default SIZE" "$OUT" '^R 250-SIZE 52428800'
echo "max_message_size = 2M" >>"$CONF"
kill -HUP "$LPID"
sleep 0.5
ok "LHLO after SIGHUP" lc raw "$W/lhlo"
like "advertises the new SIZE" "$OUT" '^R 250-SIZE 2097152'
like "the reload is logged" "$(cat "$LLOG")" 'reloaded'
lmtpd_stop

# ---- a worker that dies before its message: 451, retried ----
CASEMAIL_TEST_CHILD_KILL_AFTER_US=0
export CASEMAIL_TEST_CHILD_KILL_AFTER_US
ok "a daemon whose workers die at once" lmtpd_start
unset CASEMAIL_TEST_CHILD_KILL_AFTER_US
M="$W/early.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t520-early@mail.example.net \
	"Re: early" "The worker dies before it reads this."
ok "a message to two recipients" lc send "$VICTIM" "$M" "$RADDR" \
	"case+$REF@$DOMAIN" --xforward T520EARLY1
is "both get 451 4.3.0 (nothing happened to the message itself)" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 451 4\.3\.0')" 2
ok "the daemon is alive" lmtpd_alive
lmtpd_stop

# ---- a message that kills its worker ----
CASEMAIL_TEST_CHILD_KILL_ON=T520-KILLS-THE-PARSER
export CASEMAIL_TEST_CHILD_KILL_ON
ok "a daemon whose workers die on a marked message" lmtpd_start
unset CASEMAIL_TEST_CHILD_KILL_ON
M="$W/crash.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t520-crash@mail.example.net \
	"Re: crash" "T520-KILLS-THE-PARSER"
ok "a message to two recipients" lc send "$VICTIM" "$M" "$RADDR" \
	"case+$REF@$DOMAIN" --xforward T520CRASH1
echo "$OUT" | sed 's/^/# /'
is "both get 250 (quarantined)" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 250 .*quarantined')" 2
ok "the daemon is alive" lmtpd_alive
ok "the same delivery again" lc send "$VICTIM" "$M" "$RADDR" \
	"case+$REF@$DOMAIN" --xforward T520CRASH1
is "both duplicates now" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 250 .*duplicate')" 2
M2="$W/after.eml"
mkmsg "$M2" "Jane Doe <$VICTIM>" "$RADDR" t520-after@mail.example.net \
	"Re: after" "An ordinary message after the crash."
ok "an ordinary message next" lc send "$VICTIM" "$M2" "$RADDR"
like "is posted" "$OUT" '^DATA .* 250 .*posted'
Q=$(quar_json)
is "quarantined once per recipient" "$(count_mid "$Q" quar t520-crash@)" 2
like "with the reason" "$(jqr "$Q" '[quar[] | .reason] | join(",")')" \
	'parser was killed'
is "nothing in the thread" "$(count_mid "$(thread_json)" msgs t520-crash@)" 0
lmtpd_stop

# ---- the store locked past busy_timeout ----
ok "the daemon starts" lmtpd_start
DB="$W/casemail.db"
(echo 'BEGIN IMMEDIATE;'; echo "SELECT 'locked';"; sleep 4;
	echo 'COMMIT;') | as_cm sqlite3 "$DB" >"$W/lock.out" 2>&1 &
LOCKER=$!
e2e_track "$LOCKER"
i=0
while ! grep -q locked "$W/lock.out" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
M="$W/lock.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t520-lock@mail.example.net \
	"Re: lock" "Sent while another writer holds the store."
ok "a delivery while the store is locked" lc send "$VICTIM" "$M" \
	"$RADDR" "case+$REF@$DOMAIN" --xforward T520LOCK1
echo "$OUT" | sed 's/^/# /'
is "451 4.3.0 for both recipients" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 451 4\.3\.0')" 2
like "the log says deferred" "$(cat "$LLOG")" 'status=deferred'
i=0
while kill -0 "$LOCKER" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "nothing stored meanwhile" \
	"$(count_mid "$(thread_json)" msgs t520-lock@)" 0
ok "the retry after the lock is gone" lc send "$VICTIM" "$M" "$RADDR" \
	"case+$REF@$DOMAIN" --xforward T520LOCK1
is "two 250s" "$(printf '%s\n' "$OUT" | grep -c '^DATA .* 250 ')" 2
is "stored once in the thread" \
	"$(count_mid "$(thread_json)" msgs t520-lock@)" 1
ok "SIGTERM" lmtpd_stop
is "exit 0" "$LRC" 0
unlike "no session died by a signal" "$(cat "$LLOG")" 'died by signal'
finish
