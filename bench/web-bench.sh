#!/bin/sh
# web-bench.sh - casemail-web case page beside nginx serving a static file
#
# SYNOPSIS
#	BUILD=build sh bench/web-bench.sh [SECONDS]
#
# DESCRIPTION
#	Builds a store with an officer, a case, a victim and ten updates,
#	signs the victim in through the portal (GET and POST /l/TOKEN,
#	register) and keeps the session cookie. Then, in the same run and
#	on the same core (taskset -c 0, the load tool on core 1):
#	  wrk against GET /case with that cookie (casemail-web, one thread)
#	  wrk against nginx (worker_processes 1, access_log off) serving a
#	  static copy of the same page, byte for byte the same size
#	and prints both rates and their ratio. Target: at least 0.5.
#	Everything listens on 127.0.0.1 on free ports; both servers are
#	stopped on exit, whatever happens. Needs wrk and nginx (Debian
#	packages wrk, nginx-light: scripts/deps.sh installs them).
#
# DIAGNOSTICS
#	Prints "web-bench: casemail-web N req/s, nginx M req/s, ratio R"
#	and "ok" or "BELOW TARGET"; exits 1 only when something failed
#	to run.
set -u
BUILD=${BUILD:-build}
SECS=${1:-5}
TOP=$(pwd)
BIN="$TOP/$BUILD"
W="$TOP/$BUILD/bench-web"
WEB_PID=""
NGX_PID=""

