#!/bin/sh
# init-store.sh DIR BIN [SECRET] - a casemail store for the benchmarks:
# config, secret (copied from SECRET when given), database, one officer,
# case BENCH-1 with victim 1.
set -eu
D=$1
BIN=$2
mkdir -p "$D"
cat >"$D/casemail.conf" <<CONF
database = $D/casemail.db
spool_dir = $D/spool
secret_file = $D/secret
outbox_dir = $D/outbox
mail_domain = cases.example.org
mda_allow_root = yes
CONF
if [ $# -ge 3 ]; then
	cp "$3" "$D/secret"
	chmod 600 "$D/secret"
fi
C="$BIN/casemail -c $D/casemail.conf"
$C init >/dev/null
$C officer add --email oic@police.example.org --name "Bench Officer" >/dev/null
$C case add BENCH-1 --oic oic@police.example.org >/dev/null
$C victim add BENCH-1 --name "Bench Victim" --email victim@example.net >/dev/null
