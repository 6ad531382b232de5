/* Apache Livy's batch API (0.8) over the standalone master, with an owner store:
 *
 *   POST   /batches                 CreateBatchRequest -> the BatchSessionView, 201
 *   GET    /batches?from=&size=     {"from", "total", "sessions": [view...]}
 *   GET    /batches/ID              the view (its last 10 log lines)
 *   GET    /batches/ID/state        {"id", "state"}
 *   GET    /batches/ID/log?from=&size=   {"id", "from", "total", "log": [lines]}
 *   DELETE /batches/ID              {"msg": "deleted"} (RequestKillDriver)
 *   GET    /version                 LivyVersionServlet's fields
 *
 * The shapes are Livy's: server/src/main/scala/org/apache/livy/server/SessionServlet.scala
 * (the routes, from/size/total, serializeLogs, ResponseMessage {"msg"} errors),
 * server/.../batch/BatchSessionServlet.scala (BatchSessionView: id, name, owner, proxyUser,
 * state, appId, appInfo, queue, log with its last 10 lines), server/.../batch/
 * CreateBatchRequest.scala and BatchSession.scala (the fields a create takes and the Spark
 * properties each becomes, as SparkProcessBuilder and Session.prepareConf write them),
 * core/src/main/scala/org/apache/livy/sessions/SessionState.scala (the states) and
 * server/.../LivyVersionServlet.scala.
 *
 * A POST becomes the CreateSubmissionRequest Spark's own API would get, and runs through
 * servlet_create (identity, CSRF, policy, quotas, claims, audit are those of
 * /v1/submissions/create): the policy judges the same driver.  A batch's id is its create's
 * row in the owner store (store_batch).  Errors go out in Livy's shape because the servlet
 * table marks these routes (S_LIVY, reply.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "ops/reply.h"
#include "servlets/logs.h"
#include "servlets/servlets.h"
#include "spark/masterui.h"

#define LIVY_VERSION "0.8.0-incubating"   /* the API these answers follow */
#define LIVY_VIEW_LOG_LINES 10             /* BatchSessionServlet.clientSessionView */
#define LIVY_LOG_LINES_MAX 20000           /* lines a log answer is cut from */

/* ---- answers ------------------------------------------------------------------------- */

/* A 2xx answer of JSON object o (taken). */
static void answer(struct servlets *sv, struct response *rs, int status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	buf_reset(&rs->body);
	if (!text || buf_addstr(&rs->body, text)) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
	} else {
		rs->status = status;
	}
	free(text);
}

/* SessionServlet.doWithSession's answer for an id it does not have (someone else's too:
 * sparkgate does not confirm that another user's batch exists, as for drivers). */
static void not_found(struct servlets *sv, struct response *rs, const char *id)
{
	reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "Session '%s' not found.", id);
}

/* JsonServlet's error handler for a body Jackson cannot read or map (JsonParseException,
 * JsonMappingException, UnrecognizedPropertyException): BadRequest(e.getMessage), a String,
 * which its renderResponseBody writes as a JSON string, not as ResponseMessage's {"msg"}. */
static void body_error(struct servlets *sv, struct response *rs, const char *why)
{
	json_t *s = json_string(why);
	char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;

	reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
	if (text) {
		buf_reset(&rs->body);
		if (buf_addstr(&rs->body, text))
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
	}
	free(text);
	json_decref(s);
}

/* A decimal integer parameter (Livy: params.get(NAME).map(_.toInt)); -1 if absent. */
static int query_int(const char *query, const char *name, long long *out, char *why, size_t why_size)
{
	size_t nl = strlen(name);

	*out = -1;
	for (const char *p = query ? query : ""; *p;) {
		size_t n = strcspn(p, "&");

		if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vn = n - nl - 1;
			long long x = 0;
			int neg = vn && *v == '-';

			if (vn - (size_t)neg == 0 || vn - (size_t)neg > 9)
				return snprintf(why, why_size, "%s must be an integer.", name), -1;
			for (size_t i = (size_t)neg; i < vn; i++) {
				if (v[i] < '0' || v[i] > '9')
					return snprintf(why, why_size, "%s must be an integer.", name), -1;
				x = x * 10 + (v[i] - '0');
			}
			*out = neg ? -x : x;
		}
		p += n + (p[n] == '&');
	}
	return 0;
}

