/*
 * fuzz_keys.c - libFuzzer target for reply and bounce key decoding
 *
 * SYNOPSIS
 *	make fuzz   (or build-fuzz/fuzz_keys CORPUS_DIR)
 *
 * DESCRIPTION
 *	The input, cut at the first NUL, is decoded as a reply+KEY and as a
 *	bounce+KEY under a fixed test secret; a forged key must be refused
 *	and must never crash. The first 16 bytes also make ids for a round
 *	trip: a key made by cm_addr_*_key must decode to the same ids, in
 *	either letter case, and the same key with one character changed
 *	must not decode to other ids.
 *
 * SECURITY
 *	The secret is a throw-away file in the temporary directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_addr.h"
#include "cm_token.h"
#include "cm_util.h"

static struct cm_secret *secret;

/* LLVMFuzzerInitialize - a test secret */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];
	const char *err = NULL;

	(void)argc;
	(void)argv;
	if (cm_token_init() < 0)
		abort();
	snprintf(path, sizeof(path), "/tmp/cm-fuzz-secret.%ld",
		 (long)getpid());
	if (cm_secret_create(path, &err) < 0)
		abort();
	secret = cm_secret_load(path, NULL, &err);
	unlink(path);
	if (secret == NULL)
		abort();
	return 0;
}

/* round_trip - keys made from ids decode to the same ids */
static void
round_trip(const uint8_t *data, size_t size)
{
	int64_t v = 0, c = 0, n = 0, v2, c2, n2;
	char *k;
	size_t i;

	if (size < 16)
		return;
	memcpy(&v, data, 8);
	memcpy(&c, data + 8, 8);
	/* ids are row ids: 1..INT64_MAX (0 is a caller's bug: panic) */
	v = v < 0 ? -(v + 1) : v;
	c = c < 0 ? -(c + 1) : c;
	n = v ^ c;
	v = v == 0 ? 1 : v;
	c = c == 0 ? 1 : c;
	n = n == 0 ? 1 : n;
	k = cm_addr_reply_key(secret, v, c);
	if (cm_addr_reply_decode(secret, k, &v2, &c2) < 0 || v2 != v ||
	    c2 != c)
		abort();
	for (i = 0; k[i] != '\0'; i++)
		k[i] = (char)(k[i] >= 'a' && k[i] <= 'z' ? k[i] - 32 : k[i]);
	if (cm_addr_reply_decode(secret, k, &v2, &c2) < 0 || v2 != v ||
	    c2 != c)
		abort();
	i = data[0] % strlen(k);
	k[i] = k[i] == 'A' ? 'B' : 'A';
	if (cm_addr_reply_decode(secret, k, &v2, &c2) == 0 &&
	    (v2 != v || c2 != c))
		abort();
	free(k);
	k = cm_addr_bounce_key(secret, n);
	if (cm_addr_bounce_decode(secret, k, &n2) < 0 || n2 != n)
		abort();
	free(k);
}

/* LLVMFuzzerTestOneInput - decode one key */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *key = cm_xstrndup((const char *)data, size);
	int64_t a, b;

	(void)cm_addr_reply_decode(secret, key, &a, &b);
	(void)cm_addr_bounce_decode(secret, key, &a);
	free(key);
	round_trip(data, size);
	return 0;
}
