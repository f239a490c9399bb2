#!/bin/sh
# run.sh - make bench: casemail beside the anchor tools, in one run
#
# Runs ../shared/bench/anchors.sh (maildrop, dovecot-lda, the durable
# floors, notmuch new, mu index) with casemail hooked in, so every figure
# comes from the same run on the same messages and the ratios are fair:
#   pipe   casemail-mda, one process per message, sequential and 4-way,
#          every message a victim reply to a valid reply+KEY address
#          (parsed, trimmed, stored in the thread, officer notice queued)
#   index  casemail-mda --maildir over the 2,000-message corpus
#   memory peak RSS of casemail-mda on a 25 MB message
#   sender casemail-send into Postfix's smtp-sink beside smtp-source,
#          1 and 4 connections (bench/sender-bench.sh)
#   imap   casemail-mda --imap beside mbsync on a private Dovecot
#          (bench/imap-bench.sh)
#   lmtp   casemail-lmtpd beside Dovecot's LMTP server and maildrop's
#          pipe rate, 1 and 20 sessions (bench/lmtp-bench.sh, its own
#          maildrop run under BASE-lmtp)
# Knobs: REPS (default 3), PIPE_N (default 500), N (default 2000), and
# BASE as in anchors.sh. Takes 10-20 minutes. Run as root.
set -eu
TOP=$(pwd)
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD
ANCHORS=${ANCHORS:-$TOP/../shared/bench/anchors.sh}
export REPS=${REPS:-3} PIPE_N=${PIPE_N:-500} N=${N:-2000}
export BASE=${BASE:-/var/tmp/casemail-bench}
export PIPE_TOOLS=${PIPE_TOOLS:-"floor-fsync sqlite-floor maildrop dovecot-lda"}
export INDEX_TOOLS=${INDEX_TOOLS:-"notmuch-new mu-index"}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
[ -f "$ANCHORS" ] || { echo "bench: no $ANCHORS" >&2; exit 1; }

# A fixed secret, so the reply address is known before the runs start.
FIX=$BASE/casemail-fixture
rm -rf "$FIX"
mkdir -p "$FIX"
sh "$TOP/bench/init-store.sh" "$FIX" "$BIN" "$TOP/bench/fixture.secret" \
	>/dev/null
RCPT=$("$BIN/casemail" -c "$FIX/casemail.conf" address reply BENCH-1 1)
chmod -R a+rX "$FIX"

export EXTRA_PIPE_INIT="/bin/sh $TOP/bench/init-store.sh %WORK% $BIN $FIX/secret"
export EXTRA_PIPE="casemail=$BIN/casemail-mda -c %WORK%/casemail.conf --recipient $RCPT"
export EXTRA_INDEX="casemail-maildir=/bin/sh $TOP/bench/index.sh %WORK% %MAILDIR% $BIN $FIX/secret"
bash "$ANCHORS" setup corpus pipe index report

# Ratios from this run's table.
RES=$(readlink -f "$BASE/results/latest")
python3 "$TOP/bench/ratios.py" "$RES/raw.tsv" | tee "$RES/casemail-ratios.txt"

# Peak memory on a 25 MB message (parent and child).
sh "$TOP/bench/memory.sh" "$BIN" "$FIX" | tee -a "$RES/casemail-ratios.txt"

# Sending, and IMAP ingest, each beside its anchor in one run.
BUILD=$BUILD sh "$TOP/bench/sender-bench.sh" 5000 | tee -a "$RES/casemail-ratios.txt"
BUILD=$BUILD sh "$TOP/bench/imap-bench.sh" "$N" | tee -a "$RES/casemail-ratios.txt"
BUILD=$BUILD BASE=$BASE-lmtp sh "$TOP/bench/lmtp-bench.sh" 2000 |
	tee -a "$RES/casemail-ratios.txt"
[ -f "$TOP/bench/web-bench.sh" ] &&
	BUILD=$BUILD sh "$TOP/bench/web-bench.sh" | tee -a "$RES/casemail-ratios.txt"
echo "bench: all figures in $RES/casemail-ratios.txt"
