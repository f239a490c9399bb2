/*
 * routes.c - casemail-web: what each address of the portal does
 *
 * SYNOPSIS
 *	GET  /                    sign-in help (or to /case when signed in)
 *	GET  /l/TOKEN             the sign-in page; the token is not used
 *	POST /l/TOKEN             redeem the token once: a new session
 *	POST /fresh               send a fresh link to the address on file
 *	GET  /register            first visit: confirm name, channels
 *	POST /register
 *	GET  /case                the case: reference, status, officer,
 *	                          the milestones reached in plain words,
 *	                          messages oldest first, a form
 *	POST /case/message        write to the officer
 *	GET  /settings            channels, email, discreet notices,
 *	                          how often an update (the rhythm)
 *	POST /settings
 *	POST /logout
 *	GET  /unsubscribe/KEY     a page with a button
 *	POST /unsubscribe/KEY     RFC 8058 one-click: no more email
 *	GET  /static/casemail.css
 *
 * DESCRIPTION
 *	Mail scanners fetch links before people do, so GET and HEAD never
 *	change anything but the audit log; only a POST from our own form
 *	(CSRF token bound to the pre-session cookie) redeems a login
 *	token, through cm_login_redeem, the same code as "casemail token
 *	redeem". A link that is expired, used or unknown gets one and the
 *	same page offering a fresh link, and asking for one gets one and
 *	the same answer whether or not an address exists.
 *
 *	A session sees only its own victim and case: no address names a
 *	case, so there is nothing to change in a URL. A message posted
 *	here enters the thread through cm_work_post exactly as an emailed
 *	reply does (author victim, posted, the officer notified), with
 *	source "web".
 *
 *	Limits: portal_rate_ip requests a minute per client address,
 *	portal_rate_token tries (POSTs) of one link an hour, never views,
 *	since mail scanners fetch links and must not lock them,
 *	portal_rate_fresh fresh links per victim a day (counters in
 *	memory), WEB_POST_LIMIT messages per victim in any
 *	WEB_POST_WINDOW seconds (counted in the thread itself, since each
 *	one notifies the officer), portal_max_body bytes of body,
 *	portal_max_message bytes of message, WEB_MAX_FIELDS fields.
 *
 *	A discreet victim's pages, like their notices, name discreet_name
 *	instead of the force and use plain words: messages, not the case
 *	and the officer. Pages reached with a link (sign-in, expired link,
 *	fresh link, unsubscribe) are discreet when the link's victim is.
 *
 * DIAGNOSTICS
 *	Store trouble: 503 with Retry-After (busy, locked) or 500, logged
 *	once. Refusals (CSRF, expired session, too many messages) are
 *	audited as "web.refused" with fixed fields first: the reason and
 *	the route (route_name: never the path as sent, which is attacker
 *	text), then the client address.
 *
 * SECURITY
 *	Every form carries a CSRF token; a POST whose Origin header is not
 *	portal_url's origin is refused. RFC 8058 one-click unsubscribe is
 *	the exception by design (mail providers post it without cookies):
 *	its key is a MAC'd unsubscribe key, which only our notices carry
 *	and which can do nothing else. A reply key (the Reply-To that
 *	posts mail as the victim) is refused there, so a URL, which ends
 *	up in logs and history, never carries that credential.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cm_addr.h"
#include "cm_log.h"
#include "cm_login.h"
#include "cm_milestone.h"
#include "cm_rhythm.h"
#include "cm_words.h"
#include "cm_work.h"
#include "web.h"

#define NAME_MAX_BYTES 200
#define WEB_POST_LIMIT 10     /* messages a victim may post ... */
#define WEB_POST_WINDOW 3600  /* ... in this many seconds */

/* ---- small helpers ---- */

/* fail_store - log store trouble once and answer 503 or 500 */
static void
fail_store(struct web *w, struct resp *r, int rc, const char *what,
	   const char *err)
{
	char san[300];

	cm_store_rollback(w->st);
	cm_log_err("store: %s: %s", what,
		   cm_log_sanitize(san, sizeof(san), err, 250));
	if (rc == CM_ETEMP) {
		page_error(r, w, 503, "Please try again",
			   "The service is busy. Please try again in a "
			   "minute.");
		r->retry_after = 30;
	} else {
		page_error(r, w, 500, "Something went wrong",
			   "Something went wrong on our side. Please try "
			   "again later.");
	}
}

/* redirect - 303 See Other to loc */
static void
redirect(struct resp *r, const char *loc)
{
	r->status = 303;
	free(r->location);
	r->location = cm_xstrdup(loc);
	cm_buf_reset(&r->body);
}

/* set_sid - the session cookie (value NULL: remove it) */
static void
set_sid(struct web *w, struct resp *r, const char *value)
{
	resp_cookie(r, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; "
		       "SameSite=Strict%s",
		    w->sid_name, value != NULL ? value : "",
		    value != NULL ? w->cfg->portal_session_max : 0L,
		    w->cfg->portal_secure ? "; Secure" : "");
}

/* pre_ok - a pre-session cookie value we could have set */
static bool
pre_ok(const char *v)
{
	size_t n;

	if (v == NULL)
		return false;
	n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_-");
	return n == strlen(v) && n >= 22 && n <= 64;
}

/* pre_csrf - the CSRF token of the pre-session cookie, setting the
 * cookie first when the browser has none */
static void
pre_csrf(struct web *w, struct req *q, struct resp *r,
	 char csrf[WEB_CSRF_LEN + 1])
{
	unsigned char raw[16];
	char *v;

	if (pre_ok(q->pre)) {
		csrf_make(w->secret, "p", q->pre, strlen(q->pre), csrf);
		return;
	}
	cm_token_random(raw, sizeof(raw));
	v = cm_token_base64url(raw, sizeof(raw));
	resp_cookie(r, "%s=%s; Path=/; Max-Age=86400; HttpOnly; "
		       "SameSite=Strict%s",
		    w->pre_name, v, w->cfg->portal_secure ? "; Secure" : "");
	csrf_make(w->secret, "p", v, strlen(v), csrf);
	free(v);
}

