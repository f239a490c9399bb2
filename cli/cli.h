/*
 * cli.h - shared state and helpers of the casemail command line
 *
 * SYNOPSIS
 *	#include "cli.h"
 *
 * DESCRIPTION
 *	main.c parses the global options, finds the command in its table,
 *	parses the command's own options into struct args, opens what the
 *	command needs (config, secret, store) and calls it. A command
 *	returns the exit status: 0, CLI_EXIT_ERR (1), CLI_EXIT_USAGE (2) or
 *	CLI_EXIT_TEMP (75, the store said CM_ETEMP). Every failure prints
 *	exactly one line "casemail: reason" on stderr, through cli_fail or
 *	cli_store_fail.
 *
 *	output.c is the only file that includes jansson: commands describe
 *	what they print with the out_* calls and output.c renders it as
 *	JSON (--json) or as text (key: value lines and aligned tables).
 *
 * SECURITY
 *	Text printed from the store goes through out_clean, which shows
 *	control bytes (except newline and tab) as '?', so message content
 *	cannot drive the terminal.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"
#include "cm_work.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_ERR 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_TEMP 75

#define CLI_MAX_TEXT (1024L * 1024) /* update text, bytes */
#define CLI_MAX_ARGS 8              /* positional arguments */
#define CLI_MAX_OPTS 8              /* options of one command */
#define CLI_OPT_NAME 32             /* bytes of an option name */

/*
 * struct cli - what a command runs with. cfg, secret and st are set
 * according to the command's needs; the rest always.
 */
struct cli {
	const char *conf_path;
	bool verbose;
	const char *cmdname; /* "officer add", for messages */
	char *actor;         /* "cli:LOGIN" */
	struct cm_config *cfg;
	struct cm_secret *secret;
	struct cm_store *st;
	struct cm_work work;
};

/* struct args - positional arguments and options of one command */
struct args {
	char *pos[CLI_MAX_ARGS];
	int npos;
	char optname[CLI_MAX_OPTS][CLI_OPT_NAME];
	const char *optval[CLI_MAX_OPTS]; /* "" for a flag */
	int nopt;
};

/* arg_opt - value of option name (without "--"), or NULL if absent */
const char *arg_opt(const struct args *a, const char *name);
/* arg_flag - true if the flag name was given */
bool arg_flag(const struct args *a, const char *name);

/* cli_fail - print "casemail: MSG" on stderr; returns status */
int cli_fail(int status, const char *fmt, ...) CM_ATTR_PRINTF(2, 3);
/* cli_usage - print the usage line of the running command; returns 2 */
int cli_usage(struct cli *c);
/*
 * cli_store_fail - rollback if a transaction is open and print
 * "casemail: WHAT: ERROR"; returns 75 for CM_ETEMP, else 1.
 */
int cli_store_fail(struct cli *c, int rc, const char *what,
		   const char *error);

/* cli_begin - open a write transaction; 0 or an exit status (printed) */
int cli_begin(struct cli *c);
/*
 * cli_finish - write the audit row (action NULL: none, the casework
 * module wrote its own), commit, and log one info line. 0 or an exit
 * status (printed; the transaction is rolled back).
 */
int cli_finish(struct cli *c, const char *action, const char *ref,
	       const char *detail);

/* cli_san - sanitised copy of outside text for a message or log line,
 * in one of four rotating static buffers (borrowed: use at once) */
const char *cli_san(const char *s);

/*
 * cli_ref - canonical form of a reference typed by the user (caller
 * frees), or NULL after printing why (status in *status_r).
 */
char *cli_ref(struct cli *c, const char *ref, int *status_r);
/*
 * cli_case - look a case up by the user's reference into *c_r (caller
 * clears with cm_case_clear). 0, or an exit status (printed).
 */
int cli_case(struct cli *c, const char *ref, struct cm_case *c_r);
/*
 * cli_active_officer - the active officer with this email into *o_r
 * (caller clears). 0, or an exit status (printed).
 */
int cli_active_officer(struct cli *c, const char *email,
		       struct cm_officer *o_r);
/* cli_id - parse a row id argument (1..INT64_MAX); 0 or 2 (printed) */
int cli_id(const char *s, const char *what, int64_t *id_r);
/*
 * cli_addressee - the victim an officer's message on case cs goes to,
 * from --victim ID and --all: *victim_r gets the id, or 0 for every
 * victim (--all, or internal). Without either, a case with one victim
 * addresses that victim and a case with more is refused. 0, or a CLI
 * status with the message printed.
 */
int cli_addressee(struct cli *c, struct args *a, const struct cm_case *cs,
		  bool internal, int64_t *victim_r);
/* cli_plain_text - true if s is valid UTF-8 without control bytes */
bool cli_plain_text(const char *s);

