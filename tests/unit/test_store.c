/*
 * test_store.c - unit tests for the store (lib/store/)
 *
 * DESCRIPTION
 *	Real SQLite files in a scratch directory: opening (fresh, missing,
 *	corrupt, newer, read-only), migration from version 1, officers,
 *	cases, victims, the thread, raw dedupe, deliveries, tokens,
 *	notices, quarantine, statistics, what IMAP has seen, the audit
 *	chain against edits, inserts, deletes and truncation, the busy
 *	timeout, and twenty processes creating and writing one fresh file
 *	at once.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"
#include "store_test.h"

#define BUSY_MS 5000

static char tmpdir[] = "/tmp/cm-test-store-XXXXXX";
static struct cm_secret *secret;

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* group_setup - sodium, a scratch directory and a secret */
static int
group_setup(void **state)
{
	const char *error = NULL;
	char *path;
	int ret = -1;

	(void)state;
	if (cm_token_init() != 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	path = cm_xasprintf("%s/secret", tmpdir);
	if (cm_secret_create(path, &error) == 0 &&
	    (secret = cm_secret_load(path, NULL, &error)) != NULL)
		ret = 0;
	else
		fprintf(stderr, "secret: %s\n", error);
	free(path);
	return ret;
}

/* group_teardown - drop the secret and the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	cm_secret_free(&secret);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* path_in - "tmpdir/name"; caller frees */
static char *
path_in(const char *name)
{
	return cm_xasprintf("%s/%s", tmpdir, name);
}

/* open_ok - open (creating) a store that must open */
static struct cm_store *
open_ok(const char *name)
{
	struct cm_store *st = NULL;
	const char *error = NULL;
	char *path = path_in(name);

	if (cm_store_open(path, secret, BUSY_MS, CM_STORE_CREATE, &st,
			  &error) != 0)
		fail_msg("open %s: %s", path, error);
	free(path);
	return st;
}

/* ok - an action that must succeed */
static void
ok(int ret, const char *error, const char *what)
{
	if (ret != 0)
		fail_msg("%s: %d: %s", what, ret, error ? error : "?");
}

/* has - error text contains want */
static void
has(const char *error, const char *want)
{
	if (error == NULL || strstr(error, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", error ? error : "(null)",
			 want);
}

/* begin - open a transaction that must open */
static void
begin(struct cm_store *st)
{
	const char *error = NULL;

	ok(cm_store_begin(st, &error), error, "begin");
}

/* commit - commit that must succeed */
static void
commit(struct cm_store *st)
{
	const char *error = NULL;

	ok(cm_store_commit(st, &error), error, "commit");
}

/* qint - a number from raw SQL */
static int64_t
qint(struct cm_store *st, const char *sql)
{
	const char *error = NULL;
	int64_t v = -1;

	ok(cm_store_query_int_for_test(st, sql, &v, &error), error, sql);
	return v;
}

/* write_bytes - create path holding len bytes of p */
static void
write_bytes(const char *path, const void *p, size_t len)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, p, len), 0);
	assert_int_equal(close(fd), 0);
}

/* the usual people: an officer, a case, a victim */
struct fixture {
	int64_t officer;
	int64_t case_id;
	int64_t victim;
};

/* populate - add one officer, case and victim (in a transaction) */
static void
populate(struct cm_store *st, const char *ref, struct fixture *f)
{
	const char *error = NULL;
	char *email = cm_xasprintf("oic-%s@police.example", ref);

	begin(st);
	ok(cm_store_officer_add(st, email, "PC Smith", "1234", &f->officer,
				&error),
	   error, "officer add");
	ok(cm_store_case_add(st, ref, "Burglary", f->officer, &f->case_id,
			     &error),
	   error, "case add");
	ok(cm_store_victim_add(st, f->case_id, "Ann Victim",
			       "Ann@Home.Example", "+447700900123", "both",
			       true, &f->victim, &error),
	   error, "victim add");
	commit(st);
	free(email);
}

/* collected ids from a list */
struct ids {
	int64_t id[64];
	size_t n;
	size_t stop_after; /* 0: never stop */
};

/* add_id - remember one id; stop when asked to */
static int
add_id(struct ids *ids, int64_t id)
{
	if (ids->n < CM_ARRAY_SIZE(ids->id))
		ids->id[ids->n++] = id;
	return ids->stop_after && ids->n >= ids->stop_after ? -1 : 0;
}

/* officer_id_cb - collect officer ids */
static int
officer_id_cb(const struct cm_officer *o, void *ctx)
{
	return add_id(ctx, o->id);
}

/* case_id_cb - collect case ids */
static int
case_id_cb(const struct cm_case *c, void *ctx)
{
	return add_id(ctx, c->id);
}

/* victim_id_cb - collect victim ids */
static int
victim_id_cb(const struct cm_victim *v, void *ctx)
{
	return add_id(ctx, v->id);
}

/* message_id_cb - collect message ids */
static int
message_id_cb(const struct cm_message *m, void *ctx)
{
	return add_id(ctx, m->id);
}

/* notice_id_cb - collect notice ids */
static int
notice_id_cb(const struct cm_notice *n, void *ctx)
{
	return add_id(ctx, n->id);
}

/* quar_id_cb - collect quarantine ids */
static int
quar_id_cb(const struct cm_quarantine *q, void *ctx)
{
	return add_id(ctx, q->id);
}

/* audit_id_cb - collect audit ids */
static int
audit_id_cb(const struct cm_audit *a, void *ctx)
{
	return add_id(ctx, a->id);
}

/* att_size_cb - collect attachment sizes */
static int
att_size_cb(const struct cm_attachment_row *a, void *ctx)
{
	return add_id(ctx, a->size);
}

/* ---- opening ---- */