/* detail - "page=... ip=..." style text for an audit row */
static void CM_ATTR_PRINTF(3, 4)
detail(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* truncation only shortens an audit detail of ids and words */
	(void)vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* case_ref - the reference of case_id into buf ("" if none) */
static int
case_ref(struct web *w, int64_t case_id, char *buf, size_t size,
	 const char **error_r)
{
	struct cm_case c = { 0 };
	int rc;

	buf[0] = '\0';
	rc = cm_store_case_get_id(w->st, case_id, &c, error_r);
	if (rc == 0)
		cm_strlcpy(buf, c.ref, size);
	cm_case_clear(&c);
	return rc == CM_ENOENT ? 0 : rc;
}

/* refused - audit a refusal and answer with an error page */
static void
refused(struct web *w, struct req *q, struct resp *r, int status,
	const char *why, const char *title, const char *text)
{
	char d[160];

	detail(d, sizeof(d), "reason=%s route=%s ip=%s", why,
	       route_name(q->path), q->ip);
	/* the postmaster sees why in the log too (fixed words, the
	 * route's own name, never the path as sent) */
	cm_log_info("refused status=%d %s", status, d);
	audit_view(w, "web:anon", "web.refused", NULL, d, cm_now());
	page_error(r, w, status, title, text);
}

/* discreet_for - the pages are discreet when victim_id asked for
 * discreet notices (an unknown victim, or store trouble: not) */
static void
discreet_for(struct web *w, int64_t victim_id)
{
	struct cm_victim v = { 0 };
	const char *err = NULL;

	if (victim_id != 0 &&
	    cm_store_victim_get(w->st, victim_id, &v, &err) == 0)
		w->discreet = v.discreet;
	cm_victim_clear(&v);
}

/* ---- the session and what it may see ---- */

/* struct who - the signed-in victim, their case */
struct who {
	struct sess s;
	struct cm_victim v;
	struct cm_case c;
};

/* who_clear - release the copies */
static void
who_clear(struct who *u)
{
	cm_victim_clear(&u->v);
	cm_case_clear(&u->c);
	cm_token_wipe(&u->s, sizeof(u->s));
}

/*
 * signed_in - the live session with its victim and case, or an answer
 * already in r (false). post: the CSRF token must match too.
 */
static bool
signed_in(struct web *w, struct req *q, struct resp *r, bool post,
	  struct who *u, int64_t now)
{
	const char *err = NULL;
	int rc;

	memset(u, 0, sizeof(*u));
	rc = sess_get(w, q->sid, now, &u->s, &err);
	if (rc == CM_ENOENT) {
		/* an ended session still says whose it was: a discreet
		 * victim signed out keeps discreet pages */
		discreet_for(w, u->s.row.victim_id);
		if (q->sid != NULL)
			set_sid(w, r, NULL);
		refused(w, q, r, 401, "no-session", "You are signed out",
			w->discreet
				? "To see your messages, sign in with the "
				  "link in the latest email we sent you. If "
				  "it has expired, open it anyway and ask for "
				  "a new one."
				: "To see your case, sign in with the link in "
				  "the latest email we sent you. If it has "
				  "expired, open it anyway and ask for a new "
				  "one.");
		return false;
	}
	if (rc < 0) {
		fail_store(w, r, rc, "session", err);
		return false;
	}
	if (post && !csrf_ok(w->secret, "s", u->s.hash, sizeof(u->s.hash),
			     form_get(&q->form, "csrf"))) {
		refused(w, q, r, 403, "csrf", "This form has expired",
			"Go back, reload the page and try again.");
		return false;
	}
	rc = cm_store_victim_get(w->st, u->s.row.victim_id, &u->v, &err);
	if (rc == 0)
		rc = cm_store_case_get_id(w->st, u->s.row.case_id, &u->c,
					  &err);
	if (rc == 0 && u->v.case_id != u->c.id)
		rc = CM_ENOENT;
	if (rc == CM_ENOENT) {
		refused(w, q, r, 401, "no-victim", "You are signed out",
			"Your details are no longer on file.");
		return false;
	}
	if (rc < 0) {
		fail_store(w, r, rc, "victim", err);
		return false;
	}
	w->discreet = u->v.discreet;
	return true;
}

/* view - queue the audit row of a page seen by u */
static void
view(struct web *w, struct req *q, const struct who *u, const char *page,
     int64_t now)
{
	char d[128];

	detail(d, sizeof(d), "page=%s ip=%s", page, q->ip);
	audit_view(w, u->s.actor, "web.view", u->c.ref, d, now);
}

/* begin_write - BEGIN and the queued view rows first (keeps order) */
static int
begin_write(struct web *w, const char **error_r)
{
	int rc = cm_store_begin(w->st, error_r);

	if (rc == 0 && (rc = audit_drain(w, error_r)) < 0)
		cm_store_rollback(w->st);
	return rc;
}

/* commit_write - COMMIT, then forget the drained view rows */
static int
commit_write(struct web *w, const char **error_r)
{
	int rc = cm_store_commit(w->st, error_r);

	w->gen++;
	if (rc == 0) {
		audit_done(w);
		audit_anchor(w);
	}
	return rc;
}

/* cache_free - drop every cached page */
void
cache_free(struct web *w)
{
	for (size_t i = 0; i < WEB_CACHE; i++) {
		free(w->cache[i].page);
		cm_token_wipe(&w->cache[i], sizeof(w->cache[i]));
	}
}

/*
 * case_cached - answer GET /case from the cache when the session's page
 * is there and nothing changed since; *dv_r gets the data_version read
 * before anything else (0 when it could not be read)
 */
static bool
case_cached(struct web *w, struct req *q, struct resp *r, int64_t now,
	    int64_t *dv_r)
{
	unsigned char h[CM_HASH_LEN];
	const struct page_cache *pc;
	const char *err = NULL;
	char d[96];
	bool ret = false;

	*dv_r = 0;
	if (q->sid == NULL || cm_token_hash(w->secret, q->sid, h) < 0 ||
	    cm_store_data_version(w->st, dv_r, &err) < 0)
		goto out;
	pc = &w->cache[h[0] % WEB_CACHE];
	if (q->done || !pc->used || pc->dv != *dv_r || pc->gen != w->gen ||
	    memcmp(pc->s.hash, h, sizeof(h)) != 0 ||
	    now >= pc->s.row.expires_at ||
	    now - pc->s.row.seen_at >= WEB_TOUCH_EVERY)
		goto out;
	(void)cm_buf_append(&r->body, pc->page, pc->len);
	detail(d, sizeof(d), "page=case ip=%s", q->ip);
	audit_view(w, pc->s.actor, "web.view", pc->ref, d, now);
	ret = true;
out:
	cm_token_wipe(h, sizeof(h));
	return ret;
}

/* case_keep - remember the page just rendered for u */
static void
case_keep(struct web *w, const struct who *u, const struct resp *r,
	  int64_t dv)
{
	struct page_cache *pc = &w->cache[u->s.hash[0] % WEB_CACHE];

	free(pc->page);
	pc->used = true;
	pc->dv = dv;
	pc->gen = w->gen;
	pc->s = u->s;
	cm_strlcpy(pc->ref, u->c.ref, sizeof(pc->ref));
	pc->page = cm_xstrndup(r->body.data, r->body.len);
	pc->len = r->body.len;
}

/* ---- pages ---- */

/* h_home - GET / */
static void
h_home(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	struct sess s;
	const char *err = NULL;
	char d[96];

	if (q->sid != NULL && sess_get(w, q->sid, now, &s, &err) == 0) {
		cm_token_wipe(&s, sizeof(s));
		redirect(r, "/case");
		return;
	}
	detail(d, sizeof(d), "page=home ip=%s", q->ip);
	audit_view(w, "web:anon", "web.view", NULL, d, now);
	page_begin(&r->body, w, "Your case", false);
	(void)cm_buf_puts(&r->body,
			  "<h1>Sign in to see your case</h1>\n"
			  "<p>Use the link in the latest email we sent you "
			  "about your case. Each link works once.</p>\n"
			  "<p>If the link has expired, open it anyway: you "
			  "can ask for a new one there.</p>\n");
	page_end(&r->body, w);
}

/* dead_link - the page for a link that cannot sign in */
static void
dead_link(struct web *w, struct req *q, struct resp *r, int status,
	  const char *tok)
{
	char csrf[WEB_CSRF_LEN + 1];

	pre_csrf(w, q, r, csrf);
	r->status = status;
	cm_buf_reset(&r->body);
	page_begin(&r->body, w, "This link has expired", false);
	(void)cm_buf_puts(&r->body,
			  "<h1>This link has expired</h1>\n"
			  "<p>Sign-in links work once and for a limited "
			  "time. This one has expired or has been used "
			  "already.</p>\n"
			  "<p>We can send a new link to the email address "
			  "we have for you.</p>\n"
			  "<form method=\"post\" action=\"/fresh\">\n");
	put_hidden(&r->body, "csrf", csrf);
	put_hidden(&r->body, "token", tok);
	(void)cm_buf_puts(&r->body, "<button type=\"submit\">Send me a new "
				    "link</button>\n</form>\n");
	page_end(&r->body, w);
}

/* h_link_get - GET /l/TOKEN: show, never use */
static void
h_link_get(struct web *w, struct req *q, struct resp *r, const char *tok,
	   int64_t now)
{
	struct cm_login_info in;
	enum cm_login_state state = CM_LOGIN_UNKNOWN;
	const char *err = NULL;
	char csrf[WEB_CSRF_LEN + 1], ref[CM_MAX_REF + 1], d[160];
	int rc;

	memset(&in, 0, sizeof(in));
	rc = cm_login_check(w->st, w->secret, tok, now, &state, &in, &err);
	if (rc == 0 && state != CM_LOGIN_UNKNOWN)
		rc = case_ref(w, in.case_id, ref, sizeof(ref), &err);
	else
		ref[0] = '\0';
	if (rc < 0) {
		fail_store(w, r, rc, "token check", err);
		return;
	}
	detail(d, sizeof(d), "page=link token=%lld state=%s ip=%s",
	       (long long)in.token_id, cm_login_state_name(state), q->ip);
	audit_view(w, "web:anon", "web.view", ref[0] ? ref : NULL, d, now);
	if (state != CM_LOGIN_UNKNOWN)
		discreet_for(w, in.victim_id);
	if (state != CM_LOGIN_VALID) {
		dead_link(w, q, r, 200, tok);
		return;
	}
	pre_csrf(w, q, r, csrf);
	page_begin(&r->body, w, "Sign in", false);
	(void)cm_buf_printf(&r->body, "<h1>Sign in to see your %s</h1>\n",
			    w->discreet ? "messages" : "case");
	(void)cm_buf_puts(&r->body,
			  "<p>This link signs you in once. Press the button "
			  "to continue.</p>\n"
			  "<form method=\"post\" action=\"/l/");
	put_esc(&r->body, tok);
	(void)cm_buf_puts(&r->body, "\">\n");
	put_hidden(&r->body, "csrf", csrf);
	(void)cm_buf_puts(&r->body, "<button type=\"submit\">Sign in"
				    "</button>\n</form>\n");
	page_end(&r->body, w);
}

/* pre_checked - the pre-session CSRF token of a sign-in form matches */
static bool
pre_checked(struct web *w, struct req *q)
{
	return pre_ok(q->pre) &&
	       csrf_ok(w->secret, "p", q->pre, strlen(q->pre),
		       form_get(&q->form, "csrf"));
}

/* h_link_post - POST /l/TOKEN: redeem once, start a session */
static void
h_link_post(struct web *w, struct req *q, struct resp *r, const char *tok,
	    int64_t now)
{
	struct cm_login_info in;
	enum cm_login_state state = CM_LOGIN_UNKNOWN;
	struct sess old;
	const char *err = NULL;
	char *sid = NULL, d[160], ref[CM_MAX_REF + 1];
	bool had = false;
	int64_t session_id = 0;
	int rc;

	memset(&in, 0, sizeof(in));
	memset(&old, 0, sizeof(old));
	if (!pre_checked(w, q)) {
		refused(w, q, r, 403, "csrf", "This form has expired",
			"Open the link from your email again and press the "
			"button.");
		return;
	}
	if (q->sid != NULL) {
		rc = sess_get(w, q->sid, now, &old, &err);
		had = rc == 0;
		if (rc < 0 && rc != CM_ENOENT) {
			fail_store(w, r, rc, "session", err);
			goto out;
		}
	}
	if ((rc = begin_write(w, &err)) < 0) {
		fail_store(w, r, rc, "begin", err);
		goto out;
	}
	rc = cm_login_redeem(w->st, w->secret, tok, now, "web", &state, &in,
			     &err);
	if (rc == 0 && state == CM_LOGIN_VALID) {
		if (had)
			(void)cm_store_session_end(w->st, old.row.id, now,
						   &err);
		sid = sess_start(w, in.victim_id, in.case_id, in.token_id,
				 now, &session_id, &err);
		rc = sid == NULL ? CM_ERR : 0;
		if (rc == 0)
			rc = case_ref(w, in.case_id, ref, sizeof(ref), &err);
		if (rc == 0) {
			detail(d, sizeof(d),
			       "session=%lld victim=%lld token=%lld ip=%s",
			       (long long)session_id,
			       (long long)in.victim_id,
			       (long long)in.token_id, q->ip);
			rc = cm_store_audit(w->st, "web", "web.session.start",
					    ref, d, &err);
		}
	}
	if (rc == 0)
		rc = commit_write(w, &err);
	if (rc < 0) {
		fail_store(w, r, rc, "sign in", err);
		goto out;
	}
	if (state != CM_LOGIN_VALID) {
		if (state != CM_LOGIN_UNKNOWN)
			discreet_for(w, in.victim_id);
		dead_link(w, q, r, 403, tok);
		goto out;
	}
	set_sid(w, r, sid);
	redirect(r, "/case");
out:
	if (sid != NULL) {
		cm_token_wipe(sid, strlen(sid));
		free(sid);
	}
	cm_token_wipe(&old, sizeof(old));
}

/* wants_fresh - may a fresh link go to v by email; why not in *why_r */
static bool
wants_fresh(const struct cm_victim *v, const char **why_r)
{
	*why_r = NULL;
	if (v->email == NULL)
		*why_r = "no-email";
	else if (!v->opted_in)
		*why_r = "opted-out";
	else if (strcmp(v->email_status, "undeliverable") == 0)
		*why_r = "undeliverable";
	return *why_r == NULL;
}

/* h_fresh - POST /fresh: a new link to the address on file, maybe */
static void
h_fresh(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	const char *tok = form_get(&q->form, "token"), *err = NULL;
	const char *why = "unknown";
	struct cm_login_info in;
	enum cm_login_state state = CM_LOGIN_UNKNOWN;
	struct cm_victim v = { 0 };
	struct cm_notice n;
	char d[200], ref[CM_MAX_REF + 1], vid[32];
	int64_t notice_id = 0;
	int rc = 0;

	ref[0] = '\0';
	if (!pre_checked(w, q)) {
		refused(w, q, r, 403, "csrf", "This form has expired",
			"Open the link from your email again and press the "
			"button.");
		goto out;
	}
	if (tok != NULL)
		rc = cm_login_check(w->st, w->secret, tok, now, &state, &in,
				    &err);
	if (rc == 0 && state != CM_LOGIN_UNKNOWN) {
		rc = cm_store_victim_get(w->st, in.victim_id, &v, &err);
		if (rc == CM_ENOENT) {
			rc = 0;
			state = CM_LOGIN_UNKNOWN;
		}
	}
	if (rc == 0 && state != CM_LOGIN_UNKNOWN)
		rc = case_ref(w, in.case_id, ref, sizeof(ref), &err);
	if (rc < 0) {
		fail_store(w, r, rc, "fresh link", err);
		goto out;
	}
	if (state != CM_LOGIN_UNKNOWN)
		w->discreet = v.discreet;
	if (state != CM_LOGIN_UNKNOWN && wants_fresh(&v, &why)) {
		(void)snprintf(vid, sizeof(vid), "%lld", (long long)v.id);
		if (!rate_hit(w->rate, "fresh", vid, w->cfg->portal_rate_fresh,
			      86400, now))
			why = "rate-limit";
	}
	if ((rc = begin_write(w, &err)) < 0) {
		fail_store(w, r, rc, "begin", err);
		goto out;
	}
	if (why == NULL) {
		memset(&n, 0, sizeof(n));
		n.case_id = in.case_id;
		n.victim_id = v.id;
		n.kind = "fresh_link";
		n.channel = "email";
		rc = cm_store_notice_add(w->st, &n, &notice_id, &err);
	}
	if (state != CM_LOGIN_UNKNOWN)
		detail(d, sizeof(d), "victim=%lld token=%lld notice=%lld%s%s "
				     "ip=%s",
		       (long long)v.id, (long long)in.token_id,
		       (long long)notice_id, why ? " reason=" : "",
		       why ? why : "", q->ip);
	else
		detail(d, sizeof(d), "token=unknown ip=%s", q->ip);
	if (rc == 0)
		rc = cm_store_audit(w->st, "web", "web.fresh_link",
				    ref[0] ? ref : NULL, d, &err);
	if (rc == 0)
		rc = commit_write(w, &err);
	if (rc < 0) {
		fail_store(w, r, rc, "fresh link", err);
		goto out;
	}
	page_begin(&r->body, w, "Check your email", false);
	(void)cm_buf_puts(&r->body,
			  "<h1>Check your email</h1>\n"
			  "<p>If we have an email address for you, we have "
			  "sent a new sign-in link to it. It can take a few "
			  "minutes to arrive.</p>\n"
			  "<p>If nothing arrives, get in touch with the "
			  "person who has been dealing with you.</p>\n");
	page_end(&r->body, w);
out:
	cm_victim_clear(&v);
}

/* channel_ok - a channel this victim can have */
static bool
channel_ok(const struct cm_victim *v, const char *ch)
{
	if (ch == NULL)
		return false;
	if (strcmp(ch, "email") == 0)
		return v->email != NULL;
	if (strcmp(ch, "sms") == 0)
		return v->phone != NULL;
	if (strcmp(ch, "both") == 0)
		return v->email != NULL && v->phone != NULL;
	return false;
}

/* put_radio - one channel choice */
static void
put_radio(struct cm_buf *b, const struct cm_victim *v, const char *value,
	  const char *label, const char *extra)
{
	bool ok = channel_ok(v, value);

	(void)cm_buf_printf(b, "<label><input type=\"radio\" name=\"channel\""
			       " value=\"%s\"%s%s> ",
			    value,
			    strcmp(v->channel, value) == 0 ? " checked" : "",
			    ok ? "" : " disabled");
	(void)cm_buf_puts(b, label);
	if (extra != NULL) {
		(void)cm_buf_puts(b, " (");
		put_esc(b, extra);
		(void)cm_buf_puts(b, ")");
	} else if (!ok) {
		(void)cm_buf_puts(b, " (we have no number or address)");
	}
	(void)cm_buf_puts(b, "</label>\n");
}

/* put_channels - the channel and discreet fieldsets */
static void
put_channels(struct cm_buf *b, const struct cm_victim *v)
{
	(void)cm_buf_puts(b, "<fieldset>\n<legend>How should we tell you "
			     "about updates?</legend>\n");
	put_radio(b, v, "email", "By email", v->email);
	put_radio(b, v, "sms", "By text message", v->phone);
	put_radio(b, v, "both", "By email and text message", NULL);
	(void)cm_buf_printf(b, "</fieldset>\n<fieldset>\n<legend>Discreet "
			       "notices</legend>\n<label><input "
			       "type=\"checkbox\" name=\"discreet\" "
			       "value=\"1\"%s> Keep notices and these pages "
			       "plain: they will not say who sends them or "
			       "what they are about</label>\n"
			       "</fieldset>\n",
			    v->discreet ? " checked" : "");
}

/*
 * put_rhythm - how often the victim wants an update: the rhythm agreed
 * with them (cm_rhythm.h), read from the store; "milestones" when it
 * cannot be read
 */
static void
put_rhythm(struct web *w, struct cm_buf *b, int64_t victim_id)
{
	static const char *const value[4] = { "weekly", "fortnightly",
					      "monthly", "milestones" };
	static const char *const words[4] = {
		"Every week", "Every two weeks", "Every month",
		"Only when something important happens"
	};
	char cur[16] = "milestones";
	const char *err = NULL;

	if (cm_store_victim_rhythm(w->st, victim_id, cur, sizeof(cur),
				   &err) < 0)
		cm_strlcpy(cur, "milestones", sizeof(cur));
	(void)cm_buf_puts(b, "<fieldset>\n<legend>How often would you like "
			     "an update?</legend>\n");
	for (int i = 0; i < 4; i++)
		(void)cm_buf_printf(b, "<label><input type=\"radio\" "
				       "name=\"rhythm\" value=\"%s\"%s> %s"
				       "</label>\n", value[i],
				    strcmp(cur, value[i]) == 0 ? " checked"
							       : "",
				    words[i]);
	(void)cm_buf_puts(b, "</fieldset>\n");
}

/* rhythm_of - the rhythm the form chose, NULL for none or a bad one */
static const char *
rhythm_of(const struct req *q)
{
	const char *s = form_get(&q->form, "rhythm");

	return s != NULL && cm_rhythm_valid(s) ? s : NULL;
}

/* put_error_box - an error summary */
static void
put_error_box(struct cm_buf *b, const char *text)
{
	if (text == NULL)
		return;
	(void)cm_buf_puts(b, "<div class=\"error\" role=\"alert\"><p>");
	put_esc(b, text);
	(void)cm_buf_puts(b, "</p></div>\n");
}

/* register_page - the first-visit form */
static void
register_page(struct web *w, struct resp *r, const struct who *u,
	      const char *name, const char *error)
{
	page_begin(&r->body, w, "Register", true);
	(void)cm_buf_puts(&r->body, "<h1>Register</h1>\n");
	put_error_box(&r->body, error);
	(void)cm_buf_puts(&r->body,
			  "<p>Before you see your case, please confirm "
			  "your details.</p>\n<form method=\"post\" "
			  "action=\"/register\">\n");
	put_hidden(&r->body, "csrf", u->s.csrf);
	(void)cm_buf_puts(&r->body, "<label for=\"name\">Your name</label>\n"
				    "<input type=\"text\" id=\"name\" "
				    "name=\"name\" autocomplete=\"name\" "
				    "required maxlength=\"200\" value=\"");
	put_esc(&r->body, name);
	(void)cm_buf_puts(&r->body, "\">\n");
	put_channels(&r->body, &u->v);
	put_rhythm(w, &r->body, u->v.id);
	(void)cm_buf_puts(&r->body, "<button type=\"submit\">Register"
				    "</button>\n</form>\n");
	page_end(&r->body, w);
}

/* h_register_get - GET /register */
static void
h_register_get(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	struct who u;

	if (!signed_in(w, q, r, false, &u, now))
		goto out;
	view(w, q, &u, "register", now);
	register_page(w, r, &u, u.v.name, NULL);
out:
	who_clear(&u);
}

/* name_ok - a name as typed: 1..NAME_MAX_BYTES, one line */
static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_BYTES && strpbrk(s, "\r\n\t") == NULL;
}

