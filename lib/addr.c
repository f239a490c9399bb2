/*
 * addr.c - casemail addresses: reply+KEY, case+REF, note+REF, bounce+KEY
 *
 * SYNOPSIS
 *	#include "cm_addr.h"
 *
 * DESCRIPTION
 *	KEY formats (bytes, then base32 via cm_token_base32):
 *	  reply:  'r' | uvarint(victim_id) | uvarint(case_id) | MAC[16]
 *	  bounce: 'b' | uvarint(notice_id) | MAC[16]
 *	uvarint is LEB128 (7 bits a byte, least significant first, high
 *	bit set on every byte but the last). MAC is the first 16 bytes of
 *	cm_token_mac(CM_KEY_ADDR) over every byte before it. The decoder
 *	accepts exactly one encoding of each KEY: no overlong varints, ids
 *	from 1 to INT64_MAX, nothing after the MAC.
 *
 *	Classification splits the recipient at its last '@' and the local
 *	part at its first '+' (Postfix's recipient_delimiter).
 *
 *	Case references pass built-in rules first (1..64 bytes, no white
 *	space, control bytes, quotes, backslash or ';'), then the POSIX
 *	extended pattern ref_pattern, matched case-blind against the whole
 *	reference; they are returned upper case.
 *
 * DIAGNOSTICS
 *	KEY decoders return -1 and never say which part was wrong.
 *	cm_addr_ref_canon errors point into a static buffer, borrowed until
 *	the next call.
 *
 * SECURITY
 *	KEYs are compared in constant time (cm_token_mac_verify). Every
 *	address from data passes cm_addr_valid (no CR, LF, NUL, control
 *	bytes, spaces or angle brackets) before it reaches a header or SMTP.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_addr.h"
#include "cm_limits.h"
#include "cm_log.h"
#include "cm_token.h"
#include "cm_util.h"

#define KEY_MAC 16      /* MAC bytes in a KEY (128 bits) */
#define VARINT_MAX 10   /* bytes of a 64-bit LEB128 */
#define KEY_MAX (1 + 2 * VARINT_MAX + KEY_MAC)

static char errbuf[512];

/* the last compiled ref_pattern, kept between calls */
static char *re_pattern;
static regex_t re_compiled;

/* put_uvarint - append LEB128 of v at p; returns bytes written */
static size_t
put_uvarint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* get_id - strict LEB128 id in [1, INT64_MAX] from p[*pos..len);
 * advances *pos; 0 or -1 */
static int
get_id(const unsigned char *p, size_t len, size_t *pos, int64_t *id_r)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	size_t i = *pos;
	size_t start = i;
	unsigned char b;

	for (;;) {
		if (i >= len || i - start >= 9)
			return -1; /* truncated, or more than 63 bits */
		b = p[i++];
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if ((b & 0x80) == 0)
			break;
	}
	/* a final zero byte after others would be an overlong form */
	if (b == 0 && i - start > 1)
		return -1;
	if (v < 1 || v > (uint64_t)INT64_MAX)
		return -1;
	*pos = i;
	*id_r = (int64_t)v;
	return 0;
}

/* make_key - type byte, the ids, the MAC, in base32; caller frees */
static char *
make_key(const struct cm_secret *s, char type, const int64_t *ids,
	 size_t nids)
{
	unsigned char buf[KEY_MAX];
	unsigned char mac[CM_HASH_LEN];
	size_t len = 0;
	size_t i;
	char *key;

	buf[len++] = (unsigned char)type;
	for (i = 0; i < nids; i++) {
		if (ids[i] < 1)
			cm_panic("addr: id %lld out of range",
				 (long long)ids[i]);
		len += put_uvarint(buf + len, (uint64_t)ids[i]);
	}
	cm_token_mac(s, CM_KEY_ADDR, buf, len, mac);
	memcpy(buf + len, mac, KEY_MAC);
	len += KEY_MAC;
	key = cm_token_base32(buf, len);
	cm_token_wipe(mac, sizeof(mac));
	return key;
}

/* decode_key - check type, ids and MAC of a KEY; 0 or -1 */
static int
decode_key(const struct cm_secret *s, const char *key, char type,
	   int64_t *ids_r, size_t nids)
{
	unsigned char buf[KEY_MAX];
	size_t pos = 1;
	size_t i;
	long n;
	int ret = -1;

	if (key == NULL || strlen(key) > (KEY_MAX * 8 + 4) / 5)
		goto out;
	n = cm_token_unbase32(key, buf, sizeof(buf));
	if (n < 1 + KEY_MAC || buf[0] != (unsigned char)type)
		goto out;
	for (i = 0; i < nids; i++) {
		if (get_id(buf, (size_t)n - KEY_MAC, &pos, &ids_r[i]) < 0)
			goto out;
	}
	if (pos + KEY_MAC != (size_t)n)
		goto out;
	if (!cm_token_mac_verify(s, CM_KEY_ADDR, buf, pos, buf + pos,
				 KEY_MAC))
		goto out;
	ret = 0;
out:
	return ret;
}

