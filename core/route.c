#include "route.h"

#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "deploy.h"
#include "rest.h"
#include "submit.h"

#define SUBMIT_HINT " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define ACTIONS_35 "Missing an action: please specify one of /create, /kill, or /status."
#define ACTIONS_40 "Missing an action: please specify one of /create, /kill, /killall, /clear, /status, or /readyz."

void response_init(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->submission_id[0] = '\0';
	buf_init(&rs->body, 4u << 20);
}

void response_reset(struct response *rs)
{
	rs->status = 200;
	rs->allow = NULL;
	rs->submission_id[0] = '\0';
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

	return cluster_build(&g->cluster, &b, &e) == 0 ? b : cluster_known_build(&g->cluster);
}

static void send_error(struct gateway *g, struct response *rs, int status, const char *message)
{
	rs->status = status;
	buf_reset(&rs->body);
	rest_print_error(&rs->body, message, cluster_known_build(&g->cluster)->spark_version, status == 468);
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

/* The master's answer could not be had: say so in Spark's shape, with a status a client
 * will not mistake for "the master refused". */
static void master_unavailable(struct gateway *g, struct response *rs, int maybe_delivered,
			       const struct sg_err *e, int is_create)
{
	char msg[1200];

	if (maybe_delivered && is_create)
		snprintf(msg, sizeof(msg), "The outcome of this submission is unknown: %s. The master may "
			 "have accepted it; do not resubmit before checking the master's drivers.", e->msg);
	else
		snprintf(msg, sizeof(msg), "Unable to reach the Spark master: %s", e->msg);
	send_error(g, rs, e->code == ERR_TIMEOUT ? 504 : 503, msg);
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

/* cluster_write_fn: the request for build b.  A create is parsed and validated the way
 * that build's server does it, so this runs again if the master turns out to be another
 * build. */
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
	create_request_release(&x->cr);
	create_request_init(&x->cr);
	rest_error_release(&x->err);
	rest_error_init(&x->err);
	driver_desc_init(&d);
	struct submit_config cfg = { x->g->master_url, b, x->g->placeholder_names };
	rc = rest_parse_create(x->rq->body, x->rq->body_len, spark_build_is_spark4(b), &x->cr, &x->err)
	     || submit_build_driver(&x->cr, &cfg, &d, &x->err);
	if (!rc && deploy_write_submit(out, b, &d))
		rc = rest_fail(&x->err, 413, "The submission is too large to send to the master.");
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
	int rc = cluster_ask(&g->cluster, write_request, x, idempotent, a, &e);

	if (rc == CLUSTER_WRITE_FAILED && x->err.status) {
		send_error(g, rs, x->err.status, buf_str(&x->err.message));
	} else if (rc == CLUSTER_WRITE_FAILED) {
		send_error(g, rs, 500, "sparkgate could not write the request for the master.");
	} else if (rc == ERR_IO || rc == ERR_TIMEOUT) {
		master_unavailable(g, rs, a->maybe_delivered, &e, x->message == CLS_REQUEST_SUBMIT_DRIVER);
	} else if (rc == ERR_UNSUPPORTED || rc == ERR_REMOTE) {
		send_error(g, rs, 502, e.msg);   /* unknown build; authentication refused */
	} else if (rc) {
		char msg[700];

		snprintf(msg, sizeof(msg), "Unreadable reply from the Spark master: %s", e.msg);
		send_error(g, rs, 502, msg);
	} else if (a->failed) {
		master_refused(g, rs, a->build, buf_str(&a->failure), a->failure.len);
	} else if (a->reply.kind != k) {
		send_error(g, rs, 502, "Unexpected reply from the Spark master.");
	} else {
		return 0;
	}
	return -1;
}

static void handle_create(struct gateway *g, const struct request *rq, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;

	exchange_init(&x, g, CLS_REQUEST_SUBMIT_DRIVER);
	x.rq = rq;
	cluster_answer_init(&a);
	if (ask(&x, rs, 0, REPLY_SUBMIT, &a) == 0) {
		const struct deploy_reply *r = &a.reply;
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r->message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, a.build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, r->driver_id, 0, NULL },
			{ "success", RF_BOOL, NULL, r->success, NULL },
			{ "unknownFields", RF_STRINGS, NULL, 0, x.cr.unknown_fields.len ? &x.cr.unknown_fields : NULL },
		};

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
		if (r->driver_id)
			snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", r->driver_id);
	}
	cluster_answer_release(&a);
	exchange_release(&x);
}

static void handle_kill(struct gateway *g, const char *id, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
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

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
}

static void handle_status(struct gateway *g, const char *id, struct response *rs)
{
	struct exchange x;
	struct cluster_answer a;
	struct buf message = BUF_INIT(2u << 20);

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
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

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
	}
	cluster_answer_release(&a);
	exchange_release(&x);
	buf_release(&message);
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

			rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
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

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	const char *info;
	enum spark_class message;
	char id[128];
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;

	if (!rq->remote_user && !g->allow_anonymous) {
		/* The web server should have refused this already (its config requires a login);
		 * a server that lets it through is misconfigured, and must not open the API. */
		send_error(g, rs, 403, "No authenticated user: the web server in front of sparkgate must "
			   "authenticate every request (REMOTE_USER), or sparkgate must run with --anonymous allow.");
	} else if (rq->body_too_large) {
		char msg[200];

		snprintf(msg, sizeof(msg), "Request body of %zu bytes exceeds sparkgate's limit of %zu bytes.",
			 rq->body_declared, g->max_body);
		send_error(g, rs, 413, msg);
	} else if (match(rq->path, "/v1/submissions/create", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else
			handle_create(g, rq, rs);
	} else if (match(rq->path, "/v1/submissions/kill", &info)) {
		if (!post)
			wrong_method(g, rq, rs, "POST, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			send_error(g, rs, 400, "Submission ID is missing in kill request.");
		else
			handle_kill(g, id, rs);
	} else if (match(rq->path, "/v1/submissions/status", &info)) {
		if (!get)
			wrong_method(g, rq, rs, "GET, HEAD, OPTIONS");
		else if (!submission_id(info, id, sizeof(id)))
			send_error(g, rs, 400, "Submission ID is missing in status request.");
		else
			handle_status(g, id, rs);
	} else if (spark4_path(g, rq->path, &info, &message)) {
		if (message == CLS_REQUEST_READYZ ? !get : !post)
			wrong_method(g, rq, rs, message == CLS_REQUEST_READYZ ? "GET, HEAD, OPTIONS" : "POST, OPTIONS");
		else
			handle_object_message(g, message, rs);
	} else {
		error_servlet(g, rq->path, rs);
	}
}