/*
 * save_prefs - write what the form owns (p) in one transaction with an
 * audit row; the rest of the victim's row is left as it is now, not as
 * it was read before the transaction. 0, or -1 with r answered.
 */
static int
save_prefs(struct web *w, struct req *q, struct resp *r,
	   const struct who *u, const struct cm_victim_prefs *p,
	   const char *action)
{
	const char *err = NULL, *rhythm = rhythm_of(q);
	char d[200];
	int rc;

	detail(d, sizeof(d), "victim=%lld channel=%s opted_in=%s "
			     "discreet=%s rhythm=%s ip=%s",
	       (long long)u->v.id, p->channel != NULL ? p->channel : "-",
	       p->opted_in < 0 ? "-" : p->opted_in ? "yes" : "no",
	       p->discreet < 0 ? "-" : p->discreet ? "yes" : "no",
	       rhythm != NULL ? rhythm : "-", q->ip);
	if ((rc = begin_write(w, &err)) < 0 ||
	    (rc = cm_store_victim_set_prefs(w->st, u->v.id, p, &err)) < 0 ||
	    (rhythm != NULL &&
	     (rc = cm_store_victim_set_rhythm(w->st, u->v.id, rhythm,
					      &err)) < 0) ||
	    (rc = cm_store_audit(w->st, u->s.actor, action, u->c.ref, d,
				 &err)) < 0 ||
	    (rc = commit_write(w, &err)) < 0) {
		fail_store(w, r, rc, action, err);
		return -1;
	}
	return 0;
}

