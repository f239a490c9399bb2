/*
 * cmd_admin.c - casemail init, config, stats, audit, notices, address
 *
 * SYNOPSIS
 *	casemail init
 *	casemail config check | config show
 *	casemail stats [--json | --openmetrics]
 *	casemail audit verify | audit list [REF] [--limit N] [--json]
 *	casemail notices [--status S] [--json]
 *	casemail address reply REF VICTIM_ID | address bounce NOTICE_ID
 *
 * DESCRIPTION
 *	init makes what the config names and is missing: the spool
 *	directory, the outbox maildir, the secret file (mode 0600) and the
 *	database (created and migrated); run again, it changes nothing and
 *	says so. It refuses to make a new secret beside an existing
 *	database: a new key would break the audit chain and every reply
 *	address already sent. Run as root (without mda_allow_root), it
 *	gives the directories and the secret it makes to run_user, then
 *	becomes run_user to make the database, so that every file is
 *	owned by the user the programs run as; run as that user, it needs
 *	the directories to be writable (the secret's too when it must
 *	make the secret).
 *
 *	config check reads the file, then (as run_user when started by
 *	root) looks at everything a program will need: the secret, the
 *	database, the spool, the outbox, the templates, the password and
 *	key files, portal_url against portal_listen; one line per problem
 *	with its fix, exit 1 when there is one. audit verify walks the hash
 *	chain of the audit log. stats --openmetrics prints the metrics
 *	(cm_metrics) for node_exporter's textfile collector. address
 *	prints the reply or bounce address the sender would use, for tests
 *	and for postmasters.
 *
 * DIAGNOSTICS
 *	"config FILE ok" or "FILE:LINE: reason"; "audit log intact: N rows"
 *	or "audit log broken at row ID: reason" (exit 1).
 *
 * SECURITY
 *	config show hides the password of a URL (smtp://user:pass@host).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cm_addr.h"
#include "cm_maildir.h"
#include "cm_metrics.h"
#include "cm_preflight.h"

/* struct owner - whom root's init gives what it makes (set: root) */
struct owner {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* give_dir - a directory root just made goes to the owner */
static int
give_dir(const struct owner *ow, const char *dir)
{
	if (!ow->set)
		return 0;
	if (lchown(dir, ow->uid, ow->gid) < 0)
		return cli_fail(CLI_EXIT_ERR, "cannot give %s to the run_user: "
				"%s", dir, strerror(errno));
	return 0;
}

/* give_secret - the secret root just made goes to the owner: through
 * a descriptor of the file itself (no link followed, one link only) */
static int
give_secret(const struct owner *ow, const char *path)
{
	struct stat sb;
	int fd, ret = 0;

	if (!ow->set)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_nlink != 1 || fchown(fd, ow->uid, ow->gid) < 0)
		ret = cli_fail(CLI_EXIT_ERR, "cannot give the secret file %s "
			       "to the run_user: %s", path,
			       errno != 0 ? strerror(errno) : "not a file");
	if (fd >= 0)
		(void)close(fd);
	return ret;
}

/* exists - does path exist; -1 (errno) on trouble other than ENOENT */
static int
exists(const char *path, bool *yes_r)
{
	struct stat sb;

	*yes_r = false;
	if (stat(path, &sb) == 0) {
		*yes_r = true;
		return 0;
	}
	return errno == ENOENT ? 0 : -1;
}

/* init_dir - the spool directory (or, for root, the database's) */
static int
init_dir(const char *what, const char *dir, struct cm_buf *made,
	 const struct owner *ow)
{
	struct stat sb;
	bool there;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	if (exists(dir, &there) < 0)
		return cli_fail(CLI_EXIT_ERR, "cannot access %s %s: %s", what,
				dir, strerror(errno));
	if (there) {
		if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
			return cli_fail(CLI_EXIT_ERR, "%s %s is not a "
					"directory", what, dir);
		printf("%s %s exists\n", what, dir);
		return 0;
	}
	if (cm_mkdir_p(dir, 0700) < 0)
		return cli_fail(CLI_EXIT_ERR, "cannot create %s %s: %s%s", what,
				dir, strerror(errno),
				errno == EACCES && geteuid() != 0
					? " (run casemail init as root: it "
					  "gives what it makes to run_user)"
					: "");
	if (give_dir(ow, dir) != 0)
		return CLI_EXIT_ERR;
	printf("created %s %s\n", what, dir);
	if (made != NULL)
		cm_buf_puts(made, made->len ? ",spool" : "spool");
	return 0;
}

