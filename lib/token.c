/*
 * token.c - the server secret, randomness, MACs, hashes and login tokens
 *
 * SYNOPSIS
 *	#include "cm_token.h"
 *
 * DESCRIPTION
 *	The only module that includes libsodium (R1), and nettle for
 *	SHA-256 (see cm_token_sha256). The secret file holds
 *	a 32-byte master key as 64 lower-case hex digits and a newline.
 *	cm_secret_load derives one subkey per enum cm_key_purpose with
 *	crypto_kdf_derive_from_key (context "casemail") and wipes the
 *	master key; every MAC or keyed hash uses the subkey of its purpose.
 *
 *	Encodings: base64url without padding (RFC 4648 section 5) for login
 *	tokens, base32 (RFC 4648 section 6, lower case, no padding) for
 *	address KEYs, which must survive case-folding mail systems.
 *
 * DIAGNOSTICS
 *	cm_secret_create and cm_secret_load report through *error_r, which
 *	points into a static buffer (borrowed until the next call). A secret
 *	file with any group or other permission bit is refused, naming the
 *	file and its mode; so is a symbolic link, a FIFO or anything else
 *	that is not a regular file (read with cm_read_private_file).
 *
 * SECURITY
 *	Keys live in memory only as derived subkeys and are wiped with
 *	sodium_memzero when freed; MACs are compared with sodium_memcmp.
 *	Decoders are strict: one string decodes to one byte sequence and
 *	every byte sequence has one encoding, so a tampered token or KEY
 *	never aliases a genuine one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>
#include <sodium.h>

#include "cm_log.h"
#include "cm_token.h"
#include "cm_util.h"

#define KDF_CONTEXT "casemail"
#define NPURPOSE 4 /* index 0 unused: purposes start at 1 */
#define SECRET_HEX (2 * crypto_kdf_KEYBYTES)
#define SECRET_FILE_MAX 4096 /* bytes read: more is not a secret file */

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct cm_secret {
	unsigned char key[NPURPOSE][crypto_kdf_KEYBYTES];
};

static char errbuf[1024];

/* set_error - format an error into errbuf and point *error_r at it */
static void set_error(const char **error_r, const char *fmt, ...)
	CM_ATTR_PRINTF(2, 3);
static void
set_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = errbuf;
}

/* subkey - the key for purpose; a bad purpose is a bug */
static const unsigned char *
subkey(const struct cm_secret *s,
       enum cm_key_purpose purpose)
{
	if (s == NULL || (int)purpose < 1 || (int)purpose >= NPURPOSE)
		cm_panic("token: bad secret or key purpose %d", (int)purpose);
	return s->key[purpose];
}

/* cm_token_init - sodium_init(); 0 also when already initialised */
int
cm_token_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

/* parent_dir - copy of the directory part of path ("." if none) */
static char *
parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return cm_xstrdup(".");
	if (slash == path)
		return cm_xstrdup("/");
	return cm_xstrndup(path, (size_t)(slash - path));
}

/* cm_secret_create - create path with a fresh key unless it exists */
int
cm_secret_create(const char *path, const char **error_r)
{
	unsigned char key[crypto_kdf_KEYBYTES];
	char hex[SECRET_HEX + 2];
	char *dir = NULL;
	int fd = -1;
	int ret = -1;
	struct stat st;

	if (path == NULL || *path == '\0') {
		set_error(error_r, "secret file: empty path");
		goto out;
	}
	if (lstat(path, &st) == 0) {
		ret = 0;
		goto out;
	}
	dir = parent_dir(path);
	if (cm_mkdir_p(dir, 0700) < 0) {
		set_error(error_r, "secret file %s: cannot create %s: %s",
			  path, dir, strerror(errno));
		goto out;
	}
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			ret = 0;
		else
			set_error(error_r, "secret file %s: cannot create: %s",
				  path, strerror(errno));
		goto out;
	}
	crypto_kdf_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	hex[SECRET_HEX] = '\n';
	hex[SECRET_HEX + 1] = '\0';
	if (cm_write_all(fd, hex, SECRET_HEX + 1) < 0 || fsync(fd) < 0) {
		set_error(error_r, "secret file %s: cannot write: %s", path,
			  strerror(errno));
		(void)unlink(path);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		set_error(error_r, "secret file %s: cannot write: %s", path,
			  strerror(errno));
		(void)unlink(path);
		goto out;
	}
	fd = -1;
	if (cm_fsync_dir(dir) < 0) {
		set_error(error_r, "secret file %s: cannot sync %s: %s", path,
			  dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	free(dir);
	return ret;
}

/* parse_secret - 64 lower-case hex digits and an optional final newline
 * into key; 0 or -1 */
static int
parse_secret(const char *buf, size_t len, unsigned char *key)
{
	size_t binlen = 0;
	size_t i;

	if (len == SECRET_HEX + 1 && buf[SECRET_HEX] == '\n')
		len = SECRET_HEX;
	if (len != SECRET_HEX)
		return -1;
	for (i = 0; i < len; i++) {
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		      (buf[i] >= 'a' && buf[i] <= 'f')))
			return -1;
	}
	if (sodium_hex2bin(key, crypto_kdf_KEYBYTES, buf, len, NULL, &binlen,
			   NULL) != 0 ||
	    binlen != crypto_kdf_KEYBYTES)
		return -1;
	return 0;
}