/* h_register_post - POST /register */
static void
h_register_post(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	const char *ch = form_get(&q->form, "channel");
	const char *nm = form_get(&q->form, "name");
	struct cm_victim_prefs p;
	struct who u;
	char *name = NULL;

	if (!signed_in(w, q, r, true, &u, now))
		goto out;
	name = text_clean(nm != NULL ? nm : "");
	if (!name_ok(name) || !channel_ok(&u.v, ch)) {
		r->status = 400;
		register_page(w, r, &u, name,
			      !name_ok(name)
				      ? "Enter your name (one line, at most "
					"200 characters)."
				      : "Choose how we should tell you about "
					"updates.");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.channel = ch;
	p.opted_in = -1;
	p.discreet = form_get(&q->form, "discreet") != NULL;
	p.registered = 1;
	if (save_prefs(w, q, r, &u, &p, "web.register") == 0)
		redirect(r, "/case");
out:
	free(name);
	who_clear(&u);
}

/* struct shown - a thread message the victim may see (owned text) */
struct shown {
	int64_t id, at, officer_id;
	bool mine;
	char *body;
};

/* struct thread - what collect_msg kept */
struct thread {
	int64_t victim_id;
	struct shown *m;
	size_t n, cap;
};

/* collect_msg - keep officer updates addressed to this victim or to
 * every victim of the case (victim_id 0), and this victim's own
 * messages; never another victim's messages or updates addressed to
 * another victim, internal notes, held or rejected mail, events */
static int
collect_msg(const struct cm_message *m, void *ctx)
{
	struct thread *t = ctx;
	bool officer = strcmp(m->author, "officer") == 0 &&
		       (m->victim_id == 0 || m->victim_id == t->victim_id);
	bool mine = strcmp(m->author, "victim") == 0 &&
		    m->victim_id == t->victim_id;

	if (strcmp(m->visibility, "victim") != 0 ||
	    strcmp(m->status, "posted") != 0 ||
	    strcmp(m->kind, "message") != 0 || (!officer && !mine))
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->m = cm_xrealloc(t->m, t->cap * sizeof(*t->m));
	}
	t->m[t->n].id = m->id;
	t->m[t->n].at = m->at;
	t->m[t->n].officer_id = officer ? m->officer_id : 0;
	t->m[t->n].mine = mine;
	t->m[t->n].body = cm_xstrdup(m->body != NULL ? m->body : "");
	t->n++;
	return 0;
}

