# postfix-lib.sh - a private Postfix on loopback that pipes into casemail-mda
#
# SYNOPSIS
#	. "$TOP/tests/lib.sh"
#	. "$TOP/tests/e2e/postfix-lib.sh"
#	e2e_need_root            # skip the script (TAP "1..0 # SKIP") if not root
#	cm_user_setup            # system user casemail, $W writable by it
#	mkconf; cm init          # the CLI runs as user casemail
#	pf_start                 # Postfix on 127.0.0.1:$PF_PORT
#	pf_send FROM TO FILE     # one message through SMTP with swaks
#	pf_wait_queue_empty 60   # until every message left the queue
#	pf_log_count status=sent # lines of the maillog for our transport
#	cm_setup_case            # store, officer, case, victim, reply address
#	jq_thread FILTER         # jq FILTER over the thread's messages
#
# DESCRIPTION
#	Sourced after tests/lib.sh. The instance lives entirely under
#	$W/postfix: etc/ (main.cf, master.cf, transport), queue/, data/ and
#	maillog (written by postlogd, no syslog needed). It is started with
#	"postfix -c $PF_ETC start"; as root no entry in the default main.cf's
#	alternate_config_directories is needed, so /etc/postfix is not
#	touched. The SMTP listener is 127.0.0.1 on a free high port; the
#	whole domain cases.example.org goes through transport_maps to the
#	pipe(8) service "casemail", which runs $BIN/casemail-mda as the
#	unprivileged user casemail, one recipient per delivery, as
#	conf/postfix/ and docs/postfix.md tell a postmaster to do.
#	soft_bounce=yes and short backoff times make a deferral come back
#	within seconds instead of minutes.
#
#	Every process started here (Postfix, and anything given to
#	e2e_track) is stopped by an EXIT trap, also when the script fails.
#	Every wait loop is bounded in count and time.
#
#	The casemail side: cm (the CLI) and mda run as user casemail, as
#	pipe(8) runs the mda; cm_setup_case makes one case
#	HU-20261128-0042 with officer $OFFICER and victim $VID
#	(victim@example.net) whose reply address is $RADDR (key $KEY).
#	JSON from the CLI is read with jq; the filters accept a bare array
#	or an object holding it, and Message-IDs with or without <>.
#
#	Environment: PF_PIPE_ARGV replaces the pipe command (harness self
#	check); PF_MAXPROC is the pipe's process limit (default 20);
#	PF_HOLD=1 puts every accepted message on hold until pf_release
#	(to fill the queue first and then let the pipe run flat out).

if [ -z "${T_NAME:-}" ]; then
	# run on its own (tests/run.sh runs every tests/e2e/*.sh): a library
	echo "1..0 # SKIP postfix-lib.sh is sourced by the T*.sh scripts"
	exit 0
fi

PF_DIR="$W/postfix"
PF_ETC="$PF_DIR/etc"
PF_QUEUE="$PF_DIR/queue"
PF_DATA="$PF_DIR/data"
PF_LOG="$PF_DIR/maillog"
PF_PORT=""
PF_STARTED=0
PF_MAXPROC=${PF_MAXPROC:-20}
PF_HOLD=${PF_HOLD:-0}
CM_USER=casemail
CM_GROUP=casemail
E2E_PIDS=""

