/*
 * test_login.c - unit tests of one-time login links (cm_login)
 *
 * DESCRIPTION
 *	Tokens minted for a notice: 43 base64url characters, all distinct
 *	over many mints, only a keyed hash stored (the token does not
 *	appear in the database, and the hash depends on the secret);
 *	check says valid without using it; redeem works once, then says
 *	used; expiry is honoured by check and redeem; malformed and
 *	unknown tokens are "unknown"; redeem writes its audit row.
 */
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

#include "cm_login.h"
#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"
#include "store_test.h"

#define TTL 3600
#define NOW 1795875248

static char tmpdir[] = "/tmp/cm-test-login-XXXXXX";
static struct cm_secret *secret, *other;
static struct cm_store *st;
static int64_t victim_id, case_id;

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* load - create and load a secret named name */
static struct cm_secret *
load(const char *name)
{
	char *path = cm_xasprintf("%s/%s", tmpdir, name);
	const char *err = NULL;
	struct cm_secret *s = NULL;

	if (cm_secret_create(path, &err) == 0)
		s = cm_secret_load(path, NULL, &err);
	free(path);
	return s;
}

/* group_setup - a store with an officer, a case and a victim */
static int
group_setup(void **state)
{
	const char *err = NULL;
	int64_t oid = 0;
	char *db;
	int rc;

	(void)state;
	if (cm_token_init() != 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	secret = load("secret");
	other = load("other");
	if (secret == NULL || other == NULL)
		return -1;
	db = cm_xasprintf("%s/db", tmpdir);
	rc = cm_store_open(db, secret, 5000, CM_STORE_CREATE, &st, &err);
	free(db);
	if (rc < 0 || cm_store_begin(st, &err) < 0 ||
	    cm_store_officer_add(st, "pc@police.example.org", "PC", NULL, &oid,
				 &err) < 0 ||
	    cm_store_case_add(st, "HU-1", NULL, oid, &case_id, &err) < 0 ||
	    cm_store_victim_add(st, case_id, "Jane", "jane@example.net", NULL,
				NULL, true, &victim_id, &err) < 0 ||
	    cm_store_commit(st, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	return 0;
}

/* group_teardown - close and remove */
static int
group_teardown(void **state)
{
	(void)state;
	cm_store_close(&st);
	cm_secret_free(&secret);
	cm_secret_free(&other);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mint - a token committed to the store */
static char *
mint(int64_t now)
{
	const char *err = NULL;
	int64_t exp = 0;
	char *tok;

	assert_int_equal(cm_store_begin(st, &err), 0);
	tok = cm_login_mint(st, secret, victim_id, case_id, 0, now, TTL, &exp,
			    &err);
	if (tok == NULL)
		fail_msg("mint: %s", err);
	assert_int_equal(cm_store_commit(st, &err), 0);
	assert_int_equal(exp, now + TTL);
	return tok;
}

/* redeem - one redeem in its own transaction; returns the state */
static enum cm_login_state
redeem(const char *tok, int64_t now)
{
	struct cm_login_info in;
	enum cm_login_state state;
	const char *err = NULL;

	assert_int_equal(cm_store_begin(st, &err), 0);
	if (cm_login_redeem(st, secret, tok, now, "test", &state, &in, &err) <
	    0)
		fail_msg("redeem: %s", err);
	assert_int_equal(cm_store_commit(st, &err), 0);
	return state;
}

/* check - the state by cm_login_check */
static enum cm_login_state
check(const struct cm_secret *s, const char *tok, int64_t now,
      struct cm_login_info *in)
{
	enum cm_login_state state;
	const char *err = NULL;

	if (cm_login_check(st, s, tok, now, &state, in, &err) < 0)
		fail_msg("check: %s", err);
	return state;
}

/* test_entropy - shape and uniqueness of many tokens */
static void
test_entropy(void **state)
{
	enum { N = 2000 };
	static char *toks[N];
	size_t counts[64] = { 0 };
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			    "wxyz0123456789-_";
	const char *err = NULL;

	(void)state;
	assert_int_equal(cm_store_begin(st, &err), 0);
	for (int i = 0; i < N; i++) {
		toks[i] = cm_login_mint(st, secret, victim_id, case_id, 0, NOW,
					TTL, NULL, &err);
		assert_non_null(toks[i]);
		assert_int_equal(strlen(toks[i]), 43);
		assert_int_equal(strspn(toks[i], alpha), 43);
		for (int k = 0; k < 42; k++) /* the last char has 4 bits */
			counts[strchr(alpha, toks[i][k]) - alpha]++;
	}
	assert_int_equal(cm_store_commit(st, &err), 0);
	for (int i = 0; i < N; i++)
		for (int k = i + 1; k < N; k++)
			if (strcmp(toks[i], toks[k]) == 0)
				fail_msg("tokens %d and %d equal", i, k);
	/* 84,000 characters over 64 symbols: each ~1312; a broken
	 * generator (a stuck byte, a small alphabet) lands far outside */
	for (int c = 0; c < 64; c++)
		if (counts[c] < 1000 || counts[c] > 1650)
			fail_msg("symbol '%c' seen %zu times", alpha[c],
				 counts[c]);
	for (int i = 0; i < N; i++)
		free(toks[i]);
}

/* test_hash_only - the token is not in the store; the hash is keyed */
static void
test_hash_only(void **state)
{
	struct cm_login_info in;
	const char *err = NULL;
	char *tok = mint(NOW), *sql;
	int64_t n = -1;

	(void)state;
	sql = cm_xasprintf("SELECT count(*) FROM tokens WHERE"
			   " instr(CAST(hash AS TEXT), '%s') > 0"
			   " OR instr(hex(hash), upper(hex('%s'))) > 0",
			   tok, tok);
	assert_int_equal(cm_store_query_int_for_test(st, sql, &n, &err), 0);
	assert_int_equal(n, 0);
	free(sql);
	assert_int_equal(check(secret, tok, NOW, &in), CM_LOGIN_VALID);
	/* under another server key the same token is unknown */
	assert_int_equal(check(other, tok, NOW, &in), CM_LOGIN_UNKNOWN);
	free(tok);
}

/* test_single_use - check does not use; redeem once, then "used" */
static void
test_single_use(void **state)
{
	struct cm_login_info in;
	const char *err = NULL;
	char *tok = mint(NOW);
	int64_t rows = 0, after = 0;

	(void)state;
	assert_int_equal(check(secret, tok, NOW + 1, &in), CM_LOGIN_VALID);
	assert_int_equal(check(secret, tok, NOW + 1, &in), CM_LOGIN_VALID);
	assert_int_equal(in.victim_id, victim_id);
	assert_int_equal(in.case_id, case_id);
	assert_int_equal(in.expires_at, NOW + TTL);
	assert_int_equal(in.used_at, 0);
	assert_int_equal(cm_store_query_int_for_test(
				 st,
				 "SELECT count(*) FROM audit WHERE"
				 " action = 'login.redeem'",
				 &rows, &err),
			 0);
	assert_int_equal(redeem(tok, NOW + 2), CM_LOGIN_VALID);
	assert_int_equal(redeem(tok, NOW + 3), CM_LOGIN_USED);
	assert_int_equal(check(secret, tok, NOW + 4, &in), CM_LOGIN_USED);
	assert_int_equal(in.used_at, NOW + 2);
	assert_int_equal(cm_store_query_int_for_test(
				 st,
				 "SELECT count(*) FROM audit WHERE"
				 " action = 'login.redeem'",
				 &after, &err),
			 0);
	assert_int_equal(after, rows + 1);
	free(tok);
}

/* test_expiry - valid until expires_at, then expired, never redeemed */
static void
test_expiry(void **state)
{
	struct cm_login_info in;
	char *tok = mint(NOW);

	(void)state;
	assert_int_equal(check(secret, tok, NOW + TTL - 1, &in),
			 CM_LOGIN_VALID);
	assert_int_equal(check(secret, tok, NOW + TTL, &in), CM_LOGIN_EXPIRED);
	assert_int_equal(redeem(tok, NOW + TTL + 5), CM_LOGIN_EXPIRED);
	/* refusing did not use it */
	assert_int_equal(check(secret, tok, NOW, &in), CM_LOGIN_VALID);
	free(tok);
}

/* test_unknown - malformed or never issued */
static void
test_unknown(void **state)
{
	static const char *const bad[] = {
		"", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAA",
		"' OR 1=1 --",
	};
	struct cm_login_info in;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(bad); i++) {
		if (check(secret, bad[i], NOW, &in) != CM_LOGIN_UNKNOWN)
			fail_msg("row %zu: not unknown", i);
		if (redeem(bad[i], NOW) != CM_LOGIN_UNKNOWN)
			fail_msg("row %zu: redeemed", i);
	}
	assert_string_equal(cm_login_state_name(CM_LOGIN_UNKNOWN), "unknown");
	assert_string_equal(cm_login_state_name(CM_LOGIN_VALID), "valid");
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entropy),
		cmocka_unit_test(test_hash_only),
		cmocka_unit_test(test_single_use),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
