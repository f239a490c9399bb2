#!/bin/sh
# T610-systemd-units.sh - the systemd units of conf/systemd
#
# Each unit passes systemd-analyze verify (its programs pointed at the
# build) and systemd-analyze security --offline=yes rates it below 3.0
# ("OK"; the figures go to the log and to docs/packaging.md); each has
# the sandbox the postmaster is promised. MemoryDenyWriteExecute is
# then tried for real: the kernel's PR_SET_MDWE (what the setting
# enforces, inherited by every child) around casemail-send, the mda
# and a running casemail-web, which must work as without it. Skipped
# only when systemd-analyze is absent.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || {
	echo "1..0 # SKIP systemd-analyze not installed"
	exit 0
}
sl_need_bins
UNITS="casemail-send.service casemail-web.service casemail-lmtpd.service casemail-imap@.service"
mkdir -p "$W/units"
for u in $UNITS; do
	ok "$u is in conf/systemd" test -f "$TOP/conf/systemd/$u"
	sed "s|/usr/bin/|$BIN/|g" "$TOP/conf/systemd/$u" >"$W/units/$u"
	(cd "$W/units" && systemd-analyze verify --man=no "./$u") \
		>"$W/verify.out" 2>&1
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/verify.out"
	t_report "$rc" "systemd-analyze verify $u"
	is "$u: verify has nothing to say" "$(cat "$W/verify.out")" ""
	SCORE=$(cd "$W/units" &&
		systemd-analyze security --offline=yes "./$u" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# $u: exposure $SCORE"
	ok "$u: exposure $SCORE below 3.0" \
		awk -v s="$SCORE" 'BEGIN { exit !(s != "" && s + 0 < 3.0) }'
	for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
		ProtectHome=yes RestrictAddressFamilies= \
		SystemCallFilter=@system-service MemoryDenyWriteExecute=yes \
		"ReadWritePaths=/var/lib/casemail"; do
		ok "$u: $k" grep -q "^$k" "$W/units/$u"
	done
	case "$u" in
	casemail-lmtpd.service)
		ok "$u: drops to casemail itself (--user casemail)" \
			grep -q -- "--user casemail" "$W/units/$u" ;;
	*)
		ok "$u: User=casemail" grep -q "^User=casemail$" "$W/units/$u" ;;
	esac
done

# MemoryDenyWriteExecute, for real
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
cat >"$W/mdwe.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
# PR_SET_MDWE 65, PR_MDWE_REFUSE_EXEC_GAIN 1: no mapping may become
# writable and executable, for this process and all it starts
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(3)
os.execv(sys.argv[1], sys.argv[1:])
EOF
if "$PY" "$W/mdwe.py" /bin/true; then
	mdwe() { "$PY" "$W/mdwe.py" "$@"; }
	sl_conf
	sl_case
	update 1
	ok "under MDWE: casemail-send --once" mdwe "$BIN/casemail-send" \
		-c "$CONF" --once
	F=$(ls "$W"/outbox/new/* 2>/dev/null | head -1)
	ok "the notice is in the outbox" test -n "$F"
	RADDR=$(c address reply "$SL_REF" "$VID")
	printf 'From: %s\nTo: %s\nSubject: Re: news\n\nThank you\n' \
		"$SL_VICTIM" "$RADDR" >"$W/reply.eml"
	ok "under MDWE: casemail-mda stores a reply" mdwe "$BIN/casemail-mda" \
		-c "$CONF" --sender "$SL_VICTIM" --recipient "$RADDR" \
		<"$W/reply.eml"
	ok "the thread" c thread "$SL_REF"
	like "holds it" "$OUT" "Thank you"
	web_conf
	WEB_BIN="$BIN/casemail-web"
	"$PY" "$W/mdwe.py" "$WEB_BIN" -c "$WCONF" -f >>"$W/web.log" 2>&1 &
	WEB_PID=$!
	i=0
	while ! sl_listening "$WEB_PORT" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	TOK=$(link_of "$F")
	ok "under MDWE: casemail-web signs a victim in" web_signin "$TOK" \
		"$W/jar"
	web_stop
	is "and stops on SIGTERM with 0" "$WEB_RC" 0
else
	echo "# PR_SET_MDWE not available (kernel before 6.3): not tried"
fi
finish
