/*
 * test_token.c - unit tests for lib/token.c
 *
 * DESCRIPTION
 *	The secret file (create, load, mode and format refusals), MACs,
 *	keyed hashes, SHA-256 and HMAC-SHA-256 against published vectors,
 *	base32 and base64url round trips and rejects, login token minting
 *	and hashing.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_token.h"
#include "cm_util.h"

static char tmpdir[] = "/tmp/cm-test-token-XXXXXX";

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *st, int flag,
       struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* group_setup - sodium and a scratch directory */
static int
group_setup(void **state)
{
	(void)state;
	if (cm_token_init() != 0)
		return -1;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

/* group_teardown - remove the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* path_in - "tmpdir/name"; caller frees */
static char *
path_in(const char *name)
{
	return cm_xasprintf("%s/%s", tmpdir, name);
}

/* write_file - create path with content and mode */
static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, content, strlen(content)), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* load_ok - load a secret that must load */
static struct cm_secret *load_ok(const char *path)
{
	const char *error = NULL;
	struct cm_secret *s = cm_secret_load(path, NULL, &error);

	if (s == NULL)
		fail_msg("load %s: %s", path, error);
	return s;
}

/* hex_of - lower-case hex of p (static buffer, one at a time) */
static const char *
hex_of(const unsigned char *p, size_t len)
{
	static char buf[256];

	assert_true(2 * len + 1 <= sizeof(buf));
	cm_token_hex(p, len, buf);
	return buf;
}

/* test_secret_create - created 0600 with parents, never overwritten */
static void
test_secret_create(void **state)
{
	char *path = path_in("a/b/secret");
	char *dir = path_in("a");
	const char *error = NULL;
	char *data = NULL;
	char *again = NULL;
	size_t len = 0;
	struct stat st;
	size_t i;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(cm_read_file(path, 1024, &data, &len), 0);
	assert_int_equal(len, 65);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", data[i]));
	assert_int_equal(data[64], '\n');
	/* a second create leaves the existing key alone */
	assert_int_equal(cm_secret_create(path, &error), 0);
	assert_int_equal(cm_read_file(path, 1024, &again, &len), 0);
	assert_string_equal(data, again);
	free(again);
	free(data);
	free(dir);
	free(path);
}

/* test_secret_load - a created secret loads; distinct files differ */
static void
test_secret_load(void **state)
{
	char *p1 = path_in("load1");
	char *p2 = path_in("load2");
	const char *error = NULL;
	struct cm_secret *s1, *s1b, *s2;
	unsigned char m1[CM_HASH_LEN], m1b[CM_HASH_LEN], m2[CM_HASH_LEN];

	(void)state;
	assert_int_equal(cm_secret_create(p1, &error), 0);
	assert_int_equal(cm_secret_create(p2, &error), 0);
	s1 = load_ok(p1);
	s1b = load_ok(p1);
	s2 = load_ok(p2);
	cm_token_mac(s1, CM_KEY_ADDR, "msg", 3, m1);
	cm_token_mac(s1b, CM_KEY_ADDR, "msg", 3, m1b);
	cm_token_mac(s2, CM_KEY_ADDR, "msg", 3, m2);
	assert_memory_equal(m1, m1b, CM_HASH_LEN);
	assert_memory_not_equal(m1, m2, CM_HASH_LEN);
	cm_secret_free(&s1);
	assert_null(s1);
	cm_secret_free(&s1);
	cm_secret_free(&s1b);
	cm_secret_free(&s2);
	free(p2);
	free(p1);
}

/* test_secret_mode - group or other bits refused, naming the mode */
static void
test_secret_mode(void **state)
{
	static const struct {
		mode_t mode;
		bool ok;
		const char *shown;
	} rows[] = {
		{ 0600, true, NULL },   { 0400, true, NULL },
		{ 0644, false, "0644" }, { 0640, false, "0640" },
		{ 0604, false, "0604" }, { 0610, false, "0610" },
		{ 0602, false, "0602" }, { 0666, false, "0666" },
	};
	char *path = path_in("modes");
	const char *error;
	struct cm_secret *s;
	bool temp;
	size_t i;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		assert_int_equal(chmod(path, rows[i].mode), 0);
		error = NULL;
		temp = true;
		s = cm_secret_load(path, &temp, &error);
		if ((s != NULL) != rows[i].ok)
			fail_msg("row %zu: mode %04o: %s", i,
				 (unsigned int)rows[i].mode,
				 s != NULL ? "loaded" : error);
		if (!rows[i].ok) {
			assert_false(temp);
			if (strstr(error, rows[i].shown) == NULL ||
			    strstr(error, path) == NULL ||
			    strstr(error, "chmod 600") == NULL)
				fail_msg("row %zu: unhelpful error: %s", i,
					 error);
		}
		cm_secret_free(&s);
	}
	free(path);
}

