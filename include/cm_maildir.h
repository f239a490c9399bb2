/*
 * cm_maildir.h - maildir delivery and scanning
 *
 * DESCRIPTION
 *	Delivery follows the maildir protocol (R18): a unique name
 *	"time.M<usec>P<pid>Q<n>.host", tmp/ opened O_CREAT|O_EXCL mode
 *	0600, write, fsync, link into new/ (rename where link is not
 *	supported), unlink tmp, fsync new/. Scanning lists new/ and, in
 *	cur/, files without the S flag, oldest first by name.
 *
 * DIAGNOSTICS
 *	0, CM_ETEMP (disk full, I/O error, permission trouble a postmaster
 *	can fix) or CM_ERR, with *error_r (borrowed until the next call).
 */
#ifndef CM_MAILDIR_H
#define CM_MAILDIR_H

#include <stddef.h>

/* cm_maildir_create - make dir/{tmp,new,cur} (and parents) mode 0700 */
int cm_maildir_create(const char *dir, const char **error_r);

/*
 * cm_maildir_deliver - store data into dir/new durably; *path_r (may be
 * NULL) gets the final path (caller frees).
 */
int cm_maildir_deliver(const char *dir, const void *data, size_t len,
		       char **path_r, const char **error_r);

/*
 * cm_maildir_scan - call fn(path, ctx) for every message in dir/new and
 * every one in dir/cur without the S flag, sorted by file name; fn
 * returns 0 to go on, -1 to stop (then cm_maildir_scan returns -1).
 */
int cm_maildir_scan(const char *dir,
		    int (*fn)(const char *path, void *ctx), void *ctx,
		    const char **error_r);

/*
 * cm_maildir_mark_seen - move path (in new/ or cur/) into cur/ with the
 * S flag added to its info (":2,S" merged with existing flags). Does not
 * fsync; call cm_maildir_sync(dir) after a batch.
 */
int cm_maildir_mark_seen(const char *dir, const char *path,
			 const char **error_r);
/*
 * cm_maildir_move_to - move path into the maildir subdir (e.g.
 * ".Quarantine", created when missing) under cur/ with the S flag.
 */
int cm_maildir_move_to(const char *dir, const char *path,
		       const char *subfolder, const char **error_r);
/* cm_maildir_sync - fsync dir/new, dir/cur (and subfolder cur if given) */
int cm_maildir_sync(const char *dir, const char *subfolder,
		    const char **error_r);

#endif
