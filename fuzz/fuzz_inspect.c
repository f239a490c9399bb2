/*
 * fuzz_inspect.c - libFuzzer target for the whole inspect path
 *
 * SYNOPSIS
 *	make fuzz   (or build-fuzz/fuzz_inspect CORPUS_DIR)
 *
 * DESCRIPTION
 *	Feeds the input as a raw message to cm_inspect_parse: the MIME
 *	pre-scan and GMime, charsets, HTML to text and HTML trimming, text
 *	trimming, bounce reading and classification. Then checks what a
 *	caller relies on: the body is never NULL, every string is valid
 *	UTF-8, every bounce recipient has an address.
 *
 * SECURITY
 *	Built with -fsanitize=fuzzer,address,undefined; a crash is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_inspect.h"
#include "cm_util.h"

/* check_str - abort if s is not NULL and not valid UTF-8 */
static void
check_str(const char *what, const char *s)
{
	if (s != NULL && !cm_utf8_valid(s, strlen(s))) {
		fprintf(stderr, "invalid UTF-8 in %s\n", what);
		abort();
	}
}

/* LLVMFuzzerTestOneInput - inspect one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_inspect *in = NULL;
	const char *err = NULL;
	size_t i;

	if (cm_inspect_parse((const char *)data, size, NULL, NULL, &in,
			     &err) < 0) {
		if (err == NULL)
			abort();
		return 0;
	}
	if (in->trim.body == NULL || in->msg->body == NULL)
		abort();
	check_str("body", in->trim.body);
	check_str("quoted", in->trim.quoted);
	check_str("signature", in->trim.signature);
	check_str("subject", in->msg->subject);
	for (i = 0; i < in->bounce.n_rcpts; i++) {
		if (in->bounce.rcpts[i].address == NULL)
			abort();
		check_str("address", in->bounce.rcpts[i].address);
		check_str("diagnostic", in->bounce.rcpts[i].diagnostic);
	}
	(void)cm_kind_name(in->kind);
	cm_inspect_free(&in);
	return 0;
}
