/*
 * web.h - casemail-web: shared state of the portal's program logic
 *
 * SYNOPSIS
 *	#include "web.h"
 *
 * DESCRIPTION
 *	main.c reads the options, the configuration, the secret and the
 *	store into struct web and runs the event loop; http.c is the only
 *	file that includes libmicrohttpd: it turns a request into a
 *	struct req, calls route() (routes.c) and sends the struct resp it
 *	fills, with the security headers. pages.c renders HTML (every
 *	piece of data through cm_html_escape), session.c holds sessions,
 *	CSRF tokens and the audit queue, form.c and rate.c are pure
 *	helpers (form decoding, paths, addresses; rate limits) with unit
 *	tests of their own.
 *
 * DIAGNOSTICS
 *	Handlers answer every failure with an error page; store trouble
 *	is logged once and answered 503 (temporary) or 500.
 *
 * SECURITY
 *	Tokens, session cookies and message bodies are never logged.
 */
#ifndef WEB_H
#define WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"

#define WEB_MAX_FIELDS 32      /* fields in one form */
#define WEB_MAX_PATH_TOKEN 128 /* bytes of a token or key in a path */
#define WEB_CSRF_LEN 22        /* base64url characters of a CSRF token */
#define WEB_AUDIT_MAX 256      /* queued view rows before a flush */
#define WEB_AUDIT_DELAY 1      /* seconds a queued view row may wait */
#define WEB_TOUCH_EVERY 60     /* seconds between session seen_at writes */
#define WEB_CACHE 64           /* rendered case pages kept */
#define WEB_STATUS_MAX 600     /* HTTP statuses counted: 0..599 */

/* ---- form.c: pure helpers ---- */

/* struct form - decoded application/x-www-form-urlencoded fields */
struct form {
	size_t n;
	char *name[WEB_MAX_FIELDS];
	char *value[WEB_MAX_FIELDS];
};

/*
 * form_parse - decode body[0..len) into f (form_free releases it).
 * '+' is a space, %XX a byte. -1 for a malformed escape, a NUL byte,
 * invalid UTF-8, a control byte other than TAB, CR and LF, or more than
 * WEB_MAX_FIELDS fields (f is then empty).
 */
int form_parse(const char *body, size_t len, struct form *f);
/* form_get - the value of the first field called name, or NULL
 * (borrowed from f) */
const char *form_get(const struct form *f, const char *name);
/* form_free - release the fields; f is left empty */
void form_free(struct form *f);

/*
 * path_token - when path is prefix followed by one segment of 1 to
 * WEB_MAX_PATH_TOKEN characters of [A-Za-z0-9_-], copy the segment into
 * out (outsize bytes) and return true.
 */
bool path_token(const char *path, const char *prefix, char *out,
		size_t outsize);

/* origin_of - "scheme://host[:port]" of url, lower-cased (caller frees) */
char *origin_of(const char *url);

/*
 * listen_parse - "A.B.C.D:PORT" or "[IPv6]:PORT" into *ss and *len_r;
 * 0 or -1
 */
int listen_parse(const char *s, struct sockaddr_storage *ss,
		 socklen_t *len_r);

/*
 * text_clean - a message as typed: CR LF and lone CR become LF, white
 * space trimmed at both ends (caller frees)
 */
char *text_clean(const char *s);

/* ct_equal - constant-time comparison of two strings (length leaks) */
bool ct_equal(const char *a, const char *b);

/*
 * route_name - the portal's name for path: the path itself for a fixed
 * route ("/case"), "/l/-" and "/unsubscribe/-" for those with a token,
 * "other" for anything else. A static string: what logs and the audit
 * log may say of a path, which is attacker text.
 */
const char *route_name(const char *path);


/* ---- rate.c: fixed-window counters ---- */

struct rate;

/* rate_new - a table of at most slots counters (a power of two is
 * not required); caller frees with rate_free */
struct rate *rate_new(size_t slots);
/* rate_free - release r and set *r to NULL */
void rate_free(struct rate **r);
/*
 * rate_hit - count one event for (kind, key) in the current window of
 * window seconds at now; true while the count is at most limit. When
 * the table is full the oldest counter nearby is reused.
 */
bool rate_hit(struct rate *r, const char *kind, const char *key,
	      long limit, long window, int64_t now);

/* ---- the program state ---- */

/* one view waiting in the audit queue (identical views are merged) */
struct aq_item {
	char *actor, *action, *ref, *detail;
	long count;
};

/* struct sess - the signed-in victim of a request */
struct sess {
	struct cm_session row;
	unsigned char hash[CM_HASH_LEN];
	char csrf[WEB_CSRF_LEN + 1];
	char actor[48]; /* "web:victim:ID" */
};

/*
 * struct page_cache - a rendered case page, valid while the store's
 * data_version (other processes' commits) and web.gen (our own writes)
 * are what they were when it was rendered
 */
struct page_cache {
	bool used;
	int64_t dv;
	uint64_t gen;
	struct sess s;
	char ref[CM_MAX_REF + 1];
	char *page;
	size_t len;
};

struct hconn; /* http.c: one open connection */

struct web {
	const struct cm_config *cfg;
	const struct cm_secret *secret;
	struct cm_store *st;
	struct rate *rate;
	char *origin;         /* of portal_url, for the Origin check */
	const char *sid_name; /* session cookie name */
	const char *pre_name; /* pre-session (CSRF) cookie name */
	struct aq_item aq[WEB_AUDIT_MAX];
	size_t aq_n;
	int64_t aq_since; /* when the oldest queued row was queued */
	struct page_cache cache[WEB_CACHE];
	uint64_t gen; /* bumped by every commit of ours but audit rows */
	struct hconn *conns; /* open connections (http.c) */
	bool discreet; /* this request's pages are for a discreet victim:
			  set by the handler that knows, reset by route */
	uint64_t answered[WEB_STATUS_MAX]; /* answers by HTTP status */
};

