#!/bin/sh
# report_compliance.sh - casemail report compliance against the
# hand-computed fixture of tests/fixture/compliance.sh (50 cases built
# through casemail and casemail-send with a test clock): per month and
# kind, all victims and enhanced rights, JSON, CSV, text and HTML
. "$TOP/tests/lib.sh"
. "$TOP/tests/fixture/compliance.sh"
fx_conf
J="python3 $TOP/tests/cli/jget.py"
cm() { "$BIN/casemail" -c "$CONF" "$@"; }

fx_build
is "fixture built through the programs" "$FX_FAIL" 0
[ "$FX_FAIL" = 0 ] || head -c 3000 "$W/fixture.err" | sed 's/^/# /'

ok "milestones recorded" cm milestone list --json
is "49 milestones (case 50 has none)" "$(printf '%s' "$OUT" | $J 'len(d["milestones"])')" 49

rep() { cm report compliance --from 2026-01-01 --to 2026-04-30 --now 2026-04-20T12:00 "$@"; }
ok "report --json" rep --json
printf '%s\n' "$OUT" >"$W/report.json"
R="$W/report.json"
# [due, met, late, median, worst, overdue, pending]
row='[c["due"], c["met"], c["late"], c["late_median_days"], c["late_worst_days"], c["overdue"], c["pending"]]'
q() { $J "$1" <"$R"; }
is "four months" "$(q '[m["month"] for m in d["months"]]')" '["2026-01","2026-02","2026-03","2026-04"]'
is "now" "$(q 'd["now"]')" "2026-04-20T11:00:00Z"
want_all='[[13,6,5,2.0,4,2,0],[15,7,6,3.0,5,2,0],[12,7,2,1.5,2,3,0],[7,3,2,1.0,1,0,2]]'
want_enh='[[3,1,1,2.0,2,1,0],[4,1,2,3.0,4,1,0],[2,1,1,2.0,2,0,0],[2,1,1,1.0,1,0,0]]'
is "each month, all victims" "$(q "[(lambda c: $row)(m[\"all\"]) for m in d[\"months\"]]")" "$want_all"
is "each month, enhanced rights" "$(q "[(lambda c: $row)(m[\"enhanced\"]) for m in d[\"months\"]]")" "$want_enh"
is "the period, all" "$(q "(lambda c: $row)(d[\"total\"][\"all\"])")" '[47,23,15,2.0,5,7,2]'
is "the period, enhanced" "$(q "(lambda c: $row)(d[\"total\"][\"enhanced\"])")" '[11,4,5,2.0,4,2,0]'
kinds() { q "{k[\"kind\"]: (lambda c: $row)(k) for k in $1[\"kinds\"]}"; }
is "January by kind" "$(kinds 'd["months"][0]["all"]')" \
	'{"arrested":[4,2,2,2.0,3,0,0],"bailed":[3,1,1,2.0,2,1,0],"charged":[2,0,1,4.0,4,1,0],"interviewed":[2,1,1,1.0,1,0,0],"released_ui":[2,2,0,null,null,0,0]}'
is "February by kind" "$(kinds 'd["months"][1]["all"]')" \
	'{"arrested":[3,1,2,3.0,5,0,0],"bail_changed":[1,0,1,1.0,1,0,0],"charged":[5,2,2,3.0,4,1,0],"not_investigated":[3,3,0,null,null,0,0],"ocd":[3,1,1,5.0,5,1,0]}'
is "March by kind (the two-victim milestone once)" "$(kinds 'd["months"][2]["all"]')" \
	'{"arrested":[3,2,0,null,null,1,0],"bailed":[2,0,0,null,null,2,0],"charged":[1,1,0,null,null,0,0],"interviewed":[2,1,1,1.0,1,0,0],"released_nfa":[4,3,1,2.0,2,0,0]}'
is "April by kind (Easter; pending)" "$(kinds 'd["months"][3]["all"]')" \
	'{"arrested":[3,1,1,1.0,1,0,1],"charged":[2,1,1,1.0,1,0,0],"ocd":[2,1,0,null,null,0,1]}'
is "February, enhanced by kind" "$(kinds 'd["months"][1]["enhanced"]')" \
	'{"charged":[4,1,2,3.0,4,1,0]}'
is "the period by kind" "$(kinds 'd["total"]["all"]')" \
	'{"arrested":[13,6,5,1.0,5,1,1],"bail_changed":[1,0,1,1.0,1,0,0],"bailed":[5,1,1,2.0,2,3,0],"charged":[10,4,4,3.0,4,2,0],"interviewed":[4,2,2,1.0,1,0,0],"not_investigated":[3,3,0,null,null,0,0],"ocd":[5,2,1,5.0,5,1,1],"released_nfa":[4,3,1,2.0,2,0,0],"released_ui":[2,2,0,null,null,0,0]}'

# now moves on: case 40's update (sent 25 April) counts as late, the
# pending ones fall due; one month only
ok "as of 1 May, March" cm report compliance --from 2026-03-01 --to 2026-03-31 --now 2026-05-01T12:00 --json
is "March as of 1 May: 40 late by 20 working days (sent on a Saturday)" \
	"$(printf '%s' "$OUT" | $J "(lambda c: $row)(d[\"months\"][0][\"all\"])")" '[12,7,3,2.0,20,2,0]'
ok "as of 1 May, April" cm report compliance --from 2026-04-01 --to 2026-04-30 --now 2026-05-01T12:00 --json
is "April as of 1 May: 45 and 47 overdue" \
	"$(printf '%s' "$OUT" | $J "(lambda c: $row)(d[\"total\"][\"all\"])")" '[7,3,2,1.0,1,2,0]'
ok "CM_NOW stands in for --now" env CM_NOW=2026-04-20T12:00 "$BIN/casemail" -c "$CONF" report compliance --from 2026-01-01 --to 2026-04-30 --json
is "the same figures" "$(printf '%s' "$OUT" | $J "(lambda c: $row)(d[\"total\"][\"all\"])")" '[47,23,15,2.0,5,7,2]'

# the other forms
ok "report --csv" rep --csv
printf '%s\n' "$OUT" >"$W/report.csv"
is "csv header" "$(head -1 "$W/report.csv")" "month,victims,kind,due,met,late,late_median_days,late_worst_days,overdue,pending"
like "csv: March, all kinds" "$OUT" "^2026-03,all,all,12,7,2,1.5,2,3,0$"
like "csv: total, enhanced" "$OUT" "^total,enhanced,all,11,4,5,2,4,2,0$"
like "csv: no late, empty fields" "$OUT" "^2026-01,all,released_ui,2,2,0,,,0,0$"
ok "report (text)" rep
like "text: a row" "$OUT" "^2026-02 +charged +5 +2 +2 +3 +4 +1 +0$"
like "text: enhanced section" "$OUT" "^Victims with enhanced rights$"
ok "report --html" rep --html
printf '%s\n' "$OUT" >"$W/report.html"
like "html: the page" "$OUT" "^<!DOCTYPE html>"
like "html: charts" "$OUT" "<svg role=\"img\""
unlike "html: no script" "$OUT" "<script|javascript:|src=|href="
like "html: March heading" "$OUT" "<h3>March 2026</h3>"
like "html: headline" "$OUT" "<b>47</b>milestones due"

# errors
exits "one form only" 2 rep --json --csv
exits "a bad date" 2 cm report compliance --from 2026-13-01 --to 2026-04-30
exits "to before from" 2 cm report compliance --from 2026-04-01 --to 2026-03-01
like "says so" "$ERR" "ends before it starts"
exits "too long" 2 cm report compliance --from 2016-01-01 --to 2026-04-30
exits "from needed" 2 cm report compliance --to 2026-04-30
ok "audit verify" cm audit verify

finish
