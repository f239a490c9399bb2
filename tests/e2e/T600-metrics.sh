#!/bin/sh
# T600-metrics.sh - the metrics in the OpenMetrics text format
#
# A store with something in every family: notices sent to the outbox
# and one queued, a victim's reply and a stranger's message through
# casemail-mda (a delivery posted, one held, one quarantined), a login
# link issued and redeemed at a running casemail-web. Then casemail
# stats --openmetrics and the portal's /metrics (portal_metrics = yes)
# are read by prometheus_client's OpenMetrics parser (Debian's
# python3-prometheus-client) and every sample is checked against the
# store's own counts (sqlite3). /metrics is 404 with portal_metrics off,
# with an X-Forwarded-For or Forwarded header, and from a peer that is
# not loopback (when this machine has such an address).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/sender-lib.sh"
. "$TOP/tests/e2e/web-lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
	echo "1..0 # SKIP python3-prometheus-client not installed (scripts/deps.sh)"
	exit 0
fi
command -v sqlite3 >/dev/null 2>&1 || {
	echo "1..0 # SKIP sqlite3 not installed"
	exit 0
}
sl_need_bins
web_need
sl_conf
sl_case
update 2
ok "send the notices into the outbox" send --once
F=$(grep -l "To: Jane Doe" "$W"/outbox/new/* | head -1)
TOK=$(link_of "$F")
update 1

# mail in: the victim's reply, a stranger on the reply key (held), an
# unknown address (quarantined)
RADDR=$(c address reply "$SL_REF" "$VID")
mail_in() { # FROM TO QID TEXT
	printf 'From: %s\nTo: %s\nSubject: Re: your case\nMessage-ID: <%s@example.net>\n\n%s\n' \
		"$1" "$2" "$3" "$4" |
		"$BIN/casemail-mda" -c "$CONF" --sender "$1" --recipient "$2" \
			--queue-id "$3"
}
ok "a victim's reply" mail_in "$SL_VICTIM" "$RADDR" Q1 "Thank you"
ok "a stranger on the reply key" mail_in stranger@example.com "$RADDR" Q2 "Hello"
ok "an unknown address" mail_in stranger@example.com \
	nobody@cases.example.org Q3 "Who?"

web_conf "portal_metrics = yes"
web_start
ok "the login link is redeemed" web_signin "$TOK" "$W/jar"

# check FILE - parse FILE with the OpenMetrics parser and compare each
# sample with the store; prints "ok" or what differs
check() {
	"$PY" - "$1" "$W/casemail.db" <<'EOF'
import sqlite3, sys, time
from prometheus_client.openmetrics.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
db = sqlite3.connect(sys.argv[2])
one = lambda q: db.execute(q).fetchone()[0]
bad = []

def want(fam, typ, labels, value, sample=None):
    f = fams.get(fam)
    if f is None:
        bad.append("no family " + fam)
        return
    if f.type != typ:
        bad.append("%s is %s, not %s" % (fam, f.type, typ))
    name = sample or fam
    got = [s.value for s in f.samples if s.name == name and s.labels == labels]
    if got != [value]:
        bad.append("%s%s: %s, store says %s" % (name, labels, got, value))

for st in ("queued", "sending", "sent", "deferred", "failed", "suppressed"):
    for ch in ("email", "sms"):
        want("casemail_notices", "gauge", {"status": st, "channel": ch},
             one("SELECT count(*) FROM notices WHERE status = '%s' AND"
                 " channel = '%s'" % (st, ch)))
for w in ("message", "quarantine", "event"):
    want("casemail_deliveries", "counter", {"outcome": w},
         one("SELECT count(*) FROM deliveries WHERE what = '%s'" % w),
         "casemail_deliveries_total")
for st in ("posted", "held", "rejected"):
    for a in ("victim", "officer", "system"):
        want("casemail_messages", "gauge", {"status": st, "author": a},
             one("SELECT count(*) FROM messages WHERE kind = 'message' AND"
                 " status = '%s' AND author = '%s'" % (st, a)))
for st in ("held", "released", "deleted"):
    want("casemail_quarantine", "gauge", {"status": st},
         one("SELECT count(*) FROM quarantine WHERE status = '%s'" % st))
want("casemail_bounces", "counter", {},
     one("SELECT count(*) FROM messages WHERE kind = 'bounce'"),
     "casemail_bounces_total")
want("casemail_login_links_issued", "counter", {},
     one("SELECT count(*) FROM tokens WHERE kind = 'login'"),
     "casemail_login_links_issued_total")
want("casemail_login_links_redeemed", "counter", {},
     one("SELECT count(*) FROM tokens WHERE kind = 'login' AND"
         " used_at IS NOT NULL"), "casemail_login_links_redeemed_total")
want("casemail_addresses_undeliverable", "gauge", {},
     one("SELECT count(*) FROM victims WHERE email_status = 'undeliverable'"))
want("casemail_milestones_overdue", "gauge", {},
     one("SELECT count(*) FROM milestones WHERE status IN ('pending',"
         " 'overdue') AND deadline < strftime('%s', 'now')"))
due = one("SELECT min(next_attempt_at) FROM notices WHERE status IN"
          " ('queued', 'deferred') AND next_attempt_at <= strftime('%s', 'now')")
f = fams.get("casemail_notice_oldest_due_age_seconds")
if f is None or f.unit != "seconds":
    bad.append("no casemail_notice_oldest_due_age_seconds in seconds")
else:
    v = f.samples[0].value
    if due is None and v != 0:
        bad.append("oldest due age %s with nothing due" % v)
    if due is not None and not (0 <= time.time() - due - v <= 10):
        bad.append("oldest due age %s, store says %s" % (v, time.time() - due))
print("\n".join(bad) if bad else "ok")
print("families %d, samples %d" % (len(fams), sum(len(f.samples) for f in fams.values())),
      file=sys.stderr)
EOF
}

is "the store has something in each family: a redeemed link" \
	"$(sql "SELECT count(*) FROM tokens WHERE kind = 'login' AND used_at IS NOT NULL")" 1
is "a held message" "$(sql "SELECT count(*) FROM messages WHERE status = 'held'")" 1
is "a quarantined message" "$(sql "SELECT count(*) FROM quarantine")" 1
like "queued notices" "$(sql "SELECT count(*) FROM notices WHERE status = 'queued'")" "^[1-9]"

ok "casemail stats --openmetrics" c stats --openmetrics
printf '%s\n' "$OUT" >"$W/stats.om"
like "ends with # EOF" "$(tail -1 "$W/stats.om")" "^# EOF$"
is "parsed by prometheus_client: every sample matches the store" \
	"$(check "$W/stats.om" 2>"$W/check.err")" ok
sed 's/^/# /' "$W/check.err"
fails "--json and --openmetrics together" c stats --json --openmetrics

# the portal's endpoint
CODE=$(curl -s -o "$W/web.om" -D "$W/hdr" -w '%{http_code}' --max-time 10 \
	"$WEB_URL/metrics")
is "GET /metrics from loopback: 200" "$CODE" 200
like "as OpenMetrics text" "$(tr -d '\r' <"$W/hdr")" \
	"^Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"
is "parsed: every sample matches the store" \
	"$(check "$W/web.om" 2>/dev/null)" ok
like "the portal's answers by status" "$(cat "$W/web.om")" \
	'^casemail_portal_requests_total\{code="303"\} [1-9]'
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	-H "X-Forwarded-For: 203.0.113.9" "$WEB_URL/metrics")
is "through a proxy (X-Forwarded-For): 404" "$CODE" 404
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	-H "Forwarded: for=203.0.113.9" "$WEB_URL/metrics")
is "through a proxy (Forwarded): 404" "$CODE" 404

# a peer that is not loopback: the portal on every address, asked on
# this machine's first other address
ADDR=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' |
	cut -d/ -f1 | head -1)
if [ -n "$ADDR" ]; then
	web_stop
	sed -i "s|^portal_listen.*|portal_listen = 0.0.0.0:$WEB_PORT|" "$WCONF"
	web_start
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		"http://$ADDR:$WEB_PORT/metrics")
	is "from $ADDR (not loopback): 404" "$CODE" 404
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		"$WEB_URL/metrics")
	is "the same portal from 127.0.0.1: 200" "$CODE" 200
fi

web_stop
sed -i '/^portal_metrics/d' "$WCONF"
web_start
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	"$WEB_URL/metrics")
is "portal_metrics off (the default): 404" "$CODE" 404
finish
