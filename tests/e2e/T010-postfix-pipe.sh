#!/bin/sh
# T010-postfix-pipe.sh - mail through a real Postfix into casemail-mda
#
# A private Postfix on loopback pipes the domain cases.example.org into
# casemail-mda (user casemail, one recipient per delivery, soft_bounce).
# Six messages go in over SMTP: a victim's reply to reply+KEY, an
# officer's update and an internal note to case+REF and note+REF that
# the border (mx.police.example.org) vouched for with DKIM and DMARC
# pass, the same update with a forged officer From and no such proof, a
# message to a forged reply key and one to an unknown local part. Every
# one must
# leave the queue as "sent" (the mda exits 0 also for what it
# quarantines: no bounce, no backscatter), land where it belongs and
# queue the notices that follow from it.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"

e2e_need_root
e2e_need_jq
cm_user_setup
mkconf "trusted_authserv_ids = mx.police.example.org"
cm_setup_case
pf_start
echo "# postfix on 127.0.0.1:$PF_PORT, maillog $PF_LOG"

FORGED=$(forge_key "$KEY")
M="$W/mail"
mkdir -p "$M"

cat >"$M/reply.eml" <<EOF
From: Jane Doe <$VICTIM>
To: $RADDR
Subject: Re: An update on your case
Date: Sat, 28 Nov 2026 10:15:00 +0000
Message-ID: <t010-reply@mail.example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I found the receipt for the bicycle, the frame number is on it.

On Fri, 27 Nov 2026 at 16:02, Example Police <casemail@$DOMAIN> wrote:
> There is an update on your case. Please log in to read it.
EOF

BORDER="Authentication-Results: mx.police.example.org;
	dkim=pass (2048-bit key) header.d=police.example.org header.s=s1;
	dmarc=pass (p=reject dis=none) header.from=police.example.org
Received: from mail.police.example.org (mail.police.example.org [192.0.2.7])
	by mx.police.example.org (Postfix) with ESMTPS id 4Q2f0k5TZbz9sWf;
	Sat, 28 Nov 2026 11:00:01 +0000"
cat >"$M/forged-update.eml" <<EOF
From: PC Smith <$OFFICER>
To: case+$REF@$DOMAIN
Subject: Update for the victim
Date: Sat, 28 Nov 2026 11:05:00 +0000
Message-ID: <t010-forged-update@evil.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Please call this number urgently about your case.
EOF

cat >"$M/update.eml" <<EOF
$BORDER
From: PC Smith <$OFFICER>
To: case+$REF@$DOMAIN
Subject: Update for the victim
Date: Sat, 28 Nov 2026 11:00:00 +0000
Message-ID: <t010-update@police.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

We have recovered a bicycle matching your description.
EOF

cat >"$M/note.eml" <<EOF
$BORDER
From: PC Smith <$OFFICER>
To: note+$REF@$DOMAIN
Subject: CCTV
Date: Sat, 28 Nov 2026 11:30:00 +0000
Message-ID: <t010-note@police.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

CCTV request sent to the council, reply expected within 7 days.
EOF

mkmsg "$M/forged.eml" "Someone <mallory@example.com>" \
	"reply+$FORGED@$DOMAIN" t010-forged@example.com "Re: your case" \
	"Please send me the case file."
mkmsg "$M/unknown.eml" "Someone <someone@example.com>" \
	"unknown@$DOMAIN" t010-unknown@example.com "Hello" \
	"Is this the right address for the police?"

ok "smtp: victim reply accepted" pf_send "$VICTIM" "$RADDR" "$M/reply.eml"
ok "smtp: officer update accepted" pf_send "$OFFICER" \
	"case+$REF@$DOMAIN" "$M/update.eml"
ok "smtp: forged officer update accepted" pf_send "$OFFICER" \
	"case+$REF@$DOMAIN" "$M/forged-update.eml"
ok "smtp: internal note accepted" pf_send "$OFFICER" \
	"note+$REF@$DOMAIN" "$M/note.eml"
ok "smtp: forged reply key accepted" pf_send mallory@example.com \
	"reply+$FORGED@$DOMAIN" "$M/forged.eml"
ok "smtp: unknown recipient accepted" pf_send someone@example.com \
	"unknown@$DOMAIN" "$M/unknown.eml"

