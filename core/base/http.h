/* One HTTP request as the web server handed it over (fcgi/ fills it from FastCGI or CGI
 * parameters) and the answer for it: what the front end and core share. */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"

/* Reads up to n bytes of a body (a request's, from the front end; a streamed answer's, from
 * core): the count, 0 at its end, <0 on an error. */
typedef ssize_t (*body_read_fn)(void *ctx, void *p, size_t n);

struct request {
	const char *method;        /* REQUEST_METHOD */
	const char *path;          /* decoded path, without query */
	const char *query;         /* QUERY_STRING (still encoded), may be NULL */
	const char *protocol;      /* SERVER_PROTOCOL, may be NULL */
	const char *body;
	size_t body_len;
	size_t body_declared;      /* CONTENT_LENGTH as sent */
	int body_too_large;        /* body_declared exceeded the limit; body not read */
	body_read_fn read_body;    /* set when the body was left unread for core to stream */
	void *body_ctx;            /* (files_streams_body): body_declared bytes to read */
	const char *remote_user;   /* may be NULL */
	const char *remote_addr;   /* may be NULL */
	const char *idempotency_key;   /* Idempotency-Key header, may be NULL */
	const char *origin;        /* Origin header, may be NULL */
	const char *host;          /* Host header, may be NULL */
	const char *requested_by;  /* X-Requested-By header, may be NULL */
	const char *fetch_site;    /* Sec-Fetch-Site header, may be NULL */
	const char *authorization; /* Authorization header, if the web server passes it */
	const char *range;         /* Range header, may be NULL */
	const char *if_range;      /* If-Range header, may be NULL */
};

/* The cross-site request forgery guard for requests that change something (--csrf: the
 * front end's option, the tenant layer's rule). */
enum csrf_mode {
	CSRF_ORIGIN,   /* refuse browser requests from another site (Origin / Sec-Fetch-Site)
	                * unless they carry X-Requested-By; other clients pass (default) */
	CSRF_HEADER,   /* every POST needs an X-Requested-By header (as Livy) */
	CSRF_OFF,
};

/* Every endpoint, in the order of the metrics' route label (ops/metrics.c keeps its table's
 * layout by this order).  The servlet table (servlets/route.c) sets a request's route once. */
enum route {
	ROUTE_CREATE, ROUTE_KILL, ROUTE_STATUS, ROUTE_LIST, ROUTE_LOGS, ROUTE_FILES, ROUTE_KILLALL,
	ROUTE_CLEAR, ROUTE_SPARK_READYZ, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS,
	ROUTE_BATCHES,        /* Livy's /batches (servlets/livy.c) */
	ROUTE_LIVY_VERSION,   /* Livy's GET /version */
	ROUTE_DOWNLOAD,       /* a worker fetching a stored upload (GET /files/ID/NAME, shared store) */
	ROUTE_OTHER,   /* Spark's ErrorServlet: no servlet claimed the path */
	ROUTE_COUNT
};

/* Why a request was refused: what metrics count and the audit line tells.  REFUSAL_NONE
 * for a request no rule refused. */
enum refusal {
	REFUSAL_NONE = -1,
	REFUSAL_POLICY,       /* the policy file's rules (the rule in response.rule) */
	REFUSAL_QUOTA,        /* a quota line */
	REFUSAL_CSRF,         /* a cross-site POST, PUT or DELETE */
	REFUSAL_ADMINS_ONLY,  /* killall and clear with an owner store */
	REFUSAL_NO_USER,      /* no usable user: none, or a name sparkgate cannot take */
	REFUSAL_BAD_TOKEN,    /* a bearer token that does not verify */
	REFUSAL_OTHER_USERS,  /* another user's driver or file: answered as unknown */
	REFUSAL_HOSTS,        /* a Host header --hosts does not name */
	REFUSAL_PROXY_USER,   /* Livy's proxyUser naming another user (impersonation) */
	REFUSAL_COUNT
};

/* The names metrics label them with ("create", "bad_token"). */
const char *route_name(enum route r);
const char *refusal_name(enum refusal r);

struct response {
	int status;
	enum route route;          /* the endpoint that answered (ROUTE_OTHER until one claims it) */
	enum refusal refusal;      /* the rule family that refused it, or REFUSAL_NONE */
	const char *allow;         /* Allow header for 405, else NULL */
	struct buf body;           /* JSON, Content-Type application/json;charset=utf-8 ... */
	const char *content_type;  /* ... unless this says otherwise (a driver's log: text) */
	/* An answer larger than body may hold (a stored upload): with stream set, the front
	 * end sends stream_len bytes pulled from stream(stream_ctx, ...) after the headers,
	 * instead of body, in pieces of at most LIMIT_STREAM_PIECE (gateway_stream_piece);
	 * stream_ctx stays valid until the next request.  A stream that fails before its end
	 * leaves the answer short, and the front end drops the connection. */
	body_read_fn stream;
	void *stream_ctx;
	uint64_t stream_len;
	char header[320];          /* more header lines ("Name: value", CRLF between), or "" */
	char submission_id[128];   /* for the log line */
	int hidden;                /* someone else's driver, answered as unknown */
	int livy;                  /* a Livy endpoint: errors in Livy's shape ({"msg": ...}) */
	int replayed;              /* a create answered from its idempotency key */
	const char *cache;         /* a status: "hit" (from the status cache), "ask", or NULL */
	unsigned master_asks;      /* requests this answer sent to the master */
	int store_failed;          /* the master took a create, its owner was not recorded */
	char rule[400];            /* the policy rule that refused the request, or "" */
	char user[256];            /* who asked (REMOTE_USER or a token's subject), or "" */
	char note[600];            /* a line for the front end's log, or "" */
	int note_error;            /* ... logged as an error */
};

void response_init(struct response *rs);
void response_release(struct response *rs);
void response_reset(struct response *rs);

/* The reason phrase for a status code ("Bad Request"). */
const char *http_reason(int status);

#endif
