/* Livy's JSON, differentially: tests/golden/livy/livy-VERSION.jsonl holds what Livy's own
 * BatchSessionServlet, JsonServlet and ObjectMapper answered to each request for five fixed
 * batches (tools/livyjson/gen.sh runs Livy's classes; it writes each request beside its
 * status and body).  The same batches are made here: rows in the owner store, their drivers
 * at a fake master (golden status replies of Spark 3.5.9) and in a fake web UI (the master's
 * /json/ and the workers' /log/ pages, with the same log lines).  Each request goes through
 * the whole gateway; its answer must have Livy's status, the same field names in the same
 * order, the same JSON types and nulls, and the same values (the inputs are the same) --
 * except where LIVY_DIFFS names the difference and why. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway_internal.h"
#include "tenant/store.h"
#include "fakemaster.h"
#include "t.h"

#define GOLDEN "tests/golden/livy/livy-0.7.1-incubating.jsonl"
#define DRV "driver-20261202040505-000"

/* ---- the fixture (LivyJson.java builds the same) ---------------------------------------- */

static const char err1[] =
	"Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties\n"
	"26/12/02 04:05:06 INFO SparkContext: Running Spark version 3.5.9\n"
	"26/12/02 04:05:07 INFO Utils: Successfully started service 'SparkUI' on port 4040.\n"
	"26/12/02 04:05:07 INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at http://127.0.0.1:4040\n"
	"26/12/02 04:05:08 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID "
	"app-20261202040508-0001\n"
	"26/12/02 04:05:01 INFO Executor: line 0\n26/12/02 04:05:02 INFO Executor: line 1\n"
	"26/12/02 04:05:03 INFO Executor: line 2\n26/12/02 04:05:04 INFO Executor: line 3\n"
	"26/12/02 04:05:05 INFO Executor: line 4\n26/12/02 04:05:06 INFO Executor: line 5\n"
	"26/12/02 04:05:07 INFO Executor: line 6\n26/12/02 04:05:08 INFO Executor: line 7\n";

/* batch N is row N, driver DRV N */
static const struct batch {
	const char *owner, *name, *state, *reply, *out, *err;
	int worker;
} batches[] = {
	{ "alice", "livy-jar", "RUNNING", "RUNNING", "TestApp stdout: 1\nTestApp stdout: 2\n", err1, 1 },
	{ "alice", "", "SUBMITTED", "SUBMITTED", "", "", 0 },
	{ "alice", "done", "FINISHED", "FINISHED", "done\n", "finished\n", 1 },
	{ "bob", "bobs", "FAILED", "FAILED", "", "Exception in thread \"main\" boom\n", 1 },
	{ "alice", "slow", "KILLED", "KILLED", "", "killed\n", 1 },
};
#define NBATCHES (sizeof(batches) / sizeof(batches[0]))

/* ---- the differences, each with its reason ----------------------------------------------- */

enum diff_kind {
	D_STATUS = 1,      /* another status (and body): want */
	D_OWN = 2,         /* a listing: sparkgate lists the caller's own batches only */
	D_NO_LOGS = 4,     /* a listing or a create's answer: no log read (log [], appId and appInfo null) */
	D_TEXT = 8,        /* an error's text is sparkgate's own (its shape is Livy's) */
	D_NAME = 16,       /* a create without "name": sparkgate's name is spark-submit's default */
	D_LOG_VALUES = 32, /* the log lines: sparkgate adds the master's word about a dead driver */
	D_VALUES = 64,     /* every value (not names or types) is sparkgate's own */
	D_JSON = 128,      /* Livy's body is empty (Scalatra's own 404 and 405): sparkgate's is {"msg"} */
	D_PROXY = 256,     /* a create naming another proxyUser */
	D_JACKSON = 512,   /* a create whose body Livy's Jackson refused (400, a JSON string) */
	D_DUP = 1024,      /* a create named as an earlier batch */
};

