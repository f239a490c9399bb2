/*
 * cm_util.h - memory, bounded buffers and string helpers
 *
 * SYNOPSIS
 *	#include "cm_util.h"
 *
 * DESCRIPTION
 *	Allocation that succeeds or exits (cm_x*), a bounded growable
 *	buffer (struct cm_buf), UTF-8 and number helpers shared by every
 *	module. The common error codes and the delivery status used by
 *	every library module are defined here.
 *
 * DIAGNOSTICS
 *	cm_x* call cm_fatal() on allocation failure; cm_fatal exits with
 *	the status set by cm_log_set_fatal_status() (75 in the mda).
 *
 * SECURITY
 *	Every buffer has a maximum; appends past it fail, never overflow.
 */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stat;

/* Return codes of actions: 0 success, or one of these. */
#define CM_ERR (-1)    /* permanent: a retry cannot help */
#define CM_ETEMP (-2)  /* transient: busy, locked, disk full, I/O */
#define CM_ENOENT (-3) /* the thing looked up does not exist */

/* Delivery classification (R9): only mda/main.c maps it to sysexits. */
enum cm_dstatus { CM_DS_OK = 0, CM_DS_TEMP, CM_DS_PERM, CM_DS_BUG };

#define CM_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* cm_xmalloc - allocate or exit; caller frees with free() */
void *cm_xmalloc(size_t size);
/* cm_xcalloc - zeroed allocation or exit; caller frees with free() */
void *cm_xcalloc(size_t nmemb, size_t size);
/* cm_xrealloc - resize or exit; caller frees with free() */
void *cm_xrealloc(void *ptr, size_t size);
/* cm_xstrdup - copy of s (NULL gives NULL); caller frees with free() */
char *cm_xstrdup(const char *s);
/* cm_xstrndup - copy of at most n bytes of s; caller frees with free() */
char *cm_xstrndup(const char *s, size_t n);
/* cm_xasprintf - formatted string; caller frees with free() */
char *cm_xasprintf(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_xvasprintf - va_list form of cm_xasprintf */
char *cm_xvasprintf(const char *fmt, va_list ap) CM_ATTR_PRINTF(1, 0);

/*
 * struct cm_buf - a growable byte buffer with a hard maximum.
 * The bytes are always NUL-terminated (the NUL is not counted in len).
 */
struct cm_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* appends that would pass max fail */
};

/* cm_buf_init - empty buffer holding at most max bytes (0: 1 GiB) */
void cm_buf_init(struct cm_buf *b, size_t max);
/* cm_buf_append - add len bytes; 0, or -1 when max would be passed */
int cm_buf_append(struct cm_buf *b, const void *p, size_t len);
/* cm_buf_puts - add a NUL-terminated string; 0 or -1 as above */
int cm_buf_puts(struct cm_buf *b, const char *s);
/* cm_buf_putc - add one byte; 0 or -1 as above */
int cm_buf_putc(struct cm_buf *b, char c);
/* cm_buf_printf - add formatted text; 0 or -1 as above */
int cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
	CM_ATTR_PRINTF(2, 3);
/* cm_buf_reset - drop the contents, keep the memory */
void cm_buf_reset(struct cm_buf *b);
/* cm_buf_steal - the contents as a string; caller frees with free();
 * the buffer is left empty and reusable */
char *cm_buf_steal(struct cm_buf *b);
/* cm_buf_free - release the memory; safe on an empty buffer */
void cm_buf_free(struct cm_buf *b);

/* cm_strlcpy - bounded copy; returns strlen(src) (truncated if >= size) */
size_t cm_strlcpy(char *dst, const char *src, size_t size);
/* cm_str_lower - lower-case ASCII letters of s in place; returns s */
char *cm_str_lower(char *s);
/* cm_str_upper - upper-case ASCII letters of s in place; returns s */
char *cm_str_upper(char *s);
/* cm_str_trim - strip leading/trailing ASCII white space in place */
char *cm_str_trim(char *s);
/* cm_str_has_prefix_ci - true if s starts with prefix, ASCII case-blind */
bool cm_str_has_prefix_ci(const char *s, const char *prefix);

/* cm_utf8_valid - true if p[0..len) is valid UTF-8 with no NUL byte */
bool cm_utf8_valid(const char *p, size_t len);
/*
 * cm_utf8_clean - copy of p[0..len) as valid UTF-8: NUL bytes dropped,
 * invalid sequences replaced by U+FFFD. Caller frees with free().
 */
