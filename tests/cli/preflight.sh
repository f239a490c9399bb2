#!/bin/sh
# preflight.sh - casemail config check, casemail-mda -n, casemail-send -n
# and casemail-web -n report what would stop the program at run time,
# one line per problem with its fix: a missing or group-readable secret,
# a missing database or spool, a database directory the user cannot
# write, missing templates, a password file others may read, portal_url
# that cannot reach portal_listen. As root (and a casemail user on the
# machine): init gives the directories and the secret to run_user and
# makes the database as that user; root's checks and store commands run
# as run_user; init run by casemail where it may not write says to run
# it as root.
. "$TOP/tests/lib.sh"
CM="$BIN/casemail"
TPL="template_dir = $TOP/conf/templates"

mkconf "$TPL"
exits "before init: config check fails" 1 "$CM" -c "$CONF" config check
like "the secret is missing, and init makes it" "$ERR" \
	"^casemail: secret file $W/secret is missing: run casemail init$"
like "so is the database" "$ERR" \
	"^casemail: database $W/casemail.db is missing: run casemail init$"
like "and the spool" "$ERR" \
	"^casemail: spool directory $W/spool is missing: run casemail init$"
like "a closing count" "$ERR" "^casemail: config $CONF: [0-9]+ problems above$"
exits "casemail-mda -n: 75 (every delivery would be deferred)" 75 \
	"$BIN/casemail-mda" -c "$CONF" -n
like "mda names the database" "$ERR" "casemail-mda: database $W/casemail.db is missing"
ok "init" "$CM" -c "$CONF" init
ok "then config check passes" "$CM" -c "$CONF" config check
ok "casemail-mda -n" "$BIN/casemail-mda" -c "$CONF" -n
ok "casemail-send -n" "$BIN/casemail-send" -c "$CONF" -n
ok "casemail-web -n" "$BIN/casemail-web" -c "$CONF" -n

chmod 0640 "$W/secret"
exits "a group-readable secret: mda -n" 75 "$BIN/casemail-mda" -c "$CONF" -n
like "says the mode and the chmod" "$ERR" \
	"secret file $W/secret is mode 0640, readable by others: chmod 0600 $W/secret"
fails "config check too" "$CM" -c "$CONF" config check
fails "casemail-web -n too" "$BIN/casemail-web" -c "$CONF" -n
chmod 0600 "$W/secret"

chmod 0644 "$W/casemail.db"
exits "a world-readable database" 75 "$BIN/casemail-mda" -c "$CONF" -n
like "chmod 0600 the database" "$ERR" "database $W/casemail.db is mode 0644.*chmod 0600 $W/casemail.db"
chmod 0600 "$W/casemail.db"

mkconf "template_dir = $W/no-templates"
exits "no templates: config check" 1 "$CM" -c "$CONF" config check
like "names them" "$ERR" "templates: .*$W/no-templates.*make install\) or set template_dir"
fails "no templates: casemail-send -n" "$BIN/casemail-send" -c "$CONF" -n
ok "the mda does not need them" "$BIN/casemail-mda" -c "$CONF" -n

echo hunter2 >"$W/smtp.pw"
chmod 0644 "$W/smtp.pw"
mkconf "$TPL" "smtp_url = smtp://127.0.0.1:25" "smtp_user = u" \
	"smtp_password_file = $W/smtp.pw"
exits "a readable password file: send -n" 1 "$BIN/casemail-send" -c "$CONF" -n
like "chmod it" "$ERR" "smtp_password_file $W/smtp.pw is mode 0644.*chmod 0600"

# portal_url against portal_listen
mkconf "$TPL"
sed -i "s|^portal_url = .*|portal_url = https://localhost:8080|" "$CONF"
exits "https to the portal's own plain port" 1 "$BIN/casemail-web" -c "$CONF" -n
like "says it speaks plain http" "$ERR" \
	"portal_url https://localhost:8080 leads to portal_listen 127.0.0.1:8080, which speaks plain http"
