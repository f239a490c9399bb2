/*
 * test_config.c - unit tests of lib/config.c (casemail.conf)
 *
 * SYNOPSIS
 *	build/tests/test_config [test-name-pattern]
 *
 * DESCRIPTION
 *	Table-driven: each row is a config text written into a temporary
 *	file and loaded; a row expects either an error (the exact start of
 *	what follows the file name) or a list of key/value pairs as
 *	cm_config_dump shows them. Other tables cover bool spellings, size
 *	suffixes and the bounds of every number. Tests run from the top of
 *	the source tree, so conf/casemail.conf and docs/casemail.conf.5
 *	are checked against the table too: every key documented, every
 *	documented default the real one.
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
#include <unistd.h>

#include <cmocka.h>

#include "cm_config.h"
#include "cm_util.h"

#define MD "mail_domain = cases.example.org\n"
#define MIB (1024L * 1024)
#define GIB (1024L * 1024 * 1024)

static char tmpdir[64];
static char conf_path[128];

/* every key in table order, as cm_config_dump must give them */
static const char *const all_keys[] = {
	"database", "spool_dir", "secret_file", "outbox_dir", "busy_timeout",
	"mail_domain", "force_name", "from_address", "portal_url",
	"ref_pattern", "smtp_url", "token_ttl", "notice_include_text",
	"bounce_limit", "smtp_starttls", "smtp_user", "smtp_password_file",
	"smtp_ca_file", "smtp_timeout", "smtp_connections", "sms_url",
	"sms_service_id",
	"sms_key_file", "sms_template_id", "sms_timeout", "template_dir",
	"discreet_name", "retry_base_delay", "retry_max_attempts",
	"retry_max_age", "lease_seconds", "send_batch", "poll_interval",
	"portal_listen", "portal_cookie_secure", "portal_session_idle",
	"portal_session_max", "portal_rate_ip", "portal_rate_token",
	"portal_rate_fresh", "portal_max_body", "portal_max_message",
	"portal_connections", "portal_show_officer", "portal_trust_proxy",
	"portal_metrics",
	"trusted_authserv_ids", "imap_password_file", "imap_ca_file", "imap_done_folder",
	"imap_quarantine_folder", "imap_starttls", "imap_allow_plain",
	"mda_allow_root", "run_user", "child_timeout", "child_memory",
	"max_message_size",
	"max_attachment_size", "max_header_bytes", "max_mime_depth",
	"max_mime_parts", "force_timezone", "bank_holidays_extra",
	"milestone_kinds", "milestone_days", "milestone_days_enhanced",
	"milestone_warning_hours", "milestone_supervisor",
};

/* write_file - put len bytes of text into path or fail the test */
static void
write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, text, len), 0);
	assert_int_equal(close(fd), 0);
}

/* load_text - write text into the temporary config file and load it */
static struct cm_config *
load_text(const char *text, const char **error_r)
{
	write_file(conf_path, text, strlen(text));
	return cm_config_load(conf_path, error_r);
}

/* struct pairs - what a dump collected */
struct pairs {
	size_t n;
	char *key[96];
	char *value[96];
};

/* collect - cm_config_dump callback keeping copies of every pair */
static void
collect(const char *key, const char *value, void *ctx)
{
	struct pairs *p = ctx;

	assert_true(p->n < CM_ARRAY_SIZE(p->key));
	p->key[p->n] = cm_xstrdup(key);
	p->value[p->n] = cm_xstrdup(value);
	p->n++;
}

/* pairs_free - free what collect kept */
static void
pairs_free(struct pairs *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->value[i]);
	}
	p->n = 0;
}

/* pairs_get - the value dumped for key, or NULL */
static const char *
pairs_get(const struct pairs *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->value[i];
	return NULL;
}

/* dump_value - the value cm_config_dump shows for key; caller frees */
static char *
dump_value(const struct cm_config *cfg, const char *key)
{
	struct pairs p = { 0 };
	char *v;

	cm_config_dump(cfg, collect, &p);
	v = cm_xstrdup(pairs_get(&p, key));
	pairs_free(&p);
	return v;
}

/* expect_error - err must be conf_path followed by the start want */
static void
expect_error(size_t row, const char *err, const char *want)
{
	size_t n = strlen(conf_path);

	if (err == NULL || strncmp(err, conf_path, n) != 0 ||
	    strncmp(err + n, want, strlen(want)) != 0)
		fail_msg("row %zu: error '%s', want '%s%s'", row,
			 err ? err : "(none)", conf_path, want);
}

/*
 * struct load_case - a config text and either the start of the error
 * after the file name or key/value pairs (NULL-terminated; "@DIR@" in a
 * value stands for the temporary directory).
 */
struct load_case {
	const char *text;
	const char *error;
	const char *expect[12];
};