/* test_open_fresh - a new file is created at the current version */
static void
test_open_fresh(void **state)
{
	struct cm_store *st = open_ok("fresh.db");
	struct cm_store *ro = NULL;
	const char *error = NULL;
	char *path = path_in("fresh.db");
	struct ids ids = { .n = 0 };

	(void)state;
	assert_int_equal(cm_store_version(st), CM_STORE_VERSION);
	assert_int_equal(qint(st, "PRAGMA user_version"), CM_STORE_VERSION);
	assert_int_equal(qint(st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(qint(st, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(qint(st, "PRAGMA journal_size_limit"), 4194304);
	assert_false(cm_store_in_txn(st));
	cm_store_close(&st);
	assert_null(st);
	/* again without CREATE, and read-only */
	assert_int_equal(cm_store_open(path, secret, BUSY_MS, 0, &st, &error),
			 0);
	assert_int_equal(cm_store_version(st), CM_STORE_VERSION);
	cm_store_close(&st);
	ok(cm_store_open(path, NULL, BUSY_MS, CM_STORE_READONLY, &ro,
			 &error),
	   error, "open read-only");
	ok(cm_store_officer_list(ro, officer_id_cb, &ids, &error), error,
	   "list");
	assert_int_equal(ids.n, 0);
	cm_store_close(&ro);
	cm_store_close(&ro); /* NULL is fine */
	free(path);
}

/* test_open_refused - files that cannot be opened, and how they fail */
static void
test_open_refused(void **state)
{
	static const char garbage[] =
		"This is not a database, it is a shopping list: eggs, milk, "
		"bread, and a great deal of padding to fill the header "
		"page of what SQLite would read as the file header.......\n";
	static const struct {
		const char *name;   /* file in tmpdir */
		const char *data;   /* content, NULL: no file */
		size_t len;
		int flags;
		int want;
		const char *error; /* substring of the error */
	} rows[] = {
		{ "missing.db", NULL, 0, 0, CM_ERR,
		  "(run casemail init)" },
		{ "missing.db", NULL, 0, CM_STORE_READONLY, CM_ERR,
		  "no database at" },
		{ "no/such/dir/x.db", NULL, 0, CM_STORE_CREATE, CM_ETEMP,
		  "unable to open" },
		{ "garbage.db", garbage, sizeof(garbage) - 1, 0, CM_ERR,
		  "file is not a database" },
		{ "garbage2.db", garbage, sizeof(garbage) - 1,
		  CM_STORE_CREATE, CM_ERR, "file is not a database" },
		{ "empty.db", "", 0, 0, CM_ERR, "run casemail init" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		struct cm_store *st = NULL;
		const char *error = NULL;
		char *path = path_in(rows[i].name);
		int ret;

		if (rows[i].data != NULL)
			write_bytes(path, rows[i].data, rows[i].len);
		ret = cm_store_open(path, secret, 100, rows[i].flags, &st,
				    &error);
		if (ret != rows[i].want || st != NULL)
			fail_msg("row %zu: got %d, want %d (%s)", i, ret,
				 rows[i].want, error ? error : "");
		if (error == NULL || strstr(error, rows[i].error) == NULL)
			fail_msg("row %zu: error \"%s\" lacks \"%s\"", i,
				 error ? error : "", rows[i].error);
		free(path);
	}
}

/* test_open_newer - a file from a newer casemail is refused */
static void
test_open_newer(void **state)
{
	struct cm_store *st = open_ok("newer.db");
	const char *error = NULL;
	char *path = path_in("newer.db");

	(void)state;
	ok(cm_store_exec_for_test(st, "PRAGMA user_version = 99", &error),
	   error, "set version");
	cm_store_close(&st);
	assert_int_equal(cm_store_open(path, secret, BUSY_MS,
				       CM_STORE_CREATE, &st, &error),
			 CM_ERR);
	assert_null(st);
	has(error, "schema version 99 is newer");
	has(error, path);
	free(path);
}

/* test_migrate_v1 - rows made at version 1 survive the step to 2 */
static void
test_migrate_v1(void **state)
{
	struct cm_store *st = NULL;
	struct cm_case c = { 0 };
	struct cm_message m;
	struct fixture f;
	const char *error = NULL, *what = NULL;
	char *path = path_in("v1.db");
	int64_t msg = 0, rows = 0, bad = 0, ref = 0;

	(void)state;
	ok(cm_store_open_at_version(path, secret, BUSY_MS, CM_STORE_CREATE,
				    1, &st, &error),
	   error, "open at 1");
	assert_int_equal(cm_store_version(st), 1);
	assert_int_equal(qint(st, "PRAGMA user_version"), 1);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master "
				  "WHERE name = 'imap_seen'"),
			 0);
	populate(st, "HU-1", &f);
	begin(st);
	/* a version 1 row, written as version 1 wrote it (today's insert
	 * names columns a version 1 file does not have) */
	ok(cm_store_exec_for_test(st, "INSERT INTO messages (case_id, at,"
				  " author, officer_id, visibility, body,"
				  " body_full, message_id, source) VALUES (1,"
				  " 1, 'officer', 1, 'victim',"
				  " 'We have a suspect.', 'We have a suspect.',"
				  " 'abc@police.example', 'cli')", &error),
	   error, "message");
	msg = qint(st, "SELECT max(id) FROM messages");
	ok(cm_store_audit(st, "cli:root", "case.add", "HU-1", "oic=1",
			  &error),
	   error, "audit");
	/* the version 2 table is not there yet */
	assert_int_equal(cm_store_imap_seen_add(st, "INBOX", 1, 1, "message",
						msg, &error),
			 CM_ERR);
	has(error, "imap_seen");
	commit(st);
	cm_store_close(&st);

	ok(cm_store_open(path, secret, BUSY_MS, 0, &st, &error), error,
	   "open migrating");
	assert_int_equal(cm_store_version(st), CM_STORE_VERSION);
	assert_int_equal(qint(st, "PRAGMA user_version"), CM_STORE_VERSION);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master "
				  "WHERE name = 'sessions'"),
			 1);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master WHERE"
				  " type = 'index' AND name IN"
				  " ('messages_message_id',"
				  " 'notices_sent_message_id',"
				  " 'notices_due')"),
			 3);
	ok(cm_store_case_get(st, "HU-1", &c, &error), error, "case");
	assert_int_equal(c.oic_id, f.officer);
	cm_case_clear(&c);
	ok(cm_store_message_get(st, msg, &m, &error), error, "message");
	assert_string_equal(m.body, "We have a suspect.");
	/* the case has one victim: the update now belongs to them */
	assert_int_equal(m.victim_id, f.victim);
	assert_null(m.placement);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, 1);
	begin(st);
	ok(cm_store_imap_seen_add(st, "INBOX", 1, 1, "message", msg, &error),
	   error, "imap seen");
	commit(st);
	ok(cm_store_imap_seen_find(st, "INBOX", 1, 1, &what, &ref, &error),
	   error, "imap find");
	assert_string_equal(what, "message");
	assert_int_equal(ref, msg);
	cm_store_close(&st);
	free(path);
}

/* test_migrate_v2 - a version 2 file gains the sessions table and a
 * session works on it */
