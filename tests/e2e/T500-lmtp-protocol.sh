#!/bin/sh
# T500-lmtp-protocol.sh - casemail-lmtpd speaks LMTP (RFC 2033)
#
# Python's smtplib.LMTP and raw pipelined sessions against the daemon on
# a unix socket (and once on 127.0.0.1 TCP): LHLO and its extensions;
# a message to three recipients (two good, one forged key) and a
# foreign domain (550 5.1.2) with exactly one reply per accepted
# recipient after the dot, in order, each 250 once stored; the
# recipient cap (452 4.5.3); XFORWARD IDENT making a second delivery a
# duplicate; pipelined commands; dot-stuffing; bare LF; NUL bytes;
# over-SIZE (552 5.3.4, nothing stored); a client that disconnects
# mid-DATA (nothing stored, the daemon carries on); garbage and
# overlong commands; one log line per recipient.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"
. "$TOP/tests/e2e/lmtp-lib.sh"

e2e_need_root
e2e_need_jq
[ -x "$BIN/casemail-lmtpd" ] || { echo "not ok 1 - casemail-lmtpd built"; \
	echo "1..1"; exit 1; }
cm_user_setup
mkconf "max_message_size = 64K"
cm_setup_case
ok "a second victim on the case" cm victim add "$REF" --name "John Roe" \
	--email john@example.net
VID2=$(printf '%s\n' "$OUT" | grep -oE '[0-9]+' | tail -1)
ok "its reply address" cm address reply "$REF" "$VID2"
RADDR2=$(printf '%s\n' "$OUT" | grep -oiE "reply\+[a-z0-9]+@$DOMAIN" | head -1)
FORGED="reply+$(forge_key "$KEY")@$DOMAIN"
RE_RADDR=$(printf '%s' "$RADDR" | sed 's/[+.]/\\&/g')
RE_RADDR2=$(printf '%s' "$RADDR2" | sed 's/[+.]/\\&/g')
TPORT=$( (pick_port && echo "$PF_PORT") || echo 24024)

ok "the daemon starts (unix socket and 127.0.0.1 TCP)" \
	lmtpd_start --max-recipients 4 --listen "127.0.0.1:$TPORT"
ok "casemail-lmtpd -n checks the configuration" \
	"$BIN/casemail-lmtpd" -c "$CONF" -n
exits "port 25 is refused" 75 "$BIN/casemail-lmtpd" -c "$CONF" \
	--socket "" --listen 127.0.0.1:25

# ---- three recipients and a foreign one in one transaction ----
M="$W/three.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t500-three@mail.example.net \
	"Re: your case" "The bike was seen near the station on Tuesday."
ok "one transaction to three recipients and a foreign one" \
	lc send "$VICTIM" "$M" "$RADDR" "$RADDR2" nobody@example.com "$FORGED"
echo "$OUT" | sed 's/^/# /'
like "LHLO answered, MAIL accepted" "$OUT" '^MAIL 250 2\.1\.0'
like "the foreign domain gets 550 5.1.2" "$OUT" \
	'^RCPT nobody@example.com 550 5\.1\.2'
is "three accepted recipients" \
	"$(printf '%s\n' "$OUT" | grep -c '^RCPT .* 250 ')" 3
is "three replies after the dot, all 250" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 250 2\.0\.0')" 3
is "the replies come in RCPT order" \
	"$(printf '%s\n' "$OUT" | awk '/^DATA/ { print $2 }' | tr '\n' ' ')" \
	"$RADDR $RADDR2 $FORGED "
like "the first is posted" "$OUT" "^DATA $RE_RADDR 250 .*posted"
like "the second is held (not that victim's sender)" "$OUT" \
	"^DATA $RE_RADDR2 250 .*held"
like "the forged key is quarantined, not refused" "$OUT" \
	"^DATA reply\+[^ ]* 250 .*quarantined"
TH=$(thread_json)
is "two thread entries for it" "$(count_mid "$TH" msgs t500-three@)" 2
Q=$(quar_json)
is "one quarantine entry for it" "$(count_mid "$Q" quar t500-three@)" 1
is "one log line per recipient" \
	"$(grep -c 'origin="lmtp:unix".*to=.*status=' "$LLOG")" 3
like "the log line says where it went" "$(cat "$LLOG")" \
	'status=quarantined.*forged'

# ---- recipient cap ----
M="$W/cap.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t500-cap@mail.example.net \
	"Re: cap" "Five recipients."
