/* What a request meets first and what a log line holds: the Host check (--hosts, DNS
 * rebinding), the escaping of outside text in log and audit lines, and the PostgreSQL
 * targets that carry a password (refused on the command line). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "servlets/health.h"
#include "spark/rest.h"
#include "gateway_internal.h"
#include "base/sqldb.h"
#include "tenant/tenant.h"
#include "t.h"

static void test_host_matcher(void)
{
	static const struct {
		const char *list, *host;
		int served;
	} cases[] = {
		{ "localhost,127.0.0.1", "localhost", 1 },
		{ "localhost,127.0.0.1", "localhost:6066", 1 },      /* a NAME entry: any port */
		{ "localhost,127.0.0.1", "LocalHost:6066", 1 },      /* names without regard to case */
		{ "localhost,127.0.0.1", "127.0.0.1:6067", 1 },
		{ "localhost,127.0.0.1", "rebind.evil.example", 0 }, /* the rebinding page's own name */
		{ "localhost,127.0.0.1", "rebind.evil.example:6066", 0 },
		{ "localhost,127.0.0.1", "localhost.", 0 },
		{ "localhost,127.0.0.1", "localhost.evil.example", 0 },
		{ "localhost,127.0.0.1", "127.0.0.1.nip.io", 0 },
		{ "localhost,127.0.0.1", "", 0 },
		{ "localhost,127.0.0.1", NULL, 0 },                  /* no Host header */
		{ "localhost,127.0.0.1", "localhost:", 0 },
		{ "localhost,127.0.0.1", "localhost:x", 0 },
		{ "localhost,127.0.0.1", "localhost:6066:1", 0 },
		{ "localhost,127.0.0.1", "local", 0 },
		{ "localhost:6066", "localhost:6066", 1 },           /* a NAME:PORT entry: that port only */
		{ "localhost:6066", "localhost:60660", 0 },
		{ "localhost:6066", "localhost:606", 0 },
		{ "localhost:6066", "localhost", 0 },
		{ "localhost:6066", "localhost:6067", 0 },
		{ "[::1]:6066,[::1]", "[::1]", 1 },
		{ "[::1]:6066", "[::1]:6066", 1 },
		{ "[::1]:6066", "[::1]:6067", 0 },
		{ "[::1]", "::1", 0 },
		{ "gw.example.com", "gw.example.com", 1 },
		{ "gw.example.com", "gw.example.com.evil", 0 },
		{ "gw.example.com", "xgw.example.com", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(tenant_host_served(cases[i].list, cases[i].host) == cases[i].served, "%s in %s: %d",
		      cases[i].host ? cases[i].host : "(none)", cases[i].list, !cases[i].served);
	CHECK(tenant_hosts_valid("localhost,127.0.0.1:6066,[::1]:6066"), "valid list refused");
	CHECK(!tenant_hosts_valid(""), "empty list");
	CHECK(!tenant_hosts_valid("localhost,"), "trailing comma");
	CHECK(!tenant_hosts_valid("localhost,,x"), "empty entry");
	CHECK(!tenant_hosts_valid("local host"), "space");
	CHECK(!tenant_hosts_valid("http://localhost"), "URL");
	CHECK(!tenant_hosts_valid("user@localhost"), "user part");
	CHECK(!tenant_hosts_valid("localhost:123456"), "port too long");
	CHECK(!tenant_hosts_valid("[::1"), "open bracket");
}

static void gateway_without_master(struct gateway *g)
{
	struct sg_err e = { 0 };

	memset(g, 0, sizeof(*g));
	CHECK(cluster_init(&g->spark.cluster, "spark://127.0.0.1:1", "3.5.9", &e) == 0, "%s", e.msg);
	g->spark.cluster.master.timeout_ms = 300;
	g->spark.cluster.master.connect_timeout_ms = 300;
	g->servlets.max_body = 1 << 20;
	g->servlets.allow_anonymous = 1;
	strcpy(g->spark.master_url, "spark://127.0.0.1:1");
}

