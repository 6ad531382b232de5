/* Allocation failure, like jansson's test_chaos and nghttp2's failmalloc: every operation
 * below is run once to learn its outcome, then again failing its 1st, 2nd, ... Nth
 * allocation until a run makes no more allocations than N.  Each run must end cleanly
 * (ASan and LeakSanitizer in the sanitized build catch leaks, double frees and crashes), and
 * where its outcome first differs from the normal one it must say "out of memory" (the
 * error keeps its kind: ERR_NOMEM, HTTP 500), never a wrong answer.
 *
 * core's calls to malloc, calloc, realloc, strdup and strndup are bound to the __wrap_
 * functions here by the linker (Makefile: ALLOC_WRAP); jansson allocates through core
 * (rest.c sets its allocator), so its allocations fail in turn too.
 * The fake master thread never fails (the counters are per thread). */
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spark/deploy.h"
#include "wire/frame.h"
#include "tenant/policy.h"
#include "spark/rest.h"
#include "gateway_internal.h"
#include "tenant/store.h"
#include "spark/submit.h"
#include "../../fcgi/adapter.h"
#include "fakemaster.h"
#include "t.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static _Thread_local long alloc_count, fail_at;   /* fail_at 0: never */
static _Thread_local int injected;
static int trace;   /* print answers: set while a failing run is repeated for the log */

static int fail_now(void)
{
	if (!fail_at || ++alloc_count != fail_at)
		return 0;
	injected = 1;
	return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fail_now() ? NULL : __real_strndup(s, n); }

/* ---- outcomes ------------------------------------------------------------------------- */

/* What an operation did, step by step: a code and a hash of what it produced. */
#define TRAIL_MAX 16
struct trail {
	int n;
	struct { int code; uint64_t hash; } step[TRAIL_MAX];
};

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "\xff", 1);
}

static void step(struct trail *t, int code, uint64_t hash)
{
	if (t->n < TRAIL_MAX) {
		t->step[t->n].code = code;
		t->step[t->n].hash = hash;
		t->n++;
	}
}

typedef void (*op_fn)(const void *arg, struct trail *t);

/* code is a sg_err code (parsers) or an HTTP status (the request path) */
static int out_of_memory(int code)
{
	return code == ERR_NOMEM || code == 500;
}

static void chaos(const char *name, op_fn op, const void *arg)
{
	struct trail want = { 0 };
	long runs = 0;
	int bad = 0;

	op(arg, &want);
	for (long n = 1; !bad; n++) {
		struct trail got = { 0 };

		alloc_count = 0;
		injected = 0;
		fail_at = n;
		op(arg, &got);
		fail_at = 0;
		if (!injected)
			break;   /* the run made fewer than n allocations: every one has failed once */
		runs++;
		for (int i = 0; i < want.n || i < got.n; i++) {
			if (i < want.n && i < got.n && got.step[i].code == want.step[i].code
			    && got.step[i].hash == want.step[i].hash)
				continue;
			if (i >= got.n || !out_of_memory(got.step[i].code)) {
				CHECK(0, "%s, allocation %ld failed: step %d answered %d instead of %d or out of memory",
				      name, n, i, i < got.n ? got.step[i].code : 0, i < want.n ? want.step[i].code : 0);
				bad = 1;
			}
			break;
		}
	}
	if (bad) {   /* the run again, with its answers, and the normal one for comparison */
		struct trail again = { 0 };

		trace = 1;
		fprintf(stderr, "--- %s, normal run:\n", name);
		op(arg, &again);
		fprintf(stderr, "--- %s, allocation %ld failing:\n", name, runs);
		alloc_count = 0;
		fail_at = runs;
		op(arg, &again);
		fail_at = 0;
		trace = 0;
	}
	CHECK(!bad && runs > 0, "%s: %ld allocations failed in turn", name, runs);
}

/* ---- the parsers ---------------------------------------------------------------------- */

static int slurp(const char *path, struct blob *b)
{
	return blob_read(path, b, __real_malloc);
}