ok "five recipients with a cap of four" lc send "$VICTIM" "$M" \
	"$RADDR" "a+1@$DOMAIN" "b+2@$DOMAIN" "c+3@$DOMAIN" "d+4@$DOMAIN"
like "the fifth gets 452 4.5.3" "$OUT" "^RCPT d\+4@$DOMAIN 452 4\.5\.3"
is "four replies after the dot" \
	"$(printf '%s\n' "$OUT" | grep -c '^DATA .* 250 ')" 4

# ---- XFORWARD IDENT: the same queue id and recipient is stored once ----
M="$W/xf.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t500-xf@mail.example.net \
	"Re: xf" "Sent twice with one queue id."
ok "first delivery with XFORWARD IDENT" lc send "$VICTIM" "$M" "$RADDR" \
	--xforward 4XyZ9QbC1
like "XFORWARD accepted" "$OUT" '^XFORWARD 250'
like "stored" "$OUT" "^DATA .* 250 .*posted"
printf '\nA retry with other trace headers.\n' >>"$M"
ok "the retry with the same queue id" lc send "$VICTIM" "$M" "$RADDR" \
	--xforward 4XyZ9QbC1
like "is a duplicate" "$OUT" "^DATA .* 250 .*duplicate"
is "stored once" "$(count_mid "$(thread_json)" msgs t500-xf@)" 1
like "the log names the queue id" "$(cat "$LLOG")" 'qid="4XyZ9QbC1"'

# ---- pipelining, dot-stuffing, bare LF, NUL ----
P="$W/pipelined.txt"
{
	printf 'LHLO client.test\r\nMAIL FROM:<%s>\r\n' "$VICTIM"
	printf 'RCPT TO:<%s>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n' "$RADDR"
	printf 'From: Jane Doe <%s>\r\nTo: %s\r\n' "$VICTIM" "$RADDR"
	printf 'Subject: Re: dots\r\nMessage-ID: <t500-dots@mail.example.net>\r\n'
	printf '\r\n..leading dot kept once\r\nplain line\r\n.\r\n'
	printf 'MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' "$VICTIM" "$RADDR"
	printf 'From: Jane Doe <%s>\nTo: %s\nSubject: Re: bare\n' "$VICTIM" \
		"$RADDR"
	printf 'Message-ID: <t500-barelf@mail.example.net>\n\n'
	printf 'Bare LF lines only.\n.\n'
	printf 'MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' "$VICTIM" "$RADDR"
	printf 'From: Jane Doe <%s>\r\nTo: %s\r\nSubject: Re: nul\r\n' \
		"$VICTIM" "$RADDR"
	printf 'Message-ID: <t500-nul@mail.example.net>\r\n\r\n'
	printf 'A NUL \000 in the middle.\r\n.\r\nQUIT\r\n'
} >"$P"
ok "a pipelined session" lc raw "$P"
echo "$OUT" | sed 's/^/# /'
is "replies in order: LHLO, MAIL, RCPT, 550, 354, 250, then two more \
transactions, 221" \
	"$(printf '%s\n' "$OUT" | grep -v '^R 250-' | awk '{print $2}' |
		tr '\n' ' ')" \
	"220 250 250 250 550 354 250 250 250 354 250 250 250 354 250 221 "
TH=$(thread_json)
is "dot-stuffing undone: one leading dot kept" \
	"$(jqr "$TH" '[msgs[] | select(.message_id | mid ==
		"t500-dots@mail.example.net") | .body_full][0]' |
		grep -c '^\.leading dot kept once')" 1
is "the bare-LF message is stored" \
	"$(count_mid "$TH" msgs t500-barelf@)" 1
nul=$(( $(count_mid "$TH" msgs t500-nul@) + \
	$(count_mid "$(quar_json)" quar t500-nul@) ))
is "the message with a NUL is kept once (thread or quarantine)" "$nul" 1

# ---- over SIZE ----
ok "MAIL with SIZE over the limit" lc raw "$(printf \
	'LHLO c\r\nMAIL FROM:<%s> SIZE=99999999\r\nQUIT\r\n' "$VICTIM" \
	>"$W/size1" && echo "$W/size1")"
