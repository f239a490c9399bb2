/*
 * main.c - casemail: option parsing, dispatch, opening the store
 *
 * SYNOPSIS
 *	casemail [-c FILE] [-v] COMMAND [ARGS...] [--OPTION [VALUE]...]
 *
 * DESCRIPTION
 *	The admin and officer tool. The global options come first; then a
 *	command of one or two words from the table below, whose options
 *	("--name VALUE", "--name=VALUE" or a flag "--name") may come in any
 *	order among its positional arguments; "--" ends the options.
 *	Before the command runs: cm_token_init, logging (syslog, plus
 *	stderr on a terminal or with -v), the config, the secret and the
 *	store, as far as the command needs them. Started by root, a
 *	command on the store runs as run_user (casemail), and init makes
 *	its files for that user (unless mda_allow_root, for test rigs).
 *	See casemail(1).
 *
 * DIAGNOSTICS
 *	One line "casemail: reason" on stderr for every failure. Exit 0 on
 *	success, 1 for errors, 2 for usage errors, 75 when the store is
 *	busy or a retry could help.
 *
 * SECURITY
 *	The config path comes from -c or the build, never the environment.
 *	Every state change runs in one transaction with its audit row,
 *	whose actor is "cli:" and the login name of the real user id;
 *	after its commit the audit chain's anchor ("audit anchor count=N
 *	head=HEX") goes to syslog, outside the database.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_inspect.h"
#include "cmd_token.h"
#include "cm_addr.h"
#include "cm_log.h"
#include "cm_preflight.h"

#define NEED_NONE 0
#define NEED_CONFIG 1 /* the config file only */
#define NEED_STORE 2  /* config, secret and the database */
#define NEED_INIT 3   /* config; the command makes the rest */

struct command {
	const char *word;
	const char *sub; /* NULL for one-word commands */
	int (*fn)(struct cli *c, struct args *a);
	int needs;
	int min_pos, max_pos;
	const char *opts; /* "name=" takes a value, "name" is a flag */
	const char *usage;
};

static int cmd_help(struct cli *c, struct args *a);

