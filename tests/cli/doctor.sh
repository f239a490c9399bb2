#!/bin/sh
# doctor.sh - casemail doctor against a correct and a broken wiring
#
# The Postfix side is a private configuration directory under $W (a
# main.cf, a master.cf and a transport map built with postmap -c), read
# by doctor through --postfix-dir, as tests/e2e/postfix-lib.sh's
# instance is; no Postfix runs. The correct wiring gives no FAIL line;
# the broken one (no recipient_delimiter, the pipe's user= wrong, the
# database 0644) names each fault with its fix and exits 1. Then the
# LMTP wiring (a socket present, then gone), a broken audit chain, and
# smtp_url against Postfix's smtp-sink on loopback and a closed port.
. "$TOP/tests/lib.sh"
CM="$BIN/casemail"
PATH="$PATH:/usr/sbin:/sbin"

if ! command -v postconf >/dev/null 2>&1 ||
	! command -v postmap >/dev/null 2>&1; then
	echo "1..0 # SKIP postconf/postmap not installed (postfix)"
	exit 0
fi

mkconf "template_dir = $TOP/conf/templates" "run_user = root" \
	"trusted_authserv_ids = mx.example.org" "portal_trust_proxy = yes"
chmod 0640 "$CONF"
ok "init" "$CM" -c "$CONF" init

# pfconf DIR DELIM USER - a private Postfix configuration directory
pfconf() {
	mkdir -p "$1"
	{
		echo "compatibility_level = 3.6"
		echo "config_directory = $1"
		[ -n "$2" ] && echo "recipient_delimiter = $2"
		echo "relay_domains = cases.example.org"
		echo "transport_maps = hash:\$config_directory/transport"
		echo "casemail_destination_recipient_limit = 1"
		echo "casemail_destination_concurrency_limit = 10"
	} >"$1/main.cf"
	{
		echo "casemail  unix  -       n       n       -       10      pipe"
		echo "  -o soft_bounce=yes"
		echo "  flags=Rq user=$3 null_sender=MAILER-DAEMON"
		echo "  argv=$BIN/casemail-mda -c $CONF"
		echo "    --sender \${sender} --recipient \${recipient} --queue-id \${queue_id}"
	} >"$1/master.cf"
	printf 'cases.example.org\tcasemail:\n' >"$1/transport"
	postmap -c "$1" "hash:$1/transport"
}

GOOD="$W/pf-good"
pfconf "$GOOD" + root
ok "a correct wiring: no failure" "$CM" -c "$CONF" doctor --postfix-dir "$GOOD"
unlike "no FAIL line" "$OUT" "^FAIL"
unlike "no WARN line" "$OUT" "^WARN"
like "the delimiter" "$OUT" "^OK +postfix +recipient_delimiter = \+$"
like "the transport map entry" "$OUT" \
	"^OK +postfix +hash:$GOOD/transport sends cases.example.org to casemail:"
like "the pipe: program, user, limits" "$OUT" \
	"^OK +postfix +pipe service casemail runs $BIN/casemail-mda as root, recipient limit 1, concurrency 10, maxproc 10"
like "quick_check" "$OUT" "^OK +database +$W/casemail.db \(schema [0-9]+\) passes quick_check"
like "the audit chain" "$OUT" "^OK +audit +the audit log's hash chain is intact \([0-9]+ rows\)"
like "the outbox" "$OUT" "^OK +mail-out +no smtp_url: notices go into the outbox maildir $W/outbox"
like "the closing count" "$OUT" "^casemail doctor: [0-9]+ ok, 0 warnings, 0 failures$"

BAD="$W/pf-bad"
pfconf "$BAD" "" nobody
chmod 0644 "$W/casemail.db"
exits "a broken wiring: exit 1" 1 "$CM" -c "$CONF" doctor --postfix-dir "$BAD"
like "no recipient_delimiter, and the postconf that fixes it" "$OUT" \
	"^FAIL +postfix +recipient_delimiter is not set: postconf -e 'recipient_delimiter = \+'"
like "the wrong user, and the user to set" "$OUT" \
	"^FAIL +postfix +pipe service casemail runs as user=nobody, but casemail runs as root \(run_user\): set user=root in master.cf"
like "the database 0644, and the chmod" "$OUT" \
	"^FAIL +database +database $W/casemail.db is mode 0644, readable by others: chmod 0600 $W/casemail.db"
like "three failures counted" "$OUT" "casemail doctor: [0-9]+ ok, [0-9]+ warnings?, 3 failures$"
chmod 0600 "$W/casemail.db"

