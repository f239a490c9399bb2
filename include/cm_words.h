/*
 * cm_words.h - the words a victim reads for a milestone: a small text
 * file of "kind = sentence" lines, so that the wording is data a force
 * can change without a new program
 *
 * SYNOPSIS
 *	struct cm_words *w = cm_words_load(cfg->template_dir,
 *					   CM_WORDS_FILE, &err);
 *	const char *s = cm_words_get(w, "charged");
 *	cm_words_free(&w);
 *
 * DESCRIPTION
 *	One entry a line: a key of a-z, 0-9 and '_', blanks, '=', blanks
 *	and the sentence to the end of the line (blanks at the end cut).
 *	Blank lines and lines starting with '#' are skipped. A later
 *	line for the same key wins. The sentence is plain text: whoever
 *	shows it escapes it.
 *
 * DIAGNOSTICS
 *	cm_words_load returns NULL with *error_r (static, valid until the
 *	next call) when the file cannot be read, is larger than
 *	CM_WORDS_MAX_BYTES, or has a line that is not an entry ("FILE:
 *	line N: expected key = words").
 *
 * SECURITY
 *	The file is configuration, read as is; control bytes in a
 *	sentence refuse the file.
 */
#ifndef CM_WORDS_H
#define CM_WORDS_H

#include <stddef.h>

#define CM_WORDS_FILE "milestones.txt"   /* in template_dir */
#define CM_WORDS_MAX_BYTES (64 * 1024)   /* of the file */
#define CM_WORDS_MAX_ENTRIES 256

struct cm_words;

/*
 * cm_words_load - read dir/name; caller frees with cm_words_free; NULL
 * with *error_r
 */
struct cm_words *cm_words_load(const char *dir, const char *name,
			       const char **error_r);
/*
 * cm_words_parse - the entries of text (len bytes; what names it in
 * errors); as cm_words_load
 */
struct cm_words *cm_words_parse(const char *text, size_t len,
				const char *what, const char **error_r);
/* cm_words_get - the sentence for key, or NULL (borrowed until free) */
const char *cm_words_get(const struct cm_words *w, const char *key);
/* cm_words_free - release *w and set it to NULL; NULL is fine */
void cm_words_free(struct cm_words **w);

#endif
