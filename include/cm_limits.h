/*
 * cm_limits.h - hard limits on hostile input
 *
 * DESCRIPTION
 *	Defaults for the limits a message must pass before it is parsed.
 *	The config may lower or raise them within the bounds in config.c;
 *	a configured 0 means "the default", never "unlimited" (R16).
 */
#ifndef CM_LIMITS_H
#define CM_LIMITS_H

#define CM_MAX_MESSAGE_SIZE (50L * 1024 * 1024) /* whole message, bytes */
#define CM_MAX_ATTACHMENT_SIZE (25L * 1024 * 1024)
#define CM_MAX_HEADER_BYTES (256L * 1024) /* all headers of one part */
#define CM_MAX_HEADER_LINE (64L * 1024)   /* one unfolded header field */
#define CM_MAX_MIME_DEPTH 100
#define CM_MAX_MIME_PARTS 10000
#define CM_MAX_ADDRESS 998 /* one address, bytes */
#define CM_MAX_REF 64      /* a case reference */
#define CM_MAX_TEXT (4L * 1024 * 1024) /* stored body text, bytes */

/*
 * struct cm_limits - the limits in force for one parse.
 */
struct cm_limits {
	long max_message_size;
	long max_attachment_size;
	long max_header_bytes;
	long max_mime_depth;
	long max_mime_parts;
};

#endif