static const struct load_case load_cases[] = {
	/* defaults, syntax */
	{ MD, NULL,
	  { "database", "/var/lib/casemail/casemail.db", "from_address",
	    "casemail@cases.example.org", "smtp_url", "", "force_name",
	    "Police", NULL } },
	{ "mail_domain = Cases.Example.ORG\n", NULL,
	  { "mail_domain", "cases.example.org", "from_address",
	    "casemail@cases.example.org", NULL } },
	{ "mail_domain = localhost", NULL,
	  { "mail_domain", "localhost", NULL } },
	{ "\xef\xbb\xbf" MD, NULL, { "mail_domain", "cases.example.org" } },
	{ "mail_domain=cases.example.org\nbusy_timeout=0\n", NULL,
	  { "busy_timeout", "0", NULL } },
	{ "  # indented comment\n\n   \t\n" MD
	  "\tforce_name\t=\t  Humberside Police \t \n",
	  NULL, { "force_name", "Humberside Police", NULL } },
	{ "#force_name = Not This\n" MD, NULL,
	  { "force_name", "Police", NULL } },
	/* '#' inside values, quotes */
	{ MD "force_name = Police # HQ\n", NULL,
	  { "force_name", "Police # HQ", NULL } },
	{ MD "ref_pattern = ^#?[0-9]+$\n", NULL,
	  { "ref_pattern", "^#?[0-9]+$", NULL } },
	{ MD "force_name = \"#1\"\n", NULL, { "force_name", "#1", NULL } },
	{ MD "force_name = \"  Humberside Police  \"\n", NULL,
	  { "force_name", "  Humberside Police  ", NULL } },
	{ MD "force_name = a\"b\"\n", NULL,
	  { "force_name", "a\"b\"", NULL } },
	{ MD "smtp_url = \"\"\n", NULL, { "smtp_url", "", NULL } },
	{ "mail_domain = \"cases.example.org\"\n", NULL,
	  { "mail_domain", "cases.example.org", NULL } },
	/* paths */
	{ MD "database = data/cm.db\nspool_dir = spool\n"
	     "secret_file = ./secret\noutbox_dir = ~/outbox\n",
	  NULL,
	  { "database", "@DIR@/data/cm.db", "spool_dir", "@DIR@/spool",
	    "secret_file", "@DIR@/./secret", "outbox_dir", "@DIR@/~/outbox",
	    NULL } },
	{ MD "database = /srv/cm.db\n", NULL,
	  { "database", "/srv/cm.db", NULL } },
	/* URLs, addresses */
	{ MD "portal_url = https://victims.example.org/portal//\n", NULL,
	  { "portal_url", "https://victims.example.org/portal", NULL } },
	{ MD "portal_url = HTTP://x.example:8080\n", NULL,
	  { "portal_url", "HTTP://x.example:8080", NULL } },
	{ MD "from_address = Updates@Police.Example\n", NULL,
	  { "from_address", "Updates@police.example", NULL } },
	{ MD "smtp_url = smtp://127.0.0.1:25\n", NULL,
	  { "smtp_url", "smtp://127.0.0.1:25", NULL } },
	{ MD "smtp_url = smtps://user:s3cret@mail.example:465\n", NULL,
	  { "smtp_url", "smtps://user:***@mail.example:465", NULL } },
	{ MD "smtp_url = smtp://relay@mail.example\n", NULL,
	  { "smtp_url", "smtp://relay@mail.example", NULL } },
	/* auth; officer_require_auth is retired: it loads, ignored */
	{ MD "officer_require_auth = yes\n"
	     "trusted_authserv_ids = mx.example.org, mx2.example.org\n",
	  NULL,
	  { "trusted_authserv_ids", "mx.example.org, mx2.example.org",
	    NULL } },
	{ MD "officer_require_auth = yes\n", NULL,
	  { "trusted_authserv_ids", "", NULL } },
	{ MD "trusted_authserv_ids = , ,\nofficer_require_auth = whatever\n",
	  NULL, { "trusted_authserv_ids", ", ,", NULL } },
	/* limits: 0 is the default */
	{ MD "max_message_size = 0\nmax_attachment_size = 0\n"
	     "max_header_bytes = 0\nmax_mime_depth = 0\n"
	     "max_mime_parts = 0\n",
	  NULL,
	  { "max_message_size", "50M", "max_attachment_size", "25M",
	    "max_header_bytes", "256k", "max_mime_depth", "100",
	    "max_mime_parts", "10000" } },

	/* each kind of bad line */
	{ MD "foo = bar\n", ":2: unknown key 'foo'", { NULL } },
	{ MD "Database = /x\n", ":2: unknown key 'Database'", { NULL } },
	{ MD "busy_timeout = abc\n",
	  ":2: bad value for busy_timeout: 'abc' "
	  "(expected a number 0..600000)",
	  { NULL } },
	{ MD "database = /a\ndatabase = /b\n",
	  ":3: duplicate key 'database'", { NULL } },
	{ "\n\n" MD "mail_domain = other.example\n",
	  ":4: duplicate key 'mail_domain'", { NULL } },
	{ MD "just some words\n", ":2: missing '='", { NULL } },
	{ MD "= value\n", ":2: missing key before '='", { NULL } },
	{ MD "busy_timeout = 5000 # ms\n",
	  ":2: bad value for busy_timeout: '5000 # ms' (expected a number",
	  { NULL } },
	{ MD "busy_timeout = -1\n", ":2: bad value for busy_timeout: '-1'",
	  { NULL } },
	{ MD "busy_timeout = +5\n", ":2: bad value for busy_timeout: '+5'",
	  { NULL } },
	{ MD "busy_timeout = 0x10\n",
	  ":2: bad value for busy_timeout: '0x10'", { NULL } },
	{ MD "busy_timeout = 5 000\n",
	  ":2: bad value for busy_timeout: '5 000'", { NULL } },
	{ MD "busy_timeout =\n", ":2: bad value for busy_timeout: ''",
	  { NULL } },
	{ MD "busy_timeout = 5k\n", ":2: bad value for busy_timeout: '5k'",
	  { NULL } },
	{ MD "notice_include_text = maybe\n",
	  ":2: bad value for notice_include_text: 'maybe' "
	  "(expected yes or no)",
	  { NULL } },
	{ MD "force_name = \"Police\n",
	  ":2: bad value for force_name: '\"Police' "
	  "(unbalanced double quote)",
	  { NULL } },
	{ MD "force_name = \"\n",
	  ":2: bad value for force_name: '\"' (unbalanced double quote)",
	  { NULL } },
	/* control bytes and encoding */
	{ MD "force_name = A\tB\n",
	  ":2: bad value for force_name: 'A?B' "
	  "(control characters are not allowed)",
	  { NULL } },
	{ MD "force_name = Police\r\n",
	  ":2: bad value for force_name: 'Police?' (control", { NULL } },
	{ "mail_domain = cases.example.org\r\n",
	  ":1: bad value for mail_domain: 'cases.example.org?' (control",
	  { NULL } },
	{ MD "force_name = \x01x\x7f\n",
	  ":2: bad value for force_name: '?x?' (control", { NULL } },
	{ MD "force_name = \xff\xfe\n",
	  ":2: bad value for force_name: '\xff\xfe' (not valid UTF-8)",
	  { NULL } },
	{ MD "force_name =\n",
	  ":2: bad value for force_name: '' (expected a non-empty value)",
	  { NULL } },
	{ MD "database =\n", ":2: bad value for database: '' "
			     "(expected a path)",
	  { NULL } },
	/* mail_domain */
	{ "", ": missing required key 'mail_domain'", { NULL } },
	{ "# only a comment\nforce_name = x\n",
	  ": missing required key 'mail_domain'", { NULL } },
	{ "mail_domain = .example.org\n",
	  ":1: bad value for mail_domain: '.example.org' "
	  "(expected a domain name",
	  { NULL } },
	{ "mail_domain = example.org.\n",
	  ":1: bad value for mail_domain: 'example.org.'", { NULL } },
	{ "mail_domain = exa_mple.org\n",
	  ":1: bad value for mail_domain: 'exa_mple.org'", { NULL } },
	{ "mail_domain = a..b\n", ":1: bad value for mail_domain: 'a..b'",
	  { NULL } },
	{ "mail_domain = -a.example\n",
	  ":1: bad value for mail_domain: '-a.example'", { NULL } },
	{ "mail_domain = cases example.org\n",
	  ":1: bad value for mail_domain: 'cases example.org'", { NULL } },
	{ "mail_domain = caf\xc3\xa9.example\n",
	  ":1: bad value for mail_domain: 'caf\xc3\xa9.example'", { NULL } },
	{ "mail_domain =\n", ":1: bad value for mail_domain: ''", { NULL } },
	/* a retired key is still one per file */
	{ MD "officer_require_auth = yes\nofficer_require_auth = no\n",
	  ":3: duplicate key 'officer_require_auth'", { NULL } },
	/* URLs, patterns, addresses */
	{ MD "portal_url = ftp://x.example\n",
	  ":2: bad value for portal_url: 'ftp://x.example' "
	  "(expected an http:// or https:// URL)",
	  { NULL } },
	{ MD "portal_url = https://\n",
	  ":2: bad value for portal_url: 'https://'", { NULL } },
	{ MD "portal_url = https:///x\n",
	  ":2: bad value for portal_url: 'https:///x'", { NULL } },
	{ MD "portal_url = https://a b\n",
	  ":2: bad value for portal_url: 'https://a b'", { NULL } },
	{ MD "portal_url = localhost:8080\n",
	  ":2: bad value for portal_url: 'localhost:8080'", { NULL } },
	{ MD "smtp_url = http://mail.example\n",
	  ":2: bad value for smtp_url: 'http://mail.example' "
	  "(expected nothing, or an smtp:// or smtps:// URL)",
	  { NULL } },
	{ MD "ref_pattern = [a-\n",
	  ":2: bad value for ref_pattern: '[a-' "
	  "(expected a POSIX extended regular expression: ",
	  { NULL } },
	{ MD "ref_pattern = (\n", ":2: bad value for ref_pattern: '('",
	  { NULL } },
	{ MD "ref_pattern = \"\"\n", ":2: bad value for ref_pattern: ''",
	  { NULL } },
	{ MD "from_address = nobody\n",
	  ":2: bad value for from_address: 'nobody' (expected an address",
	  { NULL } },
	{ MD "from_address = a b@x.example\n",
	  ":2: bad value for from_address: 'a b@x.example'", { NULL } },
	{ MD "from_address = @x.example\n",
	  ":2: bad value for from_address: '@x.example'", { NULL } },
	{ MD "from_address = x@bad_domain\n",
	  ":2: bad value for from_address: 'x@bad_domain'", { NULL } },
	{ MD "from_address = <x@x.example>\n",
	  ":2: bad value for from_address: '<x@x.example>'", { NULL } },
	/* bounds messages */
	{ MD "max_message_size = 512\n",
	  ":2: bad value for max_message_size: '512' "
	  "(expected a size 1k..1G, or 0 for the default)",
	  { NULL } },
	{ MD "bounce_limit = 0\n",
	  ":2: bad value for bounce_limit: '0' (expected a number 1..100)",
	  { NULL } },
	{ MD "child_memory = 1T\n",
	  ":2: bad value for child_memory: '1T' (expected a size 64M..64G)",
	  { NULL } },
};

