/* Spark's RestSubmissionServer as one table (contextToServlet in RestSubmissionServer.scala
 * and StandaloneRestServer.scala), sparkgate's own endpoints beside it, and the dispatcher
 * that runs every check in one fixed order: Host, the endpoints that need no login, who
 * asks, a login, CSRF, the body's size, the servlet, its method, its submission id, admins
 * only; then the servlet.  Spark's servlets read against StandaloneRestServer.scala. */
#include "servlets/servlets.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "ops/reply.h"
#include "spark/deploy.h"
#include "spark/rest.h"
#include "spark/submit.h"

#define SUBMIT_HINT " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define ACTIONS_35 "Missing an action: please specify one of /create, /kill, or /status."
#define ACTIONS_40 "Missing an action: please specify one of /create, /kill, /killall, /clear, /status, or /readyz."

/* The build whose texts and version an answer uses: the connected master's if it can be
 * had, else the last one seen (or the pinned one). */
static const struct spark_build *answer_build(struct spark_ctx *sc)
{
	const struct spark_build *b;
	struct sg_err e = { 0 };

	return cluster_build(&sc->cluster, sc->deadline, &b, &e) == 0 ? b : cluster_known_build(&sc->cluster);
}

/* ErrorServlet.service (RestSubmissionServer.scala): explains what is wrong with a path
 * no servlet claimed, whatever the method. */
static void error_servlet(struct servlets *sv, const char *path, struct response *rs)
{
	char parts[3][256];
	size_t n = 0;
	const char *p = path;
	char msg[512];
	int mismatch = 0;

	while (*p && n < 3) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		snprintf(parts[n++], sizeof(parts[0]), "%.*s", (int)(e - p), p);
		p = e;
	}
	if (n == 0)
		snprintf(msg, sizeof(msg), "Missing protocol version." SUBMIT_HINT);
	else if (strcmp(parts[0], "v1") == 0 && n == 1)
		snprintf(msg, sizeof(msg), "Missing the /submissions prefix." SUBMIT_HINT);
	else if (strcmp(parts[0], "v1") == 0 && strcmp(parts[1], "submissions") == 0)
		snprintf(msg, sizeof(msg), "%s" SUBMIT_HINT,
			 spark_build_is_spark4(answer_build(sv->spark)) ? ACTIONS_40 : ACTIONS_35);
	else {
		snprintf(msg, sizeof(msg), "Unknown protocol version '%s'." SUBMIT_HINT, parts[0]);
		mismatch = 1;
	}
	reply_problem(sv->spark, rs, mismatch ? PROBLEM_VERSION : PROBLEM_BAD_REQUEST, "%s", msg);
}

int servlet_path_match(const char *path, const char *prefix, const char **info)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || (path[n] && path[n] != '/'))
		return 0;
	*info = path[n] ? path + n : NULL;
	return 1;
}

/* RestServlet.parseSubmissionId: the first segment of the path info. */
static int submission_id(const char *info, char *out, size_t n)
{
	const char *e;

	if (!info)
		return 0;
	if (*info == '/')
		info++;
	e = strchr(info, '/');
	if (!e)
		e = info + strlen(info);
	if (e == info || (size_t)(e - info) >= n)
		return 0;
	memcpy(out, info, (size_t)(e - info));
	out[e - info] = '\0';
	return 1;
}

int servlet_may_touch(struct servlets *sv, const struct call *c, struct response *rs)
{
	struct sg_err e;   /* (cleared, not zeroed: 528 bytes on every request) */
	int rc;

	sg_err_clear(&e);
	rc = tenant_may_touch(sv->tenant, c->id, c->user, c->admin, &e);
	if (rc < 0)
		reply_err(sv->spark, rs, &e);
	else if (rc == 0)
		reply_hide(rs);
	return rc < 0 ? -1 : rc == TENANT_NOBODYS ? 0 : rc;
}

/* ---- create ------------------------------------------------------------------------- */

/* A create on its way to the master: the request, what Spark's parsing made of it, and where
 * its own errors go. */
struct exchange {
	struct servlets *sv;
	const struct request *rq;
	struct create_request cr;
	struct rest_error err;
	char rule[400];                  /* the policy rule that refused the create, or "" */
	const char *token;               /* the claim's submission token, or NULL */
};

