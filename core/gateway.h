/* The gateway: what a front end (fcgi/) needs of core.  One HTTP request in, one answer
 * out: identity, body limit, Spark's servlets with sparkgate's tenant rules, the audit line.
 * The front end owns sockets, signals and its log; it builds a gateway from options
 * (gateway_new), hands it requests (gateway_handle), reloads it on SIGHUP and frees it; it
 * reads no member of struct gateway. */
#ifndef SG_GATEWAY_H
#define SG_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/http.h"

/* Opaque to the front end: gateway_internal.h holds its parts. */
struct gateway;

/* Everything a gateway is made from (sparkgate(8) names each option). */
struct gateway_config {
	const char *master;             /* --master spark://h1:p1[,h2:p2] */
	const char *spark_version;      /* --spark-version, or NULL to detect */
	const char *secret;             /* spark.authenticate.secret, or NULL */
	const char *spark_conf;         /* --spark-conf: the cluster's spark-defaults.conf, or NULL */
	const char *tls_ca;             /* --tls-ca: PEM certificates the master's must verify against */
	const char *jws_secret;         /* --jws-secret-file's base64url key, or NULL */
	int timeout_s, connect_timeout_s;
	size_t max_body;
	int allow_anonymous;
	enum csrf_mode csrf;
	const char *hosts;              /* --hosts NAME[:PORT][,...], or NULL: any Host */
	const char *placeholder_names;  /* --env-placeholders: "*", NULL or a list */
	const char *state_db, *policy_file, *audit_log;   /* or NULL */
	int master_rest_port;           /* 0: only Spark's default 6066 */
	int status_max_age_ms;          /* --status-max-age; 0: ask the master every time */
	const char *master_ui;          /* --master-ui URL[,URL], or NULL: derived; "off": never */
	const char *files_dir, *files_url;   /* --files-dir, --files-url, or NULL */
	int64_t max_upload, files_quota;     /* --max-upload, --files-quota (bytes; <0 none) */
};

/* Every option's default (sparkgate(8)): what a front end starts from. */
void gateway_config_defaults(struct gateway_config *c);
/* Bounds a front end checks options and sizes its buffers by (limits.h names each). */
extern const size_t gateway_max_body_limit;   /* --max-body's largest value */
extern const size_t gateway_params_limit;     /* a request's parameters (names, values) together */
extern const size_t gateway_response_limit;   /* an answer with its headers */
extern const size_t gateway_stream_piece;     /* a streamed answer's piece (response.stream) */
/* Whether the gateway reads this request's body itself (request.read_body: an upload,
 * streamed to disk), so the front end leaves it unread whatever --max-body says. */
int gateway_streams_body(const char *method, const char *path);

/* A gateway built from c, or NULL with the reason in why (which option, what is wrong). */
struct gateway *gateway_new(const struct gateway_config *c, struct buf *why);
void gateway_free(struct gateway *g);
/* spark://h1:p1,h2:p2 as the gateway understood --master. */
const char *gateway_master_url(const struct gateway *g);
/* A line for the front end's log once the gateway is built (a store or a shared table that
 * could not be set up, and what that costs), or "". */
const char *gateway_warning(const struct gateway *g);

/* SIGHUP: reopens the audit log, re-reads the policy (keeping the old one if the new one
 * does not load or needs a store there is not), takes the secret (NULL: keeps it), drops
 * the master connection.  What could not be done is appended to report, one line each. */
void gateway_reload(struct gateway *g, const struct gateway_config *c, const char *secret, struct buf *report);
/* One request, under one deadline (--timeout) for every ask it makes.  rs->note holds a
 * line for the front end's log (a newly detected build, an audit write that failed). */
void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs);
/* Work no answer should wait for, done once the answer is out: on a new master connection,
 * whether the master's own REST server answers there (6066, --master-rest-port).  What it
 * finds is appended to warnings, one line each, for the front end's log. */
void gateway_after_answer(struct gateway *g, struct buf *warnings);
/* An ErrorResponse for a request the front end could not even read. */
void gateway_fail(struct gateway *g, struct response *rs, int status, const char *message);

/* Text as it may stand in a log line: C0 control bytes, DEL, backslash and bytes that are not
 * UTF-8 as \xNN, C1 controls and U+2028/U+2029 as \uXXXX (see rest_escape_text), so no
 * request can break or forge a line. */
int gateway_escape_text(struct buf *out, const char *text, size_t len);

/* Whether a --state-db value is a PostgreSQL target that carries a password (sqldb.h). */
int gateway_state_db_has_password(const char *state_db);

/* "3.5.9_2.12 3.5.9_2.13 ...": the builds sparkgate has tables for. */
int gateway_builds(struct buf *out);

#endif
