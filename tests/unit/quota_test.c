/* Ownership and quota decisions through the whole gateway, against a fake master that
 * answers from golden replies: a driver id whose last digit is odd is FINISHED at the
 * master, any other is RUNNING.  Owners, admins, quotas of a user and of a group, drivers
 * that finished leaving the count, and that a refused create is never sent. */
#include <stdlib.h>
#include <string.h>

#include "gateway_internal.h"
#include "tenant/store.h"
#include "fakemaster.h"
#include "t.h"

static struct blob submit_ok, running, finished, kill_ok;
static atomic_int creates;

static const struct blob *reply(const uint8_t *body, size_t len, void *arg)
{
	const uint8_t *id = memmem(body, len, "driver-", 7);

	(void)arg;
	if (memmem(body, len, "RequestKillDriver", 17))
		return &kill_ok;
	if (memmem(body, len, "RequestDriverStatus", 19))
		return id && id + 25 < body + len && (id[25] - '0') % 2 ? &finished : &running;
	atomic_fetch_add(&creates, 1);
	return &submit_ok;
}

static const char policy[] =
	"group team = bob carol\n"
	"group ops = olga\n"
	"admins ops\n"
	"allow app hdfs://nn/apps/ M\n"
	"allow property spark.app.name spark.cores.max\n"
	"default property spark.cores.max 1\n"   /* counted: its executors' cores are the app's */
	"quota user alice drivers 2\n"
	"quota group team drivers 3 cores 4\n";

static const char body[] =
	"{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"hdfs://nn/apps/a.jar\",\"mainClass\":\"M\","
	"\"clientSparkVersion\":\"3.5.9\",\"appArgs\":[],\"environmentVariables\":{},"
	"\"sparkProperties\":{\"spark.app.name\":\"q\"}}";

static int request(struct gateway *g, const char *method, const char *path, const char *user, struct response *rs)
{
	struct request rq = { .method = method, .path = path, .remote_addr = "127.0.0.1", .remote_user = user,
			      .body = strcmp(method, "POST") == 0 ? body : "",
			      .body_len = strcmp(method, "POST") == 0 ? sizeof(body) - 1 : 0 };

	response_reset(rs);
	gateway_handle(g, &rq, rs);
	return rs->status;
}

/* A driver the store knows as owner's, submitted earlier (its id picks its state). */
static void owned(struct store *s, const char *owner, const char *id, int cores)
{
	const struct store_claim mine = { .token = "t", .holder = "h 1 1", .created_ms = 1, .lease_ms = 60001 };
	struct store_claim c;
	struct sg_err e = { 0 };

	CHECK(store_claim(s, owner, NULL, &mine, cores, 512, &c, &e) == 0
	      && store_finish(s, c.row, id, 0, "old", "M", &e) == 0, "%s", e.msg);
}

int main(void)
{
	struct fake_master m;
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	int before;

	CHECK(blob_read("tests/golden/spark-3.5.9_2.12/reply-submit-ok.bin", &submit_ok, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-status-RUNNING.bin", &running, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-status-FINISHED.bin", &finished, malloc) == 0
	      && blob_read("tests/golden/spark-3.5.9_2.12/reply-kill-ok.bin", &kill_ok, malloc) == 0, "golden replies");
	CHECK(fake_master_start(&m, reply, NULL) == 0, "fake master");
	memset(&g, 0, sizeof(g));
	CHECK(cluster_init(&g.spark.cluster, m.url, "3.5.9", &e) == 0, "%s", e.msg);
	policy_init(&g.tenant.policy);
	CHECK(policy_parse(&g.tenant.policy, policy, sizeof(policy) - 1, &e) == 0, "%s", e.msg);
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = 5000;
	g.servlets.max_body = 1 << 20;
	snprintf(g.spark.master_url, sizeof(g.spark.master_url), "%s", m.url);
	response_init(&rs);

	/* owners: alice's running driver, bob's finished one */
	owned(g.tenant.store, "alice", "driver-20000101000000-0002", 1);
	owned(g.tenant.store, "bob", "driver-20000101000000-0003", 1);
	CHECK(request(&g, "GET", "/v1/submissions/status/driver-20000101000000-0002", "alice", &rs) == 200
	      && strstr(buf_str(&rs.body), "\"driverState\" : \"RUNNING\""), "owner sees: %s", buf_str(&rs.body));
	CHECK(request(&g, "GET", "/v1/submissions/status/driver-20000101000000-0002", "bob", &rs) == 200
	      && rs.hidden && strstr(buf_str(&rs.body), "\"success\" : false") && !strstr(buf_str(&rs.body), "RUNNING"),
	      "another user gets the unknown-id answer: %s", buf_str(&rs.body));
	CHECK(request(&g, "POST", "/v1/submissions/kill/driver-20000101000000-0002", "bob", &rs) == 200 && rs.hidden
	      && strstr(buf_str(&rs.body), "has already finished or does not exist"), "nor kill it");
	CHECK(request(&g, "GET", "/v1/submissions/status/driver-20000101000000-0002", "olga", &rs) == 200
	      && !rs.hidden && strstr(buf_str(&rs.body), "RUNNING"), "an admin sees every driver");
	CHECK(request(&g, "POST", "/v1/submissions/killall", "alice", &rs) != 200, "killall is not for alice");

	/* alice's own quota: 2 drivers, one running already */
	owned(g.tenant.store, "alice", "driver-20000101000000-0004", 1);
	before = atomic_load(&creates);
	CHECK(request(&g, "POST", "/v1/submissions/create", "alice", &rs) == 403
	      && strstr(buf_str(&rs.body), "quota user alice: at most 2 drivers at once (3 with this driver)"),
	      "alice's quota: %d %s", rs.status, buf_str(&rs.body));
	CHECK(atomic_load(&creates) == before, "a refused create is not sent");
	/* a driver the master reports finished no longer counts */
	owned(g.tenant.store, "carol", "driver-20000101000000-0006", 4);
	owned(g.tenant.store, "carol", "driver-20000101000000-0007", 2);   /* finished */
	CHECK(request(&g, "POST", "/v1/submissions/create", "carol", &rs) == 403
	      && strstr(buf_str(&rs.body), "quota group team: at most 4 cores at once (6 with this driver)"),
	      "the group's cores hold bob's and carol's drivers together: %d %s", rs.status, buf_str(&rs.body));
	CHECK(atomic_load(&creates) == before, "still nothing sent");
	CHECK(request(&g, "POST", "/v1/submissions/create", "bob", &rs) == 403, "bob is in the same group");
	/* a user without a quota of their own or a group's is not limited */
	CHECK(request(&g, "POST", "/v1/submissions/create", "dave", &rs) == 200
	      && strstr(buf_str(&rs.body), "\"success\" : true"), "dave: %d %s", rs.status, buf_str(&rs.body));
	CHECK(atomic_load(&creates) == before + 1, "dave's create was sent once");

	response_release(&rs);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	fake_master_stop(&m);
	free(submit_ok.p);
	free(running.p);
	free(finished.p);
	free(kill_ok.p);
	return t_done("quota");
}
