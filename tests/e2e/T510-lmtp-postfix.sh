#!/bin/sh
# T510-lmtp-postfix.sh - a private Postfix delivers through lmtp(8)
#
# The daemon is started as root with --user casemail --group postfix,
# as a postmaster would for a socket Postfix's lmtp client can reach
# (mode 0660, group postfix); it drops to casemail before serving.
# Postfix on 127.0.0.1 sends the whole cases domain to it through an
# lmtp service with XFORWARD (conf/postfix/master.cf.lmtp). 30 replies
# to one victim and one message to three recipients (two good, one
# forged key) go in over SMTP: every one is stored once, Postfix logs
# status=sent for each recipient and bounces or defers nothing, and
# the daemon's log carries Postfix's queue id (XFORWARD IDENT).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"
. "$TOP/tests/e2e/lmtp-lib.sh"

N=${T510_N:-30}
e2e_need_root
e2e_need_jq
[ -x "$BIN/casemail-lmtpd" ] || { echo "not ok 1 - casemail-lmtpd built"; \
	echo "1..1"; exit 1; }
cm_user_setup
[ -x "$W/bin/casemail-mda" ] && cp "$TOP/$BUILD/casemail-lmtpd" "$W/bin/"
mkconf
cm_setup_case
ok "a second victim" cm victim add "$REF" --name "John Roe" \
	--email john@example.net
VID2=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
ok "its reply address" cm address reply "$REF" "$VID2"
RADDR2=$(printf '%s\n' "$OUT" | grep -oiE "reply\+[a-z0-9]+@$DOMAIN" | head -1)
FORGED="reply+$(forge_key "$KEY")@$DOMAIN"

LMTPD_ROOT=1
ok "the daemon starts as root and drops to casemail" \
	lmtpd_start --group postfix
is "the socket belongs to casemail, group postfix, mode 0660" \
	"$(stat -c '%U %G %a' "$LSOCK")" "casemail postfix 660"
is "the daemon runs as casemail" "$(ps -o user= -p "$LPID" | tr -d ' ')" \
	casemail
pf_start
lmtpd_postfix 10

i=1
while [ $i -le "$N" ]; do
	n=$(printf '%03d' $i)
	mkmsg "$W/m$n.eml" "Jane Doe <$VICTIM>" "$RADDR" \
		"t510-$n@mail.example.net" "Re: your case" \
		"Reply $n through Postfix and LMTP."
	pf_send "$VICTIM" "$RADDR" "$W/m$n.eml" || echo "# swaks failed: $n"
	i=$((i + 1))
done
mkmsg "$W/three.eml" "Jane Doe <$VICTIM>" "$RADDR" \
	t510-three@mail.example.net "Re: three" "To three recipients."
ok "a message to three recipients accepted by Postfix" \
	swaks --server 127.0.0.1 --port "$PF_PORT" --timeout 30 \
	--from "$VICTIM" --to "$RADDR,$RADDR2,$FORGED" \
	--data "@$W/three.eml" --silent 2
ok "the queue empties" pf_wait_queue_empty 90
pf_log_show 3

TH=$(thread_json)
is "every reply stored once" "$(count_mid "$TH" msgs t510-0)" "$N"
is "no Message-ID twice" "$(distinct_mid "$TH" msgs t510-0)" "$N"
is "the three-recipient message: twice in the thread" \
	"$(count_mid "$TH" msgs t510-three@)" 2
is "and once in quarantine (the forged key)" \
	"$(count_mid "$(quar_json)" quar t510-three@)" 1
is "Postfix logged status=sent for every recipient" \
	"$(lmtp_log_count 'status=sent')" $((N + 3))
is "nothing bounced or deferred" \
	"$(lmtp_log_count 'status=(bounced|deferred)')" 0
like "Postfix shows the daemon's per-recipient reply" "$(cat "$PF_LOG")" \
	'status=sent \(250 2\.0\.0 <reply\+'
is "the daemon logged a queue id for every recipient (XFORWARD)" \
	"$(grep -c 'qid="[0-9A-Za-z]\{6,\}" origin="lmtp:unix"' "$LLOG")" \
	$((N + 3))

ok "SIGTERM stops it" lmtpd_stop
is "exit 0" "$LRC" 0
unlike "no crash in the log" "$(cat "$LLOG")" 'died by signal|panic'
finish
