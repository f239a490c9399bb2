/*
 * rest.c - the store's entities not yet in files of their own:
 * officers, cases, victims, the thread, notices, tokens and sessions,
 * quarantine, what IMAP has seen, milestones, statistics and metrics
 *
 * SYNOPSIS
 *	See cm_store.h.
 *
 * DESCRIPTION
 *	Each function keeps its SQL beside it and runs it through the
 *	helpers of store_int.h.
 *
 * DIAGNOSTICS
 *	As cm_store.h says for each function.
 *
 * SECURITY
 *	Every value is bound; token and session values are stored only as
 *	keyed hashes.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- people ---- */

/* the columns rows are read with, in the order the code below
 * reads them */
#define OFFICER_COLS "id, email, name, collar, active, created_at"
#define CASE_COLS "id, ref, title, oic_id, status, created_at, closed_at"
#define VICTIM_COLS                                                     \
	"id, case_id, name, email, phone, channel, opted_in, registered," \
	" email_status, bounce_score, discreet, created_at"

/* ---- officers ---- */

/* cm_officer_clear - free the strings of o and zero it */
void
cm_officer_clear(struct cm_officer *o)
{
	free(o->email);
	free(o->name);
	free(o->collar);
	memset(o, 0, sizeof(*o));
}

/* officer_fill - o from a row; strings moved out when own */
static void
officer_fill(struct cell *c, struct cm_officer *o, bool own)
{
	o->id = c[0].i;
	o->email = own ? store_take(&c[1]) : c[1].s;
	o->name = own ? store_take(&c[2]) : c[2].s;
	o->collar = own ? store_take(&c[3]) : c[3].s;
	o->active = c[4].i != 0;
	o->created_at = c[5].i;
}

/* cm_store_officer_add - a new officer (email lower-cased, unique) */
int
cm_store_officer_add(struct cm_store *st, const char *email,
		     const char *name, const char *collar, int64_t *id_r,
		     const char **error_r)
{
	static const char sql[] =
		"INSERT INTO officers (email, name, collar,"
		" active, created_at) VALUES (?1, ?2, ?3, 1, ?4)";
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret;

	store_need_txn(st);
	if (email == NULL || *email == '\0' || name == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "officer add: email and name are required");
		goto out;
	}
	lower = store_lower_dup(email);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, lower);
	store_bind_text(st, s, 2, name);
	store_bind_text(st, s, 3, collar);
	store_bind_int(st, s, 4, cm_now());
	ret = store_insert(st, s, "officer add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "officer %s already exists", lower);
out:
	store_done(s);
	free(lower);
	return ret;
}

/* officer_get - run a prepared officer query into *o_r */
static int
officer_get(struct cm_store *st, sqlite3_stmt *s, const char *what,
	    struct cm_officer *o_r, const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = store_fetch(st, s, what, &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "%s", what);
		goto out;
	}
	officer_fill(store_row(&r, 0), o_r, true);
	ret = 0;
out:
	store_rows_free(&r);
	return ret;
}

