/*
 * store_int.h - what the files of lib/store/ share: the store handle,
 * rows copied out of statements, the statement cache and the helpers
 * that bind, step and report errors
 *
 * SYNOPSIS
 *	#include "store_int.h"
 *
 *	static const char sql[] = "SELECT ... WHERE id = ?1";
 *	sqlite3_stmt *s = NULL;
 *	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
 *		goto out;
 *	store_bind_int(st, s, 1, id);
 *	ret = store_fetch(st, s, "what", &rows, error_r);
 *	out:
 *	store_done(s);
 *
 * DESCRIPTION
 *	The store is one module in several files: core.c (opening, the
 *	statement cache, transactions, errors and these helpers),
 *	schema.c (the schema and its migrations), audit.c (the audit
 *	chain) and one file per group of tables, each with its own SQL
 *	beside the functions that run it. Programs include cm_store.h
 *	only; this header is for lib/store/ and the store's unit-test
 *	helper.
 *
 *	A statement run often is a static const char array of the file
 *	that runs it: store_prep prepares it on first use and caches it
 *	for the store's life under the array's address, so each array is
 *	one statement. store_prep_once prepares one the caller finalizes.
 *	Binds never fail on their own: the first failed bind is kept and
 *	returned by the next store_step instead of stepping.
 *
 * DIAGNOSTICS
 *	Functions returning int give 0 or what cm_store.h lists (CM_ERR,
 *	CM_ETEMP, CM_ENOENT) with *error_r set through store_error or
 *	store_fail; store_insert may also give CM_STORE_DUPLICATE.
 *
 * SECURITY
 *	The handle gives the raw connection, past every check of the
 *	public functions: never include this header from a program.
 */
#ifndef CM_STORE_INT_H
#define CM_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cm_store.h"

/* one column value; s is NULL for NULL and for numbers */
struct cell {
	char *s;
	size_t n;
	int64_t i;
};

/* a result set: nrows * ncols cells, row-major */
struct rows {
	struct cell *c;
	size_t nrows;
	size_t ncols;
	size_t cap; /* rows allocated */
};

/* one statement of the cache, kept under the address of its text */
struct stmt_slot {
	const char *sql;
	sqlite3_stmt *s;
};

struct cm_store {
	sqlite3 *db;
	const struct cm_secret *secret;
	int flags;
	int version;
	long busy_timeout;
	int bind_rc;  /* first failed bind since the last prep */
	int abort_rc; /* error that rolled the transaction back */
	struct stmt_slot *slots; /* the statement cache: nslots of them (a
				  * power of two, or 0 before the first
				  * prep), at most half of them used */
	size_t nslots;
	size_t nused;
	struct rows scratch; /* strings returned "until the next call" */
	char err[1024];
	struct {             /* the audit chain's end in the open txn */
		bool valid;  /* read since BEGIN; written back at COMMIT */
		bool bless;  /* the meta MAC verified: keep it valid */
		int64_t count, next_id;
		unsigned char head[CM_HASH_LEN];
	} chain;
};

/* store_insert: a UNIQUE constraint refused the row */
#define CM_STORE_DUPLICATE 1

/* ---- rows (core.c) ---- */

/* store_rows_free - release every cell and the array; leaves r empty */
void store_rows_free(struct rows *r);
/* store_row - the first cell of row i (borrowed from r) */
struct cell *store_row(struct rows *r, size_t i);
/* store_take - move the string out of a cell (the caller frees it) */
char *store_take(struct cell *c);

/* ---- errors (core.c) ---- */

/* store_error - format the store's error text into *error_r (borrowed
 * until the next call on st); returns code */
