#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "deploy.h"
#include "jws.h"
#include "limits.h"
#include "rest.h"
#include "submit.h"

#define SUBMIT_HINT " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define ACTIONS_35 "Missing an action: please specify one of /create, /kill, or /status."
#define ACTIONS_40 "Missing an action: please specify one of /create, /kill, /killall, /clear, /status, or /readyz."

void response_init(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->hidden = rs->replayed = rs->store_failed = 0;
	rs->rule[0] = rs->submission_id[0] = rs->user[0] = '\0';
	buf_init(&rs->body, LIMIT_RESPONSE_BODY);
}

void response_reset(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->hidden = rs->replayed = rs->store_failed = 0;
	rs->rule[0] = rs->submission_id[0] = rs->user[0] = '\0';
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
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 468: return "Unknown Protocol Version";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
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
static int error_status(int code)
{
	switch (code) {
	case ERR_TIMEOUT: return 504;
	case ERR_IO: return 503;
	case ERR_NOMEM: return 500;
	default: return 502;
	}
}

static void send_error(struct gateway *g, struct response *rs, int status, const char *message)
{
	rs->status = status;
	buf_reset(&rs->body);
	rest_print_error(&rs->body, message, cluster_known_build(&g->cluster)->spark_version, status == 468);
}

/* Prints an answer; if that fails (out of memory), a 500 that still names the submission
 * the request concerns (set rs->submission_id first), so an accepted create is not taken
 * for a refused one. */
static void answer(struct gateway *g, struct response *rs, const struct rest_field *f, size_t n)
{
	char msg[300];

	if (rest_print(&rs->body, f, n) == 0)
		return;
	snprintf(msg, sizeof(msg), "sparkgate ran out of memory writing the answer%s%s.",
		 rs->submission_id[0] ? " about " : "", rs->submission_id);
	send_error(g, rs, 500, msg);
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
	send_error(g, rs, mismatch ? 468 : 400, msg);
}

/* Servlet prefix mapping "/v1/submissions/NAME/ *" (sic): matches the prefix itself and anything
 * below it; *info gets the rest (NULL for an exact match). */
static int match(const char *path, const char *prefix, const char **info)
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

	if (maybe_delivered && is_create)
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
	send_error(g, rs, error_status(e->code), msg);
}

/* An RpcFailure: the master could not take the message at all. */
static void master_refused(struct gateway *g, struct response *rs, const struct spark_build *b,
			   const char *text, size_t len)
{
	char msg[1200];
	int n = (int)(memchr(text, '\n', len) ? (const char *)memchr(text, '\n', len) - text : (long)len);

	if (memmem(text, len, "InvalidClassException", 21) || memmem(text, len, "ClassNotFoundException", 22))
		snprintf(msg, sizeof(msg), "The Spark master runs a build sparkgate was not set up for "
			 "(sparkgate spoke Spark %s, Scala %s): %.*s", b->spark_version, b->scala_version, n, text);
	else if (memmem(text, len, "Expected SaslMessage", 20))
		snprintf(msg, sizeof(msg), "The Spark master requires authentication "
			 "(spark.authenticate=true): give sparkgate its secret with --secret-file.");
	else
		snprintf(msg, sizeof(msg), "The Spark master rejected the request: %.*s", n, text);
	send_error(g, rs, 502, msg);
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
static int prepare_driver(struct exchange *x, const struct spark_build *b, struct driver_desc *d)
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
	rc = rest_parse_create(x->rq->body, x->rq->body_len, spark_build_is_spark4(b), &x->cr, &x->err)
	     || submit_build_driver(&x->cr, &cfg, d, &x->err) ? -1 : 0;
	if (!rc && (rc = policy_check_driver(p, d, b, x->g->master_url, x->rule, sizeof(x->rule))) != 0) {
		if (rc > 0)
			rest_fail(&x->err, 403, "%s", x->rule);
		else
			rest_fail(&x->err, 500, "out of memory");
		rc = -1;
	}
	return rc;
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
	rc = prepare_driver(x, b, &d);
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
		if (x->rule[0])
			snprintf(rs->rule, sizeof(rs->rule), "%s", x->rule);
		send_error(g, rs, x->err.status, x->err.status == 500 ? "out of memory" : buf_str(&x->err.message));
	} else if (rc == CLUSTER_WRITE_FAILED) {
		send_error(g, rs, 500, "sparkgate could not write the request for the master.");
	} else if (rc) {
		if (!e.code)
			sg_err_set(&e, rc, 0, "%s", sg_err_name(rc));
		master_unavailable(g, rs, a->maybe_delivered, &e, x->message == CLS_REQUEST_SUBMIT_DRIVER);
	} else if (a->failed) {
		master_refused(g, rs, a->build, buf_str(&a->failure), a->failure.len);
	} else if (a->reply.kind != k) {
		send_error(g, rs, 502, "Unexpected reply from the Spark master.");
	} else {
		return 0;
	}
	return -1;
}

