/*
 * util.c - memory, bounded buffers and string helpers
 *
 * SYNOPSIS
 *	See cm_util.h.
 *
 * DESCRIPTION
 *	Allocation wrappers that exit through cm_fatal (R12), struct cm_buf
 *	with a hard maximum (R15), UTF-8 validation and cleaning, strict
 *	number parsing, whole-file reads and durable-write helpers.
 *
 * DIAGNOSTICS
 *	Allocation failure is fatal (exit 75 in the mda). Everything else is
 *	returned.
 *
 * SECURITY
 *	cm_utf8_clean is the gate every outside string passes before it is
 *	stored: it removes NUL bytes and replaces invalid sequences.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_util.h"

#define BUF_DEFAULT_MAX (1024UL * 1024 * 1024)

/* cm_xmalloc - allocate or exit */
void *
cm_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		cm_fatal("out of memory (%zu bytes)", size);
	return p;
}

/* cm_xcalloc - zeroed allocation or exit */
void *
cm_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		cm_fatal("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

/* cm_xrealloc - resize or exit */
void *
cm_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		cm_fatal("out of memory (%zu bytes)", size);
	return p;
}

/* cm_xstrdup - copy of s or exit */
char *
cm_xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return cm_xstrndup(s, strlen(s));
}

/* cm_xstrndup - copy of at most n bytes of s or exit */
char *
cm_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = cm_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* cm_xvasprintf - formatted string or exit */
char *
cm_xvasprintf(const char *fmt, va_list ap)
{
	char *p = NULL;

	if (vasprintf(&p, fmt, ap) < 0)
		cm_fatal("out of memory formatting a string");
	return p;
}

/* cm_xasprintf - formatted string or exit */
char *
cm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = cm_xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

/* cm_buf_init - empty buffer with a maximum */
void
cm_buf_init(struct cm_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
}

/* cm_buf_append - add bytes within the maximum */
int
cm_buf_append(struct cm_buf *b, const void *p, size_t len)
{
	size_t need;

	if (len > b->max || b->len > b->max - len)
		return -1;
	need = b->len + len + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		b->data = cm_xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/* cm_buf_puts - add a string */
int
cm_buf_puts(struct cm_buf *b, const char *s)
{
	return cm_buf_append(b, s, strlen(s));
}

/* cm_buf_putc - add one byte */
int
cm_buf_putc(struct cm_buf *b, char c)
{
	return cm_buf_append(b, &c, 1);
}

/* cm_buf_printf - add formatted text */
int
cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	s = cm_xvasprintf(fmt, ap);
	va_end(ap);
	ret = cm_buf_puts(b, s);
	free(s);
	return ret;
}