/* init_outbox - the outbox maildir */
static int
init_outbox(const char *dir, struct cm_buf *made, const struct owner *ow)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	const char *err = NULL;
	char *newdir;
	bool there;
	int ret = 0;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	newdir = cm_xasprintf("%s/new", dir);
	if (exists(newdir, &there) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "cannot access outbox %s: %s",
			       dir, strerror(errno));
		goto out;
	}
	if (cm_maildir_create(dir, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "cannot create outbox maildir "
			       "%s: %s", dir, err != NULL ? err : "failed");
		goto out;
	}
	if (there) {
		printf("outbox maildir %s exists\n", dir);
	} else {
		for (size_t i = 0; ow->set && i < CM_ARRAY_SIZE(sub); i++) {
			char *d = cm_xasprintf("%s%s", dir, sub[i]);

			ret = give_dir(ow, d);
			free(d);
			if (ret != 0)
				goto out;
		}
		printf("created outbox maildir %s\n", dir);
		cm_buf_puts(made, made->len ? ",outbox" : "outbox");
	}
out:
	free(newdir);
	return ret;
}

/* init_secret - create the secret unless it exists, then load it */
static int
init_secret(struct cli *c, bool db_there, struct cm_buf *made,
	    const struct owner *ow)
{
	const char *path = c->cfg->secret_file, *err = NULL;
	bool there, temp = false;

	if (exists(path, &there) < 0)
		return cli_fail(CLI_EXIT_ERR, "cannot access secret file %s: "
				"%s", path, strerror(errno));
	if (!there && db_there)
		return cli_fail(CLI_EXIT_ERR, "secret file %s is missing but "
				"database %s exists: restore the secret (a new "
				"one would break the audit log and every reply "
				"address)", path, c->cfg->database);
	if (!there) {
		if (cm_secret_create(path, &err) < 0)
			return cli_fail(CLI_EXIT_ERR, "%s%s",
					err != NULL ? err : "cannot create "
							  "the secret",
					geteuid() != 0
						? " (run casemail init as "
						  "root: it gives what it "
						  "makes to run_user)"
						: "");
		if (give_secret(ow, path) != 0)
			return CLI_EXIT_ERR;
		printf("created secret file %s (mode 0600)\n", path);
		cm_buf_puts(made, made->len ? ",secret" : "secret");
	} else {
		printf("secret file %s exists\n", path);
	}
	c->secret = cm_secret_load(path, &temp, &err);
	if (c->secret == NULL)
		return cli_fail(temp ? CLI_EXIT_TEMP : CLI_EXIT_ERR, "%s",
				err != NULL ? err : "cannot load the secret");
	return 0;
}

/* init_db - create or migrate the database */
static int
init_db(struct cli *c, bool db_there, struct cm_buf *made)
{
	const char *db = c->cfg->database, *err = NULL;
	char *copy = cm_xstrdup(db), *parent = dirname(copy);
	bool there;
	int rc, ret = 0;

	if (!db_there && exists(parent, &there) == 0 && !there &&
	    cm_mkdir_p(parent, 0700) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "cannot create directory %s for "
			       "the database: %s", parent, strerror(errno));
		goto out;
	}
	rc = cm_store_open(db, c->secret, c->cfg->busy_timeout,
			   CM_STORE_CREATE, &c->st, &err);
	if (rc < 0) {
		ret = cli_fail(rc == CM_ETEMP ? CLI_EXIT_TEMP : CLI_EXIT_ERR,
			       "cannot %s database %s: %s",
			       db_there ? "open" : "create", db,
			       err != NULL ? err : "failed");
		goto out;
	}
	c->work.cfg = c->cfg;
	c->work.secret = c->secret;
	c->work.store = c->st;
	c->work.actor = c->actor;
	if (db_there) {
		printf("database %s at schema version %d\n", db,
		       cm_store_version(c->st));
	} else {
		printf("created database %s (schema version %d)\n", db,
		       cm_store_version(c->st));
		cm_buf_puts(made, made->len ? ",database" : "database");
	}
out:
	free(copy);
	return ret;
}

/*
 * init_owner - for root (unless the programs may run as root), the
 * run_user that gets what init makes
 */
static int
init_owner(struct cli *c, struct owner *ow)
{
	const char *err = NULL;
	unsigned int uid, gid;

	memset(ow, 0, sizeof(*ow));
	if (geteuid() != 0 || c->cfg->mda_allow_root)
		return 0;
	if (cm_preflight_owner(c->cfg, &uid, &gid, &err) < 0)
		return cli_fail(CLI_EXIT_ERR, "%s", err);
	ow->set = uid != 0;
	ow->uid = (uid_t)uid;
	ow->gid = (gid_t)gid;
	return 0;
}

