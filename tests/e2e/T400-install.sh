#!/bin/sh
# T400-install.sh - the postmaster's install, run as the documents say
#
# The blocks of README.md and docs/postfix.md marked
# "<!-- install-test: NAME -->" are extracted and run as written, as
# root, in order: build dependencies and build, user and install,
# config, casemail init and the checks, an officer, the Postfix wiring
# of the machine's own Postfix, the sender and the portal, a notice and
# a victim's reply through that Postfix, the portal behind nginx with
# TLS. So the documents cannot drift from what works.
#
# Nothing of the machine is touched: install-inner.sh runs in new mount,
# network and pid namespaces (unshare) where /etc, /var and /usr/local
# are overlays whose changes land under the test's work directory,
# /run is empty, and only a private loopback exists, so the system's
# Postfix (started there from its own configuration) listens on port 25
# of that loopback alone, and everything started there dies with it.
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (unshare, overlays, useradd, Postfix)"
	exit 0
fi
PATH="$PATH:/usr/sbin:/sbin"
for c in unshare postfix swaks nginx openssl curl runuser ip; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "1..0 # SKIP $c not installed"
		exit 0
	}
done
TOP=${TOP:-$(pwd)}
BUILD=${BUILD:-build}
export TOP BUILD
exec timeout 600 unshare --mount --net --pid --fork --mount-proc \
	--propagation private \
	sh "$TOP/tests/e2e/install-inner.sh"