static void exchange_init(struct exchange *x, struct servlets *sv, const struct request *rq)
{
	memset(x, 0, sizeof(*x));
	x->sv = sv;
	x->rq = rq;
	create_request_init(&x->cr);
	rest_error_init(&x->err);
}

static void exchange_release(struct exchange *x)
{
	create_request_release(&x->cr);
	rest_error_release(&x->err);
}

/* The driver a create becomes for build b, parsed and validated the way that build's
 * server does it, with every substitution made, and judged by the policy: what is judged
 * is exactly what is written for the master.  Errors go to x->err (403 with x->rule for
 * the policy).  0 or -1. */
static int prepare_driver(struct exchange *x, const struct spark_build *b, struct driver_desc *d,
			  struct policy_usage *use)
{
	const struct policy *p = &x->sv->tenant->policy;
	const char *master_url = x->sv->spark->master_url;
	struct submit_config cfg = { master_url, b, p->rules ? p->placeholders : x->sv->placeholder_names,
				     p->rules ? policy_drops_env : NULL };
	int rc;

	create_request_release(&x->cr);
	create_request_init(&x->cr);
	rest_error_release(&x->err);
	rest_error_init(&x->err);
	x->rule[0] = '\0';
	rc = rest_parse_create(x->rq->body, x->rq->body_len, &b->rest, &x->cr, &x->err) ? -1 : 0;
	if (!rc && p->rules && policy_apply_defaults(p, &x->cr.spark_properties))
		rc = rest_fail(&x->err, 500, "out of memory");
	rc = rc || submit_build_driver(&x->cr, &cfg, d, &x->err) ? -1 : 0;
	if (!rc && (rc = policy_check_driver(p, d, b, master_url, use, x->rule, sizeof(x->rule))) != 0) {
		if (rc > 0)
			rest_fail(&x->err, 403, "%s", x->rule);
		else
			rest_fail(&x->err, 500, "out of memory");
		rc = -1;
	}
	/* sparkgate's own mark, after the policy judged the user's part: the last JVM option
	 * (a later -D wins), so the token the master keeps is this one */
	if (!rc && x->token) {
		char opt[sizeof(DEPLOY_TOKEN_OPTION) + STORE_TOKEN_SIZE];

		snprintf(opt, sizeof(opt), "%s%s", DEPLOY_TOKEN_OPTION, x->token);
		if (strlist_add(&d->java_opts, opt)) {
			rest_fail(&x->err, 500, "out of memory");
			rc = -1;
		}
	}
	return rc;
}

/* The answer for a create prepare_driver refused: Spark's error text, or the policy's rule. */
static void answer_prepare_error(struct exchange *x, struct response *rs)
{
	if (x->err.status == 403 && x->rule[0])
		reply_refuse(x->sv->spark, rs, REFUSAL_POLICY, x->rule, buf_str(&x->err.message));
	else
		reply_problem(x->sv->spark, rs, problem_of_status(x->err.status), "%s",
			      x->err.status == 500 ? "out of memory" : buf_str(&x->err.message));
}

/* cluster_write_fn: RequestSubmitDriver for build b.  The create is prepared again if the
 * master turns out to be another build. */
static int write_create(void *arg, const struct spark_build *b, struct buf *out)
{
	struct exchange *x = arg;
	struct driver_desc d;
	int rc;

	driver_desc_init(&d);
	rc = prepare_driver(x, b, &d, NULL);
	if (!rc && (rc = deploy_write_submit(out, b, &d)) != 0)
		rc = rc == ERR_TOO_LARGE ? rest_fail(&x->err, 413, "The submission is too large to send to the master.")
					 : rest_fail(&x->err, 500, "out of memory");
	driver_desc_release(&d);
	return rc;
}

/* Asks the master (x: the create being written, whose own errors answer a failed write, or
 * NULL): 0 with the reply in a, or -1 answered. */
static int ask(struct servlets *sv, cluster_write_fn write, void *arg, struct exchange *x, int idempotent,
	       enum deploy_reply_kind k, struct cluster_answer *a, struct response *rs)
{
	int rc = ask_master(sv->spark, write, arg, idempotent, k == REPLY_SUBMIT, k, a, rs);

