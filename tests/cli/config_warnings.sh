#!/bin/sh
# config_warnings.sh - casemail config check passes but warns about
# settings that load and are doubtful: an empty trusted_authserv_ids
# (officer mail without an officer key is then always held), a
# portal_url that is not https, a portal listening on loopback (behind
# a local proxy) without portal_trust_proxy, and the retired key
# officer_require_auth, which still loads (old files keep working) and is
# ignored. A clean configuration gets no warning. (Each configuration
# names the same store, made once, and the tree's templates, so that
# config check has nothing else to say.)
. "$TOP/tests/lib.sh"
CM="$BIN/casemail"
TPL="template_dir = $TOP/conf/templates"
P="portal_trust_proxy = yes"
mkconf "$TPL"
"$CM" -c "$CONF" init >/dev/null || echo "Bail out! casemail init"

mkconf "$TPL" "trusted_authserv_ids = mx.police.example.org" "$P"
ok "a clean configuration" "$CM" -c "$CONF" config check
is "says ok" "$OUT" "casemail: config $CONF ok"
is "and warns about nothing" "$ERR" ""

mkconf "$TPL" "$P"
ok "no trusted_authserv_ids still passes" "$CM" -c "$CONF" config check
is "one warning line" "$ERR" \
	"casemail: warning: no trusted_authserv_ids: every officer mail to case+/note+ without an officer key will be held"

mkconf "$TPL" "trusted_authserv_ids = mx.police.example.org" \
	"officer_require_auth = yes" "$P"
ok "the retired officer_require_auth still loads" "$CM" -c "$CONF" config check
like "says ok" "$OUT" "config $CONF ok"
like "warns that it is obsolete and ignored, with its line" "$ERR" \
	"^casemail: warning: officer_require_auth \(line 12\) is obsolete, ignored: "
is "one warning" "$(printf '%s\n' "$ERR" | wc -l)" 1
ok "and config show does not list it" "$CM" -c "$CONF" config show
unlike "no officer_require_auth line" "$OUT" "officer_require_auth"
ok "the store opens with it" "$CM" -c "$CONF" init

mkconf "$TPL" "officer_require_auth = no" "$P"
ok "without trusted ids: both warnings" "$CM" -c "$CONF" config check
is "two warning lines" "$(printf '%s\n' "$ERR" | grep -c '^casemail: warning: ')" 2

mkconf "$TPL" "trusted_authserv_ids = mx.police.example.org" \
	"officer_require_auth = yes" "officer_require_auth = no"
exits "but given twice it is a duplicate like any key" 1 \
	"$CM" -c "$CONF" config check
like "naming the line" "$ERR" "casemail.conf:13: duplicate key 'officer_require_auth'"

sed -i 's|^portal_url = .*|portal_url = http://127.0.0.1:8080|' "$CONF"
sed -i '/^officer_require_auth/d' "$CONF"
ok "an http portal_url passes" "$CM" -c "$CONF" config check
like "with a warning: not https, not for production" "$ERR" \
	"portal_url http://127.0.0.1:8080 is not https: .*not in production"

mkconf "$TPL" "trusted_authserv_ids = mx.police.example.org" \
	"portal_listen = 127.0.0.1:8443"
ok "a portal on loopback without portal_trust_proxy passes" "$CM" -c "$CONF" config check
is "with one warning: every client would share the proxy's address" "$ERR" \
	"casemail: warning: portal_listen 127.0.0.1:8443 is a loopback address but portal_trust_proxy = no: behind a proxy on this host every client has the proxy's address, one portal_rate_ip counter and one per-address connection limit for all; set portal_trust_proxy = yes when a local proxy forwards to the portal"
mkconf "$TPL" "trusted_authserv_ids = mx.police.example.org" \
	"portal_listen = 192.0.2.10:8443"
ok "on another address" "$CM" -c "$CONF" config check
is "no such warning" "$ERR" ""
finish