# other faults of the Postfix side
sed -i 's/recipient_delimiter = +/recipient_delimiter = -/; s/_recipient_limit = 1/_recipient_limit = 5/' "$GOOD/main.cf"
sed -i '/soft_bounce/d; s/ --queue-id \${queue_id}//' "$GOOD/master.cf"
exits "a delimiter without +, a recipient limit of 5" 1 \
	"$CM" -c "$CONF" doctor --postfix-dir "$GOOD"
like "the delimiter to add +" "$OUT" \
	"^FAIL +postfix +recipient_delimiter is \"-\", without \+: postconf -e 'recipient_delimiter = -\+'"
like "the recipient limit" "$OUT" \
	"^FAIL +postfix +casemail_destination_recipient_limit is 5: postconf -e 'casemail_destination_recipient_limit = 1'"
like "soft_bounce missing: a warning" "$OUT" "^WARN +postfix +pipe service casemail has no -o soft_bounce=yes"
like "no queue id: a warning" "$OUT" "^WARN +postfix +pipe service casemail passes no \\$\\{queue_id\\}"
printf 'other.example.org\tcasemail:\n' >"$GOOD/transport"
postmap -c "$GOOD" "hash:$GOOD/transport"
exits "no transport for mail_domain" 1 "$CM" -c "$CONF" doctor --postfix-dir "$GOOD"
like "says which map to fix" "$OUT" \
	"^FAIL +postfix +no transport for cases.example.org in transport_maps \(hash:$GOOD/transport\)"

# the LMTP wiring: casemail-lmtpd's socket
LM="$W/pf-lmtp"
pfconf "$LM" + root
cat >"$LM/master.cf" <<EOF
casemail-lmtp unix -    -       n       -       -       lmtp
  -o lmtp_send_xforward_command=yes
  -o soft_bounce=yes
EOF
printf 'cases.example.org\tcasemail-lmtp:unix:%s\n' "$W/lmtp.sock" >"$LM/transport"
postmap -c "$LM" "hash:$LM/transport"
exits "lmtp: no daemon's socket" 1 "$CM" -c "$CONF" doctor --postfix-dir "$LM"
like "says to start casemail-lmtpd" "$OUT" \
	"^FAIL +postfix +no casemail-lmtpd socket at $W/lmtp.sock: start casemail-lmtpd"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$W/lmtp.sock"
ok "lmtp: the socket there" "$CM" -c "$CONF" doctor --postfix-dir "$LM"
like "the lmtp service and its socket" "$OUT" \
	"^OK +postfix +lmtp service casemail-lmtp to $W/lmtp.sock \(socket of root\)"

# --no-postfix, and a broken audit chain
ok "--no-postfix skips Postfix" "$CM" -c "$CONF" doctor --no-postfix
like "and says so" "$OUT" "^OK +postfix +not checked \(--no-postfix\)"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$W/casemail.db" "DROP TRIGGER audit_no_update;
		UPDATE audit SET detail = 'forged' WHERE id = 1;"
	exits "an altered audit row: exit 1" 1 "$CM" -c "$CONF" doctor --no-postfix
	like "names the row" "$OUT" "^FAIL +audit +the audit log is broken at row 1"
fi

# smtp_url: a relay that answers EHLO, then none
if command -v smtp-sink >/dev/null 2>&1; then
	rm -f "$W/casemail.db" "$W/casemail.db-wal" "$W/casemail.db-shm"
	rm -f "$W/secret"
	"$CM" -c "$CONF" init >/dev/null
	PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
	smtp-sink -u nobody -h sink.test 127.0.0.1:$PORT 10 &
	SINK=$!
	i=0
	while ! python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		"$PORT" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "smtp_url = smtp://127.0.0.1:$PORT" >>"$CONF"
	ok "smtp_url: the relay answers" "$CM" -c "$CONF" doctor --no-postfix
	like "EHLO, with the greeting" "$OUT" \
		"^OK +mail-out +smtp_url smtp://127.0.0.1:$PORT answers EHLO \(220 sink.test"
	kill "$SINK" 2>/dev/null
	wait "$SINK" 2>/dev/null
	exits "smtp_url: nothing listens" 1 \
		"$CM" -c "$CONF" doctor --no-postfix --timeout 2
	like "names the URL and the fix" "$OUT" \
		"^FAIL +mail-out +smtp_url smtp://127.0.0.1:$PORT does not answer EHLO within 2 s: .*check that the relay runs"
fi
exits "a bad --timeout is a usage error" 2 "$CM" -c "$CONF" doctor --timeout 0
finish
