#include "servlets/route.h"

#include <jansson.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spark/cluster.h"
#include "spark/deploy.h"
#include "tenant/jws.h"
#include "base/limits.h"
#include "servlets/files.h"
#include "servlets/health.h"
#include "servlets/logs.h"
#include "spark/rest.h"
#include "servlets/servlet.h"
#include "spark/submit.h"
#include "tenant/tenant.h"

#define SUBMIT_HINT " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define ACTIONS_35 "Missing an action: please specify one of /create, /kill, or /status."
#define ACTIONS_40 "Missing an action: please specify one of /create, /kill, /killall, /clear, /status, or /readyz."

void response_init(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->cache = NULL;
	rs->content_type = NULL;
	rs->header[0] = '\0';
	rs->hidden = rs->replayed = rs->store_failed = rs->note_error = 0;
	rs->rule[0] = rs->submission_id[0] = rs->user[0] = rs->note[0] = '\0';
	buf_init(&rs->body, LIMIT_RESPONSE_BODY);
}

void response_reset(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->cache = NULL;
	rs->content_type = NULL;
	rs->header[0] = '\0';
	rs->hidden = rs->replayed = rs->store_failed = rs->note_error = 0;
	rs->rule[0] = rs->submission_id[0] = rs->user[0] = rs->note[0] = '\0';
	buf_reset(&rs->body);
}

void response_release(struct response *rs)
{
	buf_release(&rs->body);
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 468: return "Unknown Protocol Version";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

/* The build whose texts and version an answer uses: the connected master's if it can be
 * had, else the last one seen (or the pinned one). */
static const struct spark_build *answer_build(struct gateway *g)
{
	const struct spark_build *b;
	struct sg_err e = { 0 };

	return cluster_build(&g->cluster, g->deadline, &b, &e) == 0 ? b : cluster_known_build(&g->cluster);
}

/* The HTTP status for an error code: whose fault it is.  The master or the state database
 * is unreachable or slow (503, 504), sparkgate itself failed (500), or what came back could
 * not be used (502). */
int servlet_error_status(int code)
{
	switch (code) {
	case ERR_TIMEOUT: return 504;
	case ERR_IO: return 503;
	case ERR_NOMEM: return 500;
	default: return 502;
	}
}

void servlet_error(struct gateway *g, struct response *rs, int status, const char *message)
{
	rs->status = status;
	buf_reset(&rs->body);
	rest_print_error(&rs->body, message, cluster_version(&g->cluster), status == 468);
}

/* Prints an answer; if that fails (out of memory), a 500 that still names the submission
 * the request concerns (set rs->submission_id first), so an accepted create is not taken
 * for a refused one. */
void servlet_answer(struct gateway *g, struct response *rs, const struct rest_field *f, size_t n)
{
	char msg[300];

	if (rest_print(&rs->body, f, n) == 0)
		return;
	snprintf(msg, sizeof(msg), "sparkgate ran out of memory writing the answer%s%s.",
		 rs->submission_id[0] ? " about " : "", rs->submission_id);
	servlet_error(g, rs, 500, msg);
}

/* ErrorServlet.service (RestSubmissionServer.scala): explains what is wrong with a path
 * no servlet claimed, whatever the method. */
static void error_servlet(struct gateway *g, const char *path, struct response *rs)
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
			 spark_build_is_spark4(answer_build(g)) ? ACTIONS_40 : ACTIONS_35);
	else {
		snprintf(msg, sizeof(msg), "Unknown protocol version '%s'." SUBMIT_HINT, parts[0]);
		mismatch = 1;
	}
	servlet_error(g, rs, mismatch ? 468 : 400, msg);
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

/* The master's answer could not be had or used: say so in Spark's shape, with a status a
 * client will not mistake for "the master refused".  A create that may have reached the
 * master is never reported as failed: its outcome is unknown, whatever went wrong after. */
