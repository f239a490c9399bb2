#!/bin/sh
# victim_update.sh - victims, channels, updates and the notices they
# queue, refused text, notices listing, reply and bounce addresses
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

# --- victims ---
ok "email victim" cm victim add $REF --name "Alice" --email Alice@Example.COM
is "prints the id alone" "$OUT" "1"
ok "sms victim" cm victim add hu-20261128-0042 --name "Bob" --phone "+44 7700-900123"
is "second id" "$OUT" "2"
ok "both victim" cm victim add $REF --name "Carol" --email carol@example.com --phone +447700900999 --channel both
ok "no-contact victim" cm victim add $REF --name "Dan"
exits "channel sms without a phone" 1 cm victim add $REF --name Eve --email eve@example.com --channel sms
like "says what is missing" "$ERR" "needs --phone"
exits "channel both without an email" 1 cm victim add $REF --name Eve --phone +447700900111 --channel both
exits "unknown channel" 2 cm victim add $REF --name Eve --channel pigeon
exits "phone too short" 1 cm victim add $REF --name Eve --phone "+44 12"
exits "phone with letters" 1 cm victim add $REF --name Eve --phone "+44 7700 CALLME"
exits "phone without +" 1 cm victim add $REF --name Eve --phone "07700900123"
exits "phone too long" 1 cm victim add $REF --name Eve --phone "+1234567890123456"
exits "invalid email" 1 cm victim add $REF --name Eve --email "eve@"
exits "unknown case" 1 cm victim add HU-404 --name Eve

ok "victim list --json" cm victim list $REF --json
is "four victims" "$(printf '%s' "$OUT" | $J 'len(d["victims"])')" "4"
is "default channels" "$(printf '%s' "$OUT" | $J '[v["channel"] for v in d["victims"]]')" \
	'["email","sms","both","none"]'
is "opted in iff email" "$(printf '%s' "$OUT" | $J '[v["opted_in"] for v in d["victims"]]')" \
	'[true,false,true,false]'
is "email lower case" "$(printf '%s' "$OUT" | $J 'd["victims"][0]["email"]')" "alice@example.com"
is "phone normalised" "$(printf '%s' "$OUT" | $J 'd["victims"][1]["phone"]')" "+447700900123"
ok "victim show --json" cm victim show 3 --json
is "victim show case" "$(printf '%s' "$OUT" | $J 'd["victim"]["case"]')" "$REF"
is "victim show name" "$(printf '%s' "$OUT" | $J 'd["victim"]["name"]')" "Carol"
exits "victim show unknown" 1 cm victim show 99
exits "victim show not a number" 2 cm victim show abc

# --- updates ---
# a case with several victims: an update names its addressee
exits "update needs --victim or --all" 1 cm update $REF --officer $OFF --text "We have arrested a suspect."
like "says why" "$ERR" "case $REF has [0-9]+ victims: say --victim ID or --all"
exits "--victim and --all together refused" 1 cm update $REF --officer $OFF --all --victim 1 --text x
exits "--victim of another case refused" 1 cm update $REF --officer $OFF --victim 99 --text x
like "names the victim" "$ERR" "no victim 99 on case $REF"
ok "stats" cm stats --json
is "nothing queued by the refusals" "$(printf '%s' "$OUT" | $J 'd["notices_queued"]')" "0"
ok "update to the victims" cm update $REF --officer $OFF --all --text "We have arrested a suspect."
like "reports the notices" "$OUT" "^posted message [0-9]+ on $REF to all victims, 4 notices queued$"
ok "notices --json" cm notices --json
is "email, sms, email+sms, none" \
	"$(printf '%s' "$OUT" | $J '[(n["recipient"], n["channel"]) for n in d["notices"]]')" \
	'[["alice@example.com","email"],["+447700900123","sms"],["carol@example.com","email"],["+447700900999","sms"]]'
is "notice keys" "$(printf '%s' "$OUT" | $J 'list(d["notices"][0].keys())')" \
	'["id","case","recipient","kind","channel","status","attempts","last_error","created"]'
is "all queued updates" "$(printf '%s' "$OUT" | $J 'sorted(set((n["kind"], n["status"], n["case"]) for n in d["notices"]))')" \
	"[[\"update\",\"queued\",\"$REF\"]]"
is "no error yet" "$(printf '%s' "$OUT" | $J 'd["notices"][0]["last_error"]')" "null"
ok "notices --status sent" cm notices --status sent --json
is "none sent" "$(printf '%s' "$OUT" | $J 'd["notices"]')" "[]"
exits "notices --status bogus" 2 cm notices --status bogus

ok "internal note" cm update $REF --officer $OFF --internal --text "Suspect has previous."
like "internal queues none" "$OUT" ", 0 notices queued$"
ok "text from stdin" sh -c "printf 'Line one\nLine two\n\n' | '$CM' -c '$CONF' update $REF --officer $OFF --all"
like "stdin update queued" "$OUT" ", 4 notices queued$"
ok "stats" cm stats --json
is "stats: 8 queued" "$(printf '%s' "$OUT" | $J 'd["notices_queued"]')" "8"
is "stats: 3 messages" "$(printf '%s' "$OUT" | $J 'd["messages"]')" "3"
is "stats: 4 victims" "$(printf '%s' "$OUT" | $J 'd["victims"]')" "4"