/* cm_buf_reset - empty the buffer, keep the memory */
void
cm_buf_reset(struct cm_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* cm_buf_steal - hand over the contents as a string */
char *
cm_buf_steal(struct cm_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = cm_xstrdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/* cm_buf_free - release the memory */
void
cm_buf_free(struct cm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* cm_strlcpy - bounded copy, returns strlen(src) */
size_t
cm_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* cm_str_lower - lower-case ASCII in place */
char *
cm_str_lower(char *s)
{
	for (char *p = s; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* cm_str_upper - upper-case ASCII in place */
char *
cm_str_upper(char *s)
{
	for (char *p = s; p != NULL && *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return s;
}

/* is_ws - ASCII white space */
static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\f' || c == '\v';
}

/* cm_str_trim - strip white space at both ends in place */
char *
cm_str_trim(char *s)
{
	char *start = s;
	size_t len;

	while (is_ws(*start))
		start++;
	len = strlen(start);
	while (len > 0 && is_ws(start[len - 1]))
		len--;
	memmove(s, start, len);
	s[len] = '\0';
	return s;
}

/* cm_str_has_prefix_ci - case-blind prefix test */
bool
cm_str_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * utf8_seq - length of the valid UTF-8 sequence at p (at most left
 * bytes), or 0 if invalid. Rejects overlongs, surrogates, > U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (left < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;
		if (c == 0xed && p[1] > 0x9f)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

/* cm_utf8_valid - valid UTF-8 without NUL */
bool
cm_utf8_valid(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (u[i] < 0x80) { /* ASCII, most of it: no call */
			if (u[i] == 0)
				return false;
			i++;
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* cm_utf8_clean - valid UTF-8 copy, NUL dropped, bad bytes -> U+FFFD */
char *
cm_utf8_clean(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	char *out = cm_xmalloc(len * 3 + 1); /* UNSAFE: 1 byte -> 3 max */
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n;

		if (u[i] == 0) {
			i++;
			continue;
		}
		if (u[i] < 0x80) { /* ASCII, most of it: no call */
			out[o++] = (char)u[i++];
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, u + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/* cm_mem_has_any - does buf[0..n) contain one of list[0..count) */
bool
cm_mem_has_any(const char *buf, size_t n, const char *const *list,
	       size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (memmem(buf, n, list[i], strlen(list[i])) != NULL)
			return true;
	return false;
}

/* cm_parse_long - strict decimal within bounds */
int
cm_parse_long(const char *s, long min, long max, long *value_r)
{
	char *end = NULL;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*value_r = v;
	return 0;
}

/* cm_parse_int64 - strict non-negative int64 */
int
cm_parse_int64(const char *s, int64_t *value_r)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	*value_r = (int64_t)v;
	return 0;
}

/* cm_now - current time in seconds */
int64_t
cm_now(void)
{
	return (int64_t)time(NULL);
}

/* cm_time_iso - UTC ISO 8601 */
const char *
cm_time_iso(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		cm_strlcpy(buf, "1970-01-01T00:00:00Z", 32);
	return buf;
}

/* cm_read_fd - read a whole descriptor, bounded */
int
cm_read_fd(int fd, size_t max, char **data_r, size_t *len_r)
{
	size_t cap = 65536, len = 0;
	char *p = cm_xmalloc(cap + 1);
	int ret = -1;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max) {
				ret = CM_ERR;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			p = cm_xrealloc(p, cap + 1);
		}
		n = read(fd, p + len, (cap > max ? max : cap) - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = CM_ETEMP;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= max) {
			char c;

			/* exactly max bytes is fine; one more is not */
			n = read(fd, &c, 1);
			if (n > 0) {
				ret = CM_ERR;
				goto out;
			}
			break;
		}
	}
	ret = 0;
out:
	p[len] = '\0';
	*data_r = p;
	*len_r = len;
	return ret;
}

/* cm_read_file - read a whole file, bounded */
int
cm_read_file(const char *path, size_t max, char **data_r, size_t *len_r)
{
	int fd, ret, saved;

	*data_r = NULL;
	*len_r = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? CM_ENOENT
		       : cm_errno_is_temp(errno) ? CM_ETEMP
						 : CM_ERR;
	ret = cm_read_fd(fd, max, data_r, len_r);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* bidi_len - the byte length of the bidi control at p, or 0 */
static size_t
bidi_len(const unsigned char *p)
{
	if (p[0] == 0xd8 && p[1] == 0x9c) /* U+061C arabic letter mark */
		return 2;
	if (p[0] != 0xe2 || (p[1] != 0x80 && p[1] != 0x81) || p[2] == 0)
		return 0;
	if (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
			     (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3; /* U+200E, U+200F, U+202A..U+202E */
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3; /* U+2066..U+2069 */
	return 0;
}

/* cm_str_strip_bidi - drop bidi controls from s in place */
char *
cm_str_strip_bidi(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	size_t n;

	if (s == NULL)
		return s;
	while (*r != '\0') {
		if ((*r == 0xd8 || *r == 0xe2) && (n = bidi_len(r)) > 0) {
			r += n;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return s;
}

/* the message of the last cm_open_regular or cm_read_private_file
 * failure in this thread (the sender builds and reads on two threads) */
static _Thread_local char file_err[1024];

/* file_error - format file_err and point *error_r at it */
static void CM_ATTR_PRINTF(2, 3)
file_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(file_err, sizeof(file_err), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = file_err;
}

/* file_type - what a non-regular file is, for a message */
static const char *
file_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

/* cm_open_regular - open a regular file, never a link, FIFO or device */
int
cm_open_regular(const char *path, int *fd_r, struct stat *st_r,
		const char **error_r)
{
	struct stat sb;
	int fd, e, ret = CM_ERR;

	*fd_r = -1;
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer;
	 * O_NOFOLLOW: a link planted in place of the file is refused, not
	 * followed to whatever it names */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
				O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP) {
			file_error(error_r, "%s is a symbolic link: it is not "
				   "followed", path);
			ret = CM_ERR;
		} else if (e == ENXIO || e == ENODEV) {
			file_error(error_r, "%s is not a regular file", path);
			ret = CM_ERR;
		} else {
			file_error(error_r, "%s: cannot open: %s", path,
				   strerror(e));
			ret = e == ENOENT ? CM_ENOENT
			      : cm_errno_is_temp(e) ? CM_ETEMP
						    : CM_ERR;
		}
		errno = e;
		goto out;
	}
	if (fstat(fd, &sb) < 0) {
		e = errno;
		file_error(error_r, "%s: cannot stat: %s", path, strerror(e));
		ret = cm_errno_is_temp(e) ? CM_ETEMP : CM_ERR;
		errno = e;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		file_error(error_r, "%s is %s, not a regular file", path,
			   file_type(sb.st_mode));
		ret = CM_ERR;
		goto out;
	}
	if (st_r != NULL)
		*st_r = sb;
	*fd_r = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0) {
		e = errno;
		(void)close(fd);
		errno = e;
	}
	return ret;
}

/* cm_read_private_file - a secret's bytes, from an owner-only file */
int
cm_read_private_file(const char *path, size_t max, char **data_r,
		     size_t *len_r, const char **error_r)
{
	struct stat sb;
	char *p = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, e, ret;

	*data_r = NULL;
	*len_r = 0;
	if ((ret = cm_open_regular(path, &fd, &sb, error_r)) < 0)
		goto out;
	ret = CM_ERR;
	if ((sb.st_mode & 077) != 0) {
		file_error(error_r, "%s is mode %04o: it must not be readable "
			   "by group or others, nor writable (chmod 600)",
			   path, (unsigned int)(sb.st_mode & 07777));
		goto out;
	}
	/* one allocation, never grown: realloc would leave copies of the
	 * secret behind in freed memory */
	p = cm_xmalloc(max + 2);
	for (;;) {
		n = read(fd, p + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			file_error(error_r, "%s: cannot read: %s", path,
				   strerror(e));
			ret = cm_errno_is_temp(e) ? CM_ETEMP : CM_ERR;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			file_error(error_r, "%s is larger than %zu bytes",
				   path, max);
			goto out;
		}
	}
	p[len] = '\0';
	*data_r = p;
	*len_r = len;
	p = NULL;
	ret = 0;
out:
	if (p != NULL)
		cm_wipe_free(p, max + 2);
	if (fd >= 0)
		(void)close(fd);
	return ret;
}

/* cm_create_private - an empty owner-only file, unless one is there */
int
cm_create_private(const char *path)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
				    O_NOFOLLOW | O_NOCTTY, 0600);

	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	return close(fd);
}

/* cm_wipe_free - zero, then free */
void
cm_wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* cm_write_all - write everything, retrying short writes */
int
cm_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* cm_fsync_dir - fsync a directory */
int
cm_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret, saved;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* cm_mkdir_p - create a directory and its parents */
int
cm_mkdir_p(const char *path, unsigned int mode)
{
	char *p = cm_xstrdup(path);
	int ret = -1;

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			goto out;
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		goto out;
	ret = 0;
out:
	free(p);
	return ret;
}

/* cm_errno_is_temp - is errno value e worth a retry */
bool
cm_errno_is_temp(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EAGAIN:
	case EINTR:
	case ENOMEM:
	case EMFILE:
	case ENFILE:
	case EBUSY:
	case ETIMEDOUT:
	case EROFS:
	case EACCES:
	case EPERM:
	case ENOENT:
	case ESTALE:
		return true;
	default:
		return false;
	}
}