static const struct command commands[] = {
	{ "init", NULL, cmd_init, NEED_INIT, 0, 0, "", "init" },
	{ "config", "check", cmd_config_check, NEED_NONE, 0, 0, "",
	  "config check" },
	{ "config", "show", cmd_config_show, NEED_CONFIG, 0, 0, "json",
	  "config show [--json]" },
	{ "officer", "add", cmd_officer_add, NEED_STORE, 0, 0,
	  "email=! name=! collar=",
	  "officer add --email E --name N [--collar C]" },
	{ "officer", "list", cmd_officer_list, NEED_STORE, 0, 0, "json",
	  "officer list [--json]" },
	{ "officer", "disable", cmd_officer_disable, NEED_STORE, 1, 1, "",
	  "officer disable EMAIL" },
	{ "officer", "enable", cmd_officer_enable, NEED_STORE, 1, 1, "",
	  "officer enable EMAIL" },
	{ "case", "add", cmd_case_add, NEED_STORE, 1, 1, "oic=! title=",
	  "case add REF --oic EMAIL [--title T]" },
	{ "case", "list", cmd_case_list, NEED_STORE, 0, 0, "json",
	  "case list [--json]" },
	{ "case", "show", cmd_case_show, NEED_STORE, 1, 1, "json",
	  "case show REF [--json]" },
	{ "case", "close", cmd_case_close, NEED_STORE, 1, 1, "",
	  "case close REF" },
	{ "case", "reopen", cmd_case_reopen, NEED_STORE, 1, 1, "",
	  "case reopen REF" },
	{ "victim", "add", cmd_victim_add, NEED_STORE, 1, 1,
	  "name=! email= phone= channel=",
	  "victim add REF --name N [--email E] [--phone P] "
	  "[--channel email|sms|both|none]" },
	{ "victim", "list", cmd_victim_list, NEED_STORE, 1, 1, "json",
	  "victim list REF [--json]" },
	{ "victim", "show", cmd_victim_show, NEED_STORE, 1, 1, "json",
	  "victim show ID [--json]" },
	{ "update", NULL, cmd_update, NEED_STORE, 1, 1,
	  "officer=! victim= all internal text=",
	  "update REF --officer EMAIL [--victim ID|--all] [--internal] "
	  "[--text T]" },
	{ "thread", NULL, cmd_thread, NEED_STORE, 1, 1, "json",
	  "thread REF [--json]" },
	{ "notices", NULL, cmd_notices, NEED_STORE, 0, 0, "status= json",
	  "notices [--status S] [--json]" },
	{ "stats", NULL, cmd_stats, NEED_STORE, 0, 0, "json openmetrics",
	  "stats [--json | --openmetrics]" },
	{ "doctor", NULL, cmd_doctor, NEED_NONE, 0, 0,
	  "postfix-dir= no-postfix timeout=",
	  "doctor [--postfix-dir DIR] [--no-postfix] [--timeout S]" },
	{ "audit", "verify", cmd_audit_verify, NEED_STORE, 0, 0, "anchor=",
	  "audit verify [--anchor COUNT:HEAD]" },
	{ "audit", "list", cmd_audit_list, NEED_STORE, 0, 1, "limit= json",
	  "audit list [REF] [--limit N] [--json]" },
	{ "held", "list", cmd_held_list, NEED_STORE, 0, 0, "json",
	  "held list [--json]" },
	{ "held", "approve", cmd_held_approve, NEED_STORE, 1, 1, "",
	  "held approve ID" },
	{ "held", "reject", cmd_held_reject, NEED_STORE, 1, 1, "",
	  "held reject ID" },
	{ "quarantine", "list", cmd_quarantine_list, NEED_STORE, 0, 0,
	  "status= json", "quarantine list [--status S] [--json]" },
	{ "quarantine", "show", cmd_quarantine_show, NEED_STORE, 1, 1,
	  "json raw", "quarantine show ID [--json] [--raw]" },
	{ "quarantine", "release", cmd_quarantine_release, NEED_STORE, 1, 1,
	  "case=! as=! victim= all",
	  "quarantine release ID --case REF --as victim|officer|note "
	  "[--victim ID|--all]" },
	{ "quarantine", "delete", cmd_quarantine_delete, NEED_STORE, 1, 1, "",
	  "quarantine delete ID" },
	{ "address", "reply", cmd_address_reply, NEED_STORE, 2, 2, "",
	  "address reply REF VICTIM_ID" },
	{ "address", "officer", cmd_address_officer, NEED_STORE, 2, 2,
	  "officer=!", "address officer REF VICTIM_ID --officer EMAIL" },
	{ "address", "bounce", cmd_address_bounce, NEED_STORE, 1, 1, "",
	  "address bounce NOTICE_ID" },
	{ "victim", "enhanced", cmd_victim_enhanced, NEED_STORE, 2, 2, "",
	  "victim enhanced ID on|off" },
	{ "victim", "rhythm", cmd_victim_rhythm, NEED_STORE, 2, 2, "",
	  "victim rhythm ID weekly|fortnightly|monthly|milestones" },
	{ "milestone", "list", cmd_milestone_list, NEED_STORE, 0, 1, "json",
	  "milestone list [REF] [--json]" },
	{ "milestone", "check", cmd_milestone_check, NEED_STORE, 0, 0,
	  "now= json", "milestone check [--now TIME] [--json]" },
	{ "milestone", NULL, cmd_milestone, NEED_STORE, 2, 2,
	  "officer=! at= victim= all",
	  "milestone REF KIND --officer EMAIL [--at TIME] "
	  "[--victim ID|--all]" },
	{ "report", "compliance", cmd_report_compliance, NEED_STORE, 0, 0,
	  "from=! to=! now= json csv html",
	  "report compliance --from DATE --to DATE [--now TIME] "
	  "[--json|--csv|--html]" },
	{ "inspect", NULL, cmd_inspect, NEED_NONE, 1, 1, "json",
	  "inspect FILE|- [--json]" },
	CMD_TOKEN_COMMANDS,
	{ "help", NULL, cmd_help, NEED_NONE, 0, 1, "", "help [COMMAND]" },
};

/* the command running, for cli_usage */
static const struct command *running;

/* arg_opt - value of an option given on the command line */
const char *
arg_opt(const struct args *a, const char *name)
{
	for (int i = 0; i < a->nopt; i++)
		if (strcmp(a->optname[i], name) == 0)
			return a->optval[i];
	return NULL;
}

/* arg_flag - was the flag given */
bool
arg_flag(const struct args *a, const char *name)
{
	return arg_opt(a, name) != NULL;
}

