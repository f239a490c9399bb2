#!/bin/sh
# install-inner.sh - T400's body, inside its namespaces (see T400)
#
# Mounts the overlays, extracts the marked blocks of README.md and
# docs/postfix.md and runs each with sh -e from the source tree, then
# checks what they left. The harness adds only what a real machine
# already has: the system's Postfix running (with a log file, as there
# is no syslog here), a certificate for the portal's name, nginx
# running; and one thing to look inside a notice: a HOLD on the
# victim's address, so that the notice waits in Postfix's queue to be
# read instead of leaving; and, since this machine's Postfix is "local
# only", transports that send mail out as a force's would.
if [ -z "${TOP:-}" ]; then
	echo "1..0 # SKIP install-inner.sh is run by T400-install.sh"
	exit 0
fi
. "$TOP/tests/lib.sh"
PATH="/usr/local/bin:$PATH:/usr/sbin:/sbin"
export PATH
case "$BUILD" in *-san) SANITIZE=1; export SANITIZE ;; esac
# the installed programs under ASan: reports into $W/sanitizer as well
export BUILD

OV="$W/overlay"
for d in etc var usr-local; do
	mkdir -p "$OV/$d/u" "$OV/$d/w"
done
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$OV/etc/u,workdir=$OV/etc/w" /etc &&
mount -t overlay overlay -o "lowerdir=/var,upperdir=$OV/var/u,workdir=$OV/var/w" /var &&
mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$OV/usr-local/u,workdir=$OV/usr-local/w" /usr/local &&
mount -t tmpfs tmpfs /run &&
ip link set lo up || { echo "Bail out! cannot set up the namespaces"; exit 1; }
# the work directory is reached by casemail (the programs stay in /usr/local)
d=$W
while [ "$d" != / ]; do
	chmod o+x "$d" 2>/dev/null
	d=$(dirname "$d")
done

# extract DOC: every marked block into $W/steps/NAME.sh
mkdir -p "$W/steps"
for doc in README.md docs/postfix.md; do
	awk -v dir="$W/steps" '
		/^<!-- install-test: [a-z-]+ -->$/ { name = $3; want = 1; next }
		want == 1 && /^```/ { want = 2; f = dir "/" name ".sh"; next }
		want == 2 && /^```/ { want = 0; close(f); next }
		want == 2 { print > f }
	' "$TOP/$doc"
done
step() { # NAME - run the documented block NAME as written
	if [ ! -s "$W/steps/$1.sh" ]; then
		t_report 1 "the documents have a block '$1'"
		return 1
	fi
	(cd "$TOP" && sh -e "$W/steps/$1.sh") >"$W/steps/$1.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/steps/$1.log" | tail -20
	t_report "$rc" "documented step '$1' runs"
}

step build
step install
ok "the programs are in /usr/local/bin" test -x /usr/local/bin/casemail-mda
is "/etc/casemail is root:casemail 0750" \
	"$(stat -c '%U:%G %a' /etc/casemail)" "root:casemail 750"
is "casemail.conf is root:casemail 0640" \
	"$(stat -c '%U:%G %a' /etc/casemail/casemail.conf)" "root:casemail 640"
step config
step init
is "the secret is casemail's, 0600" \
	"$(stat -c '%U %a' /etc/casemail/secret)" "casemail 600"
is "the database is casemail's, 0600" \
	"$(stat -c '%U %a' /var/lib/casemail/casemail.db)" "casemail 600"
ok "init again changes nothing" casemail init
like "says so" "$OUT" "nothing to do"
step officer
step check

# the machine's Postfix, running (its log in a file: no syslog here)
# (a force's Postfix sends mail out: this test machine's "local only"
# one would refuse the victim's domain at once)
postconf -e "maillog_file = /var/log/mail.log" "default_transport = smtp" \
	"relay_transport = smtp" \
	"smtpd_recipient_restrictions = check_recipient_access inline:{victim@example.net=HOLD}"
ok "the system's Postfix starts (in the namespace)" postfix start
step postfix-main
step postfix-master
is "the transport map answers" \
	"$(postmap -q cases.example.org hash:/etc/postfix/transport)" "casemail:"

step services
i=0
while ! curl -s -o /dev/null --max-time 2 http://127.0.0.1:8080/ &&
	[ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
ok "the portal answers on portal_listen" \
	curl -s -o /dev/null --max-time 5 http://127.0.0.1:8080/

step try
i=0
while [ $i -lt 60 ]; do
	grep -q 'relay=casemail.*status=sent' /var/log/mail.log 2>/dev/null &&
		break
	sleep 0.5
	i=$((i + 1))
done
ok "the reply went through Postfix into casemail-mda" \
	grep -q 'relay=casemail.*status=sent' /var/log/mail.log
ok "the thread" casemail thread HU-20261128-0042 --json
like "holds the victim's reply" "$OUT" "Thank you"
ok "the notice went out" casemail notices --json
like "sent into Postfix" "$OUT" '"status": *"sent"'
like "Postfix took it from the VERP sender" "$(cat /var/log/mail.log)" \
	"from=<bounce\+[a-z0-9]+@cases.example.org>"

# the notice held in the queue: its login link
QID=$(postqueue -j 2>/dev/null | grep victim@example.net |
	sed 's/.*"queue_id": *"\([^"]*\)".*/\1/' | head -1)
LINK=$(postcat -bq "$QID" 2>/dev/null |
	grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' | head -1)
like "the notice carries a login link on portal_url" "$LINK" \
	"^https://portal.example.org/l/"

# the portal behind nginx: a certificate for its name, nginx running
mkdir -p /etc/ssl/private
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=portal.example.org" \
	-addext "subjectAltName=DNS:portal.example.org" \
	-keyout /etc/ssl/private/portal.example.org.key \
	-out /etc/ssl/certs/portal.example.org.pem >/dev/null 2>&1
ok "nginx starts" nginx
step nginx
C="--resolve portal.example.org:443:127.0.0.1 --cacert /etc/ssl/certs/portal.example.org.pem --max-time 10"
JAR="$W/jar"
# shellcheck disable=SC2086
BODY=$(curl -s $C -c "$JAR" -b "$JAR" "$LINK")
CSRF=$(printf '%s\n' "$BODY" | grep -oE 'name="csrf" value="[^"]+"' |
	head -1 | sed 's/.*value="//; s/"$//')
like "through the proxy, the link's page has its sign-in button" "$CSRF" "."
# shellcheck disable=SC2086
CODE=$(curl -s $C -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" \
	-H "Origin: https://portal.example.org" -d "csrf=$CSRF" "$LINK")
is "signing in through the proxy works (303)" "$CODE" 303
# shellcheck disable=SC2086
CODE=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	-H "Origin: http://127.0.0.1:8080" -d "csrf=x" \
	"http://127.0.0.1:8080${LINK#https://portal.example.org}")
is "a form from another origin (the portal opened directly) is refused" \
	"$CODE" 403
sleep 2
ok "the refusal is audited with its reason" casemail audit list
like "reason=origin" "$OUT" "web.refused.*reason=origin"
ok "config check still passes with everything running" casemail config check

postfix stop >/dev/null 2>&1
nginx -s stop >/dev/null 2>&1
finish
