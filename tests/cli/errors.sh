#!/bin/sh
# errors.sh - failure modes: a busy database exits 75, every failure is
# one "casemail: " line on stderr, nothing half-done is left behind
. "$TOP/tests/lib.sh"
mkconf
CM="$BIN/casemail"
J="python3 $TOP/tests/cli/jget.py"
cm() { "$CM" -c "$CONF" "$@"; }
REF=HU-20261128-0042
OFF=jo@example.org
DB="$W/casemail.db"

ok "init" cm init
ok "officer" cm officer add --email $OFF --name "Jo Bloggs"
ok "case" cm case add $REF --oic $OFF

# another process holds the write lock past busy_timeout (2 s)
(printf 'BEGIN IMMEDIATE;\n'; sleep 4; printf 'ROLLBACK;\n') | sqlite3 "$DB" >/dev/null 2>&1 &
locker=$!
sleep 1
exits "write while locked exits 75" 75 cm officer add --email sam@example.org --name Sam
like "says busy, try again" "$ERR" "^casemail: .*try again"
is "busy: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
ok "reading is not blocked" cm officer list --json
is "sam was not added" "$(printf '%s' "$OUT" | $J '[o["email"] for o in d["officers"]]')" "[\"$OFF\"]"
wait "$locker"
ok "after the lock: write works" cm officer add --email sam@example.org --name Sam

# every failure: exit non-zero and exactly one line starting "casemail: "
one_line() { # desc want_status cmd...
	d=$1; want=$2; shift 2
	exits "$d" "$want" "$@"
	like "$d: casemail: prefix" "$ERR" "^casemail: "
	is "$d: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"
	is "$d: nothing on stdout" "$OUT" ""
}
one_line "unknown case" 1 cm case show HU-1
one_line "bad reference" 1 cm case show "HU-1; DROP TABLE cases"
one_line "unknown victim" 1 cm victim show 7
one_line "unknown quarantine row" 1 cm quarantine show 7
one_line "quarantine id not a number" 2 cm quarantine show 7x
one_line "unknown held message" 1 cm held approve 7
one_line "bad --as" 2 cm quarantine release 1 --case $REF --as ghost
one_line "missing --case" 2 cm quarantine release 1 --as note
one_line "option twice" 2 cm officer list --json --json
one_line "flag with a value" 2 cm officer list --json=yes
one_line "too many arguments" 2 cm case show $REF extra
one_line "missing argument" 2 cm case show
one_line "missing config" 1 "$CM" -c "$W/none.conf" officer list
one_line "-c without a file" 2 "$CM" -c

# option forms
ok "--opt=value form" cm case add HU-2 --oic=$OFF --title="Theft of bicycle"
ok "options before the positional" cm case add --oic $OFF HU-3
ok "-- ends options" cm case show --json -- HU-3
is "HU-3 found" "$(printf '%s' "$OUT" | $J 'd["case"]["ref"]')" "HU-3"

# nothing half-done: a failed command leaves the audit chain intact
ok "audit intact" cm audit verify

finish