/* test_secret_malformed - only 64 lower-case hex digits load */
static void
test_secret_malformed(void **state)
{
	static const char hex64[] =
		"00112233445566778899aabbccddeeff"
		"00112233445566778899aabbccddeeff";
	static const struct {
		const char *prefix;
		const char *body;
		const char *suffix;
		bool ok;
	} rows[] = {
		{ "", hex64, "\n", true },
		{ "", hex64, "", true },
		{ "", "", "", false },
		{ "", "", "\n", false },
		{ "", hex64 + 1, "\n", false },
		{ "0", hex64, "\n", false },
		{ " ", hex64, "\n", false },
		{ "", hex64, "\n\n", false },
		{ "", hex64, "\r\n", false },
		{ "", hex64, " ", false },
		{ "", "00112233445566778899AABBCCDDEEFF"
		      "00112233445566778899AABBCCDDEEFF", "\n", false },
		{ "", "g0112233445566778899aabbccddeeff"
		      "00112233445566778899aabbccddeeff", "\n", false },
		{ "", hex64, "\nextra text after the key\n", false },
	};
	char *path = path_in("malformed");
	const char *error;
	struct cm_secret *s;
	char *content;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		content = cm_xasprintf("%s%s%s", rows[i].prefix, rows[i].body,
				       rows[i].suffix);
		write_file(path, content, 0600);
		error = NULL;
		s = cm_secret_load(path, NULL, &error);
		if ((s != NULL) != rows[i].ok)
			fail_msg("row %zu: %s", i,
				 s != NULL ? "loaded" : error);
		if (!rows[i].ok && strstr(error, "malformed") == NULL)
			fail_msg("row %zu: unhelpful error: %s", i, error);
		cm_secret_free(&s);
		free(content);
	}
	free(path);
}

/* test_secret_not_file - missing file and directory refused */
static void
test_secret_not_file(void **state)
{
	char *missing = path_in("no-such-secret");
	const char *error = NULL;
	bool temp = true;

	(void)state;
	assert_null(cm_secret_load(missing, &temp, &error));
	assert_true(temp == cm_errno_is_temp(ENOENT));
	assert_non_null(strstr(error, missing));
	assert_non_null(strstr(error, strerror(ENOENT)));
	error = NULL;
	assert_int_equal(chmod(tmpdir, 0700), 0);
	assert_null(cm_secret_load(tmpdir, &temp, &error));
	assert_non_null(strstr(error, "not a regular file"));
	free(missing);
}

/* test_secret_link_fifo - a link to the secret and a FIFO in its place
 * are refused at once: never followed, never waited on */
