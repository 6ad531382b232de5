#include "tenant/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "spark/rest.h"

void audit_init(struct audit *a)
{
	a->path = NULL;
	a->fd = -1;
}

int audit_open(struct audit *a, const char *path, struct sg_err *e)
{
	char *copy;
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return sg_err_set(e, ERR_IO, 0, "cannot open --audit-log %s: %s", path, strerror(errno));
	if (a->path && strcmp(a->path, path) == 0) {
		copy = a->path;
	} else if (!(copy = strdup(path))) {
		close(fd);
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	}
	if (a->fd >= 0)
		close(a->fd);
	if (copy != a->path)
		free(a->path);
	a->path = copy;
	a->fd = fd;
	return 0;
}

void audit_release(struct audit *a)
{
	if (a->path && a->fd >= 0)
		close(a->fd);
	free(a->path);
	audit_init(a);
}

/* What a request did: a create, kill, killall or clear (whatever the outcome), an upload
 * or a file's deletion, or any refusal; NULL for requests that change nothing.  The route
 * is the servlet table's (servlets/route.c). */
static const char *action_of(const struct request *rq, const struct response *rs)
{
	int post = strcmp(rq->method, "POST") == 0;

	switch (rs->route) {
	case ROUTE_CREATE: if (post) return "create"; break;
	case ROUTE_KILL: if (post) return "kill"; break;
	case ROUTE_KILLALL: if (post) return "killall"; break;
	case ROUTE_CLEAR: if (post) return "clear"; break;
	case ROUTE_FILES:   /* /v1/files/ID: the file's id is the answer's submission_id */
		if (strncmp(rq->path, "/v1/files/", 10) == 0 && strcmp(rq->method, "PUT") == 0)
			return "upload";
		if (strncmp(rq->path, "/v1/files/", 10) == 0 && strcmp(rq->method, "DELETE") == 0)
			return "delete-file";
		break;
	case ROUTE_BATCHES:   /* Livy's: POST /batches creates, DELETE /batches/ID kills */
		if (post && (strcmp(rq->path, "/batches") == 0 || strcmp(rq->path, "/batches/") == 0))
			return "create";
		if (strcmp(rq->method, "DELETE") == 0 && rs->status != 405)   /* /batches/ID only */
			return "kill";
		break;
	default:
		break;
	}
	if (rs->refusal != REFUSAL_NONE)
		return rs->route == ROUTE_STATUS ? "status" : "request";
	return NULL;
}

/* s escaped into b (see rest_escape_text), or NULL for an absent or empty field. */
static const char *field(struct buf *b, const char *s)
{
	if (!s || !*s || rest_escape_text(b, s, strlen(s)))
		return NULL;
	return buf_str(b);
}

int audit_record(struct audit *a, const struct request *rq, const struct response *rs, struct sg_err *e)
{
	const char *action = action_of(rq, rs);
	struct buf user = BUF_INIT(4096), addr = BUF_INIT(4096), id = BUF_INIT(4096), rule = BUF_INIT(4096);
	char when[40], *line;
	struct timespec now;
	struct tm tm;
	json_t *o;
	int rc = 0;

	if (!a->path || a->fd < 0 || !action)   /* a zeroed struct audit is "no audit log" */
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", now.tv_nsec / 1000000);
	o = json_pack("{s:s, s:s*, s:s*, s:s, s:s*, s:i, s:s, s:s*}", "time", when, "user", field(&user, rs->user),
		      "addr", field(&addr, rq->remote_addr), "action", action,
		      "submissionId", field(&id, rs->submission_id), "status", rs->status,
		      "outcome", rs->refusal == REFUSAL_OTHER_USERS ? "refused: another user's driver"
		      : rs->refusal != REFUSAL_NONE ? "refused"
		      : rs->replayed ? "replayed" : rs->status == 200 || rs->status == 201 ? "done" : "failed",
		      "rule", field(&rule, rs->rule));
	buf_release(&user);
	buf_release(&addr);
	buf_release(&id);
	buf_release(&rule);
	line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
	if (line) {
		size_t n = strlen(line);

		line[n] = '\n';   /* the terminating NUL becomes the newline */
		if (write(a->fd, line, n + 1) != (ssize_t)(n + 1))
			rc = sg_err_set(e, ERR_IO, 0, "audit log %s: %s", a->path, strerror(errno));
		free(line);
	} else {
		rc = sg_err_set(e, ERR_NOMEM, 0, "audit log: cannot format a line");
	}
	json_decref(o);
	return rc;
}
