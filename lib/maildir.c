/*
 * maildir.c - maildir delivery and scanning
 *
 * SYNOPSIS
 *	#include "cm_maildir.h"
 *
 * DESCRIPTION
 *	Delivery follows the maildir protocol (R18, after Postfix
 *	local/maildir.c and OpenSMTPD mail.maildir.c): a unique name
 *	"<sec>.M<usec>P<pid>Q<n>.<host>" (host with '/' and ':' written as
 *	\057 and \072), tmp/NAME opened O_CREAT|O_EXCL mode 0600, every
 *	byte written, fsync, close, link(2) into new/NAME (rename(2) where
 *	the file system cannot link), unlink tmp/NAME, fsync new/. One
 *	fsync for the data and one for the directory.
 *
 *	The info part of a name in cur/ is ":2,FLAGS", FLAGS in ASCII
 *	order. Marking a message seen adds S; a move into a subfolder
 *	(Maildir++ ".Name") lands in its cur/ with S set.
 *
 * DIAGNOSTICS
 *	0, CM_ETEMP (cm_errno_is_temp: disk full, I/O error, permissions
 *	a postmaster can fix) or CM_ERR; *error_r points into a static
 *	buffer, borrowed until the next call.
 *
 * SECURITY
 *	Files are created 0600 and directories 0700. Subfolder names with
 *	'/', "..", control bytes or nothing at all are refused (R16).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cm_maildir.h"
#include "cm_util.h"

#define NAME_TRIES 5 /* fresh names to try when one is taken */

static char errbuf[2048];
static unsigned long deliveries;

/* set_error - fill errbuf, point *error_r at it, return code */
static int set_error(const char **error_r, int code, const char *fmt, ...)
	CM_ATTR_PRINTF(3, 4);
static int
set_error(const char **error_r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = errbuf;
	return code;
}

/* errno_code - CM_ETEMP if errno value e is worth a retry, else CM_ERR */
static int
errno_code(int e)
{
	return cm_errno_is_temp(e) ? CM_ETEMP : CM_ERR;
}

/* make_dir - mkdir with mode 0700 unless it is already a directory;
 * 0, or -1 with errno; *made_r set when created */
static int
make_dir(const char *path, bool *made_r)
{
	struct stat st;

	if (mkdir(path, 0700) == 0) {
		*made_r = true;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* make_dirs - path and its missing parents, mode 0700; 0 or -1 with
 * errno and *failed_r (caller frees) naming the directory that failed */
static int
make_dirs(const char *path, bool *made_r, char **failed_r)
{
	char *p = cm_xstrdup(path);
	char *s;
	int ret = -1;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		if (make_dir(p, made_r) < 0)
			goto out;
		*s = '/';
	}
	if (make_dir(p, made_r) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		*failed_r = p;
	else
		free(p);
	return ret;
}

/* make_maildir - dir (and parents), dir/tmp, dir/new, dir/cur; fsyncs
 * dir when it made anything in it */
static int
make_maildir(const char *dir, const char **error_r)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char *failed = NULL;
	char *parent = NULL;
	char *sub = NULL;
	char *slash;
	bool made = false;
	size_t i;
	int ret = -1;

	if (make_dirs(dir, &made, &failed) < 0) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot create %s: %s", dir,
				failed, strerror(errno));
		goto out;
	}
	if (made) {
		/* the new directory's own entry must be durable too */
		parent = cm_xstrdup(dir);
		slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent)
			*slash = '\0';
		else
			cm_strlcpy(parent, slash != NULL ? "/" : ".",
				   strlen(parent) + 1);
		if (cm_fsync_dir(parent) < 0) {
			ret = set_error(error_r, errno_code(errno),
					"maildir %s: cannot sync %s: %s", dir,
					parent, strerror(errno));
			goto out;
		}
	}
	made = false;
	for (i = 0; i < CM_ARRAY_SIZE(subs); i++) {
		free(sub);
		sub = cm_xasprintf("%s/%s", dir, subs[i]);
		if (make_dir(sub, &made) < 0) {
			ret = set_error(error_r, errno_code(errno),
					"maildir %s: cannot create %s: %s",
					dir, sub, strerror(errno));
			goto out;
		}
	}
	if (made && cm_fsync_dir(dir) < 0) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot sync: %s", dir,
				strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(sub);
	free(parent);
	free(failed);
	return ret;
}

/* cm_maildir_create - make dir/{tmp,new,cur} and parents, mode 0700 */
int
cm_maildir_create(const char *dir, const char **error_r)
{
	if (dir == NULL || *dir == '\0')
		return set_error(error_r, CM_ERR, "maildir: empty path");
	return make_maildir(dir, error_r);
}

