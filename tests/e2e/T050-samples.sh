#!/bin/sh
# T050-samples.sh - every sample in maildir-samples/ against its .ref
#
# Each maildir-samples/{good,mime,broken,dup}/*.eml, and the ones
# maildir-samples/gen.sh makes (huge/ and a few broken/), is delivered
# straight into casemail-mda with the envelope of its .ref (rcpt:,
# sender:), after @KEY@, @REF@ and @BKEY@ are replaced by the real
# reply key, case reference and bounce key. What the delivery did is
# read back from the CLI (what is new in the thread, the quarantine and
# the notice queue) and written in the same "key: value" form; the two
# are compared with diff. A value "a|b" in a .ref accepts either.
# Samples in dup/ are then delivered a second time, the same way (same
# queue id, or none for "dup: message-id"), and must change nothing.
#
# Keys (see maildir-samples/README.md): exit, outcome (posted, held,
# quarantined, auto_reply, bounce), author, visibility, body (first
# non-blank line of the trimmed text), body_prefix, attachments,
# notices (queued by this delivery), notice (status of the notice the
# bounce key names), stored (new rows in thread + quarantine).
. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/postfix-lib.sh"

e2e_need_bins
e2e_need_jq
cm_user_setup
mkconf "trusted_authserv_ids = mx.cases.example.org" \
	"template_dir = $TOP/conf/templates"
cm_setup_case
S="$W/samples"
mkdir -p "$S"
for d in good mime broken dup; do
	cp -R "$TOP/maildir-samples/$d" "$S/"
done
ok "gen.sh makes the huge and binary samples" \
	sh "$TOP/maildir-samples/gen.sh" "$S"

# send_out - casemail-send sends what is queued into the outbox: a
# notice a bounce is about must have gone out, and a victim's message
# queues its own officer notification only while none is waiting
send_out() {
	as_cm "$BIN/casemail-send" -c "$CONF" --once >>"$W/send.log" 2>&1
}

# an officer update (the border vouched for it) queues a notice to the
# victim: its bounce key is the envelope sender a DSN would come back to
mkmsg "$W/setup.body" "PC Smith <$OFFICER>" "case+$REF@$DOMAIN" \
	t050-setup@police.example.org "Update" \
	"Your case has been allocated to the burglary team."
{
	printf 'Authentication-Results: mx.cases.example.org; dmarc=pass header.from=police.example.org\n'
	printf 'Received: from mail.police.example.org by mx.cases.example.org; %s\n' "$(LC_ALL=C date -R)"
	cat "$W/setup.body"
} >"$W/setup.eml"
ok "setup: officer update delivered" mda --sender "$OFFICER" \
	--recipient "case+$REF@$DOMAIN" --queue-id T050SETUP <"$W/setup.eml"
NID=$(jqr "$(notices_json)" '[notices[] | select(.kind == "update" and
	.channel == "email")] | last | .id // empty')