/* ---- a batch's state and log --------------------------------------------------------- */

/* What the master says of a batch's driver now. */
struct batch_now {
	int known;                 /* the master knows the driver */
	int state;                 /* DRIVER_* when known */
	char message[2048];        /* Spark's status message (a FAILED/ERROR driver's exception) */
};

/* SessionState's names (core/.../sessions/SessionState.scala) a batch can be in here. */
static const char *const livy_states[] = { "not_started", "starting", "recovering", "running", "success", "killed",
					   "dead" };

/* SessionState's name for a driver state (core/.../sessions/SessionState.scala): a driver
 * waiting for a worker is "starting", one the master relaunches or recovers "recovering",
 * FINISHED "success", KILLED "killed", FAILED and ERROR "dead". */
static const char *livy_state(const struct store_entry *x, const struct batch_now *now)
{
	if (!x->id[0])
		return "not_started";   /* the create's outcome is not known yet */
	if (!now->known)
		return "dead";   /* the master no longer has it (restarted, or past retainedDrivers) */
	switch (now->state) {
	case DRIVER_SUBMITTED: return "starting";
	case DRIVER_RUNNING: return "running";
	case DRIVER_RELAUNCHING: case DRIVER_UNKNOWN: return "recovering";
	case DRIVER_FINISHED: return "success";
	case DRIVER_KILLED: return "killed";
	default: return "dead";
	}
}

/* The master's view of x's driver through the status cache (one ask for all who ask at
 * once): 0, or -1 answered (the master could not be asked). */
static int batch_now(struct servlets *sv, const struct store_entry *x, struct batch_now *now, struct response *rs)
{
	struct response scratch;
	struct status_record rec;
	int status;

	memset(now, 0, sizeof(*now));
	if (!x->id[0])
		return 0;
	response_init(&scratch);
	status = ask_status(sv->spark, x->id, &scratch, &rec);
	if (status) {
		reply_problem(sv->spark, rs, problem_of_status(status), "The Spark master did not answer for %s (HTTP %d).",
			      x->id, status);
	} else if (rec.known) {
		json_t *o = json_loadb(scratch.body.data ? (const char *)scratch.body.data : "", scratch.body.len, 0, NULL);
		const char *m = json_string_value(json_object_get(o, "message"));

		now->known = 1;
		now->state = rec.state;
		snprintf(now->message, sizeof(now->message), "%s", m ? m : "");
		json_decref(o);
	}
	response_release(&scratch);
	return status ? -1 : 0;
}

/* A batch's application, as Livy's appId and appInfo: the application id and UI address
 * its driver reports in its stderr (StandaloneSchedulerBackend: "Connected to Spark
 * cluster with app ID app-...", SparkUI: "Bound SparkUI to ..., and started at URL", or
 * JettyUtils: "Start Jetty HOST:PORT for SparkUI"), and
 * the driver's log page on its worker's web UI. */
struct app_links {
	char app_id[128];
	char ui_url[300];
	char log_url[500];
};

/* What a line tells of the application (the first of each wins). */
static void scan_line(const char *p, size_t n, struct app_links *l)
{
	static const char app[] = "Connected to Spark cluster with app ID ", ui[] = ", and started at ",
			  jetty[] = "Start Jetty ";
	const char *at;
	char line[600];

	snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
	if (!l->app_id[0] && (at = strstr(line, app)) != NULL)
		sscanf(at + sizeof(app) - 1, "%127[A-Za-z0-9_-]", l->app_id);
	if (!l->ui_url[0] && strstr(line, "SparkUI") && (at = strstr(line, ui)) != NULL
	    && strncmp(at + sizeof(ui) - 1, "http", 4) == 0)
		sscanf(at + sizeof(ui) - 1, "%299[A-Za-z0-9:/._%-]", l->ui_url);
	/* Spark 3.5's JettyUtils.startJettyServer: "Start Jetty HOST:PORT for SparkUI" */
	if (!l->ui_url[0] && (at = strstr(line, jetty)) != NULL) {
		char hp[260];
		const char *end = strstr(at, " for SparkUI");

		if (end && end > at + sizeof(jetty) - 1 && (size_t)(end - at) < sizeof(hp)
		    && sscanf(at + sizeof(jetty) - 1, "%255[A-Za-z0-9:._-]", hp) == 1
		    && strlen(hp) == (size_t)(end - at) - (sizeof(jetty) - 1))
			snprintf(l->ui_url, sizeof(l->ui_url), "http://%s", hp);
	}
}

