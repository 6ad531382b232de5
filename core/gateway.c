/* The gateway's life (see gateway.h): built from options, one request at a time, SIGHUP. */
#include "gateway_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sqldb.h"
#include "base/tls.h"
#include "servlets/health.h"
#include "ops/reply.h"
#include "spark/rest.h"
#include "spark/sparkconf.h"
#include "spark/versions.h"

/* What in a policy only works with an owner store, or NULL. */
static const char *needs_store(const struct policy *p)
{
	return p->nquotas ? "quotas" : p->admin_group ? "an admin group" : NULL;
}

/* Each layer is lent the ones below it (again on every request: a struct gateway may
 * have been copied). */
static void gateway_link(struct gateway *g)
{
	g->tenant.spark = &g->spark;
	g->servlets.spark = &g->spark;
	g->servlets.tenant = &g->tenant;
	g->spark.tokens = g->tenant.store != NULL;
}

/* TLS to the master: on with --tls-ca or the cluster's spark.ssl.rpc.enabled=true.  What to
 * trust: --tls-ca wins; else what Spark's own client trusts (SSLFactory: the PEM certChain
 * when a privateKey goes with it, else the trustStore), else a certChain alone.  sc may be
 * NULL (no --spark-conf). */
static int gateway_tls(struct master *m, const struct gateway_config *c, const struct sparkconf *sc,
		       struct sg_err *e)
{
	struct tls_trust t = { .ca_file = c->tls_ca };
	struct tls_ctx *ctx;
	int rc;

	if (!c->tls_ca && !(sc && sc->ssl_rpc))
		return 0;
	if (sc && !t.ca_file) {
		if (sc->cert_chain[0] && (sc->private_key[0] || !sc->trust_store[0]))
			t.ca_file = sc->cert_chain;
		else if (sc->trust_store[0])
			t.trust_store = sc->trust_store;
		t.trust_store_password = sc->trust_store_password[0] ? sc->trust_store_password : NULL;
	}
	if (sc) {
		t.protocol = sc->protocol[0] ? sc->protocol : NULL;
		t.ciphers = sc->enabled_algorithms[0] ? sc->enabled_algorithms : NULL;
	}
	if ((rc = tls_ctx_new(&ctx, &t, e)) != 0)
		return rc;
	master_set_tls(m, ctx);
	return 0;
}

/* --spark-conf: the cluster's security settings; --secret-file wins over its secret. */
static int gateway_spark_conf(struct master *m, const struct gateway_config *c, struct sg_err *e)
{
	struct sparkconf sc;
	int rc = sparkconf_load(&sc, c->spark_conf, e);

	if (!rc)
		rc = gateway_tls(m, c, &sc, e);
	if (!rc && sc.authenticate && !c->secret && !sc.secret[0])
		rc = sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s sets spark.authenticate=true but no "
				"spark.authenticate.secret(.file): give sparkgate the secret with --secret-file",
				c->spark_conf);
	if (!rc && sc.authenticate && !c->secret && master_set_secret(m, sc.secret))
		rc = sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	/* Spark uses the AuthEngine only with spark.authenticate; with spark.ssl.rpc.enabled too
	 * (4.x) it still runs it, inside TLS, and then puts its AES cipher below TLS (its handlers
	 * go first in the pipeline), though SecurityManager logs that RPC SSL disables it */
	if (!rc && sc.authenticate && sc.crypto.enabled)
		master_set_crypto(m, &sc.crypto);
	sparkconf_release(&sc);
	return rc;
}