/* test_load_table - every row of load_cases */
static void
test_load_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		const char *err = NULL;
		struct cm_config *cfg = load_text(c->text, &err);

		if (c->error != NULL) {
			if (cfg != NULL)
				fail_msg("row %zu: loaded, want error '%s'",
					 i, c->error);
			expect_error(i, err, c->error);
			continue;
		}
		if (cfg == NULL)
			fail_msg("row %zu: error '%s'", i, err);
		for (j = 0; c->expect[j] != NULL; j += 2) {
			char *got = dump_value(cfg, c->expect[j]);
			char *want;

			if (strncmp(c->expect[j + 1], "@DIR@", 5) == 0)
				want = cm_xasprintf("%s%s", tmpdir,
						    c->expect[j + 1] + 5);
			else
				want = cm_xstrdup(c->expect[j + 1]);
			if (strcmp(got, want) != 0)
				fail_msg("row %zu: %s is '%s', want '%s'", i,
					 c->expect[j], got, want);
			free(want);
			free(got);
		}
		cm_config_free(&cfg);
		assert_null(cfg);
	}
}

/* test_defaults - a file with only mail_domain fills every field */
static void
test_defaults(void **state)
{
	const char *err = NULL;
	struct cm_config *cfg;

	(void)state;
	cfg = load_text(MD, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, conf_path);
	assert_string_equal(cfg->database, "/var/lib/casemail/casemail.db");
	assert_string_equal(cfg->spool_dir, "/var/spool/casemail");
	assert_string_equal(cfg->secret_file, "/etc/casemail/secret");
	assert_string_equal(cfg->outbox_dir, "/var/lib/casemail/outbox");
	assert_int_equal(cfg->busy_timeout, 5000);
	assert_string_equal(cfg->mail_domain, "cases.example.org");
	assert_string_equal(cfg->force_name, "Police");
	assert_string_equal(cfg->from_address,
			    "casemail@cases.example.org");
	assert_string_equal(cfg->portal_url, "https://localhost:8080");
	assert_string_equal(cfg->ref_pattern, "^[A-Za-z0-9/-]{1,64}$");
	assert_string_equal(cfg->smtp_url, "");
	assert_int_equal(cfg->token_ttl, 259200);
	assert_false(cfg->notice_include_text);
	assert_int_equal(cfg->bounce_limit, 3);
	assert_null(cfg->obsolete);
	assert_string_equal(cfg->trusted_authserv_ids, "");
	assert_int_equal(cfg->child_timeout, 60);
	assert_int_equal(cfg->child_memory, GIB);
	assert_int_equal(cfg->limits.max_message_size, CM_MAX_MESSAGE_SIZE);
	assert_int_equal(cfg->limits.max_attachment_size,
			 CM_MAX_ATTACHMENT_SIZE);
	assert_int_equal(cfg->limits.max_header_bytes, CM_MAX_HEADER_BYTES);
	assert_int_equal(cfg->limits.max_mime_depth, CM_MAX_MIME_DEPTH);
	assert_int_equal(cfg->limits.max_mime_parts, CM_MAX_MIME_PARTS);
	cm_config_free(&cfg);
	cm_config_free(&cfg); /* NULL is fine */
	cm_config_free(NULL);
}