/* With --hosts, a foreign Host is refused (400 JSON) before anything else, health paths and
 * unknown paths included; a matching Origin does not help. */
static void test_host_check(void)
{
	static const struct {
		const char *method, *path, *host, *origin;
		int status;
	} cases[] = {
		{ "POST", "/v1/submissions/create", "rebind.evil.example:6066", "http://rebind.evil.example:6066", 400 },
		{ "POST", "/v1/submissions/kill/driver-1", "rebind.evil.example:6066", "http://rebind.evil.example:6066", 400 },
		{ "GET", "/v1/submissions/status/driver-1", "rebind.evil.example:6066", NULL, 400 },
		{ "GET", "/healthz", "rebind.evil.example", NULL, 400 },
		{ "GET", "/readyz", NULL, NULL, 400 },
		{ "GET", "/nowhere", "evil", NULL, 400 },
		{ "GET", "/healthz", "localhost:6066", NULL, 200 },
		{ "POST", "/v1/submissions/kill/driver-1", "127.0.0.1:6066", "http://127.0.0.1:6066", 503 },
		{ "POST", "/v1/submissions/kill/driver-1", "127.0.0.1:6066", NULL, 503 },
		{ "POST", "/v1/submissions/kill/driver-1", "127.0.0.1:6066", "http://evil.example", 403 },
	};
	struct gateway g;
	struct response rs;

	gateway_without_master(&g);
	g.tenant.hosts = strdup("localhost,127.0.0.1");
	response_init(&rs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request rq = { .method = cases[i].method, .path = cases[i].path, .body = "",
				      .remote_addr = "127.0.0.1", .host = cases[i].host, .origin = cases[i].origin };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.status == cases[i].status, "case %zu (%s %s Host %s): %d, want %d %s", i, cases[i].method,
		      cases[i].path, cases[i].host ? cases[i].host : "-", rs.status, cases[i].status, buf_str(&rs.body));
		if (cases[i].status == 400) {
			CHECK(strstr(buf_str(&rs.body), "\"action\" : \"ErrorResponse\"") != NULL, "%s", buf_str(&rs.body));
			CHECK(strstr(buf_str(&rs.body), "--hosts") != NULL, "%s", buf_str(&rs.body));
			CHECK(rs.master_asks == 0, "case %zu asked the master", i);
		}
	}
	/* without --hosts, the same-origin rule alone (as before) */
	free(g.tenant.hosts);
	g.tenant.hosts = NULL;
	{
		struct request rq = { .method = "GET", .path = "/healthz", .body = "", .host = "anything" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.status == 200, "no --hosts: %d", rs.status);
	}
	response_release(&rs);
	cluster_release(&g.spark.cluster);
}

/* The cross-site check with --hosts: an Origin equal to Host is same-site only if it is
 * served (tenant_forged on its own, as a request that passed the Host check would meet it). */
static void test_forged_origin(void)
{
	struct tenant t;
	char hosts[] = "localhost,127.0.0.1";
	struct request rq = { .method = "POST", .path = "/v1/submissions/create", .host = "rebind.evil.example",
			      .origin = "http://rebind.evil.example" };

	memset(&t, 0, sizeof(t));
	t.csrf = CSRF_ORIGIN;
	CHECK(!tenant_forged(&t, &rq), "without --hosts a same-origin page passes");
	t.hosts = hosts;
	CHECK(tenant_forged(&t, &rq), "a rebound name passed as same-site");
	rq.host = "localhost:6066";
	rq.origin = "http://localhost:6066";
	CHECK(!tenant_forged(&t, &rq), "the served name refused");
}

