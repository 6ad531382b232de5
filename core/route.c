#include "route.h"

#include <stdio.h>
#include <string.h>

#include "deploy.h"
#include "rest.h"
#include "submit.h"

#define SUBMIT_HINT " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define ACTIONS_35 "Missing an action: please specify one of /create, /kill, or /status."

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

static void send_error(struct gateway *g, struct response *rs, int status, const char *message)
{
	rs->status = status;
	buf_reset(&rs->body);
	rest_print_error(&rs->body, message, g->build->spark_version, status == 468);
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
		snprintf(msg, sizeof(msg), ACTIONS_35 SUBMIT_HINT);
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
static void master_unavailable(struct gateway *g, struct response *rs, const struct master_answer *a,
			       const struct sg_err *e, int is_create)
{
	char msg[1200];

	if (a->maybe_delivered && is_create)
		snprintf(msg, sizeof(msg), "The outcome of this submission is unknown: %s. The master may "
			 "have accepted it; do not resubmit before checking the master's drivers.", e->msg);
	else
		snprintf(msg, sizeof(msg), "Unable to reach the Spark master: %s", e->msg);
	send_error(g, rs, e->code == ERR_TIMEOUT ? 504 : 503, msg);
}

/* An RpcFailure frame: the master could not take the message at all. */
static void master_refused(struct gateway *g, struct response *rs, const char *text, size_t len)
{
	char msg[1200];
	int n = (int)(memchr(text, '\n', len) ? (const char *)memchr(text, '\n', len) - text : (long)len);

	if (memmem(text, len, "InvalidClassException", 21))
		snprintf(msg, sizeof(msg), "The Spark master runs a build sparkgate was not set up for "
			 "(sparkgate speaks Spark %s, Scala %s): %.*s", g->build->spark_version,
			 g->build->scala_version, n, text);
	else if (memmem(text, len, "Expected SaslMessage", 20))
		snprintf(msg, sizeof(msg), "The Spark master requires authentication "
			 "(spark.authenticate=true), which this sparkgate is not configured for.");
	else
		snprintf(msg, sizeof(msg), "The Spark master rejected the request: %.*s", n, text);
	send_error(g, rs, 502, msg);
}

/* Sends one message stream; on success decodes the reply into r.  Returns 0, or -1 after
 * writing the error response. */
static int ask(struct gateway *g, struct response *rs, struct buf *stream, int is_create, int retry,
	       struct deploy_reply *r)
{
	struct master_answer a;
	struct sg_err e = { 0 };
	int rc;

	master_answer_init(&a);
	rc = master_ask(&g->master, stream->data, stream->len, &a, &e);
	if (rc && retry && rc == ERR_IO) {
		/* status is read-only: asking again on a fresh connection is harmless */
		sg_err_clear(&e);
		rc = master_ask(&g->master, stream->data, stream->len, &a, &e);
	}
	if (rc) {
		master_unavailable(g, rs, &a, &e, is_create);
		goto fail;
	}
	if (a.failed) {
		master_refused(g, rs, buf_str(&a.body), a.body.len);
		goto fail;
	}
	rc = deploy_read_reply(a.body.data, a.body.len, r, &e);
	if (rc) {
		char msg[700];

		snprintf(msg, sizeof(msg), "Unreadable reply from the Spark master: %s", e.msg);
		send_error(g, rs, 502, msg);
		goto fail;
	}
	if (r->kind == REPLY_FAILURE) {
		master_refused(g, rs, r->exception, strlen(r->exception));
		deploy_reply_release(r);
		goto fail;
	}
	master_answer_release(&a);
	return 0;
fail:
	master_answer_release(&a);
	return -1;
}

static int expect(struct gateway *g, struct response *rs, struct deploy_reply *r, enum deploy_reply_kind k)
{
	if (r->kind == k)
		return 0;
	deploy_reply_release(r);
	send_error(g, rs, 502, "Unexpected reply from the Spark master.");
	return -1;
}

static void handle_create(struct gateway *g, const struct request *rq, struct response *rs)
{
	struct create_request cr;
	struct driver_desc d;
	struct rest_error err;
	struct deploy_reply r;
	struct buf stream = BUF_INIT(g->max_body * 4 + (1u << 20));
	struct submit_config cfg = { g->master_url, g->build };

	create_request_init(&cr);
	driver_desc_init(&d);
	rest_error_init(&err);
	if (rest_parse_create(rq->body, rq->body_len, spark_build_is_spark4(g->build), &cr, &err)
	    || submit_build_driver(&cr, &cfg, &d, &err)) {
		send_error(g, rs, err.status, buf_str(&err.message));
		goto out;
	}
	if (deploy_write_submit(&stream, g->build, &d)) {
		send_error(g, rs, 413, "The submission is too large to send to the master.");
		goto out;
	}
	if (ask(g, rs, &stream, 1, 0, &r) || expect(g, rs, &r, REPLY_SUBMIT))
		goto out;
	{
		const struct rest_field f[] = {
			{ "action", RF_STRING, "CreateSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r.message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, g->build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, r.driver_id, 0, NULL },
			{ "success", RF_BOOL, NULL, r.success, NULL },
			{ "unknownFields", RF_STRINGS, NULL, 0, cr.unknown_fields.len ? &cr.unknown_fields : NULL },
		};

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
		if (r.driver_id)
			snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", r.driver_id);
	}
	deploy_reply_release(&r);
out:
	buf_release(&stream);
	rest_error_release(&err);
	driver_desc_release(&d);
	create_request_release(&cr);
}

static void handle_kill(struct gateway *g, const char *id, struct response *rs)
{
	struct buf stream = BUF_INIT(1u << 20);
	struct deploy_reply r;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (deploy_write_kill(&stream, g->build, id) || ask(g, rs, &stream, 0, 0, &r)
	    || expect(g, rs, &r, REPLY_KILL))
		goto out;
	{
		const struct rest_field f[] = {
			{ "action", RF_STRING, "KillSubmissionResponse", 0, NULL },
			{ "message", RF_STRING, r.message, 0, NULL },
			{ "serverSparkVersion", RF_STRING, g->build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, r.success, NULL },
		};

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
	}
	deploy_reply_release(&r);
out:
	buf_release(&stream);
}

static void handle_status(struct gateway *g, const char *id, struct response *rs)
{
	struct buf stream = BUF_INIT(1u << 20), message = BUF_INIT(2u << 20);
	struct deploy_reply r;

	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", id);
	if (deploy_write_status(&stream, g->build, id) || ask(g, rs, &stream, 0, 1, &r)
	    || expect(g, rs, &r, REPLY_STATUS))
		goto out;
	if (r.exception)
		buf_printf(&message, "Exception from the cluster:\n%s", r.exception);
	{
		const struct rest_field f[] = {
			{ "action", RF_STRING, "SubmissionStatusResponse", 0, NULL },
			{ "driverState", RF_STRING, driver_state_name(r.state), 0, NULL },
			{ "message", RF_STRING, r.exception ? buf_str(&message) : NULL, 0, NULL },
			{ "serverSparkVersion", RF_STRING, g->build->spark_version, 0, NULL },
			{ "submissionId", RF_STRING, id, 0, NULL },
			{ "success", RF_BOOL, NULL, r.success, NULL },
			{ "workerHostPort", RF_STRING, r.worker_host_port, 0, NULL },
			{ "workerId", RF_STRING, r.worker_id, 0, NULL },
		};

		rest_print(&rs->body, f, sizeof(f) / sizeof(f[0]));
	}
	deploy_reply_release(&r);
out:
	buf_release(&message);
	buf_release(&stream);
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

void gateway_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	const char *info;
	char id[128];
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;

	if (rq->body_too_large) {
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
	} else {
		error_servlet(g, rq->path, rs);
	}
}
