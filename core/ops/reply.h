/* The reply door: every answer that is not a success goes out here, in Spark's
 * ErrorResponse shape, with its HTTP status chosen from one table of kinds, and every
 * refusal typed (enum refusal) so metrics and the audit line count kinds, not texts. */
#ifndef SG_REPLY_H
#define SG_REPLY_H

#include <stddef.h>

#include "base/err.h"
#include "base/http.h"
#include "spark/rest.h"

struct spark_ctx;

/* What went wrong, which decides the HTTP status (reply.c's table). */
enum problem {
	PROBLEM_BAD_REQUEST,      /* 400: malformed, or Spark's servlets say so */
	PROBLEM_REFUSED,          /* 403: a rule says no (reply_refuse types it) */
	PROBLEM_NOT_FOUND,        /* 404 */
	PROBLEM_WRONG_METHOD,     /* 405 (reply_wrong_method: 400 for HTTP/1.0, as Jetty) */
	PROBLEM_CONFLICT,         /* 409: the same thing is being done right now */
	PROBLEM_LENGTH_REQUIRED,  /* 411 */
	PROBLEM_TOO_LARGE,        /* 413 */
	PROBLEM_RANGE,            /* 416: a Range no byte of the file is in */
	PROBLEM_HEADERS_TOO_LARGE,   /* 431: more parameters than the front end takes */
	PROBLEM_VERSION,          /* 468: Spark's unknown protocol version */
	PROBLEM_INTERNAL,         /* 500: sparkgate itself failed */
	PROBLEM_BAD_GATEWAY,      /* 502: what the master (or a worker) sent could not be used */
	PROBLEM_UNAVAILABLE,      /* 503: the master or the state store cannot be reached */
	PROBLEM_TIMEOUT,          /* 504: they did not answer in time */
	PROBLEM_NO_SPACE,         /* 507: the uploads' disk or quota is full */
	PROBLEM_COUNT
};

int problem_status(enum problem p);
/* The kind an sg_err code is: whose fault it is (the master or the store unreachable or
 * slow, sparkgate out of memory, or what came back could not be used). */
enum problem problem_of_err(int code);
/* The kind of an HTTP status a lower layer chose (rest_error's, Spark's validation). */
enum problem problem_of_status(int status);

/* An ErrorResponse of this kind (printf-style message) in the version sc's master speaks. */
void reply_problem(const struct spark_ctx *sc, struct response *rs, enum problem p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same for an sg_err: its kind from its code, its message as the text. */
void reply_err(const struct spark_ctx *sc, struct response *rs, const struct sg_err *e);
/* A refusal: 403 (400 for --hosts), the rule kept for the audit line (rule may be NULL). */
void reply_refuse(const struct spark_ctx *sc, struct response *rs, enum refusal r, const char *rule,
		  const char *message);
/* Someone else's driver or file: the caller answers as for an unknown one. */
void reply_hide(struct response *rs);
/* HttpServlet's answer to a method the servlet does not implement, with Allow. */
void reply_wrong_method(const struct spark_ctx *sc, const struct request *rq, struct response *rs, const char *allow);
/* A 200 answer in Spark's shape (a 500 naming rs->submission_id if it cannot be printed,
 * so an accepted create is not taken for a refused one: set it first). */
void reply_answer(const struct spark_ctx *sc, struct response *rs, const struct rest_field *f, size_t n);

#endif