static void
test_migrate_v2(void **state)
{
	struct cm_store *st = NULL;
	struct cm_session ss, got;
	struct fixture f;
	unsigned char hash[CM_HASH_LEN];
	const char *error = NULL;
	char *path = path_in("v2.db");
	int64_t sid = 0, rows = 0, bad = 0;

	(void)state;
	ok(cm_store_open_at_version(path, secret, BUSY_MS, CM_STORE_CREATE,
				    2, &st, &error),
	   error, "open at 2");
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master "
				  "WHERE name = 'sessions'"),
			 0);
	populate(st, "HU-2", &f);
	cm_store_close(&st);
	ok(cm_store_open(path, secret, BUSY_MS, 0, &st, &error), error,
	   "open migrating");
	assert_int_equal(cm_store_version(st), CM_STORE_VERSION);
	memset(hash, 0x5a, sizeof(hash));
	memset(&ss, 0, sizeof(ss));
	ss.victim_id = f.victim;
	ss.case_id = f.case_id;
	ss.created_at = 1000;
	ss.expires_at = 5000;
	begin(st);
	ok(cm_store_session_add(st, hash, &ss, &sid, &error), error, "add");
	assert_int_equal(cm_store_session_add(st, hash, &ss, NULL, &error),
			 CM_ERR);
	has(error, "exists already");
	commit(st);
	ok(cm_store_session_find(st, hash, &got, &error), error, "find");
	assert_int_equal(got.id, sid);
	assert_int_equal(got.victim_id, f.victim);
	assert_int_equal(got.case_id, f.case_id);
	assert_int_equal(got.seen_at, 1000);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(got.ended_at, 0);
	begin(st);
	ok(cm_store_session_touch(st, sid, 2000, &error), error, "touch");
	ok(cm_store_session_end(st, sid, 2500, &error), error, "end");
	assert_int_equal(cm_store_session_end(st, sid, 2600, &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_session_touch(st, sid, 2700, &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_session_find(st, hash, &got, &error), error, "find 2");
	assert_int_equal(got.seen_at, 2000);
	assert_int_equal(got.ended_at, 2500);
	hash[0] ^= 1;
	assert_int_equal(cm_store_session_find(st, hash, &got, &error),
			 CM_ENOENT);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	/* data_version moves on another connection's commit only */
	{
		struct cm_store *other = NULL;
		int64_t v1 = 0, v2 = 0, v3 = 0;

		ok(cm_store_data_version(st, &v1, &error), error, "dv 1");
		begin(st);
		ok(cm_store_audit(st, "test", "x.y", NULL, NULL, &error),
		   error, "own write");
		commit(st);
		ok(cm_store_data_version(st, &v2, &error), error, "dv 2");
		assert_int_equal(v1, v2);
		ok(cm_store_open(path, secret, BUSY_MS, 0, &other, &error),
		   error, "other");
		begin(other);
		ok(cm_store_audit(other, "test", "x.y", NULL, NULL, &error),
		   error, "other write");
		commit(other);
		cm_store_close(&other);
		ok(cm_store_data_version(st, &v3, &error), error, "dv 3");
		assert_true(v3 != v2);
	}
	cm_store_close(&st);
	free(path);
}

/* test_migrate_v3 - officer messages on one-victim cases come to
 * belong to that victim; on several-victim cases they stay addressed
 * to all; placements are recorded from then on */
static void
test_migrate_v3(void **state)
{
	struct cm_store *st = NULL;
	struct cm_message m;
	struct fixture f, g;
	const char *error = NULL;
	char *path = path_in("v3.db");
	int64_t second = 0, id = 0;

	(void)state;
	ok(cm_store_open_at_version(path, secret, BUSY_MS, CM_STORE_CREATE,
				    3, &st, &error),
	   error, "open at 3");
	populate(st, "HU-31", &f);
	populate(st, "HU-32", &g);
	begin(st);
	ok(cm_store_victim_add(st, g.case_id, "Bob Victim", "bob@example.net",
			       NULL, "email", true, &second, &error),
	   error, "second victim");
	ok(cm_store_exec_for_test(st, "INSERT INTO messages (case_id, at,"
				  " author, officer_id, victim_id, visibility,"
				  " body, body_full, source) VALUES"
				  " (1, 1, 'officer', 1, NULL, 'victim', 'a',"
				  " 'a', 'cli'),"
				  " (2, 2, 'officer', 2, NULL, 'victim', 'b',"
				  " 'b', 'cli'),"
				  " (2, 3, 'victim', NULL, 3, 'victim', 'c',"
				  " 'c', 'pipe'),"
				  " (1, 4, 'officer', 1, NULL, 'internal', 'd',"
				  " 'd', 'cli')", &error),
	   error, "messages");
	commit(st);
	cm_store_close(&st);
	ok(cm_store_open(path, secret, BUSY_MS, 0, &st, &error), error,
	   "open migrating");
	assert_int_equal(qint(st, "PRAGMA user_version"), CM_STORE_VERSION);
	ok(cm_store_message_get(st, 1, &m, &error), error, "m1");
	assert_int_equal(m.victim_id, f.victim);
	ok(cm_store_message_get(st, 2, &m, &error), error, "m2");
	assert_int_equal(m.victim_id, 0);
	ok(cm_store_message_get(st, 3, &m, &error), error, "m3");
	assert_int_equal(m.victim_id, second);
	ok(cm_store_message_get(st, 4, &m, &error), error, "m4");
	assert_int_equal(m.victim_id, 0); /* a note is addressed to no one */
	memset(&m, 0, sizeof(m));
	m.case_id = g.case_id;
	m.author = "victim";
	m.victim_id = second;
	m.visibility = "victim";
	m.body = "x";
	m.source = "pipe";
	m.placement = "thread";
	begin(st);
	ok(cm_store_message_add(st, &m, &id, &error), error, "add");
	m.placement = "from header";
	assert_int_equal(cm_store_message_add(st, &m, NULL, &error), CM_ERR);
	commit(st);
	ok(cm_store_message_get(st, id, &m, &error), error, "get");
	assert_string_equal(m.placement, "thread");
	cm_store_close(&st);
	free(path);
}

/* ---- people and cases ---- */

/* test_officers - add, get case-blind, duplicates, activity, list */
static void
test_officers(void **state)
{
	struct cm_store *st = open_ok("officers.db");
	struct cm_officer o = { 0 };
	struct ids ids = { .n = 0 };
	const char *error = NULL;
	int64_t a = 0, b = 0;

	(void)state;
	begin(st);
	ok(cm_store_officer_add(st, "Alice.Smith@Police.Example", "Alice",
				"A1", &a, &error),
	   error, "add alice");
	ok(cm_store_officer_add(st, "bob@police.example", "Bob", NULL, &b,
				&error),
	   error, "add bob");
	assert_int_equal(cm_store_officer_add(st,
					      "ALICE.SMITH@police.example",
					      "Other", NULL, NULL, &error),
			 CM_ERR);
	has(error, "alice.smith@police.example already exists");
	/* the transaction survives a refused row */
	assert_true(cm_store_in_txn(st));
	commit(st);

	ok(cm_store_officer_get(st, "ALICE.smith@police.EXAMPLE", &o, &error),
	   error, "get");
	assert_int_equal(o.id, a);
	assert_string_equal(o.email, "alice.smith@police.example");
	assert_string_equal(o.name, "Alice");
	assert_string_equal(o.collar, "A1");
	assert_true(o.active);
	assert_true(o.created_at > 0);
	cm_officer_clear(&o);
	assert_null(o.email);
	ok(cm_store_officer_get_id(st, b, &o, &error), error, "get id");
	assert_string_equal(o.email, "bob@police.example");
	assert_null(o.collar);
	cm_officer_clear(&o);
	assert_int_equal(cm_store_officer_get(st, "carol@police.example", &o,
					      &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_officer_get_id(st, 999, &o, &error),
			 CM_ENOENT);

	begin(st);
	ok(cm_store_officer_set_active(st, "BOB@police.example", false,
				       &error),
	   error, "disable");
	assert_int_equal(cm_store_officer_set_active(st, "nobody@x", false,
						     &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_officer_get(st, "bob@police.example", &o, &error), error,
	   "get bob");
	assert_false(o.active);
	cm_officer_clear(&o);

	ok(cm_store_officer_list(st, officer_id_cb, &ids, &error), error,
	   "list");
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], a);
	assert_int_equal(ids.id[1], b);
	/* a callback returning -1 stops the walk */
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 1;
	ok(cm_store_officer_list(st, officer_id_cb, &ids, &error), error,
	   "list stop");
	assert_int_equal(ids.n, 1);
	cm_store_close(&st);
}

/* test_cases - add, canonical refs, duplicates, status, list */
static void
test_cases(void **state)
{
	struct cm_store *st = open_ok("cases.db");
	struct cm_case c = { 0 };
	struct ids ids = { .n = 0 };
	const char *error = NULL;
	int64_t oic = 0, id1 = 0, id2 = 0;

	(void)state;
	begin(st);
	ok(cm_store_officer_add(st, "oic@police.example", "OIC", NULL, &oic,
				&error),
	   error, "officer");
	ok(cm_store_case_add(st, "HU-20261128-0042", "Burglary", oic, &id1,
			     &error),
	   error, "case");
	ok(cm_store_case_add(st, "hu-2", NULL, oic, &id2, &error), error,
	   "case 2");
	assert_int_equal(cm_store_case_add(st, "HU-20261128-0042", "Again",
					   oic, NULL, &error),
			 CM_ERR);
	has(error, "case HU-20261128-0042 already exists");
	assert_int_equal(cm_store_case_add(st, "HU-3", NULL, 999, NULL,
					   &error),
			 CM_ERR);
	has(error, "no officer");
	commit(st);

	ok(cm_store_case_get(st, "HU-20261128-0042", &c, &error), error,
	   "get");
	assert_int_equal(c.id, id1);
	assert_string_equal(c.title, "Burglary");
	assert_int_equal(c.oic_id, oic);
	assert_string_equal(c.status, "open");
	assert_int_equal(c.closed_at, 0);
	cm_case_clear(&c);
	ok(cm_store_case_get(st, "HU-2", &c, &error), error, "get upper");
	assert_string_equal(c.ref, "HU-2");
	assert_null(c.title);
	cm_case_clear(&c);
	assert_int_equal(cm_store_case_get(st, "HU-9", &c, &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_case_get_id(st, 999, &c, &error),
			 CM_ENOENT);

	begin(st);
	ok(cm_store_case_set_status(st, id2, "closed", &error), error,
	   "close");
	assert_int_equal(cm_store_case_set_status(st, id1, "lost", &error),
			 CM_ERR);
	assert_int_equal(cm_store_case_set_status(st, 999, "closed", &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_case_get_id(st, id2, &c, &error), error, "get id");
	assert_string_equal(c.status, "closed");
	assert_true(c.closed_at > 0);
	cm_case_clear(&c);

	ok(cm_store_case_list(st, case_id_cb, &ids, &error), error, "list");
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], id1);
	assert_int_equal(ids.id[1], id2);
	cm_store_close(&st);
}

/* test_victims - add, lower-cased email, find, update, bounce */
static void
test_victims(void **state)
{
	struct cm_store *st = open_ok("victims.db");
	struct cm_victim v = { 0 };
	struct ids ids = { .n = 0 };
	struct fixture f;
	const char *error = NULL;
	bool undeliverable = true;
	int64_t second = 0;
	static const bool bounce_want[] = { false, false, true, false };
	size_t i;

	(void)state;
	populate(st, "HU-V", &f);
	ok(cm_store_victim_get(st, f.victim, &v, &error), error, "get");
	assert_int_equal(v.case_id, f.case_id);
	assert_string_equal(v.name, "Ann Victim");
	assert_string_equal(v.email, "ann@home.example");
	assert_string_equal(v.phone, "+447700900123");
	assert_string_equal(v.channel, "both");
	assert_true(v.opted_in);
	assert_false(v.registered);
	assert_string_equal(v.email_status, "ok");
	assert_int_equal(v.bounce_score, 0);
	assert_false(v.discreet);
	cm_victim_clear(&v);

	begin(st);
	ok(cm_store_victim_add(st, f.case_id, "Bo", NULL, "+447700900999",
			       NULL, false, &second, &error),
	   error, "add phone only");
	assert_int_equal(cm_store_victim_add(st, 999, "X", "x@y", NULL,
					     "email", true, NULL, &error),
			 CM_ERR);
	has(error, "no case");
	assert_int_equal(cm_store_victim_add(st, f.case_id, "X", "x@y", NULL,
					     "pigeon", true, NULL, &error),
			 CM_ERR);
	commit(st);
	ok(cm_store_victim_get(st, second, &v, &error), error, "get 2");
	assert_null(v.email);
	assert_string_equal(v.channel, "sms");
	cm_victim_clear(&v);

	ok(cm_store_victim_find_email(st, f.case_id, "ANN@home.example", &v,
				      &error),
	   error, "find");
	assert_int_equal(v.id, f.victim);
	cm_victim_clear(&v);
	assert_int_equal(cm_store_victim_find_email(st, f.case_id,
						    "other@home.example", &v,
						    &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_victim_find_email(st, f.case_id + 1,
						    "ann@home.example", &v,
						    &error),
			 CM_ENOENT);

	ok(cm_store_victim_list(st, f.case_id, victim_id_cb, &ids, &error),
	   error, "list");
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], f.victim);
	assert_int_equal(ids.id[1], second);

	/* three hard bounces make the address undeliverable, once */
	begin(st);
	for (i = 0; i < CM_ARRAY_SIZE(bounce_want); i++) {
		ok(cm_store_victim_bounce(st, f.victim, 3, &undeliverable,
					  &error),
		   error, "bounce");
		if (undeliverable != bounce_want[i])
			fail_msg("bounce %zu: undeliverable %d", i,
				 undeliverable);
	}
	assert_int_equal(cm_store_victim_bounce(st, 999, 3, NULL, &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_victim_get(st, f.victim, &v, &error), error, "get");
	assert_string_equal(v.email_status, "undeliverable");
	assert_int_equal(v.bounce_score, 4);

	/* update writes the fields back */
	free(v.email);
	v.email = cm_xstrdup("New@Home.Example");
	free(v.email_status);
	v.email_status = cm_xstrdup("ok");
	v.bounce_score = 0;
	v.registered = true;
	v.discreet = true;
	begin(st);
	ok(cm_store_victim_update(st, &v, &error), error, "update");
	commit(st);
	cm_victim_clear(&v);
	ok(cm_store_victim_find_email(st, f.case_id, "new@home.example", &v,
				      &error),
	   error, "find new");
	assert_string_equal(v.email, "new@home.example");
	assert_string_equal(v.email_status, "ok");
	assert_true(v.registered);
	assert_true(v.discreet);
	assert_int_equal(v.bounce_score, 0);
	cm_victim_clear(&v);
	cm_store_close(&st);
}

/* ---- the thread ---- */

/* test_thread_order - oldest first by time, then by id; held list */
static void
test_thread_order(void **state)
{
	static const struct {
		int64_t at;
		const char *status;
		size_t pos; /* where it must come in the thread */
	} rows[] = {
		{ 300, "posted", 4 }, { 100, "posted", 0 },
		{ 200, "held", 3 },   { 100, "held", 1 },
		{ 150, "posted", 2 },
	};
	struct cm_store *st = open_ok("thread.db");
	struct ids ids = { .n = 0 }, held = { .n = 0 };
	struct cm_message m;
	struct fixture f;
	const char *error = NULL;
	int64_t id[CM_ARRAY_SIZE(rows)];
	size_t i;

	(void)state;
	populate(st, "HU-T", &f);
	begin(st);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		memset(&m, 0, sizeof(m));
		m.case_id = f.case_id;
		m.at = rows[i].at;
		m.author = "victim";
		m.victim_id = f.victim;
		m.visibility = "victim";
		m.status = rows[i].status;
		m.body = "text";
		m.source = "pipe";
		ok(cm_store_message_add(st, &m, &id[i], &error), error,
		   "message");
	}
	commit(st);
	ok(cm_store_thread(st, f.case_id, message_id_cb, &ids, &error),
	   error, "thread");
	assert_int_equal(ids.n, CM_ARRAY_SIZE(rows));
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++)
		if (ids.id[rows[i].pos] != id[i])
			fail_msg("row %zu: not at position %zu", i,
				 rows[i].pos);
	ok(cm_store_held_list(st, message_id_cb, &held, &error), error,
	   "held");
	assert_int_equal(held.n, 2);
	assert_int_equal(held.id[0], id[3]);
	assert_int_equal(held.id[1], id[2]);
	memset(&ids, 0, sizeof(ids));
	ok(cm_store_thread(st, f.case_id + 100, message_id_cb, &ids, &error),
	   error, "empty thread");
	assert_int_equal(ids.n, 0);
	cm_store_close(&st);
}