static void scan_links(const char *text, size_t len, struct app_links *l)
{
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		scan_line(p, n, l);
		p += n + 1;
	}
}

/* Appends the lines of text (a tail that may start inside a line: from_middle drops the
 * part before the first newline) to a. */
static int add_lines(json_t *a, const char *text, size_t len, int from_middle)
{
	const char *p = text, *end = text + len;

	if (from_middle) {
		const char *nl = memchr(p, '\n', len);

		p = nl ? nl + 1 : end;
	}
	while (p < end && json_array_size(a) < LIVY_LOG_LINES_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *s = json_stringn(p, n);

		/* the worker's bytes need not be UTF-8: such a line is replaced, not sent */
		if (!s)
			s = json_string("(a line that is not UTF-8)");
		if (!s || json_array_append_new(a, s))
			return -1;
		p += n + 1;
	}
	return 0;
}

/* Livy's log of a batch, as SparkApp.log() writes it for a process: "stdout: ", the
 * driver's stdout lines, "\nstderr: ", its stderr lines; then, for a driver that ended
 * dead, the master's state and message.  The streams are the driver's files on its worker
 * (their last LOGS_DEFAULT_LENGTH bytes each), read as GET /v1/submissions/logs reads them. */
static json_t *batch_log(struct servlets *sv, const struct store_entry *x, const struct batch_now *now,
			 struct app_links *links, struct response *rs)
{
	json_t *a = json_array();
	struct master_ui ui = { 0 };
	const struct master_ui_driver *d = NULL;
	int have_ui = x->id[0] && tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note)) == 0;
	int rc = a ? 0 : -1;

	memset(links, 0, sizeof(*links));
	if (have_ui)
		d = master_ui_find(&ui, x->id);
	if (d && d->worker_id[0]) {   /* the worker's own page for this driver's stderr */
		char web[300];
		struct sg_err e = { 0 };

		if (master_ui_worker_base(&ui, d->worker_id, web, sizeof(web), &e) == 0)
			snprintf(links->log_url, sizeof(links->log_url), "%s/logPage/?driverId=%s&logType=stderr", web, d->id);
	}
	for (int err = 0; err < 2 && !rc; err++) {
		struct buf text = BUF_INIT(LOGS_DEFAULT_LENGTH + 4096);
		long long range[3];
		size_t at;
		enum problem p;
		char why[400];

		rc = json_array_append_new(a, json_string(err ? "\nstderr: " : "stdout: "));
		if (!rc && d && logs_read(sv, &ui, d, err, -1, LOGS_DEFAULT_LENGTH, &text, &at, range, &p, why,
					  sizeof(why)) == 0) {
			rc = add_lines(a, (const char *)text.data + at, text.len - at, range[0] > 0);
			if (err && range[0] == 0) {
				scan_links((const char *)text.data + at, text.len - at, links);
			} else if (err) {   /* the lines come early: the start of a long stderr */
				buf_reset(&text);
				if (logs_read(sv, &ui, d, 1, 0, LOGS_DEFAULT_LENGTH, &text, &at, range, &p, why, sizeof(why)) == 0)
					scan_links((const char *)text.data + at, text.len - at, links);
			}
		}
		buf_release(&text);
	}
	if (!rc && x->id[0] && !now->known)
		rc = json_array_append_new(a, json_string("\nsparkgate: the master no longer knows this driver"));
	if (!rc && now->known && (now->state == DRIVER_FAILED || now->state == DRIVER_ERROR)) {
		char line[64];

		snprintf(line, sizeof(line), "\nDriver state: %s", driver_state_name(now->state));
		rc = json_array_append_new(a, json_string(line));
		if (!rc && now->message[0])
			rc = add_lines(a, now->message, strlen(now->message), 0);
	}
	master_ui_release(&ui);
	if (rc) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* The last n lines of log a (taken) as a new array. */