static int64_t wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The property that carries an idempotency key for clients that cannot set headers
 * (spark-submit --conf; it must start with "spark." to be sent at all). */
#define IDEMPOTENCY_PROPERTY "spark.sparkgate.idempotencyKey"
#define IDEMPOTENCY_KEY_MAX 1000

/* An earlier create with the same key: its outcome, without asking the master again. */
static int replay_claim(struct gateway *g, struct response *rs, enum claim_result claim, const char *id)
{
	const char *version = cluster_known_build(&g->cluster)->spark_version;
	char msg[300];

	if (claim == CLAIM_DONE) {
		snprintf(msg, sizeof(msg), "Driver successfully submitted as %s", id);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, msg, 0, NULL },
			{ "serverSparkVersion", RF_STRING, version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
		};

		snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
		rs->replayed = 1;
		answer(g, rs, f, sizeof(f) / sizeof(f[0]));
		return 0;
	}
	if (claim == CLAIM_IN_FLIGHT) {
		send_error(g, rs, 409, "A create with this idempotency key is being submitted right now; "
			   "ask again in a moment.");
		return 0;
	}
	send_error(g, rs, 503, "The outcome of an earlier create with this idempotency key is unknown: the "
		   "master may have accepted it. sparkgate will not submit it again; check the master's drivers.");
	return 0;
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
	if (prepare_driver(x, b, &d)) {
		if (x->rule[0])
			snprintf(rs->rule, sizeof(rs->rule), "%s", x->rule);
		send_error(g, rs, x->err.status, x->err.status == 500 ? "out of memory" : buf_str(&x->err.message));
		refused = 1;
	}
	*cores = d.cores;
	*memory_mb = d.mem_mb;
	driver_desc_release(&d);
	return refused;
}

/* A driver's state at the master now: a DriverState, DRIVER_GONE when the master does not
 * know it (finished and forgotten), or -1 when the master could not be asked. */
#define DRIVER_GONE (-2)

/* A status request whose failure is not the caller's answer: 0 with the reply in a (the
 * caller's, initialised and released by it), or the HTTP status it would have had. */
static int ask_status_quietly(struct gateway *g, const char *id, struct cluster_answer *a)
{
	struct exchange x;
	struct response scratch;
	int status;

	response_init(&scratch);
	exchange_init(&x, g, CLS_REQUEST_DRIVER_STATUS);
	x.driver_id = id;
	status = ask(&x, &scratch, 1, REPLY_STATUS, a) == 0 ? 0 : scratch.status;
	exchange_release(&x);
	response_release(&scratch);
	return status;
}

static int driver_state_now(struct gateway *g, const char *id)
{
	struct cluster_answer a;
	int state = -1;

	cluster_answer_init(&a);
	if (ask_status_quietly(g, id, &a) == 0)
		state = a.reply.success ? a.reply.state : DRIVER_GONE;
	cluster_answer_release(&a);
	return state;
}

static int is_final(int state)
{
	const char *name = driver_state_name(state);

	return state == DRIVER_GONE || (name && (strcmp(name, "FINISHED") == 0 || strcmp(name, "KILLED") == 0
						 || strcmp(name, "FAILED") == 0 || strcmp(name, "ERROR") == 0));
}

#define QUOTA_MAX_DRIVERS 1000