/* cm_addr_reply_key - KEY for a victim on a case; caller frees */
char *
cm_addr_reply_key(const struct cm_secret *s, int64_t victim_id,
		  int64_t case_id)
{
	int64_t ids[2] = { victim_id, case_id };

	return make_key(s, 'r', ids, 2);
}

/* cm_addr_reply_decode - the ids of a genuine reply KEY; 0 or -1 */
int
cm_addr_reply_decode(const struct cm_secret *s, const char *key,
		     int64_t *victim_id_r, int64_t *case_id_r)
{
	int64_t ids[2];

	if (decode_key(s, key, 'r', ids, 2) < 0)
		return -1;
	*victim_id_r = ids[0];
	*case_id_r = ids[1];
	return 0;
}

/* cm_addr_bounce_key - KEY for a notice; caller frees */
char *
cm_addr_bounce_key(const struct cm_secret *s, int64_t notice_id)
{
	return make_key(s, 'b', &notice_id, 1);
}

/* cm_addr_bounce_decode - the id of a genuine bounce KEY; 0 or -1 */
int
cm_addr_bounce_decode(const struct cm_secret *s, const char *key,
		      int64_t *notice_id_r)
{
	int64_t id;

	if (decode_key(s, key, 'b', &id, 1) < 0)
		return -1;
	*notice_id_r = id;
	return 0;
}

/* cm_addr_officer_key - KEY for an officer answering one victim of a
 * case; caller frees */
char *
cm_addr_officer_key(const struct cm_secret *s, int64_t officer_id,
		    int64_t case_id, int64_t victim_id)
{
	int64_t ids[3] = { officer_id, case_id, victim_id };

	return make_key(s, 'o', ids, 3);
}

/* cm_addr_officer_decode - the ids of a genuine officer KEY; 0 or -1 */
int
cm_addr_officer_decode(const struct cm_secret *s, const char *key,
		       int64_t *officer_id_r, int64_t *case_id_r,
		       int64_t *victim_id_r)
{
	int64_t ids[3];

	if (decode_key(s, key, 'o', ids, 3) < 0)
		return -1;
	*officer_id_r = ids[0];
	*case_id_r = ids[1];
	*victim_id_r = ids[2];
	return 0;
}

/* cm_addr_unsub_key - KEY of a victim's one-click unsubscribe link;
 * caller frees */
char *
cm_addr_unsub_key(const struct cm_secret *s, int64_t victim_id,
		  int64_t case_id)
{
	int64_t ids[2] = { victim_id, case_id };

	return make_key(s, 'u', ids, 2);
}

/* cm_addr_unsub_decode - the ids of a genuine unsubscribe KEY; 0 or -1 */
int
cm_addr_unsub_decode(const struct cm_secret *s, const char *key,
		     int64_t *victim_id_r, int64_t *case_id_r)
{
	int64_t ids[2];

	if (decode_key(s, key, 'u', ids, 2) < 0)
		return -1;
	*victim_id_r = ids[0];
	*case_id_r = ids[1];
	return 0;
}

/* cm_addr_make - "local+ext@domain" or "local@domain"; caller frees */
char *
cm_addr_make(const char *local, const char *ext, const char *domain)
{
	if (ext == NULL)
		return cm_xasprintf("%s@%s", local, domain);
	return cm_xasprintf("%s+%s@%s", local, ext, domain);
}

/* cm_addr_valid - one plain addr-spec, safe for SMTP and headers */
bool
cm_addr_valid(const char *addr)
{
	const unsigned char *p;
	const char *at;
	size_t len;

	if (addr == NULL)
		return false;
	len = strnlen(addr, CM_MAX_ADDRESS + 1);
	if (len == 0 || len > CM_MAX_ADDRESS || !cm_utf8_valid(addr, len))
		return false;
	for (p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' ||
		    *p == ',')
			return false;
	}
	at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		return false;
	/* the domain: no quoting, comments or statement separators */
	if (strpbrk(at + 1, "\"\\();") != NULL)
		return false;
	return true;
}

/* ascii_lower - lower-case one ASCII letter */
static unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* streq_ci - ASCII case-blind equality, independent of the locale */
static bool
streq_ci(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x != '\0' && ascii_lower(*x) == ascii_lower(*y)) {
		x++;
		y++;
	}
	return ascii_lower(*x) == ascii_lower(*y);
}

/* cm_addr_equal - same address, case-blind throughout */
bool
cm_addr_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	return streq_ci(a, b);
}

/* cm_addr_normalize - lower-cased copy of a valid address, or NULL */
char *
cm_addr_normalize(const char *addr)
{
	if (!cm_addr_valid(addr))
		return NULL;
	return cm_str_lower(cm_xstrdup(addr));
}

/* cm_addr_classify - which of our addresses recipient is, if any */
int
cm_addr_classify(const char *recipient, const char *mail_domain,
		 enum cm_addr_kind *kind_r, char **ext_r)
{
	static const struct {
		const char *local;
		enum cm_addr_kind kind;
	} kinds[] = {
		{ "reply", CM_ADDR_REPLY },
		{ "case", CM_ADDR_CASE },
		{ "note", CM_ADDR_NOTE },
		{ "bounce", CM_ADDR_BOUNCE },
		{ "officer", CM_ADDR_OFFICER },
	};
	char *addr = NULL;
	char *at, *plus;
	size_t len, i;
	int ret = -1;

