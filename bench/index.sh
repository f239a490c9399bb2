#!/bin/sh
# index.sh WORK MAILDIR BIN SECRET - casemail-mda --maildir over a copy of
# the corpus maildir (hard links, so our moves never touch the corpus;
# the copy is part of the timed work).
set -eu
W=$1
M=$2
BIN=$3
sh "$(dirname "$0")/init-store.sh" "$W" "$BIN" "$4"
mkdir -p "$W/Maildir/tmp" "$W/Maildir/cur" "$W/Maildir/new"
cp -al "$M/cur/." "$W/Maildir/new/"
"$BIN/casemail-mda" -c "$W/casemail.conf" --maildir "$W/Maildir"
