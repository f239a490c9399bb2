/*
 * core.c - the store's core: opening the SQLite file, its pragmas, the
 * statement cache, transactions, errors and the helpers every other
 * file of lib/store/ uses
 *
 * SYNOPSIS
 *	See cm_store.h (the public functions) and store_int.h (the
 *	helpers shared inside lib/store/).
 *
 * DESCRIPTION
 *	lib/store/ is the only place that includes sqlite3.h. One
 *	connection per store in WAL mode with synchronous=FULL, foreign
 *	keys on, a busy timeout and a bounded journal_size_limit. The
 *	checkpoint on close is left on: turning it off made the next
 *	process slower. schema.c migrates a file forward when it is
 *	opened.
 *
 *	Every statement a file of the store runs often is a static array
 *	of that file, beside the function that runs it; store_prep
 *	prepares it once per store (sqlite3_prepare_v3 with
 *	SQLITE_PREPARE_PERSISTENT) into a cache kept under the array's
 *	address, because the mda opens the store once per message.
 *	Statements run rarely go through store_prep_once and are
 *	finalized after the call. Parameters are always bound. A
 *	statement is reset and its bindings cleared before the function
 *	that used it returns, so strings bound with SQLITE_STATIC never
 *	outlive the caller's memory.
 *
 *	Rows are copied out of a statement into a struct rows (one cell per
 *	column) before anything else happens: get functions keep them in
 *	the per-store scratch, freed when the next get fills it, and list
 *	functions keep them in a local set that is freed after the
 *	callbacks ran. No returned string ever points into a statement.
 *
 *	cm_store_commit writes the audit chain's end (audit.c) before
 *	COMMIT.
 *
 * DIAGNOSTICS
 *	SQLITE_BUSY, LOCKED, FULL, IOERR, NOMEM, CANTOPEN, PROTOCOL,
 *	READONLY and PERM give CM_ETEMP (a retry, or the postmaster fixing
 *	a permission, can help); everything else CM_ERR. Error texts
 *	name the operation and carry SQLite's message.
 *
 * SECURITY
 *	The database file and its -wal and -shm must be their owner's
 *	alone: a new one is made 0600 and one readable by others is
 *	refused.
 */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cm_log.h"
#include "store_int.h"

/* page cache of a CM_STORE_RESIDENT store (negative: KiB, not pages) */
#define CACHE_KIB "-16384"

/* bytes of WAL kept on disk after a checkpoint (4 MiB) */
#define JOURNAL_SIZE_LIMIT "4194304"
#define WAL_RETRY_MS 10

/* slots of the statement cache at first (it doubles when half full) */
#define STMT_SLOTS 128

/* errors of cm_store_open, after the store is gone */
static char open_err[1024];

/* ---- rows copied out of statements ---- */

/* store_rows_free - release every cell and the array; leaves r empty */
void
store_rows_free(struct rows *r)
{
	size_t k;

	for (k = 0; k < r->nrows * r->ncols; k++)
		free(r->c[k].s);
	free(r->c);
	memset(r, 0, sizeof(*r));
}

/* store_row - the first cell of row i */
struct cell *
store_row(struct rows *r, size_t i)
{
	return r->c + i * r->ncols;
}

/* store_take - move the string out of a cell (the caller frees it) */
char *
store_take(struct cell *c)
{
	char *s = c->s;

	c->s = NULL;
	return s;
}

/* ---- errors ---- */

/* classify - CM_ETEMP for what a retry or an admin can fix, else CM_ERR */
static int
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return CM_ETEMP;
	default:
		return CM_ERR;
	}
}

/* store_error - format the store's error text; returns code */
int
store_error(struct cm_store *st, const char **error_r, int code,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* truncation only shortens an error text: harmless */
	(void)vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = st->err;
	return code;
}

/* store_fail - error for SQLite code rc in operation what; returns CM_ERR or
 * CM_ETEMP. Notes when the error rolled the transaction back. */
int
store_fail(struct cm_store *st, int rc, const char *what, const char **error_r)
{
	const char *msg = sqlite3_errstr(rc);

	if (st->db != NULL && (sqlite3_errcode(st->db) & 0xff) == (rc & 0xff))
		msg = sqlite3_errmsg(st->db);
	if (st->db != NULL && sqlite3_get_autocommit(st->db) &&
	    st->abort_rc == SQLITE_OK)
		st->abort_rc = rc;
	return store_error(st, error_r, classify(rc), "%s: %s", what, msg);
}

/* ---- the statement cache ---- */

/* slot_of - the cache slot of sql: its own, or the empty one where it
 * goes (open addressing on the address of the text) */
