/*
 * test_addr.c - unit tests for lib/addr.c
 *
 * DESCRIPTION
 *	Reply and bounce KEYs (round trips, case, alteration, truncation,
 *	kind confusion, another secret, hand-made non-canonical encodings),
 *	recipient classification, address validity, case references and
 *	subject tags.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_addr.h"
#include "cm_token.h"
#include "cm_util.h"

#define DOMAIN "mail.example.police.uk"
#define REF_RE "^[A-Z]{2}-[0-9]{8}-[0-9]{4}$"
#define REF_LOOSE "^[A-Z0-9][A-Z0-9/-]*$"

static char tmpdir[] = "/tmp/cm-test-addr-XXXXXX";
static struct cm_secret *secret;
static struct cm_secret *other_secret;

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* make_secret - create and load a secret named name in tmpdir */
static struct cm_secret *
make_secret(const char *name)
{
	char *path = cm_xasprintf("%s/%s", tmpdir, name);
	const char *error = NULL;
	struct cm_secret *s = NULL;

	if (cm_secret_create(path, &error) == 0)
		s = cm_secret_load(path, NULL, &error);
	if (s == NULL)
		fprintf(stderr, "secret %s: %s\n", path, error);
	free(path);
	return s;
}

/* group_setup - sodium, a scratch directory and two secrets */
static int
group_setup(void **state)
{
	(void)state;
	if (cm_token_init() != 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	secret = make_secret("secret");
	other_secret = make_secret("other");
	return secret != NULL && other_secret != NULL ? 0 : -1;
}

/* group_teardown - free the secrets, remove the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	cm_secret_free(&secret);
	cm_secret_free(&other_secret);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const int64_t ids[] = {
	1,
	2,
	127,
	128,
	255,
	16383,
	16384,
	(int64_t)1 << 31,
	((int64_t)1 << 32) + 1,
	(int64_t)1 << 56,
	(int64_t)1 << 62,
	INT64_MAX - 1,
	INT64_MAX,
};

/* is_b32_lower - only lower-case base32 digits */
static bool
is_b32_lower(const char *s)
{
	return *s != '\0' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz234567") == strlen(s);
}

/* test_reply_roundtrip - every pair of ids decodes, also upper case */
static void
test_reply_roundtrip(void **state)
{
	int64_t v, c;
	char *key;
	size_t i, j;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(ids); i++) {
		for (j = 0; j < CM_ARRAY_SIZE(ids); j++) {
			key = cm_addr_reply_key(secret, ids[i], ids[j]);
			if (!is_b32_lower(key))
				fail_msg("row %zu/%zu: key %s", i, j, key);
			v = c = 0;
			if (cm_addr_reply_decode(secret, key, &v, &c) != 0 ||
			    v != ids[i] || c != ids[j])
				fail_msg("row %zu/%zu: %s", i, j, key);
			cm_str_upper(key);
			v = c = 0;
			if (cm_addr_reply_decode(secret, key, &v, &c) != 0 ||
			    v != ids[i] || c != ids[j])
				fail_msg("row %zu/%zu: upper %s", i, j, key);
			free(key);
		}
	}
}

/* test_bounce_roundtrip - every id decodes, also upper case */
static void
test_bounce_roundtrip(void **state)
{
	int64_t n;
	char *key;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(ids); i++) {
		key = cm_addr_bounce_key(secret, ids[i]);
		if (!is_b32_lower(key))
			fail_msg("row %zu: key %s", i, key);
		n = 0;
		if (cm_addr_bounce_decode(secret, key, &n) != 0 ||
		    n != ids[i])
			fail_msg("row %zu: %s", i, key);
		cm_str_upper(key);
		n = 0;
		if (cm_addr_bounce_decode(secret, key, &n) != 0 ||
		    n != ids[i])
			fail_msg("row %zu: upper %s", i, key);
		free(key);
	}
}

/* decodes - does key decode as kind ('r', 'o', 'u' or 'b') under s */
static bool
decodes(const struct cm_secret *s, char kind, const char *key)
{
	int64_t a, b;

	int64_t c;

	if (kind == 'r')
		return cm_addr_reply_decode(s, key, &a, &b) == 0;
	if (kind == 'o')
		return cm_addr_officer_decode(s, key, &a, &b, &c) == 0;
	if (kind == 'u')
		return cm_addr_unsub_decode(s, key, &a, &b) == 0;
	return cm_addr_bounce_decode(s, key, &a) == 0;
}

