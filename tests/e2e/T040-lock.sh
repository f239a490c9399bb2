#!/bin/sh
# T040-lock.sh - a locked database is transient trouble: exit 75, retry
#
# Another writer (the sqlite3 shell, BEGIN IMMEDIATE) holds the database
# for 6 seconds, well past busy_timeout = 500 ms. casemail-mda must give
# up after about the busy timeout with exit 75 (EX_TEMPFAIL, so Postfix
# keeps the mail), one reason line on stderr and nothing stored or
# quarantined. Once the lock is gone the same delivery (same queue id)
# exits 0 and the message is in the thread once; a third try changes
# nothing.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"

e2e_need_root
e2e_need_jq
command -v sqlite3 >/dev/null 2>&1 || e2e_skip "sqlite3 shell not installed"
cm_user_setup
mkconf
sed -i 's/^busy_timeout = .*/busy_timeout = 500/' "$CONF"
cm_setup_case
DB="$W/casemail.db"
M="$W/locked.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t040-lock@mail.example.net \
	"Re: your case" "I will be away next week, please call my sister."

# hold the write lock; the shell runs as casemail like the mda would
(echo 'BEGIN IMMEDIATE;'; echo "SELECT 'locked';"; sleep 6;
	echo 'COMMIT;') | as_cm sqlite3 "$DB" >"$W/lock.out" 2>&1 &
LOCKER=$!
e2e_track "$LOCKER"
i=0
while ! grep -q locked "$W/lock.out" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
like "another writer holds the database" "$(cat "$W/lock.out")" '^locked$'

t0=$(date +%s)
exits "mda exits 75 while the database is locked" 75 \
	mda --sender "$VICTIM" --recipient "$RADDR" --queue-id T040Q1 <"$M"
dt=$(($(date +%s) - t0))
is "stderr has exactly one line" "$(printf '%s\n' "$ERR" | grep -c .)" 1
like "that line gives a reason" "$ERR" '[a-z]{4,}'
echo "# stderr: $ERR"
like "it gave up after about busy_timeout, not when the lock went" "$dt" \
	'^[0-4]$'

# wait for the other writer to commit and exit (bounded)
i=0
while kill -0 "$LOCKER" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$LOCKER" 2>/dev/null
unlike "the lock is released" "$(cat "$W/lock.out")" 'rror'

TH=$(thread_json)
is "nothing stored by the failed delivery" \
	"$(count_mid "$TH" msgs t040-lock@)" 0
is "nothing quarantined by the failed delivery" \
	"$(count_mid "$(quar_json)" quar t040-lock@)" 0

exits "the retry exits 0" 0 \
	mda --sender "$VICTIM" --recipient "$RADDR" --queue-id T040Q1 <"$M"
is "stored once" "$(count_mid "$(thread_json)" msgs t040-lock@)" 1
exits "a third delivery of the same queue id exits 0" 0 \
	mda --sender "$VICTIM" --recipient "$RADDR" --queue-id T040Q1 <"$M"
TH=$(thread_json)
is "still stored once" "$(count_mid "$TH" msgs t040-lock@)" 1
is "posted as the victim" "$(jqr "$TH" '[msgs[] | select(.message_id |
	mid == "t040-lock@mail.example.net")] | .[0].author')" victim
is "nothing quarantined" "$(count_mid "$(quar_json)" quar t040-lock@)" 0
finish