static struct stmt_slot *
slot_of(struct cm_store *st, const char *sql)
{
	size_t mask = st->nslots - 1;
	size_t i = ((size_t)(uintptr_t)sql * 2654435761u >> 8) & mask;

	while (st->slots[i].sql != NULL && st->slots[i].sql != sql)
		i = (i + 1) & mask;
	return &st->slots[i];
}

/* grow - double the statement cache, keeping what it holds */
static void
grow(struct cm_store *st)
{
	struct stmt_slot *old = st->slots;
	size_t n = st->nslots, k;

	st->nslots = n ? n * 2 : STMT_SLOTS;
	st->slots = cm_xcalloc(st->nslots, sizeof(*st->slots));
	for (k = 0; k < n; k++)
		if (old[k].sql != NULL)
			*slot_of(st, old[k].sql) = old[k];
	free(old);
}

/* store_prep - the statement for sql, prepared on first use and cached
 * under the address of sql for the store's life */
int
store_prep(struct cm_store *st, const char *sql, sqlite3_stmt **s_r,
	   const char **error_r)
{
	struct stmt_slot *slot;
	int rc;

	st->bind_rc = SQLITE_OK;
	if (2 * (st->nused + 1) > st->nslots)
		grow(st);
	slot = slot_of(st, sql);
	if (slot->s == NULL) {
		rc = sqlite3_prepare_v3(st->db, sql, -1,
					SQLITE_PREPARE_PERSISTENT, &slot->s,
					NULL);
		if (rc != SQLITE_OK) {
			slot->s = NULL;
			return store_fail(st, rc, "prepare", error_r);
		}
		slot->sql = sql;
		st->nused++;
	}
	*s_r = slot->s;
	return 0;
}

/* store_prep_once - prepare sql that is not in the statement cache (the
 * caller finalizes it) */
int
store_prep_once(struct cm_store *st, const char *sql, const char *what,
		sqlite3_stmt **s_r, const char **error_r)
{
	int rc;

	st->bind_rc = SQLITE_OK;
	*s_r = NULL;
	rc = sqlite3_prepare_v2(st->db, sql, -1, s_r, NULL);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, what, error_r);
	return 0;
}

/* ---- statement helpers ---- */

/* store_done - reset a statement after use and drop its bindings */
void
store_done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* store_note_bind - remember the first failed bind */
void
store_note_bind(struct cm_store *st, int rc)
{
	if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK)
		st->bind_rc = rc;
}

/* store_bind_text - a string, or NULL */
void
store_bind_text(struct cm_store *st, sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		store_note_bind(st, sqlite3_bind_null(s, i));
	else
		store_note_bind(st, sqlite3_bind_text(s, i, v, -1,
						      SQLITE_STATIC));
}

/* store_bind_int - an integer */
void
store_bind_int(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v)
{
	store_note_bind(st, sqlite3_bind_int64(s, i, v));
}

/* store_bind_id - a row id, 0 meaning NULL (none) */
void
store_bind_id(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v)
{
	if (v == 0)
		store_note_bind(st, sqlite3_bind_null(s, i));
	else
		store_note_bind(st, sqlite3_bind_int64(s, i, v));
}

/* store_bind_blob - bytes (never NULL: an empty blob for len 0) */
void
store_bind_blob(struct cm_store *st, sqlite3_stmt *s, int i, const void *p,
		size_t len)
{
	store_note_bind(st, sqlite3_bind_blob64(s, i, len ? p : "", len,
					  SQLITE_STATIC));
}

/* store_step - sqlite3_step, or the failed bind's code without stepping */
int
store_step(struct cm_store *st, sqlite3_stmt *s)
{
	int rc = st->bind_rc;

	st->bind_rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		return rc;
	return sqlite3_step(s);
}

/* copy_cell - copy column k of the current row into c */
static void
copy_cell(sqlite3_stmt *s, int k, struct cell *c)
{
	const void *p = NULL;
	int type = sqlite3_column_type(s, k);

	memset(c, 0, sizeof(*c));
	if (type == SQLITE_NULL)
		return;
	if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
		c->i = sqlite3_column_int64(s, k);
		return;
	}
	if (type == SQLITE_BLOB)
		p = sqlite3_column_blob(s, k);
	else
		p = sqlite3_column_text(s, k);
	c->n = (size_t)sqlite3_column_bytes(s, k);
	c->s = cm_xmalloc(c->n + 1); /* UNSAFE: n < 2^31 */
	if (c->n > 0 && p != NULL)
		memcpy(c->s, p, c->n);
	c->s[c->n] = '\0';
	c->i = sqlite3_column_int64(s, k);
}

