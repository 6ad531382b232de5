/* The gateway's own decisions, with no master to reach: who may use it at all (REMOTE_USER
 * and --anonymous), and Spark 4's "{{NAME}}" placeholders in a create request; the CGI answer the front
 * end writes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spark/rest.h"
#include "gateway_internal.h"
#include "spark/submit.h"
#include "servlets/logs.h"
#include "../../fcgi/adapter.h"
#include "t.h"

/* A master address nothing listens on: every request that reaches for the master gets 503. */
static void gateway_without_master(struct gateway *g)
{
	struct sg_err e = { 0 };

	memset(g, 0, sizeof(*g));
	CHECK(cluster_init(&g->spark.cluster, "spark://127.0.0.1:1", "3.5.9", &e) == 0, "%s", e.msg);
	g->spark.cluster.master.timeout_ms = 500;
	g->spark.cluster.master.connect_timeout_ms = 500;
	g->servlets.max_body = 1 << 20;
	strcpy(g->spark.master_url, "spark://127.0.0.1:1");
}

static void test_anonymous(void)
{
	struct gateway g;
	struct response rs;
	struct request rq = { .method = "GET", .path = "/v1/submissions/status/driver-1", .body = "",
			      .remote_addr = "127.0.0.1" };

	gateway_without_master(&g);
	response_init(&rs);

	/* Default: no REMOTE_USER, refused before anything else, even before an unknown path. */
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.status == 403, "status %d", rs.status);
	CHECK(strstr(buf_str(&rs.body), "\"action\" : \"ErrorResponse\"") != NULL, "%s", buf_str(&rs.body));
	CHECK(strstr(buf_str(&rs.body), "No authenticated user") != NULL, "%s", buf_str(&rs.body));
	rq.path = "/nowhere";
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.status == 403, "unknown path status %d", rs.status);

	/* A user: the request goes on (to a master that is not there). */
	rq.path = "/v1/submissions/status/driver-1";
	rq.remote_user = "alice";
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.status == 503, "with user: status %d %s", rs.status, buf_str(&rs.body));

	/* --anonymous allow: the same without a user. */
	rq.remote_user = NULL;
	g.servlets.allow_anonymous = 1;
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.status == 503, "anonymous allowed: status %d", rs.status);

	response_release(&rs);
	cluster_release(&g.spark.cluster);
}

/* Cross-site request forgery: what reaches the master (503 here) and what is refused (403). */
static void test_csrf(void)
{
	static const struct {
		enum csrf_mode mode;
		const char *origin, *host, *by, *site;
		int status;
	} cases[] = {
		{ CSRF_ORIGIN, NULL, "gw:8080", NULL, NULL, 503 },                     /* curl, spark-submit */
		{ CSRF_ORIGIN, "https://evil.example", "gw:8080", NULL, NULL, 403 },
		{ CSRF_ORIGIN, "https://evil.example", "gw:8080", "portal", NULL, 503 },
		{ CSRF_ORIGIN, "http://gw:8080", "gw:8080", NULL, NULL, 503 },         /* same origin */
		{ CSRF_ORIGIN, "http://gw:8080", "gw:8080", NULL, "cross-site", 403 },
		{ CSRF_ORIGIN, "null", "gw:8080", NULL, NULL, 403 },                   /* sandboxed page */
		{ CSRF_ORIGIN, NULL, "gw:8080", NULL, "same-origin", 503 },
		{ CSRF_HEADER, NULL, "gw:8080", NULL, NULL, 403 },
		{ CSRF_HEADER, NULL, "gw:8080", "x", NULL, 503 },
		{ CSRF_OFF, "https://evil.example", "gw:8080", NULL, "cross-site", 503 },
	};
	struct gateway g;
	struct response rs;

	gateway_without_master(&g);
	response_init(&rs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request rq = { .method = "POST", .path = "/v1/submissions/kill/driver-1", .body = "",
				      .remote_addr = "127.0.0.1", .remote_user = "alice", .origin = cases[i].origin,
				      .host = cases[i].host, .requested_by = cases[i].by, .fetch_site = cases[i].site };

		g.tenant.csrf = cases[i].mode;
		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.status == cases[i].status, "case %zu: %d, want %d", i, rs.status, cases[i].status);
	}
	/* GET never changes anything */
	{
		struct request rq = { .method = "GET", .path = "/v1/submissions/status/driver-1", .body = "",
				      .remote_addr = "", .remote_user = "alice", .origin = "https://evil.example" };

		g.tenant.csrf = CSRF_HEADER;
		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.status == 503, "GET: %d", rs.status);
	}
	response_release(&rs);
	cluster_release(&g.spark.cluster);
}

