/* --audit-log: one JSON line per create, kill, killall, clear, upload and file deletion, and
 * per refusal, written with one write(2) (so processes sharing the file never interleave,
 * and a crash loses nothing already answered).  Every field from outside is escaped first, so no line is lost to
 * bytes that are not UTF-8. */
#ifndef SG_AUDIT_H
#define SG_AUDIT_H

#include "base/err.h"
#include "base/http.h"

struct audit {
	char *path;   /* NULL: no audit log (so a zeroed struct is one without) */
	int fd;
};

void audit_init(struct audit *a);
/* Opens (or, for SIGHUP, reopens) path for appending; on failure the old file stays. */
int audit_open(struct audit *a, const char *path, struct sg_err *e);
/* The line for one answered request, if it is one the log keeps.  0, or ERR_IO / ERR_NOMEM
 * (with e) when the line could not be written. */
int audit_record(struct audit *a, const struct request *rq, const struct response *rs, struct sg_err *e);
void audit_release(struct audit *a);

#endif