/* cli_fail - print one error line; returns status */
int
cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("casemail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* cli_usage - the usage line of the running command */
int
cli_usage(struct cli *c)
{
	(void)c;
	if (running == NULL)
		return cli_fail(CLI_EXIT_USAGE,
				"usage: casemail [-c FILE] [-v] COMMAND ... "
				"(casemail help lists the commands)");
	return cli_fail(CLI_EXIT_USAGE, "usage: casemail %s", running->usage);
}

/* cli_store_fail - roll back and report a store error */
int
cli_store_fail(struct cli *c, int rc, const char *what, const char *error)
{
	if (c->st != NULL)
		cm_store_rollback(c->st);
	return cli_fail(rc == CM_ETEMP ? CLI_EXIT_TEMP : CLI_EXIT_ERR,
			"%s: %s%s", what, error != NULL ? error : "failed",
			rc == CM_ETEMP ? " (try again)" : "");
}

/* cli_begin - open a write transaction */
int
cli_begin(struct cli *c)
{
	const char *err = NULL;
	int rc;

	rc = cm_store_begin(c->st, &err);
	if (rc < 0)
		return cli_store_fail(c, rc, "cannot start a transaction", err);
	return 0;
}

/* log_anchor - "audit anchor count=N head=HEX" for the chain as
 * committed, to be kept outside the database (syslog) */
static void
log_anchor(struct cli *c)
{
	unsigned char head[CM_HASH_LEN];
	char hex[2 * CM_HASH_LEN + 1];
	const char *err = NULL;
	int64_t count = 0;

	if (cm_store_audit_anchor(c->st, &count, head, &err) < 0) {
		cm_log_warnx("audit anchor: %s", err != NULL ? err : "?");
		return;
	}
	cm_token_hex(head, sizeof(head), hex);
	cm_log_info("audit anchor count=%lld head=%s", (long long)count, hex);
}

/* cli_finish - audit row, commit, one log line, the audit anchor */
int
cli_finish(struct cli *c, const char *action, const char *ref,
	   const char *detail)
{
	const char *err = NULL;
	char rbuf[128], dbuf[512];
	int rc;

	if (action != NULL) {
		rc = cm_store_audit(c->st, c->actor, action, ref, detail,
				    &err);
		if (rc < 0)
			return cli_store_fail(c, rc, "cannot write the audit "
						     "log", err);
	}
	rc = cm_store_commit(c->st, &err);
	if (rc < 0)
		return cli_store_fail(c, rc, "cannot commit", err);
	if (action != NULL)
		cm_log_info("actor=%s action=%s case=%s %s", c->actor, action,
			    cm_log_sanitize(rbuf, sizeof(rbuf), ref, 64),
			    cm_log_sanitize(dbuf, sizeof(dbuf), detail, 400));
	/* every change of the command line is audited (here or by the
	 * casework it ran) */
	log_anchor(c);
	return 0;
}

/* cli_san - sanitised outside text for a message line */
const char *
cli_san(const char *s)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next];

	next = (next + 1) % 4;
	return cm_log_sanitize(b, sizeof(bufs[0]), s, 200);
}

