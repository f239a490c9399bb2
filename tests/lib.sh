# lib.sh - TAP helpers and a scratch area for the shell tests
#
# Sourced by tests/cli/*.sh and tests/e2e/*.sh. Gives each script its own
# directory $W under $TOP/$BUILD/test-work/<script>, fresh at every run, a
# config file $CONF there, and assertions that print TAP lines:
#   ok DESC CMD...          CMD exits 0
#   fails DESC CMD...       CMD exits non-zero
#   exits DESC N CMD...     CMD exits exactly N
#   is DESC GOT WANT        strings equal
#   like DESC GOT PATTERN   grep -E PATTERN matches GOT
#   unlike DESC GOT PATTERN it does not
# and finish, which ends the script (exit 1 if anything failed).
# The output of the last command run by ok/fails/exits is in $OUT (stdout)
# and $ERR (stderr).
set -u
TOP=${TOP:-$(pwd)}
BUILD=${BUILD:-build}
BIN="$TOP/$BUILD"
T_NAME=$(basename "$0" .sh)
W="$TOP/$BUILD/test-work/$T_NAME"
rm -rf "$W"
mkdir -p "$W"
T_N=0
T_FAIL=0
OUT=""
ERR=""
# Sanitizer reports go to files that finish checks, so that a report
# from a child process (whose exit the mda would turn into a quarantine)
# still fails the test.
mkdir -p "$W/sanitizer"
chmod 1777 "$W/sanitizer"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$W/sanitizer/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$W/sanitizer/ubsan"

t_report() { # status desc
	T_N=$((T_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAIL=$((T_FAIL + 1))
	fi
}
t_run() {
	"$@" >"$W/.out" 2>"$W/.err"
	T_RC=$?
	OUT=$(cat "$W/.out")
	ERR=$(cat "$W/.err")
}
ok() {
	d=$1; shift
	t_run "$@"
	[ "$T_RC" = 0 ] || printf '# exit %s: %s\n# stderr: %s\n' "$T_RC" "$*" "$ERR"
	t_report "$T_RC" "$d"
}
fails() {
	d=$1; shift
	t_run "$@"
	if [ "$T_RC" != 0 ]; then t_report 0 "$d"; else
		printf '# expected failure, exit 0: %s\n' "$*"; t_report 1 "$d"; fi
}
exits() {
	d=$1; want=$2; shift 2
	t_run "$@"
	if [ "$T_RC" = "$want" ]; then t_report 0 "$d"; else
		printf '# exit %s, wanted %s: %s\n# stderr: %s\n' "$T_RC" "$want" "$*" "$ERR"
		t_report 1 "$d"; fi
}
is() {
	if [ "$2" = "$3" ]; then t_report 0 "$1"; else
		printf '# got:  %s\n# want: %s\n' "$2" "$3"; t_report 1 "$1"; fi
}
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then t_report 0 "$1"; else
		printf '# got: %s\n# no match for: %s\n' "$(printf '%s' "$2" | head -c 2000)" "$3"
		t_report 1 "$1"; fi
}
unlike() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		printf '# got: %s\n# unexpected match for: %s\n' "$(printf '%s' "$2" | head -c 2000)" "$3"
		t_report 1 "$1"; else t_report 0 "$1"; fi
}
finish() {
	if ls "$W/sanitizer/" 2>/dev/null | grep -q .; then
		head -c 4000 "$W"/sanitizer/* | sed 's/^/# /'
		t_report 1 "no sanitizer reports"
	fi
	echo "1..$T_N"
	[ "$T_FAIL" = 0 ] || exit 1
	exit 0
}

# mkconf [extra lines...] - write $CONF for a fresh store under $W
mkconf() {
	CONF="$W/casemail.conf"
	{
		echo "database = $W/casemail.db"
		echo "spool_dir = $W/spool"
		echo "secret_file = $W/secret"
		echo "outbox_dir = $W/outbox"
		echo "mail_domain = cases.example.org"
		echo "force_name = Example Police"
		echo "portal_url = https://portal.example.org"
		echo "busy_timeout = 2000"
		echo "mda_allow_root = yes"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}