/* test_every_key - a file setting every key lands in every field */
static void
test_every_key(void **state)
{
	const char *text =
		"database = /d/cm.db\n"
		"spool_dir = /d/spool\n"
		"secret_file = /d/secret\n"
		"outbox_dir = /d/outbox\n"
		"busy_timeout = 250\n"
		"mail_domain = mail.example.net\n"
		"force_name = Humberside Police\n"
		"from_address = notices@example.net\n"
		"portal_url = https://portal.example.net/\n"
		"ref_pattern = ^[A-Z]{2}-[0-9]+$\n"
		"smtp_url = smtps://mail.example.net:465\n"
		"token_ttl = 86400\n"
		"notice_include_text = yes\n"
		"bounce_limit = 5\n"
		"officer_require_auth = true\n"
		"trusted_authserv_ids = mx1.example.net mx2.example.net\n"
		"child_timeout = 30\n"
		"child_memory = 512M\n"
		"max_message_size = 20M\n"
		"max_attachment_size = 10M\n"
		"max_header_bytes = 64k\n"
		"max_mime_depth = 20\n"
		"max_mime_parts = 500\n";
	const char *err = NULL;
	struct cm_config *cfg;
	struct pairs p = { 0 };
	size_t i;

	(void)state;
	cfg = load_text(text, &err);
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->database, "/d/cm.db");
	assert_string_equal(cfg->spool_dir, "/d/spool");
	assert_string_equal(cfg->secret_file, "/d/secret");
	assert_string_equal(cfg->outbox_dir, "/d/outbox");
	assert_int_equal(cfg->busy_timeout, 250);
	assert_string_equal(cfg->mail_domain, "mail.example.net");
	assert_string_equal(cfg->force_name, "Humberside Police");
	assert_string_equal(cfg->from_address, "notices@example.net");
	assert_string_equal(cfg->portal_url, "https://portal.example.net");
	assert_string_equal(cfg->ref_pattern, "^[A-Z]{2}-[0-9]+$");
	assert_string_equal(cfg->smtp_url, "smtps://mail.example.net:465");
	assert_int_equal(cfg->token_ttl, 86400);
	assert_true(cfg->notice_include_text);
	assert_int_equal(cfg->bounce_limit, 5);
	assert_non_null(strstr(cfg->obsolete, "officer_require_auth (line 15) "
					      "is obsolete, ignored"));
	assert_string_equal(cfg->trusted_authserv_ids,
			    "mx1.example.net mx2.example.net");
	assert_int_equal(cfg->child_timeout, 30);
	assert_int_equal(cfg->child_memory, 512 * MIB);
	assert_int_equal(cfg->limits.max_message_size, 20 * MIB);
	assert_int_equal(cfg->limits.max_attachment_size, 10 * MIB);
	assert_int_equal(cfg->limits.max_header_bytes, 64 * 1024);
	assert_int_equal(cfg->limits.max_mime_depth, 20);
	assert_int_equal(cfg->limits.max_mime_parts, 500);

	/* the dump lists every key once, in table order */
	cm_config_dump(cfg, collect, &p);
	assert_int_equal(p.n, CM_ARRAY_SIZE(all_keys));
	for (i = 0; i < p.n; i++)
		if (strcmp(p.key[i], all_keys[i]) != 0)
			fail_msg("dump row %zu: key '%s', want '%s'", i,
				 p.key[i], all_keys[i]);
	assert_string_equal(pairs_get(&p, "child_memory"), "512M");
	assert_string_equal(pairs_get(&p, "max_header_bytes"), "64k");
	assert_null(pairs_get(&p, "officer_require_auth"));
	assert_string_equal(pairs_get(&p, "busy_timeout"), "250");
	pairs_free(&p);
	cm_config_free(&cfg);
}

