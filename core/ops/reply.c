/* The reply door (see reply.h). */
#include "ops/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "ops/ask.h"

static const int statuses[PROBLEM_COUNT] = {
	[PROBLEM_BAD_REQUEST] = 400, [PROBLEM_REFUSED] = 403, [PROBLEM_NOT_FOUND] = 404,
	[PROBLEM_WRONG_METHOD] = 405, [PROBLEM_CONFLICT] = 409, [PROBLEM_LENGTH_REQUIRED] = 411,
	[PROBLEM_TOO_LARGE] = 413, [PROBLEM_RANGE] = 416, [PROBLEM_HEADERS_TOO_LARGE] = 431,
	[PROBLEM_VERSION] = 468, [PROBLEM_INTERNAL] = 500, [PROBLEM_BAD_GATEWAY] = 502, [PROBLEM_UNAVAILABLE] = 503, [PROBLEM_TIMEOUT] = 504,
	[PROBLEM_NO_SPACE] = 507,
};

int problem_status(enum problem p)
{
	return p >= 0 && p < PROBLEM_COUNT ? statuses[p] : 500;
}

enum problem problem_of_err(int code)
{
	switch (code) {
	case ERR_TIMEOUT: return PROBLEM_TIMEOUT;
	case ERR_IO: return PROBLEM_UNAVAILABLE;
	case ERR_NOMEM: return PROBLEM_INTERNAL;
	default: return PROBLEM_BAD_GATEWAY;
	}
}

enum problem problem_of_status(int status)
{
	for (int p = 0; p < PROBLEM_COUNT; p++)
		if (statuses[p] == status)
			return (enum problem)p;
	return PROBLEM_INTERNAL;
}

static void print_error(const struct spark_ctx *sc, struct response *rs, int status, const char *message)
{
	rs->status = status;
	buf_reset(&rs->body);
	if (rs->livy) {   /* Livy's ResponseMessage(msg) (server/.../SessionServlet.scala) */
		const struct rest_field f[] = { { "msg", RF_STRING, message, 0, NULL } };

		if (rest_print(&rs->body, f, 1) == 0)
			return;
		buf_reset(&rs->body);
		buf_addstr(&rs->body, "{\"msg\":\"out of memory\"}");
		return;
	}
	rest_print_error(&rs->body, message, cluster_version(&sc->cluster), status == 468);
}

void reply_problem(const struct spark_ctx *sc, struct response *rs, enum problem p, const char *fmt, ...)
{
	struct buf msg = BUF_INIT(LIMIT_RESPONSE_BODY);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	print_error(sc, rs, problem_status(p), rc ? "out of memory" : buf_str(&msg));
	buf_release(&msg);
}

void reply_err(const struct spark_ctx *sc, struct response *rs, const struct sg_err *e)
{
	print_error(sc, rs, problem_status(problem_of_err(e->code)), e->msg);
}

void reply_refuse(const struct spark_ctx *sc, struct response *rs, enum refusal r, const char *rule,
		  const char *message)
{
	rs->refusal = r;
	snprintf(rs->rule, sizeof(rs->rule), "%s", rule ? rule : "");
	print_error(sc, rs, problem_status(r == REFUSAL_HOSTS ? PROBLEM_BAD_REQUEST : PROBLEM_REFUSED), message);
}

void reply_hide(struct response *rs)
{
	rs->hidden = 1;
	rs->refusal = REFUSAL_OTHER_USERS;
}

void reply_wrong_method(const struct spark_ctx *sc, const struct request *rq, struct response *rs, const char *allow)
{
	int http10 = rq->protocol && strcmp(rq->protocol, "HTTP/1.0") == 0;

	reply_problem(sc, rs, http10 ? PROBLEM_BAD_REQUEST : PROBLEM_WRONG_METHOD,
		      "HTTP method %s is not supported by this URL", rq->method);
	rs->allow = allow;
}

void reply_answer(const struct spark_ctx *sc, struct response *rs, const struct rest_field *f, size_t n)
{
	if (rest_print(&rs->body, f, n) == 0)
		return;
	reply_problem(sc, rs, PROBLEM_INTERNAL, "sparkgate ran out of memory writing the answer%s%s.",
		      rs->submission_id[0] ? " about " : "", rs->submission_id);
}