/* test_message_fields - every field round-trips; status; attachments */
static void
test_message_fields(void **state)
{
	struct cm_store *st = open_ok("message.db");
	struct cm_attachment_row a;
	struct cm_message m, g;
	struct ids sizes = { .n = 0 };
	struct fixture f;
	const char *error = NULL;
	int64_t id = 0, raw = 0;

	(void)state;
	populate(st, "HU-M", &f);
	memset(&m, 0, sizeof(m));
	m.case_id = f.case_id;
	m.at = 1700000000;
	m.author = "victim";
	m.victim_id = f.victim;
	m.visibility = "victim";
	m.status = "held";
	m.kind = "message";
	m.body = "Thanks.";
	m.body_full = "Thanks.\n\n> old text";
	m.quoted = "> old text";
	m.subject = "Re: your case";
	m.sender = "ann@home.example";
	m.message_id = "r1@home.example";
	m.in_reply_to = "n1@police.example";
	m.source = "maildir";
	begin(st);
	ok(cm_store_raw_put(st, "raw", 3, &raw, NULL, &error), error, "raw");
	m.raw_id = raw;
	ok(cm_store_message_add(st, &m, &id, &error), error, "add");
	memset(&a, 0, sizeof(a));
	a.message_id = id;
	a.filename = "photo.jpg";
	a.content_type = "image/jpeg";
	a.size = 1234;
	a.sha256 = "00";
	ok(cm_store_attachment_add(st, &a, &error), error, "attachment");
	a.filename = "note.txt";
	a.size = 5;
	ok(cm_store_attachment_add(st, &a, &error), error, "attachment 2");
	a.message_id = 999;
	assert_int_equal(cm_store_attachment_add(st, &a, &error), CM_ERR);
	/* an author outside the enumeration is refused */
	m.author = "dog";
	assert_int_equal(cm_store_message_add(st, &m, NULL, &error), CM_ERR);
	commit(st);

	ok(cm_store_message_get(st, id, &g, &error), error, "get");
	assert_int_equal(g.id, id);
	assert_int_equal(g.case_id, f.case_id);
	assert_int_equal(g.at, 1700000000);
	assert_string_equal(g.author, "victim");
	assert_int_equal(g.victim_id, f.victim);
	assert_int_equal(g.officer_id, 0);
	assert_string_equal(g.visibility, "victim");
	assert_string_equal(g.status, "held");
	assert_string_equal(g.kind, "message");
	assert_string_equal(g.body, m.body);
	assert_string_equal(g.body_full, m.body_full);
	assert_string_equal(g.quoted, m.quoted);
	assert_string_equal(g.subject, m.subject);
	assert_string_equal(g.sender, m.sender);
	assert_string_equal(g.message_id, m.message_id);
	assert_string_equal(g.in_reply_to, m.in_reply_to);
	assert_string_equal(g.source, "maildir");
	assert_int_equal(g.raw_id, raw);
	assert_int_equal(cm_store_message_get(st, 999, &g, &error),
			 CM_ENOENT);

	begin(st);
	ok(cm_store_message_set_status(st, id, "posted", &error), error,
	   "status");
	assert_int_equal(cm_store_message_set_status(st, id, "lost", &error),
			 CM_ERR);
	assert_int_equal(cm_store_message_set_status(st, 999, "posted",
						     &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_message_get(st, id, &g, &error), error, "get");
	assert_string_equal(g.status, "posted");

	ok(cm_store_attachment_list(st, id, att_size_cb, &sizes, &error),
	   error, "attachments");
	assert_int_equal(sizes.n, 2);
	assert_int_equal(sizes.id[0], 1234);
	assert_int_equal(sizes.id[1], 5);
	cm_store_close(&st);
}

/* test_raw_dedupe - the same bytes are kept once */
static void
test_raw_dedupe(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *sha;
		size_t same_as; /* index of the row with the same id */
	} rows[] = {
		{ "abc", 3,
		  "ba7816bf8f01cfea414140de5dae2223"
		  "b00361a396177a9cb410ff61f20015ad",
		  0 },
		{ "abc", 3,
		  "ba7816bf8f01cfea414140de5dae2223"
		  "b00361a396177a9cb410ff61f20015ad",
		  0 },
		{ "", 0,
		  "e3b0c44298fc1c149afbf4c8996fb924"
		  "27ae41e4649b934ca495991b7852b855",
		  2 },
		{ "a\0b\r\n", 5, NULL, 3 },
		{ "abd", 3, NULL, 4 },
		{ "", 0, NULL, 2 },
	};
	struct cm_store *st = open_ok("raw.db");
	const char *error = NULL;
	int64_t id[CM_ARRAY_SIZE(rows)];
	char hex[65];
	char *data = NULL;
	size_t i, len = 0;

	(void)state;
	begin(st);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		ok(cm_store_raw_put(st, rows[i].data, rows[i].len, &id[i], hex,
				    &error),
		   error, "raw put");
		if (rows[i].sha != NULL && strcmp(hex, rows[i].sha) != 0)
			fail_msg("row %zu: sha %s", i, hex);
		if (id[i] != id[rows[i].same_as])
			fail_msg("row %zu: id %lld, want %lld", i,
				 (long long)id[i],
				 (long long)id[rows[i].same_as]);
	}
	commit(st);
	assert_int_equal(qint(st, "SELECT count(*) FROM raw_messages"), 4);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		ok(cm_store_raw_get(st, id[i], &data, &len, &error), error,
		   "raw get");
		if (len != rows[i].len ||
		    memcmp(data, rows[i].data, len) != 0)
			fail_msg("row %zu: bytes differ", i);
		free(data);
	}
	assert_int_equal(cm_store_raw_get(st, 999, &data, &len, &error),
			 CM_ENOENT);
	assert_null(data);
	cm_store_close(&st);
}