int gateway_init(struct gateway *g, const struct gateway_config *c, struct sg_err *e)
{
	struct spark_ctx *sc = &g->spark;
	struct tenant *t = &g->tenant;
	struct servlets *sv = &g->servlets;
	struct buf url = BUF_INIT(sizeof(sc->master_url) - 1);
	int rc;

	memset(g, 0, sizeof(*g));
	sc->cluster.master.fd = -1;   /* released safely whatever fails below */
	policy_init(&t->policy);
	audit_init(&g->audit);
	gateway_link(g);
	if ((rc = cluster_init(&sc->cluster, c->master, c->spark_version, e)) != 0)
		return rc;
	if (c->secret && master_set_secret(&sc->cluster.master, c->secret))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	if (c->spark_conf && (rc = gateway_spark_conf(&sc->cluster.master, c, e)) != 0)
		return rc;
	if (!c->spark_conf && (rc = gateway_tls(&sc->cluster.master, c, NULL, e)) != 0)
		return rc;
	sc->cluster.master.timeout_ms = c->timeout_s * 1000;
	sc->cluster.master.connect_timeout_ms = c->connect_timeout_s * 1000;
	sv->max_body = c->max_body;
	sv->allow_anonymous = c->allow_anonymous;
	t->csrf = c->csrf;
	if (c->hosts && !tenant_hosts_valid(c->hosts))
		return sg_err_set(e, ERR_INVALID, 0, "--hosts must list host names, NAME or NAME:PORT (or [IPv6]), "
				  "separated by commas: %.200s", c->hosts);
	if (c->hosts && !(t->hosts = strdup(c->hosts)))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	sv->placeholder_names = c->placeholder_names;
	sc->master_rest_port = c->master_rest_port;
	if (c->jws_secret && (t->jws_keylen = jws_decode_key(c->jws_secret, t->jws_key, sizeof(t->jws_key))) < 0)
		return sg_err_set(e, ERR_INVALID, 0, "--jws-secret-file must hold a base64url key of at least 256 bits");
	if (c->policy_file && (rc = policy_load(&t->policy, c->policy_file, e)) != 0)
		return rc;
	if (needs_store(&t->policy) && !c->state_db)
		return sg_err_set(e, ERR_INVALID, 0, "the policy %s has %s, which need --state-db (owners are counted "
				  "and checked there); refusing to start without it", c->policy_file, needs_store(&t->policy));
	if ((rc = audit_open(&g->audit, c->audit_log, e)) != 0)
		return rc;
	if (c->state_db && !(t->store = store_open(c->state_db, e)))
		return e && e->code ? e->code : ERR_IO;
	gateway_link(g);
	if (store_warning(t->store))
		snprintf(g->warning, sizeof(g->warning), "%s", store_warning(t->store));
	if (c->files_dir && !c->state_db)
		return sg_err_set(e, ERR_INVALID, 0, "--files-dir needs --state-db (each file's owner is recorded there)");
	if (c->files_dir && (rc = files_open(&sv->files, c->files_dir, c->files_url, c->max_upload, c->files_quota, t->store, e)) != 0)
		return rc;
	if (master_url(&sc->cluster.master, &url)) {
		buf_release(&url);
		return sg_err_set(e, ERR_TOO_LARGE, 0, "master list too long");
	}
	memcpy(sc->master_url, url.data, url.len + 1);
	buf_release(&url);
	if (c->master_ui && strlen(c->master_ui) >= sizeof(t->master_ui))
		return sg_err_set(e, ERR_INVALID, 0, "--master-ui too long");
	if (c->master_ui)
		memcpy(t->master_ui, c->master_ui, strlen(c->master_ui) + 1);
	{
		char key[1200];
		struct sg_err ce = { 0 }, me = { 0 };

		/* one table per master list, pinned release, credentials and transport */
		if (c->status_max_age_ms > 0 && status_cache_key(&sc->cluster.master, c->spark_version, key, sizeof(key)))
			snprintf(g->warning, sizeof(g->warning), "the status cache's key is too long: every status "
				 "request asks the master");
		else if (c->status_max_age_ms > 0
			 && !(sc->status_cache = status_cache_open(key, c->status_max_age_ms, &ce)))
			snprintf(g->warning, sizeof(g->warning), "%s: every status request asks the master", ce.msg);
		/* /readyz's result, shared for at most a second whatever --status-max-age says, by
		 * the processes that would find the same: same masters, store and door ports (an
		 * Apache and a lighttpd sparkgate of one host may differ in those) */
		{
			char ready_key[sizeof(key) + 400];

			snprintf(ready_key, sizeof(ready_key), "%s|readyz|%.300s|%d", key, c->state_db ? c->state_db : "",
				 c->master_rest_port);
			sv->readyz_cache = status_cache_open(ready_key, HEALTH_READYZ_MAX_AGE_MS, &ce);
		}
		if (!(sv->metrics = metrics_open(key, &me)) && !g->warning[0])
			snprintf(g->warning, sizeof(g->warning), "%s: /metrics answers 503", me.msg);
		if (sv->metrics) {
			sc->cluster.master.on_ask = metrics_ask;
			sc->cluster.master.on_ask_ctx = sv->metrics;
		}
	}
	return 0;
}

void gateway_reload(struct gateway *g, const struct gateway_config *c, const char *secret, struct buf *report)
{
	struct sg_err e = { 0 };

	if (c->audit_log && audit_open(&g->audit, c->audit_log, &e))
		buf_printf(report, "%s (still writing the old file)\n", e.msg);
	if (c->policy_file) {
		struct policy fresh;
		const char *needs;

		sg_err_clear(&e);
		policy_init(&fresh);
		needs = policy_load(&fresh, c->policy_file, &e) == 0 && !g->tenant.store ? needs_store(&fresh) : NULL;
		if (needs) {
			buf_printf(report, "keeping the previous policy: the new one has %s, which need --state-db\n", needs);
			policy_release(&fresh);
		} else if (e.code == 0) {
			policy_release(&g->tenant.policy);
			g->tenant.policy = fresh;
		} else {
			policy_release(&fresh);
			buf_printf(report, "keeping the previous policy: %s\n", e.msg);
		}
	}
	if (secret && master_set_secret(&g->spark.cluster.master, secret))
		buf_printf(report, "keeping the previous secret: out of memory\n");
	master_close(&g->spark.cluster.master);
}

/* Spark's own REST server on the master's host (ask_open_door): checked once per new master
 * connection, by gateway_after_answer, so no answer waits for it. */
