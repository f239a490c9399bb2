#!/bin/sh
# deb-inner.sh - T620's body, inside its namespaces (see T620-deb.sh)
#
# Builds the package (make deb into $BUILD/deb), lints it, mounts the
# overlays, then installs, reinstalls, uses, removes and purges it,
# checking after each step what dpkg and the maintainer scripts left.
# "Uses": a notice into the outbox, a delivery straight into the
# installed casemail-mda, then (when the machine has Postfix and swaks)
# the system's Postfix, started in these namespaces as T400 does, wired
# to the installed programs by the marked blocks of docs/postfix.md
# ("install-test: postfix-main") and docs/packaging.md ("deb-test:
# postfix-pipe", "deb-test: postfix-lmtp") run as written: a victim's
# reply over SMTP on 127.0.0.1 through the pipe to /usr/bin/casemail-mda
# (user=casemail), another through lmtp(8) to /usr/bin/casemail-lmtpd
# started from the installed unit's command lines, casemail doctor on
# each wiring. After the purge, the overlays' upper directories (all
# that changed in /etc, /usr and /var) hold nothing of casemail's but
# the user and group, and the Postfix files the postmaster wrote.
if [ -z "${TOP:-}" ]; then
	echo "1..0 # SKIP deb-inner.sh is run by T620-deb.sh"
	exit 0
fi
if [ "$$" != 1 ]; then
	# not the first process of a pid namespace of T620's: the mounts
	# below would land on the machine itself
	echo "1..0 # SKIP deb-inner.sh runs only inside T620's namespaces"
	exit 0
fi
. "$TOP/tests/lib.sh"
# pf_wait_queue_empty, pf_send, pf_stop, e2e_track and the EXIT trap
# that stops Postfix and the daemon, pointed below at the system's
# Postfix of these namespaces instead of a private instance
. "$TOP/tests/e2e/postfix-lib.sh"
PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH"
export PATH
# the package is built without sanitizers whatever BUILD is (SANITIZE
# would reach the package's make through the environment)
unset ASAN_OPTIONS UBSAN_OPTIONS SANITIZE

had_bin=0
[ -e /usr/bin/casemail ] && had_bin=1

(cd "$TOP" && make --no-print-directory BUILD="$BUILD" deb) \
	>"$W/build.log" 2>&1
rc=$?
[ "$rc" = 0 ] || tail -20 "$W/build.log" | sed 's/^/# /'
t_report "$rc" "make deb builds the package"
DEB=$(ls "$TOP/$BUILD"/deb/casemail_*.deb 2>/dev/null | head -1)
ok "the .deb is in $BUILD/deb" test -f "$DEB"
lintian "$TOP/$BUILD"/deb/casemail_*.changes >"$W/lintian.log" 2>&1
sed 's/^/# lintian: /' "$W/lintian.log"
unlike "lintian: no error" "$(cat "$W/lintian.log")" "^E: "
is "lintian: only the warnings docs/packaging.md explains" \
	"$(grep '^W: ' "$W/lintian.log" | sed 's/ \[.*//' | sort |
		tr '\n' ';')" \
	"W: casemail: non-standard-dir-perm 0750 != 0755;W: casemail: non-standard-file-perm 0640 != 0644;"

OV="$W/overlay"
for d in etc usr var; do
	mkdir -p "$OV/$d/u" "$OV/$d/w"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$OV/$d/u,workdir=$OV/$d/w" "/$d" ||
		{ echo "Bail out! cannot mount the overlay on /$d"; exit 1; }
done
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /tmp ||
	{ echo "Bail out! cannot mount /run and /tmp"; exit 1; }
ip link set lo up 2>/dev/null

# a machine that never had casemail: a user left on this one by other
# tests (cm_user_setup) is removed from the overlay's /etc, so that
# postinst makes its own (the machine's /etc is untouched)
if getent passwd casemail >/dev/null; then
	userdel casemail 2>/dev/null
fi
if getent group casemail >/dev/null; then
	groupdel casemail 2>/dev/null
fi
ok "no casemail user before the install" sh -c '! getent passwd casemail'

ok "dpkg -i installs it" dpkg -i "$DEB"
ok "the programs are in /usr/bin" test -x /usr/bin/casemail-mda
ok "the casemail user exists" getent passwd casemail
is "/var/lib/casemail is casemail's, 0750" \
	"$(stat -c '%U:%G %a' /var/lib/casemail)" "casemail:casemail 750"