/* test_deliveries - a delivery key is recorded once */
static void
test_deliveries(void **state)
{
	struct cm_store *st = open_ok("deliveries.db");
	const char *error = NULL, *what = NULL;
	int64_t ref = 0;

	(void)state;
	assert_int_equal(cm_store_delivery_find(st, "q1/rcpt", &what, &ref,
						&error),
			 CM_ENOENT);
	begin(st);
	ok(cm_store_delivery_add(st, "q1/rcpt", "quarantine", 7, &error),
	   error, "add");
	assert_int_equal(cm_store_delivery_add(st, "q1/rcpt", "message", 8,
					       &error),
			 CM_ERR);
	has(error, "q1/rcpt is already recorded");
	assert_int_equal(cm_store_delivery_add(st, "q2", "parcel", 8,
					       &error),
			 CM_ERR);
	commit(st);
	ok(cm_store_delivery_find(st, "q1/rcpt", &what, &ref, &error), error,
	   "find");
	assert_string_equal(what, "quarantine");
	assert_int_equal(ref, 7);
	assert_int_equal(qint(st, "SELECT count(*) FROM deliveries"), 1);
	cm_store_close(&st);
}

/* test_tokens - only hashes kept; single use across connections */
static void
test_tokens(void **state)
{
	struct cm_store *st = open_ok("tokens.db");
	struct cm_store *other = open_ok("tokens.db");
	struct cm_token_row t, g;
	struct fixture f;
	unsigned char hash[CM_HASH_LEN], unknown[CM_HASH_LEN];
	const char *error = NULL;
	char *tok;
	int64_t id = 0;

	(void)state;
	populate(st, "HU-K", &f);
	tok = cm_token_mint(secret, hash);
	memset(unknown, 0x5a, sizeof(unknown));
	memset(&t, 0, sizeof(t));
	t.kind = "login";
	t.victim_id = f.victim;
	t.case_id = f.case_id;
	t.expires_at = 2000000000;
	begin(st);
	ok(cm_store_token_add(st, hash, &t, &id, &error), error, "add");
	assert_int_equal(cm_store_token_add(st, hash, &t, NULL, &error),
			 CM_ERR);
	commit(st);
	/* the token text itself is nowhere in the file */
	assert_int_equal(qint(st, "SELECT count(*) FROM tokens"), 1);

	ok(cm_store_token_find(st, hash, &g, &error), error, "find");
	assert_int_equal(g.id, id);
	assert_string_equal(g.kind, "login");
	assert_int_equal(g.notice_id, 0);
	assert_int_equal(g.victim_id, f.victim);
	assert_int_equal(g.case_id, f.case_id);
	assert_true(g.created_at > 0);
	assert_int_equal(g.expires_at, 2000000000);
	assert_int_equal(g.used_at, 0);
	assert_int_equal(cm_store_token_find(st, unknown, &g, &error),
			 CM_ENOENT);

	begin(st);
	ok(cm_store_token_use(st, id, 1800000000, &error), error, "use");
	commit(st);
	/* a second connection cannot use it again */
	begin(other);
	assert_int_equal(cm_store_token_use(other, id, 1800000001, &error),
			 CM_ENOENT);
	commit(other);
	begin(st);
	assert_int_equal(cm_store_token_use(st, id, 1800000002, &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_token_use(st, 999, 1800000002, &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_token_find(other, hash, &g, &error), error, "find");
	assert_int_equal(g.used_at, 1800000000);
	free(tok);
	cm_store_close(&other);
	cm_store_close(&st);
}


/* struct claimed - what claim_cb saw */
struct claimed {
	int n;
	int64_t id, lease_until, due[8], ids[8];
	long attempts;
	char status[16], last_error[64];
};

/* claimed_cb - cm_store_notice_claim_many callback: keep the notice */
static int
claimed_cb(const struct cm_notice *n, void *ctx)
{
	struct claimed *c = ctx;

	if (c->n < 8) {
		c->ids[c->n] = n->id;
		c->due[c->n] = n->next_attempt_at;
	}
	c->n++;
	c->id = n->id;
	c->lease_until = n->lease_until;
	c->attempts = n->attempts;
	cm_strlcpy(c->status, n->status, sizeof(c->status));
	cm_strlcpy(c->last_error, n->last_error ? n->last_error : "",
		   sizeof(c->last_error));
	return 0;
}

/* claim1 - claim one notice into *c; CM_ENOENT when none is due */
static int
claim1(struct cm_store *st, int64_t now, long lease, struct claimed *c,
       const char **error)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = cm_store_notice_claim_many(st, now, lease, 1, claimed_cb, c,
					error);
	if (rc < 0)
		return rc;
	return c->n == 0 ? CM_ENOENT : 0;
}

/* test_notices - queue, list by status, status, Message-ID, claim */
static void
test_notices(void **state)
{
	static const char *const bad_status[] = { "lost", "", "QUEUED" };
	struct cm_store *st = open_ok("notices.db");
	struct cm_notice n, g;
	struct claimed c;
	struct ids all = { .n = 0 }, sent = { .n = 0 }, q = { .n = 0 };
	struct fixture f;
	const char *error = NULL;
	int64_t a = 0, b = 0, now;
	size_t i;

	(void)state;
	populate(st, "HU-N", &f);
	memset(&n, 0, sizeof(n));
	n.case_id = f.case_id;
	n.victim_id = f.victim;
	n.kind = "update";
	n.channel = "email";
	begin(st);
	ok(cm_store_notice_add(st, &n, &a, &error), error, "add victim");
	n.victim_id = 0;
	n.officer_id = f.officer;
	n.kind = "officer_notify";
	ok(cm_store_notice_add(st, &n, &b, &error), error, "add officer");
	/* to nobody, or to both, is refused */
	n.officer_id = 0;
	assert_int_equal(cm_store_notice_add(st, &n, NULL, &error), CM_ERR);
	n.officer_id = f.officer;
	n.victim_id = f.victim;
	assert_int_equal(cm_store_notice_add(st, &n, NULL, &error), CM_ERR);
	n.victim_id = 0;
	n.channel = "fax";
	assert_int_equal(cm_store_notice_add(st, &n, NULL, &error), CM_ERR);
	commit(st);

	ok(cm_store_notice_get(st, a, &g, &error), error, "get");
	assert_string_equal(g.status, "queued");
	assert_string_equal(g.kind, "update");
	assert_string_equal(g.channel, "email");
	assert_int_equal(g.victim_id, f.victim);
	assert_int_equal(g.officer_id, 0);
	assert_int_equal(g.attempts, 0);
	assert_true(g.next_attempt_at > 0);
	assert_null(g.last_error);
	assert_null(g.sent_message_id);
	assert_int_equal(cm_store_notice_get(st, 999, &g, &error), CM_ENOENT);

	begin(st);
	ok(cm_store_notice_set_status(st, a, "sent", "250 2.0.0 Ok", &error),
	   error, "status");
	for (i = 0; i < CM_ARRAY_SIZE(bad_status); i++)
		if (cm_store_notice_set_status(st, b, bad_status[i], NULL,
					       &error) != CM_ERR)
			fail_msg("row %zu: status accepted", i);
	assert_int_equal(cm_store_notice_set_status(st, 999, "sent", NULL,
						    &error),
			 CM_ENOENT);
	ok(cm_store_notice_set_msgid(st, a, "<n1.abc@police.example>",
				     &error),
	   error, "msgid");
	ok(cm_store_notice_set_provider(st, a, "sms-77", &error), error,
	   "provider");
	commit(st);

	ok(cm_store_notice_list(st, NULL, notice_id_cb, &all, &error), error,
	   "list all");
	assert_int_equal(all.n, 2);
	assert_int_equal(all.id[0], a);
	assert_int_equal(all.id[1], b);
	ok(cm_store_notice_list(st, "sent", notice_id_cb, &sent, &error),
	   error, "list sent");
	assert_int_equal(sent.n, 1);
	assert_int_equal(sent.id[0], a);
	ok(cm_store_notice_list(st, "queued", notice_id_cb, &q, &error),
	   error, "list queued");
	assert_int_equal(q.n, 1);
	assert_int_equal(q.id[0], b);

	ok(cm_store_notice_find_msgid(st, "n1.abc@police.example", &g,
				      &error),
	   error, "find bare");
	assert_int_equal(g.id, a);
	assert_string_equal(g.sent_message_id, "n1.abc@police.example");
	assert_string_equal(g.last_error, "250 2.0.0 Ok");
	assert_string_equal(g.provider_id, "sms-77");
	ok(cm_store_notice_find_msgid(st, "<n1.abc@police.example>", &g,
				      &error),
	   error, "find bracketed");
	assert_int_equal(g.id, a);
	assert_int_equal(cm_store_notice_find_msgid(st, "<other@x>", &g,
						    &error),
			 CM_ENOENT);

	/* the claim: b is due; a lease runs out; a deferral waits */
	now = cm_now() + 10;
	begin(st);
	ok(claim1(st, now, 60, &c, &error), error, "claim");
	assert_int_equal(c.id, b);
	assert_string_equal(c.status, "sending");
	assert_int_equal(c.attempts, 1);
	assert_int_equal(c.lease_until, now + 60);
	assert_int_equal(claim1(st, now, 60, &c, &error), CM_ENOENT);
	ok(claim1(st, now + 60, 60, &c, &error), error, "claim after lease");
	assert_int_equal(c.id, b);
	assert_int_equal(c.attempts, 2);
	ok(cm_store_notice_defer(st, b, now + 500, "421 try later", &error),
	   error, "defer");
	assert_int_equal(claim1(st, now + 499, 60, &c, &error), CM_ENOENT);
	ok(claim1(st, now + 500, 60, &c, &error), error, "claim deferred");
	assert_int_equal(c.id, b);
	assert_int_equal(c.attempts, 3);
	assert_string_equal(c.last_error, "421 try later");
	/* a batch in one statement: the three just queued and b, whose
	 * lease ran out, oldest due first, then by id */
	n.victim_id = f.victim;
	n.officer_id = 0;
	n.kind = "update";
	n.channel = "email";
	for (i = 0; i < 3; i++)
		ok(cm_store_notice_add(st, &n, NULL, &error), error, "add");
	memset(&c, 0, sizeof(c));
	ok(cm_store_notice_claim_many(st, now + 1000, 60, 10, claimed_cb, &c,
				      &error),
	   error, "claim many");
	assert_int_equal(c.n, 4);
	for (int k = 1; k < c.n; k++)
		assert_true(c.due[k - 1] < c.due[k] ||
			    (c.due[k - 1] == c.due[k] &&
			     c.ids[k - 1] < c.ids[k]));
	memset(&c, 0, sizeof(c));
	ok(cm_store_notice_claim_many(st, now + 1000, 60, 10, claimed_cb, &c,
				      &error),
	   error, "claim many again");
	assert_int_equal(c.n, 0);
	commit(st);
	cm_store_close(&st);
}

/* test_quarantine - add, get, list by status, release */
static void
test_quarantine(void **state)
{
	static const char raw[] = "From: x@y\r\n\r\nwho knows\r\n";
	struct cm_store *st = open_ok("quarantine.db");
	struct cm_quarantine q, g;
	struct ids held = { .n = 0 }, all = { .n = 0 };
	struct fixture f;
	const char *error = NULL;
	int64_t raw_id = 0, a = 0, b = 0;

	(void)state;
	populate(st, "HU-Q", &f);
	memset(&q, 0, sizeof(q));
	begin(st);
	ok(cm_store_raw_put(st, raw, sizeof(raw) - 1, &raw_id, NULL, &error),
	   error, "raw");
	q.reason = "no case reference";
	q.sender = "x@y";
	q.recipient = "info@police.example";
	q.queue_id = "4XyZ1";
	q.message_id = "m1@y";
	q.subject = "hello";
	q.raw_id = raw_id;
	ok(cm_store_quarantine_add(st, &q, &a, &error), error, "add");
	q.reason = "parser crashed";
	ok(cm_store_quarantine_add(st, &q, &b, &error), error, "add 2");
	commit(st);

	ok(cm_store_quarantine_get(st, a, &g, &error), error, "get");
	assert_string_equal(g.reason, "no case reference");
	assert_string_equal(g.sender, "x@y");
	assert_string_equal(g.recipient, "info@police.example");
	assert_string_equal(g.queue_id, "4XyZ1");
	assert_string_equal(g.message_id, "m1@y");
	assert_string_equal(g.subject, "hello");
	assert_string_equal(g.status, "held");
	assert_int_equal(g.case_id, 0);
	assert_null(g.released_as);
	assert_int_equal(g.raw_id, raw_id);
	assert_int_equal(g.size, sizeof(raw) - 1);
	assert_true(g.at > 0);
	assert_int_equal(cm_store_quarantine_get(st, 999, &g, &error),
			 CM_ENOENT);

	begin(st);
	ok(cm_store_quarantine_set(st, a, "released", f.case_id, "victim",
				   &error),
	   error, "release");
	assert_int_equal(cm_store_quarantine_set(st, b, "released",
						 f.case_id, "judge", &error),
			 CM_ERR);
	assert_int_equal(cm_store_quarantine_set(st, b, "gone", 0, NULL,
						 &error),
			 CM_ERR);
	assert_int_equal(cm_store_quarantine_set(st, 999, "deleted", 0, NULL,
						 &error),
			 CM_ENOENT);
	commit(st);
	ok(cm_store_quarantine_get(st, a, &g, &error), error, "get");
	assert_string_equal(g.status, "released");
	assert_int_equal(g.case_id, f.case_id);
	assert_string_equal(g.released_as, "victim");

	ok(cm_store_quarantine_list(st, "held", quar_id_cb, &held, &error),
	   error, "list held");
	assert_int_equal(held.n, 1);
	assert_int_equal(held.id[0], b);
	ok(cm_store_quarantine_list(st, NULL, quar_id_cb, &all, &error),
	   error, "list all");
	assert_int_equal(all.n, 2);
	cm_store_close(&st);
}

/* stat rows collected by name */
struct stat_seen {
	const char *name;
	int64_t want;
	int64_t got;
	int seen;
};

/* stat_cb - note one statistic */
static int
stat_cb(const char *name, int64_t value, void *ctx)
{
	struct stat_seen *s = ctx;

	for (; s->name != NULL; s++)
		if (strcmp(s->name, name) == 0) {
			s->got = value;
			s->seen++;
			return 0;
		}
	fail_msg("unexpected statistic %s", name);
	return -1;
}

/* test_stats - every documented statistic, with the right value */
static void
test_stats(void **state)
{
	struct stat_seen rows[] = {
		{ "cases", 2, 0, 0 },
		{ "cases_open", 1, 0, 0 },
		{ "officers", 2, 0, 0 },
		{ "victims", 2, 0, 0 },
		{ "messages", 1, 0, 0 },
		{ "messages_held", 1, 0, 0 },
		{ "notices_queued", 1, 0, 0 },
		{ "notices_sending", 0, 0, 0 },
		{ "notices_sent", 1, 0, 0 },
		{ "notices_deferred", 0, 0, 0 },
		{ "notices_failed", 0, 0, 0 },
		{ "notices_suppressed", 0, 0, 0 },
		{ "quarantine_held", 1, 0, 0 },
		{ "raw_bytes", 7, 0, 0 },
		{ "audit_rows", 3, 0, 0 },
		{ NULL, 0, 0, 0 },
	};
	struct cm_store *st = open_ok("stats.db");
	struct cm_quarantine q;
	struct cm_message m;
	struct cm_notice n;
	struct fixture f, f2;
	const char *error = NULL;
	int64_t id = 0, raw = 0;
	size_t i;

	(void)state;
	populate(st, "HU-S1", &f);
	populate(st, "HU-S2", &f2);
	begin(st);
	ok(cm_store_case_set_status(st, f2.case_id, "closed", &error), error,
	   "close");
	memset(&m, 0, sizeof(m));
	m.case_id = f.case_id;
	m.author = "victim";
	m.visibility = "victim";
	m.status = "held";
	m.body = "b";
	m.source = "pipe";
	ok(cm_store_message_add(st, &m, NULL, &error), error, "message");
	memset(&n, 0, sizeof(n));
	n.case_id = f.case_id;
	n.victim_id = f.victim;
	n.kind = "update";
	n.channel = "sms";
	ok(cm_store_notice_add(st, &n, &id, &error), error, "notice");
	ok(cm_store_notice_add(st, &n, NULL, &error), error, "notice 2");
	ok(cm_store_notice_set_status(st, id, "sent", NULL, &error), error,
	   "sent");
	ok(cm_store_raw_put(st, "1234", 4, &raw, NULL, &error), error, "raw");
	ok(cm_store_raw_put(st, "abc", 3, NULL, NULL, &error), error, "raw");
	ok(cm_store_raw_put(st, "abc", 3, NULL, NULL, &error), error, "raw");
	memset(&q, 0, sizeof(q));
	q.reason = "r";
	q.raw_id = raw;
	ok(cm_store_quarantine_add(st, &q, NULL, &error), error, "quar");
	for (i = 0; i < 3; i++)
		ok(cm_store_audit(st, "test", "x.y", NULL, NULL, &error),
		   error, "audit");
	commit(st);
	ok(cm_store_stats(st, stat_cb, rows, &error), error, "stats");
	for (i = 0; rows[i].name != NULL; i++)
		if (rows[i].seen != 1 || rows[i].got != rows[i].want)
			fail_msg("row %zu (%s): seen %d, got %lld, want %lld",
				 i, rows[i].name, rows[i].seen,
				 (long long)rows[i].got,
				 (long long)rows[i].want);
	cm_store_close(&st);
}

/* test_imap_seen - UIDVALIDITY/UID recorded once, highest uid */
static void
test_imap_seen(void **state)
{
	struct cm_store *st = open_ok("imap.db");
	const char *error = NULL, *what = NULL;
	int64_t uid = -1, ref = 0;

	(void)state;
	ok(cm_store_imap_last_uid(st, "INBOX", 7, &uid, &error), error,
	   "last");
	assert_int_equal(uid, 0);
	begin(st);
	ok(cm_store_imap_seen_add(st, "INBOX", 7, 12, "message", 3, &error),
	   error, "add");
	ok(cm_store_imap_seen_add(st, "INBOX", 7, 40, "quarantine", 4,
				  &error),
	   error, "add");
	ok(cm_store_imap_seen_add(st, "INBOX", 8, 99, "event", 0, &error),
	   error, "add other validity");
	assert_int_equal(cm_store_imap_seen_add(st, "INBOX", 7, 12, "message",
						3, &error),
			 CM_ERR);
	has(error, "already recorded");
	commit(st);
	ok(cm_store_imap_last_uid(st, "INBOX", 7, &uid, &error), error,
	   "last");
	assert_int_equal(uid, 40);
	ok(cm_store_imap_seen_find(st, "INBOX", 7, 40, &what, &ref, &error),
	   error, "find");
	assert_string_equal(what, "quarantine");
	assert_int_equal(ref, 4);
	assert_int_equal(cm_store_imap_seen_find(st, "INBOX", 8, 40, &what,
						 &ref, &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_imap_seen_find(st, "Other", 7, 40, &what,
						 &ref, &error),
			 CM_ENOENT);
	cm_store_close(&st);
}

/* ---- transactions ---- */

/* test_transactions - rollback discards, commit needs a transaction */
static void
test_transactions(void **state)
{
	struct cm_store *st = open_ok("txn.db");
	struct cm_officer o = { 0 };
	const char *error = NULL;

	(void)state;
	assert_false(cm_store_in_txn(st));
	begin(st);
	assert_true(cm_store_in_txn(st));
	ok(cm_store_officer_add(st, "x@police.example", "X", NULL, NULL,
				&error),
	   error, "add");
	cm_store_rollback(st);
	assert_false(cm_store_in_txn(st));
	cm_store_rollback(st); /* harmless twice */
	assert_int_equal(cm_store_officer_get(st, "x@police.example", &o,
					      &error),
			 CM_ENOENT);
	assert_int_equal(cm_store_commit(st, &error), CM_ERR);
	has(error, "no transaction");
	/* an open transaction is rolled back by close */
	begin(st);
	ok(cm_store_officer_add(st, "y@police.example", "Y", NULL, NULL,
				&error),
	   error, "add");
	cm_store_close(&st);
	st = open_ok("txn.db");
	assert_int_equal(cm_store_officer_get(st, "y@police.example", &o,
					      &error),
			 CM_ENOENT);
	cm_store_close(&st);
}

/* test_busy - a writer holding the lock makes begin fail with ETEMP */
static void
test_busy(void **state)
{
	struct cm_store *holder = open_ok("busy.db");
	struct cm_store *st = NULL;
	struct timespec t0, t1;
	const char *error = NULL;
	char *path = path_in("busy.db");
	long ms;

	(void)state;
	ok(cm_store_open(path, secret, 200, 0, &st, &error), error, "open");
	begin(holder);
	/* opening and reading still work beside a writer (WAL) */
	cm_store_close(&st);
	ok(cm_store_open(path, secret, 200, 0, &st, &error), error,
	   "open beside a writer");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cm_store_begin(st, &error), CM_ETEMP);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	has(error, "database is locked");
	ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (ms < 150 || ms > 3000)
		fail_msg("begin gave up after %ld ms, want about 200", ms);
	assert_false(cm_store_in_txn(st));
	cm_store_rollback(holder);
	begin(st);
	commit(st);
	cm_store_close(&st);
	cm_store_close(&holder);
	free(path);
}

/* ---- the audit chain ---- */

/* audit_rows - a fresh file name with five audit rows */
static struct cm_store *
audit_rows(const char *name)
{
	static const struct {
		const char *actor, *action, *ref, *detail;
	} rows[] = {
		{ "cli:root", "officer.add", NULL, "email=a@p" },
		{ "cli:root", "case.add", "HU-A", NULL },
		{ "mda", "message.add", "HU-A", "id=1 qid=4X" },
		{ "sender", "notice.sent", "HU-A", "" },
		{ "cli:root", "case.close", "HU-A", "x" },
	};
	struct cm_store *st = open_ok(name);
	const char *error = NULL;
	size_t i;

	begin(st);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++)
		ok(cm_store_audit(st, rows[i].actor, rows[i].action,
				  rows[i].ref, rows[i].detail, &error),
		   error, "audit");
	commit(st);
	return st;
}

