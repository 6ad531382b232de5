/* Error codes shared by every core module, and the caller-owned error record.
 *
 * Fallible functions return 0 or one of the negative codes below.  Where a caller wants
 * details it passes a struct sg_err; the first error recorded wins, later ones are dropped,
 * so a chain of calls reports the root cause. */
#ifndef SG_ERR_H
#define SG_ERR_H

#include <stddef.h>

enum {
	ERR_NOMEM = -1,     /* allocation failed */
	ERR_INVALID = -2,   /* input violates the format or a rule */
	ERR_TOO_LARGE = -3, /* input exceeds a configured limit */
	ERR_TRUNCATED = -4, /* input ended early */
	ERR_PROTOCOL = -5,  /* peer broke the protocol */
	ERR_IO = -6,        /* socket error or peer closed */
	ERR_TIMEOUT = -7,   /* deadline passed */
	ERR_UNSUPPORTED = -8, /* peer is a build or mode we do not speak */
	ERR_REMOTE = -9,    /* peer answered with a failure of its own */
};

struct sg_err {
	int code;        /* 0 while no error was recorded */
	size_t offset;   /* byte offset in the input, where meaningful */
	char msg[512];
};

/* Records the error unless one is already there; returns code so callers can
 * `return sg_err_set(e, ERR_INVALID, 0, "...")`.  e may be NULL. */
int sg_err_set(struct sg_err *e, int code, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sg_err_clear(struct sg_err *e);
const char *sg_err_name(int code);

#endif
