/* The master's answers for one request (see ask.h). */
#include "ops/ask.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "ops/reply.h"
#include "spark/rest.h"
#include "spark/restdoor.h"

void ask_failed(const struct spark_ctx *sc, struct response *rs, const struct sg_err *e, int maybe_delivered,
		int is_create)
{
	enum problem p = problem_of_err(e->code);

	if (maybe_delivered && is_create && sc->tokens)   /* its token settles it (tenant_claim) */
		reply_problem(sc, rs, p, "The outcome of this submission is unknown: %s. The master may "
			      "have accepted it; send it again with the same idempotency key (sparkgate finds it at the "
			      "master and answers with its id, or sends it once) or see GET /v1/submissions.", e->msg);
	else if (maybe_delivered && is_create)
		reply_problem(sc, rs, p, "The outcome of this submission is unknown: %s. The master may "
			      "have accepted it; do not resubmit before checking the master's drivers.", e->msg);
	else if (e->code == ERR_IO || e->code == ERR_TIMEOUT)
		reply_problem(sc, rs, p, "Unable to reach the Spark master: %s", e->msg);
	else if (e->code == ERR_UNSUPPORTED || e->code == ERR_REMOTE)
		reply_problem(sc, rs, p, "%s", e->msg);   /* unknown build; authentication refused */
	else if (e->code == ERR_NOMEM)
		reply_problem(sc, rs, p, "sparkgate ran out of memory: %s", e->msg);
	else
		reply_problem(sc, rs, p, "Unreadable reply from the Spark master: %s", e->msg);
}

/* An RpcFailure: the master could not take the message at all. */
static void master_refused(const struct spark_ctx *sc, struct response *rs, const struct spark_build *b,
			   const char *text, size_t len)
{
	char msg[1200];
	int n = (int)(memchr(text, '\n', len) ? (const char *)memchr(text, '\n', len) - text : (long)len);

	if (memmem(text, len, "InvalidClassException", 21) || memmem(text, len, "ClassNotFoundException", 22))
		snprintf(msg, sizeof(msg), "The Spark master runs a build sparkgate was not set up for "
			 "(sparkgate spoke Spark %s, Scala %s): %.*s", b->minor, b->scala_version, n, text);
	else if (memmem(text, len, "Expected SaslMessage", 20))
		snprintf(msg, sizeof(msg), "The Spark master requires authentication "
			 "(spark.authenticate=true): give sparkgate its secret with --secret-file.");
	else
		snprintf(msg, sizeof(msg), "The Spark master rejected the request: %.*s", n, text);
	reply_problem(sc, rs, PROBLEM_BAD_GATEWAY, "%s", msg);
}

int ask_master(struct spark_ctx *sc, cluster_write_fn write, void *arg, int idempotent, int is_create,
	       enum deploy_reply_kind k, struct cluster_answer *a, struct response *rs)
{
	struct sg_err e = { 0 };
	int rc = cluster_ask(&sc->cluster, sc->deadline, write, arg, idempotent, a, &e);

	if (rc == CLUSTER_WRITE_FAILED)
		return rc;
	if (rc) {
		if (!e.code)
			sg_err_set(&e, rc, 0, "%s", sg_err_name(rc));
		ask_failed(sc, rs, &e, a->maybe_delivered, is_create);
	} else if (a->failed) {
		master_refused(sc, rs, a->build, buf_str(&a->failure), a->failure.len);
	} else if (a->reply.kind != k) {
		reply_problem(sc, rs, PROBLEM_BAD_GATEWAY, "Unexpected reply from the Spark master.");
	} else {
		return 0;
	}
	return -1;
}

static int write_status(void *arg, const struct spark_build *b, struct buf *out)
{
	return deploy_write_status(out, b, arg);
}

/* The master's status answer for id into rs, and *rec from it: 0, the HTTP status of the
 * error answer, or -1 when a worker's name did not fit the record (not cached). */
static int ask_status_uncached(struct spark_ctx *sc, const char *id, struct response *rs, struct status_record *rec)
{
	struct cluster_answer a;
	struct buf message = BUF_INIT(LIMIT_THROWABLE_TEXT + 64);
	int rc, fits = 1;

	cluster_answer_init(&a);
	rc = ask_master(sc, write_status, (void *)id, 1, 0, REPLY_STATUS, &a, rs);
	if (rc == CLUSTER_WRITE_FAILED)
		reply_problem(sc, rs, PROBLEM_INTERNAL, "sparkgate could not write the request for the master.");
	if (rc == 0) {
		const struct deploy_reply *r = &a.reply;

		if (r->exception)
			buf_printf(&message, "Exception from the cluster:\n%s", r->exception);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
			{ "driverState", RF_STRING, driver_state_name(r->state), 0, NULL },
			{ "message", RF_STRING, r->exception ? buf_str(&message) : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&sc->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "workerHostPort", RF_STRING, r->worker_host_port, 0, NULL },
			{ "workerId", RF_STRING, r->worker_id, 0, NULL },
		};

		reply_answer(sc, rs, f, sizeof(f) / sizeof(f[0]));
		rec->known = r->success;
		rec->state = r->state;
		fits = (size_t)snprintf(rec->worker_id, sizeof(rec->worker_id), "%s", r->worker_id ? r->worker_id : "")
			       < sizeof(rec->worker_id)
		       && (size_t)snprintf(rec->worker_host_port, sizeof(rec->worker_host_port), "%s",
					   r->worker_host_port ? r->worker_host_port : "") < sizeof(rec->worker_host_port);
		rc = rs->status == 200 ? 0 : rs->status;   /* 500: the answer could not be printed */
	} else {
		rc = rs->status;
	}
	rec->http_status = rs->status;
	cluster_answer_release(&a);
	buf_release(&message);
	return rc ? rc : fits ? 0 : -1;
}

