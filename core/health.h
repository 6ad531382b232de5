/* For load balancers and monitoring (beyond Spark), answered before any login is asked
 * for (the web server decides who may reach them):
 *   GET /healthz   the process answers (nothing else is checked)
 *   GET /readyz    the master answers and is ALIVE, the state store answers, and Spark's own
 *                  REST server is not open beside sparkgate: 200, else 503; JSON naming each
 *   GET /metrics   Prometheus text: the host's totals (metrics.h) */
#ifndef SG_HEALTH_H
#define SG_HEALTH_H

#include "gateway.h"

/* Whether path is one of them. */
int health_path(const char *path);
void health_handle(struct gateway *g, const struct request *rq, struct response *rs);

#endif
