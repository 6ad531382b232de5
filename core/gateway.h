/* The gateway: what a front end (fcgi/) needs of core.  One HTTP request in, one answer
 * out: identity, body limit, Spark's servlets with sparkgate's tenant rules, the audit line.
 * The front end owns sockets, signals and its log; it builds a gateway from options
 * (gateway_init), hands it requests (gateway_handle), reloads it on SIGHUP and releases it. */
#ifndef SG_GATEWAY_H
#define SG_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "tenant/audit.h"
#include "base/buf.h"
#include "spark/cluster.h"
#include "base/http.h"
#include "tenant/jws.h"
#include "base/limits.h"
#include "tenant/policy.h"
#include "ops/metrics.h"
#include "ops/statuscache.h"
#include "tenant/store.h"

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
	char *hosts;               /* --hosts: the Host names served (tenant_host_served), or NULL: any */
	uint8_t jws_key[JWS_MAX_KEY];   /* --jws-secret-file: HS256 key for bearer tokens */
	int jws_keylen;            /* 0: bearer tokens are not accepted */
	int64_t deadline;          /* of the request being handled: every ask it makes shares it */
	struct audit audit;        /* --audit-log */
	int master_rest_port;      /* --master-rest-port: another port to check for Spark's REST door */
	uint64_t door_generation;  /* master connection last checked for it */
	struct status_cache *status_cache;   /* the host's shared status answers, or NULL */
	struct status_cache *readyz_cache;   /* the same table, for /readyz's shared result (1 s), or NULL */
	struct metrics *metrics;   /* the host's shared counters (/metrics), or NULL */
	char master_ui[1024];      /* --master-ui: web UI base URLs, in --master order; "" derives
				      http://HOST:8080 from the current master */
	int64_t master_ui_retry_ms;   /* after a failed read, asked per driver until then */
	int64_t claims_swept_ms;   /* this process last looked for claims nobody can finish */
	struct files_conf {        /* --files-dir: uploads (files.h) */
		char *dir, *url;       /* NULL: uploads are off */
		int64_t max_upload, quota;
		uint8_t key[32];
	} files;
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
/* Whether Spark's own REST server answers on the current master's host (6066 and
 * --master-rest-port): 1 with its URL, else 0.  Bounded by a short timeout per port. */
int gateway_open_door(struct gateway *g, char *url, size_t size);
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