/* cmd_init - make what is missing */
int
cmd_init(struct cli *c, struct args *a)
{
	struct cm_buf made;
	struct owner ow;
	const char *err = NULL;
	char *detail = NULL, *copy = NULL;
	bool db_there;
	int ret;

	(void)a;
	cm_buf_init(&made, 256);
	if ((ret = init_owner(c, &ow)) != 0)
		goto out;
	if (exists(c->cfg->database, &db_there) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "cannot access database %s: %s",
			       c->cfg->database, strerror(errno));
		goto out;
	}
	copy = cm_xstrdup(c->cfg->database);
	if ((ret = init_dir("spool directory", c->cfg->spool_dir, &made,
			    &ow)) ||
	    (ow.set && !db_there &&
	     (ret = init_dir("database directory", dirname(copy), NULL,
			     &ow))) ||
	    (ret = init_outbox(c->cfg->outbox_dir, &made, &ow)) ||
	    (ret = init_secret(c, db_there, &made, &ow)))
		goto out;
	/* the database, its -wal and -shm are made by run_user itself */
	if (ow.set && cm_preflight_become(c->cfg, NULL, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "%s", err);
		goto out;
	}
	if ((ret = init_db(c, db_there, &made)))
		goto out;
	if (made.len == 0) {
		printf("nothing to do\n");
		goto out;
	}
	if ((ret = cli_begin(c)) != 0)
		goto out;
	detail = cm_xasprintf("created=%s version=%d", made.data,
			      cm_store_version(c->st));
	ret = cli_finish(c, "store.init", NULL, detail);
out:
	free(copy);
	free(detail);
	cm_buf_free(&made);
	return ret;
}

/* put_warning - one config warning on stderr */
static void
put_warning(enum cm_config_warning kind, const char *text, void *ctx)
{
	(void)kind;
	(void)ctx;
	fprintf(stderr, "casemail: warning: %s\n", text);
}

/* put_problem - one thing that would stop a program, on stderr */
static void
put_problem(const char *text, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "casemail: %s\n", text);
}

/*
 * cmd_config_check - validate the config file, warn about the settings
 * that load but are doubtful (they do not fail the check), then look
 * at what the programs will need, as run_user when root runs it
 */
int
cmd_config_check(struct cli *c, struct args *a)
{
	struct cm_config *cfg;
	const char *err = NULL;
	int n, ret = 0;

	(void)a;
	cfg = cm_config_load(c->conf_path, &err);
	if (cfg == NULL) {
		if (err != NULL && strstr(err, c->conf_path) != NULL)
			return cli_fail(CLI_EXIT_ERR, "%s", err);
		return cli_fail(CLI_EXIT_ERR, "%s: %s", c->conf_path,
				err != NULL ? err : "invalid");
	}
	fflush(stdout);
	cm_config_warnings(cfg, put_warning, NULL);
	if (cm_preflight_become(cfg, NULL, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "%s", err);
		goto out;
	}
	n = cm_preflight(cfg, CM_PF_ALL, put_problem, NULL);
	if (n > 0) {
		ret = cli_fail(CLI_EXIT_ERR, "config %s: %d problem%s above",
			       c->conf_path, n, n == 1 ? "" : "s");
		goto out;
	}
	printf("casemail: config %s ok\n", c->conf_path);
out:
	cm_config_free(&cfg);
	return ret;
}

/* hide_password - value with the password of a URL shown as ****;
 * caller frees */
static char *
hide_password(const char *value)
{
	const char *v = value != NULL ? value : "";
	const char *scheme = strstr(v, "://"), *at, *colon;

	if (scheme != NULL && (at = strchr(scheme + 3, '@')) != NULL &&
	    (colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) !=
		    NULL)
		return cm_xasprintf("%.*s:****%s", (int)(colon - v), v, at);
	return cm_xstrdup(v);
}

/* show_key - one "key = value" line */
static void
show_key(const char *key, const char *value, void *ctx)
{
	char *v = hide_password(value);

	(void)ctx;
	printf("%s = ", key);
	out_text(v);
	fputc('\n', stdout);
	free(v);
}

/* put_key - one key as a JSON member */
static void
put_key(const char *key, const char *value, void *ctx)
{
	char *v = hide_password(value);

	out_str(ctx, key, v);
	free(v);
}

