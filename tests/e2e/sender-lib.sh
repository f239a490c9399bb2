# sender-lib.sh - helpers for the casemail-send tests (T1xx-sender-*)
#
# SYNOPSIS
#	. "$TOP/tests/lib.sh"
#	. "$TOP/tests/e2e/sender-lib.sh"
#	sl_need_bins                # casemail, casemail-send built
#	sl_conf [extra lines...]    # mkconf + the source tree's templates
#	sl_case                     # officer, case, victim (VID)
#	sink_start [smtp-sink options...]   # SINK_PORT, SINK_URL
#	sink_stop
#	send [args...]              # casemail-send -c $CONF (through ok...)
#	sql "SELECT ..."            # one value from the store (sqlite3)
#
# DESCRIPTION
#	Sourced after tests/lib.sh (and, for Postfix, postfix-lib.sh, whose
#	EXIT trap stops what e2e_track was given). smtp-sink(1) is Postfix's
#	test server; a test that needs it fails when it is missing. As root
#	it runs as nobody (-u), its dump directory $W/sink world-writable.
#	Every wait is bounded.

SINK_PID=""
SINK_PORT=""
SINK_URL=""
SINK_DIR="$W/sink"
SL_REF=HU-20261128-0042
SL_OFFICER=pc.smith@police.example.org
SL_VICTIM=victim@example.net
PATH="$PATH:/usr/sbin:/sbin"

# sl_cleanup - stop the sink, then what postfix-lib.sh started (its
# EXIT trap is replaced by this one when it was sourced first)
sl_cleanup() {
	sink_stop
	if command -v e2e_cleanup >/dev/null 2>&1; then
		e2e_cleanup
	fi
	return 0
}
trap 'sl_cleanup' EXIT

# sl_need_bins - the programs under test must exist
sl_need_bins() {
	for b in casemail casemail-send casemail-mda; do
		if [ ! -x "$BIN/$b" ]; then
			echo "not ok 1 - $b built (run make)"
			echo "1..1"
			exit 1
		fi
	done
}

# sl_conf [lines] - the test config with the templates of the tree
sl_conf() {
	mkconf "template_dir = $TOP/conf/templates" "$@"
}

# c ARGS - the CLI on $CONF
c() {
	"$BIN/casemail" -c "$CONF" "$@"
}

# send ARGS - casemail-send on $CONF
send() {
	"$BIN/casemail-send" -c "$CONF" "$@"
}

# sql QUERY - one value out of the store
sql() {
	sqlite3 -cmd '.timeout 5000' "$W/casemail.db" "$1"
}

# sl_case - init, an officer, a case and victim $SL_VICTIM (VID)
sl_case() {
	ok "init" c init
	ok "officer add" c officer add --email "$SL_OFFICER" --name "PC Smith"
	ok "case add" c case add "$SL_REF" --oic "$SL_OFFICER"
	ok "victim add" c victim add "$SL_REF" --name "Jane Doe" \
		--email "$SL_VICTIM" "$@"
	VID=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
}

# sl_listening PORT - something listens on 127.0.0.1:PORT
sl_listening() {
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# sl_port - a free port on 127.0.0.1 into SINK_PORT
sl_port() {
	i=0
	while [ $i -lt 30 ]; do
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + p % 40000))
		if ! sl_listening "$p"; then
			SINK_PORT=$p
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# sink_start [options] - smtp-sink on a new port, dumping to $SINK_DIR
sink_start() {
	command -v smtp-sink >/dev/null 2>&1 || {
		echo "not ok - smtp-sink not installed (package postfix)"
		echo "1..1"
		exit 1
	}
	sink_stop
	mkdir -p "$SINK_DIR"
	chmod 0777 "$SINK_DIR"
	sl_port || { echo "Bail out! no free port"; exit 1; }
	u=""
	[ "$(id -u)" = 0 ] && u="-u nobody"
	# shellcheck disable=SC2086
	smtp-sink $u -d "$SINK_DIR/m." "$@" "127.0.0.1:$SINK_PORT" 100 \
		>"$W/sink.log" 2>&1 &
	SINK_PID=$!
	SINK_URL="smtp://127.0.0.1:$SINK_PORT/casemail.test"
	i=0
	while [ $i -lt 50 ]; do
		if sl_listening "$SINK_PORT"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "Bail out! smtp-sink did not start"
	exit 1
}

# sink_stop - stop the sink if it runs
sink_stop() {
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	SINK_PID=""
	return 0
}

# sink_count - messages the sink has dumped
sink_count() {
	find "$SINK_DIR" -type f -name 'm.*' 2>/dev/null | wc -l | tr -d ' '
}

# status_count STATUS - notices with that status
status_count() {
	sql "SELECT count(*) FROM notices WHERE status = '$1'"
}

# update [n] - post n (1) officer updates
update() {
	k=0
	while [ $k -lt "${1:-1}" ]; do
		c update "$SL_REF" --officer "$SL_OFFICER" \
			--text "update $k" >/dev/null || return 1
		k=$((k + 1))
	done
}