/* thread_free - release what collect_msg kept */
static void
thread_free(struct thread *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->m[i].body);
	free(t->m);
	memset(t, 0, sizeof(*t));
}

/* put_when - "28 November 2026, 10:15 UTC" in a <time> element */
static void
put_when(struct cm_buf *b, int64_t at)
{
	char iso[32], human[64];
	time_t t = (time_t)at;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(human, sizeof(human), "%d %B %Y, %H:%M UTC", &tm) == 0)
		cm_strlcpy(human, "?", sizeof(human));
	(void)cm_buf_printf(b, "<time datetime=\"%s\">%s</time>",
			    cm_time_iso(at, iso), human);
}

/* officer_name - the name of officer id into *name_r (caller frees);
 * NULL when unknown */
static int
officer_name(struct web *w, int64_t id, char **name_r, const char **err)
{
	struct cm_officer o = { 0 };
	int rc;

	*name_r = NULL;
	if (id == 0)
		return 0;
	rc = cm_store_officer_get_id(w->st, id, &o, err);
	if (rc == 0) {
		*name_r = o.name;
		o.name = NULL;
	}
	cm_officer_clear(&o);
	return rc == CM_ENOENT ? 0 : rc;
}

/* ---- milestones on the case page ---- */

#define REACHED_MAX 100 /* milestones shown on one page */

/* struct reached - the milestones a victim is shown (kinds owned) */
struct reached {
	int64_t victim_id;
	int64_t now;
	size_t n;
	struct {
		char *kind;
		int64_t at;
	} v[REACHED_MAX];
};

/* collect_reached - keep a milestone of this victim or of every victim
 * of the case that has happened */
static int
collect_reached(const struct cm_milestone *m, void *ctx)
{
	struct reached *r = ctx;

	if ((m->victim_id != 0 && m->victim_id != r->victim_id) ||
	    m->at > r->now || r->n == REACHED_MAX)
		return 0;
	r->v[r->n].kind = cm_xstrdup(m->kind);
	r->v[r->n].at = m->at;
	r->n++;
	return 0;
}

/* reached_free - release what collect_reached kept */
static void
reached_free(struct reached *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].kind);
	r->n = 0;
}

/*
 * portal_words - the victim's words for the milestone kinds and the
 * force's calendar, loaded once (the portal is one thread); NULL in
 * *words_r when the file cannot be read, which is logged once, and
 * then no milestone is shown rather than a kind's internal name
 */
static void
portal_words(const struct web *w, const struct cm_words **words_r,
	     const struct cm_workday **cal_r)
{
	static struct cm_words *words;
	static struct cm_workday *cal;
	static bool tried;
	const char *err = NULL;

	if (!tried) {
		tried = true;
		words = cm_words_load(w->cfg->template_dir, CM_WORDS_FILE,
				      &err);
		if (words == NULL)
			cm_log_warnx("milestone words: %s: no milestone is "
				     "shown to victims", err);
		cal = cm_milestone_calendar(w->cfg, &err);
		if (cal == NULL)
			cm_log_warnx("milestone dates: %s", err);
	}
	*words_r = cal != NULL ? words : NULL;
	*cal_r = cal;
}

/* put_day - "3 March", or "3 March 2025" outside the year of now, in
 * the force's time zone, in a <time> element */
static void
put_day(struct cm_buf *b, const struct cm_workday *cal, int64_t at,
	int64_t now)
{
	static const char *const months[12] = {
		"January", "February", "March",     "April",
		"May",     "June",     "July",      "August",
		"September", "October", "November", "December"
	};
	int y, m, d, ny, nm, nd;
	const char *err = NULL;

	if (cm_workday_local_date(cal, at, &y, &m, &d, &err) < 0 ||
	    cm_workday_local_date(cal, now, &ny, &nm, &nd, &err) < 0 ||
	    m < 1 || m > 12)
		return;
	(void)cm_buf_printf(b, "<time datetime=\"%04d-%02d-%02d\">%d %s",
			    y, m, d, d, months[m - 1]);
	if (y != ny)
		(void)cm_buf_printf(b, " %d", y);
	(void)cm_buf_puts(b, "</time>");
}

