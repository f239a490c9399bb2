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
# REPS alternating runs of each, on the same messages; medians compared
printf '%s\n' "$DV_PASS" >"$W/pw"
chmod 600 "$W/pw"
mkconf "imap_password_file = $W/pw" "imap_ca_file = $DV_CA"
REPS=${REPS:-3}
: >"$W/times"
r=0
while [ $r -lt "$REPS" ]; do
	r=$((r + 1))
	rm -rf "$W/mbsync" "$HOME/.mbsync/"*bench* 2>/dev/null
	mkdir -p "$W/mbsync"
	t0=$(now)
	mbsync -q -c "$W/mbsyncrc" bench
	t1=$(now)
	got=$(find "$W/mbsync/INBOX" -type f -path '*/new/*' -o -type f -path '*/cur/*' | wc -l)
	rm -f "$W"/casemail.db*
	"$BIN/casemail" -c "$CONF" init >/dev/null
	t2=$(now)
	"$BIN/casemail-mda" -c "$CONF" --imap "imaps://$DV_USER@localhost:$DV_PORT/INBOX" --once >"$W/cm.out"
	t3=$(now)
	echo "$got $t0 $t1 $t2 $t3 $(cat "$W/cm.out")" >>"$W/times"
	# everything back into INBOX for the next repetition
	for f in Processed Quarantine; do
		dv_doveadm move -u "$DV_USER" INBOX mailbox "$f" ALL \
			2>/dev/null || true
	done
done
python3 - "$n" "$W/times" <<'PY'
import statistics, sys
n = int(sys.argv[1])
m, c, out = [], [], ""
for line in open(sys.argv[2]):
    f = line.split(None, 5)
    got, t0, t1, t2, t3 = int(f[0]), *map(float, f[1:5])
    m.append(got / (t1 - t0))
    c.append(n / (t3 - t2))
    out = f[5].strip()
mm, cm = statistics.median(m), statistics.median(c)
print(f"imap-bench: {n} messages in a private Dovecot, {len(m)} runs each")
print(f"  casemail: {out}")
print("  mbsync   msg/s " + " ".join(f"{x:7.1f}" for x in m) + f"  median {mm:7.1f}")
print("  casemail msg/s " + " ".join(f"{x:7.1f}" for x in c) + f"  median {cm:7.1f}")
print(f"  ratio of medians {cm / mm:.2f} (target >= 1)")
PY