# refused text: nothing stored
ok "thread before" cm thread $REF --json
before=$OUT
exits "NUL bytes refused" 1 sh -c "printf 'bad\\000text' | '$CM' -c '$CONF' update $REF --officer $OFF"
is "NUL message" "$ERR" "casemail: text contains NUL bytes"
exits "invalid UTF-8 refused" 1 sh -c "printf 'caf\\351 ol\\351' | '$CM' -c '$CONF' update $REF --officer $OFF"
is "UTF-8 message" "$ERR" "casemail: text is not valid UTF-8"
exits "invalid UTF-8 in --text refused" 1 cm update $REF --officer $OFF --text "$(printf 'x\377y')"
exits "overlong encoding refused" 1 sh -c "printf '\\300\\257' | '$CM' -c '$CONF' update $REF --officer $OFF"
exits "empty text refused" 1 sh -c "printf '' | '$CM' -c '$CONF' update $REF --officer $OFF"
is "empty message" "$ERR" "casemail: text is empty"
exits "blank text refused" 1 cm update $REF --officer $OFF --text "   "
head -c 1100000 /dev/zero | tr '\0' 'a' >"$W/big.txt"
exits "text over 1 MiB refused" 1 sh -c "'$CM' -c '$CONF' update $REF --officer $OFF <'$W/big.txt'"
like "size message" "$ERR" "^casemail: text is longer than"
exits "unknown officer refused" 1 cm update $REF --officer nobody@example.org --text hi
ok "disable officer" cm officer disable $OFF
exits "disabled officer refused" 1 cm update $REF --officer $OFF --text hi
is "disabled message" "$ERR" "casemail: no active officer $OFF"
ok "enable officer" cm officer enable $OFF
ok "thread after" cm thread $REF --json
is "thread unchanged by refusals" "$OUT" "$before"
ok "notices unchanged" cm stats --json
is "still 8 queued" "$(printf '%s' "$OUT" | $J 'd["notices_queued"]')" "8"

# an update to one victim reaches that victim alone (Carol, id 3: email
# and SMS)
ok "update to one victim" cm update $REF --officer $OFF --victim 3 --text "Your bike was found."
like "one victim's notices" "$OUT" "^posted message [0-9]+ on $REF to victim 3, 2 notices queued$"
ok "notices --json" cm notices --json
is "only Carol's" \
	"$(printf '%s' "$OUT" | $J '[(n["recipient"], n["channel"]) for n in d["notices"][8:]]')" \
	'[["carol@example.com","email"],["+447700900999","sms"]]'
ok "thread says to whom" cm thread $REF
like "to victim 3" "$OUT" "officer <$OFF> to victim 3 via cli, placed by the command line"
like "to all" "$OUT" "officer <$OFF> to all victims via cli"
ok "thread --json" cm thread $REF --json
is "victim_id and placement" "$(printf '%s' "$OUT" | $J '[(m["victim_id"], m["placement"]) for m in d["messages"] if m["visibility"] == "victim"]')" \
	'[[null,"cli"],[null,"cli"],[3,"cli"]]'

# a UTF-8 update is kept exactly
ok "UTF-8 update" cm update $REF --officer $OFF --all --text "Caf$(printf '\303\251') — 東京 ✓"
ok "thread" cm thread $REF --json
is "UTF-8 round trip" "$(printf '%s' "$OUT" | $J 'd["messages"][-1]["body"]')" \
	"Caf$(printf '\303\251') — 東京 ✓"

# --- addresses ---
ok "reply address" cm address reply hu-20261128-0042 1
like "reply+KEY@domain" "$OUT" "^reply\+[a-z2-7]+@cases\.example\.org$"
A1=$OUT
ok "reply address again" cm address reply $REF 1
is "stable" "$OUT" "$A1"
ok "reply address of another victim" cm address reply $REF 2
unlike "differs per victim" "$OUT" "^$A1$"
ok "second case" cm case add HU-2 --oic $OFF
exits "victim of another case refused" 1 cm address reply HU-2 1
like "names the victim and case" "$ERR" "no victim 1 on case HU-2"
ok "officer address" cm address officer $REF 1 --officer $OFF
like "officer+KEY@domain" "$OUT" "^officer\+[a-z2-7]+@cases\.example\.org$"
O1=$OUT
ok "officer address of another victim" cm address officer $REF 2 --officer $OFF
unlike "differs per victim" "$OUT" "^$O1$"
exits "officer address for a stranger refused" 1 cm address officer $REF 1 --officer nobody@example.org
ok "bounce address" cm address bounce 1
like "bounce+KEY@domain" "$OUT" "^bounce\+[a-z2-7]+@cases\.example\.org$"
exits "bounce of unknown notice" 1 cm address bounce 999

ok "audit intact" cm audit verify
like "rows counted" "$OUT" "^audit log intact: [0-9]+ rows$"

finish