like "setup: a notice to the victim is queued" "$NID" '^[0-9]+$'
ok "setup: casemail-send sends it" send_out
BKEY=""
if cm address bounce "$NID" >"$W/.bkey" 2>&1; then
	BKEY=$(grep -oiE "bounce\+[a-z0-9]+@$DOMAIN" "$W/.bkey" | head -1)
	BKEY=${BKEY#bounce+}
	BKEY=${BKEY%@*}
fi
[ -n "$BKEY" ] || echo "# no bounce key (casemail address bounce NOTICE_ID" \
	"failed: $(head -c 200 "$W/.bkey")); DSN samples skipped"

for f in $(find "$S" -name '*.eml' -o -name '*.ref'); do
	sed -i -e "s/@KEY@/$KEY/g" -e "s/@REF@/$REF/g" \
		-e "s/@BKEY@/${BKEY:-NOBOUNCEKEY}/g" "$f"
done

# refval FILE KEY - the value of KEY in a .ref
refval() {
	sed -n "s/^$2: //p" "$1" | head -1
}

# maxid JSONFILE LIST - the highest id in msgs/quar/notices, 0 if none
maxid() {
	jq -r "$JQ_DEFS [$2[] | .id | tonumber] | max // 0" "$1" 2>/dev/null ||
		echo 0
}

# snapshot - thread, quarantine and notices into $W/{th,q,n}.json
snapshot() {
	thread_json >"$W/th.json"
	quar_json >"$W/q.json"
	notices_json >"$W/n.json"
}

# observe RC ISBOUNCE - "key: value" lines for what changed since the
# maxima T0 Q0 N0
observe() {
	jq -r -n --slurpfile th "$W/th.json" --slurpfile q "$W/q.json" \
		--slurpfile n "$W/n.json" --argjson t0 "$T0" --argjson q0 "$Q0" \
		--argjson n0 "$N0" --arg rc "$1" --arg isb "$2" \
		--arg nid "$NID" "$JQ_DEFS"'
	def firstline: (. // "") | tostring | split("\n") |
		map(sub("[ \t\r]+$"; "")) | map(select(test("\\S"))) |
		(.[0] // "");
	[$th[0] | msgs[] | select((.id | tonumber) > $t0 and
		.kind != "event")] as $t |
	[$q[0] | quar[] | select((.id | tonumber) > $q0)] as $qq |
	[$n[0] | notices[] | select((.id | tonumber) > $n0)] as $nn |
	([$n[0] | notices[] | select((.id | tostring) == $nid) |
		.status] | .[0] // "none") as $nst |
	($t[0] // {}) as $m |
	"exit: \($rc)",
	"outcome: \(if ($qq | length) > 0 then "quarantined"
		elif ($t | length) > 0 then
			(if $m.kind == "auto_reply" or $m.kind == "bounce"
			 then $m.kind else $m.status end)
		elif $isb == "1" and $nst == "failed" then "bounce"
		else "none" end)",
	"author: \($m.author // "none")",
	"visibility: \($m.visibility // "none")",
	"body: \($m.body | firstline)",
	"attachments: \($m.attachments | if type == "array" then length
		elif type == "number" then . else "absent" end)",
	"notices: \($nn | length)",
	"notice: \($nst)",
	"stored: \(($t | length) + ($qq | length))"'
}

# compare NAME REF GOTALL - diff the .ref (less its envelope keys)
# against what was observed, key by key in the .ref's order
compare() {
	exp="$W/cmp.exp"
	got="$W/cmp.got"
	grep -vE '^(rcpt|sender|dup):' "$2" >"$exp"
	: >"$got"
	while IFS= read -r line; do
		k=${line%%: *}
		want=${line#*: }
		case $k in
		body_prefix)
			have=$(sed -n 's/^body: //p' "$3")
			case $have in
			"$want"*) have=$want ;;
			*) have=$(printf '%s' "$have" | cut -c1-100) ;;
			esac ;;
		*)
			have=$(sed -n "s/^$k: //p" "$3" | head -1) ;;
		esac
		case $want in
		*"|"*)
			case "|$want|" in
			*"|$have|"*) have=$want ;;
			esac ;;
		esac
		printf '%s: %s\n' "$k" "$have" >>"$got"
	done <"$exp"
	if diff -u "$exp" "$got" >"$W/cmp.diff"; then
		t_report 0 "$1"
	else
		sed 's/^/# /' "$W/cmp.diff"
		t_report 1 "$1"
	fi
}

# deliver EML REF QID - run the mda as its envelope says; sets RC
deliver() {
	rcpt=$(refval "$2" rcpt)
	sender=$(refval "$2" sender)
	if [ "$(refval "$2" dup)" = message-id ]; then
		mda --sender "$sender" --recipient "$rcpt" <"$1" \
			>"$W/mda.out" 2>&1
	else
		mda --sender "$sender" --recipient "$rcpt" --queue-id "$3" \
			<"$1" >"$W/mda.out" 2>&1
	fi
	RC=$?
}

# bounce samples last: a bounce may make the victim's email undeliverable
list=$(cd "$S" && find . -name '*.eml' | sed 's|^\./||' | sort)
first=""
last=""
for s in $list; do
	case $(refval "$S/${s%.eml}.ref" rcpt) in
	bounce+*) last="$last $s" ;;
	*) first="$first $s" ;;
	esac
done

snapshot
i=0
for s in $first $last; do
	i=$((i + 1))
	name=${s%.eml}
	r="$S/$name.ref"
	if [ ! -f "$r" ]; then
		t_report 1 "$name has a .ref"
		continue
	fi
	isb=0
	case $(refval "$r" rcpt) in bounce+*) isb=1 ;; esac
	if [ "$isb" = 1 ] && [ -z "$BKEY" ]; then
		T_N=$((T_N + 1))
		echo "ok $T_N # SKIP $name: no bounce key"
		continue
	fi
	T0=$(maxid "$W/th.json" msgs)
	Q0=$(maxid "$W/q.json" quar)
	send_out
	snapshot
	T0=$(maxid "$W/th.json" msgs)
	Q0=$(maxid "$W/q.json" quar)
	N0=$(maxid "$W/n.json" notices)
	deliver "$S/$s" "$r" "T050Q$i"
	[ "$RC" = 0 ] || echo "# $name: exit $RC: $(head -c 300 "$W/mda.out")"
	snapshot
	observe "$RC" "$isb" >"$W/observed"
	compare "$name" "$r" "$W/observed"

	[ -n "$(refval "$r" dup)" ] || continue
	T0=$(maxid "$W/th.json" msgs)
	Q0=$(maxid "$W/q.json" quar)
	N0=$(maxid "$W/n.json" notices)
	deliver "$S/$s" "$r" "T050Q$i"
	snapshot
	observe "$RC" "$isb" >"$W/observed"
	printf 'exit: 0\nstored: 0\nnotices: 0\n' >"$W/dup.ref"
	compare "$name delivered again: stored once" "$W/dup.ref" \
		"$W/observed"
done
like "every sample was tried" "$i" '^[1-9][0-9]+$'
finish