/* With owners, Spark 4's killall and clear (every user's drivers) are for admins only. */
static void test_killall_admins_only(void)
{
	static const char policy[] = "group ops = carol\nadmins ops\n";
	char path[] = "/tmp/sparkgate-route-test-XXXXXX";
	int fd = mkstemp(path);
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	const char *users[] = { "alice", "carol" };
	const int want[] = { 403, 503 };

	close(fd);
	gateway_without_master(&g);
	cluster_release(&g.spark.cluster);
	CHECK(cluster_init(&g.spark.cluster, "spark://127.0.0.1:1", "4.3.0", &e) == 0, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = g.spark.cluster.master.connect_timeout_ms = 500;
	g.tenant.store = store_open(path, &e);
	CHECK(g.tenant.store != NULL, "%s", e.msg);
	CHECK(policy_parse(&g.tenant.policy, policy, sizeof(policy) - 1, &e) == 0, "%s", e.msg);
	response_init(&rs);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			struct request rq = { .method = "POST", .path = k ? "/v1/submissions/clear" : "/v1/submissions/killall",
					      .body = "", .remote_addr = "", .remote_user = users[i] };

			response_reset(&rs);
			gateway_handle(&g, &rq, &rs);
			CHECK(rs.status == want[i], "%s %s: %d", users[i], rq.path, rs.status);
		}
	}
	response_release(&rs);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	unlink(path);
}

/* With an owner store, an idempotency key too long to keep is refused, never cut short
 * (header or property); without one keys mean nothing and Spark's rules alone apply. */
static void test_long_idempotency_key(void)
{
	static char key[1100], body[1400];
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };

	memset(key, 'k', sizeof(key) - 1);
	snprintf(body, sizeof(body), "{\"action\":\"CreateSubmissionRequest\",\"sparkProperties\":"
		 "{\"spark.sparkgate.idempotencyKey\":\"%.1001s\"}}", key);
	gateway_without_master(&g);
	response_init(&rs);
	for (int with_store = 0; with_store < 2; with_store++) {
		if (with_store)
			CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
		for (int header = 0; header < 2; header++) {
			struct request rq = { .method = "POST", .path = "/v1/submissions/create", .remote_addr = "",
					      .remote_user = "alice", .body = header ? "{}" : body,
					      .body_len = strlen(header ? "{}" : body), .idempotency_key = header ? key : NULL };
			int refused;

			response_reset(&rs);
			gateway_handle(&g, &rq, &rs);
			refused = rs.status == 400 && strstr(buf_str(&rs.body), "longer than 1000");
			CHECK(with_store ? refused : !refused && strstr(buf_str(&rs.body), "Malformed request"), "%s, %s store: %d %s",
			      header ? "header" : "property", with_store ? "a" : "no", rs.status, buf_str(&rs.body));
		}
	}
	store_close(g.tenant.store);
	response_release(&rs);
	cluster_release(&g.spark.cluster);
}

