#!/bin/sh
# officer_case.sh - officers and cases: life cycle, duplicates, unknown
# officers, hostile references, case-insensitive lookup
. "$TOP/tests/lib.sh"
mkconf
CM="$BIN/casemail"
J="python3 $TOP/tests/cli/jget.py"
cm() { "$CM" -c "$CONF" "$@"; }

ok "init" cm init

# --- officers ---
ok "add officer" cm officer add --email Jo.Bloggs@Example.ORG --name "Jo Bloggs" --collar 1234
like "says what it added" "$OUT" "added officer jo.bloggs@example.org"
ok "add a second officer" cm officer add --email sam@example.org --name "Sam Smith"
exits "duplicate officer (other case)" 1 cm officer add --email JO.BLOGGS@example.org --name X
is "duplicate message" "$ERR" "casemail: officer jo.bloggs@example.org already exists"
exits "invalid email" 1 cm officer add --email "not an address" --name X
like "invalid email message" "$ERR" "^casemail: invalid email address"
exits "email with a newline" 1 cm officer add --email "$(printf 'a@b.example\nBcc: x@y')" --name X
exits "name with a control byte" 1 cm officer add --email c@example.org --name "$(printf 'A\033[2J')"
ok "officer list --json" cm officer list --json
is "two officers" "$(printf '%s' "$OUT" | $J 'len(d["officers"])')" "2"
is "email stored lower case" "$(printf '%s' "$OUT" | $J 'd["officers"][0]["email"]')" "jo.bloggs@example.org"
is "officer keys" "$(printf '%s' "$OUT" | $J 'list(d["officers"][0].keys())')" \
	'["id","email","name","collar","active","created"]'
is "collar null when absent" "$(printf '%s' "$OUT" | $J 'd["officers"][1]["collar"]')" "null"
is "active" "$(printf '%s' "$OUT" | $J 'd["officers"][0]["active"]')" "true"
ok "officer list text" cm officer list
like "text table header" "$OUT" "^ID +EMAIL +NAME +COLLAR +ACTIVE +CREATED"
like "text table row" "$OUT" "jo.bloggs@example.org +Jo Bloggs +1234 +yes"

ok "disable officer" cm officer disable sam@example.org
ok "list after disable" cm officer list --json
is "sam inactive" "$(printf '%s' "$OUT" | $J 'd["officers"][1]["active"]')" "false"
exits "disable twice" 1 cm officer disable sam@example.org
exits "disable unknown" 1 cm officer disable nobody@example.org
is "unknown officer message" "$ERR" "casemail: no officer nobody@example.org"

# --- cases ---
ok "add case" cm case add hu-20261128-0042 --oic jo.bloggs@example.org --title "Burglary at 3 Elm St"
like "reference upper-cased" "$OUT" "added case HU-20261128-0042"
exits "duplicate case (other case)" 1 cm case add HU-20261128-0042 --oic jo.bloggs@example.org
is "duplicate case message" "$ERR" "casemail: case HU-20261128-0042 already exists"
exits "unknown officer in charge" 1 cm case add HU-2 --oic nobody@example.org
is "unknown oic message" "$ERR" "casemail: no active officer nobody@example.org"
exits "disabled officer in charge" 1 cm case add HU-3 --oic sam@example.org
is "disabled oic message" "$ERR" "casemail: no active officer sam@example.org"
ok "enable officer" cm officer enable sam@example.org
ok "enabled officer can take a case" cm case add HU-3 --oic sam@example.org

# hostile references: refused, nothing stored
for ref in "HU 0042" "HU'0042" 'HU"0042' "x'); DROP TABLE cases;--" \
	"$(printf 'HU\n0042')" "$(printf 'HU\0330042')" ""; do
	exits "reference refused: $(printf '%s' "$ref" | tr -c 'A-Za-z0-9 -' '?')" 1 \
		cm case add "$ref" --oic jo.bloggs@example.org
	like "one error line" "$ERR" "^casemail: "
done
ok "case list --json" cm case list --json
is "only the two good cases" "$(printf '%s' "$OUT" | $J '[c["ref"] for c in d["cases"]]')" \
	'["HU-20261128-0042","HU-3"]'
is "case keys" "$(printf '%s' "$OUT" | $J 'list(d["cases"][0].keys())')" \
	'["id","ref","status","oic","title","created"]'
is "oic email in list" "$(printf '%s' "$OUT" | $J 'd["cases"][1]["oic"]')" "sam@example.org"
ok "stats" cm stats --json
is "stats: two cases" "$(printf '%s' "$OUT" | $J 'd["cases"]')" "2"
ok "audit intact after refusals" cm audit verify

# case-insensitive lookup
ok "show by lower case" cm case show hu-20261128-0042 --json
is "found canonical" "$(printf '%s' "$OUT" | $J 'd["case"]["ref"]')" "HU-20261128-0042"
is "title" "$(printf '%s' "$OUT" | $J 'd["case"]["title"]')" "Burglary at 3 Elm St"
is "officer in charge" "$(printf '%s' "$OUT" | $J 'd["officer"]["email"]')" "jo.bloggs@example.org"
is "no victims yet" "$(printf '%s' "$OUT" | $J 'd["victims"]')" "[]"
is "no messages yet" "$(printf '%s' "$OUT" | $J 'd["messages"]')" "0"
is "case show keys" "$(printf '%s' "$OUT" | $J 'list(d.keys())')" \
	'["case","officer","messages","held","notices","victims"]'
ok "show text" cm case show Hu-20261128-0042
like "text has the ref" "$OUT" "ref: +HU-20261128-0042"
exits "show unknown case" 1 cm case show HU-9999
is "unknown case message" "$ERR" "casemail: no case HU-9999"

# close / reopen
ok "close" cm case close hu-20261128-0042
exits "close twice" 1 cm case close HU-20261128-0042
like "already closed" "$ERR" "already closed"
ok "closed in show" cm case show HU-20261128-0042 --json
is "status closed" "$(printf '%s' "$OUT" | $J 'd["case"]["status"]')" "closed"
like "closed time set" "$(printf '%s' "$OUT" | $J 'd["case"]["closed"]')" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"
exits "update on a closed case refused" 1 cm update HU-20261128-0042 --officer jo.bloggs@example.org --text "hello"
like "closed message" "$ERR" "^casemail: case HU-20261128-0042 is closed"
ok "reopen" cm case reopen HU-20261128-0042
ok "update after reopen" cm update HU-20261128-0042 --officer jo.bloggs@example.org --text "hello"

# every change is audited with the cli actor
ok "audit list" cm audit list --json
actions=$(printf '%s' "$OUT" | $J '" ".join(sorted(set(r["action"] for r in d["audit"])))')
like "officer.add audited" "$actions" "officer.add"
like "officer.disable audited" "$actions" "officer.disable"
like "officer.enable audited" "$actions" "officer.enable"
like "case.add audited" "$actions" "case.add"
like "case.close audited" "$actions" "case.close"
like "case.reopen audited" "$actions" "case.reopen"
is "actor is cli:login" "$(printf '%s' "$OUT" | $J 'd["audit"][0]["actor"]')" "cli:$(id -un)"
ok "audit list for one case" cm audit list hu-3 --json
is "filtered by case" "$(printf '%s' "$OUT" | $J 'sorted(set(r["case"] for r in d["audit"]))')" '["HU-3"]'
ok "audit list --limit" cm audit list --limit 2 --json
is "limit honoured" "$(printf '%s' "$OUT" | $J 'len(d["audit"])')" "2"
exits "bad limit" 2 cm audit list --limit many

finish
