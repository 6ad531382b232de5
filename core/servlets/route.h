/* Spark's RestSubmissionServer: servlet prefixes /v1/submissions/create, kill, status
 * (and Spark 4's killall, clear, readyz), the ErrorServlet for everything else, Spark's
 * answers and texts; sparkgate's own rules come in through tenant.h. */
#ifndef SG_ROUTE_H
#define SG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway.h"

/* Spark's servlets for one request (the gateway has set its deadline): the route table,
 * the error servlet, create/kill/status/killall/clear/readyz, with the tenant hooks. */
void servlets_handle(struct gateway *g, const struct request *rq, struct response *rs);



#endif