/* ---- output.c ---- */

struct out;

/* out_new - start a document: an empty top-level object */
struct out *out_new(bool json);
/* out_begin - open a nested object under key (NULL inside a list) */
void out_begin(struct out *o, const char *key);
/* out_list - open a list of objects under key */
void out_list(struct out *o, const char *key);
/* out_end - close the innermost object or list */
void out_end(struct out *o);
/* out_str - string member (NULL gives null); invalid UTF-8 is cleaned */
void out_str(struct out *o, const char *key, const char *v);
void out_int(struct out *o, const char *key, int64_t v);
void out_bool(struct out *o, const char *key, bool v);
/* out_real - a number with a fraction (a median) */
void out_real(struct out *o, const char *key, double v);
/* out_time - ISO 8601 UTC, or null for 0 */
void out_time(struct out *o, const char *key, int64_t t);
/*
 * out_flush - print the document on stdout and free it (*o set to
 * NULL). Text: a single top-level list prints as a table, anything else
 * as "key: value" lines with nested lists as indented tables.
 * 0, or 1 after printing an error when stdout could not be written.
 */
int out_flush(struct out **o);

/* out_free - drop a document unprinted; sets *o to NULL; NULL is fine */
void out_free(struct out **o);

/* out_clean - copy of s with control bytes (except \n and \t unless
 * oneline, where they become ' ') shown as '?'; caller frees */
char *out_clean(const char *s, bool oneline);
/* out_text - write s sanitised (out_clean) to stdout */
void out_text(const char *s);
/* out_close_stdout - flush stdout; 0, or 1 after printing an error */
int out_close_stdout(void);

/* cli_victim_copy - deep copy of v into *d (clear with cm_victim_clear) */
void cli_victim_copy(struct cm_victim *d, const struct cm_victim *v);
/* cli_put_victim - v as an object in the open list; with "case": ref
 * unless ref is NULL */
void cli_put_victim(struct out *o, const struct cm_victim *v,
		    const char *ref);

/* struct cli_msgs - messages copied out of a store callback */
struct cli_msgs {
	struct cm_message *v; /* strings owned: free with cli_msgs_free */
	size_t n, cap;
};
/* cli_msgs_collect - store callback appending a deep copy to ctx */
int cli_msgs_collect(const struct cm_message *m, void *ctx);
/* cli_msgs_free - free the copies and empty the list */
void cli_msgs_free(struct cli_msgs *l);

/* ---- commands: cmd_*.c ---- */

int cmd_init(struct cli *c, struct args *a);
int cmd_config_check(struct cli *c, struct args *a);
int cmd_config_show(struct cli *c, struct args *a);
int cmd_stats(struct cli *c, struct args *a);
int cmd_audit_verify(struct cli *c, struct args *a);
int cmd_audit_list(struct cli *c, struct args *a);
int cmd_notices(struct cli *c, struct args *a);
int cmd_address_reply(struct cli *c, struct args *a);
int cmd_address_officer(struct cli *c, struct args *a);
int cmd_address_bounce(struct cli *c, struct args *a);

int cmd_officer_add(struct cli *c, struct args *a);
int cmd_officer_list(struct cli *c, struct args *a);
int cmd_officer_disable(struct cli *c, struct args *a);
int cmd_officer_enable(struct cli *c, struct args *a);

int cmd_case_add(struct cli *c, struct args *a);
int cmd_case_list(struct cli *c, struct args *a);
int cmd_case_show(struct cli *c, struct args *a);
int cmd_case_close(struct cli *c, struct args *a);
int cmd_case_reopen(struct cli *c, struct args *a);

int cmd_victim_add(struct cli *c, struct args *a);
int cmd_victim_list(struct cli *c, struct args *a);
int cmd_victim_show(struct cli *c, struct args *a);

int cmd_update(struct cli *c, struct args *a);
int cmd_thread(struct cli *c, struct args *a);
int cmd_held_list(struct cli *c, struct args *a);
int cmd_held_approve(struct cli *c, struct args *a);
int cmd_held_reject(struct cli *c, struct args *a);

int cmd_quarantine_list(struct cli *c, struct args *a);
int cmd_quarantine_show(struct cli *c, struct args *a);
int cmd_quarantine_release(struct cli *c, struct args *a);
int cmd_quarantine_delete(struct cli *c, struct args *a);

int cmd_milestone(struct cli *c, struct args *a);
int cmd_milestone_list(struct cli *c, struct args *a);
int cmd_milestone_check(struct cli *c, struct args *a);
int cmd_victim_enhanced(struct cli *c, struct args *a);

int cmd_report_compliance(struct cli *c, struct args *a);
int cmd_victim_rhythm(struct cli *c, struct args *a);

int cmd_doctor(struct cli *c, struct args *a);

#endif