/* test_smtp_password - the struct keeps the password the dump hides */
static void
test_smtp_password(void **state)
{
	const char *err = NULL;
	struct cm_config *cfg;
	char *shown;

	(void)state;
	cfg = load_text(MD "smtp_url = smtp://u:p%40ss@mx.example:587/\n",
			&err);
	assert_non_null(cfg);
	assert_string_equal(cfg->smtp_url, "smtp://u:p%40ss@mx.example:587/");
	shown = dump_value(cfg, "smtp_url");
	assert_string_equal(shown, "smtp://u:***@mx.example:587/");
	free(shown);
	cm_config_free(&cfg);
}

/* struct bool_case - a spelling and what it means (-1: refused) */
struct bool_case {
	const char *text;
	int value;
};

/* test_bools - every bool spelling, either case */
static void
test_bools(void **state)
{
	static const struct bool_case cases[] = {
		{ "yes", 1 },   { "YES", 1 },   { "Yes", 1 },  { "true", 1 },
		{ "TRUE", 1 },  { "on", 1 },    { "On", 1 },   { "1", 1 },
		{ "no", 0 },    { "NO", 0 },    { "false", 0 }, { "False", 0 },
		{ "off", 0 },   { "OFF", 0 },   { "0", 0 },    { "\"yes\"", 1 },
		{ "y", -1 },    { "n", -1 },    { "2", -1 },   { "", -1 },
		{ "yes please", -1 }, { "01", -1 }, { "enabled", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		char *text = cm_xasprintf(MD "notice_include_text = %s\n",
					  cases[i].text);
		const char *err = NULL;
		struct cm_config *cfg = load_text(text, &err);

		if (cases[i].value < 0) {
			if (cfg != NULL)
				fail_msg("row %zu: '%s' accepted", i,
					 cases[i].text);
			expect_error(i, err,
				     ":2: bad value for notice_include_text");
		} else if (cfg == NULL) {
			fail_msg("row %zu: '%s': %s", i, cases[i].text, err);
		} else if (cfg->notice_include_text != (cases[i].value == 1)) {
			fail_msg("row %zu: '%s' read as %d", i,
				 cases[i].text, cfg->notice_include_text);
		}
		cm_config_free(&cfg);
		free(text);
	}
}

/* struct size_case - a size and its bytes (-1: refused) */
struct size_case {
	const char *text;
	long value;
};

/* test_sizes - suffixes, zero as default, malformed sizes */
static void
test_sizes(void **state)
{
	static const struct size_case cases[] = {
		{ "1k", 1024 },
		{ "1K", 1024 },
		{ "2048", 2048 },
		{ "1536k", 1536 * 1024 },
		{ "1m", MIB },
		{ "1M", MIB },
		{ "7M", 7 * MIB },
		{ "1g", GIB },
		{ "1G", GIB },
		{ "1024M", GIB },
		{ "0", CM_MAX_MESSAGE_SIZE },
		{ "00", CM_MAX_MESSAGE_SIZE },
		{ "0k", CM_MAX_MESSAGE_SIZE },
		{ "010M", 10 * MIB },
		{ "1.5M", -1 },
		{ "1 M", -1 },
		{ "1MB", -1 },
		{ "1T", -1 },
		{ "M", -1 },
		{ "-1k", -1 },
		{ "k1", -1 },
		{ "1kk", -1 },
		{ "0x400", -1 },
		{ "1023", -1 },
		{ "1025M", -1 },
		{ "99999999999999999999", -1 },
		{ "9223372036854775807k", -1 },
		{ "9223372036854775807", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		char *text = cm_xasprintf(MD "max_message_size = %s\n",
					  cases[i].text);
		const char *err = NULL;
		struct cm_config *cfg = load_text(text, &err);

		if (cases[i].value < 0) {
			if (cfg != NULL)
				fail_msg("row %zu: '%s' accepted as %ld", i,
					 cases[i].text,
					 cfg->limits.max_message_size);
			expect_error(i, err,
				     ":2: bad value for max_message_size");
		} else if (cfg == NULL) {
			fail_msg("row %zu: '%s': %s", i, cases[i].text, err);
		} else if (cfg->limits.max_message_size != cases[i].value) {
			fail_msg("row %zu: '%s' read as %ld, want %ld", i,
				 cases[i].text, cfg->limits.max_message_size,
				 cases[i].value);
		}
		cm_config_free(&cfg);
		free(text);
	}
}

/* struct bound_case - key, value, and the dump of it (NULL: refused) */
struct bound_case {
	const char *key;
	const char *value;
	const char *shown;
};

/* test_bounds - both ends of every bounded key, and one past each */
static void
test_bounds(void **state)
{
	static const struct bound_case cases[] = {
		{ "busy_timeout", "0", "0" },
		{ "busy_timeout", "600000", "600000" },
		{ "busy_timeout", "600001", NULL },
		{ "token_ttl", "299", NULL },
		{ "token_ttl", "300", "300" },
		{ "token_ttl", "2592000", "2592000" },
		{ "token_ttl", "2592001", NULL },
		{ "token_ttl", "0", NULL },
		{ "bounce_limit", "0", NULL },
		{ "bounce_limit", "1", "1" },
		{ "bounce_limit", "100", "100" },
		{ "bounce_limit", "101", NULL },
		{ "child_timeout", "0", NULL },
		{ "child_timeout", "1", "1" },
		{ "child_timeout", "3600", "3600" },
		{ "child_timeout", "3601", NULL },
		{ "child_memory", "67108863", NULL },
		{ "child_memory", "64M", "64M" },
		{ "child_memory", "67108864", "64M" },
		{ "child_memory", "64G", "64G" },
		{ "child_memory", "65537M", NULL },
		{ "child_memory", "0", NULL },
		{ "max_message_size", "1023", NULL },
		{ "max_message_size", "1k", "1k" },
		{ "max_message_size", "1G", "1G" },
		{ "max_message_size", "1073741825", NULL },
		{ "max_attachment_size", "1023", NULL },
		{ "max_attachment_size", "1k", "1k" },
		{ "max_attachment_size", "1G", "1G" },
		{ "max_attachment_size", "1073741825", NULL },
		{ "max_header_bytes", "1023", NULL },
		{ "max_header_bytes", "1024", "1k" },
		{ "max_header_bytes", "16M", "16M" },
		{ "max_header_bytes", "16385k", NULL },
		{ "max_mime_depth", "1", "1" },
		{ "max_mime_depth", "1000", "1000" },
		{ "max_mime_depth", "1001", NULL },
		{ "max_mime_parts", "1", "1" },
		{ "max_mime_parts", "100000", "100000" },
		{ "max_mime_parts", "100001", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		const struct bound_case *c = &cases[i];
		char *text = cm_xasprintf(MD "%s = %s\n", c->key, c->value);
		char *want = cm_xasprintf(":2: bad value for %s: '%s' "
					  "(expected a ",
					  c->key, c->value);
		const char *err = NULL;
		struct cm_config *cfg = load_text(text, &err);

		if (c->shown == NULL) {
			if (cfg != NULL)
				fail_msg("row %zu: %s = %s accepted", i,
					 c->key, c->value);
			expect_error(i, err, want);
		} else {
			char *got;

			if (cfg == NULL)
				fail_msg("row %zu: %s", i, err);
			got = dump_value(cfg, c->key);
			if (strcmp(got, c->shown) != 0)
				fail_msg("row %zu: %s = %s shown as '%s'", i,
					 c->key, c->value, got);
			free(got);
		}
		cm_config_free(&cfg);
		free(want);
		free(text);
	}
}

/* test_line_length - 4096 bytes is a line, 4097 is an error */
static void
test_line_length(void **state)
{
	static const size_t lens[] = { 4096, 4097 };
	const char *prefix = "force_name = ";
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(lens); i++) {
		size_t n = lens[i] - strlen(prefix), plen = strlen(prefix);
		char *text = cm_xmalloc(sizeof(MD) + lens[i] + 2);
		const char *err = NULL;
		struct cm_config *cfg;

		memcpy(text, MD, sizeof(MD) - 1);
		memcpy(text + sizeof(MD) - 1, prefix, plen);
		memset(text + sizeof(MD) - 1 + plen, 'x', n);
		memcpy(text + sizeof(MD) - 1 + plen + n, "\n", 2);
		cfg = load_text(text, &err);
		if (lens[i] <= 4096) {
			if (cfg == NULL)
				fail_msg("row %zu: %s", i, err);
			assert_int_equal(strlen(cfg->force_name), n);
		} else {
			assert_null(cfg);
			expect_error(i, err,
				     ":2: line longer than 4096 bytes");
		}
		cm_config_free(&cfg);
		free(text);
	}
}

/* test_long_key - an unknown key is quoted cut short */
static void
test_long_key(void **state)
{
	char text[256];
	const char *err = NULL;
	struct cm_config *cfg;
	char want[128];

	(void)state;
	memset(text, 'k', 100);
	memcpy(text + 100, " = 1\n", 6);
	memcpy(want, ":1: unknown key '", 17);
	memset(want + 17, 'k', 64);
	memcpy(want + 17 + 64, "...'", 5);
	cfg = load_text(text, &err);
	assert_null(cfg);
	expect_error(0, err, want);
}

/* test_file_size - 1 MiB is accepted, one byte more is not */
static void
test_file_size(void **state)
{
	static const size_t sizes[] = { 1024 * 1024, 1024 * 1024 + 1 };
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i], off;
		char *text = cm_xmalloc(n);
		const char *err = NULL;
		struct cm_config *cfg;

		/* mail_domain, then comment lines of 100 bytes, padded */
		memcpy(text, MD, sizeof(MD) - 1);
		for (off = sizeof(MD) - 1; off < n; off += 100) {
			size_t k = n - off < 100 ? n - off : 100;

			memset(text + off, ' ', k);
			text[off] = '#';
			text[off + k - 1] = '\n';
		}
		write_file(conf_path, text, n);
		cfg = cm_config_load(conf_path, &err);
		if (n <= 1024 * 1024) {
			if (cfg == NULL)
				fail_msg("row %zu: %s", i, err);
		} else {
			assert_null(cfg);
			expect_error(i, err,
				     ": file larger than 1048576 bytes");
		}
		cm_config_free(&cfg);
		free(text);
	}
}