static void op_reply(const void *arg, struct trail *t)
{
	const struct blob *b = arg;
	struct deploy_reply r;
	struct sg_err e = { 0 };
	int rc = deploy_read_reply(b->p, b->len, &r, &e);
	uint64_t h = 14695981039346656037ULL;

	if (rc == 0) {
		h = fnv(h, &r.kind, sizeof(r.kind));
		h = fnv(h, &r.success, sizeof(r.success));
		h = fnv(h, &r.state, sizeof(r.state));
		h = fnv_str(fnv_str(fnv_str(h, r.driver_id), r.message), r.exception);
		h = fnv_str(fnv_str(h, r.worker_id), r.worker_host_port);
		deploy_reply_release(&r);
	}
	step(t, rc ? e.code : 0, h);
}

struct create_case {
	const struct blob *body;
	const struct spark_build *build;
};

static void op_create(const void *arg, struct trail *t)
{
	const struct create_case *c = arg;
	struct submit_config cfg = { "spark://m:7077", c->build, NULL, NULL };
	struct create_request cr;
	struct rest_error err;
	struct driver_desc d;
	struct buf out = BUF_INIT(LIMIT_REQUEST_STREAM);
	int rc;

	create_request_init(&cr);
	rest_error_init(&err);
	driver_desc_init(&d);
	rc = rest_parse_create((const char *)c->body->p, c->body->len, &c->build->rest, &cr, &err);
	if (trace)
		fprintf(stderr, "[fail_at %ld] %s: %d %s\n", fail_at, c->body->name, err.status, buf_str(&err.message));
	step(t, rc ? err.status : 0, fnv_str(14695981039346656037ULL, buf_str(&err.message)));
	if (!rc) {
		rc = submit_build_driver(&cr, &cfg, &d, &err);
		step(t, rc ? err.status : 0, fnv_str(14695981039346656037ULL, buf_str(&err.message)));
	}
	if (!rc) {
		rc = deploy_write_submit(&out, c->build, &d);
		step(t, rc, fnv(14695981039346656037ULL, out.data, out.len));
	}
	buf_release(&out);
	driver_desc_release(&d);
	rest_error_release(&err);
	create_request_release(&cr);
}

static const char policy_text[] =
	"group ops = carol dave\n"
	"group analysts = alice bob\n"
	"group analysts = erin\n"
	"admins ops\n"
	"allow app hdfs://nn/ M\n"
	"allow url https://files.example.com/\n"
	"allow property spark.app.name spark.driver.memory spark.cores.max\n"
	"default property spark.cores.max 1\n"
	"allow java-option -XX:+UseG1GC\n"
	"allow env A B\n"
	"allow placeholder X Y\n"
	"max driver-cores 4\n"
	"max driver-memory 8g\n"
	"quota user * drivers 3 cores 6 memory 12g\n"
	"quota user alice drivers 5\n"
	"quota group analysts drivers 10 cores 20 memory 40g\n"
	"quota group ops drivers 10\n";

static void op_policy(const void *arg, struct trail *t)
{
	struct policy p;
	struct sg_err e = { 0 };
	int rc;

	(void)arg;
	policy_init(&p);
	rc = policy_parse(&p, policy_text, sizeof(policy_text) - 1, &e);
	step(t, rc ? e.code : 0, rc ? 0 : (uint64_t)(p.ngroups * 100 + p.nquotas));
	policy_release(&p);
}

/* ---- the request path, against a fake master ----------------------------------------- */

static struct blob reply_submit, reply_status, reply_kill;

static const struct blob *pick_reply(const uint8_t *body, size_t len, void *arg)
{
	(void)arg;
	return memmem(body, len, "RequestKillDriver", 17) ? &reply_kill
	       : memmem(body, len, "RequestDriverStatus", 19) ? &reply_status : &reply_submit;
}