static const struct livy_diff {
	const char *method, *path, *user;
	int kinds, want;
	const char *why;
} LIVY_DIFFS[] = {
	{ "GET", "/batches", "alice", D_OWN | D_NO_LOGS, 0,
	  "lists the caller's own batches (Livy: everyone's, with no log for others'), and reads no log for a "
	  "listing (README: that would read every driver's log from its worker)" },
	{ "GET", "/batches?from=1&size=2", "alice", D_OWN | D_NO_LOGS, 0, "as above" },
	{ "GET", "/batches?from=3", "alice", D_OWN | D_NO_LOGS, 0, "as above" },
	{ "GET", "/batches/4", "alice", D_STATUS, 404,
	  "another user's batch is not confirmed to exist (Livy shows it without its log)" },
	{ "GET", "/batches/4", "bob", D_LOG_VALUES, 0,
	  "a dead batch's log ends with the master's state (Livy's is spark-submit's output)" },
	{ "GET", "/batches/4/log", "alice", D_STATUS, 404, "as another user's GET (Livy: 403 {})" },
	{ "DELETE", "/batches/4", "alice", D_STATUS, 404, "as another user's GET (Livy: 403 {})" },
	{ "GET", "/batches/1/log?from=x", "alice", D_TEXT, 0, "Livy says For input string: \"x\"" },
	{ "POST", "/batches", "alice", D_NAME, 0,
	  "without a name, the batch's is the one its driver gets (spark.app.name: Spark's REST API wants one; "
	  "spark-submit's default is the class), where Livy's is null" },
	{ "POST", "/batches", "alice", D_TEXT | D_JACKSON, 0, "Jackson's texts name Java classes and the input's position" },
	{ "POST", "/batches", "alice", D_STATUS | D_PROXY, 403,
	  "a proxyUser other than the caller is refused, as Livy with livy.impersonation.enabled refuses it "
	  "(Livy's default, impersonation off, ignores it)" },
	{ "POST", "/imp/batches", "alice", D_TEXT, 0,
	  "Livy's text shows the Scala Option: impersonate 'Some(bob)'" },
	{ "POST", "/batches", "alice", D_STATUS | D_DUP, 201,
	  "batch names need not be unique (Livy: 400 Duplicate session name, while the earlier one is kept; "
	  "schedulers reuse a task's name run after run)" },
	{ "GET", "/batches/done", "alice", D_STATUS, 404, "a batch is found by its id only (Livy: by its name too)" },
	{ "PUT", "/batches", "alice", D_JSON, 0, "every error of sparkgate's is JSON (Livy: an empty 405)" },
	{ "PUT", "/batches/1", "alice", D_JSON, 0, "as above" },
	{ "POST", "/batches/1/state", "alice", D_JSON, 0, "as above" },
	{ "GET", "/batches/1/nosuch", "alice", D_JSON, 0, "as above (Livy: an empty 404)" },
	{ "GET", "/batches/1", "alice", 0, 0, "" },
	{ "GET", "/version", "alice", D_VALUES, 0, "the version whose API sparkgate follows, and what built it" },
};

static int taken_name(json_t *name)
{
	for (size_t i = 0; json_is_string(name) && i < NBATCHES; i++)
		if (strcmp(batches[i].name, json_string_value(name)) == 0)
			return 1;
	return 0;
}

/* After DELETE /batches/1 Livy forgets the batch (404); sparkgate keeps it, killed at the
 * master (here the fake master still says RUNNING). */
static int deleted;