/* test_missing_file - the exact message for a file that is not there */
static void
test_missing_file(void **state)
{
	char *path = cm_xasprintf("%s/nonexistent.conf", tmpdir);
	char *want = cm_xasprintf("%s: cannot open: No such file or "
				  "directory",
				  path);
	const char *err = NULL;
	struct cm_config *cfg;

	(void)state;
	cfg = cm_config_load(path, &err);
	assert_null(cfg);
	assert_non_null(err);
	assert_string_equal(err, want);
	free(want);
	free(path);
}

/* test_not_regular - a directory is not a config file */
static void
test_not_regular(void **state)
{
	const char *err = NULL;
	struct cm_config *cfg;
	char *want = cm_xasprintf("%s: not a regular file", tmpdir);

	(void)state;
	cfg = cm_config_load(tmpdir, &err);
	assert_null(cfg);
	assert_string_equal(err, want);
	free(want);
}

/* test_nul_byte - a NUL inside a line is refused, naming the line */
static void
test_nul_byte(void **state)
{
	static const char text[] = MD "force_name = Pol\0ice\n";
	const char *err = NULL;
	struct cm_config *cfg;

	(void)state;
	write_file(conf_path, text, sizeof(text) - 1);
	cfg = cm_config_load(conf_path, &err);
	assert_null(cfg);
	expect_error(0, err, ":2: NUL byte in line");
}