/* What owner's running drivers hold (drivers, cores, MiB) added to *usage; drivers the
 * master reports finished are marked so and no longer asked about. */
static int add_usage(struct gateway *g, const char *owner, long usage[3], struct sg_err *e)
{
	struct store_usage *rows = calloc(QUOTA_MAX_DRIVERS, sizeof(*rows));
	size_t n = 0;
	int rc;

	if (!rows)
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	rc = store_active(g->store, owner, wall_ms(), 2 * (int64_t)g->cluster.master.timeout_ms, QUOTA_MAX_DRIVERS,
			  rows, &n, e);
	for (size_t i = 0; i < n && !rc; i++) {
		/* an unreachable master counts the driver as running: quotas fail closed */
		if (rows[i].id[0] && is_final(driver_state_now(g, rows[i].id))) {
			rc = store_mark_finished(g->store, rows[i].id, e);
			continue;
		}
		usage[0]++;
		usage[1] += rows[i].cores;
		usage[2] += rows[i].memory_mb;
	}
	free(rows);
	return rc;
}

/* Quotas of user (its own line or "quota user *") and of every group it is in, counted
 * after the new create claimed its row, so it is in the usage (and so are creates other
 * processes are sending right now). */
static int refused_by_quota(struct gateway *g, const char *user, struct response *rs)
{
	const struct policy *p = &g->policy;
	const struct policy_quota *mine = policy_user_quota(p, user);
	struct sg_err e = { 0 };

	if (!g->store)
		return 0;
	for (size_t i = 0; i <= p->nquotas; i++) {
		const struct policy_quota *q = i < p->nquotas ? &p->quotas[i] : mine;
		long usage[3] = { 0, 0, 0 };
		const long limit[3] = { q ? q->drivers : -1, q ? q->cores : -1, q ? q->memory_mb : -1 };
		static const char *const what[3] = { "drivers", "cores", "MiB of driver memory" };
		int rc = 0;

		if (!q || (i < p->nquotas && (!q->group || !policy_in_group(p, user, q->name))))
			continue;
		if (q->group) {
			for (size_t k = 0; k < p->ngroups && !rc; k++)
				for (size_t m = 0; strcmp(p->groups[k].name, q->name) == 0 && m < p->groups[k].members.len
						   && !rc; m++)
					rc = add_usage(g, p->groups[k].members.items[m], usage, &e);
		} else {
			rc = add_usage(g, user, usage, &e);
		}
		if (rc) {
			send_error(g, rs, error_status(e.code), e.msg);
			return 1;
		}
		for (int k = 0; k < 3; k++) {
			if (limit[k] >= 0 && usage[k] > limit[k]) {
				snprintf(rs->rule, sizeof(rs->rule), "quota %s %s: at most %ld %s at once (%ld with this "
					 "driver)", q->group ? "group" : "user", q->name, limit[k], what[k], usage[k]);
				send_error(g, rs, 403, rs->rule);
				return 1;
			}
		}
	}
	return 0;
}

