/* The gateway: what a front end (fcgi/) needs of core.  One HTTP request in, one answer
 * out: identity, body limit, Spark's servlets with sparkgate's tenant rules, the audit line.
 * The front end owns sockets, signals and its log; it builds a gateway from options
 * (gateway_init), hands it requests (gateway_handle), reloads it on SIGHUP and releases it. */
#ifndef SG_GATEWAY_H
#define SG_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/http.h"
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

/* Everything a gateway is made from (sparkgate(8) names each option). */
struct gateway_config {
	const char *master;             /* --master spark://h1:p1[,h2:p2] */
	const char *spark_version;      /* --spark-version, or NULL to detect */
	const char *secret;             /* spark.authenticate.secret, or NULL */
	const char *spark_conf;         /* --spark-conf: the cluster's spark-defaults.conf, or NULL */
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

/* 0, or an error (e says which option) after which the gateway needs only release. */
int gateway_init(struct gateway *g, const struct gateway_config *c, struct sg_err *e);
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
void gateway_release(struct gateway *g);

/* Text as it may stand in a log line: C0 control bytes, DEL, backslash and bytes that are not
 * UTF-8 as \xNN, C1 controls and U+2028/U+2029 as \uXXXX (see rest_escape_text), so no
 * request can break or forge a line. */
int gateway_escape_text(struct buf *out, const char *text, size_t len);

/* Whether a --state-db value is a PostgreSQL target that carries a password (sqldb.h). */
int gateway_state_db_has_password(const char *state_db);

/* "3.5.9_2.12 3.5.9_2.13 ...": the builds sparkgate has tables for. */
int gateway_builds(struct buf *out);

#endif
