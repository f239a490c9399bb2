/*
 * rate.c - casemail-web: rate limits as fixed-window counters
 *
 * SYNOPSIS
 *	struct rate *r = rate_new(8192);
 *	if (!rate_hit(r, "ip", addr, cfg->portal_rate_ip, 60, now)) 429
 *
 * DESCRIPTION
 *	A fixed table of counters addressed by a seeded 64-bit FNV-1a hash
 *	of "kind NUL key", probed linearly over a few slots. A counter
 *	counts the events of the current window (window seconds from its
 *	first event) and starts over when the window has passed. When no
 *	nearby slot is free the one whose window began longest ago is
 *	reused, so memory is bounded whatever a client sends.
 *
 * SECURITY
 *	The seed is random per process, so a client cannot choose keys
 *	that collide with someone else's counter. Reusing a slot under
 *	pressure can forget a counter: the limit is then as if the window
 *	had restarted, never stricter for an innocent client.
 */
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define PROBES 8

struct slot {
	uint64_t key; /* 0: free */
	int64_t start;
	long count;
};

struct rate {
	struct slot *v;
	size_t n;
	uint64_t seed;
};

/* rate_new - an empty table */
struct rate *
rate_new(size_t slots)
{
	struct rate *r = cm_xcalloc(1, sizeof(*r));

	r->n = slots < PROBES ? PROBES : slots;
	r->v = cm_xcalloc(r->n, sizeof(*r->v));
	cm_token_random(&r->seed, sizeof(r->seed));
	return r;
}

/* rate_free - release the table */
void
rate_free(struct rate **r)
{
	if (r == NULL || *r == NULL)
		return;
	free((*r)->v);
	free(*r);
	*r = NULL;
}

/* mix - FNV-1a over p[0..n) continuing from h */
static uint64_t
mix(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* rate_hit - count one event; true while within limit */
bool
rate_hit(struct rate *r, const char *kind, const char *key, long limit,
	 long window, int64_t now)
{
	uint64_t h = r->seed ^ 0xcbf29ce484222325ULL;
	struct slot *s = NULL, *old = NULL;
	size_t i, k;

	h = mix(h, kind, strlen(kind) + 1);
	h = mix(h, key, strlen(key));
	if (h == 0)
		h = 1;
	for (i = 0; i < PROBES; i++) {
		k = (size_t)((h + i) % r->n);
		if (r->v[k].key == h || r->v[k].key == 0) {
			s = &r->v[k];
			break;
		}
		if (old == NULL || r->v[k].start < old->start)
			old = &r->v[k];
	}
	if (s == NULL)
		s = old;
	if (s->key != h || now - s->start >= window || now < s->start) {
		s->key = h;
		s->start = now;
		s->count = 0;
	}
	if (s->count <= limit)
		s->count++;
	return s->count <= limit;
}
