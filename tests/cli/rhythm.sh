#!/bin/sh
# rhythm.sh - the update rhythm agreed with the victim: casemail victim
# rhythm, milestone check reminding the officer in charge once for each
# period with no update sent (an update sent restarts the clock; a
# closed case and the default "milestones" rhythm get none), the
# reminders mailed by casemail-send, and the rhythm figures of report
# compliance; a test clock (tests/fixture/cm_faketime.c) stands in for
# every program's time
. "$TOP/tests/lib.sh"
. "$TOP/tests/fixture/compliance.sh"
fx_conf
FX_SHIM="$W/cm_faketime.so"
cc -shared -fPIC -o "$FX_SHIM" "$TOP/tests/fixture/cm_faketime.c"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
J="python3 $TOP/tests/cli/jget.py"
OFF=jo@example.org
# at TIME CMD... - casemail at local TIME (clock and CM_NOW)
at() {
	_t=$1; shift
	CM_NOW=$_t fx_clk "$_t" "$BIN/casemail" -c "$CONF" "$@"
}
check() { # TIME - milestone check then; prints the reminders
	at "$1" milestone check --json | $J 'd["reminders"]'
}

ok "init" at 2026-03-01T09:00 init
ok "officer" at 2026-03-01T09:00 officer add --email $OFF --name "Jo Bloggs"
ok "case 1" at 2026-03-01T09:00 case add HU-1 --oic $OFF
ok "case 2" at 2026-03-01T09:00 case add HU-2 --oic $OFF
ok "case 3" at 2026-03-01T09:00 case add HU-3 --oic $OFF
ok "victim A (1), weekly" at 2026-03-02T09:00 victim add HU-1 --name Ann --email ann@example.org
ok "victim B (2), monthly" at 2026-03-02T09:00 victim add HU-2 --name Bob --email bob@example.org
ok "victim C (3), milestones" at 2026-03-02T09:00 victim add HU-2 --name Cat --email cat@example.org
ok "victim D (4), weekly, case closed" at 2026-03-02T09:05 victim add HU-3 --name Dan --email dan@example.org
ok "rhythm weekly" at 2026-03-02T09:00 victim rhythm 1 weekly
like "says so" "$OUT" "^victim 1 on HU-1: updates weekly$"
ok "rhythm monthly" at 2026-03-02T09:00 victim rhythm 2 monthly
ok "rhythm milestones" at 2026-03-02T09:00 victim rhythm 3 milestones
like "in words" "$OUT" "updates when a milestone falls$"
ok "rhythm weekly (D)" at 2026-03-02T09:00 victim rhythm 4 weekly
ok "case 3 closed" at 2026-03-02T09:10 case close HU-3
exits "not a rhythm" 2 at 2026-03-02T09:00 victim rhythm 1 daily
exits "no such victim" 1 at 2026-03-02T09:00 victim rhythm 99 weekly

is "six days: nothing" "$(check 2026-03-08T12:00)" 0
is "a week without an update: one reminder" "$(check 2026-03-09T10:00)" 1
is "the same period: no second" "$(check 2026-03-10T10:00)" 0
ok "update to Ann" at 2026-03-11T10:00 update HU-1 --officer $OFF --text "News."
ok "sent" fx_clk 2026-03-11T10:00 "$BIN/casemail-send" -c "$CONF" --once
is "the clock restarts at the update sent" "$(check 2026-03-17T10:00)" 0
is "a week after it: a reminder" "$(check 2026-03-18T11:00)" 1
is "the next week too" "$(check 2026-03-25T12:00)" 1
is "the monthly victim not yet" "$(check 2026-03-31T12:00)" 0
ok "thread" at 2026-03-31T12:00 thread HU-1 --json
is "three reminders on Ann's case, internal" \
	"$(printf '%s' "$OUT" | $J '[m["visibility"] for m in d["messages"] if m["kind"] == "event" and m["body"].startswith("Update rhythm:")]')" \
	'["internal","internal","internal"]'
like "the reminder's words" "$OUT" "Update rhythm: victim 1 agreed weekly updates and the last was sent 2026-03-11 10:00 GMT; the next was due by 2026-03-18 10:00 GMT"
ok "send the reminders" fx_clk 2026-03-31T12:00 "$BIN/casemail-send" -c "$CONF" --once
MAIL=$(cat "$W"/outbox/new/* 2>/dev/null)
like "the officer's mail" "$MAIL" "Update rhythm: victim 1 agreed weekly updates"
is "to the officer, three of them" "$(grep -l '^To: .*jo@example.org' "$W"/outbox/new/* | wc -l)" 3

ok "report" at 2026-04-01T12:00 report compliance --from 2026-03-01 --to 2026-03-31 --json
is "rhythm: weekly 2 victims, 8 weeks, 1 kept; monthly 1, none yet" \
	"$(printf '%s' "$OUT" | $J '[[r["rhythm"], r["victims"], r["periods"], r["kept"]] for r in d["rhythm"]]')" \
	'[["weekly",2,8,1],["fortnightly",0,0,0],["monthly",1,0,0]]'
ok "report --html" at 2026-04-01T12:00 report compliance --from 2026-03-01 --to 2026-03-31 --html
like "the rhythm table" "$OUT" "<tr><td>weekly</td><td>2</td><td>8</td><td>1</td><td>13%</td></tr>"
ok "audit verify" at 2026-04-01T12:00 audit verify
finish
