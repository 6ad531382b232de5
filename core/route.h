/* The gateway: one HTTP request (already taken apart by fcgi/) in, one response out.
 * Routes like Spark's RestSubmissionServer (servlet prefixes /v1/submissions/create,
 * kill, status, and the ErrorServlet for everything else), then asks the master. */
#ifndef SG_ROUTE_H
#define SG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cluster.h"
#include "http.h"
#include "jws.h"
#include "policy.h"
#include "store.h"

/* Cross-site request forgery guard for requests that change something (POST). */
enum csrf_mode {
	CSRF_ORIGIN,   /* refuse browser requests from another site (Origin / Sec-Fetch-Site)
	                * unless they carry X-Requested-By; other clients pass (default) */
	CSRF_HEADER,   /* every POST needs an X-Requested-By header (as Livy) */
	CSRF_OFF,
};

struct gateway {
	struct cluster cluster;
	char master_url[1024];     /* spark://h1:p1,h2:p2 */
	size_t max_body;
	int allow_anonymous;       /* serve requests without REMOTE_USER (default: refuse) */
	const char *placeholder_names;   /* Spark 4 {{NAME}} values: see submit_config */
	struct store *store;       /* owners of submissions, or NULL: no ownership (Spark's rules) */
	struct policy policy;      /* groups, admins */
	enum csrf_mode csrf;
	uint8_t jws_key[JWS_MAX_KEY];   /* --jws-secret-file: HS256 key for bearer tokens */
	int jws_keylen;            /* 0: bearer tokens are not accepted */
	int64_t deadline;          /* of the request being handled: every ask it makes shares it */
};

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs);


#endif
