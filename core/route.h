/* The gateway: one HTTP request (already taken apart by fcgi/) in, one response out.
 * Routes like Spark's RestSubmissionServer (servlet prefixes /v1/submissions/create,
 * kill, status, and the ErrorServlet for everything else), then asks the master. */
#ifndef SG_ROUTE_H
#define SG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cluster.h"
#include "jws.h"
#include "policy.h"
#include "store.h"

struct request {
	const char *method;        /* REQUEST_METHOD */
	const char *path;          /* decoded path, without query */
	const char *protocol;      /* SERVER_PROTOCOL, may be NULL */
	const char *body;
	size_t body_len;
	size_t body_declared;      /* CONTENT_LENGTH as sent */
	int body_too_large;        /* body_declared exceeded the limit; body not read */
	const char *remote_user;   /* may be NULL */
	const char *remote_addr;   /* may be NULL */
	const char *idempotency_key;   /* Idempotency-Key header, may be NULL */
	const char *origin;        /* Origin header, may be NULL */
	const char *host;          /* Host header, may be NULL */
	const char *requested_by;  /* X-Requested-By header, may be NULL */
	const char *fetch_site;    /* Sec-Fetch-Site header, may be NULL */
	const char *authorization; /* Authorization header, if the web server passes it */
};

/* Cross-site request forgery guard for requests that change something (POST). */
enum csrf_mode {
	CSRF_ORIGIN,   /* refuse browser requests from another site (Origin / Sec-Fetch-Site)
	                * unless they carry X-Requested-By; other clients pass (default) */
	CSRF_HEADER,   /* every POST needs an X-Requested-By header (as Livy) */
	CSRF_OFF,
};

struct response {
	int status;
	const char *allow;         /* Allow header for 405, else NULL */
	struct buf body;           /* JSON, Content-Type application/json;charset=utf-8 */
	char submission_id[128];   /* for the log line */
	int hidden;                /* someone else's driver, answered as unknown */
	int replayed;              /* a create answered from its idempotency key */
	int store_failed;          /* the master took a create, its owner was not recorded */
	char rule[400];            /* the policy rule that refused the request, or "" */
	char user[256];            /* who asked (REMOTE_USER or a token's subject), or "" */
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

void response_init(struct response *rs);
void response_release(struct response *rs);
void response_reset(struct response *rs);

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs);

/* The reason phrase for a status code ("Bad Request"). */
const char *http_reason(int status);

#endif