	if (rc == CLUSTER_WRITE_FAILED && x && x->err.status)
		answer_prepare_error(x, rs);
	else if (rc == CLUSTER_WRITE_FAILED)
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "sparkgate could not write the request for the master.");
	return rc ? -1 : 0;
}

/* Before anything is claimed or sent: the driver this create becomes for the master's
 * build (detected first: the policy judges what that build will run), judged by the
 * policy, and its cores and memory for quotas.  A master that cannot be reached leaves
 * nothing to judge: the create is answered here and nothing is sent.  The same driver is
 * prepared and judged again when the bytes for the master are written.  1: answered. */
static int refused_before_sending(struct servlets *sv, struct exchange *x, struct response *rs, int *cores,
				  int *memory_mb)
{
	const struct spark_build *b;
	struct driver_desc d;
	struct policy_usage use = { 0, 0 };
	struct sg_err e = { 0 };
	int refused = 0;

	*cores = *memory_mb = 0;
	if (!sv->tenant->policy.rules && !sv->tenant->store)
		return 0;
	if (cluster_build(&sv->spark->cluster, sv->spark->deadline, &b, &e)) {
		ask_failed(sv->spark, rs, &e, 0, 1);
		return 1;
	}
	driver_desc_init(&d);
	if (prepare_driver(x, b, &d, &use)) {
		answer_prepare_error(x, rs);
		refused = 1;
	}
	*cores = use.cores;   /* the driver's and, under a policy, its executors' */
	*memory_mb = use.memory_mb;
	driver_desc_release(&d);
	return refused;
}

#ifdef SPARKGATE_FAULTS
/* Test builds only (make faults): SPARKGATE_FAULT_KILL_AFTER_CREATE=PERCENT makes this
 * process die by SIGKILL, that share of the time, after the master accepted a create and
 * before anything recorded it: the worst moment for a crash (tests/it/test_faults.py). */
static void fault_after_create(int asked)
{
	const char *v = getenv("SPARKGATE_FAULT_KILL_AFTER_CREATE");
	unsigned seed = (unsigned)getpid() ^ (unsigned)master_now_ms();
	long percent = v ? strtol(v, NULL, 10) : 0;

	if (!asked && percent > 0 && rand_r(&seed) % 100 < percent)
		raise(SIGKILL);
}
#endif

/* An earlier create with the same idempotency key (tenant_claim): its outcome, without
 * sending it again. */
static void answer_earlier(struct servlets *sv, struct response *rs, const struct store_claim *earlier)
{
	char msg[300];

	if (earlier->state == CLAIM_DONE) {
		snprintf(msg, sizeof(msg), "Driver successfully submitted as %s", earlier->id);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, msg, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "submissionId", RF_STRING, earlier->id, 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
		};

		snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", earlier->id);
		rs->replayed = 1;
		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	} else if (earlier->state == CLAIM_IN_FLIGHT) {
		reply_problem(sv->spark, rs, PROBLEM_CONFLICT, "A create with this idempotency key is being submitted right "
			      "now; ask again in a moment.");
	} else {
		reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "The outcome of an earlier create with this idempotency "
			      "key is unknown until the Spark master answers: sparkgate will not submit it again before the "
			      "master says it has no such driver. Ask again later with the same key.");
	}
}

/* Claims the create and checks the quotas (with an owner store): 0 go ahead, 1 answered. */
static int claimed(struct servlets *sv, struct exchange *x, const char *owner, const char *key, int cores,
		   int memory_mb, struct store_claim *claim, struct response *rs)
{
	struct tenant *t = sv->tenant;
	struct store_claim earlier;
	struct sg_err e = { 0 };
	int rc;

	/* Claimed before the master is asked, with the token the driver will carry: the owner
	 * is on record even if this process dies right after the master accepted the driver,
	 * and the master's drivers tell what became of it. */
	if ((rc = tenant_claim(t, owner, key, cores, memory_mb, claim, &earlier, &e)) != 0) {
		if (rc < 0)
			reply_err(sv->spark, rs, &e);
		else
			answer_earlier(sv, rs, &earlier);
		return 1;
	}
	x->token = claim->token;
	if ((rc = tenant_quota(t, owner, rs->rule, sizeof(rs->rule), rs->note, sizeof(rs->note), &e)) != 0) {
		char rule[sizeof(rs->rule)];

		snprintf(rule, sizeof(rule), "%s", rs->rule);
		if (rc < 0)
			reply_err(sv->spark, rs, &e);
		else
			reply_refuse(sv->spark, rs, REFUSAL_QUOTA, rule, rule);
		sg_err_clear(&e);
		if (store_finish(t->store, claim->row, NULL, 0, NULL, NULL, &e))
			rs->store_failed = 1;
		return 1;
	}
	return 0;
}