/* test_audit_intact - a chain written normally verifies; list */
static void
test_audit_intact(void **state)
{
	struct cm_store *st = audit_rows("audit-ok.db");
	struct ids ids = { .n = 0 };
	const char *error = NULL;
	int64_t rows = 0, bad = -1;

	(void)state;
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, 5);
	assert_int_equal(bad, 0);
	/* across transactions and connections too */
	cm_store_close(&st);
	st = open_ok("audit-ok.db");
	begin(st);
	ok(cm_store_audit(st, "web", "token.use", "HU-B", NULL, &error),
	   error, "audit");
	commit(st);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, 6);

	ok(cm_store_audit_list(st, NULL, 0, audit_id_cb, &ids, &error),
	   error, "list");
	assert_int_equal(ids.n, 6);
	assert_int_equal(ids.id[0], 6);
	assert_int_equal(ids.id[5], 1);
	memset(&ids, 0, sizeof(ids));
	ok(cm_store_audit_list(st, "HU-A", 2, audit_id_cb, &ids, &error),
	   error, "list case");
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], 5);
	assert_int_equal(ids.id[1], 4);

	/* the triggers refuse edits through the ordinary connection */
	assert_int_equal(cm_store_exec_for_test(st, "UPDATE audit SET detail"
						    " = 'x' WHERE id = 2",
						&error),
			 CM_ERR);
	has(error, "append-only");
	assert_int_equal(cm_store_exec_for_test(st, "DELETE FROM audit WHERE"
						    " id = 6",
						&error),
			 CM_ERR);
	has(error, "append-only");
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	cm_store_close(&st);
}

