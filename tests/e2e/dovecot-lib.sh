# dovecot-lib.sh - a private Dovecot IMAP server on loopback for the tests
#
# SYNOPSIS
#	. "$TOP/tests/lib.sh"
#	. "$TOP/tests/e2e/dovecot-lib.sh"
#	dv_need                    # "Bail out!" (a failure) when impossible
#	dv_start                   # imaps on 127.0.0.1:$DV_PORT
#	dv_append USER MBOX FILE   # IMAP APPEND of FILE (curl over TLS)
#	dv_count USER MBOX         # number of messages in MBOX
#	dv_count_seen USER MBOX    # number of them flagged \Seen
#	dv_create USER MBOX        # make a mailbox
#	dv_doveadm ARGS...         # doveadm on this instance
#	dv_env                     # DV_PORT=... lines for programs
#	dv_stop                    # also run by the EXIT trap
#
# DESCRIPTION
#	Sourced after tests/lib.sh; with postfix-lib.sh too, in any order:
#	the EXIT trap set here (again by dv_start) also runs e2e_cleanup.
#	Everything of the instance lives under $DV_DIR ($W/dovecot unless
#	set before sourcing): dovecot.conf, run/ (base_dir), state/,
#	mail/USER (maildir), tls/ (a throw-away CA and a server certificate
#	for CN=localhost with subjectAltName DNS:localhost and IP:127.0.0.1),
#	passwd (passwd-file passdb and userdb) and dovecot.log. It is
#	started as root with "dovecot -c $DV_CONF" and inspected with
#	"doveadm -c $DV_CONF"; /etc/dovecot is never read or written.
#
#	Listeners: imaps (ssl=yes) on 127.0.0.1:$DV_PORT, and plain imap
#	(STARTTLS offered) on 127.0.0.1:$DV_PLAIN_PORT. Both also listen on
#	127.0.0.2 ($DV_ALT_HOST), an address the certificate does not
#	name, so a client can be shown a host name mismatch. ssl = required
#	and ssl_min_protocol = TLSv1.2; Dovecot still allows plaintext
#	authentication from loopback (local and remote IP equal).
#
#	Mail is owned by the system user $DV_MAIL_USER (cmvmail, created
#	when missing). The test account is $DV_USER / $DV_PASS; the CA
#	certificate a client must trust is $DV_CA.
#
#	Failed logins cost no time here (auth_failure_delay 0, no anvil
#	auth penalty), so tests of wrong passwords do not slow later ones.
#	Every wait is bounded. dv_stop kills what is left after 10 seconds.
#
# DIAGNOSTICS
#	dv_start prints "Bail out! ..." and exits 1 when Dovecot cannot be
#	started: a test that needs it fails, it is never skipped.
#
# SECURITY
#	Test-only credentials and keys, all under $DV_DIR; loopback only.

DV_DIR=${DV_DIR:-${W:-}/dovecot}
DV_CONF="$DV_DIR/dovecot.conf"
DV_LOG="$DV_DIR/dovecot.log"
DV_CA="$DV_DIR/tls/ca.crt"
DV_HOST=127.0.0.1
DV_ALT_HOST=127.0.0.2
DV_PORT=""
DV_PLAIN_PORT=""
DV_USER=${DV_USER:-casetest}
DV_PASS=${DV_PASS:-Imap-test-pw-7}
DV_MAIL_USER=${DV_MAIL_USER:-cmvmail}
DV_STARTED=0

# dv_bail MSG - fail the whole script with a TAP bail-out line
dv_bail() {
	echo "Bail out! dovecot: $1"
	[ -f "$DV_LOG" ] && tail -5 "$DV_LOG" | sed 's/^/# /'
	exit 1
}

# dv_cleanup - EXIT trap: stop Dovecot (also one restarted by hand
# with "dovecot -c $DV_CONF"), then the Postfix rig if any
dv_cleanup() {
	mp=$(dv_master_pid)
	if [ "$DV_STARTED" = 1 ] || { [ -n "$mp" ] && \
	    kill -0 "$mp" 2>/dev/null; }; then
		dv_stop
	fi
	if command -v e2e_cleanup >/dev/null 2>&1; then
		e2e_cleanup
	fi
	return 0
}
if [ "${DV_NO_TRAP:-0}" != 1 ]; then
	trap dv_cleanup EXIT
	trap 'exit 1' INT TERM HUP
fi

# dv_need - root, dovecot, doveadm, openssl and curl (with IMAP) present
dv_need() {
	PATH="$PATH:/usr/sbin:/sbin"
	[ "$(id -u)" = 0 ] || dv_bail "must run as root to start Dovecot"
	for c in dovecot doveadm openssl curl useradd ss; do
		command -v "$c" >/dev/null 2>&1 || dv_bail "$c not installed"
	done
	curl -V 2>/dev/null | grep -q '^Protocols:.* imaps' || \
		dv_bail "curl has no IMAP support"
	getent passwd dovecot >/dev/null && getent passwd dovenull \
		>/dev/null || dv_bail "users dovecot/dovenull missing"
	return 0
}