/* StandaloneSubmitRequestServlet.handleSubmit: POST /v1/submissions/create. */
static void create_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	struct servlet_created out;

	servlet_create(sv, c, rs, &out);
}

void servlet_create(struct servlets *sv, const struct call *c, struct response *rs, struct servlet_created *out)
{
	const struct request *rq = c->rq;
	struct store *store = sv->tenant->store;
	struct exchange x;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	struct store_claim claim;
	char key_prop[IDEMPOTENCY_KEY_MAX + 2];
	int prop_too_long = 0;
	/* keys mean something only with a store; without one Spark's rules alone apply */
	const char *key = !store ? NULL : rq->idempotency_key && *rq->idempotency_key ? rq->idempotency_key
		: rest_peek_property(rq->body, rq->body_len, IDEMPOTENCY_PROPERTY, key_prop, sizeof(key_prop),
				     &prop_too_long);
	int cores, memory_mb;

	memset(out, 0, sizeof(*out));
	/* a key cut short could match another request's: refuse rather than guess */
	if ((key && strlen(key) > IDEMPOTENCY_KEY_MAX) || prop_too_long) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "The idempotency key is longer than 1000 bytes.");
		return;
	}
	exchange_init(&x, sv, rq);
	cluster_answer_init(&a);
	if (refused_before_sending(sv, &x, rs, &cores, &memory_mb))
		goto out;
	if (store && claimed(sv, &x, c->user, key, cores, memory_mb, &claim, rs))
		goto out;
	int asked = ask(sv, write_create, &x, &x, 0, REPLY_SUBMIT, &a, rs);

#ifdef SPARKGATE_FAULTS
	fault_after_create(asked);
#endif
	if (store) {
		const char *id = !asked && a.reply.success ? a.reply.driver_id : NULL;
		int unknown = asked && a.maybe_delivered;

		if (store_finish(store, claim.row, id, unknown, strmap_get(&x.cr.spark_properties, "spark.app.name"),
				 x.cr.main_class, &e) && id)
			rs->store_failed = 1;   /* logged; the driver runs, only its owner record is missing */
		else if (id)
			out->row = claim.row;
	}
	if (asked == 0) {
		const struct deploy_reply *r = &a.reply;
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r->message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&sv->spark->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, r->driver_id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "unknownFields", RF_STRINGS, NULL, 0, x.cr.unknown_fields.len ? &x.cr.unknown_fields : NULL },
		};

		out->accepted = r->success && r->driver_id;
		snprintf(out->message, sizeof(out->message), "%s", r->message ? r->message : "");
		if (r->driver_id) {
			snprintf(out->id, sizeof(out->id), "%s", r->driver_id);
			status_cache_forget(sv->spark->status_cache, r->driver_id);
			snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", r->driver_id);
		}
		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
out:
	cluster_answer_release(&a);
	exchange_release(&x);
	tenant_sweep(sv->tenant, NULL, 0);   /* now and then: claims of processes that died */
}

/* ---- kill, status, and Spark 4's killall, clear, readyz ----------------------------- */

static int write_kill(void *arg, const struct spark_build *b, struct buf *out)
{
	return deploy_write_kill(out, b, arg);
}

int servlet_kill(struct servlets *sv, const char *id, struct cluster_answer *a, struct response *rs)
{
	if (ask(sv, write_kill, (void *)id, NULL, 0, REPLY_KILL, a, rs))
		return -1;
	status_cache_forget(sv->spark->status_cache, id);
	return 0;
}

