#!/bin/sh
# audit.sh - the hash-chained audit log: verify intact, then tamper with
# the file the way an outside attacker would (the sqlite3 tool) and see
# verify fail and name the row
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
ok "victim" cm victim add $REF --name Alice --email alice@example.com
ok "update" cm update $REF --officer $OFF --text "Update one."
ok "verify intact" cm audit verify
rows=$(printf '%s' "$OUT" | sed -n 's/^audit log intact: \([0-9]*\) rows$/\1/p')
like "intact line" "$OUT" "^audit log intact: [0-9]+ rows$"
ok "audit list --json" cm audit list --json
is "row count matches the list" "$(printf '%s' "$OUT" | $J 'len(d["audit"])')" "$rows"
is "audit keys" "$(printf '%s' "$OUT" | $J 'list(d["audit"][0].keys())')" \
	'["id","at","actor","action","case","detail"]'
is "newest first" "$(printf '%s' "$OUT" | $J 'd["audit"][0]["id"] > d["audit"][-1]["id"]')" "true"
unlike "no message text in the audit" "$OUT" "Update one"
ok "audit list text" cm audit list
like "text table" "$OUT" "^ID +AT +ACTOR +ACTION +CASE +DETAIL"

# the store refuses edits through SQL while its triggers stand
fails "trigger blocks UPDATE" sqlite3 "$DB" "UPDATE audit SET detail='x' WHERE id=2"
ok "still intact" cm audit verify

# keep a clean copy (WAL folded in) to tamper with in different ways
restore() { cp "$W/clean.db" "$DB"; rm -f "$DB-wal" "$DB-shm"; }
drop_triggers() {
	for t in $(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type='trigger'"); do
		sqlite3 "$DB" "DROP TRIGGER \"$t\""
	done
}
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$DB" "$W/clean.db"

# 1. edit a row
drop_triggers
ok "edit row 2 with sqlite3" sqlite3 "$DB" "UPDATE audit SET detail='x' WHERE id=2"
exits "verify fails" 1 cm audit verify
like "names the row" "$ERR" "^casemail: audit log broken at row 2: "
is "one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"

# 2. change the actor of the last row
restore
drop_triggers
ok "edit the last row's actor" sqlite3 "$DB" "UPDATE audit SET actor='cli:nobody' WHERE id=$rows"
exits "verify fails on the last row" 1 cm audit verify
like "names the last row" "$ERR" "^casemail: audit log broken at row $rows: "

# 3. delete a row in the middle
restore
drop_triggers
ok "delete row 3" sqlite3 "$DB" "DELETE FROM audit WHERE id=3"
exits "verify fails after a delete" 1 cm audit verify
like "names where the chain breaks" "$ERR" "^casemail: audit log broken at row [0-9]+: "

# 4. truncate the tail
restore
drop_triggers
ok "delete the last row" sqlite3 "$DB" "DELETE FROM audit WHERE id=$rows"
exits "verify fails after truncation" 1 cm audit verify
like "says the log is broken" "$ERR" "^casemail: audit log broken "

# the clean copy still verifies
restore
ok "clean copy verifies" cm audit verify
is "same rows" "$OUT" "audit log intact: $rows rows"

finish