# dv_port_free PORT - true if nothing listens on PORT (any address)
dv_port_free() {
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# dv_pick_port - print a free port in 20000..59999 (20 tries)
dv_pick_port() {
	i=0
	while [ $i -lt 20 ]; do
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + p % 40000))
		if dv_port_free "$p" && [ "$p" != "${DV_PORT:-}" ]; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# dv_mail_user - create the system user owning the mail when missing
dv_mail_user() {
	if ! getent passwd "$DV_MAIL_USER" >/dev/null; then
		useradd --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin \
			"$DV_MAIL_USER" >/dev/null 2>&1 || \
			getent passwd "$DV_MAIL_USER" >/dev/null || \
			dv_bail "useradd $DV_MAIL_USER"
	fi
	DV_UID=$(id -u "$DV_MAIL_USER")
	DV_GID=$(id -g "$DV_MAIL_USER")
}

# dv_make_certs - a CA and a server certificate signed by it
dv_make_certs() {
	t="$DV_DIR/tls"
	mkdir -p "$t"
	cat >"$t/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout "$t/ca.key" -out "$t/ca.crt" -days 30 \
			-subj "/CN=casemail test CA $T_NAME" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -new -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$t/server.key" -out "$t/server.csr" \
			-subj "/CN=localhost" &&
		openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" \
			-CAkey "$t/ca.key" -CAcreateserial -days 30 \
			-extfile "$t/server.ext" -out "$t/server.crt"
	} >"$t/openssl.log" 2>&1 || {
		sed 's/^/# /' "$t/openssl.log"
		dv_bail "openssl could not make the test certificates"
	}
	chmod 0600 "$t/ca.key" "$t/server.key"
	chmod 0644 "$t/ca.crt" "$t/server.crt"
}

# dv_write_config - dovecot.conf, passwd and the mail directory
dv_write_config() {
	mkdir -p "$DV_DIR/mail" "$DV_DIR/home"
	chown "$DV_UID:$DV_GID" "$DV_DIR/mail" "$DV_DIR/home"
	chmod 0700 "$DV_DIR/mail" "$DV_DIR/home"
	# user:{scheme}password:uid:gid:gecos:home:shell
	printf '%s:{PLAIN}%s:%s:%s::%s/home/%s::\n' "$DV_USER" "$DV_PASS" \
		"$DV_UID" "$DV_GID" "$DV_DIR" "$DV_USER" >"$DV_DIR/passwd"
	chgrp dovecot "$DV_DIR/passwd"
	chmod 0640 "$DV_DIR/passwd"
	# the mail user, dovecot and dovenull must reach $DV_DIR
	chmod 0755 "$DV_DIR"
	d=$(dirname "$DV_DIR")
	while [ "$d" != / ] && [ "$d" != . ]; do
		chmod o+x "$d" 2>/dev/null
		d=$(dirname "$d")
	done
	cat >"$DV_CONF" <<EOF
# generated by tests/e2e/dovecot-lib.sh: loopback only, test data only
instance_name = dovecot-cm-$T_NAME
base_dir = $DV_DIR/run
state_dir = $DV_DIR/state
protocols = imap
listen = $DV_HOST, $DV_ALT_HOST
log_path = $DV_LOG
info_log_path = $DV_LOG
debug_log_path = $DV_LOG
ssl = required
ssl_cert = <$DV_DIR/tls/server.crt
ssl_key = <$DV_DIR/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$DV_DIR/mail/%u
mail_privileged_group =
first_valid_uid = $DV_UID
last_valid_uid = 0
default_internal_user = dovecot
default_login_user = dovenull
mailbox_idle_check_interval = 1 secs
login_greeting = casemail-dovecot-e2e ready.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DV_DIR/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $DV_DIR/passwd
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    port = $DV_PLAIN_PORT
  }
  inet_listener imaps {
    port = $DV_PORT
    ssl = yes
  }
}
namespace inbox {
  inbox = yes
  separator = /
}
EOF
}

# dv_listening - true once imaps answers with our greeting
dv_listening() {
	b=$(printf 'a LOGOUT\r\n' | timeout 5 openssl s_client -quiet \
		-connect "$DV_HOST:$DV_PORT" -CAfile "$DV_CA" \
		-verify_return_error 2>/dev/null)
	printf '%s\n' "$b" | grep -q 'casemail-dovecot-e2e'
}

# dv_master_pid - pid of this instance's master process, or nothing
dv_master_pid() {
	[ -f "$DV_DIR/run/master.pid" ] || return 0
	tr -d ' \n' <"$DV_DIR/run/master.pid"
}