/* cm_secret_load - read the master key and derive the subkeys */
struct cm_secret *cm_secret_load(const char *path, bool *temp_r,
				 const char **error_r)
{
	unsigned char master[crypto_kdf_KEYBYTES];
	struct cm_secret *s = NULL;
	struct cm_secret *ret = NULL;
	const char *why = NULL;
	char *buf = NULL;
	size_t len = 0;
	int i, rc;

	if (temp_r != NULL)
		*temp_r = false;
	if (path == NULL || *path == '\0') {
		set_error(error_r, "secret file: empty path");
		goto out;
	}
	/* never through a link, never from a FIFO, only owner-only */
	rc = cm_read_private_file(path, SECRET_FILE_MAX, &buf, &len, &why);
	if (rc < 0) {
		if (temp_r != NULL)
			*temp_r = rc == CM_ETEMP || rc == CM_ENOENT;
		set_error(error_r, "secret file %s%s", why,
			  rc == CM_ENOENT ? " (run casemail init)" : "");
		goto out;
	}
	if (parse_secret(buf, len, master) < 0) {
		set_error(error_r,
			  "secret file %s is malformed: it must hold 64 "
			  "lower-case hex digits and a newline",
			  path);
		goto out;
	}
	s = cm_xcalloc(1, sizeof(*s));
	for (i = 1; i < NPURPOSE; i++) {
		if (crypto_kdf_derive_from_key(s->key[i], sizeof(s->key[i]),
					       (uint64_t)i, KDF_CONTEXT,
					       master) != 0) {
			set_error(error_r, "secret file %s: key derivation "
				  "failed", path);
			goto out;
		}
	}
	ret = s;
	s = NULL;
out:
	cm_secret_free(&s);
	sodium_memzero(master, sizeof(master));
	if (buf != NULL)
		sodium_memzero(buf, len);
	free(buf);
	return ret;
}

/* cm_secret_free - wipe and free the secret */
void
cm_secret_free(struct cm_secret **s)
{
	if (s == NULL || *s == NULL)
		return;
	sodium_memzero(*s, sizeof(**s));
	free(*s);
	*s = NULL;
}

/* cm_token_random - fill buf with len random bytes */
void
cm_token_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

/* cm_token_uniform - uniform random number in [0, upper) */
uint32_t
cm_token_uniform(uint32_t upper)
{
	return randombytes_uniform(upper);
}

/* cm_token_mac - crypto_auth under the purpose subkey */
void
cm_token_mac(const struct cm_secret *s, enum cm_key_purpose purpose,
	     const void *msg, size_t len, unsigned char *mac_r)
{
	static const unsigned char empty[1];

	crypto_auth(mac_r, len > 0 ? msg : (const void *)empty, len,
		    subkey(s, purpose));
}

/* cm_token_mac_verify - constant-time check of a (truncated) MAC */
bool
cm_token_mac_verify(const struct cm_secret *s,
		    enum cm_key_purpose purpose, const void *msg,
		    size_t len, const unsigned char *mac, size_t maclen)
{
	unsigned char want[crypto_auth_BYTES];
	bool ok;

	if (mac == NULL || maclen < 16 || maclen > crypto_auth_BYTES)
		return false;
	cm_token_mac(s, purpose, msg, len, want);
	ok = sodium_memcmp(want, mac, maclen) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* cm_token_keyed_hash - crypto_generichash under the purpose subkey */
void
cm_token_keyed_hash(const struct cm_secret *s,
		    enum cm_key_purpose purpose, const void *msg,
		    size_t len, unsigned char *out_r)
{
	const unsigned char *key = subkey(s, purpose);

	crypto_generichash(out_r, CM_HASH_LEN, msg, len, key,
			   crypto_kdf_KEYBYTES);
}

/*
 * cm_token_sha256 - SHA-256 of p. Nettle's, not libsodium's: the raw
 * message and every attachment are hashed as evidence, and nettle uses
 * the CPU's SHA extensions (1.5 GB/s here against 0.4 GB/s), which makes
 * hashing the smaller part of a batch ingest instead of its largest.
 */
void
cm_token_sha256(const void *p, size_t len, unsigned char *out_r)
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, p);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, out_r);
}