/* An answer's hash without the listing's times (the clock moves between runs). */
static uint64_t hash_answer(const char *body)
{
	static const char *const keys[] = { "\"submitTime\" : \"", "\"seenRunning\" : \"", "\"seenEnded\" : \"" };
	uint64_t h = 14695981039346656037ULL;
	const char *p = body;

	for (;;) {
		const char *t = NULL;
		size_t klen = 0;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *k = strstr(p, keys[i]);

			if (k && (!t || k < t))
				t = k, klen = strlen(keys[i]);
		}
		if (!t)
			break;
		h = fnv(h, p, (size_t)(t - p));
		p = strchr(t + klen, '"');
		if (!p)
			return h;
	}
	return fnv_str(h, p);
}

struct param { const char *name, *value; };

struct http {
	const struct param *params;
	const char *body;
	size_t off;
};

/* The request's parameters as the environment array the adapter reads. */
struct env {
	const char *entries[16];
	char text[16][256];
};

static const char *const *http_env(const struct http *h, struct env *e)
{
	size_t n = 0;

	for (const struct param *p = h->params; p->name && n < 15; p++, n++) {
		snprintf(e->text[n], sizeof(e->text[n]), "%s=%s", p->name, p->value);
		e->entries[n] = e->text[n];
	}
	e->entries[n] = NULL;
	return e->entries;
}

static ssize_t http_read(void *ctx, void *p, size_t n)
{
	struct http *h = ctx;
	size_t left = strlen(h->body) - h->off;

	if (n > left)
		n = left;
	memcpy(p, h->body + h->off, n);
	h->off += n;
	return (ssize_t)n;
}

static struct fake_master master;

static char create_length[16];
static const char create_body[] =
	"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"hdfs://nn/app.jar\",\"mainClass\":\"M\","
	"\"clientSparkVersion\":\"3.5.9\",\"appArgs\":[\"1\"],\"environmentVariables\":{\"A\":\"b\"},"
	"\"sparkProperties\":{\"spark.app.name\":\"a\",\"spark.driver.memory\":\"1g\"}}";

/* create, status, kill and the listing as alice, through the adapter, with owners, the
 * policy and quotas (whose accounting asks the master for each running driver). */
static void op_requests(const void *arg, struct trail *t)
{
	static const struct param create[] = {
		{ "REQUEST_METHOD", "POST" }, { "SCRIPT_NAME", "/v1/submissions/create" }, { "REMOTE_USER", "alice" },
		{ "CONTENT_LENGTH", create_length }, { "HTTP_IDEMPOTENCY_KEY", "k1" }, { NULL, NULL } };
	static const struct param create2[] = {
		{ "REQUEST_METHOD", "POST" }, { "SCRIPT_NAME", "/v1/submissions/create" }, { "REMOTE_USER", "alice" },
		{ "CONTENT_LENGTH", create_length }, { NULL, NULL } };
	static const struct param status[] = {
		{ "REQUEST_METHOD", "GET" }, { "REQUEST_URI", "/v1/submissions/status/driver-20240101000000-0000" },
		{ "REMOTE_USER", "alice" }, { NULL, NULL } };
	static const struct param kill[] = {
		{ "REQUEST_METHOD", "POST" }, { "SCRIPT_NAME", "/v1/submissions/kill/driver-20240101000000-0000" },
		{ "REMOTE_USER", "carol" }, { NULL, NULL } };
	static const struct param list[] = {
		{ "REQUEST_METHOD", "GET" }, { "SCRIPT_NAME", "/v1/submissions" }, { "REMOTE_USER", "alice" },
		{ NULL, NULL } };
	/* someone with no drivers: a listing of none (once freed what it never read) */
	static const struct param list_none[] = {
		{ "REQUEST_METHOD", "GET" }, { "SCRIPT_NAME", "/v1/submissions" }, { "REMOTE_USER", "nobody" },
		{ NULL, NULL } };
	static const struct param *const seq[] = { create, create, create2, status, kill, list, list_none };
	struct gateway g;
	struct adapted ad;
	struct response rs;
	struct sg_err e = { 0 };
	int rc;

	(void)arg;
	memset(&g, 0, sizeof(g));
	rc = cluster_init(&g.spark.cluster, master.url, "3.5.9", &e);
	policy_init(&g.tenant.policy);
	rc = rc ? rc : policy_parse(&g.tenant.policy, policy_text, sizeof(policy_text) - 1, &e);
	if (!rc && !(g.tenant.store = store_open(":memory:", &e)))
		rc = e.code;
	step(t, rc ? e.code : 0, 0);
	g.spark.cluster.master.timeout_ms = 5000;
	g.servlets.max_body = 1 << 20;
	snprintf(g.spark.master_url, sizeof(g.spark.master_url), "%s", master.url);
	adapted_init(&ad, g.servlets.max_body);
	response_init(&rs);
	for (size_t i = 0; !rc && i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct http h = { seq[i], seq[i][0].value[0] == 'P' ? create_body : "", 0 };
		struct env env;

		response_reset(&rs);
		if (adapt_request(&ad, http_env(&h, &env), http_read, &h)) {
			step(t, 500, 0);
			break;
		}
		gateway_handle(&g, &ad.rq, &rs);
		step(t, rs.status, hash_answer(buf_str(&rs.body)));
		if (trace)
			fprintf(stderr, "[fail_at %ld] %d %s\n", fail_at, rs.status, buf_str(&rs.body));
	}
	response_release(&rs);
	adapted_release(&ad);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
}

