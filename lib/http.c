/*
 * http.c - SMS through an HTTP gateway in the GOV.UK Notify API shape
 *
 * SYNOPSIS
 *	See cm_http.h.
 *
 * DESCRIPTION
 *	The second libcurl module (R1: smtp and one http module for SMS).
 *	A JSON body built with jansson is POSTed with a fresh JWT for each
 *	request (Notify refuses an iat more than 30 seconds old), and the
 *	answer is read into a bounded buffer and parsed with jansson for
 *	"id" (201) or "errors"[0]."message" (4xx/5xx). curl slists are made
 *	and freed here only (R13). RFC 7519, RFC 7515 (HS256), RFC 4648
 *	(base64url).
 *
 * DIAGNOSTICS
 *	Statuses map to 0 / CM_ERR / CM_ETEMP as documented in cm_http.h.
 *
 * SECURITY
 *	The key is copied and wiped with cm_token_wipe on free. Answers are
 *	hostile: bounded, parsed, and only printable characters of the
 *	gateway's message are kept for the error text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cm_http.h"
#include "cm_log.h"
#include "cm_token.h"
#include "cm_util.h"

#define ANSWER_MAX (64L * 1024) /* bytes of a gateway answer read */

struct cm_http {
	CURL *curl;
	char *url; /* {base}/v2/notifications/sms */
	char *service_id;
	unsigned char *key;
	size_t keylen;
	char *template_id;
	struct cm_buf answer;
	char curl_err[CURL_ERROR_SIZE];
};

static char errbuf[CURL_ERROR_SIZE + 256];

/* set_error - format the module error */
static void CM_ATTR_PRINTF(1, 2)
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* on_write - libcurl's write callback: keep up to ANSWER_MAX bytes */
static size_t
on_write(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct cm_http *h = ctx;
	size_t n = size * nmemb;

	(void)cm_buf_append(&h->answer, p, n); /* past the cap: dropped */
	return n;
}

/* b64 - base64url of a string */
static char *
b64(const char *s)
{
	return cm_token_base64url((const unsigned char *)s, strlen(s));
}

/* cm_http_jwt - header.claims.signature */
char *
cm_http_jwt(const char *iss, int64_t iat, const unsigned char *key,
	    size_t keylen)
{
	json_t *claims = json_pack("{s:s, s:I}", "iss", iss, "iat",
				   (json_int_t)iat);
	char *cj, *h64, *c64, *sig64, *input, *ret;
	unsigned char mac[32];

	if (claims == NULL)
		cm_fatal("jansson: out of memory");
	cj = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (cj == NULL)
		cm_fatal("jansson: out of memory");
	h64 = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
	c64 = b64(cj);
	input = cm_xasprintf("%s.%s", h64, c64);
	cm_token_hmac_sha256(key, keylen, input, strlen(input), mac);
	sig64 = cm_token_base64url(mac, sizeof(mac));
	ret = cm_xasprintf("%s.%s", input, sig64);
	free(sig64);
	free(input);
	free(c64);
	free(h64);
	free(cj);
	json_decref(claims);
	return ret;
}

/* is_uuid - 36 characters: 8-4-4-4-12 hex digits */
static bool
is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-'
			 : strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
				   s[i] == '\0')
			return false;
	}
	return true;
}

/* cm_http_split_key - service id and secret of a whole Notify key */
int
cm_http_split_key(const char *key, char **service_r, char **secret_r)
{
	size_t n = strlen(key);
	const char *svc, *sec;

	if (n < 74)
		return -1;
	sec = key + n - 36;
	svc = sec - 37;
	if (svc[36] != '-' || svc[-1] != '-' || !is_uuid(svc) ||
	    !is_uuid(sec))
		return -1;
	*service_r = cm_xstrndup(svc, 36);
	*secret_r = cm_xstrdup(sec);
	return 0;
}

/* cm_http_new - one client */
struct cm_http *
cm_http_new(const struct cm_http_opts *o, const char **error_r)
{
	static bool global;
	struct cm_http *h = NULL, *ret = NULL;
	CURLcode rc = CURLE_OK;
	size_t n;

	if (o->base_url == NULL ||
	    (!cm_str_has_prefix_ci(o->base_url, "https://") &&
	     !cm_str_has_prefix_ci(o->base_url, "http://"))) {
		set_error("expected an http:// or https:// URL");
		goto out;
	}
	if (o->service_id == NULL || *o->service_id == '\0' ||
	    o->key == NULL || o->keylen == 0 || o->template_id == NULL ||
	    *o->template_id == '\0') {
		set_error("SMS needs a service id, a key and a template id");
		goto out;
	}
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			set_error("curl_global_init failed");
			goto out;
		}
		global = true;
	}
	h = cm_xcalloc(1, sizeof(*h));
	cm_buf_init(&h->answer, ANSWER_MAX);
	n = strlen(o->base_url);
	while (n > 0 && o->base_url[n - 1] == '/')
		n--;
	h->url = cm_xasprintf("%.*s/v2/notifications/sms", (int)n,
			      o->base_url);
	h->service_id = cm_xstrdup(o->service_id);
	h->template_id = cm_xstrdup(o->template_id);
	h->key = cm_xmalloc(o->keylen);
	memcpy(h->key, o->key, o->keylen);
	h->keylen = o->keylen;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		set_error("curl_easy_init failed");
		goto out;
	}
