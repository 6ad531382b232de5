/* Claims nobody can finish, through the whole gateway, against a fake master that answers
 * RequestMasterState with a golden MasterStateResponse (driver-20240101000000-0001 carries
 * token "tok-active", the completed driver-20240101000000-0000 "tok-done") or a standby's:
 * a dead holder's create is found by its token (200, nothing sent), a live holder's is in
 * flight (409, the master not asked), a lapsed claim the master does not have is taken over
 * and sent once, a standby's word settles nothing (503), and the listing shows the id of a
 * create whose outcome was unknown. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spark/deploy.h"
#include "gateway_internal.h"
#include "tenant/store.h"
#include "fakemaster.h"
#include "t.h"

static struct blob submit_ok, state_alive, state_standby, notfound;
static const struct blob *state = &state_alive;
static atomic_int creates, state_asks;
static char sent_token[64];

static const struct blob *reply(const uint8_t *body, size_t len, void *arg)
{
	(void)arg;
	if (memmem(body, len, "RequestMasterState", 18)) {
		atomic_fetch_add(&state_asks, 1);
		return state;
	}
	if (memmem(body, len, "RequestSubmitDriver", 19)) {
		const uint8_t *t = memmem(body, len, DEPLOY_TOKEN_OPTION, sizeof(DEPLOY_TOKEN_OPTION) - 1);

		if (t && t + sizeof(DEPLOY_TOKEN_OPTION) - 1 + 32 <= body + len)
			snprintf(sent_token, sizeof(sent_token), "%.32s", t + sizeof(DEPLOY_TOKEN_OPTION) - 1);
		atomic_fetch_add(&creates, 1);
		return &submit_ok;
	}
	return &notfound;
}

static const char body[] =
	"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"hdfs://nn/apps/a.jar\",\"mainClass\":\"M\","
	"\"clientSparkVersion\":\"3.5.9\",\"appArgs\":[],\"environmentVariables\":{},"
	"\"sparkProperties\":{\"spark.app.name\":\"q\"}}";

static int request(struct gateway *g, const char *method, const char *path, const char *key, struct response *rs)
{
	struct request rq = { .method = method, .path = path, .remote_addr = "127.0.0.1", .remote_user = "alice",
			      .idempotency_key = key, .body = strcmp(method, "POST") == 0 ? body : "",
			      .body_len = strcmp(method, "POST") == 0 ? sizeof(body) - 1 : 0 };

	response_reset(rs);
	gateway_handle(g, &rq, rs);
	return rs->status;
}

/* A claim of alice's key as another process left it. */
static void left(struct store *s, const char *key, const char *token, const char *holder, int64_t lease_ms, int unknown)
{
	struct store_claim mine = { .created_ms = 1, .lease_ms = lease_ms }, c;
	struct sg_err e = { 0 };

	snprintf(mine.token, sizeof(mine.token), "%s", token);
	snprintf(mine.holder, sizeof(mine.holder), "%s", holder);
	CHECK(store_claim(s, "alice", key, &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_NEW, "%s", e.msg);
	if (unknown)
		CHECK(store_finish(s, c.row, NULL, 1, "q", "M", &e) == 0, "%s", e.msg);
}

/* /proc/self/stat's starttime (field 22), parsed on its own here. */
static unsigned long long self_start(void)
{
	char line[1024] = "";
	unsigned long long start = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	const char *p;

	if (f) {
		line[fread(line, 1, sizeof(line) - 1, f)] = '\0';
		fclose(f);
	}
	p = strrchr(line, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start);
	return start;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void)
{
	struct fake_master m;
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	char host[256] = "", dead[400], reused[400];
	int asks;

	CHECK(blob_read("tests/golden/spark-3.5.9_2.12/reply-submit-ok.bin", &submit_ok, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-masterstate.bin", &state_alive, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-masterstate-standby.bin", &state_standby, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-status-notfound.bin", &notfound, malloc) == 0,
	      "golden replies");
	CHECK(fake_master_start(&m, reply, NULL) == 0, "fake master");
	memset(&g, 0, sizeof(g));
	CHECK(cluster_init(&g.spark.cluster, m.url, "3.5.9", &e) == 0, "%s", e.msg);
	policy_init(&g.tenant.policy);
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = 5000;
	g.servlets.max_body = 1 << 20;
	snprintf(g.tenant.master_ui, sizeof(g.tenant.master_ui), "off");
	g.tenant.claims_swept_ms = now_ms();   /* no sweep at the end of a create: each case asks by itself */
	snprintf(g.spark.master_url, sizeof(g.spark.master_url), "%s", m.url);
	response_init(&rs);
	gethostname(host, sizeof(host) - 1);
	snprintf(dead, sizeof(dead), "%s 2147483000 12345", host);   /* no such process */

	/* the holder died after the master accepted it: found by its token, nothing sent */
	left(g.tenant.store, "k-dead", "tok-active", dead, now_ms() + 60000, 0);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-dead", &rs) == 200
	      && strstr(buf_str(&rs.body), "\"submissionId\" : \"driver-20240101000000-0001\"") && rs.replayed,
	      "found: %d %s", rs.status, buf_str(&rs.body));
	asks = atomic_load(&state_asks);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-dead", &rs) == 200 && atomic_load(&state_asks) == asks,
	      "recorded: the master is not asked again");
	CHECK(atomic_load(&creates) == 0, "nothing sent");
	/* a pid that now names another process (this one, started at another time): gone, so
	 * the master is asked; this very process as holder: alive, the master not asked */
	snprintf(reused, sizeof(reused), "%s %ld 1", host, (long)getpid());
	left(g.tenant.store, "k-reused", "tok-r", reused, now_ms() + 60000, 0);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-reused", &rs) == 409 && atomic_load(&state_asks) == asks + 1,
	      "pid reused: %d %s", rs.status, buf_str(&rs.body));
	snprintf(reused, sizeof(reused), "%s %ld %llu", host, (long)getpid(), self_start());
	left(g.tenant.store, "k-self", "tok-s", reused, now_ms() + 60000, 0);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-self", &rs) == 409 && atomic_load(&state_asks) == asks + 1,
	      "a live holder of this host: %d %s", rs.status, buf_str(&rs.body));
	asks = atomic_load(&state_asks);

	/* a live holder (another host, lease not past): in flight, the master not asked */
	left(g.tenant.store, "k-live", "tok-x", "elsewhere 1 1", now_ms() + 60000, 0);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-live", &rs) == 409 && atomic_load(&state_asks) == asks,
	      "in flight: %d %s", rs.status, buf_str(&rs.body));
	/* a dead holder whose create the master does not have yet: in flight until the lease */
	left(g.tenant.store, "k-young", "tok-y", dead, now_ms() + 60000, 0);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-young", &rs) == 409 && atomic_load(&state_asks) == asks + 1,
	      "not at the master, lease not past: %d %s", rs.status, buf_str(&rs.body));

	/* a standby's state settles nothing */
	state = &state_standby;
	left(g.tenant.store, "k-standby", "tok-z", "elsewhere 1 1", now_ms() - 1, 1);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-standby", &rs) == 503
	      && strstr(buf_str(&rs.body), "unknown until the Spark master answers"), "standby: %d %s", rs.status,
	      buf_str(&rs.body));
	CHECK(atomic_load(&creates) == 0, "still nothing sent");

	/* the lease is past and the leader has no such driver: taken over, sent once */
	state = &state_alive;
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-standby", &rs) == 200
	      && strstr(buf_str(&rs.body), "driver-20240101000000-0000") && !rs.replayed, "taken over: %d %s", rs.status,
	      buf_str(&rs.body));
	CHECK(atomic_load(&creates) == 1 && strlen(sent_token) == 32, "sent once, with a token: %s", sent_token);
	CHECK(request(&g, "POST", "/v1/submissions/create", "k-standby", &rs) == 200 && atomic_load(&creates) == 1,
	      "then replayed");
	/* the claim named this process as its holder while it was sent: host, pid, start time */
	{
		struct store_claim mine = { .token = "t" }, c;

		CHECK(store_claim(g.tenant.store, "alice", "k-standby", &mine, 1, 512, &c, &e) == 0 && c.state == CLAIM_DONE,
		      "done");
		snprintf(reused, sizeof(reused), "%s %ld %llu", host, (long)getpid(), self_start());
		CHECK(self_start() > 0, "starttime read");
		CHECK_STR(c.holder, reused);
		CHECK_STR(c.token, sent_token);
	}
	store_close(g.tenant.store);

	/* the listing: a create whose outcome was unknown shows its driver's id */
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	left(g.tenant.store, NULL, "tok-done", "elsewhere 1 1", now_ms() + 60000, 1);
	left(g.tenant.store, NULL, "tok-gone", "elsewhere 1 1", now_ms() - 1, 1);
	CHECK(request(&g, "GET", "/v1/submissions", NULL, &rs) == 200
	      && strstr(buf_str(&rs.body), "\"submissionId\" : \"driver-20240101000000-0000\"")
	      && !strstr(buf_str(&rs.body), "outcome"), "listed with its id, the lapsed one gone: %s", buf_str(&rs.body));

	response_release(&rs);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	fake_master_stop(&m);
	free(submit_ok.p);
	free(state_alive.p);
	free(state_standby.p);
	free(notfound.p);
	return t_done("claims");
}