/* test_relative_config - a relative config path still gives absolute
 * paths, resolved against the file's directory */
static void
test_relative_config(void **state)
{
	int here = open(".", O_RDONLY | O_DIRECTORY);
	char *sub = cm_xasprintf("%s/etc", tmpdir);
	char *file = cm_xasprintf("%s/etc/c.conf", tmpdir);
	char *want = cm_xasprintf("%s/etc/db/cm.db", tmpdir);
	const char *err = NULL;
	struct cm_config *cfg;

	(void)state;
	assert_true(here >= 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(file, MD "database = db/cm.db\n",
		   strlen(MD "database = db/cm.db\n"));
	assert_int_equal(chdir(tmpdir), 0);
	cfg = cm_config_load("etc/c.conf", &err);
	assert_int_equal(fchdir(here), 0);
	close(here);
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->database, want);
	assert_string_equal(cfg->path, "etc/c.conf");
	cm_config_free(&cfg);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(sub), 0);
	free(want);
	free(file);
	free(sub);
}

/* test_error_names_file - errors after a good load use the new file */
static void
test_error_names_file(void **state)
{
	const char *err = NULL;
	struct cm_config *cfg;

	(void)state;
	cfg = load_text(MD, &err);
	assert_non_null(cfg);
	cm_config_free(&cfg);
	cfg = load_text(MD "\n\n\nbogus\n", &err);
	assert_null(cfg);
	expect_error(0, err, ":5: missing '='");
}

/* key_index - position of key in all_keys, or -1 */
static long
key_index(const char *key)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_SIZE(all_keys); i++)
		if (strcmp(key, all_keys[i]) == 0)
			return (long)i;
	return -1;
}

/*
 * test_example_conf - conf/casemail.conf loads; every key is in it; every
 * "#key = value" line shows the real default, as config show prints it
 */