/* cmd_config_show - every key with the value in force */
int
cmd_config_show(struct cli *c, struct args *a)
{
	struct out *o;

	if (!arg_flag(a, "json")) {
		cm_config_dump(c->cfg, show_key, NULL);
		return 0;
	}
	o = out_new(true);
	out_begin(o, "config");
	cm_config_dump(c->cfg, put_key, o);
	out_end(o);
	return out_flush(&o);
}

/* put_stat - one statistic */
static int
put_stat(const char *name, int64_t value, void *ctx)
{
	out_int(ctx, name, value);
	return 0;
}

/* stats_openmetrics - the metrics in the OpenMetrics text format */
static int
stats_openmetrics(struct cli *c)
{
	struct cm_buf b;
	const char *err = NULL;
	int rc, ret = 0;

	cm_buf_init(&b, CM_METRICS_MAX);
	rc = cm_metrics_render(c->st, cm_now(), &b, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read the metrics", err);
		goto out;
	}
	cm_metrics_eof(&b);
	if (fwrite(b.data, 1, b.len, stdout) != b.len)
		ret = cli_fail(CLI_EXIT_ERR, "cannot write: %s",
			       strerror(errno));
out:
	cm_buf_free(&b);
	return ret;
}

/* cmd_stats - counts from the store */
int
cmd_stats(struct cli *c, struct args *a)
{
	struct out *o = NULL;
	const char *err = NULL;
	int rc, ret;

	if (arg_flag(a, "openmetrics")) {
		if (arg_flag(a, "json"))
			return cli_fail(CLI_EXIT_USAGE, "--json or "
					"--openmetrics, not both");
		return stats_openmetrics(c);
	}
	o = out_new(arg_flag(a, "json"));
	rc = cm_store_stats(c->st, put_stat, o, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read statistics", err);
		goto out;
	}
	ret = out_flush(&o);
out:
	out_free(&o);
	return ret;
}

/* parse_anchor - "COUNT:HEAD" (HEAD 64 hex digits, either case) into
 * *count_r and head; 0 or -1 */
static int
parse_anchor(const char *s, int64_t *count_r,
	     unsigned char head[CM_HASH_LEN])
{
	const char *colon = strchr(s, ':'), *h;
	char num[24];
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 ||
	    n >= sizeof(num) || strlen(colon + 1) != 2 * CM_HASH_LEN)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (cm_parse_int64(num, count_r) < 0)
		return -1;
	h = colon + 1;
	for (size_t i = 0; i < CM_HASH_LEN; i++) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = h[2 * i + (size_t)k];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= ch - '0';
			else if (ch >= 'a' && ch <= 'f')
				v |= ch - 'a' + 10;
			else if (ch >= 'A' && ch <= 'F')
				v |= ch - 'A' + 10;
			else
				return -1;
		}
		head[i] = (unsigned char)v;
	}
	return 0;
}

/* cmd_audit_verify - walk the hash chain; with --anchor, check that the
 * chain still holds the row an earlier anchor names */
int
cmd_audit_verify(struct cli *c, struct args *a)
{
	unsigned char head[CM_HASH_LEN];
	const char *err = NULL, *anchor = arg_opt(a, "anchor");
	int64_t rows = 0, bad = 0, count = 0;
	int rc;

	if (anchor != NULL && parse_anchor(anchor, &count, head) < 0)
		return cli_fail(CLI_EXIT_USAGE, "--anchor wants COUNT:HEAD "
				"(a row count and 64 hex digits, as logged in "
				"\"audit anchor count=N head=HEX\"), not "
				"\"%s\"", cli_san(anchor));
	rc = cm_store_audit_verify(c->st, &rows, &bad, &err);
	if (rc == CM_ETEMP)
		return cli_store_fail(c, rc, "cannot verify the audit log",
				      err);
	if (rc < 0 && bad > 0)
		return cli_fail(CLI_EXIT_ERR, "audit log broken at row %lld: "
				"%s", (long long)bad,
				err != NULL ? err : "hash mismatch");
	if (rc < 0)
		return cli_fail(CLI_EXIT_ERR, "audit log broken after the last "
				"row: %s", err != NULL ? err : "rows missing");
	if (anchor != NULL) {
		rc = cm_store_audit_check_anchor(c->st, count, head, &err);
		if (rc == CM_ETEMP)
			return cli_store_fail(c, rc, "cannot verify the audit "
					      "log", err);
		if (rc < 0)
			return cli_fail(CLI_EXIT_ERR, "audit log does not "
					"match the anchor %lld:...: %s",
					(long long)count,
					err != NULL ? err : "mismatch");
	}
	printf("audit log intact: %lld rows\n", (long long)rows);
	if (anchor != NULL)
		printf("audit anchor matches: row %lld\n", (long long)count);
	return 0;
}