static void test_placeholder_values(void)
{
	setenv("SG_T_MEM", "768m", 1);
	setenv("SG_T_SECRET", "s3cret", 1);
	unsetenv("SG_T_UNSET");
	CHECK_STR(submit_placeholder("{{SG_T_MEM}}", "*"), "768m");
	CHECK_STR(submit_placeholder("{{SG_T_MEM}}", "SG_T_MEM"), "768m");
	CHECK_STR(submit_placeholder("{{SG_T_MEM}}", "A,SG_T_MEM,B"), "768m");
	/* Not allowed, not set, not exactly the whole value, or replacement off: kept as sent. */
	CHECK_STR(submit_placeholder("{{SG_T_SECRET}}", "SG_T_MEM"), "{{SG_T_SECRET}}");
	CHECK_STR(submit_placeholder("{{SG_T_SECRET}}", "SG_T_SECRETX,SG_T_SECRE"), "{{SG_T_SECRET}}");
	CHECK_STR(submit_placeholder("{{SG_T_UNSET}}", "*"), "{{SG_T_UNSET}}");
	CHECK_STR(submit_placeholder(" {{SG_T_MEM}}", "*"), " {{SG_T_MEM}}");
	CHECK_STR(submit_placeholder("{{SG_T_MEM}}x", "*"), "{{SG_T_MEM}}x");
	CHECK_STR(submit_placeholder("{{SG_T_MEM}}", NULL), "{{SG_T_MEM}}");
	CHECK_STR(submit_placeholder("{{}}", "*"), "{{}}");
	CHECK_STR(submit_placeholder("{}", "*"), "{}");
}

static int has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
}

/* The whole create: Spark 4 replaces property values (before spark.driver.memory is read)
 * and environment values, never keys or appArgs; Spark 3.5 replaces nothing. */
static void test_placeholders_in_create(void)
{
	static const char body[] =
		"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"file:/x.jar\",\"mainClass\":\"M\","
		"\"clientSparkVersion\":\"4.3.0\",\"appArgs\":[\"{{SG_T_MEM}}\"],"
		"\"sparkProperties\":{\"spark.app.name\":\"a\",\"spark.executor.cores\":\"{{SG_T_MEM}}\","
		"\"{{SG_T_MEM}}\":\"k\"},\"environmentVariables\":{\"PW\":\"{{SG_T_SECRET}}\"}}";
	const char *builds[] = { "4.3.0", "3.5.9" };

	for (int i = 0; i < 2; i++) {
		const struct spark_build *b = spark_build_find(builds[i]);
		int spark4 = spark_build_is_spark4(b);
		struct create_request cr;
		struct rest_error err;
		struct driver_desc d;
		struct submit_config cfg = { "spark://m:7077", b, "*", NULL };

		create_request_init(&cr);
		rest_error_init(&err);
		driver_desc_init(&d);
		CHECK(rest_parse_create(body, sizeof(body) - 1, &b->rest, &cr, &err) == 0, "%s", buf_str(&err.message));
		CHECK(submit_build_driver(&cr, &cfg, &d, &err) == 0, "%s", buf_str(&err.message));
		CHECK(has(&d.java_opts, spark4 ? "-Dspark.executor.cores=768m" : "-Dspark.executor.cores={{SG_T_MEM}}"),
		      "%s: executor cores", builds[i]);
		CHECK(has(&d.java_opts, "-D{{SG_T_MEM}}=k"), "%s: keys are never replaced", builds[i]);
		CHECK(has(&d.arguments, "{{SG_T_MEM}}"), "%s: appArgs are never replaced", builds[i]);
		CHECK_STR(strmap_get(&d.environment, "PW"), spark4 ? "s3cret" : "{{SG_T_SECRET}}");
		driver_desc_release(&d);
		rest_error_release(&err);
		create_request_release(&cr);
	}
}