static const struct livy_diff *diff_of(const char *method, const char *path, const char *user, json_t *body,
				       int status, json_t *answer)
{
	for (size_t i = 0; i < sizeof(LIVY_DIFFS) / sizeof(LIVY_DIFFS[0]); i++) {
		const struct livy_diff *d = &LIVY_DIFFS[i];

		if (strcmp(d->method, method) || strcmp(d->path, path) || strcmp(d->user, user))
			continue;
		/* a body Livy's Jackson refused: its text; others are compared (below) */
		if (strcmp(method, "POST") == 0 && (d->kinds & D_JACKSON) != (status == 400 && !json_is_object(answer) ? D_JACKSON : 0))
			continue;
		if (strcmp(method, "POST") == 0 && (d->kinds & D_NAME) && json_object_get(body, "name") != NULL)
			continue;
		if (strcmp(method, "POST") == 0 && !(d->kinds & D_DUP) != !taken_name(json_object_get(body, "name")))
			continue;
		if (strcmp(method, "POST") == 0 && !(d->kinds & D_PROXY) != !json_object_get(body, "proxyUser")
		    && strcmp(path, "/batches") == 0)
			continue;
		if (strcmp(path, "/batches/1") == 0 && strcmp(method, "GET") == 0) {
			static const struct livy_diff kept = { "GET", "/batches/1", "alice", D_STATUS, 200,
							       "a deleted batch is kept, killed at the master" };

			return deleted ? &kept : NULL;
		}
		return d;
	}
	return NULL;
}

/* ---- a fake web UI: the master's /json/ and the workers' /log/ ------------------------- */

static int web_ls, web_port;
static char fake_master_url[64], master_json[8192];

static void web_answer(int fd, const char *req)
{
	char path[512] = "", head[256], body[4096];
	const char *text = NULL;

	sscanf(req, "GET %511s", path);
	if (strncmp(path, "/json", 5) == 0) {
		text = master_json;
	} else if (strncmp(path, "/log/?driverId=" DRV, sizeof("/log/?driverId=" DRV) - 1) == 0) {
		unsigned n = (unsigned)(path[sizeof("/log/?driverId=" DRV) - 1] - '1');
		int err = strstr(path, "logType=stderr") != NULL;

		if (n < NBATCHES) {
			const char *t = err ? batches[n].err : batches[n].out;

			snprintf(body, sizeof(body), "==== Bytes 0-%zu of %zu of /work/" DRV "%u/%s ====\n%s", strlen(t),
				 strlen(t), n + 1, err ? "stderr" : "stdout", t);
			text = body;
		}
	}
	if (!text)
		text = "Error: no such page";
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", strlen(text));
	if (write(fd, head, strlen(head)) < 0 || write(fd, text, strlen(text)) < 0)
		return;
}

static void *web_serve(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(web_ls, NULL, NULL)) >= 0) {
		char req[2048];
		size_t len = 0;
		ssize_t n;

		while (len < sizeof(req) - 1 && (n = read(fd, req + len, sizeof(req) - 1 - len)) > 0) {
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		web_answer(fd, req);
		close(fd);
	}
	return NULL;
}

static int web_start(pthread_t *t)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	web_ls = socket(AF_INET, SOCK_STREAM, 0);
	if (web_ls < 0 || bind(web_ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(web_ls, 16)
	    || getsockname(web_ls, (struct sockaddr *)&sa, &sl))
		return -1;
	web_port = ntohs(sa.sin_port);
	return pthread_create(t, NULL, web_serve, NULL);
}

/* The master's /json/ for the fixture (the shape of a real 3.5.9 master's, tests/unit/master-ui.json). */
static void make_master_json(void)
{
	char active[3000] = "", done[3000] = "";

	for (size_t i = 0; i < NBATCHES; i++) {
		char *to = strcmp(batches[i].state, "RUNNING") == 0 || strcmp(batches[i].state, "SUBMITTED") == 0 ? active
															 : done;
		char one[400];

		snprintf(one, sizeof(one), "%s{\"id\":\"" DRV "%zu\",\"starttime\":\"1796125813615\",\"state\":\"%s\","
			 "\"cores\":1,\"memory\":512,\"resources\":{},\"submitdate\":\"Wed Dec 02 04:05:05 UTC 2026\","
			 "\"worker\":\"%s\",\"mainclass\":\"M\"}", *to ? "," : "", i + 1, batches[i].state,
			 batches[i].worker ? "worker-20261202040500-127.0.0.1-40000" : "None");
		strncat(to, one, 3000 - strlen(to) - 1);
	}
	snprintf(master_json, sizeof(master_json),
		 "{\"url\":\"%s\",\"workers\":[{\"id\":\"worker-20261202040500-127.0.0.1-40000\",\"host\":\"127.0.0.1\","
		 "\"port\":40000,\"webuiaddress\":\"http://127.0.0.1:%d\",\"cores\":2,\"coresused\":1,\"coresfree\":1,"
		 "\"memory\":2048,\"memoryused\":512,\"memoryfree\":1536,\"resources\":{},\"resourcesused\":{},"
		 "\"resourcesfree\":{},\"state\":\"ALIVE\",\"lastheartbeat\":1796125813389}],\"aliveworkers\":1,"
		 "\"cores\":2,\"coresused\":1,\"memory\":2048,\"memoryused\":512,\"resources\":[],\"resourcesused\":[],"
		 "\"activeapps\":[],\"completedapps\":[],\"activedrivers\":[%s],\"completeddrivers\":[%s],"
		 "\"status\":\"ALIVE\"}", fake_master_url, web_port, active, done);
}