/* cm_store_officer_get - by email, case-blind */
int
cm_store_officer_get(struct cm_store *st, const char *email,
		     struct cm_officer *o_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " OFFICER_COLS " FROM officers"
		" WHERE email = ?1";
	sqlite3_stmt *s = NULL;
	char *lower = store_lower_dup(email ? email : "");
	int ret;

	memset(o_r, 0, sizeof(*o_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, lower);
	ret = officer_get(st, s, "no such officer", o_r, error_r);
out:
	store_done(s);
	free(lower);
	return ret;
}

/* cm_store_officer_get_id - by row id */
int
cm_store_officer_get_id(struct cm_store *st, int64_t id,
			struct cm_officer *o_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " OFFICER_COLS " FROM officers"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(o_r, 0, sizeof(*o_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	ret = officer_get(st, s, "no such officer", o_r, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_officer_set_active - enable or disable an officer */
int
cm_store_officer_set_active(struct cm_store *st, const char *email,
			    bool active, const char **error_r)
{
	static const char sql[] =
		"UPDATE officers SET active = ?2"
		" WHERE email = ?1";
	sqlite3_stmt *s = NULL;
	char *lower = store_lower_dup(email ? email : "");
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, lower);
	store_bind_int(st, s, 2, active ? 1 : 0);
	ret = store_run_changed(st, s, "officer set active", error_r);
out:
	store_done(s);
	free(lower);
	return ret;
}

/* cm_store_officer_list - every officer by id */
int
cm_store_officer_list(struct cm_store *st,
		      int (*fn)(const struct cm_officer *o, void *ctx),
		      void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " OFFICER_COLS " FROM officers"
		" ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_officer o;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "officer list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		officer_fill(store_row(&r, i), &o, false);
		if (fn(&o, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- cases ---- */

/* cm_case_clear - free the strings of c and zero it */
void
cm_case_clear(struct cm_case *c)
{
	free(c->ref);
	free(c->title);
	free(c->status);
	memset(c, 0, sizeof(*c));
}

/* case_fill - c from a row; strings moved out when own */
static void
case_fill(struct cell *r, struct cm_case *c, bool own)
{
	c->id = r[0].i;
	c->ref = own ? store_take(&r[1]) : r[1].s;
	c->title = own ? store_take(&r[2]) : r[2].s;
	c->oic_id = r[3].i;
	c->status = own ? store_take(&r[4]) : r[4].s;
	c->created_at = r[5].i;
	c->closed_at = r[6].i;
}

/* cm_store_case_add - a new open case (ref upper-cased, unique) */
int
cm_store_case_add(struct cm_store *st, const char *ref, const char *title,
		  int64_t oic_id, int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO cases (ref, title, oic_id, status,"
		" created_at, closed_at)"
		" VALUES (?1, ?2, ?3, 'open', ?4, 0)";
	sqlite3_stmt *s = NULL;
	char *upper = NULL;
	int ret, rc;

	store_need_txn(st);
	if (ref == NULL || *ref == '\0') {
		ret = store_error(st, error_r, CM_ERR,
				  "case add: a reference is required");
		goto out;
	}
	upper = cm_str_upper(cm_xstrdup(ref));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, upper);
	store_bind_text(st, s, 2, title);
	store_bind_id(st, s, 3, oic_id);
	store_bind_int(st, s, 4, cm_now());
	rc = store_step(st, s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		ret = store_error(st, error_r, CM_ERR,
				  "case %s already exists", upper);
		goto out;
	}
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		ret = store_error(st, error_r, CM_ERR,
				  "case add: no officer with id %lld",
				  (long long)oic_id);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "case add", error_r);
		goto out;
	}
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	ret = 0;
out:
	store_done(s);
	free(upper);
	return ret;
}

/* case_get - run a prepared case query into *c_r */
static int
case_get(struct cm_store *st, sqlite3_stmt *s, struct cm_case *c_r,
	 const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = store_fetch(st, s, "case get", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such case");
		goto out;
	}
	case_fill(store_row(&r, 0), c_r, true);
	ret = 0;
out:
	store_rows_free(&r);
	return ret;
}

/* cm_store_case_get - by reference (upper-cased) */
int
cm_store_case_get(struct cm_store *st, const char *ref,
		  struct cm_case *c_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " CASE_COLS " FROM cases WHERE ref = ?1";
	sqlite3_stmt *s = NULL;
	char *upper = cm_str_upper(cm_xstrdup(ref ? ref : ""));
	int ret;

	memset(c_r, 0, sizeof(*c_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, upper);
	ret = case_get(st, s, c_r, error_r);
out:
	store_done(s);
	free(upper);
	return ret;
}

/* cm_store_case_get_id - by row id */
int
cm_store_case_get_id(struct cm_store *st, int64_t id, struct cm_case *c_r,
		     const char **error_r)
{
	static const char sql[] =
		"SELECT " CASE_COLS " FROM cases WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(c_r, 0, sizeof(*c_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	ret = case_get(st, s, c_r, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_case_set_status - open or close a case */
int
cm_store_case_set_status(struct cm_store *st, int64_t case_id,
			 const char *status, const char **error_r)
{
	static const char sql[] =
		"UPDATE cases SET status = ?2, closed_at ="
		" CASE WHEN ?2 = 'closed' THEN ?3 ELSE 0 END"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_text(st, s, 2, status);
	store_bind_int(st, s, 3, cm_now());
	ret = store_run_changed(st, s, "case set status", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_case_list - every case by id */
int
cm_store_case_list(struct cm_store *st,
		   int (*fn)(const struct cm_case *c, void *ctx), void *ctx,
		   const char **error_r)
{
	static const char sql[] =
		"SELECT " CASE_COLS " FROM cases ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_case c;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "case list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		case_fill(store_row(&r, i), &c, false);
		if (fn(&c, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- victims ---- */

/* cm_victim_clear - free the strings of v and zero it */
void
cm_victim_clear(struct cm_victim *v)
{
	free(v->name);
	free(v->email);
	free(v->phone);
	free(v->channel);
	free(v->email_status);
	memset(v, 0, sizeof(*v));
}

/* victim_fill - v from a row; strings moved out when own */
static void
victim_fill(struct cell *c, struct cm_victim *v, bool own)
{
	v->id = c[0].i;
	v->case_id = c[1].i;
	v->name = own ? store_take(&c[2]) : c[2].s;
	v->email = own ? store_take(&c[3]) : c[3].s;
	v->phone = own ? store_take(&c[4]) : c[4].s;
	v->channel = own ? store_take(&c[5]) : c[5].s;
	v->opted_in = c[6].i != 0;
	v->registered = c[7].i != 0;
	v->email_status = own ? store_take(&c[8]) : c[8].s;
	v->bounce_score = (long)c[9].i;
	v->discreet = c[10].i != 0;
	v->created_at = c[11].i;
}

/* cm_store_victim_add - a victim of a case (email lower-cased) */
int
cm_store_victim_add(struct cm_store *st, int64_t case_id, const char *name,
		    const char *email, const char *phone,
		    const char *channel, bool opted_in, int64_t *id_r,
		    const char **error_r)
{
	static const char sql[] =
		"INSERT INTO victims (case_id, name, email, phone,"
		" channel, opted_in, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret, rc;

	store_need_txn(st);
	if (name == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "victim add: a name is required");
		goto out;
	}
	if (email != NULL && *email == '\0')
		email = NULL;
	if (phone != NULL && *phone == '\0')
		phone = NULL;
	if (channel == NULL)
		channel = email ? "email" : phone ? "sms" : "none";
	lower = store_lower_dup(email);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_text(st, s, 2, name);
	store_bind_text(st, s, 3, lower);
	store_bind_text(st, s, 4, phone);
	store_bind_text(st, s, 5, channel);
	store_bind_int(st, s, 6, opted_in ? 1 : 0);
	store_bind_int(st, s, 7, cm_now());
	rc = store_step(st, s);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		ret = store_error(st, error_r, CM_ERR,
				  "victim add: no case with id %lld",
				  (long long)case_id);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "victim add", error_r);
		goto out;
	}
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	ret = 0;
out:
	store_done(s);
	free(lower);
	return ret;
}

/* victim_get - run a prepared victim query into *v_r */
static int
victim_get(struct cm_store *st, sqlite3_stmt *s, struct cm_victim *v_r,
	   const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = store_fetch(st, s, "victim get", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such victim");
		goto out;
	}
	victim_fill(store_row(&r, 0), v_r, true);
	ret = 0;
out:
	store_rows_free(&r);
	return ret;
}

/* cm_store_victim_get - by row id */
int
cm_store_victim_get(struct cm_store *st, int64_t id, struct cm_victim *v_r,
		    const char **error_r)
{
	static const char sql[] =
		"SELECT " VICTIM_COLS " FROM victims WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(v_r, 0, sizeof(*v_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	ret = victim_get(st, s, v_r, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_victim_list - the victims of a case by id */
int
cm_store_victim_list(struct cm_store *st, int64_t case_id,
		     int (*fn)(const struct cm_victim *v, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " VICTIM_COLS " FROM victims"
		" WHERE case_id = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_victim v;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	if ((ret = store_fetch(st, s, "victim list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		victim_fill(store_row(&r, i), &v, false);
		if (fn(&v, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_victim_find_email - a victim of the case with this address */
int
cm_store_victim_find_email(struct cm_store *st, int64_t case_id,
			   const char *email, struct cm_victim *v_r,
			   const char **error_r)
{
	static const char sql[] =
		"SELECT " VICTIM_COLS " FROM victims"
		" WHERE case_id = ?1 AND email = ?2"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *s = NULL;
	char *lower = store_lower_dup(email ? email : "");
	int ret;

	memset(v_r, 0, sizeof(*v_r));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_text(st, s, 2, lower);
	ret = victim_get(st, s, v_r, error_r);
out:
	store_done(s);
	free(lower);
	return ret;
}

/* cm_store_victim_bounce - score a hard bounce; undeliverable at limit */
int
cm_store_victim_bounce(struct cm_store *st, int64_t victim_id, long limit,
		       bool *undeliverable_r, const char **error_r)
{
	static const char sql_victim_bounce[] =
		"UPDATE victims SET bounce_score ="
		" bounce_score + 1 WHERE id = ?1"
		" RETURNING bounce_score, email_status";
	static const char sql_victim_undeliverable[] =
		"UPDATE victims SET email_status ="
		" 'undeliverable' WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cell *c;
	int ret;

	store_need_txn(st);
	if (undeliverable_r != NULL)
		*undeliverable_r = false;
	if ((ret = store_prep(st, sql_victim_bounce, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	if ((ret = store_fetch(st, s, "victim bounce", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	if (r.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such victim");
		goto out;
	}
	c = store_row(&r, 0);
	if (c[0].i < (limit < 1 ? 1 : limit) || c[1].s == NULL ||
	    strcmp(c[1].s, "ok") != 0)
		goto out;
	if ((ret = store_prep(st, sql_victim_undeliverable, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	if ((ret = store_run(st, s, "victim bounce", error_r)) < 0)
		goto out;
	if (undeliverable_r != NULL)
		*undeliverable_r = true;
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_victim_update - write the editable fields back */
int
cm_store_victim_update(struct cm_store *st, const struct cm_victim *v,
		       const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET name = ?2, email = ?3,"
		" phone = ?4, channel = ?5, opted_in = ?6,"
		" registered = ?7, email_status = ?8,"
		" bounce_score = ?9, discreet = ?10"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret;

	store_need_txn(st);
	lower = store_lower_dup(v->email && *v->email ? v->email : NULL);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, v->id);
	store_bind_text(st, s, 2, v->name);
	store_bind_text(st, s, 3, lower);
	store_bind_text(st, s, 4, v->phone && *v->phone ? v->phone : NULL);
	store_bind_text(st, s, 5, v->channel);
	store_bind_int(st, s, 6, v->opted_in ? 1 : 0);
	store_bind_int(st, s, 7, v->registered ? 1 : 0);
	store_bind_text(st, s, 8, v->email_status ? v->email_status : "ok");
	store_bind_int(st, s, 9, v->bounce_score);
	store_bind_int(st, s, 10, v->discreet ? 1 : 0);
	ret = store_run_changed(st, s, "victim update", error_r);
out:
	store_done(s);
	free(lower);
	return ret;
}

/*
 * cm_store_victim_set_prefs - write only the columns a portal form owns
 * (each NULL or -1 in p left as it is), so that what another process
 * wrote meanwhile (email_status and bounce_score from a bounce, an
 * address from the command line) survives the form
 */
int
cm_store_victim_set_prefs(struct cm_store *st, int64_t victim_id,
			  const struct cm_victim_prefs *p,
			  const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET name = coalesce(?2, name),"
		" channel = coalesce(?3, channel),"
		" opted_in = coalesce(?4, opted_in),"
		" discreet = coalesce(?5, discreet),"
		" registered = coalesce(?6, registered) WHERE id = ?1";
	const int flag[3] = { p->opted_in, p->discreet, p->registered };
	sqlite3_stmt *s = NULL;
	int ret, rc, i;

	store_need_txn(st);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		ret = store_fail(st, rc, "victim preferences", error_r);
		goto out;
	}
	store_bind_int(st, s, 1, victim_id);
	store_bind_text(st, s, 2, p->name);
	store_bind_text(st, s, 3, p->channel);
	for (i = 0; i < 3; i++) {
		if (flag[i] < 0)
			store_note_bind(st, sqlite3_bind_null(s, 4 + i));
		else
			store_bind_int(st, s, 4 + i, flag[i] != 0);
	}
	ret = store_run_changed(st, s, "victim preferences", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_victim_set_enhanced - set or clear enhanced rights */
int
cm_store_victim_set_enhanced(struct cm_store *st, int64_t victim_id,
			     bool enhanced, const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET enhanced = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "victim enhanced", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	store_bind_int(st, s, 2, enhanced ? 1 : 0);
	ret = store_run_changed(st, s, "victim enhanced", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_victim_set_rhythm - the update rhythm agreed with a victim */
int
cm_store_victim_set_rhythm(struct cm_store *st, int64_t victim_id,
			   const char *rhythm, const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET update_rhythm = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "victim rhythm", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	store_bind_text(st, s, 2, rhythm);
	ret = store_run_changed(st, s, "victim rhythm", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_victim_rhythm - the update rhythm of a victim into buf */
int
cm_store_victim_rhythm(struct cm_store *st, int64_t victim_id, char *buf,
		       size_t size, const char **error_r)
{
	static const char sql[] =
		"SELECT update_rhythm FROM victims WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	if ((ret = store_prep_once(st, sql, "victim rhythm", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	rc = store_step(st, s);
	if (rc == SQLITE_DONE) {
		ret = store_error(st, error_r, CM_ENOENT, "no victim %lld",
				  (long long)victim_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "victim rhythm", error_r);
		goto out;
	}
	cm_strlcpy(buf, (const char *)sqlite3_column_text(s, 0), size);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- thread ---- */

/* the columns rows are read with, in the order the code below
 * reads them */
#define MSG_COLS                                                        \
	"id, case_id, at, author, victim_id, officer_id, visibility,"   \
	" status, kind, body, body_full, quoted, subject, sender,"      \
	" message_id, in_reply_to, source, raw_id, placement"
#define ATT_COLS "message_id, filename, content_type, size, sha256"

/* ---- raw messages ---- */

/* cm_store_raw_put - keep raw bytes once per SHA-256 */
int
cm_store_raw_put(struct cm_store *st, const void *data, size_t len,
		 int64_t *raw_id_r, char *sha_hex_r, const char **error_r)
{
	char hex[65];

	cm_token_sha256_hex(data, len, hex);
	if (sha_hex_r != NULL)
		memcpy(sha_hex_r, hex, sizeof(hex));
	return cm_store_raw_put_sha(st, data, len, hex, raw_id_r, error_r);
}

/* cm_store_raw_put_sha - keep raw bytes whose SHA-256 the caller has */
int
cm_store_raw_put_sha(struct cm_store *st, const void *data, size_t len,
		     const char *sha_hex, int64_t *raw_id_r,
		     const char **error_r)
{
	static const char sql_raw_add[] =
		"INSERT OR IGNORE INTO raw_messages (sha256, size,"
		" data, at) VALUES (?1, ?2, ?3, ?4)";
	static const char sql_raw_id[] =
		"SELECT id FROM raw_messages WHERE sha256 = ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	store_need_txn(st);
	if ((ret = store_prep(st, sql_raw_add, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, sha_hex);
	store_bind_int(st, s, 2, (int64_t)len);
	store_bind_blob(st, s, 3, data, len);
	store_bind_int(st, s, 4, cm_now());
	if ((ret = store_run(st, s, "raw message", error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	if ((ret = store_prep(st, sql_raw_id, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, sha_hex);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
				 "raw message", error_r);
		goto out;
	}
	if (raw_id_r != NULL)
		*raw_id_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_raw_get - a copy of the raw bytes (NUL-terminated) */
int
cm_store_raw_get(struct cm_store *st, int64_t raw_id, char **data_r,
		 size_t *len_r, const char **error_r)
{
	static const char sql[] =
		"SELECT data FROM raw_messages WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	const void *p;
	size_t n;
	int ret, rc;

	*data_r = NULL;
	*len_r = 0;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, raw_id);
	rc = store_step(st, s);
	if (rc == SQLITE_DONE) {
		ret = store_error(st, error_r, CM_ENOENT,
				  "no raw message %lld", (long long)raw_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "raw message", error_r);
		goto out;
	}
	p = sqlite3_column_blob(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	*data_r = cm_xmalloc(n + 1); /* UNSAFE: n < 2^31 */
	if (n > 0 && p != NULL)
		memcpy(*data_r, p, n);
	(*data_r)[n] = '\0';
	*len_r = n;
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* ---- messages ---- */

/* message_fill - m from a row (strings borrowed from the row) */
static void
message_fill(const struct cell *c, struct cm_message *m)
{
	m->id = c[0].i;
	m->case_id = c[1].i;
	m->at = c[2].i;
	m->author = c[3].s;
	m->victim_id = c[4].i;
	m->officer_id = c[5].i;
	m->visibility = c[6].s;
	m->status = c[7].s;
	m->kind = c[8].s;
	m->body = c[9].s;
	m->body_full = c[10].s;
	m->quoted = c[11].s;
	m->subject = c[12].s;
	m->sender = c[13].s;
	m->message_id = c[14].s;
	m->in_reply_to = c[15].s;
	m->source = c[16].s;
	m->raw_id = c[17].i;
	m->placement = c[18].s;
}

/* cm_store_message_add - append a message to a thread */
int
cm_store_message_add(struct cm_store *st, const struct cm_message *m,
		     int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO messages (case_id, at, author, victim_id,"
		" officer_id, visibility, status, kind, body,"
		" body_full, quoted, subject, sender, message_id,"
		" in_reply_to, source, raw_id, placement) VALUES (?1,"
		" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16, ?17, ?18)";
	sqlite3_stmt *s = NULL;
	const char *body = m->body ? m->body : "";
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, m->case_id);
	store_bind_int(st, s, 2, m->at ? m->at : cm_now());
	store_bind_text(st, s, 3, m->author);
	store_bind_id(st, s, 4, m->victim_id);
	store_bind_id(st, s, 5, m->officer_id);
	store_bind_text(st, s, 6, m->visibility);
	store_bind_text(st, s, 7, m->status ? m->status : "posted");
	store_bind_text(st, s, 8, m->kind ? m->kind : "message");
	store_bind_text(st, s, 9, body);
	store_bind_text(st, s, 10, m->body_full ? m->body_full : body);
	store_bind_text(st, s, 11, m->quoted);
	store_bind_text(st, s, 12, m->subject);
	store_bind_text(st, s, 13, m->sender);
	store_bind_text(st, s, 14, m->message_id);
	store_bind_text(st, s, 15, m->in_reply_to);
	store_bind_text(st, s, 16, m->source);
	store_bind_id(st, s, 17, m->raw_id);
	store_bind_text(st, s, 18, m->placement);
	if ((ret = store_run(st, s, "message add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_message_get - one message, strings in the store's scratch */
int
cm_store_message_get(struct cm_store *st, int64_t id,
		     struct cm_message *m_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(m_r, 0, sizeof(*m_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	if ((ret = store_fetch(st, s, "message get", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no message %lld",
				  (long long)id);
		goto out;
	}
	message_fill(store_row(&st->scratch, 0), m_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_message_set_status - posted, held or rejected */
int
cm_store_message_set_status(struct cm_store *st, int64_t id,
			    const char *status, const char **error_r)
{
	static const char sql[] =
		"UPDATE messages SET status = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	ret = store_run_changed(st, s, "message set status", error_r);
out:
	store_done(s);
	return ret;
}

/* message_list - run a prepared message query and call fn per row */
static int
message_list(struct cm_store *st, sqlite3_stmt *s,
	     int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
	     const char **error_r)
{
	struct rows r = { 0 };
	struct cm_message m;
	size_t i;
	int ret;

	ret = store_fetch(st, s, "thread", &r, error_r);
	store_done(s);
	if (ret < 0)
		goto out;
	for (i = 0; i < r.nrows; i++) {
		message_fill(store_row(&r, i), &m);
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	store_rows_free(&r);
	return ret;
}

/* cm_store_thread - the messages of a case, oldest first */
int
cm_store_thread(struct cm_store *st, int64_t case_id,
		int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
		const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE case_id = ?1"
		" ORDER BY at, id";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		return ret;
	store_bind_int(st, s, 1, case_id);
	return message_list(st, s, fn, ctx, error_r);
}

/* cm_store_held_list - held messages, oldest first */
int
cm_store_held_list(struct cm_store *st,
		   int (*fn)(const struct cm_message *m, void *ctx),
		   void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE status = 'held'"
		" ORDER BY at, id";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		return ret;
	return message_list(st, s, fn, ctx, error_r);
}

/* ---- attachments ---- */

/* cm_store_attachment_add - describe one attachment of a message */
int
cm_store_attachment_add(struct cm_store *st,
			const struct cm_attachment_row *a,
			const char **error_r)
{
	static const char sql[] =
		"INSERT INTO attachments (message_id, filename,"
		" content_type, size, sha256)"
		" VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, a->message_id);
	store_bind_text(st, s, 2, a->filename);
	store_bind_text(st, s, 3, a->content_type);
	store_bind_int(st, s, 4, a->size);
	store_bind_text(st, s, 5, a->sha256);
	ret = store_run(st, s, "attachment add", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_attachment_list - the attachments of a message */
int
cm_store_attachment_list(struct cm_store *st, int64_t message_id,
			 int (*fn)(const struct cm_attachment_row *a,
				   void *ctx),
			 void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " ATT_COLS " FROM attachments"
		" WHERE message_id = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_attachment_row a;
	struct cell *c;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, message_id);
	if ((ret = store_fetch(st, s, "attachment list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		c = store_row(&r, i);
		a.message_id = c[0].i;
		a.filename = c[1].s;
		a.content_type = c[2].s;
		a.size = c[3].i;
		a.sha256 = c[4].s;
		if (fn(&a, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- deliveries ---- */

/* cm_store_delivery_find - was this delivery key recorded */
int
cm_store_delivery_find(struct cm_store *st, const char *key,
		       const char **what_r, int64_t *ref_id_r,
		       const char **error_r)
{
	static const char sql[] =
		"SELECT what, ref_id FROM deliveries"
		" WHERE key = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, key);
	if ((ret = store_fetch(st, s, "delivery find", &st->scratch, error_r)) <
	    0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such delivery");
		goto out;
	}
	if (what_r != NULL)
		*what_r = store_row(&st->scratch, 0)[0].s;
	if (ref_id_r != NULL)
		*ref_id_r = store_row(&st->scratch, 0)[1].i;
out:
	store_done(s);
	return ret;
}

/* cm_store_delivery_add - record a delivery key (unique) */
int
cm_store_delivery_add(struct cm_store *st, const char *key,
		      const char *what, int64_t ref_id,
		      const char **error_r)
{
	static const char sql[] =
		"INSERT INTO deliveries (key, what, ref_id, at)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, key);
	store_bind_text(st, s, 2, what);
	store_bind_id(st, s, 3, ref_id);
	store_bind_int(st, s, 4, cm_now());
	ret = store_insert(st, s, "delivery add", NULL, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "delivery %s is already recorded", key);
out:
	store_done(s);
	return ret;
}

/* ---- notices ---- */

/* the columns rows are read with, in the order the code below
 * reads them */
#define NOTICE_COLS                                                     \
	"id, case_id, victim_id, officer_id, message_id, kind, channel," \
	" status, attempts, next_attempt_at, lease_until, last_error,"  \
	" sent_message_id, provider_id, created_at, updated_at"

/* notice_fill - n from a row (strings borrowed from the row) */
static void
notice_fill(const struct cell *c, struct cm_notice *n)
{
	n->id = c[0].i;
	n->case_id = c[1].i;
	n->victim_id = c[2].i;
	n->officer_id = c[3].i;
	n->message_id = c[4].i;
	n->kind = c[5].s;
	n->channel = c[6].s;
	n->status = c[7].s;
	n->attempts = (long)c[8].i;
	n->next_attempt_at = c[9].i;
	n->lease_until = c[10].i;
	n->last_error = c[11].s;
	n->sent_message_id = c[12].s;
	n->provider_id = c[13].s;
	n->created_at = c[14].i;
	n->updated_at = c[15].i;
}

/* notice_one - run a prepared notice query into the scratch and *n_r */
static int
notice_one(struct cm_store *st, sqlite3_stmt *s, const char *what,
	   struct cm_notice *n_r, const char **error_r)
{
	int ret;

	memset(n_r, 0, sizeof(*n_r));
	store_rows_free(&st->scratch);
	if ((ret = store_fetch(st, s, what, &st->scratch, error_r)) < 0)
		return ret;
	if (st->scratch.nrows == 0)
		return store_error(st, error_r, CM_ENOENT, "%s: no such notice",
				   what);
	notice_fill(store_row(&st->scratch, 0), n_r);
	return 0;
}

/* cm_store_notice_add - queue a notice, due now */
int
cm_store_notice_add(struct cm_store *st, const struct cm_notice *n,
		    int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO notices (case_id, victim_id,"
		" officer_id, message_id, kind, channel, status,"
		" attempts, next_attempt_at, lease_until,"
		" created_at, updated_at) VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, 'queued', 0, ?7, 0, ?7, ?7)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, n->case_id);
	store_bind_id(st, s, 2, n->victim_id);
	store_bind_id(st, s, 3, n->officer_id);
	store_bind_id(st, s, 4, n->message_id);
	store_bind_text(st, s, 5, n->kind);
	store_bind_text(st, s, 6, n->channel);
	store_bind_int(st, s, 7, cm_now());
	if ((ret = store_run(st, s, "notice add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_coalesce - point a waiting officer_notify at a newer
 * message; 0 when one was waiting, CM_ENOENT when none */
int
cm_store_notice_coalesce(struct cm_store *st, int64_t case_id,
			 int64_t officer_id, int64_t victim_id,
			 int64_t message_id, const char **error_r)
{
	/* an officer_notify still waiting for the same officer about the
	 * same victim of the case takes the newer message instead */
	static const char sql[] =
		"UPDATE notices SET message_id = ?4,"
		" updated_at = ?5 WHERE id = (SELECT n.id"
		" FROM notices n JOIN messages m"
		" ON m.id = n.message_id WHERE n.case_id = ?1"
		" AND n.officer_id = ?2"
		" AND n.kind = 'officer_notify'"
		" AND n.status IN ('queued', 'deferred')"
		" AND m.victim_id IS ?3 ORDER BY n.id LIMIT 1)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_int(st, s, 2, officer_id);
	store_bind_id(st, s, 3, victim_id);
	store_bind_int(st, s, 4, message_id);
	store_bind_int(st, s, 5, cm_now());
	ret = store_run_changed(st, s, "notice coalesce", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_get - one notice, strings in the store's scratch */
int
cm_store_notice_get(struct cm_store *st, int64_t id, struct cm_notice *n_r,
		    const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	ret = notice_one(st, s, "notice get", n_r, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_list - notices by id, all or of one status */
int
cm_store_notice_list(struct cm_store *st, const char *status,
		     int (*fn)(const struct cm_notice *n, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices"
		" WHERE ?1 IS NULL OR status = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_notice n;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, status);
	if ((ret = store_fetch(st, s, "notice list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		notice_fill(store_row(&r, i), &n);
		if (fn(&n, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_notice_set_status - status and last error */
int
cm_store_notice_set_status(struct cm_store *st, int64_t id,
			   const char *status, const char *last_error,
			   const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET status = ?2,"
		" last_error = ?3, updated_at = ?4"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	store_bind_text(st, s, 3, last_error);
	store_bind_int(st, s, 4, cm_now());
	ret = store_run_changed(st, s, "notice set status", error_r);
out:
	store_done(s);
	return ret;
}

/* strip_brackets - copy of a Message-ID without <>; caller frees */
static char *
strip_brackets(const char *id)
{
	size_t n;

	if (id == NULL)
		return NULL;
	n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		return cm_xstrndup(id + 1, n - 2);
	return cm_xstrdup(id);
}

/* cm_store_notice_set_msgid - the Message-ID it was sent with */
int
cm_store_notice_set_msgid(struct cm_store *st, int64_t id,
			  const char *message_id, const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET sent_message_id = ?2,"
		" updated_at = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id);
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, bare);
	store_bind_int(st, s, 3, cm_now());
	ret = store_run_changed(st, s, "notice set message-id", error_r);
out:
	store_done(s);
	free(bare);
	return ret;
}

/* cm_store_notice_find_msgid - the notice sent with this Message-ID */
int
cm_store_notice_find_msgid(struct cm_store *st, const char *message_id,
			   struct cm_notice *n_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices"
		" WHERE sent_message_id = ?1"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id ? message_id : "");
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, bare);
	ret = notice_one(st, s, "notice find", n_r, error_r);
out:
	store_done(s);
	free(bare);
	return ret;
}

/* ---- the sender's claim on the queue ---- */

/* due_order - qsort: rows by next_attempt_at, then id */
static int
due_order(const void *a, const void *b)
{
	const struct cell *x = *(const struct cell *const *)a;
	const struct cell *y = *(const struct cell *const *)b;

	if (x[9].i != y[9].i)
		return x[9].i < y[9].i ? -1 : 1;
	if (x[0].i != y[0].i)
		return x[0].i < y[0].i ? -1 : 1;
	return 0;
}

/* cm_store_notice_claim_many - lease up to max due notices for sending,
 * handed to fn oldest due first */
int
cm_store_notice_claim_many(struct cm_store *st, int64_t now,
			   long lease_seconds, long max,
			   int (*fn)(const struct cm_notice *n, void *ctx),
			   void *ctx, const char **error_r)
{
	/* up to ?3 notices: three index-ordered probes (status,
	 * next_attempt_at) of ?3 rows each instead of sorting every due
	 * row; one statement for a whole batch, because the "sending"
	 * probe walks every notice being sent (RETURNING has no order:
	 * the caller sorts) */
	static const char sql[] =
		"UPDATE notices SET status = 'sending',"
		" lease_until = ?1 + ?2, attempts = attempts + 1,"
		" updated_at = ?1 WHERE id IN (SELECT id FROM ("
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'queued' AND"
		" next_attempt_at <= ?1 ORDER BY next_attempt_at,"
		" id LIMIT ?3) UNION ALL"
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'deferred' AND"
		" next_attempt_at <= ?1 ORDER BY next_attempt_at,"
		" id LIMIT ?3) UNION ALL"
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'sending' AND"
		" lease_until <= ?1 ORDER BY next_attempt_at, id"
		" LIMIT ?3)) ORDER BY t, id LIMIT ?3)"
		" RETURNING " NOTICE_COLS;
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	const struct cell **order = NULL;
	struct cm_notice n;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, now);
	store_bind_int(st, s, 2, lease_seconds);
	store_bind_int(st, s, 3, max);
	if ((ret = store_fetch(st, s, "notice claim", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	order = cm_xcalloc(r.nrows + 1, sizeof(*order));
	for (size_t i = 0; i < r.nrows; i++)
		order[i] = store_row(&r, i);
	qsort(order, r.nrows, sizeof(*order), due_order);
	for (size_t i = 0; i < r.nrows; i++) {
		notice_fill(order[i], &n);
		if ((ret = fn(&n, ctx)) != 0)
			break;
	}
out:
	free(order);
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_notice_defer - try again later */
int
cm_store_notice_defer(struct cm_store *st, int64_t id,
		      int64_t next_attempt_at, const char *last_error,
		      const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET status = 'deferred',"
		" next_attempt_at = ?2, last_error = ?3,"
		" lease_until = 0, updated_at = ?4"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, next_attempt_at);
	store_bind_text(st, s, 3, last_error);
	store_bind_int(st, s, 4, cm_now());
	ret = store_run_changed(st, s, "notice defer", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_set_provider - the SMS gateway's id for it */
int
cm_store_notice_set_provider(struct cm_store *st, int64_t id,
			     const char *provider_id, const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET provider_id = ?2,"
		" updated_at = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, provider_id);
	store_bind_int(st, s, 3, cm_now());
	ret = store_run_changed(st, s, "notice set provider", error_r);
out:
	store_done(s);
	return ret;
}

/* ---- the supervisor's digest ---- */

/* cm_store_notice_add_digest - queue the supervisor's digest */
int
cm_store_notice_add_digest(struct cm_store *st, int64_t *id_r,
			   const char **error_r)
{
	static const char sql[] =
		"INSERT INTO notices (kind, channel, status, attempts,"
		" next_attempt_at, lease_until, created_at, updated_at)"
		" VALUES ('milestone_digest', 'email', 'queued', 0, ?1, 0,"
		" ?1, ?1)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "digest add", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, cm_now());
	ret = store_insert(st, s, "digest add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR, "digest add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_notice_digest_since - was a digest queued since then */
int
cm_store_notice_digest_since(struct cm_store *st, int64_t since,
			     bool *found_r, const char **error_r)
{
	static const char sql[] =
		"SELECT count(*) FROM notices WHERE kind = 'milestone_digest'"
		" AND created_at >= ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*found_r = false;
	if ((ret = store_prep_once(st, sql, "digest find", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, since);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "digest find", error_r);
		goto out;
	}
	*found_r = sqlite3_column_int64(s, 0) > 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- tokens ---- */

/* the columns rows are read with, in the order the code below
 * reads them */
#define TOKEN_COLS                                                      \
	"id, kind, notice_id, victim_id, case_id, created_at, expires_at," \
	" used_at"
#define SESSION_COLS                                                    \
	"id, victim_id, case_id, token_id, created_at, seen_at,"        \
	" expires_at, ended_at"

/* ---- login tokens ---- */

/* cm_store_token_add - keep the hash of a new token */
int
cm_store_token_add(struct cm_store *st, const unsigned char *hash,
		   const struct cm_token_row *t, int64_t *id_r,
		   const char **error_r)
{
	static const char sql[] =
		"INSERT INTO tokens (hash, kind, notice_id,"
		" victim_id, case_id, created_at, expires_at,"
		" used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" NULL)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	store_bind_text(st, s, 2, t->kind);
	store_bind_id(st, s, 3, t->notice_id);
	store_bind_int(st, s, 4, t->victim_id);
	store_bind_int(st, s, 5, t->case_id);
	store_bind_int(st, s, 6, t->created_at ? t->created_at : cm_now());
	store_bind_int(st, s, 7, t->expires_at);
	ret = store_insert(st, s, "token add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "token add: the token exists already");
out:
	store_done(s);
	return ret;
}

/* cm_store_token_find - a token row by hash */
int
cm_store_token_find(struct cm_store *st, const unsigned char *hash,
		    struct cm_token_row *t_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1";
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(t_r, 0, sizeof(*t_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = store_fetch(st, s, "token find", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such token");
		goto out;
	}
	c = store_row(&st->scratch, 0);
	t_r->id = c[0].i;
	t_r->kind = c[1].s;
	t_r->notice_id = c[2].i;
	t_r->victim_id = c[3].i;
	t_r->case_id = c[4].i;
	t_r->created_at = c[5].i;
	t_r->expires_at = c[6].i;
	t_r->used_at = c[7].i;
out:
	store_done(s);
	return ret;
}

/* cm_store_token_use - mark used unless it already was (single use) */
int
cm_store_token_use(struct cm_store *st, int64_t id, int64_t now,
		   const char **error_r)
{
	static const char sql[] =
		"UPDATE tokens SET used_at = ?2"
		" WHERE id = ?1 AND used_at IS NULL";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, now ? now : cm_now());
	ret = store_run(st, s, "token use", error_r);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = store_error(st, error_r, CM_ENOENT,
				  "token was used already");
out:
	store_done(s);
	return ret;
}

/* ---- portal sessions ---- */

/* cm_store_session_add - a new session row under its hash */
int
cm_store_session_add(struct cm_store *st, const unsigned char *hash,
		     const struct cm_session *ss, int64_t *id_r,
		     const char **error_r)
{
	static const char sql[] =
		"INSERT INTO sessions (hash, victim_id, case_id,"
		" token_id, created_at, seen_at, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	store_bind_int(st, s, 2, ss->victim_id);
	store_bind_int(st, s, 3, ss->case_id);
	store_bind_id(st, s, 4, ss->token_id);
	store_bind_int(st, s, 5, ss->created_at ? ss->created_at : cm_now());
	store_bind_int(st, s, 6, ss->expires_at);
	ret = store_insert(st, s, "session add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "session add: the session exists already");
out:
	store_done(s);
	return ret;
}

/* cm_store_session_find - a session row by hash */
int
cm_store_session_find(struct cm_store *st, const unsigned char *hash,
		      struct cm_session *s_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " SESSION_COLS " FROM sessions"
		" WHERE hash = ?1";
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(s_r, 0, sizeof(*s_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = store_fetch(st, s, "session find", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such session");
		goto out;
	}
	c = store_row(&st->scratch, 0);
	s_r->id = c[0].i;
	s_r->victim_id = c[1].i;
	s_r->case_id = c[2].i;
	s_r->token_id = c[3].i;
	s_r->created_at = c[4].i;
	s_r->seen_at = c[5].i;
	s_r->expires_at = c[6].i;
	s_r->ended_at = c[7].i;
out:
	store_done(s);
	return ret;
}

/* session_set - touch or end session id at now (sql says which) */
static int
session_set(struct cm_store *st, const char *sql, int64_t id,
	    int64_t now, const char *what, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, now ? now : cm_now());
	ret = store_run_changed(st, s, what, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_session_touch - record activity on a live session */
int
cm_store_session_touch(struct cm_store *st, int64_t id, int64_t now,
		       const char **error_r)
{
	static const char sql[] =
		"UPDATE sessions SET seen_at = ?2"
		" WHERE id = ?1 AND ended_at IS NULL";

	return session_set(st, sql, id, now, "session touch", error_r);
}

/* cm_store_session_end - end a live session (log out) */
int
cm_store_session_end(struct cm_store *st, int64_t id, int64_t now,
		     const char **error_r)
{
	static const char sql[] =
		"UPDATE sessions SET ended_at = ?2"
		" WHERE id = ?1 AND ended_at IS NULL";

	return session_set(st, sql, id, now, "session end", error_r);
}

/* ---- quarantine ---- */

/* the columns rows are read with, in the order the code below
 * reads them */
#define QUAR_COLS                                                       \
	"id, at, reason, sender, recipient, queue_id, message_id, subject," \
	" status, case_id, released_as, raw_id, size"

/* quar_fill - q from a row (strings borrowed from the row) */
static void
quar_fill(const struct cell *c, struct cm_quarantine *q)
{
	q->id = c[0].i;
	q->at = c[1].i;
	q->reason = c[2].s;
	q->sender = c[3].s;
	q->recipient = c[4].s;
	q->queue_id = c[5].s;
	q->message_id = c[6].s;
	q->subject = c[7].s;
	q->status = c[8].s;
	q->case_id = c[9].i;
	q->released_as = c[10].s;
	q->raw_id = c[11].i;
	q->size = c[12].i;
}

/* cm_store_quarantine_add - hold a message that found no place */
int
cm_store_quarantine_add(struct cm_store *st, const struct cm_quarantine *q,
			int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO quarantine (at, reason, sender,"
		" recipient, queue_id, message_id, subject, status,"
		" raw_id, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" 'held', ?8, coalesce((SELECT size FROM"
		" raw_messages WHERE id = ?8), 0))";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, cm_now());
	store_bind_text(st, s, 2, q->reason ? q->reason : "unknown");
	store_bind_text(st, s, 3, q->sender);
	store_bind_text(st, s, 4, q->recipient);
	store_bind_text(st, s, 5, q->queue_id);
	store_bind_text(st, s, 6, q->message_id);
	store_bind_text(st, s, 7, q->subject);
	store_bind_id(st, s, 8, q->raw_id);
	if ((ret = store_run(st, s, "quarantine add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_quarantine_get - one entry, strings in the store's scratch */
int
cm_store_quarantine_get(struct cm_store *st, int64_t id,
			struct cm_quarantine *q_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " QUAR_COLS " FROM quarantine WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(q_r, 0, sizeof(*q_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	if ((ret = store_fetch(st, s, "quarantine get", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT,
				  "no quarantine entry %lld", (long long)id);
		goto out;
	}
	quar_fill(store_row(&st->scratch, 0), q_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_quarantine_list - entries by id, all or of one status */
int
cm_store_quarantine_list(struct cm_store *st, const char *status,
			 int (*fn)(const struct cm_quarantine *q, void *ctx),
			 void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " QUAR_COLS " FROM quarantine"
		" WHERE ?1 IS NULL OR status = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_quarantine q;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, status);
	if ((ret = store_fetch(st, s, "quarantine list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		quar_fill(store_row(&r, i), &q);
		if (fn(&q, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_quarantine_set - status, and case and role when released */
int
cm_store_quarantine_set(struct cm_store *st, int64_t id,
			const char *status, int64_t case_id,
			const char *released_as, const char **error_r)
{
	static const char sql[] =
		"UPDATE quarantine SET status = ?2, case_id = ?3,"
		" released_as = ?4 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	store_bind_id(st, s, 3, case_id);
	store_bind_text(st, s, 4, released_as);
	ret = store_run_changed(st, s, "quarantine set", error_r);
out:
	store_done(s);
	return ret;
}

/* ---- imap_seen ---- */

/* cm_store_imap_seen_find - was this IMAP message stored */
int
cm_store_imap_seen_find(struct cm_store *st, const char *mailbox,
			int64_t uidvalidity, int64_t uid,
			const char **what_r, int64_t *ref_id_r,
			const char **error_r)
{
	static const char sql[] =
		"SELECT what, ref_id FROM imap_seen"
		" WHERE mailbox = ?1 AND uidvalidity = ?2"
		" AND uid = ?3";
	sqlite3_stmt *s = NULL;
	int ret;

	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	store_bind_int(st, s, 3, uid);
	if ((ret = store_fetch(st, s, "imap seen", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "not seen");
		goto out;
	}
	if (what_r != NULL)
		*what_r = store_row(&st->scratch, 0)[0].s;
	if (ref_id_r != NULL)
		*ref_id_r = store_row(&st->scratch, 0)[1].i;
out:
	store_done(s);
	return ret;
}

/* cm_store_imap_seen_add - record an IMAP message as stored */
int
cm_store_imap_seen_add(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t uid, const char *what,
		       int64_t ref_id, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO imap_seen (mailbox, uidvalidity, uid,"
		" what, ref_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	store_bind_int(st, s, 3, uid);
	store_bind_text(st, s, 4, what);
	store_bind_id(st, s, 5, ref_id);
	store_bind_int(st, s, 6, cm_now());
	rc = store_step(st, s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		ret = store_error(st, error_r, CM_ERR,
				  "imap %s %lld/%lld is already recorded",
				  mailbox, (long long)uidvalidity,
				  (long long)uid);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "imap seen add", error_r);
		goto out;
	}
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_imap_last_uid - the highest uid seen under uidvalidity */
int
cm_store_imap_last_uid(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t *uid_r,
		       const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(uid), 0) FROM imap_seen"
		" WHERE mailbox = ?1 AND uidvalidity = ?2";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*uid_r = 0;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "imap last uid", error_r);
		goto out;
	}
	*uid_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* ---- milestones ---- */

/* ---- milestones ---- */

/* cm_store_milestone_add - record a milestone */
int
cm_store_milestone_add(struct cm_store *st, const struct cm_milestone *m,
		       int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO milestones (case_id, victim_id, kind, at,"
		" officer_id, enhanced, deadline, status, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "milestone add", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, m->case_id);
	store_bind_id(st, s, 2, m->victim_id);
	store_bind_text(st, s, 3, m->kind);
	store_bind_int(st, s, 4, m->at);
	store_bind_id(st, s, 5, m->officer_id);
	store_bind_int(st, s, 6, m->enhanced ? 1 : 0);
	store_bind_int(st, s, 7, m->deadline);
	store_bind_int(st, s, 8, cm_now());
	ret = store_insert(st, s, "milestone add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR, "milestone add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_list - milestones of a case or of every case */
int
cm_store_milestone_list(struct cm_store *st, int64_t case_id, bool open_only,
			int (*fn)(const struct cm_milestone *m, void *ctx),
			void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT m.id, m.case_id, c.ref, c.oic_id, m.victim_id,"
		" m.kind, m.at, m.officer_id, m.enhanced, m.deadline,"
		" m.met_at, m.met_message_id, m.status, m.warned_at,"
		" m.alerted_at, m.created_at FROM milestones m"
		" JOIN cases c ON c.id = m.case_id"
		" WHERE (?1 IS NULL OR m.case_id = ?1)"
		" AND (?2 = 0 OR m.status IN ('pending', 'overdue'))"
		" ORDER BY m.case_id, m.at, m.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "milestone list", &s, error_r)) < 0)
		goto out;
	store_bind_id(st, s, 1, case_id);
	store_bind_int(st, s, 2, open_only ? 1 : 0);
	if ((ret = store_fetch(st, s, "milestone list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.met_message_id = c[11].i;
		m.status = c[12].s;
		m.warned_at = c[13].i;
		m.alerted_at = c[14].i;
		m.created_at = c[15].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* the update that meets milestone "milestones" (correlated): sent to
 * its victim, or for a milestone of every victim a message to all */
#define MET_BY                                                          \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND g.case_id = milestones.case_id AND g.author = 'officer'"  \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message' AND g.at >= milestones.at"             \
	" AND ((milestones.victim_id IS NULL AND g.victim_id IS NULL)"  \
	" OR (n.victim_id = milestones.victim_id"                       \
	" AND (g.victim_id IS NULL"                                     \
	" OR g.victim_id = milestones.victim_id)))"

/* the status a milestone has at ?1 */
#define MS_STATUS                                                       \
	"CASE WHEN met_at IS NOT NULL AND met_at <= deadline THEN 'met'" \
	" WHEN met_at IS NOT NULL THEN 'late'"                          \
	" WHEN ?1 > deadline THEN 'overdue' ELSE 'pending' END"

/* cm_store_milestone_refresh - find the updates that met milestones and
 * set every open milestone's status as of now */
int
cm_store_milestone_refresh(struct cm_store *st, int64_t now,
			   int64_t *changed_r, const char **error_r)
{
	static const char met[] =
		"UPDATE milestones SET met_at = (SELECT min(n.updated_at)"
		MET_BY "), met_message_id = (SELECT g.id" MET_BY
		" ORDER BY n.updated_at, g.id LIMIT 1) WHERE met_at IS NULL";
	static const char status[] =
		"UPDATE milestones SET status = " MS_STATUS
		" WHERE status IN ('pending', 'overdue')"
		" AND status <> " MS_STATUS;
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, met, "milestone refresh", &s,
				   error_r)) < 0)
		goto out;
	if ((ret = store_run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	if ((ret = store_prep_once(st, status, "milestone refresh", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, now);
	if ((ret = store_run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	if (changed_r != NULL)
		*changed_r = sqlite3_changes(st->db);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_mark - the officer was warned, or alerted */
int
cm_store_milestone_mark(struct cm_store *st, int64_t id, bool alerted,
			int64_t at, const char **error_r)
{
	static const char warned_sql[] =
		"UPDATE milestones SET warned_at = ?2 WHERE id = ?1";
	static const char alerted_sql[] =
		"UPDATE milestones SET alerted_at = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, alerted ? alerted_sql : warned_sql,
				   "milestone mark", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, at);
	ret = store_run_changed(st, s, "milestone mark", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_enhanced - enhanced rights of a victim, or of any
 * victim of the case */
int
cm_store_milestone_enhanced(struct cm_store *st, int64_t case_id,
			    int64_t victim_id, bool *enhanced_r,
			    const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(enhanced), 0) FROM victims"
		" WHERE case_id = ?1 AND (?2 IS NULL OR id = ?2)";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*enhanced_r = false;
	if ((ret = store_prep_once(st, sql, "enhanced rights", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_id(st, s, 2, victim_id);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "enhanced rights", error_r);
		goto out;
	}
	*enhanced_r = sqlite3_column_int64(s, 0) != 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- the compliance report ---- */

/*
 * cm_store_milestone_report - milestones whose deadline lies in
 * [lo, hi], each with the time its meeting update was sent as far as
 * the notices tell now (met_at as stored, else found the way the
 * refresh finds it), so that the report needs no write transaction
 */
int
cm_store_milestone_report(struct cm_store *st, int64_t lo, int64_t hi,
			  int (*fn)(const struct cm_milestone *m, void *ctx),
			  void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT milestones.id, milestones.case_id, c.ref, c.oic_id,"
		" milestones.victim_id, milestones.kind, milestones.at,"
		" milestones.officer_id, milestones.enhanced,"
		" milestones.deadline, coalesce(milestones.met_at,"
		" (SELECT min(n.updated_at)" MET_BY ")),"
		" milestones.status, milestones.created_at"
		" FROM milestones JOIN cases c ON c.id = milestones.case_id"
		" WHERE milestones.deadline BETWEEN ?1 AND ?2"
		" ORDER BY milestones.deadline, milestones.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "milestone report", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, lo);
	store_bind_int(st, s, 2, hi);
	if ((ret = store_fetch(st, s, "milestone report", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.status = c[11].s;
		m.created_at = c[12].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* ---- the update rhythm agreed with the victim ---- */

/* an update sent to victim ?1: an officer's posted, victim-visible
 * message addressed to them or to all, its notice to them sent */
#define RHYTHM_SENT                                                     \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND n.victim_id = v.id AND g.author = 'officer'"              \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message'"                                       \
	" AND (g.victim_id IS NULL OR g.victim_id = v.id)"

/* cm_store_rhythm_list - the victims who agreed a rhythm of updates */
int
cm_store_rhythm_list(struct cm_store *st,
		     int (*fn)(const struct cm_rhythm_row *r, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT v.id, v.case_id, c.ref, c.oic_id, c.status,"
		" v.update_rhythm, v.created_at,"
		" (SELECT max(n.updated_at)" RHYTHM_SENT "),"
		" (SELECT max(e.at) FROM messages e WHERE e.case_id = v.case_id"
		"  AND e.victim_id = v.id AND e.author = 'system'"
		"  AND e.kind = 'event' AND e.body LIKE 'Update rhythm:%')"
		" FROM victims v JOIN cases c ON c.id = v.case_id"
		" WHERE v.update_rhythm <> 'milestones' ORDER BY v.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_rhythm_row row;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "rhythm list", &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "rhythm list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&row, 0, sizeof(row));
		row.victim_id = c[0].i;
		row.case_id = c[1].i;
		row.case_ref = c[2].s;
		row.oic_id = c[3].i;
		row.case_open = c[4].s != NULL && strcmp(c[4].s, "open") == 0;
		row.rhythm = c[5].s;
		row.since = c[6].i;
		row.last_sent = c[7].i;
		row.last_reminder = c[8].i;
		if (fn(&row, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_rhythm_sent - when updates were sent to a victim */
int
cm_store_rhythm_sent(struct cm_store *st, int64_t victim_id, int64_t lo,
		     int64_t hi, int (*fn)(int64_t at, void *ctx), void *ctx,
		     const char **error_r)
{
	static const char sql[] =
		"SELECT n.updated_at FROM victims v JOIN notices n"
		" ON n.victim_id = v.id JOIN messages g ON g.id = n.message_id"
		" WHERE v.id = ?1 AND n.kind = 'update' AND n.status = 'sent'"
		" AND g.author = 'officer' AND g.visibility = 'victim'"
		" AND g.status = 'posted' AND g.kind = 'message'"
		" AND (g.victim_id IS NULL OR g.victim_id = v.id)"
		" AND n.updated_at BETWEEN ?2 AND ?3 ORDER BY n.updated_at";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "rhythm sent", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	store_bind_int(st, s, 2, lo);
	store_bind_int(st, s, 3, hi);
	if ((ret = store_fetch(st, s, "rhythm sent", &r, error_r)) < 0)
		goto out;
	for (i = 0; i < r.nrows; i++)
		if (fn(store_row(&r, i)[0].i, ctx) != 0)
			break;
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* ---- stats ---- */

/* ---- the counts of casemail stats ---- */

/* the names cm_store_stats reports, in its statement's column order */
static const char *const stat_names[] = {
	"cases",
	"cases_open",
	"officers",
	"victims",
	"messages",
	"messages_held",
	"notices_queued",
	"notices_sending",
	"notices_sent",
	"notices_deferred",
	"notices_failed",
	"notices_suppressed",
	"quarantine_held",
	"raw_bytes",
	"audit_rows",
};

/* cm_store_stats - counts from one consistent read */
int
cm_store_stats(struct cm_store *st,
	       int (*fn)(const char *name, int64_t value, void *ctx),
	       void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT"
		" (SELECT count(*) FROM cases),"
		" (SELECT count(*) FROM cases WHERE status = 'open'),"
		" (SELECT count(*) FROM officers),"
		" (SELECT count(*) FROM victims),"
		" (SELECT count(*) FROM messages),"
		" (SELECT count(*) FROM messages WHERE status = 'held'),"
		" (SELECT count(*) FROM notices WHERE status = 'queued'),"
		" (SELECT count(*) FROM notices WHERE status = 'sending'),"
		" (SELECT count(*) FROM notices WHERE status = 'sent'),"
		" (SELECT count(*) FROM notices"
		"  WHERE status = 'deferred'),"
		" (SELECT count(*) FROM notices WHERE status = 'failed'),"
		" (SELECT count(*) FROM notices"
		"  WHERE status = 'suppressed'),"
		" (SELECT count(*) FROM quarantine WHERE status = 'held'),"
		" (SELECT coalesce(sum(size), 0) FROM raw_messages),"
		" (SELECT count(*) FROM audit)";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "stats", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	if (r.nrows != 1 || r.ncols != CM_ARRAY_SIZE(stat_names)) {
		ret = store_error(st, error_r, CM_ERR, "stats: bad result");
		goto out;
	}
	for (i = 0; i < r.ncols; i++)
		if (fn(stat_names[i], store_row(&r, 0)[i].i, ctx) != 0)
			break;
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- the metrics ---- */

/*
 * The metric queries: each row is (label a, label b, value), a label
 * NULL when the metric has fewer. ?1 is the time "now".
 */
static const struct {
	const char *key;
	const char *sql;
} metric_sql[] = {
	{ "notices", "SELECT status, channel, count(*) FROM notices"
		     " GROUP BY status, channel" },
	{ "notice_oldest_due_age",
	  "SELECT NULL, NULL, coalesce(max(0, ?1 - min(next_attempt_at)), 0)"
	  " FROM notices WHERE status IN ('queued', 'deferred')"
	  " AND next_attempt_at <= ?1" },
	{ "deliveries", "SELECT what, NULL, count(*) FROM deliveries"
			" GROUP BY what" },
	{ "messages", "SELECT status, author, count(*) FROM messages"
		      " WHERE kind = 'message' GROUP BY status, author" },
	{ "quarantine", "SELECT status, NULL, count(*) FROM quarantine"
			" GROUP BY status" },
	{ "bounces", "SELECT NULL, NULL, count(*) FROM messages"
		     " WHERE kind = 'bounce'" },
	{ "addresses_undeliverable",
	  "SELECT NULL, NULL, count(*) FROM victims"
	  " WHERE email_status = 'undeliverable'" },
	{ "login_links_issued", "SELECT NULL, NULL, count(*) FROM tokens"
				" WHERE kind = 'login'" },
	{ "login_links_redeemed",
	  "SELECT NULL, NULL, count(*) FROM tokens"
	  " WHERE kind = 'login' AND used_at IS NOT NULL" },
	{ "milestones_overdue",
	  "SELECT NULL, NULL, count(*) FROM milestones"
	  " WHERE status IN ('pending', 'overdue') AND deadline < ?1" },
};

/* cm_store_metrics - every metric query in one read transaction */
int
cm_store_metrics(struct cm_store *st, int64_t now,
		 int (*fn)(const char *key, const char *a, const char *b,
			   int64_t value, void *ctx),
		 void *ctx, const char **error_r)
{
	static const char has_milestones[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name = 'milestones'";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	bool began = false, milestones = false;
	int ret, rc;

	if (sqlite3_get_autocommit(st->db)) {
		rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			ret = store_fail(st, rc, "metrics", error_r);
			goto out;
		}
		began = true;
	}
	if ((ret = store_prep_once(st, has_milestones, "metrics", &s,
				   error_r)) < 0 ||
	    (ret = store_fetch(st, s, "metrics", &r, error_r)) < 0)
		goto out;
	milestones = r.nrows == 1 && store_row(&r, 0)[0].i > 0;
	sqlite3_finalize(s);
	s = NULL;
	store_rows_free(&r);
	for (size_t q = 0; q < CM_ARRAY_SIZE(metric_sql); q++) {
		if (strcmp(metric_sql[q].key, "milestones_overdue") == 0 &&
		    !milestones)
			continue;
		if ((ret = store_prep_once(st, metric_sql[q].sql, "metrics", &s,
					   error_r)) < 0)
			goto out;
		if (sqlite3_bind_parameter_count(s) > 0)
			store_bind_int(st, s, 1, now);
		if ((ret = store_fetch(st, s, "metrics", &r, error_r)) < 0)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
		for (size_t i = 0; i < r.nrows; i++) {
			const struct cell *c = store_row(&r, i);

			if (fn(metric_sql[q].key, c[0].s, c[1].s, c[2].i,
			       ctx) != 0) {
				ret = store_error(st, error_r, CM_ERR,
						  "metrics: stopped");
				goto out;
			}
		}
		store_rows_free(&r);
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	if (began)
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}