# dv_start - write the config, start, wait for the greeting; on a port
# taken meanwhile, retry with other ports (3 times)
dv_start() {
	[ -n "${W:-}" ] || dv_bail "W is not set"
	# (re)claim the EXIT trap: a rig sourced later (postfix-lib.sh)
	# may have replaced it; dv_cleanup runs e2e_cleanup too
	if [ "${DV_NO_TRAP:-0}" != 1 ]; then
		trap dv_cleanup EXIT
	fi
	dv_need
	dv_mail_user
	mkdir -p "$DV_DIR"
	dv_make_certs
	tries=0
	while [ $tries -lt 3 ]; do
		tries=$((tries + 1))
		DV_PORT=$(dv_pick_port) || dv_bail "no free port"
		DV_PLAIN_PORT=$(dv_pick_port) || dv_bail "no free port"
		dv_write_config
		if ! dovecot -c "$DV_CONF" >"$DV_DIR/start.log" 2>&1; then
			sed 's/^/# /' "$DV_DIR/start.log"
			dv_stop
			continue
		fi
		DV_STARTED=1
		i=0
		while [ $i -lt 50 ]; do
			if dv_listening; then
				return 0
			fi
			sleep 0.2
			i=$((i + 1))
		done
		echo "# dovecot on port $DV_PORT did not answer; retrying"
		tail -5 "$DV_LOG" 2>/dev/null | sed 's/^/# /'
		dv_stop
	done
	dv_bail "could not start a private Dovecot"
}

# dv_stop - stop the instance; kill what is left after 10 seconds
dv_stop() {
	mp=$(dv_master_pid)
	[ -f "$DV_CONF" ] && dovecot -c "$DV_CONF" stop >/dev/null 2>&1
	i=0
	while [ -n "$mp" ] && kill -0 "$mp" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if [ -n "$mp" ] && kill -0 "$mp" 2>/dev/null; then
		for c in $(pgrep -P "$mp"); do
			kill -9 "$c" 2>/dev/null
		done
		kill -9 "$mp" 2>/dev/null
	fi
	DV_STARTED=0
	return 0
}

# dv_append USER MAILBOX FILE - IMAP APPEND of FILE over TLS with curl,
# which waits for each reply (a pipelined APPEND can overflow Dovecot's
# pre-login input buffer). curl asks for \Seen on APPEND; that flag is
# taken off again (doveadm, by the APPENDUID the server answered) so
# the message arrives unread, as delivered mail does. True on success.
# USER must be $DV_USER (the only account with a known password)
dv_append() {
	[ "$1" = "$DV_USER" ] || { echo "# dv_append: unknown user $1"; \
		return 1; }
	[ -f "$3" ] || { echo "# dv_append: no file $3"; return 1; }
	a=$(curl --verbose --silent --show-error --max-time 30 --ssl-reqd \
		--cacert "$DV_CA" --user "$DV_USER:$DV_PASS" \
		--upload-file "$3" "imaps://$DV_HOST:$DV_PORT/$2" 2>&1 \
		>/dev/null)
	u=$(printf '%s\n' "$a" | tr -d '\r' | \
		sed -n 's/^< [A-Z0-9]* OK \[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p')
	if [ -z "$u" ]; then
		printf '%s\n' "$a" | grep -E '^(< [A-Z0-9]+ |curl:)' | \
			sed 's/^/# dv_append: /'
		return 1
	fi
	dv_doveadm flags remove -u "$1" '\Seen' mailbox "$2" uid "$u"
}

# dv_doveadm ARGS... - doveadm on this instance's configuration
dv_doveadm() {
	doveadm -c "$DV_CONF" "$@"
}

# dv_create USER MAILBOX - create MAILBOX (no error if it exists)
dv_create() {
	dv_doveadm mailbox create -u "$1" "$2" 2>/dev/null
	[ "$(dv_count "$1" "$2")" != "" ]
}

# dv_count USER MAILBOX - print the number of messages (empty if none
# such mailbox)
dv_count() {
	dv_doveadm mailbox status -u "$1" messages "$2" 2>/dev/null | \
		sed -n 's/^.*messages=\([0-9]*\)$/\1/p'
}

# dv_count_seen USER MAILBOX - print the number of \Seen messages
dv_count_seen() {
	dv_doveadm search -u "$1" mailbox "$2" SEEN 2>/dev/null | \
		wc -l | tr -d ' '
}

# dv_env - the rig's coordinates as shell assignments (for programs)
dv_env() {
	printf 'DV_PORT=%s\nDV_PLAIN_PORT=%s\nDV_CA=%s\nDV_USER=%s\n' \
		"$DV_PORT" "$DV_PLAIN_PORT" "$DV_CA" "$DV_USER"
	printf 'DV_PASS=%s\nDV_HOST=%s\nDV_ALT_HOST=%s\nDV_CONF=%s\n' \
		"$DV_PASS" "$DV_HOST" "$DV_ALT_HOST" "$DV_CONF"
}