static json_t *tail(json_t *log, size_t n)
{
	json_t *t = json_array();
	size_t len = json_array_size(log);

	for (size_t i = len > n ? len - n : 0; t && i < len; i++)
		json_array_append(t, json_array_get(log, i));
	json_decref(log);
	return t;
}

/* BatchSessionView (BatchSessionServlet.scala) of x: its fields in its order (Jackson writes a
 * case class's fields so; it has no queue); log NULL: an empty list; links NULL: not read
 * (appId and appInfo's fields null). */
static json_t *view(const struct store_entry *x, const struct batch_now *now, json_t *log,
		    const struct app_links *l)
{
	const struct app_links none = { "", "", "" };

	l = l ? l : &none;
	return json_pack("{sI ss? ss sn ss ss? s{ss? ss?} so}", "id", (json_int_t)x->row, "name",
			 x->app_name[0] ? x->app_name : NULL, "owner", x->owner, "proxyUser", "state",
			 livy_state(x, now), "appId", l->app_id[0] ? l->app_id : NULL, "appInfo", "driverLogUrl",
			 l->log_url[0] ? l->log_url : NULL, "sparkUiUrl", l->ui_url[0] ? l->ui_url : NULL, "log",
			 log ? log : json_array());
}

/* ---- the endpoints ----------------------------------------------------------------------- */

/* The batch ID names, if c's user may see it: 1 with *x, 0 answered (404 or the store's error). */
static int find_batch(struct servlets *sv, const struct call *c, const char *id, struct store_entry *x,
		      struct response *rs)
{
	struct sg_err e = { 0 };
	char *end;
	long long row = strtoll(id, &end, 10);
	int rc;

	if (!*id || *end || row <= 0) {
		not_found(sv, rs, id);
		return 0;
	}
	if ((rc = store_batch(sv->tenant->store, row, NULL, x, &e)) < 0) {
		reply_err(sv->spark, rs, &e);
		return 0;
	}
	if (rc == 1 || (!c->admin && strcmp(x->owner, c->user) != 0)) {
		if (rc == 0)
			reply_hide(rs);
		not_found(sv, rs, id);
		return 0;
	}
	snprintf(rs->submission_id, sizeof(rs->submission_id), "%s", x->id);
	return 1;
}

/* SessionServlet get("/"): the caller's batches (admins: everyone's) in the order they were
 * created, from the from-th, at most size; total counts them all.  Beyond Livy, as
 * GET /v1/submissions: state= (a Livy state), name= (the batch's name), since=. */
static void list_batches(struct servlets *sv, const struct call *c, struct response *rs)
{
	char why[300];
	struct list_query q;
	struct store_entry *rows;
	struct sg_err e = { 0 };
	size_t n, total, kept = 0, cap;
	json_t *sessions;
	struct master_ui ui = { 0 };
	int have_ui;

	if (list_parse_query(c->rq->query, livy_states, sizeof(livy_states) / sizeof(livy_states[0]), &q, why,
			     sizeof(why))) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
		return;
	}
	cap = q.state >= 0 ? LIST_SCAN_MAX : q.size;
	if (!(rows = calloc(cap, sizeof(*rows)))) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		return;
	}
	tenant_sweep(sv->tenant, c->admin ? NULL : c->user, 1);   /* outcomes nobody knows yet */
	{
		const struct store_filter f = { c->admin ? NULL : c->user, q.name[0] ? q.name : NULL, q.since_ms, 1 };

		if (store_search(sv->tenant->store, &f, q.state >= 0 ? 0 : q.from, cap, rows, &n, &total, &e)) {
			reply_err(sv->spark, rs, &e);
			free(rows);
			return;
		}
	}
	sessions = json_array();
	/* every state from one read of the master's web UI JSON when it can be had, as the
	 * listing of /v1/submissions; else one status ask per batch (through the cache) */
	have_ui = n && tenant_master_ui(sv->tenant, &ui, rs->note, sizeof(rs->note)) == 0;
	if (q.state >= 0 && n && !have_ui) {
		reply_problem(sv->spark, rs, PROBLEM_BAD_GATEWAY, "Filtering by state needs the master's web UI "
			      "(--master-ui), which is not usable now; see sparkgate's log.");
		json_decref(sessions);
		free(rows);
		return;
	}
	for (size_t i = 0; sessions && i < n; i++) {
		struct batch_now now = { 0 };
		const struct master_ui_driver *d;

		if (have_ui) {
			if (rows[i].id[0] && (d = master_ui_find(&ui, rows[i].id)) != NULL) {
				now.known = 1;
				now.state = d->state;
			}
		} else if (batch_now(sv, &rows[i], &now, rs)) {
			json_decref(sessions);
			free(rows);
			return;
		}
		if (q.state >= 0 && (strcmp(livy_state(&rows[i], &now), livy_states[q.state]) != 0 || kept++ < q.from
				     || kept > q.from + q.size))
			continue;
		if (json_array_append_new(sessions, view(&rows[i], &now, NULL, NULL))) {
			json_decref(sessions);
			sessions = NULL;
		}
	}
	if (q.state >= 0)
		total = kept;
	master_ui_release(&ui);
	free(rows);
	answer(sv, rs, 200, sessions ? json_pack("{sIsIso}", "from", (json_int_t)q.from, "total", (json_int_t)total,
						 "sessions", sessions) : NULL);
}