/* unique_name - a fresh maildir file name; caller frees */
static char *
unique_name(void)
{
	char host[256];
	struct cm_buf b;
	struct timeval tv;
	const char *h;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		cm_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	gettimeofday(&tv, NULL);
	cm_buf_init(&b, 1024);
	(void)cm_buf_printf(&b, "%lld.M%ldP%ldQ%lu.", (long long)tv.tv_sec,
			    (long)tv.tv_usec, (long)getpid(), ++deliveries);
	for (h = host; *h != '\0'; h++) {
		if (*h == '/')
			(void)cm_buf_puts(&b, "\\057");
		else if (*h == ':')
			(void)cm_buf_puts(&b, "\\072");
		else
			(void)cm_buf_putc(&b, *h);
	}
	return cm_buf_steal(&b);
}

/* write_tmp - create tmp with data, fsync and close it; 0, or -1 with
 * errno (EEXIST: the name is taken); the file is gone after a failure */
static int
write_tmp(const char *tmp, const void *data, size_t len)
{
	int fd;
	int saved;

	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (cm_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		(void)close(fd);
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/* link_new - move tmp to new: link and unlink, or rename where the file
 * system does not link; 0, or -1 with errno */
static int
link_new(const char *tmp, const char *new)
{
	if (link(tmp, new) == 0) {
		(void)unlink(tmp);
		return 0;
	}
	if (errno != EXDEV && errno != EPERM && errno != ENOSYS &&
	    errno != ENOTSUP)
		return -1;
	/* rename would replace an existing file: make sure there is none */
	if (access(new, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, new);
}

/* cm_maildir_deliver - store data into dir/new durably */
int
cm_maildir_deliver(const char *dir, const void *data, size_t len,
		   char **path_r, const char **error_r)
{
	char *name = NULL;
	char *tmp = NULL;
	char *new = NULL;
	char *newdir = NULL;
	int tries;
	int ret = -1;

	if (path_r != NULL)
		*path_r = NULL;
	if (dir == NULL || *dir == '\0') {
		ret = set_error(error_r, CM_ERR, "maildir: empty path");
		goto out;
	}
	newdir = cm_xasprintf("%s/new", dir);
	for (tries = 0;; tries++) {
		free(name);
		free(tmp);
		free(new);
		name = unique_name();
		tmp = cm_xasprintf("%s/tmp/%s", dir, name);
		new = cm_xasprintf("%s/new/%s", dir, name);
		if (write_tmp(tmp, data, len) == 0)
			break;
		if (errno == EEXIST && tries < NAME_TRIES)
			continue;
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot write tmp/%s: %s", dir,
				name, strerror(errno));
		goto out;
	}
	if (link_new(tmp, new) < 0) {
		ret = set_error(error_r,
				errno == EEXIST ? CM_ETEMP : errno_code(errno),
				"maildir %s: cannot move tmp/%s into new/: "
				"%s", dir, name, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (cm_fsync_dir(newdir) < 0) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot sync new/: %s", dir,
				strerror(errno));
		(void)unlink(new);
		goto out;
	}
	if (path_r != NULL) {
		*path_r = new;
		new = NULL;
	}
	ret = 0;
out:
	free(newdir);
	free(new);
	free(tmp);
	free(name);
	return ret;
}

struct entry {
	char *name; /* points into path */
	char *path;
};

/* entry_cmp - qsort comparator: by file name, then by path */
static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a;
	const struct entry *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->path, y->path);
}

/* has_seen - true if a name's info ":2,FLAGS" holds S */
static bool
has_seen(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info != NULL && strchr(info + 3, 'S') != NULL;
}

/* collect - add the messages of dir/sub to *list; in cur/ only those
 * without S */
static int
collect(const char *dir, const char *sub, struct entry **list,
	size_t *n, size_t *cap, const char **error_r)
{
	char *path = cm_xasprintf("%s/%s", dir, sub);
	bool cur = strcmp(sub, "cur") == 0;
	struct dirent *de;
	DIR *d;
	int ret = -1;

	d = opendir(path);
	if (d == NULL) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot open %s: %s", dir, sub,
				strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (cur && has_seen(de->d_name))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*list = cm_xrealloc(*list, *cap * sizeof(**list));
		}
		(*list)[*n].path = cm_xasprintf("%s/%s", path, de->d_name);
		(*list)[*n].name = (*list)[*n].path + strlen(path) + 1;
		(*n)++;
	}
	if (errno != 0) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot read %s: %s", dir, sub,
				strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (d != NULL)
		(void)closedir(d);
	free(path);
	return ret;
}

