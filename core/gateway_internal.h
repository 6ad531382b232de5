/* The parts of a gateway: for gateway.c, and for unit tests that build one by hand.  The
 * front end sees struct gateway only as the opaque handle of gateway.h. */
#ifndef SG_GATEWAY_INTERNAL_H
#define SG_GATEWAY_INTERNAL_H

#include <stdint.h>

#include "base/err.h"
#include "gateway.h"
#include "ops/ask.h"
#include "servlets/servlets.h"
#include "tenant/audit.h"
#include "tenant/tenant.h"

/* The layers, each lent to the one above: the master asks (ops), the multi-user rules
 * (tenant), the endpoints (servlets); and what only the whole needs. */
struct gateway {
	struct spark_ctx spark;
	struct tenant tenant;
	struct servlets servlets;
	struct audit audit;        /* --audit-log */
	uint64_t door_generation;  /* master connection last checked for Spark's REST door */
	char warning[sizeof(((struct sg_err *)0)->msg) + 64];   /* for the front end's log after gateway_init, or "" */
};

/* Builds g in place from c: 0, or an error (e says which option) after which g needs only
 * gateway_release.  (gateway_new is this with the storage.) */
int gateway_init(struct gateway *g, const struct gateway_config *c, struct sg_err *e);
void gateway_release(struct gateway *g);

#endif