/* store_fetch - step s to the end, appending every row to r; what names the
 * operation in an error */
int
store_fetch(struct cm_store *st, sqlite3_stmt *s, const char *what,
	    struct rows *r, const char **error_r)
{
	size_t ncols = (size_t)sqlite3_column_count(s);
	int rc, k;

	r->ncols = ncols;
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		if (r->nrows == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8;

			if (ncols > 0 && cap > SIZE_MAX / sizeof(struct cell)
						       / ncols)
				cm_fatal("store: result set too large");
			r->c = cm_xrealloc(r->c, cap * ncols *
						    sizeof(struct cell));
			r->cap = cap;
		}
		for (k = 0; k < (int)ncols; k++)
			copy_cell(s, k, store_row(r, r->nrows) + k);
		r->nrows++;
	}
	if (rc != SQLITE_DONE)
		return store_fail(st, rc, what, error_r);
	return 0;
}

/* store_run - step a statement that returns no rows */
int
store_run(struct cm_store *st, sqlite3_stmt *s, const char *what,
	  const char **error_r)
{
	int rc = store_step(st, s);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return store_fail(st, rc, what, error_r);
}

/* store_insert - step an INSERT: 0 with the new row's id in *id_r (when not
 * NULL); CM_STORE_DUPLICATE when a UNIQUE constraint refused it, for the caller
 * to say what exists already; else what store_fail() says */
int
store_insert(struct cm_store *st, sqlite3_stmt *s, const char *what,
	     int64_t *id_r, const char **error_r)
{
	int rc = store_step(st, s);

	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return CM_STORE_DUPLICATE;
	if (rc != SQLITE_DONE)
		return store_fail(st, rc, what, error_r);
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* store_run_changed - run, then CM_ENOENT when no row changed */
int
store_run_changed(struct cm_store *st, sqlite3_stmt *s, const char *what,
		  const char **error_r)
{
	int ret = store_run(st, s, what, error_r);

	if (ret == 0 && sqlite3_changes(st->db) == 0)
		ret = store_error(st, error_r, CM_ENOENT, "%s: no such row",
				  what);
	return ret;
}

/* store_lower_dup - lower-case copy of s (NULL gives NULL); caller frees */
char *
store_lower_dup(const char *s)
{
	return s == NULL ? NULL : cm_str_lower(cm_xstrdup(s));
}

/* store_need_txn - the write functions run inside begin..commit */
void
store_need_txn(struct cm_store *st)
{
	assert(cm_store_in_txn(st));
	(void)st;
}

/* ---- opening ---- */

/* elapsed_ms - milliseconds since t0 on the monotonic clock */
static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* set_wal - journal_mode=WAL, retried within the busy timeout: on a
 * fresh file another process switching it too gives SQLITE_BUSY */
static int
set_wal(struct cm_store *st, const char *path, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct timespec t0;
	const unsigned char *mode;
	int ret = 0, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL",
					-1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				mode = sqlite3_column_text(s, 0);
				if (mode == NULL ||
				    strcmp((const char *)mode, "wal") != 0)
					ret = store_error(st, error_r, CM_ERR,
							  "%s: cannot use WAL "
							  "journal mode", path);
				rc = SQLITE_OK;
			}
		}
		if (rc == SQLITE_OK || ((rc & 0xff) != SQLITE_BUSY &&
					(rc & 0xff) != SQLITE_LOCKED) ||
		    elapsed_ms(&t0) >= st->busy_timeout)
			break;
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_sleep(WAL_RETRY_MS);
	}
	if (rc != SQLITE_OK)
		ret = store_fail(st, rc, path, error_r);
	sqlite3_finalize(s);
	return ret;
}

/* store_exec - run fixed SQL text (no data in it) */
int
store_exec(struct cm_store *st, const char *sql, const char *what,
	   const char **error_r)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_fail(st, rc, what, error_r);
	return 0;
}

