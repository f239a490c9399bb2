/*
 * test_authres.c - unit tests for authres.c (Authentication-Results)
 *
 * DESCRIPTION
 *	Rows of {header value, trusted ids, From domain, expected}; a
 *	failing row is reported by its index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "cm_authres.h"
#include "cm_util.h"

/* test_pass - which fields prove the From domain */
static void
test_pass(void **state)
{
	static const struct {
		const char *value;
		const char *trusted;
		const char *domain;
		bool pass;
	} rows[] = {
		{ "mx.police.uk; dkim=pass header.d=police.uk header.s=s1",
		  "mx.police.uk", "police.uk", true },
		{ "mx.police.uk; dmarc=pass (p=reject) header.from=police.uk",
		  "mx.police.uk", "police.uk", true },
		{ "mx.police.uk; dmarc=pass", "mx.police.uk", "police.uk", true },
		{ "MX.Police.UK 1; spf=pass; dkim=pass header.d=POLICE.uk",
		  "mx.police.uk", "police.uk", true },
		/* another authserv-id: ignored, whatever it claims */
		{ "evil.example; dkim=pass header.d=police.uk",
		  "mx.police.uk", "police.uk", false },
		/* signed by another domain */
		{ "mx.police.uk; dkim=pass header.d=evil.example",
		  "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; dkim=fail header.d=police.uk",
		  "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; dmarc=fail header.from=police.uk",
		  "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; dmarc=pass header.from=evil.example",
		  "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; spf=pass smtp.mailfrom=police.uk",
		  "mx.police.uk", "police.uk", false },
		/* a comment must not smuggle a result */
		{ "mx.police.uk; dkim=fail (dkim=pass header.d=police.uk)",
		  "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; dkim=pass header.i=@police.uk",
		  "a.example, mx.police.uk", "police.uk", true },
		{ "mx.police.uk; none", "mx.police.uk", "police.uk", false },
		{ "", "mx.police.uk", "police.uk", false },
		{ "mx.police.uk; dkim=pass header.d=police.uk", "",
		  "police.uk", false },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char *v[1];

		v[0] = (char *)rows[i].value;
		if (cm_authres_pass(v, 1, rows[i].trusted, rows[i].domain) !=
		    rows[i].pass)
			fail_msg("row %zu: %s", i, rows[i].value);
	}
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