/* A body that is not UTF-8: Spark up to 4.2 fails to decode it, 4.3 reads U+FFFD instead. */
static void test_malformed_utf8(void)
{
	static const char body[] = "{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"\xff\",\"mainClass\":\"M\","
				   "\"clientSparkVersion\":\"4\",\"sparkProperties\":{\"spark.app.name\":\"a\"}}";

	for (size_t i = 0; i < spark_nbuilds; i++) {
		const struct spark_build *b = &spark_builds[i];
		struct create_request cr;
		struct rest_error err;
		int rc;

		create_request_init(&cr);
		rest_error_init(&err);
		rc = rest_parse_create(body, sizeof(body) - 1, &b->rest, &cr, &err);
		CHECK(b->rest.replaces_malformed == (strcmp(b->minor, "4.3") == 0), "%s_%s decoding rule",
		      b->spark_version, b->scala_version);
		if (b->rest.replaces_malformed) {
			CHECK(rc == 0, "%s", buf_str(&err.message));
			CHECK_STR(cr.app_resource, "\xEF\xBF\xBD");
		} else {
			CHECK(rc != 0 && err.status == 400, "%s accepted it", b->spark_version);
			CHECK_STR(buf_str(&err.message), "Malformed request: java.nio.charset.MalformedInputException: "
				  "Input length = 1\n");
		}
		rest_error_release(&err);
		create_request_release(&cr);
	}
}

/* The logs endpoint's query: defaults (stdout, the last 64 KiB), each parameter, refusals. */
static void test_logs_query(void)
{
	static const struct { const char *q; int ok, err; long long offset, length; } cases[] = {
		{ NULL, 1, 0, -1, LOGS_DEFAULT_LENGTH }, { "", 1, 0, -1, LOGS_DEFAULT_LENGTH },
		{ "stream=stderr", 1, 1, -1, LOGS_DEFAULT_LENGTH }, { "stream=stdout&offset=0&length=7", 1, 0, 0, 7 },
		{ "offset=123456789012&length=1048576", 1, 0, 123456789012LL, 1048576 }, { "length=1&", 1, 0, -1, 1 },
		{ "stream=stdin", 0, 0, 0, 0 }, { "stream=", 0, 0, 0, 0 }, { "stream", 0, 0, 0, 0 },
		{ "offset=-1", 0, 0, 0, 0 }, { "offset=1x", 0, 0, 0, 0 }, { "offset=", 0, 0, 0, 0 },
		{ "length=0", 0, 0, 0, 0 }, { "length=1048577", 0, 0, 0, 0 }, { "length=9999999999999999999", 0, 0, 0, 0 },
		{ "x=1", 0, 0, 0, 0 }, { "stream=stdout&stream=stderrr", 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = -1, rc;
		long long offset = -2, length = -2;
		char why[200] = "";

		rc = logs_parse_query(cases[i].q, &err, &offset, &length, why, sizeof(why));
		if (cases[i].ok)
			CHECK(rc == 0 && err == cases[i].err && offset == cases[i].offset && length == cases[i].length,
			      "%s: %d %d %lld %lld %s", cases[i].q ? cases[i].q : "(none)", rc, err, offset, length, why);
		else
			CHECK(rc != 0 && why[0], "%s accepted", cases[i].q);
	}
}

static ssize_t no_body(void *ctx, void *p, size_t n)
{
	(void)p;
	(void)n;
	++*(int *)ctx;   /* a body read at all is a failure of the test */
	return 0;
}

/* A CONTENT_LENGTH of 2^63 or more, or one that overflows or is not digits, is no negative
 * size: a 413 before anything reads a byte (an upload, or any other request). */
static void test_content_length(void)
{
	static const char *const lengths[] = { "9223372036854775808", "18446744073709551615", "18446744073709551616",
					       "99999999999999999999999", "-1", "+5", " 5", "5x", "0x10" };
	static const char *const paths[] = { "PATH_INFO=/v1/files/app.jar", "PATH_INFO=/v1/submissions/create" };
	struct gateway g;
	struct response rs;
	struct adapted a;
	char length[64];
	int reads = 0;

	gateway_without_master(&g);
	response_init(&rs);
	adapted_init(&a, g.servlets.max_body);
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
			const char *env[] = { p ? "REQUEST_METHOD=POST" : "REQUEST_METHOD=PUT", paths[p], length,
					      "REMOTE_USER=alice", "REMOTE_ADDR=127.0.0.1", NULL };

			snprintf(length, sizeof(length), "CONTENT_LENGTH=%s", lengths[i]);
			CHECK(adapt_request(&a, env, no_body, &reads) == 0, "adapt %s", lengths[i]);
			CHECK(a.rq.body_too_large && a.rq.read_body == NULL, "%s %s: too large", paths[p], lengths[i]);
			response_reset(&rs);
			gateway_handle(&g, &a.rq, &rs);
			CHECK(rs.status == 413 && strstr(buf_str(&rs.body), "\"action\" : \"ErrorResponse\""),
			      "%s %s: %d %s", paths[p], lengths[i], rs.status, buf_str(&rs.body));
		}
	}
	/* the largest that is a size still streams to the upload (which then says 413 itself) */
	{
		const char *env[] = { "REQUEST_METHOD=PUT", paths[0], "CONTENT_LENGTH=9223372036854775807", NULL };

		CHECK(adapt_request(&a, env, no_body, &reads) == 0 && !a.rq.body_too_large && a.rq.read_body
		      && a.rq.body_declared == 9223372036854775807ull, "2^63-1 streams");
	}
	CHECK(reads == 0, "%d body reads", reads);
	adapted_release(&a);
	response_release(&rs);
}