/* store_read_version - PRAGMA user_version into *v_r; what names the file */
int
store_read_version(struct cm_store *st, const char *what, int *v_r,
		   const char **error_r)
{
	static const char sql[] =
		"PRAGMA user_version";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, what, error_r);
		goto out;
	}
	*v_r = sqlite3_column_int(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* open_error - keep an error made on st beyond st's life */
static void
open_error(struct cm_store *st, const char **error_r)
{
	if (error_r != NULL && *error_r == st->err) {
		cm_strlcpy(open_err, st->err, sizeof(open_err));
		*error_r = open_err;
	}
}

/* store_open_at - cm_store_open migrating to version target */
int
store_open_at(const char *path, const struct cm_secret *secret,
	      long busy_timeout_ms, int flags, int target,
	      struct cm_store **store_r, const char **error_r)
{
	struct cm_store *st = NULL;
	struct stat sb;
	bool ro = (flags & CM_STORE_READONLY) != 0;
	int ret = CM_ERR, rc, oflags, v = 0;

	*store_r = NULL;
	if (target < 1 || target > CM_STORE_VERSION) {
		(void)snprintf(open_err, sizeof(open_err),
			       "%s: no schema version %d", path, target);
		goto out;
	}
	if ((ro || !(flags & CM_STORE_CREATE)) && stat(path, &sb) < 0) {
		if (errno == ENOENT)
			(void)snprintf(open_err, sizeof(open_err),
				       "no database at %s (run casemail init)",
				       path);
		else
			(void)snprintf(open_err, sizeof(open_err), "%s: %s",
				       path, strerror(errno));
		if (errno != ENOENT && cm_errno_is_temp(errno))
			ret = CM_ETEMP;
		goto out;
	}
	/* The file holds every victim's name, address and mail: like the
	 * secret, it must be its owner's alone, and so must its -wal and
	 * -shm (SQLite gives them the database file's mode). A new one is
	 * made 0600 here, before SQLite would make it 0644. */
	for (int k = 0; k < 3; k++) {
		static const char *const sfx[] = { "", "-wal", "-shm" };
		char f[PATH_MAX];

		if ((size_t)snprintf(f, sizeof(f), "%s%s", path, sfx[k]) >=
		    sizeof(f)) {
			(void)snprintf(open_err, sizeof(open_err),
				       "%s: path too long", path);
			goto out;
		}
		if (k == 0 && !ro && (flags & CM_STORE_CREATE))
			(void)cm_create_private(f);
		if (stat(f, &sb) == 0 && (sb.st_mode & 077) != 0) {
			(void)snprintf(open_err, sizeof(open_err),
				       "database file %.400s%s is mode %04o: "
				       "it must not be readable or writable "
				       "by group or others (chmod 600 %.400s*)",
				       path, sfx[k],
				       (unsigned int)(sb.st_mode & 07777),
				       path);
			goto out;
		}
	}
	st = cm_xcalloc(1, sizeof(*st));
	st->secret = secret;
	st->flags = flags;
	st->busy_timeout = busy_timeout_ms < 0 ? 0
			   : busy_timeout_ms > INT_MAX ? INT_MAX
						       : busy_timeout_ms;
	oflags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (!ro && (flags & CM_STORE_CREATE))
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (st->db != NULL)
		sqlite3_extended_result_codes(st->db, 1);
	if (rc != SQLITE_OK) {
		ret = store_fail(st, rc, path, error_r);
		goto out;
	}
	sqlite3_busy_timeout(st->db, (int)st->busy_timeout);
	if (!ro) {
		int persist = 1;

		/* keep the -wal file between processes instead of
		 * unlinking and creating it at every delivery (SQLite
		 * still fsyncs the directory once per process: it opens
		 * the WAL with O_CREAT; measured, see bench notes) */
		sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL,
				     &persist);
		if ((ret = set_wal(st, path, error_r)) < 0)
			goto out;
		if ((ret = store_exec(st, "PRAGMA synchronous = FULL;"
					"PRAGMA journal_size_limit = "
					JOURNAL_SIZE_LIMIT ";",
				      path, error_r)) < 0)
			goto out;
	}
	if ((ret = store_exec(st, "PRAGMA foreign_keys = ON", path,
			      error_r)) < 0)
		goto out;
	/* a page cache of up to 16 MiB (SQLite's default is 2) for the
	 * long-running sender and portal: they keep the token and notice
	 * indexes in memory instead of reading them again. Not for one
	 * delivery: storing a large message would fill it with the
	 * message's own pages (+14 MB of peak memory for 25 MB) */
	if ((flags & CM_STORE_RESIDENT) &&
	    (ret = store_exec(st, "PRAGMA cache_size = " CACHE_KIB, path,
			      error_r)) < 0)
		goto out;
	if ((ret = store_read_version(st, path, &v, error_r)) < 0)
		goto out;
	if (v > CM_STORE_VERSION) {
		ret = store_error(st, error_r, CM_ERR,
				  "%s: schema version %d is newer than this "
				  "casemail (%d): upgrade it",
				  path, v, CM_STORE_VERSION);
		goto out;
	}
	if (v == 0 && (ro || !(flags & CM_STORE_CREATE))) {
		ret = store_error(st, error_r, CM_ERR,
				  "%s: not a casemail database yet (run "
				  "casemail init)", path);
		goto out;
	}
	if (v < target && !ro) {
		if ((ret = store_migrate(st, path, target, error_r)) < 0)
			goto out;
		if ((ret = store_read_version(st, path, &v, error_r)) < 0)
			goto out;
	}
	st->version = v;
	*store_r = st;
	st = NULL;
	ret = 0;
out:
	if (ret < 0 && error_r != NULL && st == NULL)
		*error_r = open_err;
	if (st != NULL) {
		open_error(st, error_r);
		cm_store_close(&st);
	}
	return ret;
}