mkconf "$TPL"
sed -i "s|^portal_url = .*|portal_url = http://127.0.0.1:8081|" "$CONF"
exits "another port" 1 "$BIN/casemail-web" -c "$CONF" -n
like "does not reach" "$ERR" "portal_url http://127.0.0.1:8081 does not reach portal_listen 127.0.0.1:8080"
exits "config check says so too" 1 "$CM" -c "$CONF" config check
mkconf "$TPL"
sed -i "s|^portal_url = .*|portal_url = http://localhost:8080|" "$CONF"
ok "http on the same port: a trial" "$BIN/casemail-web" -c "$CONF" -n
mkconf "$TPL"
sed -i "s|^portal_url = .*|portal_url = https://127.0.0.1:8443|" "$CONF"
ok "https on another local port: a local TLS proxy" "$BIN/casemail-web" -c "$CONF" -n
mkconf "$TPL"
sed -i "s|^portal_url = .*|portal_url = https://portal.example.org|" "$CONF"
ok "a name of the proxy's" "$BIN/casemail-web" -c "$CONF" -n

if [ "$(id -u)" != 0 ] || ! getent passwd casemail >/dev/null; then
	finish
fi

# --- as root, without mda_allow_root: the run_user gets the files ---
R="$W/root"
mkdir -p "$R/etc"
chmod 0755 "$W" "$R"
d=$(dirname "$W")
while [ "$d" != "$TOP" ] && [ "$d" != / ]; do
	chmod o+x "$d" 2>/dev/null
	d=$(dirname "$d")
done
C2="$R/etc/casemail.conf"
cat >"$C2" <<EOC
database = $R/lib/casemail.db
spool_dir = $R/spool
secret_file = $R/etc/secret
outbox_dir = $R/lib/outbox
mail_domain = cases.example.org
portal_url = https://portal.example.org
$TPL
EOC
chgrp casemail "$R/etc" "$C2"
chmod 0750 "$R/etc"
chmod 0640 "$C2"
exits "init as casemail cannot make the secret in root's directory" 1 \
	runuser -u casemail -- "$CM" -c "$C2" init
like "and says to run it as root" "$ERR" "run casemail init as root: it gives what it makes to run_user"
ok "init as root" "$CM" -c "$C2" init
is "the secret is casemail's, 0600" "$(stat -c '%U %a' "$R/etc/secret")" "casemail 600"
is "the database is casemail's, 0600" "$(stat -c '%U %a' "$R/lib/casemail.db")" "casemail 600"
is "its directory is casemail's" "$(stat -c '%U' "$R/lib")" casemail
is "the spool is casemail's" "$(stat -c '%U %a' "$R/spool")" "casemail 700"
is "the outbox is casemail's" "$(stat -c '%U' "$R/lib/outbox" "$R/lib/outbox/new")" \
	"$(printf 'casemail\ncasemail')"
ok "config check as root (seen as casemail)" "$CM" -c "$C2" config check
ok "mda -n as root" "$BIN/casemail-mda" -c "$C2" -n
ok "mda -n as casemail" runuser -u casemail -- "$BIN/casemail-mda" -c "$C2" -n
ok "officer add as root" "$CM" -c "$C2" officer add --email a@police.example.org --name A
unlike "leaves nothing of root's beside the database" \
	"$(find "$R/lib" -user root)" "."
ok "the audit row names root" "$CM" -c "$C2" audit list
like "cli:root" "$OUT" "cli:root +officer.add"
ok "init again: nothing to do" "$CM" -c "$C2" init
like "says so" "$OUT" "nothing to do"
chown root "$R/lib/casemail.db"
exits "a database root owns" 75 "$BIN/casemail-mda" -c "$C2" -n
like "chown it" "$ERR" "database $R/lib/casemail.db belongs to root, not to casemail who runs casemail: chown casemail: $R/lib/casemail.db"
chown casemail "$R/lib/casemail.db"
touch "$R/lib/casemail.db-wal"
chown root "$R/lib/casemail.db-wal"
exits "a -wal root owns" 75 "$BIN/casemail-mda" -c "$C2" -n
like "chown it, programs stopped" "$ERR" "casemail.db-wal belongs to root, not to casemail: stop every casemail program, then chown casemail: "
chown casemail "$R/lib/casemail.db-wal"
chown root "$R/spool"
exits "a spool casemail cannot write" 75 "$BIN/casemail-mda" -c "$C2" -n
like "chown the spool" "$ERR" "spool directory $R/spool is not writable by casemail: chown casemail: $R/spool"
chown casemail "$R/spool"
echo "run_user = nobody-here-casemail" >>"$C2"
exits "a run_user that does not exist" 1 "$CM" -c "$C2" config check
like "says to create it" "$ERR" "no user nobody-here-casemail \(run_user\): create it first"
finish