/* put_audit - one audit row */
static int
put_audit(const struct cm_audit *r, void *ctx)
{
	struct out *o = ctx;

	out_begin(o, NULL);
	out_int(o, "id", r->id);
	out_time(o, "at", r->at);
	out_str(o, "actor", r->actor);
	out_str(o, "action", r->action);
	out_str(o, "case", r->case_ref);
	out_str(o, "detail", r->detail);
	out_end(o);
	return 0;
}

/* cmd_audit_list - audit rows, newest first */
int
cmd_audit_list(struct cli *c, struct args *a)
{
	const char *lim = arg_opt(a, "limit"), *err = NULL;
	struct out *o = out_new(arg_flag(a, "json"));
	char *ref = NULL;
	long limit = 0;
	int rc, ret = 0;

	if (lim != NULL && cm_parse_long(lim, 1, 1000000000L, &limit) < 0) {
		ret = cli_fail(CLI_EXIT_USAGE, "--limit must be a number from "
			       "1, not \"%s\"", cli_san(lim));
		goto out;
	}
	if (a->npos == 1 && (ref = cli_ref(c, a->pos[0], &ret)) == NULL)
		goto out;
	out_list(o, "audit");
	rc = cm_store_audit_list(c->st, ref, limit, put_audit, o, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list the audit log", err);
		goto out;
	}
	out_end(o);
	ret = out_flush(&o);
out:
	free(ref);
	out_free(&o);
	return ret;
}

struct notices {
	struct cm_notice *v;
	size_t n, cap;
};

/* collect_notice - copy one notice (strings we print only) */
static int
collect_notice(const struct cm_notice *nt, void *ctx)
{
	struct notices *l = ctx;
	struct cm_notice *d;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	d = &l->v[l->n++];
	memset(d, 0, sizeof(*d));
	d->id = nt->id;
	d->case_id = nt->case_id;
	d->victim_id = nt->victim_id;
	d->officer_id = nt->officer_id;
	d->message_id = nt->message_id;
	d->attempts = nt->attempts;
	d->created_at = nt->created_at;
	d->next_attempt_at = nt->next_attempt_at;
	d->kind = cm_xstrdup(nt->kind);
	d->channel = cm_xstrdup(nt->channel);
	d->status = cm_xstrdup(nt->status);
	d->last_error = cm_xstrdup(nt->last_error);
	return 0;
}

/* notices_free - release copied notices */
static void
notices_free(struct notices *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].kind);
		free((char *)l->v[i].channel);
		free((char *)l->v[i].status);
		free((char *)l->v[i].last_error);
	}
	free(l->v);
}

/* recipient - the address or number a notice goes to (caller frees) */
static int
recipient(struct cli *c, const struct cm_notice *nt, char **r_r)
{
	struct cm_victim v = { 0 };
	struct cm_officer o = { 0 };
	const char *err = NULL;
	int rc;

	*r_r = NULL;
	if (nt->victim_id != 0) {
		rc = cm_store_victim_get(c->st, nt->victim_id, &v, &err);
		if (rc == 0)
			*r_r = cm_xstrdup(strcmp(nt->channel, "sms") == 0 ?
						  v.phone : v.email);
	} else {
		rc = cm_store_officer_get_id(c->st, nt->officer_id, &o, &err);
		if (rc == 0)
			*r_r = cm_xstrdup(o.email);
	}
	cm_victim_clear(&v);
	cm_officer_clear(&o);
	if (rc < 0 && rc != CM_ENOENT)
		return cli_store_fail(c, rc, "cannot read recipient", err);
	return 0;
}

