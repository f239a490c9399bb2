/*
 * cm_token.h - the server secret, randomness, MACs, hashes, login tokens
 *
 * SYNOPSIS
 *	struct cm_secret *s = cm_secret_load(cfg->secret_file, &error);
 *	char *tok = cm_token_mint(s, hash);
 *
 * DESCRIPTION
 *	The only module that includes libsodium (R1). The secret file holds
 *	a 32-byte master key (64 hex digits and a newline); subkeys for each
 *	purpose are derived from it with crypto_kdf, so a key used for reply
 *	addresses never serves for audit hashing.
 *
 *	Login tokens are 32 random bytes in base64url (no padding). Only a
 *	keyed hash (crypto_generichash under the token subkey) is stored.
 *
 * DIAGNOSTICS
 *	cm_secret_load refuses a file readable or writable by group or
 *	others, naming the file and its mode, and a symbolic link, FIFO or
 *	anything else that is not a regular file.
 *
 * SECURITY
 *	Keys are wiped with sodium_memzero when freed; MACs are compared
 *	with sodium_memcmp.
 */
#ifndef CM_TOKEN_H
#define CM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_HASH_LEN 32  /* keyed hashes, SHA-256, full MACs */
#define CM_TOKEN_RAW 32 /* random bytes in a login token */

enum cm_key_purpose {
	CM_KEY_ADDR = 1,  /* reply+/bounce+ address MACs */
	CM_KEY_TOKEN = 2, /* login and session token hashes */
	CM_KEY_AUDIT = 3, /* audit chain */
};

struct cm_secret;

/* cm_token_init - sodium_init(); 0 or -1 (call once at start) */
int cm_token_init(void);

/*
 * cm_secret_create - create path with a fresh random key, mode 0600,
 * if it does not exist. 0 (created or already there) or -1 with
 * *error_r (borrowed until the next call).
 */
int cm_secret_create(const char *path, const char **error_r);

/*
 * cm_secret_load - read the key from path. Refuses a file with any
 * group or other permission bits. Returns the secret (caller frees with
 * cm_secret_free) or NULL with *error_r; *temp_r (may be NULL) is set
 * true when a retry might help (EIO, EMFILE...).
 */
struct cm_secret *cm_secret_load(const char *path, bool *temp_r,
				 const char **error_r);

/* cm_secret_free - wipe and free; sets *s to NULL; NULL is fine */
void cm_secret_free(struct cm_secret **s);

/* cm_token_random - fill buf with len random bytes */
void cm_token_random(void *buf, size_t len);
/* cm_token_uniform - random number in [0, upper) */
uint32_t cm_token_uniform(uint32_t upper);

/* cm_token_mac - crypto_auth (HMAC-SHA-512-256) of msg under the subkey
 * for purpose into mac_r[CM_HASH_LEN] */
void cm_token_mac(const struct cm_secret *s, enum cm_key_purpose purpose,
		  const void *msg, size_t len, unsigned char *mac_r);
/* cm_token_mac_verify - true if the first maclen (16..32) bytes of the MAC
 * of msg equal mac, compared in constant time */
bool cm_token_mac_verify(const struct cm_secret *s,
			 enum cm_key_purpose purpose, const void *msg,
			 size_t len, const unsigned char *mac, size_t maclen);

/* cm_token_keyed_hash - crypto_generichash of msg under the subkey for
 * purpose into out_r[CM_HASH_LEN] */
void cm_token_keyed_hash(const struct cm_secret *s,
			 enum cm_key_purpose purpose, const void *msg,
			 size_t len, unsigned char *out_r);

/* cm_token_sha256 - SHA-256 of p into out_r[CM_HASH_LEN] */
void cm_token_sha256(const void *p, size_t len, unsigned char *out_r);
/* cm_token_sha256_hex - SHA-256 of p as 64 lower-case hex digits + NUL */
void cm_token_sha256_hex(const void *p, size_t len, char out_r[65]);
/* cm_token_hex - lower-case hex of p into out_r (2*len+1 bytes) */
void cm_token_hex(const unsigned char *p, size_t len, char *out_r);

/* cm_token_hmac_sha256 - HMAC-SHA-256 of msg under key into out_r[32]
 * (for JWT HS256) */
void cm_token_hmac_sha256(const void *key, size_t keylen, const void *msg,
			  size_t len, unsigned char *out_r);

/* cm_token_base64url - unpadded base64url of p; caller frees */
char *cm_token_base64url(const unsigned char *p, size_t len);

/* cm_token_base32 - lower-case RFC 4648 base32 of p, no padding; caller
 * frees */
char *cm_token_base32(const unsigned char *p, size_t len);
/* cm_token_unbase32 - decode base32 (either case, no padding) into out_r
 * (at most outmax bytes); returns the length or -1 if malformed */
long cm_token_unbase32(const char *s, unsigned char *out_r, size_t outmax);

/*
 * cm_token_mint - a new login token: 32 random bytes as base64url
 * (caller frees with free()); its keyed hash goes to hash_r[CM_HASH_LEN].
 */
char *cm_token_mint(const struct cm_secret *s, unsigned char *hash_r);
/*
 * cm_token_hash - keyed hash of a presented token into hash_r; -1 if the
 * token is not 43 base64url characters decoding to 32 bytes.
 */
int cm_token_hash(const struct cm_secret *s, const char *token,
		  unsigned char *hash_r);

/* cm_token_wipe - sodium_memzero */
void cm_token_wipe(void *p, size_t len);

#endif