/* StandaloneKillRequestServlet.handleKill: POST /v1/submissions/kill/ID. */
static void kill_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	struct cluster_answer a;
	char msg[300];
	int rc = servlet_may_touch(sv, c, rs);

	if (rc == 0) {   /* Master.scala's text for an id it does not know */
		snprintf(msg, sizeof(msg), "Driver %s has already finished or does not exist", c->id);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, msg, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "submissionId", RF_STRING, c->id, 0, NULL },
			{ "success", RF_BOOL, NULL, 0, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	if (rc != 1)
		return;
	cluster_answer_init(&a);
	if (servlet_kill(sv, c->id, &a, rs) == 0) {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, a.reply.message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&sv->spark->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, c->id, 0, NULL },
			{ "success", RF_BOOL, NULL, a.reply.success, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
}

/* StandaloneStatusRequestServlet.handleStatus: GET /v1/submissions/status/ID. */
static void status_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	struct status_record rec;
	int rc = servlet_may_touch(sv, c, rs);

	if (rc == 0) {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&sv->spark->cluster), 0, NULL },
			{ "submissionId", RF_STRING, c->id, 0, NULL },
			{ "success", RF_BOOL, NULL, 0, NULL },
		};

		reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
	}
	if (rc == 1)
		ask_status(sv->spark, c->id, rs, &rec);
}

static int write_object_message(void *arg, const struct spark_build *b, struct buf *out)
{
	return deploy_write_object_message(out, b, *(const enum spark_class *)arg);
}

/* Spark 4's servlets that send one object message: killall, clear, readyz. */
static void object_message(struct servlets *sv, enum spark_class message, struct response *rs)
{
	struct cluster_answer a;
	int kill_all = message == CLS_REQUEST_KILL_ALL_DRIVERS;

	cluster_answer_init(&a);
	if (ask(sv, write_object_message, &message, NULL, message == CLS_REQUEST_READYZ,
		kill_all ? REPLY_KILL_ALL : REPLY_BOOLEAN, &a, rs) == 0) {
		if (message != CLS_REQUEST_READYZ)
			status_cache_forget_all(sv->spark->status_cache);
		if (message == CLS_REQUEST_READYZ && !a.reply.success) {
			reply_problem(sv->spark, rs, PROBLEM_UNAVAILABLE, "Master is not ready.");
		} else {
			const struct rest_field f[] = {
				{ "action", RF_STRING, kill_all ? "KillAllSubmissionResponse"
					: message == CLS_REQUEST_CLEAR ? "ClearResponse" : "ReadyzResponse", 0, NULL },
				{ "message", RF_STRING, kill_all ? a.reply.message : "", 0, NULL },
				{ "serverSparkVersion", RF_STRING, cluster_version_of(&sv->spark->cluster, a.build), 0, NULL },
				{ "success", RF_BOOL, NULL, a.reply.success, NULL },
			};

			reply_answer(sv->spark, rs, f, sizeof(f) / sizeof(f[0]));
		}
	}
	cluster_answer_release(&a);
}

/* StandaloneKillAllRequestServlet.handleKillAll: POST /v1/submissions/killall. */
static void killall_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	(void)c;
	object_message(sv, CLS_REQUEST_KILL_ALL_DRIVERS, rs);
}

/* StandaloneClearRequestServlet.handleClear: POST /v1/submissions/clear. */
static void clear_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	(void)c;
	object_message(sv, CLS_REQUEST_CLEAR, rs);
}

/* StandaloneReadyzRequestServlet.handleReadyz: GET /v1/submissions/readyz. */
static void readyz_servlet(struct servlets *sv, const struct call *c, struct response *rs)
{
	(void)c;
	object_message(sv, CLS_REQUEST_READYZ, rs);
}

/* ---- the table and the dispatcher ---------------------------------------------------- */

typedef void (*servlet_fn)(struct servlets *sv, const struct call *c, struct response *rs);

enum {
	M_GET = 1 << 0,        /* GET and HEAD */
	M_POST = 1 << 1,
};

