#!/bin/sh
# init_config.sh - casemail init, config check/show, secret and database
# errors, usage errors
. "$TOP/tests/lib.sh"
mkconf
CM="$BIN/casemail"

# --- before init ---
exits "no database yet" 1 "$CM" -c "$CONF" officer list
like "says to run init" "$ERR" "^casemail: no database at $W/casemail.db \(run casemail init\)$"

# --- init ---
ok "init" "$CM" -c "$CONF" init
like "init says it created the database" "$OUT" "created database $W/casemail.db"
like "init says it created the secret" "$OUT" "created secret file $W/secret"
ok "spool directory made" test -d "$W/spool"
ok "outbox is a maildir" test -d "$W/outbox/new" -a -d "$W/outbox/cur" -a -d "$W/outbox/tmp"
is "secret file mode 0600" "$(stat -c %a "$W/secret")" "600"
secret_before=$(cat "$W/secret")
ok "init again" "$CM" -c "$CONF" init
like "second init changes nothing" "$OUT" "nothing to do"
unlike "second init creates nothing" "$OUT" "^created"
is "secret unchanged" "$(cat "$W/secret")" "$secret_before"
ok "empty store usable" "$CM" -c "$CONF" officer list --json
is "no officers" "$(printf '%s' "$OUT" | python3 "$TOP/tests/cli/jget.py" 'd["officers"]')" "[]"
ok "init audited" "$CM" -c "$CONF" audit list --json
is "one store.init row" \
	"$(printf '%s' "$OUT" | python3 "$TOP/tests/cli/jget.py" '[r["action"] for r in d["audit"]]')" \
	'["store.init"]'

# --- the secret's mode ---
chmod 644 "$W/secret"
exits "group/other-readable secret refused" 1 "$CM" -c "$CONF" officer list
like "refusal names the mode" "$ERR" "^casemail: .*secret.*0?644"
is "one line on stderr" "$(printf '%s\n' "$ERR" | wc -l)" "1"
chmod 600 "$W/secret"
ok "mode 0600 accepted again" "$CM" -c "$CONF" officer list

# a missing secret beside an existing database is not silently replaced
mv "$W/secret" "$W/secret.keep"
exits "init refuses a new secret for an old database" 1 "$CM" -c "$CONF" init
like "says why" "$ERR" "secret file $W/secret is missing"
ok "no secret was made" test ! -e "$W/secret"
mv "$W/secret.keep" "$W/secret"

# --- config check / show ---
echo "template_dir = $TOP/conf/templates" >>"$CONF"
ok "config check" "$CM" -c "$CONF" config check
is "config check ok line" "$OUT" "casemail: config $CONF ok"
ok "config show" "$CM" -c "$CONF" config show
like "show lists mail_domain" "$OUT" "^mail_domain = cases.example.org$"
like "show lists defaults too" "$OUT" "^token_ttl = "
mkconf "smtp_url = smtp://mailer:hunter2@smtp.example.org:587"
ok "config show with a password" "$CM" -c "$CONF" config show
like "URL password hidden" "$OUT" "^smtp_url = smtp://mailer:\*\*\*\*@smtp.example.org:587$"
unlike "password not printed" "$OUT" "hunter2"
ok "config show --json" "$CM" -c "$CONF" config show --json
is "json has the domain" "$(printf '%s' "$OUT" | python3 "$TOP/tests/cli/jget.py" 'd["config"]["mail_domain"]')" "cases.example.org"
unlike "json hides the password" "$OUT" "hunter2"

exits "missing config" 1 "$CM" -c "$W/nonexistent.conf" config check
like "error names the file" "$ERR" "^casemail: .*$W/nonexistent.conf"
exits "missing config for another command" 1 "$CM" -c "$W/nonexistent.conf" stats
like "error names the file again" "$ERR" "$W/nonexistent.conf"

mkconf "colour = blue"
line=$(grep -n '^colour' "$CONF" | cut -d: -f1)
exits "unknown key" 1 "$CM" -c "$CONF" config check
like "error has FILE:LINE" "$ERR" "^casemail: $CONF:$line: .*colour"
exits "unknown key stops other commands" 1 "$CM" -c "$CONF" officer list
like "with FILE:LINE too" "$ERR" "$CONF:$line:"

# --- database trouble ---
mkconf
echo "this is not an sqlite database, just text, long enough to matter" >"$W/casemail.db"
rm -f "$W/casemail.db-wal" "$W/casemail.db-shm"
fails "corrupt database" "$CM" -c "$CONF" officer list
like "clear error about the database" "$ERR" "^casemail: cannot open database $W/casemail.db: .*not a database"
is "corrupt: one line" "$(printf '%s\n' "$ERR" | wc -l)" "1"

: >"$W/afile"
mkconf
sed -i "s#^database = .*#database = $W/afile/db#" "$CONF"
fails "database under a regular file (init)" "$CM" -c "$CONF" init
like "init names the path" "$ERR" "^casemail: .*$W/afile"
fails "database under a regular file (command)" "$CM" -c "$CONF" stats
like "command names the path" "$ERR" "^casemail: .*$W/afile/db"

# --- usage ---
mkconf
exits "no command" 2 "$CM" -c "$CONF"
exits "unknown command" 2 "$CM" -c "$CONF" frobnicate
like "unknown command named" "$ERR" "^casemail: unknown command \"frobnicate\""
exits "unknown subcommand" 2 "$CM" -c "$CONF" officer fire
like "lists the subcommands" "$ERR" "add, list, disable, enable"
exits "unknown option" 2 "$CM" -c "$CONF" officer list --colour
exits "option without its value" 2 "$CM" -c "$CONF" officer add --email
like "names the option" "$ERR" "option --email needs a value"
exits "missing required option" 2 "$CM" -c "$CONF" officer add --email a@b.example
like "names the option and the usage" "$ERR" "^casemail: option --name is required \(usage: casemail officer add"
exits "unknown global option" 2 "$CM" -x stats
ok "help" "$CM" help
like "help lists commands" "$OUT" "casemail quarantine release ID"

finish
