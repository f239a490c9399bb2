#!/bin/sh
# demo.sh - the main job on the embedded default, under ./var/demo
#
# A fresh SQLite store and secret, an officer, a case, a victim; the
# officer posts an update (notices queued); casemail-send writes the
# victim's notice (a one-time login link, no case content) into the
# local outbox maildir; the link redeems once; the victim's reply to that
# notice is piped into casemail-mda as Postfix would, threaded by its
# reply+KEY address; a forged reply is quarantined; casemail-send writes
# the officer's notification; then the thread, the notice queue, the
# quarantine and the audit check are shown. DEMO_DIR (default
# ./var/demo) is where it all goes.
set -eu
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD
D=${DEMO_DIR:-$(pwd)/var/demo}
# a portal left running by an earlier demo
[ -f "$D/web.pid" ] && sh scripts/web-demo.sh stop
rm -rf "$D"
mkdir -p "$D"
CONF=$D/casemail.conf

# SMS goes to GOV.UK Notify, which cannot be reached from here: a
# stand-in on loopback that checks requests the way Notify documents
# them (JWT, JSON body) takes its place.
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$D/notify-key"
chmod 600 "$D/notify-key"
python3 tests/e2e/fake-notify.py --port-file "$D/notify.port" \
	--service-id 5f0e2c1a-7a5b-4c1e-9a53-2d4f0c6b8e11 \
	--key-file "$D/notify-key" --template-id demo-sms-template \
	--log "$D/sms.log" &
NOTIFY_PID=$!
trap 'kill $NOTIFY_PID 2>/dev/null' EXIT
n=0
while [ ! -s "$D/notify.port" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
NOTIFY_PORT=$(cat "$D/notify.port")

cat >"$CONF" <<CONF
# demo configuration: everything under var/demo, outgoing mail into a
# local outbox maildir (no smtp_url)
database = $D/casemail.db
spool_dir = $D/spool
secret_file = $D/secret
outbox_dir = $D/outbox
mail_domain = cases.example.org
# the border that vouches (DKIM/DMARC) for the officers' mail samples
trusted_authserv_ids = mx.cases.example.org
force_name = Example Constabulary
portal_url = https://portal.example.org
template_dir = $(pwd)/conf/templates
sms_url = http://127.0.0.1:$NOTIFY_PORT
sms_service_id = 5f0e2c1a-7a5b-4c1e-9a53-2d4f0c6b8e11
sms_key_file = $D/notify-key
sms_template_id = demo-sms-template
# the demo runs as whoever calls make; the real mda runs as casemail
mda_allow_root = yes
CONF
cm() { echo "\$ casemail $*" >&2; "$BIN/casemail" -c "$CONF" "$@"; }

cm init
cm officer add --email pc.jones@police.example.org --name "PC Sam Jones" --collar 4521
cm case add HU-20261128-0042 --oic pc.jones@police.example.org --title "Burglary, 12 Mill Lane"
VID=$(cm victim add HU-20261128-0042 --name "Alex Smith" --email alex.smith@example.net --phone "+447700900123" --channel both)
echo "victim id $VID"
cm update HU-20261128-0042 --officer pc.jones@police.example.org \
	--text "We have reviewed the doorbell footage and identified a suspect vehicle. I will update you again within 7 days."
cm update HU-20261128-0042 --officer pc.jones@police.example.org --internal \
	--text "Vehicle index passed to intelligence unit."

echo '$ casemail-send --dry-run' >&2
"$BIN/casemail-send" -c "$CONF" --dry-run | head -20
echo '$ casemail-send --once' >&2
"$BIN/casemail-send" -c "$CONF" --once
NOTICE=$(ls "$D"/outbox/new/* | head -1)
echo "--- the notice in the outbox ($NOTICE), headers:"
sed -n '1,/^$/p' "$NOTICE"
TOKEN=$(grep -o 'https://portal.example.org/l/[A-Za-z0-9_-]*' "$NOTICE" |
	head -1 | sed 's|.*/l/||')
echo "$TOKEN" | cm token check -
echo "$TOKEN" | cm token redeem -
echo "$TOKEN" | cm token redeem - || echo "(a second redeem is refused)"

REPLY=$(sed -n 's/^Reply-To: *//p' "$NOTICE" | sed 's/.*<\(.*\)>.*/\1/')
MID=$(sed -n 's/^Message-I[Dd]: *//p' "$NOTICE")
echo "the victim replies to $REPLY"
cat >"$D/reply.eml" <<MAIL
From: Alex Smith <alex.smith@example.net>
To: $REPLY
Subject: Re: Update on your case HU-20261128-0042
Message-ID: <demo-reply-1@example.net>
In-Reply-To: $MID
References: $MID
Date: Sat, 28 Nov 2026 10:15:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thank you. The car was there on Tuesday night as well, my neighbour
has footage of that too.

Alex

On Sat, 28 Nov 2026 at 09:00, Example Constabulary wrote:
> There is an update on your case HU-20261128-0042.
> Sign in to read it: https://portal.example.org/l/...
MAIL
echo "\$ casemail-mda --recipient $REPLY < reply.eml" >&2
"$BIN/casemail-mda" -c "$CONF" --sender alex.smith@example.net \
	--recipient "$REPLY" --queue-id DEMO1 <"$D/reply.eml"
echo "\$ casemail-mda (the same delivery again, as after a retry)" >&2
"$BIN/casemail-mda" -c "$CONF" --sender alex.smith@example.net \
	--recipient "$REPLY" --queue-id DEMO1 <"$D/reply.eml"

FORGED=$(echo "$REPLY" | sed 's/reply+\(.\)/reply+x/')
sed "s/^To: .*/To: $FORGED/; s/demo-reply-1/demo-forged-1/" "$D/reply.eml" >"$D/forged.eml"
echo "\$ casemail-mda --recipient $FORGED < forged.eml" >&2
"$BIN/casemail-mda" -c "$CONF" --sender mallory@example.com \
	--recipient "$FORGED" --queue-id DEMO2 <"$D/forged.eml"

echo '$ casemail-send --once   (the officer is told)' >&2
"$BIN/casemail-send" -c "$CONF" --once
OFFICER=$(grep -l 'pc.jones@police.example.org' "$D"/outbox/new/* | head -1)
echo "--- the officer's notification ($OFFICER), headers:"
sed -n '1,/^$/p' "$OFFICER"

echo "--- the SMS request the gateway received (no case content):"
cat "$D/sms.log"

cm thread HU-20261128-0042
cm notices
cm quarantine list
cm stats
cm audit verify
echo
echo "demo store: $D/casemail.db (config $CONF)"
