/*
 * people.c - officers, cases and victims: adding, finding, listing and
 * changing them, and the victim's own settings
 *
 * SYNOPSIS
 *	cm_store_case_add(st, ref, title, oic_id, &case_id, &error);
 *	cm_store_victim_add(st, case_id, name, email, phone, NULL, true,
 *			    &victim_id, &error);
 *
 * DESCRIPTION
 *	Officers' and victims' addresses are stored lower case and case
 *	references upper case, so that lookups are case-blind. A get
 *	fills a struct that owns its strings (cm_officer_clear,
 *	cm_case_clear, cm_victim_clear free them); a list hands each row
 *	borrowed for its callback. Each writer changes only its own
 *	columns: the portal's settings, the enhanced-rights flag and the
 *	agreed update rhythm leave a bounce's score alone.
 *
 * DIAGNOSTICS
 *	A duplicate officer or case gives CM_ERR naming it; a case or
 *	victim for a missing officer or case gives CM_ERR saying which.
 *
 * SECURITY
 *	Names and addresses are personal data: bound, never logged.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

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
