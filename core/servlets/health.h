/* For load balancers and monitoring (beyond Spark), answered before any login is asked
 * for (the web server decides who may reach them; --hosts still applies):
 *   GET /healthz   the process answers (nothing else is checked)
 *   GET /readyz    the master answers and is ALIVE, the state store answers, and Spark's own
 *                  REST server is not open beside sparkgate: 200, else 503.  One result per
 *                  host at most HEALTH_READYZ_MAX_AGE_MS old, shared by its processes (so a
 *                  flood of probes costs the master one ask a second).  The JSON names each
 *                  part only for a login (REMOTE_USER) or this machine (REMOTE_ADDR loopback);
 *                  others get ready / not ready, and the details of a not-ready go to the log
 *   GET /metrics   Prometheus text: the host's totals (metrics.h) */
#ifndef SG_HEALTH_H
#define SG_HEALTH_H


#define HEALTH_READYZ_MAX_AGE_MS 1000
#define HEALTH_READYZ_ID "/readyz"   /* its slot: no driver id holds a '/' (a path separator) */
#define HEALTH_READYZ_BODY 1700      /* the detailed answer's largest size (a slot holds it) */


#endif