#define SET(opt, val)                                                  \
	do {                                                           \
		if (rc == CURLE_OK)                                    \
			rc = curl_easy_setopt(h->curl, opt, val);      \
	} while (0)
	SET(CURLOPT_URL, h->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->curl_err);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_CONNECTTIMEOUT, 30L);
	SET(CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 30L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_USERAGENT, "casemail-send");
	if (o->ca_file != NULL)
		SET(CURLOPT_CAINFO, o->ca_file);
#undef SET
	if (rc != CURLE_OK) {
		set_error("libcurl: %s", curl_easy_strerror(rc));
		goto out;
	}
	ret = h;
	h = NULL;
out:
	if (ret == NULL)
		*error_r = errbuf;
	cm_http_free(&h);
	return ret;
}

/* gateway_message - the first error message of a Notify answer, made
 * printable, into buf */
static const char *
gateway_message(const struct cm_buf *answer, char *buf, size_t size)
{
	json_t *root, *errs, *msg;
	const char *s = NULL;
	size_t i = 0;

	buf[0] = '\0';
	root = json_loadb(answer->data != NULL ? answer->data : "",
			  answer->len, 0, NULL);
	errs = root != NULL ? json_object_get(root, "errors") : NULL;
	msg = json_is_array(errs)
		      ? json_object_get(json_array_get(errs, 0), "message")
		      : NULL;
	if (json_is_string(msg))
		s = json_string_value(msg);
	for (; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (s != NULL)
		buf[i] = '\0';
	json_decref(root);
	return buf;
}

/* cm_http_sms - one SMS */
int
cm_http_sms(struct cm_http *h, const char *phone, const char *reference,
	    const char *const *keys, const char *const *values, size_t n,
	    int64_t now, long *status_r, char **id_r, const char **error_r)
{
	struct curl_slist *hdrs = NULL;
	json_t *body = NULL, *pers, *ans = NULL, *id;
	char *jwt = NULL, *auth = NULL, *text = NULL, msg[200];
	long status = 0;
	CURLcode rc;
	int ret = CM_ERR;

	*status_r = 0;
	*id_r = NULL;
	h->curl_err[0] = '\0';
	cm_buf_reset(&h->answer);
	pers = json_object();
	for (size_t i = 0; pers != NULL && i < n; i++)
		(void)json_object_set_new(pers, keys[i],
					  json_string(values[i] != NULL
							      ? values[i]
							      : ""));
	body = json_pack("{s:s, s:s, s:o, s:s}", "phone_number", phone,
			 "template_id", h->template_id, "personalisation",
			 pers, "reference", reference);
	if (body == NULL) {
		set_error("cannot build the request (bad UTF-8?)");
		goto out;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		set_error("cannot build the request");
		goto out;
	}
	jwt = cm_http_jwt(h->service_id, now, h->key, h->keylen);
	auth = cm_xasprintf("Authorization: Bearer %s", jwt);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (hdrs != NULL)
		hdrs = curl_slist_append(hdrs, auth);
	if (hdrs == NULL) {
		set_error("out of memory");
		ret = CM_ETEMP;
		goto out;
	}
	rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h->curl);
	(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	if (rc != CURLE_OK) {
		set_error("%s%s%s", curl_easy_strerror(rc),
			  h->curl_err[0] != '\0' ? ": " : "", h->curl_err);
		ret = CM_ETEMP;
		goto out;
	}
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	*status_r = status;
	if (status == 201) {
		ans = json_loadb(h->answer.data != NULL ? h->answer.data : "",
				 h->answer.len, 0, NULL);
		id = ans != NULL ? json_object_get(ans, "id") : NULL;
		if (json_is_string(id))
			*id_r = cm_xstrdup(json_string_value(id));
		ret = 0;
		goto out;
	}
	gateway_message(&h->answer, msg, sizeof(msg));
	set_error("gateway answered %ld%s%s", status, msg[0] ? ": " : "",
		  msg);
	ret = status >= 500 || status == 429 || status < 200 ? CM_ETEMP
							      : CM_ERR;
out:
	if (ret < 0)
		*error_r = errbuf;
	json_decref(ans);
	curl_slist_free_all(hdrs);
	if (auth != NULL)
		cm_token_wipe(auth, strlen(auth));
	free(auth);
	free(jwt);
	free(text);
	json_decref(body);
	return ret;
}

/* cm_http_free - free and wipe */
void
cm_http_free(struct cm_http **h)
{
	if (h == NULL || *h == NULL)
		return;
	if ((*h)->curl != NULL)
		curl_easy_cleanup((*h)->curl);
	if ((*h)->key != NULL)
		cm_token_wipe((*h)->key, (*h)->keylen);
	free((*h)->key);
	free((*h)->url);
	free((*h)->service_id);
	free((*h)->template_id);
	cm_buf_free(&(*h)->answer);
	free(*h);
	*h = NULL;
}