void gateway_after_answer(struct gateway *g, struct buf *warnings)
{
	const struct master *m = &g->spark.cluster.master;
	char url[600];

	if (m->fd < 0 || m->generation == g->door_generation)
		return;
	g->door_generation = m->generation;
	if (ask_open_door(&g->spark, url, sizeof(url)))
		buf_printf(warnings, "the Spark master's own REST server answers without authentication at %s (an open "
			   "door beside sparkgate, unless that is a sparkgate without a login): set "
			   "spark.master.rest.enabled=false on the master\n", url);
}

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	struct cluster *cl = &g->spark.cluster;
	uint64_t generation = cl->build_generation;
	const struct spark_build *before = cl->build;
	struct sg_err e;   /* (cleared, not zeroed: 528 bytes on every request) */
	uint64_t asks = cl->master.asks, store_failures = store_errors(g->tenant.store);

	sg_err_clear(&e);
	gateway_link(g);
	g->spark.deadline = master_deadline(&cl->master);   /* for every ask of this request */
	servlets_handle(&g->servlets, rq, rs);
	rs->master_asks = (unsigned)(cl->master.asks - asks);
	metrics_record(g->servlets.metrics, rq, rs, cl->build ? (int)(cl->build - spark_builds) : -1);
	metrics_store_errors(g->servlets.metrics, store_errors(g->tenant.store) - store_failures);
	if (audit_record(&g->audit, rq, rs, &e)) {
		snprintf(rs->note, sizeof(rs->note), "%s", e.msg);
		rs->note_error = 1;
	} else if (cl->build && (cl->build != before || cl->build_generation != generation)) {
		const struct master_addr *a = &cl->master.addrs[cl->master.current];

		snprintf(rs->note, sizeof(rs->note), "master %s:%d has the classes of Spark %s (Scala %s); answers name "
			 "Spark %s", a->host, a->port, cl->build->minor, cl->build->scala_version, cl->build->spark_version);
	}
}

void gateway_fail(struct gateway *g, struct response *rs, int status, const char *message)
{
	reply_problem(&g->spark, rs, problem_of_status(status), "%s", message);
}

void gateway_release(struct gateway *g)
{
	status_cache_close(g->spark.status_cache);
	g->spark.status_cache = NULL;
	status_cache_close(g->servlets.readyz_cache);
	g->servlets.readyz_cache = NULL;
	metrics_close(g->servlets.metrics);
	g->servlets.metrics = NULL;
	g->spark.cluster.master.on_ask = NULL;
	g->spark.cluster.master.on_ask_ctx = NULL;
	store_close(g->tenant.store);
	g->tenant.store = NULL;
	policy_release(&g->tenant.policy);
	audit_release(&g->audit);
	free(g->tenant.hosts);
	g->tenant.hosts = NULL;
	files_close(&g->servlets.files);
	cluster_release(&g->spark.cluster);
}

int gateway_builds(struct buf *out)
{
	int rc = 0;

	for (size_t i = 0; i < spark_nbuilds && !rc; i++)
		rc = buf_printf(out, "%s%s_%s", i ? " " : "", spark_builds[i].minor, spark_builds[i].scala_version);
	return rc;
}

int gateway_escape_text(struct buf *out, const char *text, size_t len)
{
	return rest_escape_text(out, text, len);
}

int gateway_state_db_has_password(const char *state_db)
{
	return sqldb_target_is_postgres(state_db) && sqldb_target_has_password(state_db);
}

void gateway_config_defaults(struct gateway_config *c)
{
	*c = (struct gateway_config){
		.timeout_s = 8, .connect_timeout_s = 3, .max_body = LIMIT_BODY_DEFAULT, .csrf = CSRF_ORIGIN,
		.status_max_age_ms = STATUS_CACHE_DEFAULT_MAX_AGE_MS,
		.max_upload = FILES_DEFAULT_MAX_UPLOAD, .files_quota = FILES_DEFAULT_QUOTA,
	};
}

const size_t gateway_max_body_limit = LIMIT_BODY_MAX;
const size_t gateway_params_limit = LIMIT_PARAMS;
const size_t gateway_response_limit = LIMIT_RESPONSE;
const size_t gateway_stream_piece = LIMIT_STREAM_PIECE;

int gateway_streams_body(const char *method, const char *path)
{
	return files_streams_body(method, path);
}

struct gateway *gateway_new(const struct gateway_config *c, struct buf *why)
{
	struct gateway *g = malloc(sizeof(*g));
	struct sg_err e = { 0 };

	if (!g) {
		buf_addstr(why, "out of memory");
		return NULL;
	}
	if (gateway_init(g, c, &e)) {
		buf_addstr(why, e.msg);
		gateway_release(g);   /* only a gateway that gateway_init began */
		free(g);
		return NULL;
	}
	return g;
}

void gateway_free(struct gateway *g)
{
	if (!g)
		return;
	gateway_release(g);
	free(g);
}

const char *gateway_master_url(const struct gateway *g)
{
	return g->spark.master_url;
}

const char *gateway_warning(const struct gateway *g)
{
	return g->warning;
}