int main(void)
{
	static const char *const dirs[] = { "tests/golden/spark-3.5.9_2.12", "tests/golden/spark-3.5.9_2.13",
					    "tests/golden/spark-4.3.0_2.13" };
	struct blob blobs[200];
	size_t nblobs = 0;

	snprintf(create_length, sizeof(create_length), "%zu", sizeof(create_body) - 1);

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		CHECK(dir != NULL, "open %s", dirs[d]);
		while (dir && (de = readdir(dir)) && nblobs < sizeof(blobs) / sizeof(blobs[0])) {
			char path[600];

			if (strncmp(de->d_name, "reply-", 6) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			if (slurp(path, &blobs[nblobs]) == 0)
				chaos(blobs[nblobs].name, op_reply, &blobs[nblobs]), nblobs++;
		}
		if (dir)
			closedir(dir);
	}
	{
		DIR *dir = opendir("tests/golden/cases");
		struct dirent *de;

		while (dir && (de = readdir(dir)) && nblobs < sizeof(blobs) / sizeof(blobs[0])) {
			char path[600];

			if (!strstr(de->d_name, ".json"))
				continue;
			snprintf(path, sizeof(path), "tests/golden/cases/%s", de->d_name);
			if (slurp(path, &blobs[nblobs]) != 0)
				continue;
			for (size_t b = 0; b < spark_nbuilds; b++) {
				struct create_case c = { &blobs[nblobs], &spark_builds[b] };
				char name[400];

				snprintf(name, sizeof(name), "%s for %s", path, spark_builds[b].spark_version);
				chaos(name, op_create, &c);
			}
			nblobs++;
		}
		if (dir)
			closedir(dir);
	}
	chaos("policy", op_policy, NULL);

	CHECK(slurp("tests/golden/spark-3.5.9_2.12/reply-submit-ok.bin", &reply_submit) == 0
	      && slurp("tests/golden/spark-3.5.9_2.12/reply-status-RUNNING.bin", &reply_status) == 0
	      && slurp("tests/golden/spark-3.5.9_2.12/reply-kill-ok.bin", &reply_kill) == 0, "fake master's replies");
	CHECK(fake_master_start(&master, pick_reply, NULL) == 0, "fake master");
	{   /* the normal run does what the loop then breaks: everything succeeds */
		struct trail t = { 0 };

		op_requests(NULL, &t);
		CHECK(t.n == 8 && t.step[0].code == 0 && t.step[1].code == 200 && t.step[2].code == 200
		      && t.step[4].code == 200 && t.step[5].code == 200 && t.step[6].code == 200 && t.step[7].code == 200,
		      "requests: %d steps, setup %d, create %d", t.n, t.step[0].code, t.step[1].code);
	}
	chaos("requests", op_requests, NULL);
	fake_master_stop(&master);

	for (size_t i = 0; i < nblobs; i++)
		free(blobs[i].p);
	free(reply_submit.p);
	free(reply_status.p);
	free(reply_kill.p);
	return t_done("alloc");
}
