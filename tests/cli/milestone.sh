#!/bin/sh
# milestone.sh - milestones with working-day deadlines: recording, the
# enhanced-rights deadline, met by an update sent in time, overdue with
# the officer's warning and alert and the supervisor's digest
. "$TOP/tests/lib.sh"
mkconf "milestone_supervisor = supt@example.org" \
	"template_dir = $TOP/conf/templates"
CM="$BIN/casemail"
J="python3 $TOP/tests/cli/jget.py"
cm() { "$CM" -c "$CONF" "$@"; }
REF=HU-20261128-0042
OFF=jo@example.org

ok "init" cm init
ok "officer" cm officer add --email $OFF --name "Jo Bloggs"
ok "case" cm case add $REF --oic $OFF
ok "victim 1" cm victim add $REF --name Alice --email alice@example.com
ok "victim 2" cm victim add $REF --name Bob --email bob@example.com

# --- recording ---
exits "unknown kind" 1 cm milestone $REF sentenced --officer $OFF --all
like "names the kinds" "$ERR" "unknown milestone .sentenced. \\(milestone_kinds: arrested"
exits "two victims need --victim or --all" 1 cm milestone $REF charged --officer $OFF
exits "bad time" 2 cm milestone $REF charged --officer $OFF --all --at "next week"
ok "arrested, Monday, 5 working days" cm milestone $REF arrested --officer $OFF --victim 1 --at 2026-03-02T10:00
like "deadline the following Monday" "$OUT" "^milestone 1: arrested on $REF for victim 1, update due by 2026-03-09 23:59 GMT \\(5 working days\\)$"
exits "enhanced: bad switch" 2 cm victim enhanced 2 maybe
exits "enhanced: no victim" 1 cm victim enhanced 99 on
ok "enhanced on" cm victim enhanced 2 on
ok "charged over Easter, enhanced: 1 working day" cm milestone $REF charged --officer $OFF --victim 2 --at 2026-04-02T09:00
like "deadline Tuesday after Easter, BST" "$OUT" "update due by 2026-04-07 23:59 BST \\(1 working day\\)$"
ok "for every victim: enhanced as one of them is" cm milestone $REF bailed --officer $OFF --all --at 2026-03-27T12:00
like "every victim" "$OUT" "for every victim, update due by 2026-03-30 23:59 BST \\(1 working day\\)$"
ok "enhanced off" cm victim enhanced 2 off
ok "list --json" cm milestone list $REF --json
is "three pending" "$(printf '%s' "$OUT" | $J '[(m["id"], m["victim"], m["kind"], m["status"], m["enhanced"]) for m in d["milestones"]]')" \
	'[[1,1,"arrested","pending",false],[3,"all","bailed","pending",true],[2,2,"charged","pending",true]]'
is "deadline in UTC" "$(printf '%s' "$OUT" | $J 'd["milestones"][0]["deadline"]')" "2026-03-09T23:59:59Z"

# --- the check: warning before the deadline, alert at it, digest ---
check() { cm milestone check --json "$@"; }
ok "check a day before the Monday deadline" check --now 2026-03-09T12:00Z
is "one warning, nothing overdue" "$(printf '%s' "$OUT" | $J '[d["warnings"], d["alerts"], d["overdue"], d["digest"]]')" \
	"[1,0,0,false]"
ok "check again: warned once" check --now 2026-03-09T13:00Z
is "no second warning" "$(printf '%s' "$OUT" | $J 'd["warnings"]')" "0"
ok "CM_NOW past the deadline" env CM_NOW=2026-03-10T09:00Z "$CM" -c "$CONF" milestone check --json
is "overdue: alert and digest" "$(printf '%s' "$OUT" | $J '[d["alerts"], d["overdue"], d["digest"]]')" "[1,1,true]"
ok "--now wins over CM_NOW" env CM_NOW=2030-01-01 "$CM" -c "$CONF" milestone check --json --now 2026-03-10T10:00Z
is "the same, nothing new" "$(printf '%s' "$OUT" | $J '[d["alerts"], d["overdue"], d["digest"]]')" "[0,1,false]"

# an update sent in time meets its milestone
REF2=HU-20261201-0007
ok "case 2" cm case add $REF2 --oic $OFF
ok "its one victim" cm victim add $REF2 --name Carol --email carol@example.com
NOW=$(date +%s)
ok "arrested an hour ago" cm milestone $REF2 arrested --officer $OFF --at "@$((NOW - 3600))"
ok "update posted" cm update $REF2 --officer $OFF --text "A suspect was arrested."
ok "check before sending (the real clock)" check
is "the other two overdue: alerts, no second digest today" "$(printf '%s' "$OUT" | $J '[d["alerts"], d["overdue"], d["digest"]]')" "[2,3,false]"
ok "list" cm milestone list $REF2 --json
is "queued is not sent" "$(printf '%s' "$OUT" | $J 'd["milestones"][0]["status"]')" "pending"
ok "casemail-send" "$BIN/casemail-send" -c "$CONF" --once
ok "check after sending" check
is "met: nothing new to alert" "$(printf '%s' "$OUT" | $J '[d["changed"], d["alerts"], d["overdue"], d["digest"]]')" "[1,0,3,false]"
ok "list all" cm milestone list --json
is "statuses" "$(printf '%s' "$OUT" | $J '[(m["case"][-4:], m["kind"], m["status"]) for m in d["milestones"]]')" \
	'[["0042","arrested","overdue"],["0042","bailed","overdue"],["0042","charged","overdue"],["0007","arrested","met"]]'
like "met_at set" "$(printf '%s' "$OUT" | $J 'd["milestones"][3]["met_at"]')" "^2026-"
ok "notices" cm notices --json
is "officer warnings and alerts, one digest" \
	"$(printf '%s' "$OUT" | $J 'sorted(n["kind"] for n in d["notices"] if n["kind"].startswith("milestone"))')" \
	'["milestone_digest","milestone_overdue","milestone_overdue","milestone_overdue","milestone_warning"]'
ok "casemail-send the officer mail" "$BIN/casemail-send" -c "$CONF" --once
ok "notices after" cm notices --json
is "all milestone notices sent" \
	"$(printf '%s' "$OUT" | $J 'sorted(set(n["status"] for n in d["notices"] if n["kind"].startswith("milestone")))')" \
	'["sent"]'
MAIL=$(cat "$W"/outbox/new/* 2>/dev/null)
like "warning mail" "$MAIL" "Subject: \[$REF\] Victim update due soon"
like "overdue mail" "$MAIL" "Subject: \[$REF\] OVERDUE: victim update past its deadline"
like "says the deadline" "$MAIL" "must be sent an update by 2026-03-09 23:59"
like "digest to the supervisor" "$MAIL" "To: .*supt@example.org"
like "digest line" "$MAIL" "$REF  arrested  victim 1  due 2026-03-09 23:59 GMT"
ok "audit verify" cm audit verify

finish