static void master_unavailable(struct gateway *g, struct response *rs, int maybe_delivered,
			       const struct sg_err *e, int is_create)
{
	char msg[1200];

	if (maybe_delivered && is_create && g->store)   /* its token settles it (tenant_claim) */
		snprintf(msg, sizeof(msg), "The outcome of this submission is unknown: %s. The master may "
			 "have accepted it; send it again with the same idempotency key (sparkgate finds it at the "
			 "master and answers with its id, or sends it once) or see GET /v1/submissions.", e->msg);
	else if (maybe_delivered && is_create)
		snprintf(msg, sizeof(msg), "The outcome of this submission is unknown: %s. The master may "
			 "have accepted it; do not resubmit before checking the master's drivers.", e->msg);
	else if (e->code == ERR_IO || e->code == ERR_TIMEOUT)
		snprintf(msg, sizeof(msg), "Unable to reach the Spark master: %s", e->msg);
	else if (e->code == ERR_UNSUPPORTED || e->code == ERR_REMOTE)
		snprintf(msg, sizeof(msg), "%s", e->msg);   /* unknown build; authentication refused */
	else if (e->code == ERR_NOMEM)
		snprintf(msg, sizeof(msg), "sparkgate ran out of memory: %s", e->msg);
	else
		snprintf(msg, sizeof(msg), "Unreadable reply from the Spark master: %s", e->msg);
	servlet_error(g, rs, servlet_error_status(e->code), msg);
}

/* An RpcFailure: the master could not take the message at all. */
static void master_refused(struct gateway *g, struct response *rs, const struct spark_build *b,
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
	servlet_error(g, rs, 502, msg);
}

/* One request to the master: what to send, and where a create's own errors go. */
struct exchange {
	struct gateway *g;
	enum spark_class message;        /* CLS_REQUEST_* */
	const char *driver_id;           /* kill, status */
	const struct request *rq;        /* create */
	struct create_request cr;
	struct rest_error err;
	char rule[400];                  /* the policy rule that refused the create, or "" */
	const char *token;               /* create: the claim's submission token, or NULL */
};