/* ascii_equal_ci - same ASCII character, case-blind */
static bool
ascii_equal_ci(char a, char b)
{
	char la = (a >= 'A' && a <= 'Z') ? (char)(a - 'A' + 'a') : a;
	char lb = (b >= 'A' && b <= 'Z') ? (char)(b - 'A' + 'a') : b;

	return la == lb;
}

/* check_tampering - alterations, truncations and extensions of key all
 * fail to decode as kind */
static void
check_tampering(const char *key, char kind)
{
	static const char subst[] =
		"abcdefghijklmnopqrstuvwxyz234567ABCXYZ0189=-_ .@+";
	size_t len = strlen(key);
	char *copy = cm_xmalloc(len + 2);
	size_t i, j;

	assert_true(decodes(secret, kind, key));
	for (i = 0; i < len; i++) {
		for (j = 0; subst[j] != '\0'; j++) {
			memcpy(copy, key, len + 1);
			if (ascii_equal_ci(copy[i], subst[j]))
				continue;
			copy[i] = subst[j];
			if (decodes(secret, kind, copy))
				fail_msg("%s: '%c' at %zu decodes", key,
					 subst[j], i);
		}
	}
	for (i = 0; i < len; i++) {
		memcpy(copy, key, i);
		copy[i] = '\0';
		if (decodes(secret, kind, copy))
			fail_msg("%s: truncated to %zu decodes", key, i);
	}
	for (j = 0; subst[j] != '\0'; j++) {
		memcpy(copy, key, len);
		copy[len] = subst[j];
		copy[len + 1] = '\0';
		if (decodes(secret, kind, copy))
			fail_msg("%s: '%c' appended decodes", key, subst[j]);
	}
	free(copy);
}

/* test_reply_tamper - no alteration of a reply KEY decodes */
static void
test_reply_tamper(void **state)
{
	static const int64_t pairs[][2] = {
		{ 1, 1 }, { 128, 42 }, { (int64_t)1 << 40, INT64_MAX },
	};
	char *key;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(pairs); i++) {
		key = cm_addr_reply_key(secret, pairs[i][0], pairs[i][1]);
		check_tampering(key, 'r');
		free(key);
	}
}

/* test_bounce_tamper - no alteration of a bounce KEY decodes */
static void
test_bounce_tamper(void **state)
{
	static const int64_t nids[] = { 1, 300, INT64_MAX };
	char *key;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(nids); i++) {
		key = cm_addr_bounce_key(secret, nids[i]);
		check_tampering(key, 'b');
		free(key);
	}
}

/* test_kind_and_secret - a KEY is bound to its kind and its secret */
static void
test_kind_and_secret(void **state)
{
	char *reply, *bounce, *again;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(ids); i++) {
		reply = cm_addr_reply_key(secret, ids[i], ids[i]);
		bounce = cm_addr_bounce_key(secret, ids[i]);
		if (decodes(secret, 'b', reply))
			fail_msg("row %zu: reply KEY decodes as bounce", i);
		if (decodes(secret, 'r', bounce))
			fail_msg("row %zu: bounce KEY decodes as reply", i);
		if (decodes(other_secret, 'r', reply) ||
		    decodes(other_secret, 'b', bounce))
			fail_msg("row %zu: KEY decodes under another secret",
				 i);
		/* deterministic: the same ids give the same KEY */
		again = cm_addr_bounce_key(secret, ids[i]);
		assert_string_equal(bounce, again);
		free(again);
		again = cm_addr_bounce_key(other_secret, ids[i]);
		assert_string_not_equal(bounce, again);
		free(again);
		free(bounce);
		free(reply);
	}
	assert_false(decodes(secret, 'r', NULL));
	assert_false(decodes(secret, 'b', NULL));
	assert_false(decodes(secret, 'r', ""));
	assert_false(decodes(secret, 'b', ""));
}

/* test_officer_unsub - officer and unsubscribe KEYs round-trip, resist
 * tampering, and are bound to their kind: an unsubscribe KEY (in a URL)
 * never decodes as the reply KEY that posts as the victim, an officer
 * KEY never as a victim's */