/* A JSON value Livy's mapper takes for a String: a string, or a number or boolean as text. */
static int text_of(json_t *v, char *out, size_t size)
{
	if (json_is_string(v))
		return snprintf(out, size, "%s", json_string_value(v)) < (int)size ? 0 : -1;
	if (json_is_integer(v))
		return snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), 0;
	if (json_is_true(v) || json_is_false(v))
		return snprintf(out, size, "%s", json_is_true(v) ? "true" : "false"), 0;
	return -1;
}

/* CreateBatchRequest (CreateBatchRequest.scala) -> the CreateSubmissionRequest Spark's
 * REST client would send for it, with the properties BatchSession.create gives
 * spark-submit (SparkProcessBuilder, Session.prepareConf): 0 with *out, or -1 with why and
 * the problem (400; 403 for another proxyUser), *as_text set when Livy's Jackson would not
 * have mapped the body (answered by body_error). */
static int translate(struct servlets *sv, const struct call *c, json_t *in, json_t **out, enum problem *p,
		     int *as_text, char *why, size_t why_size)
{
	static const struct { const char *field, *property; int integer; } scalars[] = {
		{ "driverMemory", "spark.driver.memory", 0 }, { "driverCores", "spark.driver.cores", 1 },
		{ "executorMemory", "spark.executor.memory", 0 }, { "executorCores", "spark.executor.cores", 1 },
		{ "numExecutors", "spark.executor.instances", 1 }, { "name", "spark.app.name", 0 },
	};
	/* Session.prepareConf: the lists join the conf's own value of the property; archives
	 * are spark.yarn.dist.archives there, spark.archives (Spark 3.1+) on a standalone master */
	static const struct { const char *field, *property; } lists[] = {
		{ "jars", "spark.jars" }, { "pyFiles", "spark.submit.pyFiles" }, { "files", "spark.files" },
		{ "archives", "spark.archives" },
	};
	json_t *file = json_object_get(in, "file"), *cls = json_object_get(in, "className");
	json_t *args = json_object_get(in, "args"), *conf = json_object_get(in, "conf");
	json_t *proxy = json_object_get(in, "proxyUser"), *queue = json_object_get(in, "queue");
	json_t *props = json_object(), *req = NULL, *argv = json_array();
	const char *key;
	json_t *v;
	char text[16384];

	*p = PROBLEM_BAD_REQUEST;
	*as_text = 0;
	if (!props || !argv)
		goto nomem;
	/* Jackson's FAIL_ON_UNKNOWN_PROPERTIES (on in JsonServlet's mapper): CreateBatchRequest's
	 * fields only */
	json_object_foreach(in, key, v) {
		static const char *const known[] = { "file", "proxyUser", "args", "className", "jars", "pyFiles", "files",
						     "driverMemory", "driverCores", "executorMemory", "executorCores",
						     "numExecutors", "archives", "queue", "name", "conf" };
		size_t i = 0;

		while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]) != 0)
			i++;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(why, why_size, "Unrecognized field \"%.200s\" (class "
				 "org.apache.livy.server.batch.CreateBatchRequest), not marked as ignorable", key);
			goto mapping;
		}
	}
	/* BatchSession.create: require(request.file != null, "File is required.") */
	if (!json_is_string(file) || !*json_string_value(file)) {
		snprintf(why, why_size, "Rejected, Reason: requirement failed: File is required.");
		goto fail;
	}
	if (cls && !json_is_null(cls) && !json_is_string(cls)) {
		snprintf(why, why_size, "className must be a string.");
		goto mapping;
	}
	/* AccessManager.checkImpersonation with livy.impersonation.enabled and no superusers: a
	 * user impersonates nobody but themself (the web server's login is the identity).  Livy's
	 * text writes the Option ('Some(bob)'); Livy's default, impersonation off, ignores the
	 * field, which would run a batch as someone other than asked without a word */
	if (proxy && !json_is_null(proxy) && (!json_is_string(proxy) || strcmp(json_string_value(proxy), c->user))) {
		snprintf(why, why_size, "User '%s' not allowed to impersonate '%.200s'.", c->user,
			 json_is_string(proxy) ? json_string_value(proxy) : "?");
		*p = PROBLEM_REFUSED;
		goto fail;
	}
	/* a YARN queue (spark.yarn.queue): a standalone master has none, and would ignore it */
	if (queue && !json_is_null(queue)) {
		snprintf(why, why_size, "queue is a YARN setting: a standalone cluster has no queues.");
		goto fail;
	}
	if (conf && !json_is_null(conf)) {
		if (!json_is_object(conf)) {
			snprintf(why, why_size, "conf must be an object of Spark properties.");
			goto mapping;
		}
		json_object_foreach(conf, key, v) {
			if (text_of(v, text, sizeof(text))) {
				snprintf(why, why_size, "conf's %.200s must be a string.", key);
				goto mapping;
			}
			if (json_object_set_new(props, key, json_string(text)))
				goto nomem;
		}
	}
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		v = json_object_get(in, scalars[i].field);
		if (!v || json_is_null(v))
			continue;
		if (scalars[i].integer ? !json_is_integer(v) : !json_is_string(v)) {
			snprintf(why, why_size, "%s must be %s.", scalars[i].field, scalars[i].integer ? "an integer" : "a string");
			goto mapping;
		}
		text_of(v, text, sizeof(text));
		if (json_object_set_new(props, scalars[i].property, json_string(text)))
			goto nomem;
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *had = json_string_value(json_object_get(props, lists[i].property));
		struct buf joined = BUF_INIT(LIMIT_RESPONSE_BODY);
		size_t j;
		int rc = 0;

		v = json_object_get(in, lists[i].field);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			snprintf(why, why_size, "%s must be a list of strings.", lists[i].field);
			goto mapping;
		}
		if (had && *had)
			rc = buf_addstr(&joined, had);
		json_array_foreach(v, j, file) {
			if (!json_is_string(file)) {
				buf_release(&joined);
				snprintf(why, why_size, "%s must be a list of strings.", lists[i].field);
				goto mapping;
			}
			rc = rc ? rc : buf_printf(&joined, "%s%s", joined.len ? "," : "", json_string_value(file));
		}
		if (!rc && joined.len)
			rc = json_object_set_new(props, lists[i].property, json_string(buf_str(&joined)));
		buf_release(&joined);
		if (rc) {
			snprintf(why, why_size, "%s is too long.", lists[i].field);
			goto fail;
		}
	}
	if (args && !json_is_null(args) && !json_is_array(args)) {
		snprintf(why, why_size, "args must be a list of strings.");
		goto mapping;
	}
	{
		size_t i;

		json_array_foreach(args, i, v) {
			if (!json_is_string(v)) {
				snprintf(why, why_size, "args must be a list of strings.");
				goto mapping;
			}
			if (json_array_append(argv, v))
				goto nomem;
		}
	}
	file = json_object_get(in, "file");
	/* no name: spark-submit's (SparkSubmitArguments: the main class, else the file's name);
	 * Spark's REST validation wants spark.app.name */
	if (!json_object_get(props, "spark.app.name")) {
		const char *f = json_string_value(file), *slash = strrchr(f, '/');

		if (json_object_set_new(props, "spark.app.name", json_string(json_is_string(cls) ? json_string_value(cls)
									     : slash ? slash + 1 : f)))
			goto nomem;
	}
	req = json_pack("{ss sO sO ss s{} sO}", "action", "CreateSubmissionRequest", "appArgs", argv, "appResource", file,
			"clientSparkVersion", cluster_version(&sv->spark->cluster), "environmentVariables",
			"sparkProperties", props);
	if (req && json_is_string(cls) && json_object_set(req, "mainClass", cls))
		goto nomem;
	if (!req)
		goto nomem;
	json_decref(props);
	json_decref(argv);
	*out = req;
	return 0;
