/*
 * words.c - "kind = sentence" files: the plain words a victim reads for
 * each milestone kind
 *
 * SYNOPSIS
 *	See cm_words.h.
 *
 * DESCRIPTION
 *	The file is read whole (bounded), split into lines and each line
 *	parsed into a key and its sentence, kept in the order read; a
 *	lookup walks the list from the end, so that a later line wins.
 *
 * DIAGNOSTICS
 *	Static messages naming the file and the line.
 *
 * SECURITY
 *	Bounded: the file's size, a line's length (the file's), the
 *	number of entries. Control bytes refuse the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_util.h"
#include "cm_words.h"

#define KEY_MAX 64 /* bytes of a key */

struct entry {
	char *key;
	char *text;
};

struct cm_words {
	struct entry e[CM_WORDS_MAX_ENTRIES];
	size_t n;
};

/* is_key_byte - may c be part of a key */
static int
is_key_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* parse_line - one line of len bytes into w; 0, or -1 when malformed */
static int
parse_line(struct cm_words *w, const char *p, size_t len)
{
	size_t k = 0, i, end;

	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
			   p[len - 1] == '\r'))
		len--;
	for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i == len || p[i] == '#')
		return 0;
	while (i + k < len && is_key_byte(p[i + k]))
		k++;
	if (k == 0 || k > KEY_MAX)
		return -1;
	end = i + k;
	while (end < len && (p[end] == ' ' || p[end] == '\t'))
		end++;
	if (end == len || p[end] != '=')
		return -1;
	end++;
	while (end < len && (p[end] == ' ' || p[end] == '\t'))
		end++;
	if (end == len || w->n == CM_WORDS_MAX_ENTRIES)
		return -1;
	for (size_t j = end; j < len; j++)
		if ((unsigned char)p[j] < 0x20 || p[j] == 0x7f)
			return -1;
	w->e[w->n].key = cm_xstrndup(p + i, k);
	w->e[w->n].text = cm_xstrndup(p + end, len - end);
	w->n++;
	return 0;
}

/* cm_words_parse - entries from text */
struct cm_words *
cm_words_parse(const char *text, size_t len, const char *what,
	       const char **error_r)
{
	static char errbuf[300];
	struct cm_words *w = cm_xcalloc(1, sizeof(*w));
	size_t pos = 0, line = 0, n;
	const char *nl;

	while (pos < len) {
		line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (memchr(text + pos, '\0', n) != NULL ||
		    parse_line(w, text + pos, n) < 0) {
			(void)snprintf(errbuf, sizeof(errbuf),
				       "%.200s: line %zu: expected key = words",
				       what, line);
			*error_r = errbuf;
			cm_words_free(&w);
			return NULL;
		}
		pos += n + (nl != NULL ? 1 : 0);
	}
	return w;
}

/* cm_words_load - read and parse dir/name */
struct cm_words *
cm_words_load(const char *dir, const char *name, const char **error_r)
{
	static char errbuf[300];
	struct cm_words *ret = NULL;
	char *path = cm_xasprintf("%s/%s", dir, name), *data = NULL;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		(void)snprintf(errbuf, sizeof(errbuf), "%.200s: %s", path,
			       strerror(errno));
		*error_r = errbuf;
		goto out;
	}
	if (cm_read_fd(fd, CM_WORDS_MAX_BYTES, &data, &len) < 0) {
		(void)snprintf(errbuf, sizeof(errbuf),
			       "%.200s: unreadable or over %d bytes", path,
			       CM_WORDS_MAX_BYTES);
		*error_r = errbuf;
		goto out;
	}
	ret = cm_words_parse(data, len, path, error_r);
out:
	if (fd >= 0)
		(void)close(fd);
	free(data);
	free(path);
	return ret;
}

/* cm_words_get - the sentence for key, the last line for it winning */
const char *
cm_words_get(const struct cm_words *w, const char *key)
{
	for (size_t i = w != NULL ? w->n : 0; i > 0; i--)
		if (strcmp(w->e[i - 1].key, key) == 0)
			return w->e[i - 1].text;
	return NULL;
}

/* cm_words_free - release the entries */
void
cm_words_free(struct cm_words **wp)
{
	struct cm_words *w = *wp;

	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->e[i].key);
		free(w->e[i].text);
	}
	free(w);
	*wp = NULL;
}