char *cm_utf8_clean(const char *p, size_t len);

/*
 * cm_str_strip_bidi - remove in place the Unicode bidirectional
 * formatting characters from the UTF-8 string s: the embeddings and
 * overrides U+202A..U+202E, the isolates U+2066..U+2069 and the marks
 * U+200E, U+200F and U+061C. Text from outside that reaches a mail
 * header (a victim's chosen name in the officer's subject) could
 * otherwise show its words in an order that hides what they say.
 * Returns s.
 */
char *cm_str_strip_bidi(char *s);

/* cm_mem_has_any - true if buf[0..n) contains one of the strings
 * list[0..count) (memmem each: linear in n for a fixed list) */
bool cm_mem_has_any(const char *buf, size_t n, const char *const *list,
		    size_t count);

/* cm_parse_long - strict decimal in [min, max]; 0 or -1 */
int cm_parse_long(const char *s, long min, long max, long *value_r);
/* cm_parse_int64 - strict decimal int64 >= 0; 0 or -1 */
int cm_parse_int64(const char *s, int64_t *value_r);

/* cm_now - seconds since the epoch (time(NULL)) */
int64_t cm_now(void);
/* cm_time_iso - UTC ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" into buf[32] */
const char *cm_time_iso(int64_t t, char buf[32]);

/* cm_read_fd - read all of fd into *data_r (NUL-terminated, caller frees
 * with free()), at most max bytes; 0, CM_ERR when larger than max (data_r
 * still holds the first max bytes), CM_ETEMP on read error (errno set) */
int cm_read_fd(int fd, size_t max, char **data_r, size_t *len_r);
/* cm_read_file - cm_read_fd on a path; CM_ENOENT if it does not exist */
int cm_read_file(const char *path, size_t max, char **data_r,
		 size_t *len_r);
/*
 * cm_open_regular - open path read-only without following a symbolic
 * link in its last component and without blocking on a FIFO, then make
 * sure on the open descriptor (fstat, no stat-then-open race) that it
 * is a regular file. *fd_r gets the descriptor (caller closes it),
 * *st_r (may be NULL) its fstat. Returns 0, CM_ENOENT (no such file),
 * CM_ETEMP (a retry could help: permissions, I/O, no descriptors) or
 * CM_ERR (a symbolic link, FIFO, device, socket or directory), with
 * *error_r naming the file (borrowed until this thread's next call of
 * cm_open_regular or cm_read_private_file).
 */
int cm_open_regular(const char *path, int *fd_r, struct stat *st_r,
		    const char **error_r);
/*
 * cm_read_private_file - the whole of a file that only its owner may
 * use (the server secret, a password or key file): opened as
 * cm_open_regular does, refused when its mode gives group or others any
 * access, or when it holds more than max bytes. *data_r gets the bytes,
 * NUL-terminated (caller frees with cm_wipe_free(*data_r, *len_r)), and
 * *len_r their number. Returns 0, CM_ENOENT, CM_ETEMP or CM_ERR with
 * *error_r as for cm_open_regular; on failure *data_r is NULL.
 */
int cm_read_private_file(const char *path, size_t max, char **data_r,
			 size_t *len_r, const char **error_r);
/* cm_create_private - create path as an empty file of mode 0600 (never
 * through a symbolic link) unless something is there already; 0 when
 * made or already there, -1 with errno */
int cm_create_private(const char *path);
/* cm_wipe_free - overwrite len bytes of p with zeros, then free it;
 * NULL is fine */
void cm_wipe_free(char *p, size_t len);
/* cm_write_all - write all len bytes; 0 or -1 with errno */
int cm_write_all(int fd, const void *p, size_t len);
/* cm_fsync_dir - fsync the directory at path; 0 or -1 with errno */
int cm_fsync_dir(const char *path);
/* cm_mkdir_p - create dir and its missing parents, all with mode (existing
 * ones are left as they are); 0 or -1 with errno */
int cm_mkdir_p(const char *path, unsigned int mode);
/* cm_errno_is_temp - true if errno value e is worth a retry (ENOSPC,
 * EIO, EDQUOT, EAGAIN, EINTR, ENOMEM, EMFILE, ENFILE, EBUSY...) */
bool cm_errno_is_temp(int e);

#endif