static void handle_create(struct gateway *g, const struct request *rq, const char *owner, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	struct sg_err e = { 0 };
	enum claim_result claim = CLAIM_NEW;
	int64_t row = 0;
	char key_prop[IDEMPOTENCY_KEY_MAX + 2], done_id[128] = "";
	int prop_too_long = 0;
	const char *key = rq->idempotency_key && *rq->idempotency_key ? rq->idempotency_key
		: rest_peek_property(rq->body, rq->body_len, IDEMPOTENCY_PROPERTY, key_prop, sizeof(key_prop),
				     &prop_too_long);
	int cores, memory_mb;

	/* a key cut short could match another request's: refuse rather than guess */
	if ((key && strlen(key) > IDEMPOTENCY_KEY_MAX) || prop_too_long) {
		send_error(g, rs, 400, "The idempotency key is longer than 1000 bytes.");
		return;
	}
	exchange_init(&x, g, CLS_REQUEST_SUBMIT_DRIVER);
	x.rq = rq;
	cluster_answer_init(&a);
	if (refused_before_sending(g, &x, rs, &cores, &memory_mb))
		goto out;
	if (g->store) {
		/* Claimed before the master is asked: the owner is on record even if this process
		 * dies right after the master accepted the driver. */
		if (store_claim(g->store, owner, key, wall_ms(), 2 * (int64_t)g->cluster.master.timeout_ms, cores,
				memory_mb, &claim, &row, done_id, sizeof(done_id), &e)) {
			send_error(g, rs, error_status(e.code), e.msg);
			goto out;
		}
		if (claim != CLAIM_NEW) {
			replay_claim(g, rs, claim, done_id);
			goto out;
		}
		if (refused_by_quota(g, owner, rs)) {
			if (store_finish(g->store, row, NULL, 0, NULL, NULL, &e))
				rs->store_failed = 1;
			goto out;
		}
	}
	int asked = ask(&x, rs, 0, REPLY_SUBMIT, &a);

	if (g->store) {
		const char *id = !asked && a.reply.success ? a.reply.driver_id : NULL;
		int unknown = asked && a.maybe_delivered;

		if (store_finish(g->store, row, id, unknown, strmap_get(&x.cr.spark_properties, "spark.app.name"),
				 x.cr.main_class, &e) && id)
			rs->store_failed = 1;   /* logged; the driver runs, only its owner record is missing */
	}
	if (asked == 0) {
		const struct deploy_reply *r = &a.reply;
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r->message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, a.build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, r->driver_id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "unknownFields", RF_STRINGS, NULL, 0, x.cr.unknown_fields.len ? &x.cr.unknown_fields : NULL },
		};

		if (r->driver_id)
			snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", r->driver_id);
		answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
out:
	cluster_answer_release(&a);
	exchange_release(&x);
}

/* With an owner store, only the owner and admins may see or kill a driver; anyone else
 * gets the answer an unknown id gets, so other users' ids are not confirmed to exist. */
static int may_touch(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	char owner[256];
	struct sg_err e = { 0 };
	int rc;

	if (!g->store || admin)
		return 1;
	rc = store_owner(g->store, id, owner, sizeof(owner), &e);
	if (rc < 0) {
		send_error(g, rs, error_status(e.code), e.msg);
		return 0;
	}
	if (rc == 0 && strcmp(owner, user) == 0)
		return 1;
	rs->hidden = 1;
	return 0;
}