enum {
	S_EXACT = 1 << 0,      /* the path is the prefix itself, nothing below it */
	S_ID = 1 << 1,         /* takes a submission id: the first segment below the prefix */
	S_SPARK4 = 1 << 2,     /* exists only when the master is a Spark 4 */
	S_ADMINS = 1 << 3,     /* with an owner store, only the admin group */
	S_STORE = 1 << 4,      /* exists only with an owner store (--state-db) */
	S_FILES = 1 << 5,      /* exists only with uploads (--files-dir) */
	S_NO_LOGIN = 1 << 6,   /* answered before anyone is identified (health: the web server
	                        * decides who may reach it; --hosts still applies) */
	S_LIVY = 1 << 7,       /* Livy's API: every error in Livy's shape (reply.c) */
	S_SHARED_FILES = 1 << 8,   /* exists only with uploads kept in a shared store (PostgreSQL) */
};

struct servlet {
	const char *prefix;
	unsigned methods;      /* M_*, or 0: the servlet checks its own */
	const char *allow;     /* the Allow header of a wrong method, as HttpServlet lists them */
	unsigned flags;        /* S_* */
	enum route route;
	const char *name;      /* in "Submission ID is missing in NAME request." */
	servlet_fn handle;
};

static const struct servlet servlet_table[] = {
	/* RestSubmissionServer.contextToServlet (StandaloneRestServer.scala's servlets) */
	{ "/v1/submissions/create", M_POST, "POST, OPTIONS", 0, ROUTE_CREATE, NULL, create_servlet },
	{ "/v1/submissions/kill", M_POST, "POST, OPTIONS", S_ID, ROUTE_KILL, "kill", kill_servlet },
	{ "/v1/submissions/killall", M_POST, "POST, OPTIONS", S_SPARK4 | S_ADMINS, ROUTE_KILLALL, NULL, killall_servlet },
	{ "/v1/submissions/status", M_GET, "GET, HEAD, OPTIONS", S_ID, ROUTE_STATUS, "status", status_servlet },
	{ "/v1/submissions/clear", M_POST, "POST, OPTIONS", S_SPARK4 | S_ADMINS, ROUTE_CLEAR, NULL, clear_servlet },
	{ "/v1/submissions/readyz", M_GET, "GET, HEAD, OPTIONS", S_SPARK4, ROUTE_SPARK_READYZ, NULL, readyz_servlet },
	/* sparkgate's own */
	{ "/v1/submissions/logs", M_GET, "GET, HEAD, OPTIONS", S_ID, ROUTE_LOGS, "logs", logs_handle },
	{ "/v1/submissions", M_GET, "GET, HEAD, OPTIONS", S_EXACT | S_STORE, ROUTE_LIST, NULL, list_handle },
	{ "/v1/submissions/", M_GET, "GET, HEAD, OPTIONS", S_EXACT | S_STORE, ROUTE_LIST, NULL, list_handle },
	{ "/v1/files", 0, NULL, S_FILES, ROUTE_FILES, NULL, files_handle },
	/* Apache Livy's batch API (servlets/livy.c), as Livy serves it at its root */
	{ "/batches", 0, NULL, S_LIVY, ROUTE_BATCHES, NULL, livy_batches_handle },
	{ "/version", M_GET, "GET, HEAD, OPTIONS", S_EXACT | S_LIVY, ROUTE_LIVY_VERSION, NULL, livy_version_handle },
	{ "/healthz", 0, NULL, S_EXACT | S_NO_LOGIN, ROUTE_HEALTHZ, NULL, health_handle },
	{ "/readyz", 0, NULL, S_EXACT | S_NO_LOGIN, ROUTE_READYZ, NULL, health_handle },
	{ "/metrics", 0, NULL, S_EXACT | S_NO_LOGIN, ROUTE_METRICS, NULL, health_handle },
	/* a worker fetching an upload: it cannot log in, the address (256 bits) is the secret */
	{ "/files", 0, NULL, S_NO_LOGIN | S_SHARED_FILES, ROUTE_DOWNLOAD, NULL, files_download },
};

/* The servlet whose prefix claims path (the path info below it in *info), or NULL. */
static const struct servlet *servlet_find(const char *path, const char **info)
{
	for (size_t i = 0; i < sizeof(servlet_table) / sizeof(servlet_table[0]); i++) {
		const struct servlet *s = &servlet_table[i];

		if (s->flags & S_EXACT ? strcmp(path, s->prefix) == 0 : servlet_path_match(path, s->prefix, info)) {
			if (s->flags & S_EXACT)
				*info = NULL;
			return s;
		}
	}
	return NULL;
}