/* ---- the fake master ----------------------------------------------------------------------- */

static struct blob status_reply[NBATCHES], notfound, submit_ok, kill_ok;
static char submits = '0';

static const struct blob *reply(const uint8_t *body, size_t len, void *arg)
{
	(void)arg;
	if (memmem(body, len, "RequestSubmitDriver", 19)) {   /* a new driver id each time: its last digit */
		uint8_t *at = submit_ok.p;

		submits++;
		while ((at = memmem(at, submit_ok.len - (size_t)(at - submit_ok.p), "driver-20240101000000-000", 25))
		       != NULL) {
			at[25] = (uint8_t)submits;
			at += 26;
		}
		return &submit_ok;
	}
	if (memmem(body, len, "RequestKillDriver", 17))
		return &kill_ok;
	for (size_t i = 0; i < NBATCHES; i++) {
		char id[40];

		snprintf(id, sizeof(id), DRV "%zu", i + 1);
		if (memmem(body, len, id, strlen(id)))
			return &status_reply[i];
	}
	return &notfound;
}

/* ---- comparing ----------------------------------------------------------------------------- */

static char web_base[64];

/* Livy's value with the fixture's web UI address (WEBUI) made this test's. */
static json_t *localized(json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v), *at = strstr(s, "WEBUI");
		char out[1024];

		if (at) {
			snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - s), s, web_base, at + 5);
			return json_string(out);
		}
	}
	return json_incref(v);
}

/* want (Livy's) against got (sparkgate's) at path: names and their order, types, nulls and,
 * unless values is 0, values.  Returns the number of differences reported. */
static int compare(const char *what, const char *path, json_t *want, json_t *got, int values)
{
	int n = 0;

	if (json_typeof(want) != json_typeof(got) && !(json_is_boolean(want) && json_is_boolean(got))) {
		CHECK(0, "%s: %s is %d in Livy, %d here", what, path, json_typeof(want), json_typeof(got));
		return 1;
	}
	if (json_is_object(want)) {
		void *a = json_object_iter(want), *b = json_object_iter(got);

		for (; a && b; a = json_object_iter_next(want, a), b = json_object_iter_next(got, b)) {
			char sub[300];

			if (strcmp(json_object_iter_key(a), json_object_iter_key(b))) {
				CHECK(0, "%s: %s: Livy's field %s, here %s", what, path, json_object_iter_key(a),
				      json_object_iter_key(b));
				return n + 1;
			}
			snprintf(sub, sizeof(sub), "%s.%s", path, json_object_iter_key(a));
			n += compare(what, sub, json_object_iter_value(a), json_object_iter_value(b), values);
		}
		if (a || b) {
			CHECK(0, "%s: %s: Livy's field %s, here %s", what, path, a ? json_object_iter_key(a) : "(none)",
			      b ? json_object_iter_key(b) : "(none)");
			n++;
		}
		return n;
	}
	if (json_is_array(want)) {
		if (values && json_array_size(want) != json_array_size(got)) {
			CHECK(0, "%s: %s has %zu items in Livy, %zu here", what, path, json_array_size(want),
			      json_array_size(got));
			return 1;
		}
		for (size_t i = 0; i < json_array_size(want) && i < json_array_size(got); i++) {
			char sub[300];

			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			n += compare(what, sub, json_array_get(want, i), json_array_get(got, i), values);
		}
		return n;
	}
	if (values) {
		json_t *w = localized(want);
		int same = json_equal(w, got);
		char *a = json_dumps(w, JSON_ENCODE_ANY), *b = json_dumps(got, JSON_ENCODE_ANY);

		CHECK(same, "%s: %s is %s in Livy, %s here", what, path, a, b);
		n += !same;
		free(a);
		free(b);
		json_decref(w);
	}
	return n;
}