like "LHLO advertises SIZE 65536" "$OUT" '^R 250-SIZE 65536'
like "is refused with 552 5.3.4" "$OUT" '^R 552 5\.3\.4'
B="$W/big.txt"
{
	printf 'LHLO c\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n' "$VICTIM" "$RADDR"
	printf 'RCPT TO:<%s>\r\nDATA\r\n' "$RADDR2"
	printf 'From: %s\r\nMessage-ID: <t500-big@mail.example.net>\r\n\r\n' \
		"$VICTIM"
	i=0
	while [ $i -lt 1200 ]; do
		printf '%s\r\n' \
		"0123456789012345678901234567890123456789012345678901234567890123"
		i=$((i + 1))
	done
	printf '.\r\nQUIT\r\n'
} >"$B"
ok "a message over SIZE without the SIZE parameter" lc raw "$B"
is "552 5.3.4 for each recipient after the dot" \
	"$(printf '%s\n' "$OUT" | grep -c '^R 552 5\.3\.4')" 2
is "nothing stored" "$(count_mid "$(thread_json)" msgs t500-big@)" 0

# ---- a client that leaves mid-DATA ----
M="$W/cut.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t500-cut@mail.example.net \
	"Re: cut" "This one never ends."
crlf "$M"
ok "a client drops the connection in the middle of DATA" lc cut "$M" \
	"$RADDR"
like "DATA had been accepted" "$OUT" '^DATA 354'
sleep 0.5
is "nothing stored" "$(count_mid "$(thread_json)" msgs t500-cut@)" 0
is "nothing quarantined" "$(count_mid "$(quar_json)" quar t500-cut@)" 0
ok "the daemon is alive" lmtpd_alive

# ---- wrong order, garbage, long lines ----
G="$W/garbage.txt"
{
	printf 'MAIL FROM:<a@b>\r\nLHLO c\r\nRCPT TO:<%s>\r\nDATA\r\n' "$RADDR"
	printf 'HELO c\r\nEHLO c\r\nMAIL FROM:<a@b> FOO=1\r\n'
	printf 'MAIL FROM: a@b\r\n'
	printf 'XYZZY\r\n\001\002\377\r\nA\000B\r\n'
	head -c 5000 /dev/zero | tr '\0' a
	printf '\r\nNOOP\r\nRSET\r\nVRFY x\r\n'
	printf 'G1\r\nG2\r\nG3\r\nG4\r\nG5\r\nG6\r\nG7\r\nG8\r\n'
} >"$G"
ok "garbage commands" lc raw "$G"
echo "$OUT" | head -30 | sed 's/^/# /'
like "MAIL before LHLO: 503 5.5.1" "$OUT" '^R 503 5\.5\.1 Error: send LHLO'
like "RCPT without MAIL: 503" "$OUT" '^R 503 5\.5\.1 Error: need MAIL'
like "HELO in LMTP: 500 5.5.1" "$OUT" '^R 500 5\.5\.1 Error: this is LMTP'
like "an unknown parameter: 555 5.5.4" "$OUT" '^R 555 5\.5\.4'
like "a path without brackets: 501 5.5.4" "$OUT" '^R 501 5\.5\.4'
like "an unknown command: 500 5.5.2" "$OUT" '^R 500 5\.5\.2 Error: command'
like "a NUL in a command: 500 5.5.2" "$OUT" '^R 500 5\.5\.2 Error: NUL'
like "a 5000-byte line: 500 5.5.2" "$OUT" '^R 500 5\.5\.2 Error: line too'
like "NOOP still answered in between" "$OUT" '^R 252 2\.5\.2'
like "too many errors: 421 and the connection closes" \
	"$(printf '%s\n' "$OUT" | tail -1)" '^R 421 4\.7\.0'
ok "the daemon is alive" lmtpd_alive

# ---- TCP on 127.0.0.1 ----
M="$W/tcp.eml"
mkmsg "$M" "Jane Doe <$VICTIM>" "$RADDR" t500-tcp@mail.example.net \
	"Re: tcp" "Over TCP on loopback."
ok "a delivery over 127.0.0.1 TCP" python3 "$TOP/tests/e2e/lmtp-client.py" \
	"127.0.0.1:$TPORT" send "$VICTIM" "$M" "$RADDR"
like "is stored" "$OUT" '^DATA .* 250 .*posted'
like "the log names the TCP peer" "$(cat "$LLOG")" 'origin="lmtp:127\.0\.0\.1"'

ok "SIGTERM stops the daemon" lmtpd_stop
is "it exits 0" "$LRC" 0
fails "and removes its socket" test -e "$LSOCK"
unlike "no crash or bug in the log" "$(cat "$LLOG")" \
	'died by signal|panic|AddressSanitizer'
finish