static void
test_secret_link_fifo(void **state)
{
	char *path = path_in("linked");
	char *link = path_in("link-to-secret");
	char *fifo = path_in("fifo-secret");
	const char *error = NULL;
	bool temp = true;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_null(cm_secret_load(link, &temp, &error));
	assert_false(temp);
	assert_non_null(strstr(error, "symbolic link"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	error = NULL;
	assert_null(cm_secret_load(fifo, &temp, &error));
	assert_non_null(strstr(error, "FIFO"));
	unlink(link);
	unlink(fifo);
	free(fifo);
	free(link);
	free(path);
}

/* test_mac - full and truncated MACs verify; anything else does not */
static void
test_mac(void **state)
{
	char *path = path_in("mac");
	const char *error = NULL;
	struct cm_secret *s;
	unsigned char mac[CM_HASH_LEN];
	unsigned char bad[CM_HASH_LEN];
	unsigned char other[CM_HASH_LEN];
	size_t n;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	s = load_ok(path);
	cm_token_mac(s, CM_KEY_ADDR, "hello", 5, mac);
	for (n = 0; n <= 40; n++) {
		bool want = n >= 16 && n <= 32;

		if (cm_token_mac_verify(s, CM_KEY_ADDR, "hello", 5, mac, n) !=
		    want)
			fail_msg("maclen %zu: expected %d", n, want);
	}
	assert_false(cm_token_mac_verify(s, CM_KEY_ADDR, "hellp", 5, mac,
					 16));
	assert_false(cm_token_mac_verify(s, CM_KEY_AUDIT, "hello", 5, mac,
					 16));
	for (n = 0; n < 16; n++) {
		memcpy(bad, mac, sizeof(bad));
		bad[n] ^= 0x01;
		if (cm_token_mac_verify(s, CM_KEY_ADDR, "hello", 5, bad, 16))
			fail_msg("flipped byte %zu still verifies", n);
	}
	/* purposes have distinct keys */
	cm_token_mac(s, CM_KEY_TOKEN, "hello", 5, other);
	assert_memory_not_equal(mac, other, CM_HASH_LEN);
	cm_token_keyed_hash(s, CM_KEY_TOKEN, "hello", 5, bad);
	cm_token_keyed_hash(s, CM_KEY_AUDIT, "hello", 5, other);
	assert_memory_not_equal(bad, other, CM_HASH_LEN);
	cm_secret_free(&s);
	free(path);
}

/* test_sha256 - FIPS 180-2 vectors, raw and hex */
static void
test_sha256(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} rows[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char raw[CM_HASH_LEN];
	char hex[65];
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		cm_token_sha256_hex(rows[i].in, strlen(rows[i].in), hex);
		if (strcmp(hex, rows[i].hex) != 0)
			fail_msg("row %zu: got %s", i, hex);
		cm_token_sha256(rows[i].in, strlen(rows[i].in), raw);
		if (strcmp(hex_of(raw, sizeof(raw)), rows[i].hex) != 0)
			fail_msg("row %zu: raw differs", i);
	}
}

/* test_hmac_sha256 - RFC 4231 test cases 1-7 */
static void
test_hmac_sha256(void **state)
{
	static const struct {
		const char *key; /* NULL: keylen bytes of keyfill */
		unsigned char keyfill;
		size_t keylen;
		const char *data; /* NULL: datalen bytes of datafill */
		unsigned char datafill;
		size_t datalen;
		const char *mac; /* hex, compared over its length */
	} rows[] = {
		{ NULL, 0x0b, 20, "Hi There", 0, 0,
		  "b0344c61d8db38535ca8afceaf0bf12b"
		  "881dc200c9833da726e9376c2e32cff7" },
		{ "Jefe", 0, 0, "what do ya want for nothing?", 0, 0,
		  "5bdcc146bf60754e6a042426089575c7"
		  "5a003f089d2739839dec58b964ec3843" },
		{ NULL, 0xaa, 20, NULL, 0xdd, 50,
		  "773ea91e36800e46854db8ebd09181a7"
		  "2959098b3ef8c122d9635514ced565fe" },
		{ "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
		  "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19",
		  0, 0, NULL, 0xcd, 50,
		  "82558a389a443c0ea4cc819899f2083a"
		  "85f0faa3e578f8077a2e3ff46729665b" },
		{ NULL, 0x0c, 20, "Test With Truncation", 0, 0,
		  "a3b6167473100ee06e0c796c2955552b" },
		{ NULL, 0xaa, 131,
		  "Test Using Larger Than Block-Size Key - Hash Key First", 0,
		  0,
		  "60e431591ee0b67f0d8a26aacbf5b77f"
		  "8e0bc6213728c5140546040f0ee37f54" },
		{ NULL, 0xaa, 131,
		  "This is a test using a larger than block-size key and a "
		  "larger than block-size data. The key needs to be hashed "
		  "before being used by the HMAC algorithm.",
		  0, 0,
		  "9b09ffa71b942fcb27635fbcd5b0e944"
		  "bfdc63644f0713938a7f51535c3a35e2" },
	};
	unsigned char key[256], data[256], mac[32];
	const char *got;
	size_t keylen, datalen, i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (rows[i].key != NULL) {
			keylen = strlen(rows[i].key);
			memcpy(key, rows[i].key, keylen);
		} else {
			keylen = rows[i].keylen;
			memset(key, rows[i].keyfill, keylen);
		}
		if (rows[i].data != NULL) {
			datalen = strlen(rows[i].data);
			memcpy(data, rows[i].data, datalen);
		} else {
			datalen = rows[i].datalen;
			memset(data, rows[i].datafill, datalen);
		}
		cm_token_hmac_sha256(key, keylen, data, datalen, mac);
		got = hex_of(mac, sizeof(mac));
		if (strncmp(got, rows[i].mac, strlen(rows[i].mac)) != 0)
			fail_msg("RFC 4231 case %zu: got %s", i + 1, got);
	}
}