is "/var/spool/casemail is casemail's, 0750" \
	"$(stat -c '%U:%G %a' /var/spool/casemail)" "casemail:casemail 750"
is "/etc/casemail is root:casemail 0750" \
	"$(stat -c '%U:%G %a' /etc/casemail)" "root:casemail 750"
is "casemail.conf is root:casemail 0640" \
	"$(stat -c '%U:%G %a' /etc/casemail/casemail.conf)" "root:casemail 640"
like "casemail.conf is a conffile" \
	"$(dpkg-query -W -f='${Conffiles}' casemail)" "/etc/casemail/casemail.conf"
is "the secret was made on first configuration: casemail 0600" \
	"$(stat -c '%U %a' /etc/casemail/secret)" "casemail 600"
is "so was the database" \
	"$(stat -c '%U %a' /var/lib/casemail/casemail.db)" "casemail 600"
ok "the units are in /lib/systemd/system" \
	test -f /lib/systemd/system/casemail-send.service
ok "casemail-imap@ too" test -f "/lib/systemd/system/casemail-imap@.service"
ok "man pages" test -f /usr/share/man/man1/casemail.1.gz
SUM=$(sha256sum /etc/casemail/secret)
# the postmaster's configuration (README, "Installing")
cat >/etc/casemail/casemail.conf <<'END'
mail_domain = cases.example.org
force_name = Example Police
portal_url = https://portal.example.org
portal_trust_proxy = yes
trusted_authserv_ids = mx.example.org
# a local edit
END
ok "dpkg -i again (postinst runs again)" dpkg -i "$DEB"
is "the secret is the same" "$(sha256sum /etc/casemail/secret)" "$SUM"
like "the edited casemail.conf is kept" "$(tail -1 /etc/casemail/casemail.conf)" \
	"# a local edit"
is "its owner and mode too" \
	"$(stat -c '%U:%G %a' /etc/casemail/casemail.conf)" "root:casemail 640"
ok "dpkg --configure of a configured package is quiet" \
	dpkg --configure --pending

# a notice and a delivery with the installed programs
REF=HU-20261128-0042
ok "officer add" casemail officer add --email pc.jones@force.police.uk \
	--name "PC Jones"
ok "case add" casemail case add "$REF" --oic pc.jones@force.police.uk
ok "victim add" casemail victim add "$REF" --name "Jane Doe" \
	--email victim@example.net
ok "update" casemail update "$REF" --officer pc.jones@force.police.uk \
	--all --text "We have found your bicycle."
ok "casemail-send --once, as casemail" runuser -u casemail -- \
	casemail-send --once