/* test_audit_txn - the chain's end is kept in memory only within one
 * transaction: a rollback forgets it, another connection's rows are
 * seen by the next transaction, the meta rows are written at commit */
static void
test_audit_txn(void **state)
{
	struct cm_store *st = audit_rows("audit-txn.db"), *other;
	const char *error = NULL;
	int64_t rows = 0, bad = -1;

	(void)state;
	other = open_ok("audit-txn.db");
	/* many rows in one transaction, rolled back: none of them */
	begin(st);
	for (int i = 0; i < 20; i++)
		ok(cm_store_audit(st, "sender", "notice.sending", "HU-A",
				  "gone", &error),
		   error, "audit");
	cm_store_rollback(st);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, 5);
	/* the other connection appends; this one must chain onto it */
	begin(other);
	ok(cm_store_audit(other, "web", "token.use", "HU-B", NULL, &error),
	   error, "audit");
	commit(other);
	begin(st);
	for (int i = 0; i < 30; i++)
		ok(cm_store_audit(st, "sender", "notice.sent", "HU-A",
				  "kept", &error),
		   error, "audit");
	commit(st);
	begin(other);
	ok(cm_store_audit(other, "web", "token.use", "HU-B", NULL, &error),
	   error, "audit");
	commit(other);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, 37);
	assert_int_equal(bad, 0);
	ok(cm_store_audit_verify(other, &rows, &bad, &error), error,
	   "verify");
	assert_int_equal(rows, 37);
	cm_store_close(&other);
	cm_store_close(&st);
}