/* test_base32 - RFC 4648 vectors both ways, either case */
static void
test_base32(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} rows[] = {
		{ "", 0, "" },
		{ "f", 1, "my" },
		{ "fo", 2, "mzxq" },
		{ "foo", 3, "mzxw6" },
		{ "foob", 4, "mzxw6yq" },
		{ "fooba", 5, "mzxw6ytb" },
		{ "foobar", 6, "mzxw6ytboi" },
		{ "\xff\xff\xff\xff\xff", 5, "77777777" },
		{ "\x00\x00", 2, "aaaa" },
		{ "\x00", 1, "aa" },
	};
	unsigned char buf[32];
	char *enc, *upper;
	long n;
	size_t i, len;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		len = rows[i].len;
		enc = cm_token_base32((const unsigned char *)rows[i].in, len);
		if (strcmp(enc, rows[i].out) != 0)
			fail_msg("row %zu: encoded as %s", i, enc);
		n = cm_token_unbase32(rows[i].out, buf, sizeof(buf));
		if (n != (long)len || memcmp(buf, rows[i].in, len) != 0)
			fail_msg("row %zu: decoded to %ld bytes", i, n);
		upper = cm_str_upper(cm_xstrdup(rows[i].out));
		n = cm_token_unbase32(upper, buf, sizeof(buf));
		if (n != (long)len || memcmp(buf, rows[i].in, len) != 0)
			fail_msg("row %zu: upper case decoded to %ld", i, n);
		free(upper);
		free(enc);
	}
}

/* test_base32_reject - malformed base32 gives -1 */
static void
test_base32_reject(void **state)
{
	static const struct {
		const char *in;
		size_t outmax;
	} rows[] = {
		{ "m", 32 },          /* one digit is no whole byte */
		{ "mzx", 32 },        /* 3 digits: a spare digit */
		{ "mzxw6y", 32 },     /* 6 digits: a spare digit */
		{ "mz", 32 },         /* non-zero trailing bits */
		{ "mzxr", 32 },       /* non-zero trailing bits */
		{ "my======", 32 },   /* padding */
		{ "my=", 32 },
		{ "m1", 32 },         /* 0, 1, 8, 9 not in the alphabet */
		{ "m0", 32 },
		{ "m8", 32 },
		{ "m9", 32 },
		{ "my ", 32 },
		{ " my", 32 },
		{ "m y", 32 },
		{ "my\n", 32 },
		{ "m-y", 32 },
		{ "\xc3\xa9y", 32 },
		{ "mzxw6ytboi", 5 },  /* 6 bytes do not fit in 5 */
		{ "my", 0 },
	};
	unsigned char buf[32];
	long n;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		n = cm_token_unbase32(rows[i].in, buf, rows[i].outmax);
		if (n != -1)
			fail_msg("row %zu: '%s' decoded to %ld bytes", i,
				 rows[i].in, n);
	}
	assert_int_equal(cm_token_unbase32(NULL, buf, sizeof(buf)), -1);
}

/* test_base32_roundtrip - every length 0..40 of random bytes */
static void
test_base32_roundtrip(void **state)
{
	unsigned char in[40], out[40];
	char *enc;
	size_t len;
	long n;

	(void)state;
	for (len = 0; len <= sizeof(in); len++) {
		cm_token_random(in, len);
		enc = cm_token_base32(in, len);
		assert_int_equal(strlen(enc), (len * 8 + 4) / 5);
		n = cm_token_unbase32(enc, out, sizeof(out));
		if (n != (long)len || memcmp(in, out, len) != 0)
			fail_msg("length %zu: %s decoded to %ld", len, enc, n);
		free(enc);
	}
}

/* test_base64url - RFC 4648 vectors, URL-safe alphabet, no padding */
static void
test_base64url(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} rows[] = {
		{ "", 0, "" },
		{ "f", 1, "Zg" },
		{ "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg" },
		{ "fooba", 5, "Zm9vYmE" },
		{ "foobar", 6, "Zm9vYmFy" },
		{ "\xfb\xff", 2, "-_8" },
		{ "\xfb\xef\xbe", 3, "----" },
		{ "\xff\xff\xff", 3, "____" },
	};
	char *enc;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		enc = cm_token_base64url((const unsigned char *)rows[i].in,
					 rows[i].len);
		if (strcmp(enc, rows[i].out) != 0)
			fail_msg("row %zu: got %s", i, enc);
		free(enc);
	}
}

