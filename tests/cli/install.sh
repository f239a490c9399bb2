#!/bin/sh
# install.sh - make install into a DESTDIR: programs, man pages,
# templates and the example config land where the README says (config
# 0640 in a 0750 directory), and the installed casemail checks the
# installed config, naming what casemail init has still to make.
. "$TOP/tests/lib.sh"
R=$W/root
ok "make install DESTDIR" make -s -C "$TOP" install BUILD="$BUILD" \
	DESTDIR="$R" PREFIX=/usr/local
like "into a DESTDIR, it says which group to give them" "$OUT" \
	"chgrp casemail /etc/casemail /etc/casemail/casemail.conf"
for p in casemail casemail-mda casemail-send casemail-web; do
	ok "$p installed and executable" test -x "$R/usr/local/bin/$p"
done
for m in man1/casemail.1 man1/casemail-mda.1 man1/casemail-send.1 \
	man1/casemail-web.1 man5/casemail.conf.5; do
	ok "man page $m" test -s "$R/usr/local/share/man/$m"
done
ok "notice templates" test -s "$R/usr/local/share/casemail/templates/update.txt"
ok "example config, mode 0640" test "$(stat -c %a "$R/etc/casemail/casemail.conf")" = 640
ok "its directory, mode 0750" test "$(stat -c %a "$R/etc/casemail")" = 750
exits "config check of the installed config names what init must make" \
	1 "$R/usr/local/bin/casemail" -c "$R/etc/casemail/casemail.conf" config check
like "the secret (or, without a casemail user, the user)" "$ERR" \
	"secret file /etc/casemail/secret is missing: run casemail init|no user casemail \(run_user\): create it first"
echo "# a second install keeps a config the postmaster edited"
echo "# edited" >>"$R/etc/casemail/casemail.conf"
ok "install again" make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$R" \
	PREFIX=/usr/local
like "the edited config is kept" "$(tail -1 "$R/etc/casemail/casemail.conf")" "^# edited$"
finish