/* test_audit_tamper - every kind of tampering is found */
static void
test_audit_tamper(void **state)
{
	static const struct {
		const char *sql;
		int64_t bad_id;
		const char *error;
	} rows[] = {
		/* edited rows */
		{ "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET detail = 'id=2 qid=4X' WHERE id = 3",
		  3, "audit row 3 does not verify" },
		{ "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET at = at - 3600 WHERE id = 2",
		  2, "does not verify" },
		{ "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET detail = '' WHERE id = 2",
		  2, "does not verify" },
		{ "DROP TRIGGER audit_no_update;"
		  "UPDATE audit SET case_ref = NULL WHERE id = 5",
		  5, "does not verify" },
		/* inserted rows: a replay, a forged link, a gap filled */
		{ "INSERT INTO audit SELECT 6, at, actor, action, case_ref,"
		  " detail, prev_hash, hash FROM audit WHERE id = 5",
		  6, "does not follow row 5" },
		{ "INSERT INTO audit SELECT 6, at, actor, action, case_ref,"
		  " 'forged', hash, randomblob(32) FROM audit WHERE id = 5",
		  6, "audit row 6 does not verify" },
		{ "INSERT INTO audit VALUES (0, 1, 'x', 'y', NULL, NULL,"
		  " zeroblob(32), zeroblob(32))",
		  0, "audit row 0 does not verify" },
		/* deleted rows */
		{ "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE id = 3",
		  4, "audit row 4 does not follow row 2" },
		{ "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE id = 1",
		  2, "does not follow the start" },
		{ "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE id = 5",
		  0, "has 4 rows but 5 were written" },
		{ "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE id >= 3",
		  0, "rows removed from the end" },
		{ "DROP TRIGGER audit_no_delete; DELETE FROM audit",
		  0, "has 0 rows but 5" },
		/* truncation with the meta rows patched to match */
		{ "DROP TRIGGER audit_no_delete;"
		  "DELETE FROM audit WHERE id = 5;"
		  "UPDATE meta SET value = 4 WHERE key = 'audit_count';"
		  "UPDATE meta SET value = (SELECT hash FROM audit"
		  " WHERE id = 4) WHERE key = 'audit_head'",
		  0, "meta rows do not verify" },
		{ "DELETE FROM meta WHERE key = 'audit_meta_mac'",
		  0, "meta rows are missing" },
	};
	const char *error = NULL;
	int64_t n = 0, bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char name[32];
		struct cm_store *st;
		int ret;

		assert_true((size_t)snprintf(name, sizeof(name),
					     "tamper%zu.db", i) <
			    sizeof(name));
		st = audit_rows(name);
		ok(cm_store_exec_for_test(st, rows[i].sql, &error), error,
		   rows[i].sql);
		bad = -1;
		error = NULL;
		ret = cm_store_audit_verify(st, &n, &bad, &error);
		if (ret != CM_ERR || bad != rows[i].bad_id || error == NULL ||
		    strstr(error, rows[i].error) == NULL)
			fail_msg("row %zu: ret %d bad %lld error \"%s\"", i,
				 ret, (long long)bad, error ? error : "");
		cm_store_close(&st);
	}
}

/* test_audit_no_laundering - a legitimate append after tampering with
 * the meta rows does not make the chain verify again */
static void
test_audit_no_laundering(void **state)
{
	struct cm_store *st = audit_rows("launder.db");
	const char *error = NULL;
	int64_t n = 0, bad = 0;

	(void)state;
	ok(cm_store_exec_for_test(st,
				  "DROP TRIGGER audit_no_delete;"
				  "DELETE FROM audit WHERE id = 5;"
				  "UPDATE meta SET value = 4"
				  " WHERE key = 'audit_count';"
				  "UPDATE meta SET value = (SELECT hash FROM"
				  " audit WHERE id = 4)"
				  " WHERE key = 'audit_head'",
				  &error),
	   error, "tamper");
	begin(st);
	ok(cm_store_audit(st, "mda", "message.add", "HU-A", NULL, &error),
	   error, "audit");
	commit(st);
	assert_int_equal(cm_store_audit_verify(st, &n, &bad, &error), CM_ERR);
	has(error, "meta rows do not verify");
	cm_store_close(&st);
}

/* ---- many processes ---- */

#define WRITERS 20
#define PER_WRITER 5

/* writer - one child: open the shared file, write, exit 0 or 1 */
static int
writer(const char *path, int n, int go)
{
	struct cm_store *st = NULL;
	struct cm_message m;
	const char *error = NULL, *what = NULL;
	char email[64], ref[32], raw[64];
	int64_t oic = 0, case_id = 0, raw_id = 0, id = 0, ref_id = 0;
	int i, ret = 1;
	char c;

	if (read(go, &c, 1) < 0)
		return 1;
	(void)snprintf(email, sizeof(email), "w%d@police.example", n);
	(void)snprintf(ref, sizeof(ref), "HU-W%d", n);
	if (cm_store_open(path, secret, 30000, CM_STORE_CREATE, &st,
			  &error) != 0)
		goto out;
	if (cm_store_begin(st, &error) != 0 ||
	    cm_store_officer_add(st, email, "W", NULL, &oic, &error) != 0 ||
	    cm_store_case_add(st, ref, NULL, oic, &case_id, &error) != 0 ||
	    cm_store_audit(st, "test", "case.add", ref, NULL, &error) != 0 ||
	    cm_store_commit(st, &error) != 0)
		goto out;
	for (i = 0; i < PER_WRITER; i++) {
		(void)snprintf(raw, sizeof(raw), "message %d of %d", i, n);
		memset(&m, 0, sizeof(m));
		m.case_id = case_id;
		m.author = "officer";
		m.officer_id = oic;
		m.visibility = "internal";
		m.body = raw;
		m.source = "pipe";
		if (cm_store_begin(st, &error) != 0 ||
		    cm_store_raw_put(st, raw, strlen(raw), &raw_id, NULL,
				     &error) != 0 ||
		    (m.raw_id = raw_id, 0) ||
		    cm_store_message_add(st, &m, &id, &error) != 0 ||
		    cm_store_audit(st, "mda", "message.add", ref, NULL,
				   &error) != 0 ||
		    cm_store_commit(st, &error) != 0)
			goto out;
	}
	/* everybody delivers the same message: it is stored once */
	if (cm_store_begin(st, &error) != 0)
		goto out;
	i = cm_store_delivery_find(st, "same-qid", &what, &ref_id, &error);
	if (i == CM_ENOENT)
		i = cm_store_delivery_add(st, "same-qid", "message", n,
					  &error);
	if (i != 0 || cm_store_commit(st, &error) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "writer %d: %s\n", n, error ? error : "?");
	cm_store_close(&st);
	return ret;
}

/* test_many_writers - twenty processes create and fill one file */
static void
test_many_writers(void **state)
{
	char *path = path_in("many.db");
	struct cm_store *st = NULL;
	const char *error = NULL;
	pid_t pid[WRITERS];
	int64_t rows = 0, bad = 0;
	int p[2], i, status;

	(void)state;
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < WRITERS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(p[1]);
			_exit(writer(path, i, p[0]));
		}
	}
	close(p[0]);
	close(p[1]); /* go: every read returns 0 at once */
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("writer %d failed (status %d)", i, status);
	}
	ok(cm_store_open(path, secret, BUSY_MS, 0, &st, &error), error,
	   "open");
	assert_int_equal(qint(st, "SELECT count(*) FROM officers"), WRITERS);
	assert_int_equal(qint(st, "SELECT count(*) FROM messages"),
			 WRITERS * PER_WRITER);
	assert_int_equal(qint(st, "SELECT count(*) FROM raw_messages"),
			 WRITERS * PER_WRITER);
	assert_int_equal(qint(st, "SELECT count(*) FROM deliveries"), 1);
	ok(cm_store_audit_verify(st, &rows, &bad, &error), error, "verify");
	assert_int_equal(rows, WRITERS * (PER_WRITER + 1));
	cm_store_close(&st);
	free(path);
}

/* main - run every test (CMOCKA_TEST_ABORT etc. as usual) */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_fresh),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_open_newer),
		cmocka_unit_test(test_migrate_v1),
		cmocka_unit_test(test_migrate_v2),
		cmocka_unit_test(test_migrate_v3),
		cmocka_unit_test(test_officers),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_victims),
		cmocka_unit_test(test_thread_order),
		cmocka_unit_test(test_message_fields),
		cmocka_unit_test(test_raw_dedupe),
		cmocka_unit_test(test_deliveries),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_notices),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_imap_seen),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_audit_intact),
		cmocka_unit_test(test_audit_txn),
		cmocka_unit_test(test_audit_tamper),
		cmocka_unit_test(test_audit_no_laundering),
		cmocka_unit_test(test_many_writers),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