nomem:
	snprintf(why, why_size, "out of memory");
	*p = PROBLEM_INTERNAL;
	goto fail;
mapping:   /* what Jackson's mapping of CreateBatchRequest refuses in Livy */
	*p = PROBLEM_BAD_REQUEST;
	*as_text = 1;
fail:
	json_decref(req);
	json_decref(props);
	json_decref(argv);
	return -1;
}

/* SessionServlet post("/") with BatchSessionServlet.createSession: 201 with the view and
 * Location. */
static void create_batch(struct servlets *sv, const struct call *c, struct response *rs)
{
	json_error_t jerr;
	json_t *in = json_loadb(c->rq->body ? c->rq->body : "", c->rq->body_len, 0, &jerr), *req = NULL;
	struct servlet_created made;
	struct request rq2 = *c->rq;
	struct call c2 = *c;
	struct store_entry x;
	struct batch_now now = { 0 };
	struct sg_err e = { 0 };
	enum problem p;
	char why[600], *text = NULL;
	json_t *done = NULL;
	const char *id;
	int rc, as_text;

	if (!json_is_object(in)) {
		body_error(sv, rs, in ? "The body must be a JSON object (CreateBatchRequest)." : jerr.text);
		goto out;
	}
	if (translate(sv, c, in, &req, &p, &as_text, why, sizeof(why))) {
		if (p == PROBLEM_REFUSED)
			reply_refuse(sv->spark, rs, REFUSAL_PROXY_USER, "proxyUser", why);
		else if (as_text)
			body_error(sv, rs, why);
		else
			reply_problem(sv->spark, rs, p, "%s", why);
		goto out;
	}
	if (!(text = json_dumps(req, JSON_COMPACT))) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
		goto out;
	}
	rq2.body = text;
	rq2.body_len = strlen(text);
	c2.rq = &rq2;
	servlet_create(sv, &c2, rs, &made);
	if (rs->status != 200)
		goto out;   /* refused or failed: answered in Livy's shape (rs->livy) */
	/* Spark's answer: a new driver, an earlier one with the same idempotency key, or the
	 * master's refusal */
	done = json_loadb((const char *)rs->body.data, rs->body.len, 0, NULL);
	id = json_string_value(json_object_get(done, "submissionId"));
	if (!json_is_true(json_object_get(done, "success")) || !id) {
		const char *m = json_string_value(json_object_get(done, "message"));

		reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "Rejected, Reason: %s", m ? m : "the master refused it");
		goto out;
	}
	rc = made.row ? store_batch(sv->tenant->store, made.row, NULL, &x, &e)
		      : store_batch(sv->tenant->store, 0, id, &x, &e);
	if (rc) {
		reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "The driver %s was submitted, but its batch was not "
			      "recorded: use GET /v1/submissions/status/%s.", id, id);
		goto out;
	}
	now.known = 1;
	now.state = DRIVER_SUBMITTED;
	snprintf(rs->header, sizeof(rs->header), "Location: /batches/%lld", (long long)x.row);
	/* SparkProcApp.log() of a spark-submit just started: its two stream headers */
	answer(sv, rs, 201, view(&x, &now, json_pack("[ss]", "stdout: ", "\nstderr: "), NULL));