ok "queue empties" pf_wait_queue_empty 60
is "maillog: 6 deliveries status=sent" "$(pf_log_count 'status=sent')" 6
is "maillog: no status=bounced or SOFTBOUNCE" \
	"$(pf_log_count 'status=(bounced|SOFTBOUNCE)')" 0
is "maillog: no status=deferred" "$(pf_log_count 'status=deferred')" 0
[ "$T_FAIL" = 0 ] || pf_log_show 30

TH=$(thread_json)
one() { # MSGID FIELD - one field of the thread message with that id
	jqr "$TH" "[msgs[] | select(.message_id | mid == \$m)] |
		(if length == 1 then .[0].$2 else \"count=\(length)\" end)" \
		--arg m "$1"
}
is "victim reply stored once" "$(count_mid "$TH" msgs t010-reply@)" 1
is "victim reply: author victim" "$(one t010-reply@mail.example.net author)" \
	victim
is "victim reply: posted" "$(one t010-reply@mail.example.net status)" posted
is "victim reply: visible to the victim" \
	"$(one t010-reply@mail.example.net visibility)" victim
is "victim reply: source pipe" "$(one t010-reply@mail.example.net source)" \
	pipe
is "victim reply: sender" "$(one t010-reply@mail.example.net sender)" \
	"$VICTIM"
like "victim reply: body trimmed of the quote" \
	"$(one t010-reply@mail.example.net body)" '^I found the receipt'
unlike "victim reply: trimmed body has no quote" \
	"$(one t010-reply@mail.example.net body)" 'Please log in'
like "victim reply: full body kept" \
	"$(one t010-reply@mail.example.net body_full)" 'Please log in'

is "officer update stored once" "$(count_mid "$TH" msgs t010-update@)" 1
is "officer update: author officer" \
	"$(one t010-update@police.example.org author)" officer
is "officer update: visible to the victim" \
	"$(one t010-update@police.example.org visibility)" victim
is "officer update: posted" \
	"$(one t010-update@police.example.org status)" posted

is "officer update: to the case's one victim, placed by the case address" \
	"$(one t010-update@police.example.org placement)" case_address
is "forged officer update: held, not posted" \
	"$(one t010-forged-update@evil.example status)" held

is "note stored once" "$(count_mid "$TH" msgs t010-note@)" 1
is "note: posted" "$(one t010-note@police.example.org status)" posted
is "note: internal" "$(one t010-note@police.example.org visibility)" \
	internal
is "note: author officer" "$(one t010-note@police.example.org author)" \
	officer

is "forged key not in the thread" "$(count_mid "$TH" msgs t010-forged@)" 0
is "unknown not in the thread" "$(count_mid "$TH" msgs t010-unknown@)" 0
Q=$(quar_json)
is "forged key quarantined" "$(count_mid "$Q" quar t010-forged@)" 1
is "unknown recipient quarantined" "$(count_mid "$Q" quar t010-unknown@)" 1
is "quarantine holds exactly those 2" "$(jqr "$Q" 'quar | length')" 2
is "quarantine keeps the recipient" \
	"$(jqr "$Q" '[quar[] | select(.message_id | mid ==
		"t010-unknown@example.com") | .recipient] | first')" \
	"unknown@$DOMAIN"
like "quarantine keeps the Postfix queue id" \
	"$(jqr "$Q" '[quar[] | select(.message_id | mid ==
		"t010-unknown@example.com") | .queue_id] | first')" \
	'^[0-9A-Za-z]{6,}$'
is "stats: quarantine_held 2" "$(stat_value quarantine_held)" 2
is "stats: messages 4" "$(stat_value messages)" 4

N=$(notices_json)
is "two notices for the officer (the victim's reply; the update held in their name)" \
	"$(jqr "$N" '[notices[] | select(.kind == "officer_notify" and
		.recipient == $o)] | length' --arg o "$OFFICER")" 2
is "a notice queued for the victim (officer update)" \
	"$(jqr "$N" '[notices[] | select(.kind == "update" and
		.recipient == $v)] | length' --arg v "$VICTIM")" 1
is "none to the victim for the note, the held or the quarantined mail" \
	"$(jqr "$N" 'notices | length')" 3

finish
