/*
 * test_work.c - unit tests for lib/work.c (casework)
 *
 * DESCRIPTION
 *	On a real SQLite store in a scratch directory: which notices an
 *	officer's update queues for each kind of victim (a table of
 *	channel, email, phone and address status against the notices
 *	expected), what a victim's message, an internal note and an event
 *	queue, and what hard bounces do to an address (scored, then
 *	undeliverable, the officer told, SMS taking over).
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"
#include "cm_work.h"

static char tmpdir[] = "/tmp/cm-test-work-XXXXXX";
static struct cm_secret *secret;
static struct cm_config cfg;
static int dbn;

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* group_setup - sodium, a scratch directory, a secret */
static int
group_setup(void **state)
{
	const char *err = NULL;
	char *path;

	(void)state;
	if (cm_token_init() != 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	path = cm_xasprintf("%s/secret", tmpdir);
	if (cm_secret_create(path, &err) == 0)
		secret = cm_secret_load(path, NULL, &err);
	free(path);
	cfg.bounce_limit = 2;
	return secret != NULL ? 0 : -1;
}

/* group_teardown - remove the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	cm_secret_free(&secret);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* fresh - a new store with one officer and case; w filled in */
static void
fresh(struct cm_work *w, int64_t *case_id_r, int64_t *oic_r)
{
	const char *err = NULL;
	char *path = cm_xasprintf("%s/w%d.db", tmpdir, ++dbn);
	struct cm_store *st = NULL;

	if (cm_store_open(path, secret, 2000, CM_STORE_CREATE, &st, &err) < 0)
		fail_msg("open: %s", err);
	free(path);
	assert_int_equal(cm_store_begin(st, &err), 0);
	assert_int_equal(cm_store_officer_add(st, "oic@police.example",
					      "PC One", NULL, oic_r, &err),
			 0);
	assert_int_equal(cm_store_case_add(st, "HU-1", NULL, *oic_r,
					   case_id_r, &err),
			 0);
	assert_int_equal(cm_store_commit(st, &err), 0);
	w->cfg = &cfg;
	w->secret = secret;
	w->store = st;
	w->actor = "test";
}

/* count_cb - count notices matching ctx's kind and channel */
struct want {
	const char *kind;
	const char *channel;
	int64_t victim_id;
	int n;
};
static int
count_cb(const struct cm_notice *n, void *ctx)
{
	struct want *wt = ctx;

	if ((wt->kind == NULL || strcmp(n->kind, wt->kind) == 0) &&
	    (wt->channel == NULL || strcmp(n->channel, wt->channel) == 0) &&
	    (wt->victim_id == 0 || n->victim_id == wt->victim_id))
		wt->n++;
	return 0;
}

/* count - notices of kind/channel (NULL: any) in status "queued" */
static int
count(struct cm_store *st, const char *kind, const char *channel,
      int64_t victim_id)
{
	struct want wt = { kind, channel, victim_id, 0 };
	const char *err = NULL;

	assert_int_equal(cm_store_notice_list(st, "queued", count_cb, &wt,
					      &err),
			 0);
	return wt.n;
}

/* post_update - an officer's update in its own transaction */
static int64_t
post(struct cm_work *w, int64_t case_id, const char *author,
     int64_t victim_id, int64_t officer_id, const char *visibility,
     const char *status, const char *kind, int *notices_r)
{
	struct cm_post p;
	const char *err = NULL;
	int64_t id = 0;

	memset(&p, 0, sizeof(p));
	p.case_id = case_id;
	p.author = author;
	p.victim_id = victim_id;
	p.officer_id = officer_id;
	p.visibility = visibility;
	p.status = status;
	p.kind = kind;
	p.body = "text";
	p.source = "cli";
	assert_int_equal(cm_store_begin(w->store, &err), 0);
	if (cm_work_post(w, &p, &id, notices_r, &err) < 0)
		fail_msg("post: %s", err);
	assert_int_equal(cm_store_commit(w->store, &err), 0);
	return id;
}

/* test_update_channels - notices per victim for an officer's update */
static void
test_update_channels(void **state)
{
	static const struct {
		const char *email;
		const char *phone;
		const char *channel;
		bool opted_in;
		bool undeliverable;
		int email_notices;
		int sms_notices;
	} rows[] = {
		{ "v@example.net", NULL, "email", true, false, 1, 0 },
		{ "v@example.net", "+447700900123", "both", true, false, 1, 1 },
		{ NULL, "+447700900123", "sms", false, false, 0, 1 },
		{ "v@example.net", "+447700900123", "none", true, false, 0, 0 },
		/* opted out of email: no email notice */
		{ "v@example.net", NULL, "email", false, false, 0, 0 },
		/* undeliverable address: SMS takes over when there is one */
		{ "v@example.net", "+447700900123", "email", true, true, 0, 1 },
		{ "v@example.net", NULL, "email", true, true, 0, 0 },
		{ "v@example.net", "+447700900123", "both", true, true, 0, 1 },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		struct cm_work w;
		struct cm_victim v = { 0 };
		const char *err = NULL;
		int64_t case_id, oic, vid;
		int n = -1, e, s;

		fresh(&w, &case_id, &oic);
		assert_int_equal(cm_store_begin(w.store, &err), 0);
		assert_int_equal(cm_store_victim_add(w.store, case_id, "V",
						     rows[i].email,
						     rows[i].phone,
						     rows[i].channel,
						     rows[i].opted_in, &vid,
						     &err),
				 0);
		if (rows[i].undeliverable) {
			assert_int_equal(cm_store_victim_get(w.store, vid, &v,
							     &err),
					 0);
			free(v.email_status);
			v.email_status = cm_xstrdup("undeliverable");
			assert_int_equal(cm_store_victim_update(w.store, &v,
								&err),
					 0);
			cm_victim_clear(&v);
		}
		assert_int_equal(cm_store_commit(w.store, &err), 0);
		post(&w, case_id, "officer", 0, oic, "victim", "posted",
		     "message", &n);
		e = count(w.store, "update", "email", vid);
		s = count(w.store, "update", "sms", vid);
		if (e != rows[i].email_notices || s != rows[i].sms_notices ||
		    n != e + s)
			fail_msg("row %zu: email %d sms %d (reported %d)", i, e,
				 s, n);
		cm_store_close(&w.store);
	}
}

/* test_what_queues - victim messages, notes and events */
static void
test_what_queues(void **state)
{
	struct cm_work w;
	const char *err = NULL;
	int64_t case_id, oic, vid;
	int n;

	(void)state;
	fresh(&w, &case_id, &oic);
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_store_victim_add(w.store, case_id, "V",
					     "v@example.net", NULL, "email",
					     true, &vid, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);

	/* an internal note queues nothing */
	post(&w, case_id, "officer", 0, oic, "internal", "posted", "message",
	     &n);
	assert_int_equal(n, 0);
	assert_int_equal(count(w.store, NULL, NULL, 0), 0);
	/* a victim's message, posted or held, tells the officer; while
	 * that notification waits, the next message of the same victim
	 * joins it instead of queuing another */
	post(&w, case_id, "victim", vid, 0, "victim", "posted", "message", &n);
	assert_int_equal(n, 1);
	post(&w, case_id, "victim", vid, 0, "victim", "held", "message", &n);
	assert_int_equal(n, 0);
	assert_int_equal(count(w.store, "officer_notify", "email", 0), 1);
	/* auto-replies and events are recorded, nothing queued */
	post(&w, case_id, "system", 0, 0, "internal", "posted", "auto_reply",
	     &n);
	assert_int_equal(n, 0);
	post(&w, case_id, "officer", 0, oic, "victim", "posted", "event", &n);
	assert_int_equal(n, 0);
	assert_int_equal(count(w.store, NULL, NULL, 0), 1);
	cm_store_close(&w.store);
}

/* first_notify - store callback: the id of the first officer_notify
 * about a message from r[2] on, and the message it points at */
static int
first_notify(const struct cm_notice *n, void *ctx)
{
	int64_t *r = ctx;

	if (r[0] == 0 && strcmp(n->kind, "officer_notify") == 0 &&
	    n->message_id >= r[2]) {
		r[0] = n->id;
		r[1] = n->message_id;
	}
	return 0;
}

/* test_conversations - an officer's message reaches the victim it is
 * addressed to (or every victim), notifications are one per victim */
static void
test_conversations(void **state)
{
	struct cm_work w;
	const char *err = NULL;
	int64_t case_id, oic, va, vb, m1, m2, nt[3] = { 0, 0, 0 };
	int n;

	(void)state;
	fresh(&w, &case_id, &oic);
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_store_victim_add(w.store, case_id, "A",
					     "a@example.net", NULL, "email",
					     true, &va, &err),
			 0);
	assert_int_equal(cm_store_victim_add(w.store, case_id, "B",
					     "b@example.net", NULL, "email",
					     true, &vb, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	/* addressed to A: only A is told */
	post(&w, case_id, "officer", va, oic, "victim", "posted", "message",
	     &n);
	assert_int_equal(n, 1);
	assert_int_equal(count(w.store, "update", "email", va), 1);
	assert_int_equal(count(w.store, "update", "email", vb), 0);
	/* addressed to all: both */
	post(&w, case_id, "officer", 0, oic, "victim", "posted", "message",
	     &n);
	assert_int_equal(n, 2);
	assert_int_equal(count(w.store, "update", "email", vb), 1);
	/* a held officer message tells no victim until approved; the
	 * officer in charge is told it waits (it may be a forgery) */
	post(&w, case_id, "officer", vb, oic, "victim", "held", "message",
	     &n);
	assert_int_equal(n, 1);
	assert_int_equal(count(w.store, "update", "email", vb), 1);
	assert_int_equal(count(w.store, "officer_notify", "email", 0), 1);
	/* one notification per victim: A twice joins, B gets its own,
	 * and the waiting one points at A's newest message */
	m1 = post(&w, case_id, "victim", va, 0, "victim", "posted", "message",
		  &n);
	assert_int_equal(n, 1);
	m2 = post(&w, case_id, "victim", va, 0, "victim", "posted", "message",
		  &n);
	assert_int_equal(n, 0);
	/* B's message does not join the notification about the held
	 * officer message addressed to B */
	post(&w, case_id, "victim", vb, 0, "victim", "posted", "message", &n);
	assert_int_equal(n, 1);
	assert_int_equal(count(w.store, "officer_notify", "email", 0), 3);
	nt[2] = m1;
	assert_int_equal(cm_store_notice_list(w.store, "queued", first_notify,
					      nt, &err),
			 0);
	assert_true(m2 > m1);
	assert_int_equal(nt[1], m2);
	/* once it has gone, the next message queues a new one */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_store_notice_set_status(w.store, nt[0], "sent",
						    NULL, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	post(&w, case_id, "victim", va, 0, "victim", "posted", "message", &n);
	assert_int_equal(n, 1);
	cm_store_close(&w.store);
}

/* set_sent - mark notice id sent, as casemail-send does */
static void
set_sent(struct cm_work *w, int64_t id)
{
	const char *err = NULL;

	assert_int_equal(cm_store_begin(w->store, &err), 0);
	assert_int_equal(cm_store_notice_set_status(w->store, id, "sent", NULL,
						    &err),
			 0);
	assert_int_equal(cm_store_commit(w->store, &err), 0);
}

/* test_bounce - scored, then undeliverable, officer told, SMS */
static void
test_bounce(void **state)
{
	struct cm_work w;
	struct cm_victim v = { 0 };
	struct cm_notice nt;
	const char *err = NULL;
	int64_t case_id, oic, vid, first, second;
	bool dead = true;
	const char *why = NULL;
	const char *const other[] = { "someone@else.example" };
	const char *const named[] = { "rfc822; <V@Example.net>" };
	int n;

	(void)state;
	fresh(&w, &case_id, &oic);
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_store_victim_add(w.store, case_id, "V",
					     "v@example.net", "+447700900123",
					     "email", true, &vid, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	post(&w, case_id, "officer", 0, oic, "victim", "posted", "message", &n);
	post(&w, case_id, "officer", 0, oic, "victim", "posted", "message", &n);
	assert_int_equal(count(w.store, "update", "email", vid), 2);
	first = 1;
	second = 2;

	/* a report for a notice not yet sent does not count */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_work_bounce(&w, first, "550 no such user", NULL, 0,
					&dead, &why, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	assert_false(dead);
	assert_non_null(strstr(why, "not counted"));
	set_sent(&w, first);
	set_sent(&w, second);
	/* nor one naming another recipient */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_work_bounce(&w, first, "550 no such user", other,
					1, &dead, &why, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	assert_non_null(strstr(why, "another recipient"));
	assert_int_equal(cm_store_victim_get(w.store, vid, &v, &err), 0);
	assert_int_equal(v.bounce_score, 0);
	cm_victim_clear(&v);

	/* first hard bounce: the notice fails, the address is scored */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_work_bounce(&w, first, "550 no such user", named,
					1, &dead, &why, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	assert_false(dead);
	assert_string_equal(why, "notice failed");
	/* the same report replayed (new Message-IDs, same notice) counts
	 * no more */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(cm_store_begin(w.store, &err), 0);
		assert_int_equal(cm_work_bounce(&w, first, "550 no such user",
						NULL, 0, &dead, &why, &err),
				 0);
		assert_int_equal(cm_store_commit(w.store, &err), 0);
		assert_false(dead);
	}
	assert_int_equal(cm_store_notice_get(w.store, first, &nt, &err), 0);
	assert_string_equal(nt.status, "failed");
	assert_string_equal(nt.last_error, "550 no such user");
	assert_int_equal(cm_store_victim_get(w.store, vid, &v, &err), 0);
	assert_int_equal(v.bounce_score, 1);
	assert_string_equal(v.email_status, "ok");
	cm_victim_clear(&v);
	assert_int_equal(count(w.store, "bounce_alert", NULL, 0), 0);

	/* second (bounce_limit 2): undeliverable, officer told, SMS */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_work_bounce(&w, second, "550 no such user", NULL,
					0, &dead, &why, &err),
			 0);
	assert_int_equal(cm_store_commit(w.store, &err), 0);
	assert_true(dead);
	assert_int_equal(cm_store_victim_get(w.store, vid, &v, &err), 0);
	assert_string_equal(v.email_status, "undeliverable");
	cm_victim_clear(&v);
	assert_int_equal(count(w.store, "bounce_alert", "email", 0), 1);
	assert_int_equal(count(w.store, "update", "sms", vid), 1);

	/* the next update goes by SMS only */
	post(&w, case_id, "officer", 0, oic, "victim", "posted", "message", &n);
	assert_int_equal(n, 1);
	assert_int_equal(count(w.store, "update", "sms", vid), 2);

	/* audit rows for all of it, and the chain intact */
	{
		int64_t rows = 0, bad = 0;

		assert_int_equal(cm_store_audit_verify(w.store, &rows, &bad,
						       &err),
				 0);
		assert_true(rows >= 8);
	}
	/* a notice that does not exist */
	assert_int_equal(cm_store_begin(w.store, &err), 0);
	assert_int_equal(cm_work_bounce(&w, 999, "x", NULL, 0, NULL, NULL,
					&err),
			 CM_ENOENT);
	cm_store_rollback(w.store);
	cm_store_close(&w.store);
}

/* main - run the tests (one by name: test_work NAME) */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_channels),
		cmocka_unit_test(test_what_queues),
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_bounce),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
