#!/bin/sh
# thread_json.sh - the thread: JSON shape, order, visibility, terminal
# escapes in text output, logging with -v
. "$TOP/tests/lib.sh"
mkconf
CM="$BIN/casemail"
J="python3 $TOP/tests/cli/jget.py"
cm() { "$CM" -c "$CONF" "$@"; }
REF=HU-20261128-0042
OFF=jo@example.org

ok "init" cm init
ok "officer" cm officer add --email $OFF --name "Jo Bloggs"
ok "case" cm case add $REF --oic $OFF
ok "victim" cm victim add $REF --name Alice --email alice@example.com

ok "empty thread" cm thread $REF --json
is "empty thread json" "$(printf '%s' "$OUT" | $J 'd')" "{\"case\":\"$REF\",\"messages\":[]}"

ok "first update" cm update $REF --officer $OFF --text "First update."
ok "internal note" cm update $REF --officer $OFF --internal \
	--text "$(printf 'Note with \033]0;pwned\007 escapes \033[2J and\ttab')"
ok "third update" cm update $REF --officer $OFF --text "$(printf 'Third\nupdate.')"

ok "thread --json (lower-case ref)" cm thread hu-20261128-0042 --json
doc=$OUT
is "top-level keys" "$(printf '%s' "$doc" | $J 'list(d.keys())')" '["case","messages"]'
is "case is canonical" "$(printf '%s' "$doc" | $J 'd["case"]')" "$REF"
is "three messages" "$(printf '%s' "$doc" | $J 'len(d["messages"])')" "3"
is "message keys, in order" "$(printf '%s' "$doc" | $J 'list(d["messages"][0].keys())')" \
	'["id","at","author","visibility","status","kind","body","body_full","quoted","subject","sender","message_id","in_reply_to","source","placement","victim_id","forwarded","attachments"]'
is "oldest first" "$(printf '%s' "$doc" | $J '[m["id"] for m in d["messages"]] == sorted(m["id"] for m in d["messages"])')" "true"
is "bodies in order" "$(printf '%s' "$doc" | $J '[m["body"].split()[0] for m in d["messages"]]')" \
	'["First","Note","Third"]'
like "at is ISO 8601 UTC" "$(printf '%s' "$doc" | $J 'd["messages"][0]["at"]')" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
is "author" "$(printf '%s' "$doc" | $J 'd["messages"][0]["author"]')" "officer"
is "visibility victim" "$(printf '%s' "$doc" | $J 'd["messages"][0]["visibility"]')" "victim"
is "internal visibility" "$(printf '%s' "$doc" | $J 'd["messages"][1]["visibility"]')" "internal"
is "status posted" "$(printf '%s' "$doc" | $J 'd["messages"][0]["status"]')" "posted"
is "kind message" "$(printf '%s' "$doc" | $J 'd["messages"][0]["kind"]')" "message"
is "source cli" "$(printf '%s' "$doc" | $J 'd["messages"][0]["source"]')" "cli"
is "body_full = body" "$(printf '%s' "$doc" | $J 'd["messages"][2]["body_full"] == d["messages"][2]["body"]')" "true"
is "newline kept in JSON" "$(printf '%s' "$doc" | $J 'd["messages"][2]["body"]')" "$(printf 'Third\nupdate.')"
is "absent strings are null" \
	"$(printf '%s' "$doc" | $J '[d["messages"][0][k] for k in ("quoted","subject","message_id","in_reply_to")]')" \
	'[null,null,null,null]'
is "attachments empty list" "$(printf '%s' "$doc" | $J 'd["messages"][0]["attachments"]')" "[]"
is "escapes kept exactly in JSON" "$(printf '%s' "$doc" | $J 'd["messages"][1]["body"]')" \
	"$(printf 'Note with \033]0;pwned\007 escapes \033[2J and\ttab')"
unlike "JSON output has no raw ESC" "$doc" "$(printf '\033')"

# notices: internal note queued nothing
ok "notices" cm notices --json
is "one notice per victim update" "$(printf '%s' "$OUT" | $J 'len(d["notices"])')" "2"

# text output: readable, escapes neutralised
ok "thread text" cm thread $REF
like "header line" "$OUT" "^case $REF \(open\): 3 messages$"
like "internal marked" "$OUT" "INTERNAL"
like "body shown indented" "$OUT" "^    First update\.$"
like "multi-line body indented" "$OUT" "^    update\.$"
unlike "no ESC reaches the terminal" "$OUT" "$(printf '\033')"
unlike "no BEL reaches the terminal" "$OUT" "$(printf '\007')"
like "escapes shown as ?" "$OUT" "Note with \?\]0;pwned\? escapes \?\[2J"
like "tab kept" "$OUT" "$(printf 'and\ttab')"

exits "thread of unknown case" 1 cm thread HU-404
exits "thread with a bad reference" 1 cm thread "HU 404"

# -v logs one key=value line per change on stderr
ok "update with -v" "$CM" -c "$CONF" -v update $REF --officer $OFF --text "Logged."
like "log line names action and case" "$ERR" "action=message.add case=$REF"
unlike "log line carries no body" "$ERR" "Logged\."

finish