/*
 * put_milestones - the milestones reached for this victim in the
 * words of milestones.txt with their date ("A suspect has been charged
 * - 3 March"): never the kind's name, who recorded it, a deadline or a
 * status, which are the force's business. A kind without words is left
 * out. 0, or a store error with *err.
 */
static int
put_milestones(struct web *w, struct cm_buf *b, const struct who *u,
	       int64_t now, const char **err)
{
	struct reached r;
	const struct cm_words *words = NULL;
	const struct cm_workday *cal = NULL;
	const char *text;
	size_t shown = 0;
	int rc;

	portal_words(w, &words, &cal);
	if (words == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	r.victim_id = u->v.id;
	r.now = now;
	rc = cm_store_milestone_list(w->st, u->c.id, false, collect_reached,
				     &r, err);
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		text = cm_words_get(words, r.v[i].kind);
		if (text == NULL)
			continue;
		if (shown++ == 0)
			(void)cm_buf_puts(b, "<h2>Progress so far</h2>\n"
					     "<ul class=\"milestones\">\n");
		(void)cm_buf_puts(b, "<li>");
		put_esc(b, text);
		(void)cm_buf_puts(b, " - ");
		put_day(b, cal, r.v[i].at, now);
		(void)cm_buf_puts(b, "</li>\n");
	}
	if (shown > 0)
		(void)cm_buf_puts(b, "</ul>\n");
	reached_free(&r);
	return rc;
}

/* h_case - GET /case */
static void
h_case(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	struct thread t = { 0, NULL, 0, 0 };
	struct cm_buf *b = &r->body;
	struct who u;
	const char *err = NULL;
	char *oic = NULL, *name = NULL;
	int64_t name_of = -1, dv = 0;
	bool show_officer;
	int rc;

	memset(&u, 0, sizeof(u));
	if (case_cached(w, q, r, now, &dv))
		goto out;
	if (!signed_in(w, q, r, false, &u, now))
		goto out;
	if (!u.v.registered) {
		redirect(r, "/register");
		goto out;
	}
	t.victim_id = u.v.id;
	show_officer = w->cfg->portal_show_officer && !u.v.discreet;
	rc = cm_store_thread(w->st, u.c.id, collect_msg, &t, &err);
	if (rc == 0 && show_officer)
		rc = officer_name(w, u.c.oic_id, &oic, &err);
	if (rc < 0) {
		fail_store(w, r, rc, "thread", err);
		goto out;
	}
	view(w, q, &u, "case", now);
	page_begin(b, w, u.v.discreet ? "Your messages" : "Your case", true);
	(void)cm_buf_printf(b, "<h1>Your %s</h1>\n",
			    u.v.discreet ? "messages" : "case");
	if (q->done)
		(void)cm_buf_printf(b, "<div class=\"notice\" role=\"status\">"
				       "<p>Your message has been sent%s.</p>"
				       "</div>\n",
				    u.v.discreet ? "" : " to the officer");
	(void)cm_buf_printf(b, "<dl class=\"facts\">\n<dt>%s</dt><dd>",
			    u.v.discreet ? "Reference" : "Case reference");
	put_esc(b, u.c.ref);
	(void)cm_buf_printf(b, "</dd>\n<dt>Status</dt><dd>%s</dd>\n",
			    strcmp(u.c.status, "closed") == 0 ? "Closed"
							      : "Open");
	if (oic != NULL) {
		(void)cm_buf_puts(b, "<dt>Officer</dt><dd>");
		put_esc(b, oic);
		(void)cm_buf_puts(b, "</dd>\n");
	}
	(void)cm_buf_puts(b, "</dl>\n");
	/* a discreet page speaks of messages, never of a crime */
	if (!u.v.discreet &&
	    (rc = put_milestones(w, b, &u, now, &err)) < 0) {
		fail_store(w, r, rc, "milestones", err);
		goto out;
	}
	(void)cm_buf_puts(b, "<h2>Messages</h2>\n");
	if (t.n == 0)
		(void)cm_buf_puts(b, "<p>There are no messages yet.</p>\n");
	else
		(void)cm_buf_puts(b, "<ol class=\"thread\">\n");
	for (size_t i = 0; i < t.n; i++) {
		const struct shown *m = &t.m[i];

		if (!m->mine && m->officer_id != name_of) {
			free(name);
			name = NULL;
			name_of = m->officer_id;
			if (show_officer &&
			    (rc = officer_name(w, m->officer_id, &name,
					       &err)) < 0) {
				fail_store(w, r, rc, "officer", err);
				goto out;
			}
		}
		(void)cm_buf_printf(b, "<li id=\"m%lld\"%s><p class=\"meta\">",
				    (long long)m->id,
				    m->mine ? " class=\"mine\"" : "");
		if (m->mine) {
			(void)cm_buf_puts(b, "From you");
		} else if (u.v.discreet) {
			(void)cm_buf_puts(b, "To you");
		} else {
			(void)cm_buf_puts(b, "From ");
			put_esc(b, name != NULL ? name : "the police");
		}
		(void)cm_buf_puts(b, ", ");
		put_when(b, m->at);
		(void)cm_buf_puts(b, "</p>\n<p class=\"text\">");
		put_esc(b, m->body);
		(void)cm_buf_puts(b, "</p></li>\n");
	}
	if (t.n > 0)
		(void)cm_buf_puts(b, "</ol>\n");
	(void)cm_buf_printf(b, "<h2 id=\"write\">%s</h2>\n"
			       "<form method=\"post\" "
			       "action=\"/case/message\">\n",
			    u.v.discreet ? "Write a reply"
					 : "Write to the officer");
	put_hidden(b, "csrf", u.s.csrf);
	(void)cm_buf_printf(b, "<label for=\"text\">Your message</label>\n"
			       "<p class=\"hint\" id=\"text-hint\">%s In "
			       "an emergency, call 999.</p>\n"
			       "<textarea id=\"text\" name=\"text\" "
			       "rows=\"6\" required maxlength=\"%ld\" "
			       "aria-describedby=\"text-hint\"></textarea>\n"
			       "<button type=\"submit\">Send message"
			       "</button>\n</form>\n",
			    u.v.discreet ? "We will be told when it arrives."
					 : "The officer dealing with your "
					   "case will be told.",
			    w->cfg->portal_max_message);
	page_end(b, w);
	if (!q->done && dv != 0)
		case_keep(w, &u, r, dv);
out:
	free(name);
	free(oic);
	thread_free(&t);
	who_clear(&u);
}

/* struct recent - a victim's portal messages within the post window */
struct recent {
	int64_t victim_id, since, oldest;
	long n;
};

/* count_recent - count a message of this victim from the portal since
 * the start of the window, and remember the oldest */
static int
count_recent(const struct cm_message *m, void *ctx)
{
	struct recent *c = ctx;

	if (strcmp(m->author, "victim") != 0 || m->victim_id != c->victim_id ||
	    m->source == NULL || strcmp(m->source, "web") != 0 ||
	    m->at <= c->since)
		return 0;
	if (c->n == 0 || m->at < c->oldest)
		c->oldest = m->at;
	c->n++;
	return 0;
}