# e2e_cleanup - stop Postfix and every tracked background process
e2e_cleanup() {
	for p in $E2E_PIDS; do
		kill "$p" 2>/dev/null
	done
	[ "$PF_STARTED" = 1 ] && pf_stop
	for p in $E2E_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	E2E_PIDS=""
	return 0
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM HUP

# e2e_track PID - kill PID on exit
e2e_track() {
	E2E_PIDS="$E2E_PIDS $1"
}

# e2e_skip REASON - the whole script is skipped (TAP plan 1..0)
e2e_skip() {
	echo "1..0 # SKIP $1"
	exit 0
}

# e2e_need_root - Postfix and the casemail user need root; skip otherwise
e2e_need_root() {
	[ "$(id -u)" = 0 ] || e2e_skip "needs root (Postfix, user casemail)"
	for c in postfix postconf postmap postqueue swaks setpriv; do
		command -v "$c" >/dev/null 2>&1 || \
			PATH="$PATH:/usr/sbin:/sbin" command -v "$c" \
			>/dev/null 2>&1 || e2e_skip "$c not installed"
	done
	PATH="$PATH:/usr/sbin:/sbin"
	e2e_need_bins
}

# e2e_need_bins - the programs under test must have been built
e2e_need_bins() {
	for b in casemail casemail-mda; do
		if [ ! -x "$BIN/$b" ]; then
			echo "# $BIN/$b missing: run make first"
			echo "not ok 1 - $b built"
			echo "1..1"
			exit 1
		fi
	done
}

# cm_user_setup - create the system user casemail when missing and give
# it $W (the store, spool, outbox and secret live directly in $W). The
# programs are run from $BIN, which must be reachable for that user;
# if it is not, they are copied into $W/bin and BIN points there.
cm_user_setup() {
	if [ "$(id -u)" != 0 ]; then
		CM_USER=$(id -un)
		return 0
	fi
	if ! getent passwd "$CM_USER" >/dev/null; then
		useradd --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin \
			"$CM_USER" || { echo "Bail out! useradd $CM_USER"; exit 1; }
	fi
	CM_GROUP=$(id -gn "$CM_USER")
	chown "$CM_USER:$CM_GROUP" "$W"
	chmod 0711 "$W" # user postfix must reach $W/postfix
	# parents of $W: traversable by the pipe user (only test-owned ones)
	d=$(dirname "$W")
	while [ "$d" != "$TOP" ] && [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null
		d=$(dirname "$d")
	done
	if ! as_cm test -w "$W"; then
		echo "Bail out! user $CM_USER cannot reach $W: the directories" \
			"above it need o+x"
		exit 1
	fi
	if [ -x "$BIN/casemail-mda" ] && ! as_cm test -x "$BIN/casemail-mda"
	then
		mkdir -p "$W/bin"
		cp "$BIN/casemail" "$BIN/casemail-mda" "$W/bin/"
		chmod 0755 "$W/bin" "$W/bin/"*
		BIN="$W/bin"
	fi
	return 0
}

# as_cm CMD... - run CMD as the casemail user (directly when not root)
as_cm() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$CM_USER" --regid="$CM_GROUP" --clear-groups \
			"$@"
	else
		"$@"
	fi
}

# cm ARGS... - the casemail CLI on $CONF, as user casemail
cm() {
	as_cm "$BIN/casemail" -c "$CONF" "$@"
}

# mda ARGS... - casemail-mda on $CONF, as user casemail (stdin: message)
mda() {
	as_cm "$BIN/casemail-mda" -c "$CONF" "$@"
}

# port_free PORT - true if nothing listens on 127.0.0.1:PORT
port_free() {
	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# pick_port - a free port in 20000..59999 into PF_PORT (20 tries)
pick_port() {
	i=0
	while [ $i -lt 20 ]; do
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + p % 40000))
		if port_free "$p"; then
			PF_PORT=$p
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# pf_write_config - main.cf, master.cf and the transport map
pf_write_config() {
	mkdir -p "$PF_ETC" "$PF_QUEUE" "$PF_DATA"
	chown root:root "$PF_DIR" "$PF_ETC" "$PF_QUEUE"
	chmod 0755 "$PF_DIR" "$PF_ETC" "$PF_QUEUE"
	chown postfix:postfix "$PF_DATA"
	chmod 0700 "$PF_DATA"
	cat >"$PF_ETC/main.cf" <<EOF
# generated by tests/e2e/postfix-lib.sh for $T_NAME
compatibility_level = 3.6
config_directory = $PF_ETC
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-cm-$T_NAME
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
myhostname = mx.cases-e2e.test
mydomain = cases-e2e.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = cases.example.org
relay_recipient_maps =
relayhost =
transport_maps = hash:$PF_ETC/transport
recipient_delimiter = +
casemail_destination_recipient_limit = 1
casemail_destination_concurrency_limit = $PF_MAXPROC
casemail_initial_destination_concurrency = $PF_MAXPROC
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_client_restrictions = $([ "$PF_HOLD" = 1 ] &&
	echo "check_client_access inline:{127.0.0.1=HOLD}")
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP casemail-e2e
soft_bounce = yes
append_dot_mydomain = no
biff = no
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
daemon_timeout = 600s
export_environment = TZ MAIL_CONFIG LANG ASAN_OPTIONS UBSAN_OPTIONS
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME ASAN_OPTIONS UBSAN_OPTIONS
EOF
	argv=${PF_PIPE_ARGV:-"$BIN/casemail-mda -c $CONF --sender \${sender} --recipient \${recipient} --queue-id \${queue_id}"}
	cat >"$PF_ETC/master.cf" <<EOF
# generated by tests/e2e/postfix-lib.sh: no chroot, loopback only
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
casemail  unix  -       n       n       -       $PF_MAXPROC      pipe
  -o soft_bounce=yes
  flags=Rq user=$CM_USER null_sender=MAILER-DAEMON
  argv=$argv
EOF
	printf 'cases.example.org\tcasemail:\n' >"$PF_ETC/transport"
	postmap -c "$PF_ETC" "hash:$PF_ETC/transport"
}

# pf_listening - true once the smtpd answers on PF_PORT with a banner
pf_listening() {
	b=$(swaks --server 127.0.0.1 --port "$PF_PORT" --quit-after CONNECT \
		--timeout 5 2>&1)
	printf '%s\n' "$b" | grep -q 'casemail-e2e'
}

# pf_start - write the config, start the instance, wait for the banner;
# on a port taken meanwhile, retry with another port (3 times)
pf_start() {
	tries=0
	while [ $tries -lt 3 ]; do
		tries=$((tries + 1))
		pick_port || { echo "Bail out! no free port"; exit 1; }
		pf_write_config
		if ! postfix -c "$PF_ETC" start >"$PF_DIR/start.log" 2>&1; then
			sed 's/^/# /' "$PF_DIR/start.log"
			pf_log_show 5
			postfix -c "$PF_ETC" stop >/dev/null 2>&1
			continue
		fi
		PF_STARTED=1
		i=0
		while [ $i -lt 50 ]; do
			if pf_listening; then
				return 0
			fi
			sleep 0.2
			i=$((i + 1))
		done
		echo "# postfix on port $PF_PORT did not answer; retrying"
		tail -5 "$PF_LOG" 2>/dev/null | sed 's/^/# /'
		pf_stop
	done
	echo "Bail out! could not start a private Postfix"
	exit 1
}

# pf_master_pid - pid of this instance's master, or nothing
pf_master_pid() {
	[ -f "$PF_QUEUE/pid/master.pid" ] || return 0
	tr -d ' \n' <"$PF_QUEUE/pid/master.pid"
}

# pf_stop - stop the instance; kill what is left after 10 seconds
pf_stop() {
	mp=$(pf_master_pid)
	postfix -c "$PF_ETC" stop >/dev/null 2>&1
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
	PF_STARTED=0
	return 0
}

# pf_queue_count - messages still in this instance's queue
pf_queue_count() {
	find "$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
		"$PF_QUEUE/deferred" "$PF_QUEUE/hold" -type f 2>/dev/null | \
		wc -l | tr -d ' '
}

# pf_wait_queue_empty [SECONDS] - true once the queue is empty (both by
# the queue files and by postqueue -p), false after SECONDS (default 60)
pf_wait_queue_empty() {
	limit=${1:-60}
	end=$(($(date +%s) + limit))
	while [ "$(date +%s)" -le "$end" ]; do
		if [ "$(pf_queue_count)" = 0 ] && postqueue -c "$PF_ETC" -p \
		    2>/dev/null | grep -q 'Mail queue is empty'; then
			return 0
		fi
		sleep 0.3
	done
	echo "# queue not empty after ${limit}s:"
	postqueue -c "$PF_ETC" -p 2>&1 | head -20 | sed 's/^/# /'
	return 1
}

# pf_held_count - messages in the hold queue
pf_held_count() {
	find "$PF_QUEUE/hold" -type f 2>/dev/null | wc -l | tr -d ' '
}

# pf_release - release everything on hold and have it delivered now
pf_release() {
	postsuper -c "$PF_ETC" -H ALL >/dev/null 2>&1
	postqueue -c "$PF_ETC" -f >/dev/null 2>&1
}

# pf_flush - ask the queue manager to retry deferred mail now
pf_flush() {
	postqueue -c "$PF_ETC" -f >/dev/null 2>&1
}

# pf_send FROM TO FILE - submit FILE (a whole message) over SMTP; true
# when the server accepted it (250 after DATA)
pf_send() {
	swaks --server 127.0.0.1 --port "$PF_PORT" --timeout 30 \
		--from "$1" --to "$2" --data "@$3" --silent 2 \
		>>"$PF_DIR/swaks.log" 2>&1
}

# pf_log_count PATTERN - maillog delivery lines of the casemail
# transport (relay=casemail) that match PATTERN (grep -E)
pf_log_count() {
	[ -f "$PF_LOG" ] || { echo 0; return 0; }
	grep 'relay=casemail' "$PF_LOG" | grep -cE -- "$1"
}

# pf_log_show [N] - the last N (20) lines of the maillog as TAP comments
pf_log_show() {
	tail -"${1:-20}" "$PF_LOG" 2>/dev/null | sed 's/^/# /'
}

# ---- the casemail side ----

REF=HU-20261128-0042
OFFICER=pc.smith@police.example.org
VICTIM=victim@example.net
DOMAIN=cases.example.org

# jq definitions shared by the filters below
JQ_DEFS='
def mid: (. // "") | tostring | ltrimstr("<") | rtrimstr(">");
def list($k): if type == "array" then . elif type == "object" then
	(.[$k] // .items // []) else [] end;
def msgs: list("messages");
def quar: list("quarantine");
def notices: list("notices");
'

# e2e_need_jq - the JSON output of the CLI is checked with jq
e2e_need_jq() {
	command -v jq >/dev/null 2>&1 || e2e_skip "jq not installed"
}

# cm_setup_case - init the store and add the officer, the case, the
# victim; sets VID, RADDR (reply+KEY@D) and KEY. Prints TAP lines.
cm_setup_case() {
	ok "casemail init" cm init
	ok "officer add" cm officer add --email "$OFFICER" --name "PC Smith"
	ok "case add" cm case add "$REF" --oic "$OFFICER"
	ok "victim add" cm victim add "$REF" --name "Jane Doe" --email "$VICTIM"
	VID=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
	like "victim add prints the victim id" "$VID" '^[0-9]+$'
	ok "address reply" cm address reply "$REF" "$VID"
	RADDR=$(printf '%s\n' "$OUT" | \
		grep -oiE "reply\+[a-z0-9]+@$DOMAIN" | head -1)
	like "reply address is reply+KEY@$DOMAIN" "$RADDR" \
		"^reply\+[A-Za-z0-9]{20,}@$DOMAIN\$"
	KEY=${RADDR#reply+}
	KEY=${KEY%@*}
}

# forge_key KEY - the same key with one character changed
forge_key() {
	printf '%s\n' "$1" | awk '{
		n = int(length($0) / 2)
		c = substr($0, n, 1)
		r = (c == "a" || c == "A") ? "b" : "a"
		print substr($0, 1, n - 1) r substr($0, n + 1)
	}'
}

# thread_json [REF] - the thread as JSON ("{}" if the CLI fails)
thread_json() {
	cm thread "${1:-$REF}" --json 2>"$W/.cmerr" || echo '{}'
}
# quar_json - the quarantine as JSON {"quarantine": [...]}, each entry
# in full (quarantine show: with message_id and queue_id)
quar_json() {
	ql=$(cm quarantine list --json 2>"$W/.cmerr") || { echo '[]'; return; }
	qids=$(jqr "$ql" 'quar[] | .id')
	if [ -z "$qids" ]; then
		printf '%s\n' "$ql"
		return
	fi
	for qid in $qids; do
		cm quarantine show "$qid" --json 2>>"$W/.cmerr" ||
			jqr "$ql" 'quar[] | select(.id == ($i | tonumber))' \
				--arg i "$qid"
	done | jq -s '{quarantine: [.[] | (.quarantine // .)]}'
}
# notices_json - the notice queue as JSON
notices_json() {
	cm notices --json 2>"$W/.cmerr" || echo '[]'
}
# stats_json - the statistics as JSON
stats_json() {
	cm stats --json 2>"$W/.cmerr" || echo '{}'
}

# jqr JSON FILTER [jq args...] - run FILTER (with JQ_DEFS) on JSON
jqr() {
	j=$1; f=$2; shift 2
	printf '%s\n' "$j" | jq -r "$@" "$JQ_DEFS $f" 2>/dev/null
}

# jq_thread FILTER [args] - FILTER over the thread of $REF
jq_thread() {
	f=$1; shift
	jqr "$(thread_json)" "$f" "$@"
}

# stat_value NAME - one value from casemail stats --json
stat_value() {
	jqr "$(stats_json)" "[.. | objects | .[\$k]? // empty] | first" \
		--arg k "$1"
}

# count_mid JSON WHICH PREFIX - entries of msgs or quar whose Message-ID
# starts with PREFIX
count_mid() {
	jqr "$1" "[$2[] | select(.message_id | mid | startswith(\$p))] |
		length" --arg p "$3"
}
# distinct_mid JSON WHICH PREFIX - how many different such Message-IDs
distinct_mid() {
	jqr "$1" "[$2[] | select(.message_id | mid | startswith(\$p)) |
		.message_id | mid] | unique | length" --arg p "$3"
}

# rand_list N MAX SEED - N pseudo-random integers in 0..MAX, one a line
rand_list() {
	awk -v n="$1" -v max="$2" -v seed="$3" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			print int(rand() * (max + 1))
	}'
}

# mkmsg FILE FROM TO MSGID SUBJECT BODY - write a small plain message
mkmsg() {
	{
		printf 'From: %s\n' "$2"
		printf 'To: %s\n' "$3"
		printf 'Subject: %s\n' "$5"
		printf 'Date: %s\n' "$(LC_ALL=C date -R)"
		printf 'Message-ID: <%s>\n' "$4"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf '\n%s\n' "$6"
	} >"$1"
}
