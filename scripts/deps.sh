#!/bin/sh
# deps.sh - install the Debian packages casemail needs, when missing
#
# Run by `make check` and `make demo`. Does nothing when every package is
# present; otherwise, as root, runs a non-interactive apt-get install of the
# missing ones. Not root and something missing: says what, exits 1.
# With --build, only what building casemail needs (the postmaster's
# install, README): the compiler, pkg-config and the libraries' -dev
# packages. With --deb, those and what make deb needs (debhelper,
# dpkg-dev, lintian): tests/e2e/T620-deb.sh asks for them itself.
set -eu
BUILD_PKGS="build-essential pkg-config libgmime-3.0-dev libsqlite3-dev sqlite3
libsodium-dev nettle-dev libcurl4-gnutls-dev libetpan-dev libxml2-dev libjansson-dev
libmicrohttpd-dev"
PKGS="$BUILD_PKGS
libcmocka-dev postfix swaks dovecot-imapd procps jq
chromium nginx-light wrk python3-prometheus-client"
case "${1:-}" in
--build) PKGS=$BUILD_PKGS ;;
--deb) PKGS="$BUILD_PKGS debhelper dpkg-dev fakeroot lintian" ;;
"") ;;
*) echo "usage: deps.sh [--build | --deb]" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; a local-only system keeps the
# machine's own Postfix off the network (our tests run a private instance).
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
apt-get update -qq
# policy-rc.d: do not start the system's Postfix/Dovecot on install.
pol=/usr/sbin/policy-rc.d
made_pol=0
if [ ! -e "$pol" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$pol" && chmod 755 "$pol" && made_pol=1
fi
rc=0
apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ "$made_pol" = 1 ] && rm -f "$pol"
exit $rc