static void
test_example_conf(void **state)
{
	const char *err = NULL;
	struct cm_config *cfg, *one;
	struct pairs def = { 0 };
	char *data = NULL, *line, *nl;
	size_t len = 0, i, documented = 0;
	bool seen[CM_ARRAY_SIZE(all_keys)] = { false };

	(void)state;
	cfg = cm_config_load("conf/casemail.conf", &err);
	if (cfg == NULL)
		fail_msg("%s", err);
	cm_config_dump(cfg, collect, &def);
	assert_int_equal(cm_read_file("conf/casemail.conf", 1 << 20, &data,
				      &len),
			 0);
	for (line = data; *line != '\0'; line = nl + 1) {
		const char *p = line[0] == '#' ? line + 1 : line;
		size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		const char *value;
		char *key, *text, *got;
		long idx;

		nl = strchr(line, '\n');
		assert_non_null(nl); /* the file ends with a newline */
		*nl = '\0';
		if (k == 0 || strncmp(p + k, " =", 2) != 0)
			continue; /* prose */
		key = cm_xstrndup(p, k);
		idx = key_index(key);
		if (idx < 0)
			fail_msg("conf mentions unknown key '%s'", key);
		seen[idx] = true;
		if (p == line) { /* a setting, not a documented default */
			free(key);
			continue;
		}
		/* uncommented, the line gives the value in force */
		value = p + k + 2;
		value += strspn(value, " ");
		text = cm_xasprintf(MD "%s = %s\n", key, value);
		one = load_text(text, &err);
		if (one == NULL)
			fail_msg("conf: '%s = %s': %s", key, value, err);
		got = dump_value(one, key);
		if (strcmp(got, pairs_get(&def, key)) != 0)
			fail_msg("conf: '%s = %s' gives '%s', the default "
				 "is '%s'",
				 key, value, got, pairs_get(&def, key));
		if (strcmp(value, got) != 0)
			fail_msg("conf: '%s = %s' is shown as '%s'", key,
				 value, got);
		documented++;
		free(got);
		cm_config_free(&one);
		free(text);
		free(key);
	}
	for (i = 0; i < CM_ARRAY_SIZE(all_keys); i++)
		if (!seen[i])
			fail_msg("conf/casemail.conf lacks '%s'", all_keys[i]);
	/* every key but the required mail_domain shows its default */
	assert_int_equal(documented, CM_ARRAY_SIZE(all_keys) - 1);
	pairs_free(&def);
	free(data);
	cm_config_free(&cfg);
}

/* test_man_page - docs/casemail.conf.5 has an entry for every key */
static void
test_man_page(void **state)
{
	char *data = NULL;
	size_t len = 0, i;

	(void)state;
	assert_int_equal(cm_read_file("docs/casemail.conf.5", 1 << 20, &data,
				      &len),
			 0);
	for (i = 0; i < CM_ARRAY_SIZE(all_keys); i++) {
		char *entry = cm_xasprintf(".TP\n.B %s\n", all_keys[i]);

		if (strstr(data, entry) == NULL)
			fail_msg("docs/casemail.conf.5 lacks '%s'",
				 all_keys[i]);
		free(entry);
	}
	free(data);
}

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* setup - a fresh temporary directory for the config files */
static int
setup(void **state)
{
	(void)state;
	cm_strlcpy(tmpdir, "/tmp/cm_test_config.XXXXXX", sizeof(tmpdir));
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(conf_path, sizeof(conf_path), "%s/c.conf", tmpdir);
	return 0;
}

/* teardown - remove the temporary directory */
static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* proxy_seen - cm_config_warnings callback: note a CM_CW_PROXY */
static void
proxy_seen(enum cm_config_warning kind, const char *text, void *ctx)
{
	(void)text;
	if (kind == CM_CW_PROXY)
		*(bool *)ctx = true;
}

/* test_proxy_warning - a portal on a loopback address (where a local TLS
 * proxy connects from) without portal_trust_proxy is warned about */
static void
test_proxy_warning(void **state)
{
	static const struct {
		const char *conf;
		bool warn;
	} rows[] = {
		{ MD "portal_listen = 127.0.0.1:8080\n", true },
		{ MD "portal_listen = 127.1.2.3:80\n", true },
		{ MD "portal_listen = [::1]:8080\n", true },
		{ MD "portal_listen = 0.0.0.0:8080\n", false },
		{ MD "portal_listen = 192.0.2.1:80\n", false },
		{ MD "portal_listen = [::]:80\n", false },
		{ MD "portal_listen = [2001:db8::1]:80\n", false },
		{ MD "portal_listen = 127.0.0.1:8080\n"
		     "portal_trust_proxy = yes\n", false },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		const char *err = NULL;
		struct cm_config *cfg = load_text(rows[i].conf, &err);
		bool seen = false;

		if (cfg == NULL)
			fail_msg("row %zu: %s", i, err);
		cm_config_warnings(cfg, proxy_seen, &seen);
		cm_config_free(&cfg);
		if (seen != rows[i].warn)
			fail_msg("row %zu: %s", i, rows[i].conf);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_smtp_password),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_long_key),
		cmocka_unit_test(test_file_size),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_relative_config),
		cmocka_unit_test(test_error_names_file),
		cmocka_unit_test(test_proxy_warning),
		cmocka_unit_test(test_example_conf),
		cmocka_unit_test(test_man_page),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
