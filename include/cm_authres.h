/*
 * cm_authres.h - reading Authentication-Results (RFC 8601)
 *
 * DESCRIPTION
 *	Decides whether a message passed DKIM or DMARC for its From domain
 *	according to Authentication-Results fields added by a trusted
 *	authserv-id. Fields claiming any other authserv-id are ignored
 *	(anyone can write such a header; only our own border adds the
 *	trusted one and removes forged copies).
 */
#ifndef CM_AUTHRES_H
#define CM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * cm_authres_pass - true if one field among values[0..n) whose
 * authserv-id is in trusted (a space or comma separated list, case-blind)
 * says dmarc=pass (header.from, when given, equal to from_domain) or
 * dkim=pass with header.d equal to from_domain (or header.i ending in
 * "@" from_domain).
 */
bool cm_authres_pass(char *const *values, size_t n, const char *trusted,
		     const char *from_domain);

#endif