/* Whether a servlet exists in this configuration (Spark 4 only, a store, uploads): one that
 * does not is the ErrorServlet's, as in Spark. */
static int servlet_exists(struct servlets *sv, const struct servlet *s)
{
	return !((s->flags & S_STORE && !sv->tenant->store) || (s->flags & S_FILES && !sv->files.dir)
		 || (s->flags & S_SHARED_FILES && !(sv->files.dir && sv->files.shared))
		 || (s->flags & S_SPARK4 && !spark_build_is_spark4(answer_build(sv->spark))));
}

static int method_allowed(const struct servlet *s, const char *method)
{
	return !s->methods || (s->methods & M_GET && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
	       || (s->methods & M_POST && strcmp(method, "POST") == 0);
}

static int changes_something(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

void servlets_handle(struct servlets *sv, const struct request *rq, struct response *rs)
{
	struct tenant *t = sv->tenant;
	const char *info = NULL;
	const struct servlet *s = servlet_find(rq->path, &info);
	struct identity who;
	struct call c = { .rq = rq, .info = info };
	char id[128];

	rs->route = s ? s->route : ROUTE_OTHER;
	rs->livy = s && s->flags & S_LIVY;
	if (t->hosts && !tenant_host_served(t->hosts, rq->host)) {
		/* before anything else, health paths included: a page whose name rebinds to this
		 * machine must not reach even them (--hosts) */
		reply_refuse(sv->spark, rs, REFUSAL_HOSTS, "hosts", "The Host header names a host sparkgate does not serve "
			     "(--hosts); use one of the names it is configured for.");
		return;
	}
	if (s && s->flags & S_NO_LOGIN && servlet_exists(sv, s)) {
		s->handle(sv, &c, rs);
		return;
	}
	if (tenant_identify(t, rq, &who)) {
		reply_refuse(sv->spark, rs, who.refused, who.refused == REFUSAL_BAD_TOKEN ? "bearer token" : NULL, who.why);
		return;
	}
	str_copy(rs->user, sizeof(rs->user), who.user);
	c.user = who.user[0] ? who.user : "-";   /* anonymous requests (--anonymous allow) share one owner */
	c.admin = who.admin;
	if (!who.user[0] && !sv->allow_anonymous) {
		/* The web server should have refused this already (its config requires a login);
		 * a server that lets it through is misconfigured, and must not open the API. */
		reply_refuse(sv->spark, rs, REFUSAL_NO_USER, NULL, "No authenticated user: the web server in front of "
			     "sparkgate must authenticate every request (REMOTE_USER), or sparkgate must run with "
			     "--anonymous allow.");
	} else if (changes_something(rq->method) && tenant_forged(t, rq)) {
		reply_refuse(sv->spark, rs, REFUSAL_CSRF, t->csrf == CSRF_HEADER ? "csrf header" : "csrf origin",
			     t->csrf == CSRF_HEADER
			     ? "Requests that change something must carry an X-Requested-By header (cross-site request "
			       "forgery protection)."
			     : "A browser request from another site must carry an X-Requested-By header (cross-site "
			       "request forgery protection).");
	} else if (rq->body_too_large) {
		reply_problem(sv->spark, rs, PROBLEM_TOO_LARGE, "Request body of %zu bytes exceeds sparkgate's limit of %zu "
			      "bytes.", rq->body_declared, sv->max_body);
	} else if (!s || !servlet_exists(sv, s)) {
		rs->route = ROUTE_OTHER;
		error_servlet(sv, rq->path, rs);
	} else if (!method_allowed(s, rq->method)) {
		reply_wrong_method(sv->spark, rq, rs, s->allow);
	} else if (s->flags & S_ID && !submission_id(info, id, sizeof(id))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "Submission ID is missing in %s request.", s->name);
	} else if (s->flags & S_ADMINS && t->store && !c.admin) {
		/* killall and clear act on every user's drivers */
		reply_refuse(sv->spark, rs, REFUSAL_ADMINS_ONLY, "admins only", "Only members of the admin group may "
			     "kill or clear every driver.");
	} else {
		if (s->flags & S_ID) {
			c.id = id;
			str_copy(rs->submission_id, sizeof(rs->submission_id), id);
		}
		s->handle(sv, &c, rs);
	}
}