/* A batch view's fields compared (listing or create: without log values, appId and appInfo null here). */
static int compare_view(const char *what, json_t *want, json_t *got, int no_logs, int skip_name)
{
	json_t *w = json_deep_copy(want);
	int n;

	if (no_logs) {
		json_object_set_new(w, "appId", json_null());
		json_object_set_new(w, "appInfo", json_pack("{snsn}", "driverLogUrl", "sparkUiUrl"));
		n = compare(what, "$.log", json_object_get(w, "log"), json_object_get(got, "log"), 0);
		json_object_set(w, "log", json_object_get(got, "log"));
	}
	if (skip_name)
		json_object_set(w, "name", json_object_get(got, "name"));
	n = compare(what, "$", w, got, 1);
	json_decref(w);
	return n;
}

static int gateway_ask(struct gateway *g, const char *method, const char *path_q, const char *user, const char *body,
		       struct response *rs)
{
	char path[256];
	const char *q = strchr(path_q, '?');
	struct request rq = { .method = method, .path = path, .query = q ? q + 1 : NULL, .remote_addr = "127.0.0.1",
			      .remote_user = user, .requested_by = "livy_test", .body = body ? body : "",
			      .body_len = body ? strlen(body) : 0 };

	snprintf(path, sizeof(path), "%.*s", (int)(q ? (size_t)(q - path_q) : strlen(path_q)), path_q);
	response_reset(rs);
	gateway_handle(g, &rq, rs);
	return rs->status;
}