static void kill_not_found(struct gateway *g, const char *id, struct response *rs)
{
	char msg[300];

	/* Master.scala's text for an id it does not know */
	snprintf(msg, sizeof(msg), "Driver %s has already finished or does not exist", id);
	const struct rest_field f[] = {
		{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
		{ "message", RF_STRING, msg, 0, NULL },
		{ "serverSparkVersion", RF_STRING, cluster_known_build(&g->cluster)->spark_version, 0, NULL },
		{ "submissionId", RF_STRING, id, 0, NULL },
		{ "success", RF_BOOL, NULL, 0, NULL },
	};

	answer(g, rs, f, sizeof(f) / sizeof(f[0]));
}

static void status_not_found(struct gateway *g, const char *id, struct response *rs)
{
	const struct rest_field f[] = {
		{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
		{ "serverSparkVersion", RF_STRING, cluster_known_build(&g->cluster)->spark_version, 0, NULL },
		{ "submissionId", RF_STRING, id, 0, NULL },
		{ "success", RF_BOOL, NULL, 0, NULL },
	};

	answer(g, rs, f, sizeof(f) / sizeof(f[0]));
}

static void handle_kill(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (!may_touch(g, id, user, admin, rs)) {
		if (rs->hidden)
			kill_not_found(g, id, rs);
		return;
	}
	exchange_init(&x, g, CLS_REQUEST_KILL_DRIVER);
	x.driver_id = id;
	cluster_answer_init(&a);
	if (ask(&x, rs, 0, REPLY_KILL, &a) == 0) {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, a.reply.message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, a.build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, a.reply.success, NULL },
		};

		answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
}

static void handle_status(struct gateway *g, const char *id, const char *user, int admin, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	struct buf message = BUF_INIT(LIMIT_THROWABLE_TEXT + 64);

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (!may_touch(g, id, user, admin, rs)) {
		if (rs->hidden)
			status_not_found(g, id, rs);
		return;
	}
	exchange_init(&x, g, CLS_REQUEST_DRIVER_STATUS);
	x.driver_id = id;
	cluster_answer_init(&a);
	if (ask(&x, rs, 1, REPLY_STATUS, &a) == 0) {
		const struct deploy_reply *r = &a.reply;

		if (r->exception)
			buf_printf(&message, "Exception from the cluster:\n%s", r->exception);
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
			{ "driverState", RF_STRING, driver_state_name(r->state), 0, NULL },
			{ "message", RF_STRING, r->exception ? buf_str(&message) : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, a.build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "workerHostPort", RF_STRING, r->worker_host_port, 0, NULL },
			{ "workerId", RF_STRING, r->worker_id, 0, NULL },
		};

		answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
	buf_release(&message);
}

/* GET /v1/submissions (beyond Spark, with an owner store): the caller's drivers, newest
 * first (admins: everyone's), with their state at the master now. */
#define LIST_MAX 100

static int print_entry(struct buf *out, const struct store_entry *x, const struct deploy_reply *r)
{
	char when[96];
	time_t t = (time_t)(x->created_ms / 1000);
	struct tm tm;
	const struct { const char *name, *value; } f[] = {
		{ "appName", x->app_name[0] ? x->app_name : NULL },
		{ "driverState", r ? driver_state_name(r->state) : NULL },
		{ "mainClass", x->main_class[0] ? x->main_class : NULL },
		/* a create that may or may not have reached the master: say so, so nobody
		 * resubmits blindly */
		{ "outcome", x->unknown ? "unknown: the master may have accepted it; check its drivers "
					  "before submitting again" : NULL },
		{ "owner", x->owner },
		{ "submissionId", x->id[0] ? x->id : NULL },
		{ "submitTime", when },
		{ "workerHostPort", r ? r->worker_host_port : NULL },
		{ "workerId", r ? r->worker_id : NULL },
	};
	int rc = buf_addstr(out, "{"), first = 1;

	gmtime_r(&t, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(x->created_ms % 1000));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && !rc; i++) {
		if (!f[i].value)
			continue;
		rc = buf_printf(out, "%s\n    \"%s\" : ", first ? "" : ",", f[i].name);
		rc = rc ? rc : rest_json_string(out, f[i].value, strlen(f[i].value));
		first = 0;
	}
	return rc ? rc : buf_addstr(out, "\n  }");
}

