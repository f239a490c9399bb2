#!/bin/sh
# run.sh - run every test and print one closing line "N passed, N failed"
#
# Unit tests are cmocka programs in $BUILD/tests (TAP output); command-line
# and end-to-end tests are shell scripts in tests/cli and tests/e2e that
# print TAP through tests/lib.sh. A program or script that dies without
# reporting counts as one failure. ONLY=unit|cli|e2e runs one group;
# T=name runs the tests whose file name contains name.
set -u
BUILD=${BUILD:-build}
ONLY=${ONLY:-}
T=${T:-}
top=$(pwd)
logdir="$top/$BUILD/test-logs"
mkdir -p "$logdir"
pass=0
fail=0
failed_names=""

count() { # name log rc
	p=$(grep -c '^ok ' "$2" || true)
	f=$(grep -c '^not ok ' "$2" || true)
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "not ok - $1 exited $3 without reporting a failure" >>"$2"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" != 0 ]; then
		failed_names="$failed_names $1"
		printf '%-40s %4s passed %4s FAILED (log: %s)\n' "$1" "$p" "$f" "$2"
		grep '^not ok' "$2" | head -20 | sed 's/^/    /'
	else
		printf '%-40s %4s passed\n' "$1" "$p"
	fi
}

want() { # group name
	[ -n "$ONLY" ] && [ "$ONLY" != "$1" ] && return 1
	[ -n "$T" ] && case "$2" in *"$T"*) ;; *) return 1 ;; esac
	return 0
}

if [ "${SKIP_CHECKSRC:-0}" != 1 ] && [ -z "$ONLY" ] && [ -z "$T" ]; then
	log="$logdir/checksrc.log"
	sh scripts/checksrc.sh >"$log" 2>&1
	count checksrc "$log" $?
fi

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	want unit "$n" || continue
	log="$logdir/$n.log"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	count "$n" "$log" $?
done

for group in cli e2e; do
	for t in tests/$group/[A-Za-z]*.sh; do
		case "$group:$(basename "$t")" in e2e:T*) ;; e2e:*) continue ;; esac
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		want "$group" "$n" || continue
		log="$logdir/$group-$n.log"
		BUILD="$BUILD" TOP="$top" sh "$t" >"$log" 2>&1
		count "$group/$n" "$log" $?
	done
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