static void test_log_escaping(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "alice", "alice" },
		{ "a\nb", "a\\x0Ab" },
		{ "a\rb", "a\\x0Db" },
		{ "a\x1b[31mb", "a\\x1B[31mb" },
		{ "a\x7f", "a\\x7F" },
		{ "back\\slash", "back\\x5Cslash" },
		{ "nel\xc2\x85x", "nel\\u0085x" },                /* U+0085 NEXT LINE */
		{ "c1\xc2\x80\xc2\x9b", "c1\\u0080\\u009B" },     /* C1 controls, CSI among them */
		{ "ls\xe2\x80\xa8ps\xe2\x80\xa9", "ls\\u2028ps\\u2029" },
		{ "nbsp\xc2\xa0 \xc3\xa7" "a \xe2\x80\xa7 \xf0\x9d\x84\x9e", "nbsp\xc2\xa0 \xc3\xa7" "a \xe2\x80\xa7 \xf0\x9d\x84\x9e" },
		{ "bad\xc2", "bad\\xC2" },
		{ "bad\xe2\x80", "bad\\xE2\\x80" },
		{ "over\xc0\x8a", "over\\xC0\\x8A" },              /* an overlong newline */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(1024);

		CHECK(rest_escape_text(&b, cases[i].in, strlen(cases[i].in)) == 0, "case %zu", i);
		CHECK_STR(buf_str(&b), cases[i].out);
		buf_release(&b);
	}
}

/* An audit line holds one line whatever the user name carries. */
static void test_audit_line(void)
{
	char path[] = "/tmp/sg-audit-XXXXXX", line[2048];
	int fd = mkstemp(path);
	struct audit a;
	struct sg_err e = { 0 };
	struct request rq = { .method = "POST", .path = "/v1/submissions/kill/driver-1", .remote_addr = "127.0.0.1" };
	struct response rs;
	FILE *f;
	int lines = 0;

	CHECK(fd >= 0, "mkstemp");
	close(fd);
	audit_init(&a);
	CHECK(audit_open(&a, path, &e) == 0, "%s", e.msg);
	response_init(&rs);
	rs.status = 200;
	rs.route = ROUTE_KILL;   /* as the servlet table sets it */
	snprintf(rs.user, sizeof(rs.user), "eve\xe2\x80\xa8{\"user\":\"root\"}\xc2\x85\n x");
	snprintf(rs.submission_id, sizeof(rs.submission_id), "driver-1\r\n");
	CHECK(audit_record(&a, &rq, &rs, &e) == 0, "%s", e.msg);
	audit_release(&a);
	response_release(&rs);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		lines++;
		for (const char *c = line; *c && *c != '\n'; c++)
			CHECK(*c >= 0x20 && *c < 0x7F, "not printable ASCII at %zu: %s", (size_t)(c - line), line);
		CHECK(strstr(line, "u2028") && strstr(line, "u0085"), "%s", line);
	}
	CHECK(lines == 1, "%d lines", lines);
	if (f)
		fclose(f);
	unlink(path);
}

