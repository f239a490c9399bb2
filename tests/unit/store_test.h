/*
 * store_test.h - what only the unit tests may do to a store: open a
 * file at an older schema version, run raw SQL on its connection
 *
 * SYNOPSIS
 *	#include "store_test.h"
 *
 *	cm_store_open_at_version(path, secret, 5000, CM_STORE_CREATE, 1,
 *				 &st, &error);
 *	cm_store_exec_for_test(st, "UPDATE audit SET ...", &error);
 *
 * DESCRIPTION
 *	Built from tests/unit/store_test.c into the unit tests only, never
 *	into libcasemail: a program cannot call these by mistake.
 *
 * DIAGNOSTICS
 *	0, or CM_ERR/CM_ETEMP with *error_r (borrowed until the next call
 *	on the same store), as the store's own functions.
 *
 * SECURITY
 *	cm_store_exec_for_test bypasses every check of the store: what an
 *	attacker with the sqlite3 shell could do, which is what the tests
 *	of the audit chain need.
 */
#ifndef CM_STORE_TEST_H
#define CM_STORE_TEST_H

#include <stdint.h>

#include "cm_store.h"

/*
 * cm_store_open_at_version - cm_store_open, but migrate no further than
 * version (1..CM_STORE_VERSION); builds old files for migration tests.
 * On success *store_r is set (caller frees with cm_store_close).
 */
int cm_store_open_at_version(const char *path,
			     const struct cm_secret *secret,
			     long busy_timeout_ms, int flags, int version,
			     struct cm_store **store_r, const char **error_r);
/*
 * cm_store_exec_for_test - run raw SQL (several statements allowed) on
 * the store's connection, bypassing every check. 0 or CM_ERR/CM_ETEMP
 * with *error_r.
 */
int cm_store_exec_for_test(struct cm_store *st, const char *sql,
			   const char **error_r);
/*
 * cm_store_query_int_for_test - first column of the first row of sql as
 * an integer into *value_r (0 when there is no row or it is NULL).
 */
int cm_store_query_int_for_test(struct cm_store *st, const char *sql,
				int64_t *value_r, const char **error_r);

#endif