/* The bytes the web server gets (fcgi/adapter.c): the Status line, the fixed headers, Allow
 * and the one extra header when set, the body except for HEAD; an answer larger than the
 * buffer's limit is an error, never a cut answer. */
static void test_cgi_answer(void)
{
	static const struct {
		const char *method, *allow, *header, *content_type, *body;
		int status;
		const char *want;
	} cases[] = {
		{ "GET", NULL, "", NULL, "{}", 200,
		  "Status: 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: 2\r\n"
		  "Cache-Control: no-store\r\n\r\n{}" },
		{ "HEAD", NULL, "", NULL, "{}", 200,
		  "Status: 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: 2\r\n"
		  "Cache-Control: no-store\r\n\r\n" },
		{ "GET", NULL, "", NULL, "0123456789", 502,
		  "Status: 502 Bad Gateway\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: 10\r\n"
		  "Cache-Control: no-store\r\n\r\n0123456789" },
		{ "PUT", "GET, POST", "Retry-After: 1", "text/plain; charset=utf-8", "no", 405,
		  "Status: 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
		  "Cache-Control: no-store\r\nAllow: GET, POST\r\nRetry-After: 1\r\n\r\nno" },
	};
	struct response rs;
	struct buf out = BUF_INIT(1024), tiny = BUF_INIT(64);

	response_init(&rs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request rq = { .method = cases[i].method, .path = "/" };

		response_reset(&rs);
		rs.status = cases[i].status;
		rs.allow = cases[i].allow;
		rs.content_type = cases[i].content_type;
		snprintf(rs.header, sizeof(rs.header), "%s", cases[i].header);
		buf_addstr(&rs.body, cases[i].body);
		buf_reset(&out);
		CHECK(adapter_format_response(&rq, &rs, &out) == 0, "case %zu", i);
		CHECK_STR(buf_str(&out), cases[i].want);
		if (i == 0)
			CHECK(adapter_format_response(&rq, &rs, &tiny) < 0, "an answer over the limit");
	}
	buf_release(&out);
	buf_release(&tiny);
	response_release(&rs);
}

/* str_copy: snprintf's "%s" without printf, cut to fit and terminated. */
static void test_str_copy(void)
{
	char small[4], fits[8];

	str_copy(small, sizeof(small), "driver-1");
	CHECK_STR(small, "dri");
	str_copy(fits, sizeof(fits), "alice");
	CHECK_STR(fits, "alice");
	str_copy(fits, sizeof(fits), "");
	CHECK_STR(fits, "");
	str_copy(fits, sizeof(fits), "1234567");
	CHECK_STR(fits, "1234567");
}