static void
test_officer_unsub(void **state)
{
	static const char kinds[] = { 'r', 'o', 'u', 'b' };
	int64_t o, c, v;
	char *keys[4];
	size_t i, j, k;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(ids); i++) {
		keys[0] = cm_addr_reply_key(secret, ids[i], ids[i]);
		keys[1] = cm_addr_officer_key(secret, ids[i], 7, 9);
		keys[2] = cm_addr_unsub_key(secret, ids[i], 7);
		keys[3] = cm_addr_bounce_key(secret, ids[i]);
		o = c = v = 0;
		if (cm_addr_officer_decode(secret, keys[1], &o, &c, &v) != 0 ||
		    o != ids[i] || c != 7 || v != 9)
			fail_msg("row %zu: officer %s", i, keys[1]);
		cm_str_upper(keys[1]);
		if (cm_addr_officer_decode(secret, keys[1], &o, &c, &v) != 0)
			fail_msg("row %zu: upper officer %s", i, keys[1]);
		v = c = 0;
		if (cm_addr_unsub_decode(secret, keys[2], &v, &c) != 0 ||
		    v != ids[i] || c != 7)
			fail_msg("row %zu: unsub %s", i, keys[2]);
		for (j = 0; j < 4; j++)
			for (k = 0; k < 4; k++)
				if (decodes(secret, kinds[k], keys[j]) !=
				    (j == k))
					fail_msg("row %zu: KEY %c as %c", i,
						 kinds[j], kinds[k]);
		if (decodes(other_secret, 'o', keys[1]) ||
		    decodes(other_secret, 'u', keys[2]))
			fail_msg("row %zu: KEY under another secret", i);
		if (i < 3) {
			check_tampering(keys[1], 'o');
			check_tampering(keys[2], 'u');
		}
		for (j = 0; j < 4; j++)
			free(keys[j]);
	}
}

/* unhex - decode an even-length hex string into out; the length */
static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;
	unsigned int v;

	while (hex[0] != '\0' && hex[1] != '\0') {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

/* test_crafted - hand-made KEYs with genuine MACs: only the canonical
 * encodings decode */
static void
test_crafted(void **state)
{
	static const struct {
		char kind;        /* decode as 'r' or 'b' */
		const char *hex;  /* bytes before the MAC */
		size_t maclen;    /* MAC bytes appended */
		bool ok;
		int64_t a, b;
	} rows[] = {
		{ 'r', "720101", 16, true, 1, 1 },
		{ 'r', "728001" "7f", 16, true, 128, 127 },
		{ 'r', "72ffffffffffffffff7f01", 16, true, INT64_MAX, 1 },
		{ 'r', "72810001", 16, false, 0, 0 },   /* overlong */
		{ 'r', "72018000", 16, false, 0, 0 },   /* overlong */
		{ 'r', "720001", 16, false, 0, 0 },     /* id 0 */
		{ 'r', "720100", 16, false, 0, 0 },     /* id 0 */
		{ 'r', "7201", 16, false, 0, 0 },       /* one id only */
		{ 'r', "72", 16, false, 0, 0 },
		{ 'r', "72010100", 16, false, 0, 0 },   /* trailing byte */
		{ 'r', "72018080", 16, false, 0, 0 },   /* unterminated */
		{ 'r', "7280808080808080808001" "01", 16, false, 0, 0 },
		{ 'r', "72808080808080808001" "01", 16, true,
		  (int64_t)1 << 56, 1 },
		{ 'r', "72ffffffffffffffffff01" "01", 16, false, 0, 0 },
		{ 'r', "520101", 16, false, 0, 0 },     /* 'R' */
		{ 'r', "620101", 16, false, 0, 0 },     /* 'b' */
		{ 'r', "720101", 15, false, 0, 0 },     /* short MAC */
		{ 'r', "720101", 17, false, 0, 0 },     /* long MAC */
		{ 'r', "720101", 32, false, 0, 0 },     /* full MAC */
		{ 'r', "720101", 0, false, 0, 0 },      /* no MAC */
		{ 'b', "6201", 16, true, 1, 0 },
		{ 'b', "628002", 16, true, 256, 0 },
		{ 'b', "62ffffffffffffffff7f", 16, true, INT64_MAX, 0 },
		{ 'b', "62808000", 16, false, 0, 0 },   /* overlong */
		{ 'b', "6200", 16, false, 0, 0 },       /* id 0 */
		{ 'b', "620101", 16, false, 0, 0 },     /* trailing byte */
		{ 'b', "62", 16, false, 0, 0 },
		{ 'b', "7201", 16, false, 0, 0 },       /* 'r' */
		{ 'b', "4201", 16, false, 0, 0 },       /* 'B' */
		{ 'b', "6201", 12, false, 0, 0 },
	};
	unsigned char buf[128];
	unsigned char mac[CM_HASH_LEN];
	int64_t a, b;
	size_t i, len;
	char *key;
	int rc;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		len = unhex(rows[i].hex, buf);
		cm_token_mac(secret, CM_KEY_ADDR, buf, len, mac);
		assert_true(rows[i].maclen <= sizeof(mac));
		memcpy(buf + len, mac, rows[i].maclen);
		len += rows[i].maclen;
		key = cm_token_base32(buf, len);
		a = b = 0;
		if (rows[i].kind == 'r')
			rc = cm_addr_reply_decode(secret, key, &a, &b);
		else
			rc = cm_addr_bounce_decode(secret, key, &a);
		if ((rc == 0) != rows[i].ok)
			fail_msg("row %zu: %s: decode gave %d", i, key, rc);
		if (rows[i].ok && (a != rows[i].a || b != rows[i].b))
			fail_msg("row %zu: ids %lld %lld", i, (long long)a,
				 (long long)b);
		free(key);
	}
}

