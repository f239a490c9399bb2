#!/bin/sh
# T120-sender-postfix.sh - notices through a real Postfix, and back
#
# A private Postfix on loopback (tests/e2e/postfix-lib.sh) relays
# casemail-send's mail and delivers example.net into a local maildir
# with virtual(8), which writes the envelope sender as Return-Path. The
# notice must arrive with the headers as sent and Return-Path the VERP
# address bounce+KEY@cases.example.org; the victim's reply to it, sent
# back through the same Postfix to its Reply-To, is piped into
# casemail-mda and lands in the case thread, with the officer's
# notification queued and then delivered the same way.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

e2e_need_root
e2e_need_jq
cm_user_setup
[ -x "$BIN/casemail-send" ] || cp "$TOP/$BUILD/casemail-send" "$BIN/"
mkdir -p "$W/templates"
cp "$TOP"/conf/templates/* "$W/templates/"
chmod -R a+rX "$W/templates"
mkconf "template_dir = $W/templates"
cm_setup_case
pf_start
echo "# postfix on 127.0.0.1:$PF_PORT, maillog $PF_LOG"

# example.net: final delivery into $W/vmail/victim/ (a maildir)
VM="$W/vmail"
mkdir -p "$VM"
chown nobody "$VM"
cat >>"$PF_ETC/main.cf" <<CF
virtual_mailbox_domains = example.net police.example.org
virtual_mailbox_base = $VM
virtual_mailbox_maps = inline:{ $VICTIM=victim/, $OFFICER=officer/ }
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
CF
echo "virtual   unix  -       n       n       -       -       virtual" \
	>>"$PF_ETC/master.cf"
ok "postfix reload" postfix -c "$PF_ETC" reload
sleep 1
mkconf "template_dir = $W/templates" "smtp_url = smtp://127.0.0.1:$PF_PORT/casemail.test"

sendq() {
	as_cm "$BIN/casemail-send" -c "$CONF" "$@"
}
# wait_file DIR - the first file to appear in DIR/new (30 s)
wait_file() {
	i=0
	while [ $i -lt 150 ]; do
		f=$(ls "$1"/new/* 2>/dev/null | head -1)
		if [ -n "$f" ]; then
			echo "$f"
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
MC="python3 $TOP/tests/e2e/mailcheck.py"

ok "update" cm update "$REF" --officer "$OFFICER" --text "We have news."
ok "casemail-send into Postfix" sendq --once
is "notice sent" "$(jqr "$(notices_json)" '[notices[] | select(.status == "sent")] | length')" 1
like "Postfix's reply recorded" "$(jqr "$(notices_json)" 'notices[0].last_error')" "^250 .*queued as"
F=$(wait_file "$VM/victim")
like "delivered into the victim's maildir" "$F" "/victim/new/"
pf_log_show 5
BOUNCE=$(cm address bounce 1)
is "Return-Path is the VERP address" "$($MC "$F" header Return-Path)" "<$BOUNCE>"
like "bounce address shape" "$BOUNCE" "^bounce\+[a-z0-9]+@$DOMAIN\$"
is "Reply-To as sent" "$($MC "$F" header Reply-To)" "$RADDR"
is "headers as sent" "$($MC "$F" headers | grep -vE '^(Return-Path|Delivered-To|X-Original-To|Received)$' | tr '\n' ' ')" \
	"From To Reply-To Subject Date Message-Id Auto-Submitted List-Unsubscribe List-Unsubscribe-Post MIME-Version Content-Type "
MID=$($MC "$F" header Message-Id)
is "Message-ID as stored" "$MID" "<$(sqlite3 "$W/casemail.db" "SELECT sent_message_id FROM notices WHERE id = 1")>"

# the victim answers the notice, through Postfix, to its Reply-To
cat >"$W/reply.eml" <<MAIL
From: Jane Doe <$VICTIM>
To: $RADDR
Subject: Re: $($MC "$F" header Subject)
In-Reply-To: $MID
References: $MID
Message-ID: <t120-reply@example.net>
Date: $(LC_ALL=C date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thank you, I can come in on Monday.
MAIL
ok "reply accepted by Postfix" pf_send "$VICTIM" "$RADDR" "$W/reply.eml"
ok "queue drained" pf_wait_queue_empty 60
like "reply in the thread" "$(jq_thread 'msgs[] | select(.author == "victim") | .body')" "Monday"
like "its In-Reply-To is our notice" "$(jq_thread 'msgs[] | select(.author == "victim") | .in_reply_to | mid')" "^$(printf '%s' "$MID" | tr -d '<>')\$"
ok "send the officer notification" sendq --once
O=$(wait_file "$VM/officer")
like "officer notification delivered" "$O" "/officer/new/"
OKEY=$(cm address officer "$REF" "$VID" --officer "$OFFICER")
is "officer Reply-To: the officer's key address for this victim" \
	"$($MC "$O" header Reply-To)" "$OKEY"
like "officer sees the reply" "$($MC "$O" text)" "Monday"

# the officer answers by replying: through Postfix to that address
cat >"$W/answer.eml" <<EOF
From: PC Smith <$OFFICER>
To: $OKEY
Subject: Re: $($MC "$O" header Subject)
Message-ID: <t120-answer@police.example.org>
Date: Sat, 28 Nov 2026 12:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thank you, Monday at ten suits us.
EOF
ok "the officer's answer accepted by Postfix" pf_send "$OFFICER" "$OKEY" "$W/answer.eml"
ok "queue drained" pf_wait_queue_empty 60
is "posted to this victim, placed by the officer key" \
	"$(jq_thread '[msgs[] | select(.body | test("Monday at ten")) | "\(.status) \(.author) \(.victim_id) \(.placement)"] | join(",")')" \
	"posted officer $VID officer_key"
ok "audit chain intact" cm audit verify
finish