/* A streamed answer (response.stream, a stored upload): Content-Length from stream_len,
 * the body pulled in pieces no larger than the gateway's bound, none for HEAD, and a stream
 * that ends early (or gives more than was announced) is an error, not a shorter answer. */
struct fake_stream {
	uint64_t left;        /* bytes it will give */
	size_t largest;       /* the largest piece asked for */
	int fail_at;          /* calls before failing (0: never) */
	int calls;
};

static ssize_t fake_read(void *ctx, void *p, size_t n)
{
	struct fake_stream *f = ctx;

	if (n > f->largest)
		f->largest = n;
	if (f->fail_at && ++f->calls >= f->fail_at)
		return -1;
	if (n > f->left)
		n = (size_t)f->left;
	memset(p, 'x', n);
	f->left -= n;
	return (ssize_t)n;
}

static int count_put(void *ctx, const void *p, size_t n)
{
	(void)p;
	*(uint64_t *)ctx += n;
	return 0;
}

static void test_streamed_answer(void)
{
	static const char *const env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/files/x/y.jar", NULL };
	static const char *const head_env[] = { "REQUEST_METHOD=HEAD", "REQUEST_URI=/files/x/y.jar", NULL };
	struct adapted ad;
	struct response rs;
	struct buf out = BUF_INIT(4096);
	struct fake_stream f = { 3 * gateway_stream_piece + 5, 0, 0, 0 };
	uint64_t got = 0, sent = 0;

	adapted_init(&ad, 1024);
	response_init(&rs);
	CHECK(adapt_request(&ad, env, NULL, NULL) == 0, "adapt");
	rs.status = 206;
	rs.content_type = "application/octet-stream";
	rs.stream = fake_read;
	rs.stream_ctx = &f;
	rs.stream_len = f.left;
	buf_addstr(&rs.body, "not sent");
	CHECK(adapter_format_response(&ad.rq, &rs, &out) == 0, "format");
	CHECK(strstr(buf_str(&out), "Status: 206 Partial Content\r\n") && strstr(buf_str(&out), "Content-Length: 196613\r\n")
	      && !strstr(buf_str(&out), "not sent"), "headers: %s", buf_str(&out));
	CHECK(adapter_stream(&ad, &rs, count_put, &got, &sent) == 0 && got == rs.stream_len && sent == got
	      && f.largest <= gateway_stream_piece, "streamed %llu bytes, pieces up to %zu", (unsigned long long)got,
	      f.largest);
	f = (struct fake_stream){ 10, 0, 0, 0 };   /* gives fewer than announced */
	got = 0;
	CHECK(adapter_stream(&ad, &rs, count_put, &got, &sent) == -1 && sent == 10, "a short stream is an error");
	f = (struct fake_stream){ rs.stream_len, 0, 2, 0 };
	got = 0;
	CHECK(adapter_stream(&ad, &rs, count_put, &got, &sent) == -1 && sent == gateway_stream_piece, "a failing stream");
	CHECK(adapt_request(&ad, head_env, NULL, NULL) == 0, "adapt HEAD");
	f = (struct fake_stream){ rs.stream_len, 0, 0, 0 };
	got = 0;
	buf_reset(&out);
	CHECK(adapter_format_response(&ad.rq, &rs, &out) == 0 && strstr(buf_str(&out), "Content-Length: 196613\r\n")
	      && adapter_stream(&ad, &rs, count_put, &got, &sent) == 0 && got == 0, "HEAD: the length, no body");
	buf_release(&out);
	response_release(&rs);
	adapted_release(&ad);
}

int main(void)
{
	test_str_copy();
	test_streamed_answer();
	test_cgi_answer();
	test_content_length();
	test_logs_query();
	test_malformed_utf8();
	test_csrf();
	test_killall_admins_only();
	test_long_idempotency_key();
	test_anonymous();
	test_placeholder_values();
	test_placeholders_in_create();
	return t_done("route_test");
}