/* test_classify - recipients sorted into our kinds */
static void
test_classify(void **state)
{
	static const struct {
		const char *rcpt;
		int ret;
		enum cm_addr_kind kind;
		const char *ext;
	} rows[] = {
		{ "reply+abc234@" DOMAIN, 0, CM_ADDR_REPLY, "abc234" },
		{ "case+HU-20261128-0042@" DOMAIN, 0, CM_ADDR_CASE,
		  "HU-20261128-0042" },
		{ "note+hu-1@" DOMAIN, 0, CM_ADDR_NOTE, "hu-1" },
		{ "bounce+xyz@" DOMAIN, 0, CM_ADDR_BOUNCE, "xyz" },
		{ "Officer+xyz@" DOMAIN, 0, CM_ADDR_OFFICER, "xyz" },
		{ "REPLY+ABC@MAIL.EXAMPLE.POLICE.UK", 0, CM_ADDR_REPLY, "ABC" },
		{ "Case+X@Mail.Example.Police.UK", 0, CM_ADDR_CASE, "X" },
		{ "<reply+abc@" DOMAIN ">", 0, CM_ADDR_REPLY, "abc" },
		{ "<note+n@" DOMAIN ">", 0, CM_ADDR_NOTE, "n" },
		{ "reply+a+b@" DOMAIN, 0, CM_ADDR_REPLY, "a+b" },
		{ "reply+abc@other.example", 0, CM_ADDR_OTHER, NULL },
		{ "reply+abc@sub." DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "reply+abc@" DOMAIN ".evil", 0, CM_ADDR_OTHER, NULL },
		{ "reply@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "reply+@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "case+@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "replyx+abc@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "xreply+abc@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "rep+abc@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "casemail@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "victim@example.com", 0, CM_ADDR_OTHER, NULL },
		{ "postmaster@" DOMAIN, 0, CM_ADDR_OTHER, NULL },
		{ "", -1, CM_ADDR_OTHER, NULL },
		{ "<>", -1, CM_ADDR_OTHER, NULL },
		{ "no-at-sign", -1, CM_ADDR_OTHER, NULL },
		{ "@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
		{ "reply+abc@", -1, CM_ADDR_OTHER, NULL },
		{ "reply+a bc@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
		{ "reply+abc@" DOMAIN "\r\nBcc: x@y", -1, CM_ADDR_OTHER, NULL },
		{ "reply+a\tbc@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
		{ "<reply+abc@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
		{ "reply+abc@" DOMAIN ">", -1, CM_ADDR_OTHER, NULL },
		{ "<<reply+abc@" DOMAIN ">>", -1, CM_ADDR_OTHER, NULL },
		{ "a@x,reply+abc@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
		{ "reply+abc@" DOMAIN "\x7f", -1, CM_ADDR_OTHER, NULL },
		{ "reply+\xff@" DOMAIN, -1, CM_ADDR_OTHER, NULL },
	};
	enum cm_addr_kind kind;
	char *ext;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		kind = CM_ADDR_CASE;
		ext = (char *)"junk";
		ret = cm_addr_classify(rows[i].rcpt, DOMAIN, &kind, &ext);
		if (ret != rows[i].ret || kind != rows[i].kind)
			fail_msg("row %zu: ret %d kind %d", i, ret, (int)kind);
		if (rows[i].ext == NULL ? ext != NULL
					: ext == NULL ||
					  strcmp(ext, rows[i].ext) != 0)
			fail_msg("row %zu: ext %s", i, ext ? ext : "(null)");
		free(ext);
	}
}

/* test_valid - addresses safe to put in a header or RCPT TO */
static void
test_valid(void **state)
{
	static const struct {
		const char *addr;
		bool ok;
	} rows[] = {
		{ "victim@example.com", true },
		{ "first.last+tag@sub.example.co.uk", true },
		{ "o'brien@example.ie", true },
		{ "j\xc3\xb6rg@example.de", true },
		{ "x@[192.0.2.1]", true },
		{ "", false },
		{ "victim", false },
		{ "@example.com", false },
		{ "victim@", false },
		{ "vic tim@example.com", false },
		{ "victim@example.com\r\nBcc: a@b", false },
		{ "victim@example.com\n", false },
		{ "<victim@example.com>", false },
		{ "a@b,c@d", false },
		{ "victim\x01@example.com", false },
		{ "victim@exa\x7fmple.com", false },
		{ "j\xc3@example.de", false },
		{ "victim@exa(comment)mple.com", false },
		{ "victim@example.com;", false },
		{ "victim@\"example\".com", false },
	};
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (cm_addr_valid(rows[i].addr) != rows[i].ok)
			fail_msg("row %zu: %s", i, rows[i].addr);
	}
	assert_false(cm_addr_valid(NULL));
	big = cm_xmalloc(1001);
	memset(big, 'a', 1000);
	big[1000] = '\0';
	big[990] = '@';
	assert_false(cm_addr_valid(big));
	big[998] = '\0';
	assert_true(cm_addr_valid(big));
	free(big);
}

/* test_equal_normalize - case-blind equality and lower-cased copies */
static void
test_equal_normalize(void **state)
{
	static const struct {
		const char *a;
		const char *b;
		bool equal;
	} rows[] = {
		{ "Victim@Example.COM", "victim@example.com", true },
		{ "victim@example.com", "victim@example.com", true },
		{ "victim@example.com", "victim@example.org", false },
		{ "victim@example.com", "victim@example.co", false },
		{ "victim1@example.com", "victim@example.com", false },
		{ "", "", true },
	};
	char *n;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (cm_addr_equal(rows[i].a, rows[i].b) != rows[i].equal ||
		    cm_addr_equal(rows[i].b, rows[i].a) != rows[i].equal)
			fail_msg("row %zu", i);
	}
	assert_false(cm_addr_equal(NULL, "a@b"));
	assert_false(cm_addr_equal("a@b", NULL));
	n = cm_addr_normalize("Victim.Name@Example.COM");
	assert_string_equal(n, "victim.name@example.com");
	free(n);
	assert_null(cm_addr_normalize("not an address"));
	assert_null(cm_addr_normalize(NULL));
}

/* test_make - building our addresses */
static void
test_make(void **state)
{
	char *a;
	enum cm_addr_kind kind;
	char *ext;

	(void)state;
	a = cm_addr_make("reply", "abc", DOMAIN);
	assert_string_equal(a, "reply+abc@" DOMAIN);
	assert_int_equal(cm_addr_classify(a, DOMAIN, &kind, &ext), 0);
	assert_int_equal(kind, CM_ADDR_REPLY);
	assert_string_equal(ext, "abc");
	free(ext);
	free(a);
	a = cm_addr_make("casemail", NULL, DOMAIN);
	assert_string_equal(a, "casemail@" DOMAIN);
	free(a);
}

/* test_ref_canon - case references: rules, pattern, upper case */
static void
test_ref_canon(void **state)
{
	static const struct {
		const char *ref;
		const char *pattern;
		const char *want;  /* NULL: refused */
		const char *error; /* substring of the error */
	} rows[] = {
		{ "HU-20261128-0042", REF_RE, "HU-20261128-0042", NULL },
		{ "hu-20261128-0042", REF_RE, "HU-20261128-0042", NULL },
		{ "Hu-20261128-0042", REF_RE, "HU-20261128-0042", NULL },
		{ "HU/1234/26", REF_LOOSE, "HU/1234/26", NULL },
		{ "hu-1/a", REF_LOOSE, "HU-1/A", NULL },
		{ "HU-20261128-0042", NULL, "HU-20261128-0042", NULL },
		{ "anything-goes", "", "ANYTHING-GOES", NULL },
		{ "HU-1", REF_RE, NULL, "does not match ref_pattern" },
		{ "HU-20261128-00423", REF_RE, NULL, "does not match" },
		{ "XHU-20261128-0042", REF_RE, NULL, "does not match" },
		{ "HU1", "[A-Z]+", NULL, "does not match" },
		{ "1HU", "[A-Z]+", NULL, "does not match" },
		{ "HU", "[A-Z]+", "HU", NULL },
		{ "/HU", REF_LOOSE, NULL, "does not match" },
		{ "x y", REF_LOOSE, NULL, "case reference 'x y' contains "
					  "white space" },
		{ "x\ty", REF_LOOSE, NULL, "white space" },
		{ "HU-1 ", REF_LOOSE, NULL, "white space" },
		{ "HU-1\n", REF_LOOSE, NULL, "white space" },
		{ "X'; DROP TABLE cases;--", REF_LOOSE, NULL, "quote" },
		{ "X\"Y", REF_LOOSE, NULL, "quote" },
		{ "X`Y", REF_LOOSE, NULL, "quote" },
		{ "X;Y", REF_LOOSE, NULL, "semicolon" },
		{ "X\\Y", REF_LOOSE, NULL, "backslash" },
		{ "X\x01Y", REF_LOOSE, NULL, "control" },
		{ "X\x7fY", REF_LOOSE, NULL, "control" },
		{ "", REF_LOOSE, NULL, "empty" },
		{ "HU-1", "([A-Z", NULL, "ref_pattern '([A-Z' is not a valid" },
		{ "HU-\xc3\xa9", REF_LOOSE, NULL, "does not match" },
	};
	const char *error;
	char *got;
	char *ref;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		error = NULL;
		got = cm_addr_ref_canon(rows[i].ref, rows[i].pattern, &error);
		if (rows[i].want != NULL) {
			if (got == NULL || strcmp(got, rows[i].want) != 0)
				fail_msg("row %zu: got %s (%s)", i,
					 got ? got : "NULL", error);
		} else {
			if (got != NULL)
				fail_msg("row %zu: accepted as %s", i, got);
			if (error == NULL ||
			    strstr(error, rows[i].error) == NULL)
				fail_msg("row %zu: error %s", i,
					 error ? error : "NULL");
		}
		free(got);
	}
	/* length: 64 bytes pass, 65 do not */
	ref = cm_xmalloc(66);
	memset(ref, 'A', 65);
	ref[64] = '\0';
	got = cm_addr_ref_canon(ref, REF_LOOSE, &error);
	assert_non_null(got);
	free(got);
	ref[64] = 'A';
	ref[65] = '\0';
	error = NULL;
	assert_null(cm_addr_ref_canon(ref, REF_LOOSE, &error));
	assert_non_null(strstr(error, "longer than 64"));
	free(ref);
	error = NULL;
	assert_null(cm_addr_ref_canon(NULL, REF_LOOSE, &error));
	assert_non_null(error);
}

/* test_subject_ref - the first bracketed tag that is a reference */
static void
test_subject_ref(void **state)
{
	static const struct {
		const char *subject;
		const char *want;
	} rows[] = {
		{ "Re: [HU-20261128-0042] Update on your case",
		  "HU-20261128-0042" },
		{ "[hu-20261128-0042]", "HU-20261128-0042" },
		{ "[EXTERNAL] RE: [HU-20261128-0042] thanks",
		  "HU-20261128-0042" },
		{ "[HU-20261128-0042][HU-20261128-0043]", "HU-20261128-0042" },
		{ "[x] [HU-20261128-0043] [HU-20261128-0042]",
		  "HU-20261128-0043" },
		{ "[[HU-20261128-0042]]", "HU-20261128-0042" },
		{ "Re: update on HU-20261128-0042", NULL },
		{ "[HU-20261128-0042", NULL },
		{ "HU-20261128-0042]", NULL },
		{ "[ HU-20261128-0042 ]", NULL },
		{ "[HU-20261128-0042'; DROP TABLE cases;--]", NULL },
		{ "[] []", NULL },
		{ "", NULL },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		got = cm_addr_subject_ref(rows[i].subject, REF_RE);
		if (rows[i].want == NULL ? got != NULL
					 : got == NULL ||
					   strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got %s", i, got ? got : "NULL");
		free(got);
	}
	assert_null(cm_addr_subject_ref(NULL, REF_RE));
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_bounce_roundtrip),
		cmocka_unit_test(test_reply_tamper),
		cmocka_unit_test(test_bounce_tamper),
		cmocka_unit_test(test_kind_and_secret),
		cmocka_unit_test(test_officer_unsub),
		cmocka_unit_test(test_crafted),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_equal_normalize),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_ref_canon),
		cmocka_unit_test(test_subject_ref),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