/* cm_maildir_scan - call fn for every unseen message, oldest first */
int
cm_maildir_scan(const char *dir, int (*fn)(const char *path, void *ctx),
		void *ctx, const char **error_r)
{
	struct entry *list = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i;
	int ret = -1;
	int rc;

	rc = collect(dir, "new", &list, &n, &cap, error_r);
	if (rc == 0)
		rc = collect(dir, "cur", &list, &n, &cap, error_r);
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), entry_cmp);
	for (i = 0; i < n; i++) {
		if (fn(list[i].path, ctx) < 0) {
			ret = set_error(error_r, CM_ERR,
					"maildir %s: scan stopped", dir);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(list[i].path);
	free(list);
	return ret;
}

/* seen_name - the base name of path with S merged into its ":2,"
 * flags (kept in ASCII order, each once); caller frees */
static char *
seen_name(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *colon;
	const char *f;
	bool flag[128] = { false };
	struct cm_buf b;
	size_t baselen;
	int c;

	base = base != NULL ? base + 1 : path;
	colon = strchr(base, ':');
	baselen = colon != NULL ? (size_t)(colon - base) : strlen(base);
	if (colon != NULL && strncmp(colon, ":2,", 3) == 0) {
		for (f = colon + 3; *f != '\0'; f++) {
			if ((unsigned char)*f > ' ' &&
			    (unsigned char)*f < 127)
				flag[(unsigned char)*f] = true;
		}
	}
	flag['S'] = true;
	cm_buf_init(&b, 0);
	(void)cm_buf_append(&b, base, baselen);
	(void)cm_buf_puts(&b, ":2,");
	for (c = 0; c < 128; c++) {
		if (flag[c] && c != ',')
			(void)cm_buf_putc(&b, (char)c);
	}
	return cm_buf_steal(&b);
}

/* move_seen - rename path into curdir with S added; 0 or error code */
static int
move_seen(const char *dir, const char *path, const char *curdir,
	  const char **error_r)
{
	char *name = NULL;
	char *target = NULL;
	int ret = -1;

	if (path == NULL || *path == '\0') {
		ret = set_error(error_r, CM_ERR, "maildir %s: empty path",
				dir);
		goto out;
	}
	name = seen_name(path);
	target = cm_xasprintf("%s/%s", curdir, name);
	if (strcmp(target, path) == 0) {
		ret = 0;
		goto out;
	}
	if (rename(path, target) < 0) {
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot move %s to %s: %s", dir,
				path, target, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(target);
	free(name);
	return ret;
}

/* cm_maildir_mark_seen - move path into cur/ with the S flag */
int
cm_maildir_mark_seen(const char *dir, const char *path,
		     const char **error_r)
{
	char *curdir = cm_xasprintf("%s/cur", dir);
	int ret = move_seen(dir, path, curdir, error_r);

	free(curdir);
	return ret;
}

/* folder_ok - a subfolder name: one path component, printable */
static bool
folder_ok(const char *sub)
{
	const unsigned char *p;

	if (sub == NULL || *sub == '\0' || strcmp(sub, ".") == 0 ||
	    strstr(sub, "..") != NULL || strcmp(sub, "tmp") == 0 ||
	    strcmp(sub, "new") == 0 || strcmp(sub, "cur") == 0)
		return false;
	for (p = (const unsigned char *)sub; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
	}
	return true;
}

/* cm_maildir_move_to - move path into subfolder's cur/ with S set */
int
cm_maildir_move_to(const char *dir, const char *path,
		   const char *subfolder, const char **error_r)
{
	char *sub = NULL;
	char *curdir = NULL;
	int ret = -1;

	if (!folder_ok(subfolder)) {
		ret = set_error(error_r, CM_ERR,
				"maildir %s: bad folder name", dir);
		goto out;
	}
	sub = cm_xasprintf("%s/%s", dir, subfolder);
	ret = make_maildir(sub, error_r);
	if (ret < 0)
		goto out;
	curdir = cm_xasprintf("%s/cur", sub);
	ret = move_seen(dir, path, curdir, error_r);
out:
	free(curdir);
	free(sub);
	return ret;
}

/* sync_one - fsync dir/rel; 0 or error code */
static int
sync_one(const char *dir, const char *rel, const char **error_r)
{
	char *path = cm_xasprintf("%s/%s", dir, rel);
	int ret = 0;

	if (cm_fsync_dir(path) < 0)
		ret = set_error(error_r, errno_code(errno),
				"maildir %s: cannot sync %s: %s", dir, rel,
				strerror(errno));
	free(path);
	return ret;
}

/* cm_maildir_sync - fsync new/, cur/ and the subfolder's cur/ */
int
cm_maildir_sync(const char *dir, const char *subfolder,
		const char **error_r)
{
	char *rel = NULL;
	int ret;

	ret = sync_one(dir, "new", error_r);
	if (ret == 0)
		ret = sync_one(dir, "cur", error_r);
	if (ret == 0 && subfolder != NULL) {
		if (!folder_ok(subfolder)) {
			ret = set_error(error_r, CM_ERR,
					"maildir %s: bad folder name", dir);
			goto out;
		}
		rel = cm_xasprintf("%s/cur", subfolder);
		ret = sync_one(dir, rel, error_r);
	}
out:
	free(rel);
	return ret;
}