static void handle_list(struct gateway *g, const char *user, int admin, struct response *rs)
{
	struct store_entry *rows = calloc(LIST_MAX, sizeof(*rows));
	struct buf items = BUF_INIT(LIMIT_RESPONSE_BODY);
	struct sg_err e = { 0 };
	char problem[600] = "";
	size_t n = 0;
	int rc = 0;

	if (!rows) {
		send_error(g, rs, 500, "out of memory");
		return;
	}
	if (store_list(g->store, admin ? NULL : user, LIST_MAX, rows, &n, &e)) {
		send_error(g, rs, error_status(e.code), e.msg);
		free(rows);
		return;
	}
	rc = buf_addstr(&items, "[ ");
	for (size_t i = 0; i < n && !rc; i++) {
		struct cluster_answer a;
		int known = 0;

		cluster_answer_init(&a);
		if (!problem[0] && rows[i].id[0]) {   /* once the master fails, the rest are listed without state */
			int status = ask_status_quietly(g, rows[i].id, &a);

			known = status == 0 && a.reply.success;
			if (status == 500)   /* sparkgate's own failure, not the master's */
				rc = ERR_NOMEM;
			else if (status)
				snprintf(problem, sizeof(problem), "Driver states are missing: the Spark master did not "
					 "answer (HTTP %d for %s).", status, rows[i].id);
		}
		if (!rc && i)
			rc = buf_addstr(&items, ", ");
		rc = rc ? rc : print_entry(&items, &rows[i], known ? &a.reply : NULL);
		cluster_answer_release(&a);
	}
	rc = rc ? rc : buf_addstr(&items, n ? " ]" : "]");
	if (rc) {
		send_error(g, rs, 500, rc == ERR_TOO_LARGE ? "The list is too large to print." : "out of memory");
	} else {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionListResponse", 0, NULL },
			{ "admin", RF_BOOL, NULL, admin, NULL },
			{ "message", RF_STRING, problem[0] ? problem : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_known_build(&g->cluster)->spark_version, 0, NULL },
			{ "submissions", RF_RAW, buf_str(&items), 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
			{ "user", RF_STRING, user, 0, NULL },   /* who is asking, for the portal */
		};

		answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	buf_release(&items);
	free(rows);
}

/* Spark 4's killall, clear and readyz (StandaloneRestServer.scala: KillAllRequestServlet,
 * ClearRequestServlet, ReadyzRequestServlet). */
static void handle_object_message(struct gateway *g, enum spark_class message, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	int kill_all = message == CLS_REQUEST_KILL_ALL_DRIVERS;

	exchange_init(&x, g, message);
	cluster_answer_init(&a);
	if (ask(&x, rs, message == CLS_REQUEST_READYZ, kill_all ? REPLY_KILL_ALL : REPLY_BOOLEAN, &a) == 0) {
		if (message == CLS_REQUEST_READYZ && !a.reply.success) {
			send_error(g, rs, 503, "Master is not ready.");
		} else {
			const struct rest_field f[] = {
				{ "action", RF_STRING, kill_all ? "KillAllSubmissionResponse"
					: message == CLS_REQUEST_CLEAR ? "ClearResponse" : "ReadyzResponse", 0, NULL },
				{ "message", RF_STRING, kill_all ? a.reply.message : "", 0, NULL },
				{ "serverSparkVersion", RF_STRING, a.build->spark_version, 0, NULL },
				{ "success", RF_BOOL, NULL, a.reply.success, NULL },
			};

			answer(g, rs, f, sizeof(f) / sizeof(f[0]));
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
	send_error(g, rs, http10 ? 400 : 405, msg);
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
		if (match(path, paths[i].prefix, info)) {
			*message = paths[i].message;
			return spark_build_is_spark4(answer_build(g));
		}
	}
	return 0;
}

/* Whether a POST may change something.  A browser page on another site can make the
 * browser POST here with the user's cached Basic credentials; it cannot add a custom
 * header without a CORS preflight, which sparkgate never grants. */
static int forged(const struct gateway *g, const struct request *rq)
{
	if (g->csrf == CSRF_OFF || (rq->requested_by && *rq->requested_by))
		return 0;
	if (g->csrf == CSRF_HEADER)
		return 1;
	if (rq->fetch_site && (strcmp(rq->fetch_site, "cross-site") == 0 || strcmp(rq->fetch_site, "same-site") == 0))
		return 1;
	if (rq->origin && *rq->origin && strcmp(rq->origin, "null") != 0) {
		const char *o = strstr(rq->origin, "://");

		return !rq->host || !o || strcmp(o + 3, rq->host) != 0;
	}
	return rq->origin && strcmp(rq->origin, "null") == 0;
}

/* "-" owns anonymous requests (--anonymous allow) and stands for "nobody" in logs; a name
 * with control bytes could not be logged as itself. */
static int user_name_ok(const char *u)
{
	if (strcmp(u, "-") == 0)
		return 0;
	for (const unsigned char *c = (const unsigned char *)u; *c; c++)
		if (*c < 0x20 || *c == 0x7F)
			return 0;
	return 1;
}

/* Who is asking: the web server's REMOTE_USER, else (with --jws-secret-file) the subject
 * of a valid bearer token; NULL for nobody.  A token that does not verify is answered
 * with 403 here, in the words of Spark's JWSFilter. */
static const char *identify(struct gateway *g, const struct request *rq, struct response *rs)
{
	const char *auth = rq->authorization;
	char why[200];

	if (rq->remote_user && strlen(rq->remote_user) >= sizeof(rs->user)) {
		/* never cut short: two long names must not become one owner */
		send_error(g, rs, 403, "The user name is too long for sparkgate (at most 255 bytes).");
		return NULL;
	} else if (rq->remote_user && !user_name_ok(rq->remote_user)) {
		send_error(g, rs, 403, "The user name is reserved or holds control characters (\"-\" is the owner of "
			   "anonymous requests).");
		return NULL;
	} else if (rq->remote_user)
		snprintf(rs->user, sizeof(rs->user), "%s", rq->remote_user);
	else if (!g->jws_keylen || !auth)
		return NULL;
	else if (strncmp(auth, "Bearer ", 7) != 0)
		return NULL;   /* Basic credentials the web server did not check: no user */
	else if (jws_verify(auth + 7, g->jws_key, (size_t)g->jws_keylen, wall_ms() / 1000, rs->user,
			    sizeof(rs->user), why, sizeof(why))) {
		snprintf(rs->rule, sizeof(rs->rule), "bearer token");
		send_error(g, rs, 403, why);
		return NULL;
	}
	if (!user_name_ok(rs->user)) {
		snprintf(rs->rule, sizeof(rs->rule), "bearer token");
		send_error(g, rs, 403, "The token's subject is a reserved user name or holds control characters.");
		return NULL;
	}
	return rs->user;
}

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	g->deadline = master_deadline(&g->cluster.master);   /* for every ask of this request */
	const char *info;
	enum spark_class message;
	char id[128];
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;
	const char *who = identify(g, rq, rs);
	/* Anonymous requests (--anonymous allow) share one owner. */
	const char *user = who ? who : "-";
	int admin = who && policy_is_admin(&g->policy, who);

	if (rs->status == 403) {
		/* a bearer token that did not verify: answered by identify() */
	} else if (!who && !g->allow_anonymous) {
		/* The web server should have refused this already (its config requires a login);
		 * a server that lets it through is misconfigured, and must not open the API. */
		send_error(g, rs, 403, "No authenticated user: the web server in front of sparkgate must "
			   "authenticate every request (REMOTE_USER), or sparkgate must run with --anonymous allow.");
	} else if (strcmp(rq->method, "POST") == 0 && forged(g, rq)) {
		snprintf(rs->rule, sizeof(rs->rule), "csrf %s", g->csrf == CSRF_HEADER ? "header" : "origin");
		send_error(g, rs, 403, g->csrf == CSRF_HEADER
			   ? "Requests that change something must carry an X-Requested-By header (cross-site request "
			     "forgery protection)."
			   : "A browser request from another site must carry an X-Requested-By header (cross-site "
			     "request forgery protection).");
	} else if (rq->body_too_large) {
		char msg[200];

		snprintf(msg, sizeof(msg), "Request body of %zu bytes exceeds sparkgate's limit of %zu bytes.",
			 rq->body_declared, g->max_body);
		send_error(g, rs, 413, msg);
	} else if (match(rq->path, "/v1/submissions/create", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else
			handle_create(g, rq, user, rs);
	} else if (match(rq->path, "/v1/submissions/kill", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			send_error(g, rs, 400, "Submission ID is missing in kill request.");
		else
			handle_kill(g, id, user, admin, rs);
	} else if (match(rq->path, "/v1/submissions/status", &info)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			send_error(g, rs, 400, "Submission ID is missing in status request.");
		else
			handle_status(g, id, user, admin, rs);
	} else if (spark4_path(g, rq->path, &info, &message)) {
		if (message == CLS_REQUEST_READYZ ? !get : !post) {
			wrong_method(g, rq, rs, message == CLS_REQUEST_READYZ ? "GET, HEAD, OPTIONS" : "POST, OPTIONS");
		} else if (g->store && message != CLS_REQUEST_READYZ && !admin) {
			/* killall and clear act on every user's drivers */
			snprintf(rs->rule, sizeof(rs->rule), "admins only");
			send_error(g, rs, 403, "Only members of the admin group may kill or clear every driver.");
		} else {
			handle_object_message(g, message, rs);
		}
	} else if (g->store && (strcmp(rq->path, "/v1/submissions") == 0 || strcmp(rq->path, "/v1/submissions/") == 0)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else
			handle_list(g, user, admin, rs);
	} else {
		error_servlet(g, rq->path, rs);
	}
}