/* cm_token_sha256_hex - SHA-256 of p in lower-case hex */
void
cm_token_sha256_hex(const void *p, size_t len, char out_r[65])
{
	unsigned char h[CM_HASH_LEN];

	cm_token_sha256(p, len, h);
	cm_token_hex(h, sizeof(h), out_r);
}

/* cm_token_hex - lower-case hex of p into out_r[2 * len + 1] */
void
cm_token_hex(const unsigned char *p, size_t len, char *out_r)
{
	sodium_bin2hex(out_r, 2 * len + 1, p, len);
}

/* cm_token_hmac_sha256 - HMAC-SHA-256 with a key of any length */
void
cm_token_hmac_sha256(const void *key, size_t keylen, const void *msg,
		     size_t len, unsigned char *out_r)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, out_r);
	sodium_memzero(&st, sizeof(st));
}

/* cm_token_base64url - unpadded base64url of p; caller frees */
char *
cm_token_base64url(const unsigned char *p, size_t len)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	size_t size = sodium_base64_ENCODED_LEN(len, v);
	char *out = cm_xmalloc(size);

	sodium_bin2base64(out, size, p, len, v);
	return out;
}

/* cm_token_base32 - lower-case unpadded base32 of p; caller frees */
char *
cm_token_base32(const unsigned char *p, size_t len)
{
	size_t size = (len * 8 + 4) / 5 + 1; /* UNSAFE: len is small */
	char *out = cm_xmalloc(size);
	unsigned int acc = 0;
	unsigned int bits = 0;
	size_t i;
	size_t o = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return out;
}

/* b32_value - value of one base32 digit (either case), or -1 */
static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* cm_token_unbase32 - strict base32 decode; length or -1 */
long
cm_token_unbase32(const char *s, unsigned char *out_r, size_t outmax)
{
	unsigned int acc = 0;
	unsigned int bits = 0;
	size_t o = 0;
	long ret = -1;
	int v;

	if (s == NULL)
		goto out;
	for (; *s != '\0'; s++) {
		v = b32_value(*s);
		if (v < 0)
			goto out;
		acc = (acc << 5) | (unsigned int)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				goto out;
			out_r[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* a whole spare digit, or non-zero padding bits: not canonical */
	if (bits >= 5 || acc != 0)
		goto out;
	ret = (long)o;
out:
	return ret;
}

/* cm_token_mint - a fresh login token and its keyed hash */
char *
cm_token_mint(const struct cm_secret *s, unsigned char *hash_r)
{
	unsigned char raw[CM_TOKEN_RAW];
	char *tok;

	randombytes_buf(raw, sizeof(raw));
	tok = cm_token_base64url(raw, sizeof(raw));
	cm_token_keyed_hash(s, CM_KEY_TOKEN, raw, sizeof(raw), hash_r);
	sodium_memzero(raw, sizeof(raw));
	return tok;
}

/* cm_token_hash - keyed hash of a presented token; 0 or -1 */
int
cm_token_hash(const struct cm_secret *s, const char *token,
	      unsigned char *hash_r)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	unsigned char raw[CM_TOKEN_RAW];
	const char *end = NULL;
	size_t binlen = 0;
	size_t toklen;
	int ret = -1;

	if (token == NULL)
		goto out;
	toklen = strnlen(token, 64);
	if (toklen != sodium_base64_ENCODED_LEN(CM_TOKEN_RAW, v) - 1)
		goto out;
	/* checked here: libsodium 1.0.18 lets some bytes >= 0x80 through */
	if (strspn(token, b64url_alphabet) != toklen)
		goto out;
	if (sodium_base642bin(raw, sizeof(raw), token, toklen, NULL, &binlen,
			      &end, v) != 0 ||
	    binlen != sizeof(raw) || end != token + toklen)
		goto out;
	cm_token_keyed_hash(s, CM_KEY_TOKEN, raw, sizeof(raw), hash_r);
	ret = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	return ret;
}

/* cm_token_wipe - sodium_memzero */
void
cm_token_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