/* cli_plain_text - valid UTF-8 without control bytes */
bool
cli_plain_text(const char *s)
{
	size_t len = strlen(s);

	if (!cm_utf8_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

/* cli_ref - canonical reference or a printed error */
char *
cli_ref(struct cli *c, const char *ref, int *status_r)
{
	const char *err = NULL;
	char *canon;

	canon = cm_addr_ref_canon(ref, c->cfg->ref_pattern, &err);
	if (canon == NULL && err != NULL)
		*status_r = cli_fail(CLI_EXIT_ERR, "%s", cli_san(err));
	else if (canon == NULL)
		*status_r = cli_fail(CLI_EXIT_ERR, "invalid case reference "
				     "\"%s\"", cli_san(ref));
	return canon;
}

/* cli_case - a case by the user's reference */
int
cli_case(struct cli *c, const char *ref, struct cm_case *c_r)
{
	const char *err = NULL;
	char *canon;
	int rc, ret = CLI_EXIT_ERR;

	memset(c_r, 0, sizeof(*c_r));
	canon = cli_ref(c, ref, &ret);
	if (canon == NULL)
		goto out;
	rc = cm_store_case_get(c->st, canon, c_r, &err);
	if (rc == CM_ENOENT) {
		ret = cli_fail(CLI_EXIT_ERR, "no case %s", cli_san(canon));
		goto out;
	}
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read case", err);
		goto out;
	}
	ret = 0;
out:
	free(canon);
	return ret;
}

/* cli_active_officer - an active officer by email */
int
cli_active_officer(struct cli *c, const char *email, struct cm_officer *o_r)
{
	const char *err = NULL;
	int rc;

	memset(o_r, 0, sizeof(*o_r));
	rc = cm_store_officer_get(c->st, email, o_r, &err);
	if (rc == CM_ENOENT || (rc == 0 && !o_r->active)) {
		cm_officer_clear(o_r);
		return cli_fail(CLI_EXIT_ERR, "no active officer %s",
				cli_san(email));
	}
	if (rc < 0)
		return cli_store_fail(c, rc, "cannot read officer", err);
	return 0;
}

/* cli_id - a row id argument */
int
cli_id(const char *s, const char *what, int64_t *id_r)
{
	int64_t v;

	if (cm_parse_int64(s, &v) < 0 || v < 1)
		return cli_fail(CLI_EXIT_USAGE, "%s must be a number, not "
				"\"%s\"", what, cli_san(s));
	*id_r = v;
	return 0;
}

/*
 * spec_next - the next option of a space separated spec ("name" a flag,
 * "name=" takes a value, "name=!" takes a required value): its name
 * length, whether it takes a value, whether it is required; returns the
 * rest of the spec, or NULL at the end.
 */
static const char *
spec_next(const char *p, const char **name_r, size_t *len_r, bool *takes_r,
	  bool *required_r)
{
	const char *e;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	*name_r = p;
	for (e = p; *e != '\0' && *e != ' ' && *e != '='; e++)
		;
	*len_r = (size_t)(e - p);
	*takes_r = *e == '=';
	*required_r = *takes_r && e[1] == '!';
	while (*e != '\0' && *e != ' ')
		e++;
	return e;
}

/* has_opt - is name among the spec; *takes_r set */
static bool
has_opt(const char *spec, const char *name, size_t nlen, bool *takes_r,
	const char **canon_r)
{
	const char *p = spec, *n;
	size_t len;
	bool req;

	while ((p = spec_next(p, &n, &len, takes_r, &req)) != NULL) {
		if (len == nlen && strncmp(n, name, nlen) == 0) {
			*canon_r = n;
			return true;
		}
	}
	return false;
}

/* missing_opt - the first required option not given, or NULL */
static const char *
missing_opt(const char *spec, const struct args *a, char *buf, size_t size)
{
	const char *p = spec, *n;
	size_t len;
	bool takes, req;

	while ((p = spec_next(p, &n, &len, &takes, &req)) != NULL) {
		if (!req || len >= size)
			continue;
		memcpy(buf, n, len);
		buf[len] = '\0';
		if (arg_opt(a, buf) == NULL)
			return buf;
	}
	return NULL;
}

/* opt_name - copy the option name at canon (spec text) into buf */
static const char *
opt_name(const char *canon, char *buf, size_t size)
{
	size_t len = 0;

	while (canon[len] != '\0' && canon[len] != ' ' && canon[len] != '=')
		len++;
	if (len >= size)
		cm_panic("option name too long in the command table");
	memcpy(buf, canon, len);
	buf[len] = '\0';
	return buf;
}

/* parse_args - positional arguments and options of a command */
static int
parse_args(const struct command *cmd, int argc, char **argv, struct args *a)
{
	bool opts_done = false;
	char nb[CLI_OPT_NAME];

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		char *s = argv[i];
		const char *canon, *eq, *val = "";
		size_t nlen;
		bool takes;

		if (opts_done || s[0] != '-' || s[1] == '\0') {
			if (a->npos == cmd->max_pos || a->npos == CLI_MAX_ARGS)
				return cli_fail(CLI_EXIT_USAGE,
						"unexpected argument \"%s\" "
						"(usage: casemail %s)",
						cli_san(s), cmd->usage);
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (s[1] != '-')
			return cli_fail(CLI_EXIT_USAGE, "unknown option %s "
					"(usage: casemail %s)", cli_san(s),
					cmd->usage);
		s += 2;
		eq = strchr(s, '=');
		nlen = eq != NULL ? (size_t)(eq - s) : strlen(s);
		if (!has_opt(cmd->opts, s, nlen, &takes, &canon))
			return cli_fail(CLI_EXIT_USAGE, "unknown option %s "
					"(usage: casemail %s)",
					cli_san(argv[i]), cmd->usage);
		opt_name(canon, nb, sizeof(nb));
		if (takes && eq != NULL) {
			val = eq + 1;
		} else if (takes) {
			if (i + 1 == argc)
				return cli_fail(CLI_EXIT_USAGE, "option --%s "
						"needs a value", nb);
			val = argv[++i];
		} else if (eq != NULL) {
			return cli_fail(CLI_EXIT_USAGE, "option --%s takes "
					"no value", nb);
		}
		for (int k = 0; k < a->nopt; k++)
			if (strcmp(a->optname[k], nb) == 0)
				return cli_fail(CLI_EXIT_USAGE,
						"option --%s given twice",
						a->optname[k]);
		if (a->nopt == CLI_MAX_OPTS)
			return cli_fail(CLI_EXIT_USAGE, "too many options");
		cm_strlcpy(a->optname[a->nopt], nb, CLI_OPT_NAME);
		a->optval[a->nopt++] = val;
	}
	if (a->npos < cmd->min_pos)
		return cli_fail(CLI_EXIT_USAGE, "missing argument (usage: "
				"casemail %s)", cmd->usage);
	if (missing_opt(cmd->opts, a, nb, sizeof(nb)) != NULL)
		return cli_fail(CLI_EXIT_USAGE, "option --%s is required "
				"(usage: casemail %s)", nb, cmd->usage);
	return 0;
}

/* cmd_help - list the commands on stdout */
static int
cmd_help(struct cli *c, struct args *a)
{
	(void)c;
	printf("usage: casemail [-c FILE] [-v] COMMAND ...\n"
	       "config file: %s\ncommands:\n", CM_CONFIG_PATH);
	for (size_t i = 0; i < CM_ARRAY_SIZE(commands); i++) {
		if (a->npos == 1 && strcmp(commands[i].word, a->pos[0]) != 0)
			continue;
		printf("  casemail %s\n", commands[i].usage);
	}
	return out_close_stdout();
}

/* find_command - the table row for argv; *used_r words consumed */
static const struct command *
find_command(int argc, char **argv, int *used_r)
{
	struct cm_buf subs;
	bool word_known = false;

	for (size_t i = 0; i < CM_ARRAY_SIZE(commands); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(cmd->word, argv[0]) != 0)
			continue;
		word_known = true;
		if (cmd->sub == NULL) {
			*used_r = 1;
			return cmd;
		}
		if (argc > 1 && strcmp(cmd->sub, argv[1]) == 0) {
			*used_r = 2;
			return cmd;
		}
	}
	if (!word_known) {
		cli_fail(CLI_EXIT_USAGE, "unknown command \"%s\" (casemail "
			 "help lists the commands)", cli_san(argv[0]));
		return NULL;
	}
	cm_buf_init(&subs, 1024);
	for (size_t i = 0; i < CM_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].word, argv[0]) == 0)
			cm_buf_printf(&subs, "%s%s", subs.len ? ", " : "",
				      commands[i].sub);
	if (argc > 1)
		cli_fail(CLI_EXIT_USAGE, "unknown command \"%s %s\" (%s "
			 "takes: %s)", argv[0], cli_san(argv[1]), argv[0],
			 subs.data);
	else
		cli_fail(CLI_EXIT_USAGE, "%s needs one of: %s", argv[0],
			 subs.data);
	cm_buf_free(&subs);
	return NULL;
}

