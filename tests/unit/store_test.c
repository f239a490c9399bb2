/*
 * store_test.c - the unit tests' own functions on a store: opening at
 * an older schema version and raw SQL on the connection
 *
 * SYNOPSIS
 *	See store_test.h.
 *
 * DESCRIPTION
 *	Linked into every unit test and into nothing else; the only file
 *	outside lib/store/ that includes the store's private header,
 *	because these functions need the connection itself.
 *
 * DIAGNOSTICS
 *	Errors come from the store's own helpers, with SQLite's message.
 *
 * SECURITY
 *	Never built into libcasemail or a program.
 */
#include <stdint.h>

#include "../../lib/store/store_int.h"
#include "store_test.h"

/* cm_store_open_at_version - open, migrating no further than version */
int
cm_store_open_at_version(const char *path, const struct cm_secret *secret,
			 long busy_timeout_ms, int flags, int version,
			 struct cm_store **store_r, const char **error_r)
{
	return store_open_at(path, secret, busy_timeout_ms, flags, version,
			     store_r, error_r);
}

/* cm_store_exec_for_test - raw SQL, bypassing every check */
int
cm_store_exec_for_test(struct cm_store *st, const char *sql,
		       const char **error_r)
{
	return store_exec(st, sql, "exec", error_r);
}

/* cm_store_query_int_for_test - first column of the first row */
int
cm_store_query_int_for_test(struct cm_store *st, const char *sql,
			    int64_t *value_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*value_r = 0;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		ret = store_fail(st, rc, "query", error_r);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "query", error_r);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}
