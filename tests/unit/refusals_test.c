/* Every refusal kind, made by a real request through the whole gateway, reaches the metric
 * label and the audit rule it stands for: the servlet table types each refusal once
 * (enum refusal), so no text decides what is counted; and what is no refusal (an id nobody
 * owns, a Livy method a path does not take) is not counted or audited as one (a fresh-mind
 * review found both mislabelled).  No master is needed: each refusal comes before anything is
 * sent (the build is pinned to a Spark 4 so killall exists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "gateway_internal.h"
#include "t.h"

static const char policy[] =
	"group ops = olga\n"
	"admins ops\n"
	"allow app hdfs://nn/apps/ M\n"
	"allow property spark.app.name\n"
	"quota user quincy drivers 0\n";

static const char body_ok[] =
	"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"hdfs://nn/apps/a.jar\",\"mainClass\":\"M\","
	"\"clientSparkVersion\":\"4.0.5\",\"appArgs\":[],\"environmentVariables\":{},"
	"\"sparkProperties\":{\"spark.app.name\":\"q\"}}";
static const char livy_proxy[] = "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"proxyUser\":\"alice\"}";
static const char body_evil[] =
	"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"hdfs://nn/apps/a.jar\",\"mainClass\":\"Evil\","
	"\"clientSparkVersion\":\"4.0.5\",\"appArgs\":[],\"environmentVariables\":{},"
	"\"sparkProperties\":{\"spark.app.name\":\"q\"}}";

struct refusal_case {
	const char *what;
	struct request rq;
	int status;
	enum refusal kind;
	const char *label;
};

static char audit_text[65536];

static const char *read_audit(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, audit_text, sizeof(audit_text) - 1) : -1;

	audit_text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return audit_text;
}

int main(void)
{
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	struct buf out = BUF_INIT(1 << 20);
	char key[64], audit_path[128], hosts[] = "localhost";
	const struct store_claim mine = { .token = "t", .holder = "h 1 1", .created_ms = 1, .lease_ms = 60001 };
	struct store_claim c;
	const struct refusal_case cases[] = {
		{ "a Host --hosts does not name", { .method = "GET", .path = "/v1/submissions/status/driver-1",
		  .host = "rebind.evil.example", .remote_user = "alice" }, 400, REFUSAL_HOSTS, "hosts" },
		{ "no user", { .method = "GET", .path = "/v1/submissions/status/driver-1", .host = "localhost" },
		  403, REFUSAL_NO_USER, "no_user" },
		{ "a bearer token that does not verify", { .method = "GET", .path = "/v1/submissions/status/driver-1",
		  .host = "localhost", .authorization = "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." }, 403,
		  REFUSAL_BAD_TOKEN, "bad_token" },
		{ "a POST without X-Requested-By", { .method = "POST", .path = "/v1/submissions/kill/driver-1",
		  .host = "localhost", .remote_user = "alice" }, 403, REFUSAL_CSRF, "csrf" },
		{ "killall by a user who is no admin", { .method = "POST", .path = "/v1/submissions/killall",
		  .host = "localhost", .remote_user = "alice", .requested_by = "t" }, 403, REFUSAL_ADMINS_ONLY,
		  "admins_only" },
		{ "a main class the policy does not name", { .method = "POST", .path = "/v1/submissions/create",
		  .host = "localhost", .remote_user = "alice", .requested_by = "t", .body = body_evil,
		  .body_len = sizeof(body_evil) - 1 }, 403, REFUSAL_POLICY, "policy" },
		{ "a quota of no drivers", { .method = "POST", .path = "/v1/submissions/create", .host = "localhost",
		  .remote_user = "quincy", .requested_by = "t", .body = body_ok, .body_len = sizeof(body_ok) - 1 },
		  403, REFUSAL_QUOTA, "quota" },
		{ "another user's driver", { .method = "GET", .path = "/v1/submissions/status/driver-20000101000000-0002",
		  .host = "localhost", .remote_user = "bob" }, 200, REFUSAL_OTHER_USERS, "other_users" },
		{ "Livy's proxyUser naming another user", { .method = "POST", .path = "/batches", .host = "localhost",
		  .remote_user = "bob", .requested_by = "t", .body = livy_proxy, .body_len = sizeof(livy_proxy) - 1 },
		  403, REFUSAL_PROXY_USER, "proxy_user" },
	};

	memset(&g, 0, sizeof(g));
	CHECK(cluster_init(&g.spark.cluster, "spark://127.0.0.1:1", "4.0.5", &e) == 0, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = 500;
	g.spark.cluster.master.connect_timeout_ms = 500;
	strcpy(g.spark.master_url, "spark://127.0.0.1:1");
	g.servlets.max_body = 1 << 20;
	policy_init(&g.tenant.policy);
	CHECK(policy_parse(&g.tenant.policy, policy, sizeof(policy) - 1, &e) == 0, "%s", e.msg);
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	g.tenant.csrf = CSRF_HEADER;
	g.tenant.hosts = hosts;
	snprintf(g.tenant.master_ui, sizeof(g.tenant.master_ui), "off");
	g.tenant.jws_keylen = jws_decode_key("c3BhcmtnYXRlLXRlc3Qta2V5LW9mLWF0LWxlYXN0LTI1Ni1iaXRz", g.tenant.jws_key,
					     sizeof(g.tenant.jws_key));
	snprintf(key, sizeof(key), "refusals-test-%ld", (long)getpid());
	CHECK((g.servlets.metrics = metrics_open(key, &e)) != NULL, "%s", e.msg);
	snprintf(audit_path, sizeof(audit_path), "/tmp/refusals-test-%ld.audit", (long)getpid());
	unlink(audit_path);
	audit_init(&g.audit);
	CHECK(audit_open(&g.audit, audit_path, &e) == 0, "%s", e.msg);
	CHECK(store_claim(g.tenant.store, "alice", NULL, &mine, 1, 512, &c, &e) == 0
	      && store_finish(g.tenant.store, c.row, "driver-20000101000000-0002", 0, "a", "M", &e) == 0, "%s", e.msg);
	response_init(&rs);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		response_reset(&rs);
		gateway_handle(&g, &cases[i].rq, &rs);
		CHECK(rs.status == cases[i].status && rs.refusal == cases[i].kind, "%s: status %d, refusal %s: %s",
		      cases[i].what, rs.status, refusal_name(rs.refusal), buf_str(&rs.body));
		CHECK(strcmp(refusal_name(cases[i].kind), cases[i].label) == 0, "%s: label %s", cases[i].what,
		      refusal_name(cases[i].kind));
	}
	/* Not refusals: an id nobody owns is answered as unknown (as another user's is) but
	 * nobody was refused; Livy's paths answer a method they do not take with 405, which is no
	 * kill. */
	{
		const struct request rq[] = {
			{ .method = "GET", .path = "/v1/submissions/status/driver-20991231000000-9999", .host = "localhost",
			  .remote_user = "bob" },
			{ .method = "POST", .path = "/v1/submissions/kill/driver-20991231000000-9999", .host = "localhost",
			  .remote_user = "bob", .requested_by = "t" },
			{ .method = "DELETE", .path = "/batches/1/state", .host = "localhost", .remote_user = "alice",
			  .requested_by = "t" },
			{ .method = "DELETE", .path = "/batches", .host = "localhost", .remote_user = "alice",
			  .requested_by = "t" },
		};

		for (size_t i = 0; i < sizeof(rq) / sizeof(rq[0]); i++) {
			response_reset(&rs);
			gateway_handle(&g, &rq[i], &rs);
			CHECK(rs.refusal == REFUSAL_NONE && !rs.hidden && rs.status == (i < 2 ? 200 : 405),
			      "%s %s: status %d, refusal %s", rq[i].method, rq[i].path, rs.status, refusal_name(rs.refusal));
		}
		read_audit(audit_path);
		CHECK(!strstr(audit_text, "\"status\":405"), "a 405 audited as a kill:\n%s", audit_text);
		{   /* one: the other_users case above, not the id nobody owns */
			size_t n = 0;

			for (const char *p = audit_text; (p = strstr(p, "another user's driver")) != NULL; p++)
				n++;
			CHECK(n == 1, "%zu audit lines say another user's driver:\n%s", n, audit_text);
		}
	}
	/* Not refusals: a request that passes every rule (to a master that is not there). */
	{
		const struct request rq = { .method = "GET", .path = "/v1/submissions/status/driver-20000101000000-0002",
					    .host = "localhost", .remote_user = "alice" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.refusal == REFUSAL_NONE && rs.status == 503, "the owner: %d %s", rs.status, buf_str(&rs.body));
	}
	CHECK(metrics_print(g.servlets.metrics, &out, &(struct status_cache_stats){ 0 }) == 0, "metrics print");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "sparkgate_refusals_total{rule=\"%s\"} 1\n", cases[i].label);
		CHECK(strstr(buf_str(&out), line) != NULL, "%s counted once as %s:\n%s", cases[i].what, cases[i].label,
		      buf_str(&out));
	}
	CHECK(strstr(buf_str(&out), "sparkgate_requests_total{route=\"killall\",code=\"403\"} 1\n")
	      && strstr(buf_str(&out), "sparkgate_requests_total{route=\"create\",code=\"403\"} 2\n")
	      /* another user's driver and the id nobody owns */
	      && strstr(buf_str(&out), "sparkgate_requests_total{route=\"status\",code=\"200\"} 2\n")
	      && strstr(buf_str(&out), "sparkgate_requests_total{route=\"batches\",code=\"405\"} 2\n"),
	      "routes from the servlet table:\n%s", buf_str(&out));

	response_release(&rs);
	buf_release(&out);
	audit_release(&g.audit);
	unlink(audit_path);
	metrics_close(g.servlets.metrics);
	metrics_remove(key);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	return t_done("refusals_test");
}