static void exchange_init(struct exchange *x, struct gateway *g, enum spark_class message)
{
	memset(x, 0, sizeof(*x));
	x->g = g;
	x->message = message;
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
	const struct policy *p = &x->g->policy;
	struct submit_config cfg = { x->g->master_url, b, p->rules ? p->placeholders : x->g->placeholder_names,
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
	if (!rc && (rc = policy_check_driver(p, d, b, x->g->master_url, use, x->rule, sizeof(x->rule))) != 0) {
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

/* The answer for a create prepare_driver refused: Spark's error text, or the policy's
 * rule (kept for the audit line). */
static void answer_prepare_error(struct exchange *x, struct response *rs)
{
	if (x->rule[0])
		snprintf(rs->rule, sizeof(rs->rule), "%s", x->rule);
	servlet_error(x->g, rs, x->err.status, x->err.status == 500 ? "out of memory" : buf_str(&x->err.message));
}

/* cluster_write_fn: the request for build b.  A create is prepared again if the master
 * turns out to be another build. */
static int write_request(void *arg, const struct spark_build *b, struct buf *out)
{
	struct exchange *x = arg;
	struct driver_desc d;
	int rc;

	switch (x->message) {
	case CLS_REQUEST_KILL_DRIVER:
		return deploy_write_kill(out, b, x->driver_id);
	case CLS_REQUEST_DRIVER_STATUS:
		return deploy_write_status(out, b, x->driver_id);
	case CLS_REQUEST_SUBMIT_DRIVER:
		break;
	default:
		return deploy_write_object_message(out, b, x->message);
	}
	driver_desc_init(&d);
	rc = prepare_driver(x, b, &d, NULL);
	if (!rc && (rc = deploy_write_submit(out, b, &d)) != 0)
		rc = rc == ERR_TOO_LARGE ? rest_fail(&x->err, 413, "The submission is too large to send to the master.")
					 : rest_fail(&x->err, 500, "out of memory");
	driver_desc_release(&d);
	return rc;
}

/* Asks the master; returns 0 with the reply in a (of kind k), or -1 after writing the
 * error response. */
static int ask(struct exchange *x, struct response *rs, int idempotent, enum deploy_reply_kind k,
	       struct cluster_answer *a)
{
	struct gateway *g = x->g;
	struct sg_err e = { 0 };
	int rc = cluster_ask(&g->cluster, g->deadline, write_request, x, idempotent, a, &e);

	if (rc == CLUSTER_WRITE_FAILED && x->err.status) {
		answer_prepare_error(x, rs);
	} else if (rc == CLUSTER_WRITE_FAILED) {
		servlet_error(g, rs, 500, "sparkgate could not write the request for the master.");
	} else if (rc) {
		if (!e.code)
			sg_err_set(&e, rc, 0, "%s", sg_err_name(rc));
		master_unavailable(g, rs, a->maybe_delivered, &e, x->message == CLS_REQUEST_SUBMIT_DRIVER);
	} else if (a->failed) {
		master_refused(g, rs, a->build, buf_str(&a->failure), a->failure.len);
	} else if (a->reply.kind != k) {
		servlet_error(g, rs, 502, "Unexpected reply from the Spark master.");
	} else {
		return 0;
	}
	return -1;
}

/* A status request whose failure is not the caller's answer: 0 with the reply in a (the
 * caller's, initialised and released by it), or the HTTP status it would have had. */
/* The master's status answer for id into rs, and *rec from it. */
static int ask_status(struct gateway *g, const char *id, struct response *rs, struct status_record *rec)
{
	struct exchange x;
	struct cluster_answer a;
	struct buf message = BUF_INIT(LIMIT_THROWABLE_TEXT + 64);
	int rc, fits = 1;

	exchange_init(&x, g, CLS_REQUEST_DRIVER_STATUS);
	x.driver_id = id;
	cluster_answer_init(&a);
	rc = ask(&x, rs, 1, REPLY_STATUS, &a);
	if (rc == 0) {
		const struct deploy_reply *r = &a.reply;

		if (r->exception)
			buf_printf(&message, "Exception from the cluster:\n%s", r->exception);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
			{ "driverState", RF_STRING, driver_state_name(r->state), 0, NULL },
			{ "message", RF_STRING, r->exception ? buf_str(&message) : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&g->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "workerHostPort", RF_STRING, r->worker_host_port, 0, NULL },
			{ "workerId", RF_STRING, r->worker_id, 0, NULL },
		};

		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
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
	exchange_release(&x);
	buf_release(&message);
	return rc ? rc : fits ? 0 : -1;
}

int servlet_master_ready(struct gateway *g, char *why, size_t size)
{
	struct exchange x;
	struct cluster_answer a;
	struct response scratch;
	int rc;

	response_init(&scratch);
	exchange_init(&x, g, CLS_REQUEST_DRIVER_STATUS);
	x.driver_id = "driver-00000000000000-0000";   /* no master ever names a driver so */
	cluster_answer_init(&a);
	rc = ask(&x, &scratch, 1, REPLY_STATUS, &a);
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
		snprintf(why, size, "the Spark master at %s is ALIVE (Spark %s)", g->master_url,
			 cluster_version_of(&g->cluster, a.build));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
	response_release(&scratch);
	return rc;
}

int servlet_status(struct gateway *g, const char *id, struct response *rs, struct status_record *rec)
{
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->state = -1;
	switch (status_cache_get(g->status_cache, id, g->deadline, rec, &rs->body)) {
	case STATUS_HIT:
		rs->status = rec->http_status;
		rs->cache = "hit";
		return 0;
	case STATUS_ASK:
		rs->cache = "ask";
		rc = ask_status(g, id, rs, rec);
		if (rc > 0)
			status_cache_abandon(g->status_cache, id);
		else
			status_cache_put(g->status_cache, id, rc ? NULL : rec, (const char *)rs->body.data, rs->body.len);
		return rc > 0 ? rc : 0;
	default:
		rc = ask_status(g, id, rs, rec);
		return rc > 0 ? rc : 0;
	}
}

/* Before anything is claimed or sent: the driver this create becomes for the master's
 * build (detected first: the policy judges what that build will run), judged by the
 * policy, and its cores and memory for quotas.  A master that cannot be reached leaves
 * nothing to judge: the create is answered here and nothing is sent.  The same driver is
 * prepared and judged again when the bytes for the master are written.  1: answered. */
static int refused_before_sending(struct gateway *g, struct exchange *x, struct response *rs, int *cores,
				  int *memory_mb)
{
	const struct spark_build *b;
	struct driver_desc d;
	struct policy_usage use = { 0, 0 };
	struct sg_err e = { 0 };
	int refused = 0;

	*cores = *memory_mb = 0;
	if (!g->policy.rules && !g->store)
		return 0;
	if (cluster_build(&g->cluster, g->deadline, &b, &e)) {
		master_unavailable(g, rs, 0, &e, 1);
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

static void handle_create(struct gateway *g, const struct request *rq, const char *owner, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	struct store_claim claim;
	char key_prop[IDEMPOTENCY_KEY_MAX + 2];
	int prop_too_long = 0;
	/* keys mean something only with a store; without one Spark's rules alone apply */
	const char *key = !g->store ? NULL : rq->idempotency_key && *rq->idempotency_key ? rq->idempotency_key
		: rest_peek_property(rq->body, rq->body_len, IDEMPOTENCY_PROPERTY, key_prop, sizeof(key_prop),
				     &prop_too_long);
	int cores, memory_mb;

	/* a key cut short could match another request's: refuse rather than guess */
	if ((key && strlen(key) > IDEMPOTENCY_KEY_MAX) || prop_too_long) {
		servlet_error(g, rs, 400, "The idempotency key is longer than 1000 bytes.");
		return;
	}
	exchange_init(&x, g, CLS_REQUEST_SUBMIT_DRIVER);
	x.rq = rq;
	cluster_answer_init(&a);
	if (refused_before_sending(g, &x, rs, &cores, &memory_mb))
		goto out;
	if (g->store) {
		/* Claimed before the master is asked, with the token the driver will carry: the
		 * owner is on record even if this process dies right after the master accepted
		 * the driver, and the master's drivers tell what became of it. */
		if (tenant_claim(g, owner, key, cores, memory_mb, &claim, rs))
			goto out;
		x.token = claim.token;
		if (tenant_refused_by_quota(g, owner, rs)) {
			if (store_finish(g->store, claim.row, NULL, 0, NULL, NULL, &e))
				rs->store_failed = 1;
			goto out;
		}
	}
	int asked = ask(&x, rs, 0, REPLY_SUBMIT, &a);

#ifdef SPARKGATE_FAULTS
	fault_after_create(asked);
#endif
	if (g->store) {
		const char *id = !asked && a.reply.success ? a.reply.driver_id : NULL;
		int unknown = asked && a.maybe_delivered;

		if (store_finish(g->store, claim.row, id, unknown, strmap_get(&x.cr.spark_properties, "spark.app.name"),
				 x.cr.main_class, &e) && id)
			rs->store_failed = 1;   /* logged; the driver runs, only its owner record is missing */
	}
	if (asked == 0) {
		const struct deploy_reply *r = &a.reply;
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r->message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&g->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, r->driver_id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "unknownFields", RF_STRINGS, NULL, 0, x.cr.unknown_fields.len ? &x.cr.unknown_fields : NULL },
		};

		if (r->driver_id) {
			status_cache_forget(g->status_cache, r->driver_id);
			snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", r->driver_id);
		}
		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
out:
	cluster_answer_release(&a);
	exchange_release(&x);
	tenant_sweep(g, NULL, 0);   /* now and then: claims of processes that died */
}

static void kill_not_found(struct gateway *g, const char *id, struct response *rs)
{
	char msg[300];

	/* Master.scala's text for an id it does not know */
	snprintf(msg, sizeof(msg), "Driver %s has already finished or does not exist", id);
	const struct rest_field f[] = {
		{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
		{ "message", RF_STRING, msg, 0, NULL },
		{ "serverSparkVersion", RF_STRING, cluster_version(&g->cluster), 0, NULL },
		{ "submissionId", RF_STRING, id, 0, NULL },
		{ "success", RF_BOOL, NULL, 0, NULL },
	};

	servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
}

static void status_not_found(struct gateway *g, const char *id, struct response *rs)
{
	const struct rest_field f[] = {
		{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
		{ "serverSparkVersion", RF_STRING, cluster_version(&g->cluster), 0, NULL },
		{ "submissionId", RF_STRING, id, 0, NULL },
		{ "success", RF_BOOL, NULL, 0, NULL },
	};

	servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
}

static void handle_kill(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (!tenant_may_touch(g, id, user, admin, rs)) {
		if (rs->hidden)
			kill_not_found(g, id, rs);
		return;
	}
	exchange_init(&x, g, CLS_REQUEST_KILL_DRIVER);
	x.driver_id = id;
	cluster_answer_init(&a);
	if (ask(&x, rs, 0, REPLY_KILL, &a) == 0) {
		status_cache_forget(g->status_cache, id);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, a.reply.message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version_of(&g->cluster, a.build), 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, a.reply.success, NULL },
		};

		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
}

static void handle_status(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	struct status_record rec;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (!tenant_may_touch(g, id, user, admin, rs)) {
		if (rs->hidden)
			status_not_found(g, id, rs);
		return;
	}
	servlet_status(g, id, rs, &rec);
}

static void handle_object_message(struct gateway *g, enum spark_class message, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	int kill_all = message == CLS_REQUEST_KILL_ALL_DRIVERS;

	exchange_init(&x, g, message);
	cluster_answer_init(&a);
	if (ask(&x, rs, message == CLS_REQUEST_READYZ, kill_all ? REPLY_KILL_ALL : REPLY_BOOLEAN, &a) == 0) {
		if (message != CLS_REQUEST_READYZ)
			status_cache_forget_all(g->status_cache);
		if (message == CLS_REQUEST_READYZ && !a.reply.success) {
			servlet_error(g, rs, 503, "Master is not ready.");
		} else {
			const struct rest_field f[] = {
				{ "action", RF_STRING, kill_all ? "KillAllSubmissionResponse"
					: message == CLS_REQUEST_CLEAR ? "ClearResponse" : "ReadyzResponse", 0, NULL },
				{ "message", RF_STRING, kill_all ? a.reply.message : "", 0, NULL },
				{ "serverSparkVersion", RF_STRING, cluster_version_of(&g->cluster, a.build), 0, NULL },
				{ "success", RF_BOOL, NULL, a.reply.success, NULL },
			};

			servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
		}
	}
	cluster_answer_release(&a);
	exchange_release(&x);
}

/* HttpServlet's answer to a method the servlet does not implement. */
static void wrong_method(struct gateway *g, const struct request *rq, struct response *rs, const char *allow)
{
	char msg[128];
	int http10 = rq->protocol && strcmp(rq->protocol, "HTTP/1.0") == 0;

	snprintf(msg, sizeof(msg), "HTTP method %s is not supported by this URL", rq->method);
	servlet_error(g, rs, http10 ? 400 : 405, msg);
	rs->allow = allow;
}

/* Spark 4's extra servlets exist only when the master is a Spark 4. */
static int spark4_path(struct gateway *g, const char *path, const char **info, enum spark_class *message)
{
	static const struct { const char *prefix; enum spark_class message; } paths[] = {
		{ "/v1/submissions/killall", CLS_REQUEST_KILL_ALL_DRIVERS },
		{ "/v1/submissions/clear", CLS_REQUEST_CLEAR },
		{ "/v1/submissions/readyz", CLS_REQUEST_READYZ },
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (servlet_path_match(path, paths[i].prefix, info)) {
			*message = paths[i].message;
			return spark_build_is_spark4(answer_build(g));
		}
	}
	return 0;
}

void servlets_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	const char *info;
	enum spark_class message;
	char id[128];
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;
	const char *who;

	if (g->hosts && !tenant_host_served(g->hosts, rq->host)) {
		/* before anything else, health paths included: a page whose name rebinds to this
		 * machine must not reach even them (--hosts) */
		snprintf(rs->rule, sizeof(rs->rule), "hosts");
		servlet_error(g, rs, 400, "The Host header names a host sparkgate does not serve (--hosts); use one "
			      "of the names it is configured for.");
		return;
	}
	if (health_path(rq->path)) {   /* for load balancers and monitoring: no login */
		health_handle(g, rq, rs);
		return;
	}
	who = tenant_identify(g, rq, rs);
	/* Anonymous requests (--anonymous allow) share one owner. */
	const char *user = who ? who : "-";
	int admin = who && policy_is_admin(&g->policy, who);

	if (rs->status == 403) {
		/* a bearer token that did not verify: answered by tenant_identify() */
	} else if (!who && !g->allow_anonymous) {
		/* The web server should have refused this already (its config requires a login);
		 * a server that lets it through is misconfigured, and must not open the API. */
		servlet_error(g, rs, 403, "No authenticated user: the web server in front of sparkgate must "
			      "authenticate every request (REMOTE_USER), or sparkgate must run with --anonymous allow.");
	} else if ((post || strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "DELETE") == 0) && tenant_forged(g, rq)) {
		snprintf(rs->rule, sizeof(rs->rule), "csrf %s", g->csrf == CSRF_HEADER ? "header" : "origin");
		servlet_error(g, rs, 403, g->csrf == CSRF_HEADER
			      ? "Requests that change something must carry an X-Requested-By header (cross-site request "
				"forgery protection)."
			      : "A browser request from another site must carry an X-Requested-By header (cross-site "
				"request forgery protection).");
	} else if (rq->body_too_large) {
		char msg[200];

		snprintf(msg, sizeof(msg), "Request body of %zu bytes exceeds sparkgate's limit of %zu bytes.",
			 rq->body_declared, g->max_body);
		servlet_error(g, rs, 413, msg);
	} else if (servlet_path_match(rq->path, "/v1/submissions/create", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else
			handle_create(g, rq, user, rs);
	} else if (servlet_path_match(rq->path, "/v1/submissions/kill", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			servlet_error(g, rs, 400, "Submission ID is missing in kill request.");
		else
			handle_kill(g, id, user, admin, rs);
	} else if (servlet_path_match(rq->path, "/v1/submissions/status", &info)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			servlet_error(g, rs, 400, "Submission ID is missing in status request.");
		else
			handle_status(g, id, user, admin, rs);
	} else if (servlet_path_match(rq->path, "/v1/submissions/logs", &info)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			servlet_error(g, rs, 400, "Submission ID is missing in logs request.");
		else
			logs_handle(g, rq, id, user, admin, rs);
	} else if (g->files.dir && servlet_path_match(rq->path, "/v1/files", &info)) {   /* off: Spark's own answer */
		files_handle(g, rq, user, admin, rs);
	} else if (spark4_path(g, rq->path, &info, &message)) {
		if (message == CLS_REQUEST_READYZ ? !get : !post) {
			wrong_method(g, rq, rs, message == CLS_REQUEST_READYZ ? "GET, HEAD, OPTIONS" : "POST, OPTIONS");
		} else if (g->store && message != CLS_REQUEST_READYZ && !admin) {
			/* killall and clear act on every user's drivers */
			snprintf(rs->rule, sizeof(rs->rule), "admins only");
			servlet_error(g, rs, 403, "Only members of the admin group may kill or clear every driver.");
		} else {
			handle_object_message(g, message, rs);
		}
	} else if (g->store && (strcmp(rq->path, "/v1/submissions") == 0 || strcmp(rq->path, "/v1/submissions/") == 0)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else
			tenant_list(g, user, admin, rs);
	} else {
		error_servlet(g, rq->path, rs);
	}
}
