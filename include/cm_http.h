/*
 * cm_http.h - SMS through an HTTP gateway in the GOV.UK Notify API shape
 *
 * SYNOPSIS
 *	struct cm_http_opts o = { .base_url = cfg->sms_url, ... };
 *	struct cm_http *h = cm_http_new(&o, &err);
 *	rc = cm_http_sms(h, "+447700900123", "notice-42", pers, 3, now,
 *			 &status, &id, &err);
 *	cm_http_free(&h);
 *
 * DESCRIPTION
 *	POST {base_url}/v2/notifications/sms with the JSON body
 *	  {"phone_number": P, "template_id": T,
 *	   "personalisation": {K: V, ...}, "reference": R}
 *	and "Authorization: Bearer JWT", the JWT being
 *	base64url({"alg":"HS256","typ":"JWT"}) "." base64url({"iss":
 *	service_id, "iat": now}) "." base64url(HMAC-SHA-256 under the key),
 *	as Notify documents. One easy handle is kept, so the connection is
 *	reused. jansson builds and reads the JSON. RFC 7519 (JWT), 7515.
 *
 * DIAGNOSTICS
 *	cm_http_sms: 0 for 201 Created (*id_r the gateway's "id", caller
 *	frees; NULL if the answer had none), CM_ERR for any other 4xx (the
 *	request itself is wrong: bad number, bad key, bad template; a retry
 *	cannot help) and 3xx, CM_ETEMP for 5xx, 429, timeouts and connection
 *	trouble. *status_r is the HTTP status (0 when there was no answer);
 *	*error_r says what went wrong, with the gateway's first error
 *	message when it gave one (borrowed until the next call).
 *
 * SECURITY
 *	TLS certificates are checked; no redirects are followed; the
 *	answer is read up to 64 KiB. The key stays in this module's copy,
 *	wiped on free.
 */
#ifndef CM_HTTP_H
#define CM_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* struct cm_http_opts - borrowed for the cm_http_new call */
struct cm_http_opts {
	const char *base_url;    /* no trailing '/' needed */
	const char *service_id;  /* JWT iss */
	const unsigned char *key; /* the secret key bytes */
	size_t keylen;
	const char *template_id;
	const char *ca_file;     /* NULL: the system store */
	long timeout;            /* seconds (0: 30) */
};

struct cm_http;

/* cm_http_new - a client (caller frees with cm_http_free) or NULL with
 * *error_r */
struct cm_http *cm_http_new(const struct cm_http_opts *o,
			    const char **error_r);

/*
 * cm_http_sms - send one SMS. keys/values: the personalisation (n
 * pairs, UTF-8). See DIAGNOSTICS.
 */
int cm_http_sms(struct cm_http *h, const char *phone, const char *reference,
		const char *const *keys, const char *const *values, size_t n,
		int64_t now, long *status_r, char **id_r, const char **error_r);

/* cm_http_free - free and wipe; sets *h NULL; NULL is fine */
void cm_http_free(struct cm_http **h);

/*
 * cm_http_jwt - the bearer token for iss at iat signed with key; caller
 * frees with free()
 */
char *cm_http_jwt(const char *iss, int64_t iat, const unsigned char *key,
		  size_t keylen);

/*
 * cm_http_split_key - a whole Notify API key "name-SERVICEID-SECRET"
 * (two UUIDs at the end): copies of the service id and the secret into
 * *service_r and *secret_r (caller frees); -1 if key is not one (then
 * it is the secret itself).
 */
int cm_http_split_key(const char *key, char **service_r, char **secret_r);

#endif
