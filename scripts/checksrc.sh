#!/bin/sh
# checksrc.sh - mechanical style checks (R21): banned functions, 80
# columns, no // comments, a purpose comment at the top of every file.
# Prints TAP, one line per rule.
set -u
files=$(ls include/*.h lib/*.c lib/store/*.c lib/store/*.h cli/*.c \
	mda/*.c sender/*.c web/*.c web/*.h lmtpd/*.c lmtpd/*.h 2>/dev/null)
n=0
bad=0
rule() { # desc output
	n=$((n + 1))
	if [ -z "$2" ]; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; printf '%s\n' "$2" | head -20 | sed 's/^/# /'
		bad=1; fi
}
rule "no banned functions (sprintf strcpy strcat strncpy strtok atoi gets)" \
	"$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|gets)\s*\(' $files | grep -v 'UNSAFE')"
rule "lines fit in 80 columns" \
	"$(awk '{ l = $0; gsub(/\t/, "        ", l); if (length(l) > 80) print FILENAME ":" FNR }' $files)"
rule "no // comments" \
	"$(grep -nE '^\s*//|[;{}]\s*//' $files)"
rule "every file opens with a purpose comment" \
	"$(for f in $files; do head -1 "$f" | grep -q '^/\*' || echo "$f"; done)"
echo "1..$n"
exit $bad
