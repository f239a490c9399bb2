#!/bin/sh
# install.sh - make install into a DESTDIR: programs, man pages,
# templates and the example config land where the README says, and the
# installed casemail finds its templates and checks the installed config.
. "$TOP/tests/lib.sh"
R=$W/root
ok "make install DESTDIR" make -s -C "$TOP" install BUILD="$BUILD" \
	DESTDIR="$R" PREFIX=/usr/local
for p in casemail casemail-mda casemail-send casemail-web; do
	ok "$p installed and executable" test -x "$R/usr/local/bin/$p"
done
for m in man1/casemail.1 man1/casemail-mda.1 man1/casemail-send.1 \
	man1/casemail-web.1 man5/casemail.conf.5; do
	ok "man page $m" test -s "$R/usr/local/share/man/$m"
done
ok "notice templates" test -s "$R/usr/local/share/casemail/templates/update.txt"
ok "example config, mode 0640" test "$(stat -c %a "$R/etc/casemail/casemail.conf")" = 640
ok "the installed config passes config check" \
	"$R/usr/local/bin/casemail" -c "$R/etc/casemail/casemail.conf" config check
echo "# a second install keeps a config the postmaster edited"
echo "# edited" >>"$R/etc/casemail/casemail.conf"
ok "install again" make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$R" \
	PREFIX=/usr/local
like "the edited config is kept" "$(tail -1 "$R/etc/casemail/casemail.conf")" "^# edited$"
finish