out:
	free(text);
	json_decref(done);
	json_decref(req);
	json_decref(in);
}

/* SessionServlet get("/:id"), get("/:id/state"), get("/:id/log"), delete("/:id"). */
static void one_batch(struct servlets *sv, const struct call *c, const char *id, const char *what,
		      struct response *rs)
{
	const char *m = c->rq->method;
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
	struct store_entry x;
	struct batch_now now;

	if (!*what ? !get && strcmp(m, "DELETE") != 0 : !get) {
		reply_wrong_method(sv->spark, c->rq, rs, *what ? "GET, HEAD, OPTIONS" : "GET, HEAD, DELETE, OPTIONS");
		return;
	}
	if (*what && strcmp(what, "state") != 0 && strcmp(what, "log") != 0) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No such resource: /batches/%s/%s.", id, what);
		return;
	}
	if (!find_batch(sv, c, id, &x, rs))
		return;
	if (!get) {   /* DELETE: RequestKillDriver; Livy answers the same for a batch already over */
		struct cluster_answer a;

		if (!x.id[0]) {
			reply_problem(sv->spark, rs, PROBLEM_CONFLICT, "The outcome of batch %s is not known yet; try again.", id);
			return;
		}
		cluster_answer_init(&a);
		if (servlet_kill(sv, x.id, &a, rs) == 0)
			answer(sv, rs, 200, json_pack("{ss}", "msg", "deleted"));
		cluster_answer_release(&a);
		return;
	}
	if (batch_now(sv, &x, &now, rs))
		return;
	if (strcmp(what, "state") == 0) {
		answer(sv, rs, 200, json_pack("{sIss}", "id", (json_int_t)x.row, "state", livy_state(&x, &now)));
	} else if (strcmp(what, "log") == 0) {
		/* SessionServlet.serializeLogs: size 100 by default, all lines if negative; from
		 * the last size lines if not given */
		char why[200];
		long long from, size, total;
		json_t *log, *part;

		if (query_int(c->rq->query, "from", &from, why, sizeof(why))
		    || query_int(c->rq->query, "size", &size, why, sizeof(why))) {
			reply_problem(sv->spark, rs, PROBLEM_BAD_REQUEST, "%s", why);
			return;
		}
		if (!strstr(c->rq->query ? c->rq->query : "", "size="))
			size = 100;
		struct app_links links;

		if (!(log = batch_log(sv, &x, &now, &links, rs))) {
			reply_problem(sv->spark, rs, PROBLEM_INTERNAL, "out of memory");
			return;
		}
		total = (long long)json_array_size(log);
		if (size < 0)
			size = total;
		if (from < 0)
			from = total - size > 0 ? total - size : 0;
		part = json_array();
		for (long long i = from; part && i < from + size && i < total; i++)
			json_array_append(part, json_array_get(log, (size_t)i));
		json_decref(log);
		answer(sv, rs, 200, part ? json_pack("{sIsIsIso}", "id", (json_int_t)x.row, "from", (json_int_t)from,
						     "total", (json_int_t)total, "log", part) : NULL);
	} else {
		struct app_links links;
		json_t *log = batch_log(sv, &x, &now, &links, rs);

		answer(sv, rs, 200, log ? view(&x, &now, tail(log, LIVY_VIEW_LOG_LINES), &links) : NULL);
	}
}