/*
 * post_allowed - u may post one more message now: fewer than
 * WEB_POST_LIMIT in the last WEB_POST_WINDOW seconds, counted in the
 * thread (so a restart forgets nothing). Otherwise r holds a 429 page.
 */
static bool
post_allowed(struct web *w, struct req *q, struct resp *r,
	     const struct who *u, int64_t now)
{
	struct recent c = { u->v.id, now - WEB_POST_WINDOW, 0, 0 };
	const char *err = NULL;
	char d[96], text[200];
	int rc;

	rc = cm_store_thread(w->st, u->c.id, count_recent, &c, &err);
	if (rc < 0) {
		fail_store(w, r, rc, "post limit", err);
		return false;
	}
	if (c.n < WEB_POST_LIMIT)
		return true;
	detail(d, sizeof(d), "reason=post-limit route=/case/message ip=%s",
	       q->ip);
	audit_view(w, u->s.actor, "web.refused", u->c.ref, d, now);
	(void)snprintf(text, sizeof(text),
		       "You have sent %d messages in the last hour, the most "
		       "we take. Please wait a while before sending another. "
		       "In an emergency, call 999.",
		       WEB_POST_LIMIT);
	page_error(r, w, 429, "Your message was not sent", text);
	r->retry_after = c.oldest + WEB_POST_WINDOW - now;
	if (r->retry_after < 1)
		r->retry_after = 1;
	return false;
}

/* h_message - POST /case/message: into the thread as a reply would */
static void
h_message(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	const char *in = form_get(&q->form, "text"), *err = NULL;
	struct cm_post p;
	struct cm_work wk;
	struct who u;
	char *text = NULL;
	int64_t id = 0;
	int rc;

	if (!signed_in(w, q, r, true, &u, now))
		goto out;
	text = text_clean(in != NULL ? in : "");
	if (text[0] == '\0' ||
	    strlen(text) > (size_t)w->cfg->portal_max_message) {
		page_error(r, w, 400, "Your message was not sent",
			   text[0] == '\0'
				   ? "The message was empty. Go back and "
				     "write something."
				   : "The message is too long. Go back and "
				     "shorten it.");
		goto out;
	}
	if (!post_allowed(w, q, r, &u, now))
		goto out;
	memset(&p, 0, sizeof(p));
	p.case_id = u.c.id;
	p.victim_id = u.v.id;
	p.author = "victim";
	p.visibility = "victim";
	p.status = "posted";
	p.kind = "message";
	p.body = text;
	p.body_full = text;
	p.sender = u.v.email;
	p.source = "web";
	p.placement = "portal";
	wk.cfg = w->cfg;
	wk.secret = w->secret;
	wk.store = w->st;
	wk.actor = u.s.actor;
	if ((rc = begin_write(w, &err)) < 0 ||
	    (rc = cm_work_post(&wk, &p, &id, NULL, &err)) < 0 ||
	    (rc = commit_write(w, &err)) < 0) {
		fail_store(w, r, rc, "post", err);
		goto out;
	}
	cm_log_info("case=%s victim=%lld message=%lld status=posted "
		    "source=web",
		    u.c.ref, (long long)u.v.id, (long long)id);
	redirect(r, "/case?done=1");
out:
	free(text);
	who_clear(&u);
}

/* h_settings_get - GET /settings */
static void
h_settings_get(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	struct cm_buf *b = &r->body;
	struct who u;

	if (!signed_in(w, q, r, false, &u, now))
		goto out;
	view(w, q, &u, "settings", now);
	page_begin(b, w, "Settings", true);
	(void)cm_buf_puts(b, "<h1>Settings</h1>\n");
	if (q->done)
		(void)cm_buf_puts(b, "<div class=\"notice\" role=\"status\">"
				     "<p>Your settings have been saved.</p>"
				     "</div>\n");
	(void)cm_buf_puts(b, "<form method=\"post\" action=\"/settings\">\n");
	put_hidden(b, "csrf", u.s.csrf);
	put_channels(b, &u.v);
	put_rhythm(w, b, u.v.id);
	if (u.v.email != NULL)
		(void)cm_buf_printf(b, "<fieldset>\n<legend>Email</legend>\n"
				       "<label><input type=\"checkbox\" "
				       "name=\"email\" value=\"1\"%s> Send "
				       "me notices by email</label>\n"
				       "</fieldset>\n",
				    u.v.opted_in ? " checked" : "");
	(void)cm_buf_puts(b, "<button type=\"submit\">Save settings</button>"
			     "\n</form>\n<h2>Sign out</h2>\n<form "
			     "method=\"post\" action=\"/logout\">\n");
	put_hidden(b, "csrf", u.s.csrf);
	(void)cm_buf_puts(b, "<button type=\"submit\" class=\"secondary\">"
			     "Sign out</button>\n</form>\n");
	page_end(b, w);
out:
	who_clear(&u);
}

