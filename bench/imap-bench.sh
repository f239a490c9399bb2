#!/bin/sh
# imap-bench.sh - casemail-mda --imap beside mbsync on the same mailbox
#
# SYNOPSIS
#	BUILD=build sh bench/imap-bench.sh [N]
#
# DESCRIPTION
#	Starts the private Dovecot of the tests (tests/e2e/dovecot-lib.sh) on
#	loopback, APPENDs the first N (default 2000) messages of the anchor
#	corpus (../shared/bench, made by `make bench` or anchors.sh; a small
#	generated set when it is missing) to INBOX, then times, in one run:
#	  mbsync     fetching the mailbox into a maildir (Sync Pull New)
#	  casemail   casemail-mda --imap ... --once: fetch, parse, store with
#	             the UID in the same transaction, then \\Seen and MOVE
#	and prints messages per second and the ratio (target: at least 1).
set -eu
TOP=$(pwd)
BUILD=${BUILD:-build}
N=${1:-2000}
CORPUS=${CORPUS:-/var/tmp/casemail-bench/corpus/n2000-seed42/eml}
command -v mbsync >/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq isync >/dev/null
}
export TOP BUILD
# shellcheck disable=SC1091
. "$TOP/tests/lib.sh"
# shellcheck disable=SC1091
. "$TOP/tests/e2e/dovecot-lib.sh"
dv_start

mkdir -p "$W/msgs"
if [ -d "$CORPUS" ]; then
	ls "$CORPUS" | head -n "$N" | while read -r f; do
		cp "$CORPUS/$f" "$W/msgs/$f"
	done
else
	i=0
	while [ $i -lt "$N" ]; do
		i=$((i + 1))
		printf 'From: v%d@example.net\nTo: x@example.org\nSubject: m %d\nMessage-ID: <b%d@example.net>\n\nBody %d\n' \
			$i $i $i $i >"$W/msgs/$i.eml"
	done
fi
n=$(ls "$W/msgs" | wc -l)
python3 "$TOP/tests/e2e/imap-append.py" "$DV_HOST" "$DV_PORT" "$DV_CA" \
	"$DV_USER" "$DV_PASS" INBOX $(ls -d "$W"/msgs/*)

now() { python3 -c 'import time; print("%.6f" % time.time())'; }

# mbsync, pulling new mail into a maildir
mkdir -p "$W/mbsync"
cat >"$W/mbsyncrc" <<RC
IMAPAccount bench
Host localhost
Port $DV_PORT
User $DV_USER
Pass $DV_PASS
SSLType IMAPS
CertificateFile $DV_CA

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path $W/mbsync/
Inbox $W/mbsync/INBOX

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Create Near
Sync Pull New
SyncState *
RC
t0=$(now)
mbsync -q -c "$W/mbsyncrc" bench
t1=$(now)
got=$(find "$W/mbsync/INBOX" -type f -path '*/new/*' -o -type f -path '*/cur/*' | wc -l)

# casemail-mda --imap --once on the same mailbox
printf '%s\n' "$DV_PASS" >"$W/pw"
chmod 600 "$W/pw"
mkconf "imap_password_file = $W/pw" "imap_ca_file = $DV_CA"
"$BIN/casemail" -c "$CONF" init >/dev/null
t2=$(now)
"$BIN/casemail-mda" -c "$CONF" --imap "imaps://$DV_USER@localhost:$DV_PORT/INBOX" --once >"$W/cm.out"
t3=$(now)
python3 - "$n" "$got" "$t0" "$t1" "$t2" "$t3" "$(cat "$W/cm.out")" <<'PY'
import sys
n, got = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
m, c = got / (t1 - t0), n / (t3 - t2)
print(f"imap-bench: {n} messages appended to a private Dovecot")
print(f"  mbsync   {got:5d} fetched  {m:8.1f} msg/s")
print(f"  casemail {sys.argv[7]}")
print(f"  casemail {n:5d} stored   {c:8.1f} msg/s  ratio {c / m:.2f} (target >= 1)")
PY