void livy_batches_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	const char *m = c->rq->method;
	char id[32], what[32];
	const char *p, *slash;

	if (!sv->tenant->store) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "Livy's batches need an owner store: sparkgate runs "
			      "without --state-db.");
		return;
	}
	if (!c->info || strcmp(c->info, "/") == 0) {
		if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
			list_batches(sv, c, rs);
		else if (strcmp(m, "POST") == 0)
			create_batch(sv, c, rs);
		else
			reply_wrong_method(sv->spark, c->rq, rs, "GET, HEAD, POST, OPTIONS");
		return;
	}
	p = c->info + 1;
	slash = strchr(p, '/');
	if ((slash ? (size_t)(slash - p) : strlen(p)) >= sizeof(id) || (slash && strlen(slash + 1) >= sizeof(what))
	    || (slash && strchr(slash + 1, '/'))) {
		reply_problem(sv->spark, rs, PROBLEM_NOT_FOUND, "No such resource.");
		return;
	}
	snprintf(id, sizeof(id), "%.*s", (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
	snprintf(what, sizeof(what), "%s", slash ? slash + 1 : "");
	one_batch(sv, c, id, what, rs);
}

/* LivyVersionServlet: the version whose API this follows, and what built it. */
void livy_version_handle(struct servlets *sv, const struct call *c, struct response *rs)
{
	(void)c;
	answer(sv, rs, 200, json_pack("{ssssssssssss}", "version", LIVY_VERSION, "user", "sparkgate", "revision", "",
				      "branch", "", "date", "", "url", "https://livy.apache.org (the API served by sparkgate)"));
}
