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
ok "audit verify" cm audit verify

finish
