# Makefile - build, test, demo, bench and install casemail
#
#   make                 all programs (-Wall -Wextra -Werror -O2 -g)
#   make check           install missing Debian packages, build, run every test
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan (build-san/)
#   make demo            the whole loop on an embedded default under ./var/demo
#   make bench           benchmarks beside the anchor tools (ratios)
#   make install PREFIX=/usr/local DESTDIR=   (after useradd casemail)
#   make deb             the Debian package, in $(BUILD)/deb
#   make clean

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/casemail
DATADIR ?= $(PREFIX)/share/casemail
DESTDIR ?=

CC ?= cc
comma := ,
PKGS := gmime-3.0 sqlite3 libsodium libcurl libetpan libxml-2.0 jansson \
	nettle libmicrohttpd

ifeq ($(SANITIZE),1)
BUILD ?= build-san
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SANLD := -fsanitize=address,undefined
else
BUILD ?= build
OPT := -O2 -g
SANLD :=
endif

# Recursive (=) so that pkg-config runs only once the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(filter-out -specs=% -Wl$(comma)-z$(comma)now,$(shell pkg-config --libs $(PKGS)))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(OPT) \
	-Iinclude -DCM_CONFIG_PATH='"$(SYSCONFDIR)/casemail.conf"' \
	-DCM_DATADIR='"$(DATADIR)"' $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANLD) -Wl,--as-needed $(LDFLAGS)

# lib/store/ is the store, one file per concern (their names differ from
# those in lib/, so that each member of the archive is told by its name)
LIB_SRC := $(sort $(wildcard lib/*.c lib/store/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA := $(BUILD)/libcasemail.a

CLI_SRC := $(sort $(wildcard cli/*.c))
MDA_SRC := $(sort $(wildcard mda/*.c))
SEND_SRC := $(sort $(wildcard sender/*.c))
WEB_SRC := $(sort $(wildcard web/*.c))
# casemail-lmtpd shares the mda's delivery path (deliver.c, guard.c)
LMTPD_SRC := $(sort $(wildcard lmtpd/*.c))
LMTPD_OBJ := $(LMTPD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/mda/deliver.o \
	$(BUILD)/mda/guard.o
# web/ without main.c: linked into tests/unit/test_web_*.c too
WEB_LIB_OBJ := $(filter-out $(BUILD)/web/main.o,$(WEB_SRC:%.c=$(BUILD)/%.o))
PROGS := $(BUILD)/casemail $(BUILD)/casemail-mda \
	$(if $(SEND_SRC),$(BUILD)/casemail-send) \
	$(if $(WEB_SRC),$(BUILD)/casemail-web) \
	$(if $(LMTPD_SRC),$(BUILD)/casemail-lmtpd)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# what only the unit tests may do to a store, kept out of libcasemail
UNIT_HELPER := $(BUILD)/tests/unit/store_test.o

.PHONY: all check check-unit check-cli check-e2e demo bench eval install \
	clean deps checksrc _check _demo
all: $(PROGS)

$(BUILD)/%.o: %.c $(wildcard include/*.h */*.h lib/store/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/web/%.o: web/%.c web/web.h $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/casemail: $(CLI_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BUILD)/casemail-mda: $(MDA_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BUILD)/casemail-send: $(SEND_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BUILD)/casemail-web: $(WEB_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BUILD)/casemail-lmtpd: $(LMTPD_OBJ) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_HELPER) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)
$(BUILD)/tests/test_web_%: $(BUILD)/tests/unit/test_web_%.o \
		$(WEB_LIB_OBJ) $(UNIT_HELPER) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

deps:
	@sh scripts/deps.sh

# On a machine without the libraries, say which Debian packages to
# install rather than let pkg-config fail on the first one it misses.
.PHONY: pkgcheck
pkgcheck:
	@pkg-config --exists $(PKGS) || { \
		echo "make: missing libraries:" \
			"$$(for p in $(PKGS); do pkg-config --exists $$p || \
			printf '%s ' $$p; done)"; \
		echo "make: install the build packages first, as root:" \
			"sh scripts/deps.sh --build (make deps: everything" \
			"the tests need too)"; exit 1; }
$(LIB_OBJ) $(CLI_SRC:%.c=$(BUILD)/%.o) $(MDA_SRC:%.c=$(BUILD)/%.o) \
	$(SEND_SRC:%.c=$(BUILD)/%.o) $(WEB_SRC:%.c=$(BUILD)/%.o): | pkgcheck