	*kind_r = CM_ADDR_OTHER;
	*ext_r = NULL;
	if (recipient == NULL)
		goto out;
	len = strlen(recipient);
	if (len >= 2 && recipient[0] == '<' && recipient[len - 1] == '>')
		addr = cm_xstrndup(recipient + 1, len - 2);
	else
		addr = cm_xstrdup(recipient);
	if (!cm_addr_valid(addr))
		goto out;
	ret = 0;
	at = strrchr(addr, '@');
	*at = '\0';
	if (mail_domain == NULL || !streq_ci(at + 1, mail_domain))
		goto out;
	plus = strchr(addr, '+');
	if (plus == NULL || plus[1] == '\0')
		goto out;
	*plus = '\0';
	for (i = 0; i < CM_ARRAY_SIZE(kinds); i++) {
		if (streq_ci(addr, kinds[i].local)) {
			*kind_r = kinds[i].kind;
			*ext_r = cm_xstrdup(plus + 1);
			break;
		}
	}
out:
	free(addr);
	return ret;
}

/* ref_error - set the error naming ref (sanitised) and what is wrong */
static void
ref_error(const char **error_r, const char *ref, const char *what)
{
	char shown[CM_MAX_REF + 16];

	cm_log_sanitize(shown, sizeof(shown), ref, CM_MAX_REF);
	snprintf(errbuf, sizeof(errbuf), "case reference '%s' %s", shown,
		 what);
	*error_r = errbuf;
}

/* ref_rules - the built-in rules; NULL if ref passes, else what is
 * wrong */
static const char *
ref_rules(const char *ref)
{
	const unsigned char *p;

	if (*ref == '\0')
		return "is empty";
	if (strnlen(ref, CM_MAX_REF + 1) > CM_MAX_REF)
		return "is longer than 64 bytes";
	for (p = (const unsigned char *)ref; *p != '\0'; p++) {
		if (strchr(" \t\n\r\v\f", *p) != NULL)
			return "contains white space";
		if (*p < 0x20 || *p == 0x7f)
			return "contains a control byte";
		if (*p == '\'' || *p == '"' || *p == '`')
			return "contains a quote";
		if (*p == '\\')
			return "contains a backslash";
		if (*p == ';')
			return "contains a semicolon";
	}
	return NULL;
}

/* compile_pattern - the compiled pattern, cached; NULL with errbuf
 * filled if it does not compile */
static regex_t *
compile_pattern(const char *pattern)
{
	char msg[256];
	int rc;

	if (re_pattern != NULL && strcmp(re_pattern, pattern) == 0)
		return &re_compiled;
	if (re_pattern != NULL) {
		regfree(&re_compiled);
		free(re_pattern);
		re_pattern = NULL;
	}
	rc = regcomp(&re_compiled, pattern, REG_EXTENDED | REG_ICASE);
	if (rc != 0) {
		regerror(rc, &re_compiled, msg, sizeof(msg));
		snprintf(errbuf, sizeof(errbuf),
			 "ref_pattern '%s' is not a valid regular expression: "
			 "%s", pattern, msg);
		return NULL;
	}
	re_pattern = cm_xstrdup(pattern);
	return &re_compiled;
}

/* cm_addr_ref_canon - checked, upper-cased case reference */
char *
cm_addr_ref_canon(const char *ref, const char *pattern,
		  const char **error_r)
{
	const char *what;
	regmatch_t m[1];
	regex_t *re;
	char *ret = NULL;

	if (ref == NULL)
		ref = "";
	what = ref_rules(ref);
	if (what != NULL) {
		ref_error(error_r, ref, what);
		goto out;
	}
	if (pattern != NULL && *pattern != '\0') {
		re = compile_pattern(pattern);
		if (re == NULL) {
			*error_r = errbuf;
			goto out;
		}
		/* the whole reference must match, anchors or not */
		if (regexec(re, ref, 1, m, 0) != 0 || m[0].rm_so != 0 ||
		    (size_t)m[0].rm_eo != strlen(ref)) {
			ref_error(error_r, ref, "does not match ref_pattern");
			goto out;
		}
	}
	ret = cm_str_upper(cm_xstrdup(ref));
out:
	return ret;
}

/* cm_addr_subject_ref - the first "[REF]" tag in subject that passes */
char *
cm_addr_subject_ref(const char *subject, const char *pattern)
{
	const char *open, *close;
	const char *error;
	char *cand;
	char *ret = NULL;

	if (subject == NULL)
		goto out;
	for (open = strchr(subject, '['); open != NULL;
	     open = strchr(open + 1, '[')) {
		close = strchr(open + 1, ']');
		if (close == NULL)
			break;
		if ((size_t)(close - open - 1) > CM_MAX_REF)
			continue;
		cand = cm_xstrndup(open + 1, (size_t)(close - open - 1));
		ret = cm_addr_ref_canon(cand, pattern, &error);
		free(cand);
		if (ret != NULL)
			break;
	}
out:
	return ret;
}