/* struct req - what a handler sees of a request (strings borrowed) */
struct req {
	const char *method; /* "GET", "HEAD" or "POST" */
	const char *path;
	const char *ip;
	const char *sid;    /* session cookie value or NULL */
	const char *pre;    /* pre-session cookie value or NULL */
	const char *origin; /* Origin header or NULL */
	const char *ctype;  /* Content-Type or NULL */
	bool done;          /* ?done=1: the last post worked */
	bool too_big;       /* the body passed portal_max_body */
	bool peer_loopback; /* the TCP peer is a loopback address */
	bool forwarded;     /* X-Forwarded-For or Forwarded came along */
	const char *body;
	size_t body_len;
	struct form form;
};

#define RESP_MAX_COOKIES 3

/* struct resp - what a handler answers (owned strings) */
struct resp {
	int status;
	const char *ctype;  /* NULL: text/html; charset=utf-8 */
	struct cm_buf body;
	char *location;
	char *cookie[RESP_MAX_COOKIES];
	int ncookie;
	bool cacheable;     /* static files */
	long retry_after;   /* 429/503: seconds; 0 none */
};

/* resp_init - an empty 200 answer; resp_free releases it */
void resp_init(struct resp *r);
void resp_free(struct resp *r);
/* resp_cookie - add a Set-Cookie value (formatted) */
void resp_cookie(struct resp *r, const char *fmt, ...) CM_ATTR_PRINTF(2, 3);

/* routes.c: route - answer req into resp */
void route(struct web *w, struct req *req, struct resp *resp);

/* ---- session.c ---- */

/* cache_free - drop every cached page */
void cache_free(struct web *w);

/*
 * sess_get - the live session of cookie value sid into *s: 0, CM_ENOENT
 * (no cookie, unknown, ended, idle or past its end; s->row is then the
 * session found, or zeros), or a store error with *error_r. Records
 * activity at most every WEB_TOUCH_EVERY s.
 */
int sess_get(struct web *w, const char *sid, int64_t now, struct sess *s,
	     const char **error_r);
/*
 * sess_start - a new session for victim on case (in the open
 * transaction). Returns the cookie value (caller wipes and frees) or
 * NULL with *error_r.
 */
char *sess_start(struct web *w, int64_t victim_id, int64_t case_id,
		 int64_t token_id, int64_t now, int64_t *id_r,
		 const char **error_r);
/*
 * csrf_make - the CSRF token for purpose ("s" for a session, "p" for
 * the pre-session cookie) bound to bind[0..len) into out
 */
void csrf_make(const struct cm_secret *secret, const char *purpose,
	       const void *bind, size_t len, char out[WEB_CSRF_LEN + 1]);
/* csrf_ok - given is the CSRF token for purpose and bind */
bool csrf_ok(const struct cm_secret *secret, const char *purpose,
	     const void *bind, size_t len, const char *given);

/* audit_view - queue one view row (merged with an identical one) */
void audit_view(struct web *w, const char *actor, const char *action,
		const char *ref, const char *detail, int64_t now);
/* audit_drain - write the queued rows in the open transaction (they
 * stay queued until audit_done) */
int audit_drain(struct web *w, const char **error_r);
/* audit_done - forget the queued rows after a commit */
void audit_done(struct web *w);
/* audit_anchor - log "audit anchor count=N head=HEX" after a commit of
 * audit rows, for a head kept outside the database */
void audit_anchor(struct web *w);
/* audit_flush - when force, or the queue is full or old: begin, drain,
 * commit. 0 or a store error (logged). */
int audit_flush(struct web *w, bool force, int64_t now);

/* ---- http.c (the only user of libmicrohttpd) ---- */

struct MHD_Daemon;
/* http_start - listen on portal_listen; NULL with *error_r */
struct MHD_Daemon *http_start(struct web *w, const char **error_r);
/* http_run - serve for at most ms milliseconds, then close the
 * connections whose request is overdue; 0 or -1 */
int http_run(struct web *w, struct MHD_Daemon *d, long ms);
/* http_stop - close everything; sets *d to NULL */
void http_stop(struct MHD_Daemon **d);

/* ---- metrics.c ---- */

/*
 * metrics_route - when q asks for /metrics, portal_metrics is on, the
 * peer is loopback and nothing says a proxy forwarded it: the metrics
 * (cm_metrics, then the portal's answers by status) into r, true.
 * false for anything else (route answers 404 as for any unknown path).
 */
bool metrics_route(struct web *w, const struct req *q, struct resp *r);
/* metrics_count - count one answer of status */
void metrics_count(struct web *w, int status);

/* ---- pages.c ---- */

/* page_begin - the document head and the page header: the force's
 * name, or discreet_name and plain words when w->discreet */
void page_begin(struct cm_buf *b, const struct web *w, const char *title,
		bool signed_in);
/* page_end - the footer and the end of the document */
void page_end(struct cm_buf *b, const struct web *w);
/* put_esc - append s HTML-escaped */
void put_esc(struct cm_buf *b, const char *s);
/* put_hidden - a hidden input name=value, escaped */
void put_hidden(struct cm_buf *b, const char *name, const char *value);
/* page_error - a whole error page with a heading and a sentence */
void page_error(struct resp *r, const struct web *w, int status,
		const char *title, const char *text);
/* page_css - the style sheet and its length */
const char *page_css(size_t *len_r);

#endif