static void one_case(struct gateway *g, json_t *c, struct response *rs, int *ncases)
{
	const char *method = json_string_value(json_object_get(c, "method"));
	const char *path = json_string_value(json_object_get(c, "path"));
	const char *user = json_string_value(json_object_get(c, "user"));
	const char *body = json_string_value(json_object_get(c, "body"));
	const char *location = json_string_value(json_object_get(c, "location"));
	int want_status = (int)json_integer_value(json_object_get(c, "status"));
	json_t *want = json_loads(json_string_value(json_object_get(c, "answer")), JSON_DECODE_ANY, NULL), *got, *in;
	const struct livy_diff *d;
	char what[300];
	int status;

	if (strcmp(method, "MAPPER") == 0) {   /* BatchSessionView serialized with every Option set */
		gateway_ask(g, "GET", "/batches/1", "alice", NULL, rs);
		got = json_loadb((const char *)rs->body.data, rs->body.len, 0, NULL);
		/* proxyUser is null here, as Livy's with impersonation off (README) */
		CHECK(json_is_string(json_object_get(want, "proxyUser")) && json_is_null(json_object_get(got, "proxyUser")),
		      "Livy's proxyUser a string");
		json_object_set_new(want, "proxyUser", json_null());
		compare("BatchSessionView with every Option set", "$", want, got, 0);
		json_decref(got);
		json_decref(want);
		return;
	}
	in = body ? json_loads(body, 0, NULL) : NULL;
	d = diff_of(method, path, user, in, want_status, want);
	snprintf(what, sizeof(what), "%s %s as %s", method, path, user);
	status = gateway_ask(g, method, strncmp(path, "/imp/", 5) == 0 ? path + 4 : path, user, body, rs);
	got = json_loadb((const char *)rs->body.data, rs->body.len, JSON_DECODE_ANY, NULL);
	(*ncases)++;
	if (d && (d->kinds & D_STATUS)) {
		CHECK(status == d->want, "%s: %d, want %d (%s): %s", what, status, d->want, d->why, buf_str(&rs->body));
		goto out;
	}
	CHECK(status == want_status, "%s: %d, Livy %d: %s", what, status, want_status, buf_str(&rs->body));
	CHECK(got != NULL, "%s: not JSON: %s", what, buf_str(&rs->body));
	if (json_is_string(json_object_get(c, "allow"))) {   /* every method Livy allows, sparkgate allows */
		char methods[100];
		const char *p = json_string_value(json_object_get(c, "allow"));

		while (sscanf(p, " %99[A-Z]", methods) == 1) {
			CHECK(rs->allow && strstr(rs->allow, methods), "%s: Allow %s, Livy's %s", what, rs->allow ? rs->allow : "",
			      json_string_value(json_object_get(c, "allow")));
			p = strchr(p, ',') ? strchr(p, ',') + 1 : "";
		}
	}
	if (d && (d->kinds & D_JSON)) {
		CHECK(want == NULL && json_is_string(json_object_get(got, "msg")) && json_object_size(got) == 1,
		      "%s: Livy's %s, here %s", what, json_string_value(json_object_get(c, "answer")), buf_str(&rs->body));
		goto out;
	}
	CHECK(want != NULL, "%s: Livy's answer is not JSON: %s", what, json_string_value(json_object_get(c, "answer")));
	if (!got || !want || status != want_status)
		goto out;
	if (location) {
		char h[80];

		snprintf(h, sizeof(h), "Location: %s", location);
		CHECK(strcmp(rs->header, h) == 0, "%s: %s, Livy's %s", what, rs->header, h);
	}
	if (d && (d->kinds & D_OWN)) {   /* Livy's page of everyone's batches, the others' taken out */
		json_t *w = json_deep_copy(want), *kept = json_array(), *v;
		size_t i, others = 0;

		json_array_foreach(json_object_get(want, "sessions"), i, v)
			if (strcmp(json_string_value(json_object_get(v, "owner")), user) == 0)
				json_array_append(kept, v);
		for (i = 0; i < NBATCHES; i++)
			others += strcmp(batches[i].owner, user) != 0;
		json_object_set_new(w, "sessions", kept);
		json_object_set_new(w, "total", json_integer(json_integer_value(json_object_get(want, "total"))
							     - (json_int_t)others));
		CHECK(json_array_size(json_object_get(got, "sessions")) == json_array_size(kept), "%s: %zu sessions, Livy %zu",
		      what, json_array_size(json_object_get(got, "sessions")), json_array_size(kept));
		compare(what, "$.from", json_object_get(w, "from"), json_object_get(got, "from"), 1);
		compare(what, "$.total", json_object_get(w, "total"), json_object_get(got, "total"), 1);
		for (i = 0; i < json_array_size(kept) && i < json_array_size(json_object_get(got, "sessions")); i++)
			compare_view(what, json_array_get(kept, i), json_array_get(json_object_get(got, "sessions"), i), 1, 0);
		json_decref(w);
	} else if (strcmp(method, "POST") == 0 && status == 201) {
		compare_view(what, want, got, 0, d && (d->kinds & D_NAME));
	} else if (strcmp(method, "POST") == 0 && want_status == 400 && json_is_string(json_object_get(want, "msg"))) {
		/* Livy 0.8's SessionServlet post("/") catches what the create's require() throws:
		 * BadRequest(ResponseMessage("Rejected, Reason: " + e.getMessage)); 0.7.1 let its
		 * error handler answer e.getMessage alone */
		json_t *w = json_pack("{ss+}", "msg", "Rejected, Reason: ", json_string_value(json_object_get(want, "msg")));

		compare(what, "$", w, got, 1);
		json_decref(w);
	} else if (d && (d->kinds & D_LOG_VALUES)) {
		compare(what, "$.log", json_object_get(want, "log"), json_object_get(got, "log"), 0);
		json_t *w = json_deep_copy(want);

		json_object_set(w, "log", json_object_get(got, "log"));
		compare(what, "$", w, got, 1);
		json_decref(w);
	} else {
		compare(what, "$", want, got, !(d && (d->kinds & (D_TEXT | D_VALUES))));
	}
	CHECK(1, "counted");
out:
	if (strcmp(method, "DELETE") == 0 && status == 200)
		deleted = 1;
	json_decref(got);
	json_decref(in);
	json_decref(want);
}

