#!/bin/sh
# demo.sh - the main job on the embedded default, under ./var/demo
#
# A fresh SQLite store and secret, an officer, a case, a victim; the
# officer posts an update (notices queued); the victim's reply, addressed
# to the reply+KEY address a notice carries, is piped into casemail-mda
# as Postfix would; a forged reply is quarantined; then the thread, the
# notice queue, the quarantine and the audit check are shown.
set -eu
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD
D=$(pwd)/var/demo
rm -rf "$D"
mkdir -p "$D"
CONF=$D/casemail.conf
cat >"$CONF" <<CONF
# demo configuration: everything under var/demo, outgoing mail into a
# local outbox maildir (no smtp_url)
database = $D/casemail.db
spool_dir = $D/spool
secret_file = $D/secret
outbox_dir = $D/outbox
mail_domain = cases.example.org
force_name = Example Constabulary
portal_url = https://portal.example.org
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

REPLY=$(cm address reply HU-20261128-0042 "$VID")
echo "the victim replies to $REPLY"
cat >"$D/reply.eml" <<MAIL
From: Alex Smith <alex.smith@example.net>
To: $REPLY
Subject: Re: Update on your case HU-20261128-0042
Message-ID: <demo-reply-1@example.net>
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

cm thread HU-20261128-0042
cm notices
cm quarantine list
cm stats
cm audit verify
echo
echo "demo store: $D/casemail.db (config $CONF)"