F=$(ls /var/lib/casemail/outbox/new/* 2>/dev/null | head -1)
ok "the notice is in the outbox" test -n "$F"
like "with a login link" "$(cat "$F" 2>/dev/null)" "/l/[A-Za-z0-9_-]+"
RADDR=$(casemail address reply "$REF" 1)
printf 'From: victim@example.net\nTo: %s\nSubject: Re: news\n\nThank you!\n' \
	"$RADDR" >"$W/reply.eml"
chmod 0644 "$W/reply.eml"
ok "a delivery through casemail-mda, as casemail" runuser -u casemail -- \
	casemail-mda --sender victim@example.net --recipient "$RADDR" \
	--queue-id T620Q1 <"$W/reply.eml"
ok "the thread" casemail thread "$REF"
like "holds the reply" "$OUT" "Thank you!"
ok "casemail doctor --no-postfix" casemail doctor --no-postfix
unlike "no FAIL line" "$OUT" "^FAIL"
unlike "no WARN line" "$OUT" "^WARN"

# ---- the system's Postfix wired to the installed programs ----
# extract the marked blocks (MARKER: NAME) of DOC into $W/steps/NAME.sh
mkdir -p "$W/steps"
extract() { # MARKER DOC
	awk -v dir="$W/steps" -v m="<!-- $1: " '
		index($0, m) == 1 && /-->$/ { name = $3; want = 1; next }
		want == 1 && /^```/ { want = 2; f = dir "/" name ".sh"; next }
		want == 2 && /^```/ { want = 0; close(f); next }
		want == 2 { print > f }
	' "$TOP/$2"
}
extract install-test docs/postfix.md
extract deb-test docs/packaging.md
step() { # NAME - run the documented block NAME as written, from $TOP
	if [ ! -s "$W/steps/$1.sh" ]; then
		t_report 1 "the documents have a block '$1'"
		return 1
	fi
	(cd "$TOP" && sh -e "$W/steps/$1.sh") >"$W/steps/$1.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/steps/$1.log" | tail -20
	t_report "$rc" "documented step '$1' runs"
}
# reply FILE TEXT MSGID - a victim's reply to RADDR
reply() {
	printf 'From: victim@example.net\nTo: %s\nSubject: Re: news\nMessage-ID: <%s>\nDate: %s\n\n%s\n' \
		"$RADDR" "$3" "$(LC_ALL=C date -R)" "$2" >"$1"
}
# maillog_wait PATTERN - true once the maillog has a line matching
# PATTERN (grep -E; 20 s at most)
maillog_wait() {
	i=0
	while [ $i -lt 100 ]; do
		grep -qE -- "$1" "$PF_LOG" 2>/dev/null && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

if command -v postfix >/dev/null 2>&1 && command -v swaks >/dev/null 2>&1
then
	PF_ETC=/etc/postfix
	PF_QUEUE=$(postconf -h queue_directory)
	PF_LOG=/var/log/mail.log
	PF_PORT=25
	mkdir -p "$PF_DIR"
	# as T400: a log file (no syslog here), the system's Postfix
	# started in these namespaces, on their loopback alone
	postconf -e "maillog_file = $PF_LOG"
	ok "the system's Postfix starts (in the namespace)" postfix start
	PF_STARTED=1
	step postfix-main
	step postfix-pipe
	is "master.cf: the pipe to the installed casemail-mda, as casemail" \
		"$(postconf -h -F casemail/unix/command)" \
		'pipe -o soft_bounce=yes flags=Rq user=casemail null_sender=MAILER-DAEMON argv=/usr/bin/casemail-mda -c /etc/casemail/casemail.conf --sender ${sender} --recipient ${recipient} --queue-id ${queue_id}'
	ok "casemail doctor reads that wiring" casemail doctor
	like "the pipe service is OK" "$OUT" \
		"^OK +postfix +pipe service casemail runs /usr/bin/casemail-mda as casemail"
	unlike "no FAIL line" "$OUT" "^FAIL"
	unlike "no WARN line" "$OUT" "^WARN"

	reply "$W/reply-pipe.eml" "Thank you, through Postfix." \
		"pipe-1@example.net"
	ok "a reply over SMTP to 127.0.0.1:25" \
		pf_send victim@example.net "$RADDR" "$W/reply-pipe.eml"
	maillog_wait "relay=casemail,.*status=sent"
	ok "Postfix delivered it into casemail-mda: status=sent" \
		grep -E "relay=casemail,.*status=sent" "$PF_LOG"
	ok "the queue is empty" pf_wait_queue_empty 20
	ok "the thread" casemail thread "$REF" --json
	like "holds the reply that came through the pipe" "$OUT" \
		"Thank you, through Postfix."

	# casemail-lmtpd as its installed unit runs it (no systemd here):
	# ExecStartPre, then ExecStart in the background, logging to stderr
	U=/lib/systemd/system/casemail-lmtpd.service
	if [ -x /usr/bin/casemail-lmtpd ] && [ -f "$U" ]; then
		pre=$(sed -n 's/^ExecStartPre=//p' "$U")
		start=$(sed -n 's/^ExecStart=//p' "$U")
		# shellcheck disable=SC2086
		ok "the unit's ExecStartPre passes ($pre)" $pre
		# shellcheck disable=SC2086
		setsid $start -f >"$W/lmtpd.log" 2>&1 &
		LPID=$!
		e2e_track "$LPID"
		SOCK="$PF_QUEUE/private/casemail-lmtp"
		i=0
		while [ ! -S "$SOCK" ] && kill -0 "$LPID" 2>/dev/null &&
		    [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		ok "casemail-lmtpd makes its socket in Postfix's private/" \
			test -S "$SOCK"
		is "the daemon dropped to casemail" \
			"$(ps -o user= -p "$LPID" | tr -d ' ')" casemail
		step postfix-lmtp
		# after postfix reload: a service named like the socket
		# would have had master replace it with its own
		is "the socket is still the daemon's: casemail:postfix 0660" \
			"$(stat -c '%U:%G %a' "$SOCK")" "casemail:postfix 660"
		ok "casemail doctor reads the lmtp wiring" casemail doctor
		like "the lmtp service is OK" "$OUT" \
			"^OK +postfix +lmtp service cmlmtp to /var/spool/postfix/private/casemail-lmtp \\(socket of casemail\\)"
		unlike "no FAIL line" "$OUT" "^FAIL"
		unlike "no WARN line" "$OUT" "^WARN"
		reply "$W/reply-lmtp.eml" "Thank you, through LMTP." \
			"lmtp-1@example.net"
		ok "a reply over SMTP to 127.0.0.1:25" \
			pf_send victim@example.net "$RADDR" "$W/reply-lmtp.eml"
		maillog_wait "relay=[^ ]*casemail-lmtp.*status=sent"
		ok "Postfix delivered it into casemail-lmtpd: status=sent" \
			grep -E "relay=[^ ]*casemail-lmtp.*status=sent" "$PF_LOG"
		ok "the queue is empty" pf_wait_queue_empty 20
		ok "the thread" casemail thread "$REF" --json
		like "holds the reply that came through LMTP" "$OUT" \
			"Thank you, through LMTP."
		kill -TERM "$LPID" 2>/dev/null
		i=0
		while kill -0 "$LPID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		wait "$LPID" 2>/dev/null
		is "SIGTERM stops casemail-lmtpd with status 0" "$?" 0
	else
		echo "ok $((T_N + 1)) - casemail-lmtpd # SKIP not installed"
		T_N=$((T_N + 1))
	fi
	unlike "nothing bounced or deferred" \
		"$(grep -E ' status=' "$PF_LOG")" "status=(bounced|deferred|SOFTBOUNCE)"
	pf_stop
	ok "Postfix stopped" test -z "$(pf_master_pid)" -o \
		! -e "/proc/$(pf_master_pid)"
	PF_SUM=$(cat /etc/postfix/main.cf /etc/postfix/master.cf \
		/etc/postfix/transport | sha256sum)
else
	echo "ok $((T_N + 1)) - Postfix wiring # SKIP postfix or swaks not installed"
	T_N=$((T_N + 1))
	PF_SUM=""
fi

ok "dpkg -r removes it" dpkg -r casemail
ok "the programs are gone" test ! -e /usr/bin/casemail-mda
ok "the configuration stays" test -f /etc/casemail/casemail.conf
ok "the store stays" test -f /var/lib/casemail/casemail.db
ok "dpkg -P purges it" dpkg -P casemail
ok "dpkg knows it no more" sh -c '! dpkg -s casemail >/dev/null 2>&1'
for p in /etc/casemail /var/lib/casemail /var/spool/casemail \
	/lib/systemd/system/casemail-send.service /usr/share/casemail; do
	ok "purged: $p" test ! -e "$p"
done
ok "the casemail user stays (Debian keeps system users)" \
	getent passwd casemail
ok "purge again is quiet" dpkg -P casemail
if [ -n "$PF_SUM" ]; then
	is "the postmaster's Postfix configuration is as it was" \
		"$(cat /etc/postfix/main.cf /etc/postfix/master.cf \
			/etc/postfix/transport | sha256sum)" "$PF_SUM"
fi
# everything that changed in /etc, /usr and /var is in the upper
# directories: nothing of casemail's but the user and group (in
# passwd, group, shadow, gshadow and their backups) and what the
# postmaster wrote into Postfix's files (queue, pid files, its log)
is "no file under /usr is left" \
	"$(find "$OV/usr/u" ! -type d | sed "s|^$OV/usr/u||")" ""
LEFT=$(find "$OV/etc/u" "$OV/var/u" -name '*casemail*' |
	sed "s|^$OV/\([a-z]*\)/u|/\1|" | sort)
printf '%s\n' "$LEFT" | sed '/^$/d; s/^/# left, named casemail: /'
# Postfix's own: master's socket and pid lock of the service casemail
is "nothing named casemail is left in /etc and /var but Postfix's own" \
	"$(printf '%s\n' "$LEFT" | sed '/^$/d' |
		grep -vxE "$PF_QUEUE/(private/casemail|pid/unix\.casemail)")" ""
is "no file of the casemail user or group is left" \
	"$(find "$OV/etc/u" "$OV/usr/u" "$OV/var/u" \
		\( -user casemail -o -group casemail \) | sed "s|^$OV/||")" ""

umount /tmp /run 2>/dev/null
for d in var usr etc; do umount "/$d" 2>/dev/null; done
if [ "$had_bin" = 0 ]; then
	ok "the machine's /usr/bin has no casemail" test ! -e /usr/bin/casemail
fi
finish