/* cmp_str - qsort comparator for char * */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* test_mint - 43-char tokens, all distinct, hashes reproducible */
static void
test_mint(void **state)
{
	enum { N = 10000 };
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789-_";
	char *path = path_in("mint");
	const char *error = NULL;
	struct cm_secret *s, *s2;
	unsigned char hash[CM_HASH_LEN], again[CM_HASH_LEN];
	char **toks = cm_xcalloc(N, sizeof(*toks));
	char *p2 = path_in("mint2");
	size_t i;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	assert_int_equal(cm_secret_create(p2, &error), 0);
	s = load_ok(path);
	s2 = load_ok(p2);
	for (i = 0; i < N; i++) {
		toks[i] = cm_token_mint(s, hash);
		if (strlen(toks[i]) != 43 ||
		    strspn(toks[i], alphabet) != 43)
			fail_msg("token %zu malformed: %s", i, toks[i]);
		if (cm_token_hash(s, toks[i], again) != 0 ||
		    memcmp(hash, again, CM_HASH_LEN) != 0)
			fail_msg("token %zu: hash does not match", i);
		/* another secret gives another hash */
		assert_int_equal(cm_token_hash(s2, toks[i], again), 0);
		if (memcmp(hash, again, CM_HASH_LEN) == 0)
			fail_msg("token %zu: same hash under two keys", i);
	}
	qsort(toks, N, sizeof(*toks), cmp_str);
	for (i = 1; i < N; i++) {
		if (strcmp(toks[i - 1], toks[i]) == 0)
			fail_msg("duplicate token %s", toks[i]);
	}
	for (i = 0; i < N; i++)
		free(toks[i]);
	free(toks);
	cm_secret_free(&s2);
	cm_secret_free(&s);
	free(p2);
	free(path);
}

/* test_token_tampered - a changed character changes the hash */
static void
test_token_tampered(void **state)
{
	char *path = path_in("tamper");
	const char *error = NULL;
	struct cm_secret *s;
	unsigned char hash[CM_HASH_LEN], other[CM_HASH_LEN];
	char *tok;
	size_t i;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	s = load_ok(path);
	tok = cm_token_mint(s, hash);
	for (i = 0; i < 42; i++) {
		char save = tok[i];

		tok[i] = save == 'A' ? 'B' : 'A';
		assert_int_equal(cm_token_hash(s, tok, other), 0);
		if (memcmp(hash, other, CM_HASH_LEN) == 0)
			fail_msg("position %zu: tampered token same hash", i);
		tok[i] = save;
	}
	free(tok);
	cm_secret_free(&s);
	free(path);
}

/* test_token_malformed - presented tokens that are not ours */
static void
test_token_malformed(void **state)
{
	static const struct {
		int pos;         /* -1: use text as is */
		char c;          /* replacement at pos */
		const char *text;
	} rows[] = {
		{ -1, 0, "" },
		{ -1, 0, "short" },
		{ -1, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ -1, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ -1, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
		{ -1, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB" },
		{ -1, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA " },
		{ 0, '+', NULL },
		{ 5, '/', NULL },
		{ 10, '=', NULL },
		{ 20, ' ', NULL },
		{ 30, '.', NULL },
		{ 41, '\n', NULL },
		{ 1, '\x80', NULL },
		{ 2, '\xc3', NULL },
	};
	char *path = path_in("malformed-token");
	const char *error = NULL;
	struct cm_secret *s;
	unsigned char hash[CM_HASH_LEN];
	char *good, *bad;
	size_t i;

	(void)state;
	assert_int_equal(cm_secret_create(path, &error), 0);
	s = load_ok(path);
	good = cm_token_mint(s, hash);
	assert_int_equal(cm_token_hash(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
				       "AAAAAAAAAAAA", hash), 0);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (rows[i].pos < 0) {
			bad = cm_xstrdup(rows[i].text);
		} else {
			bad = cm_xstrdup(good);
			bad[rows[i].pos] = rows[i].c;
		}
		if (cm_token_hash(s, bad, hash) != -1)
			fail_msg("row %zu: accepted", i);
		free(bad);
	}
	assert_int_equal(cm_token_hash(s, NULL, hash), -1);
	free(good);
	cm_secret_free(&s);
	free(path);
}

/* test_random - uniform stays in range; random fills */
static void
test_random(void **state)
{
	unsigned char a[32], b[32];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_true(cm_token_uniform(7) < 7);
	cm_token_random(a, sizeof(a));
	cm_token_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	cm_token_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(cm_token_init(), 0);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_create),
		cmocka_unit_test(test_secret_load),
		cmocka_unit_test(test_secret_mode),
		cmocka_unit_test(test_secret_malformed),
		cmocka_unit_test(test_secret_not_file),
		cmocka_unit_test(test_secret_link_fifo),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_base32_reject),
		cmocka_unit_test(test_base32_roundtrip),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_mint),
		cmocka_unit_test(test_token_tampered),
		cmocka_unit_test(test_token_malformed),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