/* actor_name - "cli:" and the login name of the real uid */
static char *
actor_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		return cm_xasprintf("cli:%s", pw->pw_name);
	return cm_xasprintf("cli:uid%lu", (unsigned long)getuid());
}

/* load_config - the config file, or a printed error */
static int
load_config(struct cli *c)
{
	const char *err = NULL;

	c->cfg = cm_config_load(c->conf_path, &err);
	if (c->cfg == NULL) {
		if (err == NULL)
			err = "cannot load";
		if (strstr(err, c->conf_path) != NULL)
			return cli_fail(CLI_EXIT_ERR, "%s", err);
		return cli_fail(CLI_EXIT_ERR, "%s: %s", c->conf_path, err);
	}
	return 0;
}

/* load_secret - the server secret, or a printed error */
static int
load_secret(struct cli *c)
{
	const char *err = NULL;
	bool temp = false;

	c->secret = cm_secret_load(c->cfg->secret_file, &temp, &err);
	if (c->secret == NULL)
		return cli_fail(temp ? CLI_EXIT_TEMP : CLI_EXIT_ERR, "%s",
				err != NULL ? err : "cannot load the secret");
	return 0;
}

/* check_db - does the database file exist; 0 or a printed error */
static int
check_db(struct cli *c)
{
	const char *db = c->cfg->database;
	struct stat sb;

	if (stat(db, &sb) < 0) {
		if (errno == ENOENT)
			return cli_fail(CLI_EXIT_ERR, "no database at %s "
					"(run casemail init)", db);
		return cli_fail(cm_errno_is_temp(errno) ? CLI_EXIT_TEMP :
							  CLI_EXIT_ERR,
				"cannot access database %s: %s", db,
				strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return cli_fail(CLI_EXIT_ERR, "database %s is not a regular "
				"file", db);
	return 0;
}

/* open_store - the existing database, or a printed error */
static int
open_store(struct cli *c)
{
	const char *db = c->cfg->database, *err = NULL;
	int rc;

	rc = cm_store_open(db, c->secret, c->cfg->busy_timeout, 0, &c->st,
			   &err);
	if (rc < 0)
		return cli_fail(rc == CM_ETEMP ? CLI_EXIT_TEMP : CLI_EXIT_ERR,
				"cannot open database %s: %s", db,
				err != NULL ? err : "failed");
	c->work.cfg = c->cfg;
	c->work.secret = c->secret;
	c->work.store = c->st;
	c->work.actor = c->actor;
	return 0;
}

/* prepare - open what the command needs */
static int
prepare(struct cli *c, const struct command *cmd)
{
	const char *err = NULL;
	int ret = 0;

	if (cmd->needs == NEED_NONE)
		goto out;
	ret = load_config(c);
	if (ret != 0 || cmd->needs != NEED_STORE)
		goto out;
	/* root works on the store as run_user, so that a -wal or -shm it
	 * creates does not lock that user out of the database */
	if (cm_preflight_become(c->cfg, NULL, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "%s", err);
		goto out;
	}
	/* "no database (run casemail init)" before any secret trouble */
	ret = check_db(c);
	if (ret != 0)
		goto out;
	ret = load_secret(c);
	if (ret != 0)
		goto out;
	ret = open_store(c);
out:
	return ret;
}

/* main - global options, dispatch */
int
main(int argc, char **argv)
{
	struct cli c;
	struct args a;
	const struct command *cmd;
	int ch, used = 0, ret = CLI_EXIT_USAGE, logflags;

	/* the database, its -wal and -shm, the secret and the outbox
	 * hold victims' details: what this process creates is its owner's
	 * only */
	umask(077);
	memset(&c, 0, sizeof(c));
	c.conf_path = CM_CONFIG_PATH;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+c:vh")) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			argv[optind - 1] = "help";
			optind--;
			goto opts_done;
		default:
			ret = cli_fail(CLI_EXIT_USAGE, optopt == 'c' ?
				       "option -c needs a file" :
				       "unknown option -%c (usage: casemail "
				       "[-c FILE] [-v] COMMAND ...)", optopt);
			goto out;
		}
	}
opts_done:
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		ret = cli_usage(&c);
		goto out;
	}
	if (cm_token_init() < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "cannot initialise libsodium");
		goto out;
	}
	logflags = CM_LOG_SYSLOG;
	if (isatty(STDERR_FILENO) || c.verbose)
		logflags |= CM_LOG_STDERR;
	if (c.verbose)
		logflags |= CM_LOG_VERBOSE;
	cm_log_open("casemail", logflags);
	cm_log_set_fatal_status(CLI_EXIT_ERR);

	cmd = find_command(argc, argv, &used);
	if (cmd == NULL)
		goto out;
	running = cmd;
	c.actor = actor_name();
	c.cmdname = cmd->usage;
	ret = parse_args(cmd, argc - used, argv + used, &a);
	if (ret != 0)
		goto out;
	ret = prepare(&c, cmd);
	if (ret != 0)
		goto out;
	ret = cmd->fn(&c, &a);
	if (ret == 0)
		ret = out_close_stdout();
out:
	cm_store_close(&c.st);
	cm_secret_free(&c.secret);
	cm_config_free(&c.cfg);
	free(c.actor);
	return ret;
}
