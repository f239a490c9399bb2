#!/bin/sh
# deb-inner.sh - T620's body, inside its namespaces (see T620-deb.sh)
#
# Builds the package (make deb into $BUILD/deb), lints it, mounts the
# overlays, then installs, reinstalls, uses, removes and purges it,
# checking after each step what dpkg and the maintainer scripts left.
if [ -z "${TOP:-}" ]; then
	echo "1..0 # SKIP deb-inner.sh is run by T620-deb.sh"
	exit 0
fi
if [ "$$" != 1 ]; then
	# not the first process of a pid namespace of T620's: the mounts
	# below would land on the machine itself
	echo "1..0 # SKIP deb-inner.sh runs only inside T620's namespaces"
	exit 0
fi
. "$TOP/tests/lib.sh"
PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH"
export PATH
# the package is built without sanitizers whatever BUILD is
unset ASAN_OPTIONS UBSAN_OPTIONS

had_bin=0
[ -e /usr/bin/casemail ] && had_bin=1

(cd "$TOP" && make --no-print-directory BUILD="$BUILD" deb) \
	>"$W/build.log" 2>&1
rc=$?
[ "$rc" = 0 ] || tail -20 "$W/build.log" | sed 's/^/# /'
t_report "$rc" "make deb builds the package"
DEB=$(ls "$TOP/$BUILD"/deb/casemail_*.deb 2>/dev/null | head -1)
ok "the .deb is in $BUILD/deb" test -f "$DEB"
lintian "$TOP/$BUILD"/deb/casemail_*.changes >"$W/lintian.log" 2>&1
sed 's/^/# lintian: /' "$W/lintian.log"
unlike "lintian: no error" "$(cat "$W/lintian.log")" "^E: "
is "lintian: only the warnings docs/packaging.md explains" \
	"$(grep '^W: ' "$W/lintian.log" | sed 's/ \[.*//' | sort |
		tr '\n' ';')" \
	"W: casemail: non-standard-dir-perm 0750 != 0755;W: casemail: non-standard-file-perm 0640 != 0644;"

OV="$W/overlay"
for d in etc usr var; do
	mkdir -p "$OV/$d/u" "$OV/$d/w"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$OV/$d/u,workdir=$OV/$d/w" "/$d" ||
		{ echo "Bail out! cannot mount the overlay on /$d"; exit 1; }
done
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /tmp ||
	{ echo "Bail out! cannot mount /run and /tmp"; exit 1; }
ip link set lo up 2>/dev/null

ok "dpkg -i installs it" dpkg -i "$DEB"
ok "the programs are in /usr/bin" test -x /usr/bin/casemail-mda
ok "the casemail user exists" getent passwd casemail
is "/var/lib/casemail is casemail's, 0750" \
	"$(stat -c '%U:%G %a' /var/lib/casemail)" "casemail:casemail 750"
is "/var/spool/casemail is casemail's, 0750" \
	"$(stat -c '%U:%G %a' /var/spool/casemail)" "casemail:casemail 750"
is "/etc/casemail is root:casemail 0750" \
	"$(stat -c '%U:%G %a' /etc/casemail)" "root:casemail 750"
is "casemail.conf is root:casemail 0640" \
	"$(stat -c '%U:%G %a' /etc/casemail/casemail.conf)" "root:casemail 640"
like "casemail.conf is a conffile" \
	"$(dpkg-query -W -f='${Conffiles}' casemail)" "/etc/casemail/casemail.conf"
is "the secret was made on first configuration: casemail 0600" \
	"$(stat -c '%U %a' /etc/casemail/secret)" "casemail 600"
is "so was the database" \
	"$(stat -c '%U %a' /var/lib/casemail/casemail.db)" "casemail 600"
ok "the units are in /lib/systemd/system" \
	test -f /lib/systemd/system/casemail-send.service
ok "casemail-imap@ too" test -f "/lib/systemd/system/casemail-imap@.service"
ok "man pages" test -f /usr/share/man/man1/casemail.1.gz
SUM=$(sha256sum /etc/casemail/secret)
# the postmaster's configuration (README, "Installing")
cat >/etc/casemail/casemail.conf <<'END'
mail_domain = cases.example.org
force_name = Example Police
portal_url = https://portal.example.org
portal_trust_proxy = yes
trusted_authserv_ids = mx.example.org
# a local edit
END
ok "dpkg -i again (postinst runs again)" dpkg -i "$DEB"
is "the secret is the same" "$(sha256sum /etc/casemail/secret)" "$SUM"
like "the edited casemail.conf is kept" "$(tail -1 /etc/casemail/casemail.conf)" \
	"# a local edit"
is "its owner and mode too" \
	"$(stat -c '%U:%G %a' /etc/casemail/casemail.conf)" "root:casemail 640"
ok "dpkg --configure of a configured package is quiet" \
	dpkg --configure --pending

# a notice and a delivery with the installed programs
REF=HU-20261128-0042
ok "officer add" casemail officer add --email pc.jones@force.police.uk \
	--name "PC Jones"
ok "case add" casemail case add "$REF" --oic pc.jones@force.police.uk
ok "victim add" casemail victim add "$REF" --name "Jane Doe" \
	--email victim@example.net
ok "update" casemail update "$REF" --officer pc.jones@force.police.uk \
	--all --text "We have found your bicycle."
ok "casemail-send --once, as casemail" runuser -u casemail -- \
	casemail-send --once
F=$(ls /var/lib/casemail/outbox/new/* 2>/dev/null | head -1)
ok "the notice is in the outbox" test -n "$F"
like "with a login link" "$(cat "$F" 2>/dev/null)" "/l/[A-Za-z0-9_-]+"
RADDR=$(casemail address reply "$REF" 1)
printf 'From: victim@example.net\nTo: %s\nSubject: Re: news\n\nThank you!\n' \
	"$RADDR" >"$W/reply.eml"
chmod 0644 "$W/reply.eml"
ok "a delivery through casemail-mda, as casemail" runuser -u casemail -- \
	casemail-mda --sender victim@example.net --recipient "$RADDR" \
	--queue-id T620Q1 <"$W/reply.eml"
ok "the thread" casemail thread "$REF"
like "holds the reply" "$OUT" "Thank you!"
ok "casemail doctor (no Postfix here)" casemail doctor --no-postfix
unlike "no FAIL line" "$OUT" "^FAIL"
unlike "no WARN line" "$OUT" "^WARN"

ok "dpkg -r removes it" dpkg -r casemail
ok "the programs are gone" test ! -e /usr/bin/casemail-mda
ok "the configuration stays" test -f /etc/casemail/casemail.conf
ok "the store stays" test -f /var/lib/casemail/casemail.db
ok "dpkg -P purges it" dpkg -P casemail
ok "dpkg knows it no more" sh -c '! dpkg -s casemail >/dev/null 2>&1'
for p in /etc/casemail /var/lib/casemail /var/spool/casemail \
	/lib/systemd/system/casemail-send.service /usr/share/casemail; do
	ok "purged: $p" test ! -e "$p"
done
ok "the casemail user stays (Debian keeps system users)" \
	getent passwd casemail
ok "purge again is quiet" dpkg -P casemail

umount /tmp /run 2>/dev/null
for d in var usr etc; do umount "/$d" 2>/dev/null; done
if [ "$had_bin" = 0 ]; then
	ok "the machine's /usr/bin has no casemail" test ! -e /usr/bin/casemail
fi
finish
