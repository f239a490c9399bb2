#!/bin/sh
# T300-maildir-links.sh - casemail-mda --maildir reads regular files only
#
# A maildir whose new/ holds, beside two victim replies, a symbolic link
# to the server secret and a FIFO (no writer): the ingest finishes
# promptly, stores the two replies, neither stores nor quarantines the
# link or the FIFO, logs each as skipped and leaves both where they
# were; the secret is nowhere in the store. The same for a link in cur/.
. "$TOP/tests/lib.sh"
mkconf
C="$BIN/casemail -c $CONF"
MDA="$BIN/casemail-mda -c $CONF"

$C init >/dev/null
$C officer add --email oic@police.example.org --name "PC One" >/dev/null
$C case add HU-1 --oic oic@police.example.org >/dev/null
VID=$($C victim add HU-1 --name "V One" --email v1@example.net)
RCPT=$($C address reply HU-1 "$VID")

# mkmsg FILE N - one victim reply numbered N
mkmsg() {
	cat >"$1" <<MAIL
From: V One <v1@example.net>
To: $RCPT
Delivered-To: $RCPT
Subject: Re: your case
Message-ID: <lnk-$2@example.net>
Date: Sat, 28 Nov 2026 10:00:00 +0000

Reply number $2.
MAIL
}

M=$W/Maildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
mkmsg "$M/new/1001.M1P1.host" 1
mkmsg "$M/new/1003.M1P1.host" 2
ln -s "$W/secret" "$M/new/1002.M1P1.host"
mkfifo "$M/new/1004.M1P1.host"
ln -s "$W/casemail.conf" "$M/cur/1005.M1P1.host:2,"

exits "ingest finishes promptly (no wait on the FIFO)" 0 \
	timeout 30 $MDA -v --maildir "$M"
is "summary: the two replies" "$(printf '%s\n' "$OUT" | tail -1)" \
	"ingested 2, duplicates 0, held 0, quarantined 0, events 0, failed 0"
like "the link to the secret is logged as skipped" "$ERR" \
	'origin=[^ ]*/new/1002\.M1P1\.host status=skipped reason=".*symbolic link'
like "the FIFO is logged as skipped" "$ERR" \
	'origin=[^ ]*/new/1004\.M1P1\.host status=skipped reason=".*FIFO'
like "the link in cur/ too" "$ERR" \
	'origin=[^ ]*/cur/1005\.M1P1\.host:2, status=skipped'
ok "the link is still in new/" test -L "$M/new/1002.M1P1.host"
ok "the FIFO is still in new/" test -p "$M/new/1004.M1P1.host"
ok "the link in cur/ is left alone" test -L "$M/cur/1005.M1P1.host:2,"
is "no quarantine folder was made" "$(ls -d "$M/.Quarantine" 2>/dev/null)" ""
ok "quarantine list" $C quarantine list --json
is "nothing in quarantine" "$(printf '%s' "$OUT" | jq '.quarantine | length')" 0
ok "thread" $C thread HU-1 --json
is "two messages in the thread" \
	"$(printf '%s' "$OUT" | jq '.messages | length')" 2
SECRET=$(cat "$W/secret")
is "the secret is nowhere in the database" \
	"$(sqlite3 "$W/casemail.db" .dump | grep -c "$SECRET")" 0
ok "a second run" timeout 30 $MDA --maildir "$M"
is "finds nothing new" "$OUT" \
	"ingested 0, duplicates 0, held 0, quarantined 0, events 0, failed 0"
ok "audit chain intact" $C audit verify
finish