/* valid_nstatus - a notice status name */
static bool
valid_nstatus(const char *s)
{
	static const char *const names[] = { "queued", "sending", "sent",
					     "deferred", "failed",
					     "suppressed" };

	for (size_t i = 0; i < CM_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/* cmd_notices - the outbound queue */
int
cmd_notices(struct cli *c, struct args *a)
{
	const char *status = arg_opt(a, "status"), *err = NULL;
	struct out *o = out_new(arg_flag(a, "json"));
	struct notices l = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	char *to = NULL;
	int rc, ret;

	if (status != NULL && !valid_nstatus(status)) {
		ret = cli_fail(CLI_EXIT_USAGE, "status must be queued, "
			       "sending, sent, deferred, failed or "
			       "suppressed, not \"%s\"", cli_san(status));
		goto out;
	}
	rc = cm_store_notice_list(c->st, status, collect_notice, &l, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list notices", err);
		goto out;
	}
	out_list(o, "notices");
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_notice *nt = &l.v[i];

		if (cs.id != nt->case_id) {
			cm_case_clear(&cs);
			rc = cm_store_case_get_id(c->st, nt->case_id, &cs,
						  &err);
			if (rc < 0 && rc != CM_ENOENT) {
				ret = cli_store_fail(c, rc, "cannot read "
						     "case", err);
				goto out;
			}
		}
		free(to);
		if ((ret = recipient(c, nt, &to)) != 0)
			goto out;
		out_begin(o, NULL);
		out_int(o, "id", nt->id);
		out_str(o, "case", cs.ref);
		out_str(o, "recipient", to);
		out_str(o, "kind", nt->kind);
		out_str(o, "channel", nt->channel);
		out_str(o, "status", nt->status);
		out_int(o, "attempts", nt->attempts);
		out_str(o, "last_error", nt->last_error);
		out_time(o, "created", nt->created_at);
		out_end(o);
	}
	out_end(o);
	ret = out_flush(&o);
out:
	free(to);
	out_free(&o);
	cm_case_clear(&cs);
	notices_free(&l);
	return ret;
}

/*
 * address_key - the reply address (officer NULL) of a victim on a case,
 * or the key address an officer answers that victim through
 */
static int
address_key(struct cli *c, struct args *a, const char *officer)
{
	struct cm_case cs = { 0 };
	struct cm_victim v = { 0 };
	struct cm_officer o = { 0 };
	const char *err = NULL;
	char *key = NULL, *addr = NULL;
	int64_t vid;
	int rc, ret;

	if ((ret = cli_id(a->pos[1], "victim id", &vid)) != 0 ||
	    (ret = cli_case(c, a->pos[0], &cs)) != 0)
		goto out;
	if (officer != NULL &&
	    (ret = cli_active_officer(c, officer, &o)) != 0)
		goto out;
	rc = cm_store_victim_get(c->st, vid, &v, &err);
	if (rc == CM_ENOENT || (rc == 0 && v.case_id != cs.id)) {
		ret = cli_fail(CLI_EXIT_ERR, "no victim %lld on case %s",
			       (long long)vid, cs.ref);
		goto out;
	}
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read victim", err);
		goto out;
	}
	if (officer != NULL) {
		key = cm_addr_officer_key(c->secret, o.id, cs.id, v.id);
		addr = cm_addr_make("officer", key, c->cfg->mail_domain);
	} else {
		key = cm_addr_reply_key(c->secret, v.id, cs.id);
		addr = cm_addr_make("reply", key, c->cfg->mail_domain);
	}
	printf("%s\n", addr);
out:
	free(addr);
	free(key);
	cm_officer_clear(&o);
	cm_victim_clear(&v);
	cm_case_clear(&cs);
	return ret;
}

/* cmd_address_reply - the reply address of a victim on a case */
int
cmd_address_reply(struct cli *c, struct args *a)
{
	return address_key(c, a, NULL);
}

/* cmd_address_officer - the address through which an officer answers
 * one victim of a case (the Reply-To of their notifications) */
int
cmd_address_officer(struct cli *c, struct args *a)
{
	return address_key(c, a, arg_opt(a, "officer"));
}

/* cmd_address_bounce - the VERP envelope sender of a notice */
int
cmd_address_bounce(struct cli *c, struct args *a)
{
	struct cm_notice nt;
	const char *err = NULL;
	char *key = NULL, *addr = NULL;
	int64_t id;
	int rc, ret;

	if ((ret = cli_id(a->pos[0], "notice id", &id)) != 0)
		goto out;
	rc = cm_store_notice_get(c->st, id, &nt, &err);
	if (rc == CM_ENOENT) {
		ret = cli_fail(CLI_EXIT_ERR, "no notice %lld", (long long)id);
		goto out;
	}
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read notice", err);
		goto out;
	}
	key = cm_addr_bounce_key(c->secret, id);
	addr = cm_addr_make("bounce", key, c->cfg->mail_domain);
	printf("%s\n", addr);
out:
	free(addr);
	free(key);
	return ret;
}
