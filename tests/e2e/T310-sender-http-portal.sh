#!/bin/sh
# T310-sender-http-portal.sh - notices with a portal_url on http://
#
# A loopback trial naturally sets portal_url = http://127.0.0.1:PORT.
# casemail config check passes and warns that it is not https; the
# sender warns at start too, and still builds and delivers every victim
# notice: List-Unsubscribe carries the mailto: target alone and there is
# no List-Unsubscribe-Post (one-click is for https only); the login link
# works. Then a notice that cannot be built (a victim address that
# passed no check, put in with sqlite3 as an old row would be): the
# sender, run without -v and without a terminal as from a timer, says so
# on stderr with the reason, and the notice is failed with that reason
# in last_error.
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"

sl_need_bins
sl_conf
sed -i 's|^portal_url = .*|portal_url = http://127.0.0.1:8080|' "$CONF"
MC="python3 $TOP/tests/e2e/mailcheck.py"
NEW="$W/outbox/new"

# config check also looks for the store: make it first
c init >/dev/null || echo "Bail out! casemail init"
ok "config check passes" c config check
like "and says ok" "$OUT" "config $CONF ok"
like "with a warning that portal_url is not https" "$ERR" \
	'^casemail: warning: portal_url http://127\.0\.0\.1:8080 is not https'
like "fine on loopback, not in production" "$ERR" "not in production"

sl_case
update 1
ok "send --once (no -v, no terminal)" send --once </dev/null
like "the sender warns at start" "$ERR" "portal_url .* is not https"
is "the notice is sent" "$(status_count sent)" 1
is "none failed" "$(status_count failed)" 0
F=$(ls "$NEW"/* 2>/dev/null | head -1)
like "it is in the outbox" "$F" "."
is "header set: no List-Unsubscribe-Post" \
	"$($MC "$F" headers | tr '\n' ' ')" \
	"Return-Path From To Reply-To Subject Date Message-Id Auto-Submitted List-Unsubscribe MIME-Version Content-Type "
like "List-Unsubscribe: the mailto: target alone" \
	"$($MC "$F" header List-Unsubscribe)" \
	'^<mailto:reply\+[a-z0-9]+@cases\.example\.org\?subject=unsubscribe>$'
TOK=$($MC "$F" text | grep -oE 'http://127\.0\.0\.1:8080/l/[A-Za-z0-9_-]+' |
	head -1 | sed 's|.*/l/||')
like "the login link is on the portal_url" "$TOK" '^[A-Za-z0-9_-]{43}$'
ok "and it is valid" sh -c "printf '%s\n' '$TOK' | \"$BIN/casemail\" -c '$CONF' token check -"

# a notice that cannot be built
sql "UPDATE victims SET email = 'jane doe@example.net' WHERE id = $VID" >/dev/null
update 1
ok "send --once with an unbuildable notice still exits 0" send --once </dev/null
is "that notice failed" "$(status_count failed)" 1
like "stderr says which notice and why, without -v" "$ERR" \
	'casemail-send: error: notice=[0-9]+ case=HU-20261128-0042 kind=update status=unbuildable reason="compose: invalid address"'
like "the reason is kept on the notice" \
	"$(sql "SELECT last_error FROM notices WHERE status = 'failed'")" \
	'^cannot build the message \(compose: invalid address\)$'
ok "notices lists it" c notices --status failed
like "with its reason" "$OUT" "invalid address"
ok "audit chain intact" c audit verify
finish