int main(void)
{
	struct fake_master m;
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	pthread_t web;
	FILE *f;
	char line[1 << 16];
	int ncases = 0;

	for (size_t i = 0; i < NBATCHES; i++) {
		char path[200];

		snprintf(path, sizeof(path), "tests/golden/spark-3.5.9_2.12/reply-status-%s.bin", batches[i].reply);
		CHECK(blob_read(path, &status_reply[i], malloc) == 0, "%s", path);
	}
	CHECK(blob_read("tests/golden/spark-3.5.9_2.12/reply-status-notfound.bin", &notfound, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-submit-ok.bin", &submit_ok, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-kill-ok.bin", &kill_ok, malloc) == 0, "golden replies");
	CHECK(fake_master_start(&m, reply, NULL) == 0, "fake master");
	snprintf(fake_master_url, sizeof(fake_master_url), "%s", m.url);
	CHECK(web_start(&web) == 0, "fake web UI");
	snprintf(web_base, sizeof(web_base), "127.0.0.1:%d", web_port);
	make_master_json();

	memset(&g, 0, sizeof(g));
	CHECK(cluster_init(&g.spark.cluster, m.url, "3.5.9", &e) == 0, "%s", e.msg);
	policy_init(&g.tenant.policy);
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = 5000;
	g.servlets.max_body = 1 << 20;
	g.tenant.csrf = CSRF_HEADER;
	snprintf(g.tenant.master_ui, sizeof(g.tenant.master_ui), "http://127.0.0.1:%d", web_port);
	g.tenant.claims_swept_ms = tenant_wall_ms();   /* no sweep of claims: every row is finished */
	snprintf(g.spark.master_url, sizeof(g.spark.master_url), "%s", m.url);
	for (size_t i = 0; i < NBATCHES; i++) {
		const struct store_claim mine = { .token = "t", .holder = "h 1 1", .created_ms = 1, .lease_ms = 60001 };
		struct store_claim c;
		char id[40];

		snprintf(id, sizeof(id), DRV "%zu", i + 1);
		CHECK(store_claim(g.tenant.store, batches[i].owner, NULL, &mine, 1, 512, &c, &e) == 0
		      && c.row == (int64_t)i + 1 && store_finish(g.tenant.store, c.row, id, 0, batches[i].name, "M", &e) == 0,
		      "batch %zu: %s", i + 1, e.msg);
	}
	response_init(&rs);

	CHECK((f = fopen(GOLDEN, "r")) != NULL, "%s (tools/livyjson/gen.sh writes it)", GOLDEN);
	while (f && fgets(line, sizeof(line), f)) {
		json_t *c = json_loads(line, 0, NULL);

		CHECK(c != NULL, "a line of %s", GOLDEN);
		if (c)
			one_case(&g, c, &rs, &ncases);
		json_decref(c);
	}
	if (f)
		fclose(f);
	CHECK(ncases >= 30, "%d of Livy's answers compared", ncases);

	response_release(&rs);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	fake_master_stop(&m);
	shutdown(web_ls, SHUT_RDWR);
	close(web_ls);
	pthread_join(web, NULL);
	for (size_t i = 0; i < NBATCHES; i++)
		free(status_reply[i].p);
	free(notfound.p);
	free(submit_ok.p);
	free(kill_ok.p);
	return t_done("livy_test");
}