/* cm_store_open - open, set pragmas, migrate to CM_STORE_VERSION */
int
cm_store_open(const char *path, const struct cm_secret *secret,
	      long busy_timeout_ms, int flags, struct cm_store **store_r,
	      const char **error_r)
{
	return store_open_at(path, secret, busy_timeout_ms, flags,
			     CM_STORE_VERSION, store_r, error_r);
}

/* cm_store_close - roll back, finalize statements, close the file */
void
cm_store_close(struct cm_store **stp)
{
	struct cm_store *st = stp ? *stp : NULL;
	size_t i;

	if (st == NULL)
		return;
	if (st->db != NULL)
		cm_store_rollback(st);
	for (i = 0; i < st->nslots; i++)
		sqlite3_finalize(st->slots[i].s);
	free(st->slots);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	store_rows_free(&st->scratch);
	free(st);
	*stp = NULL;
}

/* cm_store_version - the schema version of the open file */
int
cm_store_version(struct cm_store *st)
{
	return st->version;
}

/* ---- transactions ---- */

/* cm_store_begin - BEGIN IMMEDIATE (waits up to the busy timeout) */
int
cm_store_begin(struct cm_store *st, const char **error_r)
{
	static const char sql[] =
		"BEGIN IMMEDIATE";
	sqlite3_stmt *s = NULL;
	int ret;

	st->abort_rc = SQLITE_OK;
	st->chain.valid = false;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	ret = store_run(st, s, "begin", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_commit - COMMIT, rolling back when it fails */
int
cm_store_commit(struct cm_store *st, const char **error_r)
{
	static const char sql[] =
		"COMMIT";
	sqlite3_stmt *s = NULL;
	int ret;

	if (!cm_store_in_txn(st)) {
		if (st->abort_rc != SQLITE_OK)
			ret = store_error(st, error_r, classify(st->abort_rc),
					  "commit: the transaction was rolled "
					  "back after: %s",
					  sqlite3_errstr(st->abort_rc));
		else
			ret = store_error(st, error_r, CM_ERR,
					  "commit: no transaction is open");
		goto out;
	}
	if ((ret = store_audit_flush(st, error_r)) < 0)
		goto out;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	ret = store_run(st, s, "commit", error_r);
out:
	store_done(s);
	st->chain.valid = false;
	if (ret < 0)
		cm_store_rollback(st);
	return ret;
}

/* cm_store_rollback - ROLLBACK if a transaction is open */
void
cm_store_rollback(struct cm_store *st)
{
	static const char sql[] =
		"ROLLBACK";
	sqlite3_stmt *s = NULL;

	if (st != NULL)
		st->chain.valid = false;
	if (!cm_store_in_txn(st))
		return;
	if (store_prep(st, sql, &s, NULL) == 0)
		(void)store_step(st, s);
	store_done(s);
	if (cm_store_in_txn(st))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* cm_store_in_txn - true inside begin..commit */
bool
cm_store_in_txn(struct cm_store *st)
{
	return st != NULL && st->db != NULL && !sqlite3_get_autocommit(st->db);
}

/* ---- the connection ---- */

/* cm_store_data_version - PRAGMA data_version of this connection */
int
cm_store_data_version(struct cm_store *st, int64_t *v_r,
		      const char **error_r)
{
	static const char sql[] =
		"PRAGMA data_version";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*v_r = 0;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "data version", error_r);
		goto out;
	}
	*v_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_quick_check - PRAGMA quick_check: "ok", or the first fault */
int
cm_store_quick_check(struct cm_store *st, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	int ret;

	if ((ret = store_prep_once(st, "PRAGMA quick_check(10)", "quick_check",
				   &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "quick_check", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0 || store_row(&r, 0)[0].s == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "quick_check: no answer");
		goto out;
	}
	if (strcmp(store_row(&r, 0)[0].s, "ok") != 0)
		ret = store_error(st, error_r, CM_ERR, "%s%s",
				  store_row(&r, 0)[0].s,
				  r.nrows > 1 ? " (and more)" : "");
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}