int ask_status(struct spark_ctx *sc, const char *id, struct response *rs, struct status_record *rec)
{
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->state = -1;
	switch (status_cache_get(sc->status_cache, id, sc->deadline, rec, &rs->body)) {
	case STATUS_HIT:
		rs->status = rec->http_status;
		rs->cache = "hit";
		return 0;
	case STATUS_ASK:
		rs->cache = "ask";
		rc = ask_status_uncached(sc, id, rs, rec);
		if (rc > 0)
			status_cache_abandon(sc->status_cache, id);
		else
			status_cache_put(sc->status_cache, id, rc ? NULL : rec, (const char *)rs->body.data, rs->body.len);
		return rc > 0 ? rc : 0;
	default:
		rc = ask_status_uncached(sc, id, rs, rec);
		return rc > 0 ? rc : 0;
	}
}

int ask_master_ready(struct spark_ctx *sc, char *why, size_t size)
{
	struct cluster_answer a;
	struct response scratch;
	int rc;

	response_init(&scratch);
	cluster_answer_init(&a);
	/* no master ever names a driver so */
	rc = ask_master(sc, write_status, "driver-00000000000000-0000", 1, 0, REPLY_STATUS, &a, &scratch);
	if (rc == CLUSTER_WRITE_FAILED)
		reply_problem(sc, &scratch, PROBLEM_INTERNAL, "sparkgate could not write the request for the master.");
	if (rc) {
		json_t *js = json_loadb((const char *)scratch.body.data, scratch.body.len, 0, NULL);
		const char *msg = json_string_value(json_object_get(js, "message"));

		snprintf(why, size, "%s", msg ? msg : "the Spark master did not answer");
		rc = scratch.status ? scratch.status : 503;
		json_decref(js);
	} else if (a.reply.exception && strstr(a.reply.exception, "ALIVE state")) {
		/* Master.scala, RequestDriverStatus: a standby or recovering master says so */
		snprintf(why, size, "the Spark master is not ALIVE: %s", a.reply.exception);
		rc = 503;
	} else {
		snprintf(why, size, "the Spark master at %s is ALIVE (Spark %s)", sc->master_url,
			 cluster_version_of(&sc->cluster, a.build));
	}
	cluster_answer_release(&a);
	response_release(&scratch);
	return rc;
}

static int write_master_state(void *arg, const struct spark_build *b, struct buf *out)
{
	(void)arg;
	return deploy_write_master_state(out, b);
}

int ask_master_state(struct spark_ctx *sc, struct cluster_answer *a, struct sg_err *e)
{
	int rc = cluster_ask(&sc->cluster, sc->deadline, write_master_state, NULL, 1, a, e);

	if (!rc && (a->failed || a->reply.kind != REPLY_MASTER_STATE))
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "the Spark master did not answer RequestMasterState: %.300s",
				a->failed ? buf_str(&a->failure) : "another reply");
	return rc;
}

/* Spark's own REST server on the master's host (6066, or --master-rest-port).  A closed
 * port answers at once; Jetty's first answer in a busy master's JVM took more than 500 ms
 * (a door missed), so the check waits up to 2 s. */
#define REST_DOOR_DEFAULT_PORT 6066
#define REST_DOOR_CHECK_MS 2000

int ask_open_door(const struct spark_ctx *sc, char *url, size_t size)
{
	const struct master *m = &sc->cluster.master;
	const char *host = m->naddrs ? m->addrs[m->current].host : NULL;
	const int ports[2] = { REST_DOOR_DEFAULT_PORT, sc->master_rest_port };

	for (int i = 0; host && i < 2; i++) {
		if (!ports[i] || (i && ports[i] == REST_DOOR_DEFAULT_PORT) || !restdoor_open(host, ports[i], REST_DOOR_CHECK_MS))
			continue;
		snprintf(url, size, "http://%s:%d/v1/submissions/", host, ports[i]);
		return 1;
	}
	return 0;
}
