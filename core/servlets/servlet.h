/* What Spark's servlets (route.c) lend to the tenant hooks (tenant.c): answers in Spark's
 * shapes, and a status ask whose failure is not the caller's answer. */
#ifndef SG_SERVLET_H
#define SG_SERVLET_H

#include <stddef.h>

#include "spark/cluster.h"
#include "spark/rest.h"
#include "servlets/route.h"
#include "ops/statuscache.h"

/* Servlet prefix mapping "/v1/submissions/NAME/ *" (sic): whether path is the prefix itself or
 * below it; *info gets the rest (NULL for an exact match). */
int servlet_path_match(const char *path, const char *prefix, const char **info);
/* An ErrorResponse with this status and message. */
void servlet_error(struct gateway *g, struct response *rs, int status, const char *message);
/* Prints a 200 answer (a 500 naming rs->submission_id if that fails). */
void servlet_answer(struct gateway *g, struct response *rs, const struct rest_field *f, size_t n);
/* The HTTP status for an sg_err code: whose fault it is. */
int servlet_error_status(int code);
/* Spark's status answer for driver id into rs, through the host's status cache (at most
 * --status-max-age old, one master ask for all who ask at once): 0 with what the master
 * said in *rec, or the HTTP status of the error answer in rs. */
int servlet_status(struct gateway *g, const char *id, struct response *rs, struct status_record *rec);

/* Whether the current master answers and is ALIVE (asked for the status of a driver that
 * cannot exist, uncached): 0 with a line saying so in why, or the HTTP status of the
 * failure (503 standby or unreachable, 504 too slow) with the reason. */
int servlet_master_ready(struct gateway *g, char *why, size_t size);

#endif