/* h_settings_post - POST /settings */
static void
h_settings_post(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	const char *ch = form_get(&q->form, "channel");
	struct cm_victim_prefs p;
	struct who u;

	if (!signed_in(w, q, r, true, &u, now))
		goto out;
	if (!channel_ok(&u.v, ch)) {
		page_error(r, w, 400, "Your settings were not saved",
			   "Go back and choose how we should tell you about "
			   "updates.");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.channel = ch;
	p.discreet = form_get(&q->form, "discreet") != NULL;
	p.registered = -1;
	p.opted_in = u.v.email == NULL ? -1
				       : form_get(&q->form, "email") != NULL;
	if (save_prefs(w, q, r, &u, &p, "web.settings") == 0)
		redirect(r, "/settings?done=1");
out:
	who_clear(&u);
}

/* h_logout - POST /logout */
static void
h_logout(struct web *w, struct req *q, struct resp *r, int64_t now)
{
	const char *err = NULL;
	struct who u;
	char d[96];
	int rc;

	if (!signed_in(w, q, r, true, &u, now))
		goto out;
	detail(d, sizeof(d), "session=%lld ip=%s", (long long)u.s.row.id,
	       q->ip);
	if ((rc = begin_write(w, &err)) < 0 ||
	    (rc = cm_store_session_end(w->st, u.s.row.id, now, &err)) < 0 ||
	    (rc = cm_store_audit(w->st, u.s.actor, "web.session.end",
				 u.c.ref, d, &err)) < 0 ||
	    (rc = commit_write(w, &err)) < 0) {
		fail_store(w, r, rc, "logout", err);
		goto out;
	}
	set_sid(w, r, NULL);
	page_begin(&r->body, w, "Signed out", false);
	(void)cm_buf_puts(&r->body, "<h1>You have signed out</h1>\n<p>To "
				    "sign in again, use the link in the "
				    "next email we send you.</p>\n");
	page_end(&r->body, w);
out:
	who_clear(&u);
}

/* unsub_victim - the victim of an unsubscribe key into *v; false if
 * the key is forged or names nobody (r answered) */
static bool
unsub_victim(struct web *w, struct resp *r, const char *key,
	     struct cm_victim *v, char *ref, size_t refsize)
{
	int64_t vid = 0, cid = 0;
	const char *err = NULL;
	int rc = CM_ENOENT;

	if (cm_addr_unsub_decode(w->secret, key, &vid, &cid) == 0)
		rc = cm_store_victim_get(w->st, vid, v, &err);
	if (rc == 0 && v->case_id != cid)
		rc = CM_ENOENT;
	if (rc == 0)
		rc = case_ref(w, cid, ref, refsize, &err);
	if (rc == CM_ENOENT) {
		page_error(r, w, 404, "Page not found",
			   "This unsubscribe link is not valid.");
		return false;
	}
	if (rc < 0) {
		fail_store(w, r, rc, "unsubscribe", err);
		return false;
	}
	w->discreet = v->discreet;
	return true;
}

/* h_unsub_get - GET /unsubscribe/KEY: a page with a button */
static void
h_unsub_get(struct web *w, struct req *q, struct resp *r, const char *key,
	    int64_t now)
{
	struct cm_victim v = { 0 };
	char ref[CM_MAX_REF + 1], d[96];

	if (!unsub_victim(w, r, key, &v, ref, sizeof(ref)))
		goto out;
	detail(d, sizeof(d), "page=unsubscribe victim=%lld ip=%s",
	       (long long)v.id, q->ip);
	audit_view(w, "web:anon", "web.view", ref, d, now);
	page_begin(&r->body, w, "Stop emails", false);
	(void)cm_buf_printf(&r->body, "<h1>Stop %s</h1>\n",
			    v.discreet ? "these emails"
				       : "emails about your case");
	(void)cm_buf_puts(&r->body,
			  "<p>You "
			  "will no longer get notices by email. You can "
			  "turn them on again in your settings after you "
			  "sign in.</p>\n<form method=\"post\" action=\""
			  "/unsubscribe/");
	put_esc(&r->body, key);
	(void)cm_buf_puts(&r->body, "\">\n");
	put_hidden(&r->body, "List-Unsubscribe", "One-Click");
	(void)cm_buf_puts(&r->body, "<button type=\"submit\">Stop emails"
				    "</button>\n</form>\n");
	page_end(&r->body, w);
out:
	cm_victim_clear(&v);
}

/* h_unsub_post - POST /unsubscribe/KEY (RFC 8058 one-click) */
static void
h_unsub_post(struct web *w, struct req *q, struct resp *r, const char *key,
	     int64_t now)
{
	struct cm_victim_prefs p;
	struct cm_victim v = { 0 };
	const char *err = NULL;
	char ref[CM_MAX_REF + 1], d[128];
	int rc;

	(void)now;
	if (q->body == NULL ||
	    memmem(q->body, q->body_len, "List-Unsubscribe=One-Click",
		   26) == NULL) {
		page_error(r, w, 400, "Bad request",
			   "Expected List-Unsubscribe=One-Click.");
		goto out;
	}
	if (!unsub_victim(w, r, key, &v, ref, sizeof(ref)))
		goto out;
	detail(d, sizeof(d), "victim=%lld via=one-click was=%s ip=%s",
	       (long long)v.id, v.opted_in ? "in" : "out", q->ip);
	memset(&p, 0, sizeof(p));
	p.opted_in = 0;
	p.discreet = -1;
	p.registered = -1;
	if ((rc = begin_write(w, &err)) < 0 ||
	    (rc = cm_store_victim_set_prefs(w->st, v.id, &p, &err)) < 0 ||
	    (rc = cm_store_audit(w->st, "web", "victim.unsubscribe", ref, d,
				 &err)) < 0 ||
	    (rc = commit_write(w, &err)) < 0) {
		fail_store(w, r, rc, "unsubscribe", err);
		goto out;
	}
	cm_log_info("case=%s victim=%lld unsubscribed from email", ref,
		    (long long)v.id);
	page_begin(&r->body, w, "Emails stopped", false);
	(void)cm_buf_puts(&r->body, "<h1>You will no longer get emails"
				    "</h1>\n<p>We will not send you "
				    "notices by email.</p>\n");
	page_end(&r->body, w);
out:
	cm_victim_clear(&v);
}

/* form_ctype - the body is application/x-www-form-urlencoded */
static bool
form_ctype(const char *ct)
{
	size_t n = sizeof("application/x-www-form-urlencoded") - 1;

	return ct != NULL &&
	       strncasecmp(ct, "application/x-www-form-urlencoded", n) ==
		       0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* route - dispatch one request */
void
route(struct web *w, struct req *q, struct resp *r)
{
	int64_t now = cm_now();
	bool get = strcmp(q->method, "GET") == 0 ||
		   strcmp(q->method, "HEAD") == 0;
	bool post = strcmp(q->method, "POST") == 0;
	bool unsub = strncmp(q->path, "/unsubscribe/", 13) == 0;
	char tok[WEB_MAX_PATH_TOKEN + 1];

	w->discreet = false;
	if (!rate_hit(w->rate, "ip", q->ip, w->cfg->portal_rate_ip, 60,
		      now)) {
		page_error(r, w, 429, "Too many requests",
			   "Please wait a minute and try again.");
		r->retry_after = 60;
		return;
	}
	if (!get && !post) {
		page_error(r, w, 405, "Not allowed",
			   "This method is not allowed here.");
		return;
	}
	if (q->too_big) {
		page_error(r, w, 413, "Too large",
			   "What you sent is too large.");
		return;
	}
	if (post && !unsub) {
		if (q->origin != NULL && strcmp(q->origin, w->origin) != 0) {
			refused(w, q, r, 403, "origin", "Not allowed",
				"This form was sent from another site.");
			return;
		}
		if (!form_ctype(q->ctype)) {
			page_error(r, w, 415, "Bad request",
				   "Expected a form.");
			return;
		}
		if (form_parse(q->body != NULL ? q->body : "", q->body_len,
			       &q->form) < 0) {
			page_error(r, w, 400, "Bad request",
				   "The form could not be read.");
			return;
		}
	}
	if (path_token(q->path, "/l/", tok, sizeof(tok)) ||
	    path_token(q->path, "/unsubscribe/", tok, sizeof(tok))) {
		/* only a try counts: scanners GET and HEAD links freely */
		if (!unsub && post &&
		    !rate_hit(w->rate, "token", tok,
			      w->cfg->portal_rate_token, 3600, now)) {
			page_error(r, w, 429, "Too many attempts",
				   "This link has been tried too often. "
				   "Please wait an hour and try again.");
			r->retry_after = 3600;
		} else if (unsub) {
			(get ? h_unsub_get : h_unsub_post)(w, q, r, tok, now);
		} else {
			(get ? h_link_get : h_link_post)(w, q, r, tok, now);
		}
		return;
	}
	if (get && strcmp(q->path, "/static/casemail.css") == 0) {
		size_t n;
		const char *css = page_css(&n);

		(void)cm_buf_append(&r->body, css, n);
		r->ctype = "text/css; charset=utf-8";
		r->cacheable = true;
	} else if (get && strcmp(q->path, "/") == 0) {
		h_home(w, q, r, now);
	} else if (get && strcmp(q->path, "/case") == 0) {
		h_case(w, q, r, now);
	} else if (post && strcmp(q->path, "/case/message") == 0) {
		h_message(w, q, r, now);
	} else if (strcmp(q->path, "/register") == 0) {
		(get ? h_register_get : h_register_post)(w, q, r, now);
	} else if (strcmp(q->path, "/settings") == 0) {
		(get ? h_settings_get : h_settings_post)(w, q, r, now);
	} else if (post && strcmp(q->path, "/logout") == 0) {
		h_logout(w, q, r, now);
	} else if (post && strcmp(q->path, "/fresh") == 0) {
		h_fresh(w, q, r, now);
	} else if (get && metrics_route(w, q, r)) {
		/* /metrics, when on and asked from loopback (metrics.c) */
	} else {
		page_error(r, w, 404, "Page not found",
			   "There is no page at this address.");
	}
}