int store_error(struct cm_store *st, const char **error_r, int code,
		const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* store_fail - error for SQLite code rc in operation what; returns
 * CM_ERR or CM_ETEMP, and notes when the error rolled the transaction
 * back */
int store_fail(struct cm_store *st, int rc, const char *what,
	       const char **error_r);

/* ---- statements (core.c) ---- */

/* store_prep - the statement for sql (a static array: its address is
 * the cache key), prepared on first use; *s_r borrowed, store_done
 * after use */
int store_prep(struct cm_store *st, const char *sql, sqlite3_stmt **s_r,
	       const char **error_r);
/* store_prep_once - prepare sql outside the cache into *s_r (the
 * caller finalizes it with sqlite3_finalize) */
int store_prep_once(struct cm_store *st, const char *sql, const char *what,
		    sqlite3_stmt **s_r, const char **error_r);
/* store_done - reset a cached statement and drop its bindings */
void store_done(sqlite3_stmt *s);
/* store_note_bind - remember rc if it is the first failed bind */
void store_note_bind(struct cm_store *st, int rc);
/* store_bind_text - a string (borrowed until store_done), or NULL */
void store_bind_text(struct cm_store *st, sqlite3_stmt *s, int i,
		     const char *v);
/* store_bind_int - an integer */
void store_bind_int(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v);
/* store_bind_id - a row id, 0 meaning NULL (none) */
void store_bind_id(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v);
/* store_bind_blob - bytes (borrowed until store_done; never NULL) */
void store_bind_blob(struct cm_store *st, sqlite3_stmt *s, int i,
		     const void *p, size_t len);
/* store_step - sqlite3_step, or the failed bind's code without
 * stepping */
int store_step(struct cm_store *st, sqlite3_stmt *s);
/* store_fetch - step s to the end, appending every row to r (the
 * caller frees r with store_rows_free); what names the operation */
int store_fetch(struct cm_store *st, sqlite3_stmt *s, const char *what,
		struct rows *r, const char **error_r);
/* store_run - step a statement that returns no rows */
int store_run(struct cm_store *st, sqlite3_stmt *s, const char *what,
	      const char **error_r);
/* store_insert - step an INSERT: 0 with the new row's id in *id_r
 * (may be NULL), CM_STORE_DUPLICATE when a UNIQUE constraint refused
 * it (the caller says what exists), else what store_fail says */
int store_insert(struct cm_store *st, sqlite3_stmt *s, const char *what,
		 int64_t *id_r, const char **error_r);
/* store_run_changed - store_run, then CM_ENOENT when no row changed */
int store_run_changed(struct cm_store *st, sqlite3_stmt *s,
		      const char *what, const char **error_r);
/* store_exec - run fixed SQL text (no data in it; several statements
 * allowed) */
int store_exec(struct cm_store *st, const char *sql, const char *what,
	       const char **error_r);
/* store_read_version - PRAGMA user_version into *v_r; what names the
 * file */
int store_read_version(struct cm_store *st, const char *what, int *v_r,
		       const char **error_r);

/* ---- opening (core.c) ---- */

/* store_open_at - cm_store_open, migrating no further than version
 * target (1..CM_STORE_VERSION): cm_store_open passes CM_STORE_VERSION,
 * the unit tests older versions to build files for migration tests */
int store_open_at(const char *path, const struct cm_secret *secret,
		  long busy_timeout_ms, int flags, int target,
		  struct cm_store **store_r, const char **error_r);

/* ---- small helpers (core.c) ---- */

/* store_lower_dup - lower-case copy of s (NULL gives NULL); caller
 * frees */
char *store_lower_dup(const char *s);
/* store_need_txn - assert that a transaction is open (writers) */
void store_need_txn(struct cm_store *st);

/* ---- the other files ---- */

/* store_migrate - migrate the open file to version target, one
 * transaction per step (schema.c) */
int store_migrate(struct cm_store *st, const char *path, int target,
		  const char **error_r);
/* store_audit_init - the first migration's step: an empty audit chain
 * (audit.c) */
int store_audit_init(struct cm_store *st, const char **error_r);
/* store_audit_flush - write the audit chain's end to the meta rows in
 * the open transaction, when audit rows were appended (audit.c) */
int store_audit_flush(struct cm_store *st, const char **error_r);

#endif
