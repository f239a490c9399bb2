#!/bin/sh
# hardening.sh - what the store's files let others see, and the audit
# chain's anchor outside the database
#
# casemail init under a permissive umask (022) still makes the database
# and its -wal and -shm 0600. A database (or -wal, -shm) that group or
# others may read or write is refused by casemail, casemail-mda and
# casemail-send with a message naming the file and its mode. Then the
# audit anchor: every program that commits audit rows logs
# "audit anchor count=N head=HEX"; casemail audit verify --anchor
# COUNT:HEAD passes on the database it came from and fails on a backup
# restored from before it (a rollback), and on one written again past
# it, while the older anchor passes.
. "$TOP/tests/lib.sh"
mkconf "template_dir = $TOP/conf/templates"
CM="$BIN/casemail"
cm() { "$CM" -c "$CONF" "$@"; }
DB="$W/casemail.db"
REF=HU-20261128-0042
OFF=jo@example.org

# mode FILE - its permission bits, octal
mode() { stat -c %a "$1"; }

umask 022
ok "init" cm init
is "database 0600" "$(mode "$DB")" 600
ok "an officer (the store is used)" cm officer add --email $OFF --name "Jo Bloggs"
is "-wal 0600" "$(mode "$DB-wal")" 600
is "-shm 0600" "$(mode "$DB-shm")" 600
ok "case" cm case add $REF --oic $OFF
VID=$(cm victim add $REF --name Alice --email alice@example.com)
ok "update" cm update $REF --officer $OFF --text "Update one."
ok "casemail-send writes the notice" "$BIN/casemail-send" -c "$CONF" --once
is "the outbox file is 0600" \
	"$(for f in "$W"/outbox/new/*; do mode "$f"; done | sort -u)" 600

chmod 0644 "$DB"
exits "casemail refuses a readable database" 1 cm officer list
like "naming the file and its mode" "$ERR" \
	"database file $DB is mode 0644: it must not be readable or writable by group or others \(chmod 600 "
exits "casemail-mda refuses it (75: a retry helps once fixed)" 75 \
	"$BIN/casemail-mda" -c "$CONF" --sender alice@example.com \
	--recipient "case+$REF@cases.example.org" </dev/null
like "with the reason on stderr" "$ERR" "database file $DB is mode 0644"
fails "casemail-send refuses it" "$BIN/casemail-send" -c "$CONF" --once
like "with the reason on stderr" "$ERR" "database file $DB is mode 0644"
chmod 0600 "$DB"
ok "0600 is accepted again" cm officer list
chmod 0660 "$DB-wal"
exits "a group-writable -wal is refused too" 1 cm officer list
like "naming the -wal" "$ERR" "database file $DB-wal is mode 0660"
chmod 0600 "$DB-wal"
ok "and accepted once fixed" cm officer list

# --- the audit anchor ---
# anchor_of TEXT - COUNT:HEAD of the last "audit anchor" line in TEXT
anchor_of() {
	printf '%s\n' "$1" | sed -n 's/.*audit anchor count=\([0-9]*\) head=\([0-9a-f]*\)$/\1:\2/p' |
		tail -1
}
ok "a change with -v" cm -v update $REF --officer $OFF --text "Update two."
A1=$(anchor_of "$ERR")
like "the CLI logs the anchor after its commit" "$A1" '^[0-9]+:[0-9a-f]{64}$'
ROWS1=${A1%%:*}
ok "verify --anchor on the same database" cm audit verify --anchor "$A1"
like "says the anchor matches" "$OUT" "^audit anchor matches: row $ROWS1$"
is "the anchor is the head of the chain now" \
	"$(sqlite3 "$DB" "SELECT id || ':' || lower(hex(hash)) FROM audit ORDER BY id DESC LIMIT 1")" \
	"$A1"

# a backup now, consistent in itself
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$DB" "$W/backup.db"

ok "casemail-send -v records its outcomes" "$BIN/casemail-send" -c "$CONF" -v --once
A2=$(anchor_of "$ERR")
like "the sender logs the anchor after its commit" "$A2" '^[0-9]+:[0-9a-f]{64}$'
RADDR=$(cm address reply $REF "$VID")
cat >"$W/reply.eml" <<MAIL
From: Alice <alice@example.com>
To: $RADDR
Subject: Re: your case
Message-ID: <anchor-1@example.com>
Date: Sat, 28 Nov 2026 10:00:00 +0000

Thank you.
MAIL
ok "casemail-mda -v delivers a reply" "$BIN/casemail-mda" -c "$CONF" -v \
	--sender alice@example.com --recipient "$RADDR" --queue-id A1 \
	<"$W/reply.eml"
A3=$(anchor_of "$ERR")
like "the mda logs the anchor after its commit" "$A3" '^[0-9]+:[0-9a-f]{64}$'
ok "the newest anchor verifies" cm audit verify --anchor "$A3"
ok "and so does the older one" cm audit verify --anchor "$A1"

# roll back: restore the backup
cp "$W/backup.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
ok "the restored copy is consistent in itself" cm audit verify
exits "but not with the newer anchor" 1 cm audit verify --anchor "$A3"
like "which says it was rolled back" "$ERR" \
	"^casemail: audit log does not match the anchor ${A3%%:*}:...: audit log has $ROWS1 rows, fewer than the ${A3%%:*} of the anchor: it was rolled back"
is "one line" "$(printf '%s\n' "$ERR" | wc -l)" 1
ok "the anchor of the backup's time still verifies" cm audit verify --anchor "$A1"

# rolled back and written again past the anchor's row count
for i in 1 2 3 4 5 6; do
	cm update $REF --officer $OFF --text "Again $i." >/dev/null
done
ok "the rewritten log verifies in itself" cm audit verify
exits "the newer anchor still fails" 1 cm audit verify --anchor "$A3"
like "a different row there" "$ERR" \
	"audit row ${A3%%:*} does not end in the anchor's head"
exits "a malformed anchor is a usage error" 2 cm audit verify --anchor "12:xyz"
like "saying what it wants" "$ERR" "--anchor wants COUNT:HEAD"

finish
