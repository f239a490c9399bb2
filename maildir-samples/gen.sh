#!/bin/sh
# gen.sh - generate the samples too big or too binary to keep in the tree
#
# SYNOPSIS
#	sh maildir-samples/gen.sh OUTDIR
#
# DESCRIPTION
#	Writes .eml files with their .ref beside them, in the same form as
#	the committed samples (see README.md), into OUTDIR/huge and
#	OUTDIR/broken:
#	  huge/long-line-10000     one body line of 10,000 characters
#	  huge/nested-1000         1,000 nested multiparts (limit is 100)
#	  huge/nested-50           50 nested multiparts: within the limit
#	  huge/many-parts-10001    10,001 parts in one multipart (limit
#	                           10,000)
#	  huge/big-attachment-2mb  a 2 MB binary attachment
#	  huge/colon-header        a Subject of 100,000 colons
#	  broken/nul-bytes         NUL bytes in headers and body
#	  broken/undeclared-8bit   Latin-1 bytes with no charset declared
#	  broken/crlf-line-endings every line ends in CR LF
#	Deterministic: the same files every run (the attachment bytes come
#	from awk's fixed-seed generator, not /dev/urandom).
set -eu
out=${1:?usage: gen.sh OUTDIR}
mkdir -p "$out/huge" "$out/broken"

# hdr FROM TO MSGID SUBJECT - common headers of a victim's reply
hdr() {
	printf 'From: %s\n' "$1"
	printf 'To: %s\n' "$2"
	printf 'Subject: %s\n' "$4"
	printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\n'
	printf 'Message-ID: <%s>\n' "$3"
	printf 'MIME-Version: 1.0\n'
}
V="Jane Doe <victim@example.net>"
R="reply+@KEY@@cases.example.org"

# ref FILE LINES... - a .ref for a reply from the victim
ref() {
	f=$1; shift
	{
		echo "rcpt: $R"
		echo "sender: victim@example.net"
		echo "exit: 0"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# ---- huge ----

h="$out/huge"
{
	hdr "$V" "$R" gen-long-line@example.net "Re: serial numbers"
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	awk 'BEGIN {
		s = "The list of serial numbers follows:"
		i = 0
		while (length(s) < 10000)
			s = s sprintf(" SN%06d", i++)
		print substr(s, 1, 10000)
		print ""
		print "Jane"
	}'
} >"$h/long-line-10000.eml"
ref "$h/long-line-10000.ref" "outcome: posted" "author: victim" \
	"body_prefix: The list of serial numbers follows: SN000000 SN000001" \
	"stored: 1"

# nested N TEXT - N multiparts, one inside the other, text at the bottom
nested() {
	awk -v n="$1" -v text="$2" 'BEGIN {
		print "Content-Type: multipart/mixed; boundary=\"nest-0\""
		print ""
		for (i = 0; i < n - 1; i++) {
			print "--nest-" i
			printf "Content-Type: multipart/mixed; "
			printf "boundary=\"nest-%d\"\n\n", i + 1
		}
		print "--nest-" n - 1
		print "Content-Type: text/plain; charset=us-ascii"
		print ""
		print text
		for (i = n - 1; i >= 0; i--) {
			print "--nest-" i "--"
			print ""
		}
	}'
}
{
	hdr "$V" "$R" gen-nested-1000@example.net "Re: nested"
	nested 1000 "A thousand levels down."
} >"$h/nested-1000.eml"
ref "$h/nested-1000.ref" "outcome: quarantined" "stored: 1" "notices: 0"
{
	hdr "$V" "$R" gen-nested-50@example.net "Re: nested"
	nested 50 "Fifty levels down is still within the limit."
} >"$h/nested-50.eml"
ref "$h/nested-50.ref" "outcome: posted" "author: victim" \
	"body: Fifty levels down is still within the limit." "stored: 1"

{
	hdr "$V" "$R" gen-many-parts@example.net "Re: many parts"
	awk 'BEGIN {
		print "Content-Type: multipart/mixed; boundary=\"many\""
		print ""
		for (i = 0; i < 10001; i++) {
			print "--many"
			print "Content-Type: text/plain; charset=us-ascii"
			print ""
			print "part " i
		}
		print "--many--"
	}'
} >"$h/many-parts-10001.eml"
ref "$h/many-parts-10001.ref" "outcome: quarantined" "stored: 1" \
	"notices: 0"

{
	hdr "$V" "$R" gen-big-attachment@example.net "Re: video still"
	printf 'Content-Type: multipart/mixed; boundary="big"\n\n'
	printf -- '--big\nContent-Type: text/plain; charset=us-ascii\n\n'
	printf 'The doorbell camera recording is attached.\n\n'
	printf -- '--big\nContent-Type: application/octet-stream;'
	printf ' name="doorbell.bin"\n'
	printf 'Content-Disposition: attachment; filename="doorbell.bin"\n'
	printf 'Content-Transfer-Encoding: base64\n\n'
	# 2,000,000 bytes of base64 alphabet, 76 a line: valid base64
	awk 'BEGIN {
		srand(42)
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
		    "0123456789+/"
		line = ""
		for (k = 0; k < 76; k++)
			line = line substr(a, int(rand() * 64) + 1, 1)
		n = int(2000000 / 57)
		for (i = 0; i < n; i++) {
			# rotate so lines differ
			j = i % 76
			print substr(line, j + 1) substr(line, 1, j)
		}
	}'
	printf '\n--big--\n'
} >"$h/big-attachment-2mb.eml"
ref "$h/big-attachment-2mb.ref" "outcome: posted" "author: victim" \
	"body: The doorbell camera recording is attached." "attachments: 1" \
	"stored: 1"

{
	printf 'From: %s\nTo: %s\n' "$V" "$R"
	printf 'Subject: '
	awk 'BEGIN { s = "::::::::::"; for (i = 0; i < 10000; i++)
		printf "%s", s; print "" }'
	printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\n'
	printf 'Message-ID: <gen-colon-header@example.net>\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	printf 'A subject of a hundred thousand colons.\n'
} >"$h/colon-header.eml"
ref "$h/colon-header.ref" "outcome: posted|held|quarantined" "stored: 1"

# ---- broken ----

b="$out/broken"
{
	printf 'From: %s\nTo: %s\n' "$V" "$R"
	printf 'Subject: Re: the van\000 colour\n'
	printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\n'
	printf 'Message-ID: <gen-nul-bytes@example.net>\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	printf 'The van was\000\000 white with a ladder on the roof.\n'
	printf '\000\000\000\n'
} >"$b/nul-bytes.eml"
ref "$b/nul-bytes.ref" "outcome: posted|held|quarantined" "stored: 1"

{
	hdr "$V" "$R" gen-undeclared-8bit@example.net "Re: CCTV"
	printf 'Content-Type: text/plain\n'
	printf 'Content-Transfer-Encoding: 8bit\n\n'
	printf 'The caf\351 on the corner has a camera over the door.\n'
} >"$b/undeclared-8bit.eml"
ref "$b/undeclared-8bit.ref" "outcome: posted" "author: victim" \
	"body: The café on the corner has a camera over the door." \
	"stored: 1"

{
	hdr "$V" "$R" gen-crlf@example.net "Re: Update on your case"
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	printf 'Sent from a mail client that ends every line in CR LF.\n\n'
	printf '> There is an update on your case HU-20261128-0042.\n'
} | sed 's/$/\r/' >"$b/crlf-line-endings.eml"
ref "$b/crlf-line-endings.ref" "outcome: posted" "author: victim" \
	"body: Sent from a mail client that ends every line in CR LF." \
	"stored: 1"