# make check: packages first, then a fresh make so pkg-config sees them.
check: deps
	@$(MAKE) --no-print-directory _check

_check: $(PROGS) $(UNIT_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

check-unit: $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run.sh
check-cli: $(PROGS)
	@BUILD=$(BUILD) ONLY=cli sh tests/run.sh
check-e2e: $(PROGS)
	@BUILD=$(BUILD) ONLY=e2e sh tests/run.sh

checksrc:
	@sh scripts/checksrc.sh

demo: deps
	@$(MAKE) --no-print-directory _demo
_demo: $(PROGS)
	@BUILD=$(BUILD) sh scripts/demo.sh
	@BUILD=$(BUILD) sh scripts/web-demo.sh start

bench: deps
	@$(MAKE) --no-print-directory $(PROGS)
	@BUILD=$(BUILD) sh bench/run.sh

# install: programs, man pages, templates; the example config only when
# there is none. Run by root on the machine itself (no DESTDIR) with the
# group CM_GROUP there, $(SYSCONFDIR) becomes root:casemail 0750 and the
# config root:casemail 0640, so the programs, running as casemail, can
# read it and nothing else can; otherwise it says what to do.
CM_GROUP ?= casemail
install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/templates
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 conf/templates/* $(DESTDIR)$(DATADIR)/templates/
	test -e $(DESTDIR)$(SYSCONFDIR)/casemail.conf || \
		install -m 0640 conf/casemail.conf $(DESTDIR)$(SYSCONFDIR)/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    getent group $(CM_GROUP) >/dev/null; then \
		chgrp $(CM_GROUP) $(SYSCONFDIR) $(SYSCONFDIR)/casemail.conf; \
	else \
		echo "make install: then, as root: chgrp $(CM_GROUP)" \
			"$(SYSCONFDIR) $(SYSCONFDIR)/casemail.conf" \
			"(the programs run as $(CM_GROUP) and read it)"; \
	fi

clean:
	rm -rf build build-san var/demo var/test

# deb: the Debian package (debian/), built by dpkg-buildpackage -us -uc -b
# from a copy of the tree in $(BUILD)/deb, because dpkg-buildpackage
# writes the .deb beside the source tree; no network is used. The
# package lands in $(BUILD)/deb. Needs debhelper and dpkg-dev
# (sh scripts/deps.sh --deb). docs/packaging.md describes it.
DEB_DIR = $(BUILD)/deb
.PHONY: deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/casemail
	tar --exclude='./build*' --exclude=./.git --exclude=./var \
		--exclude=./debian/build -cf - . | tar -xf - -C $(DEB_DIR)/casemail
	cd $(DEB_DIR)/casemail && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

# ---- eval and fuzz (issue 4) ----------------------------------------
#   make eval                 casemail inspect over ../shared/corpus: a table
#   make fuzz FUZZ_SECONDS=60 each libFuzzer target for FUZZ_SECONDS seconds
CORPUS ?= ../shared/corpus
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Iinclude -DCM_CONFIG_PATH='"/etc/casemail/casemail.conf"' \
	-DCM_DATADIR='"/usr/local/share/casemail"'
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_TARGETS := $(FUZZ_BUILD)/fuzz_inspect $(FUZZ_BUILD)/fuzz_keys

.PHONY: fuzz fuzz-build
eval: $(BUILD)/casemail
	@python3 scripts/eval.py --casemail $(BUILD)/casemail \
		--corpus $(CORPUS) --samples maildir-samples

$(FUZZ_BUILD)/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
		-c -o $@ $<
$(FUZZ_BUILD)/libfuzzcm.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_BUILD)/libfuzzcm.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_TARGETS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/corpus-inspect $(FUZZ_BUILD)/corpus-keys \
		$(FUZZ_BUILD)/artifacts
	$(FUZZ_BUILD)/fuzz_inspect -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/inspect- \
		$(FUZZ_BUILD)/corpus-inspect $(CORPUS) maildir-samples \
		tests/data
	$(FUZZ_BUILD)/fuzz_keys -max_total_time=$(FUZZ_SECONDS) \
		-max_len=256 -timeout=10 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/keys- \
		$(FUZZ_BUILD)/corpus-keys fuzz/seeds-keys

# keep test objects (they are intermediate files of the pattern rule)
.SECONDARY:
