#!/bin/sh
# T620-deb.sh - the Debian package: built, linted, installed, purged
#
# make deb builds the package from a copy of the tree (no network);
# lintian at its default level may say only the warnings
# docs/packaging.md explains. Then deb-inner.sh, in new mount, network
# and pid namespaces (unshare) where /etc, /usr and /var are overlays
# whose changes land under the test's work directory, installs it with
# dpkg, installs it again (postinst changes nothing), stores a delivery
# through casemail-mda and sends a notice into the outbox, wires the
# system's Postfix (started in the namespaces, as T400 does) to the
# installed casemail-mda and casemail-lmtpd by the blocks of
# docs/postfix.md and docs/packaging.md and delivers a victim's reply
# over SMTP through each (skipped without postfix or swaks), removes it
# (the configuration stays) and purges it (nothing left but the user,
# which Debian keeps). The machine itself is untouched: its /usr/bin
# has no casemail after the test either.
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (unshare, overlays, dpkg)"
	exit 0
fi
PATH="$PATH:/usr/sbin:/sbin"
TOP=${TOP:-$(pwd)}
BUILD=${BUILD:-build}
for c in unshare dpkg runuser; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "1..0 # SKIP $c not installed"
		exit 0
	}
done
if ! command -v dh >/dev/null 2>&1 ||
	! command -v dpkg-buildpackage >/dev/null 2>&1 ||
	! command -v lintian >/dev/null 2>&1; then
	(cd "$TOP" && sh scripts/deps.sh --deb) >/dev/null 2>&1 || {
		echo "1..0 # SKIP debhelper, dpkg-dev or lintian missing (scripts/deps.sh --deb)"
		exit 0
	}
fi
export TOP BUILD
exec timeout 600 unshare --mount --net --pid --fork --mount-proc \
	--propagation private sh "$TOP/tests/e2e/deb-inner.sh"