static void test_state_db_password(void)
{
	static const struct {
		const char *target;
		int postgres, password;
	} cases[] = {
		{ "/var/lib/sparkgate/state.db", 0, 0 },
		{ "/tmp/a:b@c.db", 0, 0 },
		{ "postgresql://sparkgate@db.example/sparkgate", 1, 0 },
		{ "postgresql://db.example/sparkgate?sslmode=require", 1, 0 },
		{ "postgresql://sparkgate:s3cret@db.example/sparkgate", 1, 1 },
		{ "postgres://sparkgate:@db.example/sparkgate", 1, 1 },
		{ "postgresql://sparkgate@db.example/sparkgate?password=s3cret", 1, 1 },
		{ "postgresql://sparkgate@db.example/sparkgate?sslmode=require&PassWord=s3cret", 1, 1 },
		{ "postgresql://sparkgate@db.example/sparkgate?%70assword=s3cret", 1, 1 },
		{ "postgresql://[::1]:5432/sparkgate", 1, 0 },
		{ "postgresql://u@h/db?options=-c%20x%3Dy", 1, 0 },
		{ "service=sparkgate", 1, 0 },
		{ "host=db.example dbname=sparkgate user=sparkgate", 1, 0 },
		{ "host=db.example password=s3cret", 1, 1 },
		{ "host = db.example  password = 's3 cret'", 1, 1 },
		{ "host=db.example options='-c password=x' dbname=x", 1, 0 },
		{ "host='a \\' password=b' dbname=x", 1, 0 },
		{ "dbname=x passfile=/etc/sparkgate/pgpass", 1, 0 },
		{ "hostile=1", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(sqldb_target_is_postgres(cases[i].target) == cases[i].postgres, "%s: postgres %d", cases[i].target,
		      !cases[i].postgres);
		CHECK(sqldb_target_has_password(cases[i].target) == cases[i].password, "%s: password %d",
		      cases[i].target, !cases[i].password);
	}
}

/* /readyz: one check a second for the host (here one process, through the shared table),
 * and without a login or loopback only the verdict. */
static void test_readyz(void)
{
	struct gateway g;
	struct response rs;
	struct request rq = { .method = "GET", .path = "/readyz", .body = "", .remote_addr = "192.0.2.7", .host = "gw" };
	struct sg_err e = { 0 };
	char key[64];
	unsigned asks = 0, checks = 0;

	gateway_without_master(&g);
	snprintf(key, sizeof(key), "surface-test-readyz-%d", (int)getpid());
	g.servlets.readyz_cache = status_cache_open(key, HEALTH_READYZ_MAX_AGE_MS, &e);
	CHECK(g.servlets.readyz_cache != NULL, "%s", e.msg);
	response_init(&rs);
	for (int i = 0; i < 50; i++) {
		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		asks += rs.master_asks;
		checks += rs.cache && strcmp(rs.cache, "ask") == 0;
		CHECK(rs.status == 503, "status %d", rs.status);
		CHECK(strstr(buf_str(&rs.body), "\"success\" : false") && strstr(buf_str(&rs.body), "not ready"), "%s",
		      buf_str(&rs.body));
		CHECK(!strstr(buf_str(&rs.body), "127.0.0.1") && !strstr(buf_str(&rs.body), "master")
		      && !strstr(buf_str(&rs.body), "serverSparkVersion") && !strstr(buf_str(&rs.body), "store"),
		      "details without a login: %s", buf_str(&rs.body));
		CHECK(i || strstr(rs.note, "Spark master"), "not-ready details not logged: %s", rs.note);
	}
	CHECK(checks == 1 && asks <= 1, "50 /readyz: %u checks, %u master asks", checks, asks);
	/* loopback: the details, from the same shared result */
	rq.remote_addr = "127.0.0.1";
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.status == 503 && strstr(buf_str(&rs.body), "\"master\"") && strstr(buf_str(&rs.body), "\"store\""),
	      "%d %s", rs.status, buf_str(&rs.body));
	CHECK(rs.cache && strcmp(rs.cache, "hit") == 0, "loopback asked again");
	/* a login: the details too */
	rq.remote_addr = "192.0.2.7";
	rq.remote_user = "alice";
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(strstr(buf_str(&rs.body), "\"master\"") != NULL, "%s", buf_str(&rs.body));
	/* a second later, checked again */
	usleep((HEALTH_READYZ_MAX_AGE_MS + 100) * 1000);
	response_reset(&rs);
	gateway_handle(&g, &rq, &rs);
	CHECK(rs.cache && strcmp(rs.cache, "ask") == 0, "not checked again after a second");
	response_release(&rs);
	status_cache_close(g.servlets.readyz_cache);
	{
		char name[128];

		status_cache_name(key, name, sizeof(name));
		shm_unlink(name);
	}
	cluster_release(&g.spark.cluster);
}

int main(void)
{
	test_readyz();
	test_host_matcher();
	test_host_check();
	test_forged_origin();
	test_log_escaping();
	test_audit_line();
	test_state_db_password();
	return t_done("surface_test");
}
