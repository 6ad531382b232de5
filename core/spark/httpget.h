/* HTTP GET of a Spark web UI page (the master's /json/, a worker's /log), with libcurl:
 * bounded in time (the request's deadline) and size, no redirects, http and https only. */
#ifndef SG_HTTPGET_H
#define SG_HTTPGET_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* GETs url into out (whose max bounds the body: more is ERR_TOO_LARGE); *status is the HTTP
 * status.  ERR_IO / ERR_TIMEOUT when nothing usable came back before deadline (CLOCK_MONOTONIC
 * ms, as master_deadline). */
int http_get(const char *url, int64_t deadline_ms, struct buf *out, long *status, struct sg_err *e);

#endif