cleanup() {
	[ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	[ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null && wait "$NGX_PID" 2>/dev/null
	return 0
}
trap cleanup EXIT INT TERM

die() { echo "web-bench: $*" >&2; exit 1; }

for t in wrk nginx; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
		die "$t not installed (sh scripts/deps.sh)"
done
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$BIN/casemail-web" ] || die "$BIN/casemail-web not built (make)"

listening() {
	python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}
free_port() {
	i=0
	while [ $i -lt 50 ]; do
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		listening "$p" || { echo "$p"; return 0; }
		i=$((i + 1))
	done
	return 1
}
wait_port() {
	i=0
	while [ $i -lt 100 ]; do
		listening "$1" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

rm -rf "$W"
mkdir -p "$W/static" "$W/nginx"
WP=$(free_port) || die "no free port"
NP=$(free_port) || die "no free port"
cat >"$W/casemail.conf" <<EOF
database = $W/casemail.db
spool_dir = $W/spool
secret_file = $W/secret
outbox_dir = $W/outbox
mail_domain = cases.example.org
force_name = Example Police
portal_url = https://portal.example.org
template_dir = $TOP/conf/templates
EOF
sed "s|^portal_url.*|portal_url = http://127.0.0.1:$WP|" "$W/casemail.conf" >"$W/web.conf"
cat >>"$W/web.conf" <<EOF
portal_listen = 127.0.0.1:$WP
portal_rate_ip = 100000000
EOF
c() { "$BIN/casemail" -c "$W/casemail.conf" "$@"; }
c init >/dev/null || die "casemail init failed"
c officer add --email pc.jones@police.example.org --name "PC Sam Jones" >/dev/null
c case add HU-20261128-0042 --oic pc.jones@police.example.org >/dev/null
c victim add HU-20261128-0042 --name "Alex Smith" --email alex@example.net >/dev/null
i=0
while [ $i -lt 10 ]; do
	c update HU-20261128-0042 --officer pc.jones@police.example.org \
		--text "Update $i: we have reviewed the footage and spoken to two witnesses. I will update you again within 7 days." >/dev/null
	i=$((i + 1))
done
"$BIN/casemail-send" -c "$W/casemail.conf" --once >/dev/null 2>&1 || die "casemail-send failed"
TOK=$(cat "$W"/outbox/new/* | grep -oE 'https://portal.example.org/l/[A-Za-z0-9_-]+' | head -1 | sed 's|.*/l/||')
[ -n "$TOK" ] || die "no login link in the outbox"

taskset -c 0 "$BIN/casemail-web" -c "$W/web.conf" >"$W/web.log" 2>&1 &
WEB_PID=$!
wait_port "$WP" || die "casemail-web did not start: $(cat "$W/web.log")"
U="http://127.0.0.1:$WP"
J="-s -c $W/jar -b $W/jar"
# shellcheck disable=SC2086
CSRF=$(curl $J "$U/l/$TOK" | grep -oE 'name="csrf" value="[^"]+"' | sed 's/.*value="//; s/"//')
# shellcheck disable=SC2086
curl $J -o /dev/null -d "csrf=$CSRF" "$U/l/$TOK"
# shellcheck disable=SC2086
CSRF=$(curl $J "$U/register" | grep -oE 'name="csrf" value="[^"]+"' | head -1 | sed 's/.*value="//; s/"//')
# shellcheck disable=SC2086
curl $J -o /dev/null -d "csrf=$CSRF&name=Alex+Smith&channel=email" "$U/register"
SID=$(awk '$6 == "cmsid" { print $7 }' "$W/jar")
[ -n "$SID" ] || die "no session cookie"
curl -s -b "cmsid=$SID" -o "$W/static/case.html" -w '%{http_code}' "$U/case" | grep -q 200 ||
	die "the case page did not load"
SIZE=$(wc -c <"$W/static/case.html" | tr -d ' ')

user=""
[ "$(id -u)" = 0 ] && user="user root root;"
cat >"$W/nginx/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $W/nginx/body;
	proxy_temp_path $W/nginx/proxy;
	fastcgi_temp_path $W/nginx/fastcgi;
	uwsgi_temp_path $W/nginx/uwsgi;
	scgi_temp_path $W/nginx/scgi;
	default_type text/html;
	server {
		listen 127.0.0.1:$NP;
		root $W/static;
	}
}
EOF
taskset -c 0 "$NGINX" -c "$W/nginx/nginx.conf" -p "$W/nginx" >"$W/nginx/stdout.log" 2>&1 &
NGX_PID=$!
wait_port "$NP" || die "nginx did not start: $(cat "$W/nginx/error.log" "$W/nginx/stdout.log" 2>/dev/null)"
NSIZE=$(curl -s "http://127.0.0.1:$NP/case.html" | wc -c | tr -d ' ')
[ "$NSIZE" = "$SIZE" ] || die "nginx serves $NSIZE bytes, the case page is $SIZE"

rate() { # URL [header]: req/s, or nothing when any answer was not 2xx
	if [ $# -gt 1 ]; then
		taskset -c 1 wrk -t1 -c16 -d"${SECS}s" -H "$2" "$1"
	else
		taskset -c 1 wrk -t1 -c16 -d"${SECS}s" "$1"
	fi >"$W/wrk.out" 2>&1
	grep -q 'Non-2xx' "$W/wrk.out" && return 0
	awk '/^Requests\/sec/ { printf "%d", $2 }' "$W/wrk.out"
}
# a short warm-up of both, then the measured runs
taskset -c 1 wrk -t1 -c4 -d1s -H "Cookie: cmsid=$SID" "$U/case" >/dev/null 2>&1
WEB=$(rate "$U/case" "Cookie: cmsid=$SID")
NGX=$(rate "http://127.0.0.1:$NP/case.html")
[ -n "$WEB" ] && [ -n "$NGX" ] && [ "$NGX" -gt 0 ] || die "wrk gave no rate"
# every request was a real case page: not a 401 or an error
curl -s -b "cmsid=$SID" "$U/case" | grep -q 'Update 9' || die "the session no longer works"
RATIO=$(awk -v a="$WEB" -v b="$NGX" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.5) ? "ok" : "BELOW TARGET" }')
echo "web-bench: case page $SIZE bytes, one core each, wrk -c16 ${SECS}s"
echo "web-bench: casemail-web $WEB req/s, nginx $NGX req/s, ratio $RATIO (target >= 0.5): $verdict"
